"""BLT ballot files for the count: :mod:`omov.blt` reads them (the project's one BLT reader and
writer); this module turns what it read into validated, grouped :class:`Ballots`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from count.ballots import Ballots, from_arrays, require_valid
from omov import blt as shared


def read_blt(
    path: str | Path, *, seats: int | None = None, notes_after_title: bool = False
) -> Ballots:
    """Read and validate a BLT file; ``seats`` overrides the file's number of seats; lines after
    the title are refused unless ``notes_after_title`` (see :func:`omov.blt.read_blt`)."""
    return _ballots(shared.read_blt(path, notes_after_title=notes_after_title), str(path), seats)


def parse_blt(data: bytes, path: str = "<blt>", *, seats: int | None = None) -> Ballots:
    """Parse BLT bytes into validated, grouped :class:`Ballots`."""
    return _ballots(shared.parse_blt(data, path), path, seats)


def _ballots(f: shared.BltFile, path: str, seats: int | None) -> Ballots:
    b = from_arrays(
        f.names,
        f.seats if seats is None else seats,
        f.prefs,
        f.weights,
        title=f.title,
        withdrawn=f.withdrawn,
        affiliations=f.affiliations,
    )
    return require_valid(b, path, f.first_ballot_line)


def format_blt(
    candidates: Sequence[str],
    seats: int,
    rankings: Sequence[Sequence[int]] | npt.NDArray[np.int32],
    weights: Sequence[int] | npt.NDArray[np.int64],
    *,
    title: str = "",
    withdrawn: Sequence[int] = (),
) -> str:
    """BLT text for rankings of 0-based indices (PAD-padded arrays allowed)."""
    groups = (
        ([int(c) + 1 for c in row if int(c) >= 0], int(w))
        for row, w in zip(rankings, weights, strict=True)
    )
    return "".join(shared.blt_lines(groups, candidates, seats, title, withdrawn=withdrawn))
