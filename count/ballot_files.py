"""Ballot files in: BLT, or omov's CSV ballot file (a rank grid, self-describing). Format doc:
docs/formats-count.md.

omov CSV ballot file::

    #omov-ballots format_version=1 seats=2 title="Branch committee 2026"
    #withdrawn=Carol
    weight,Alice,Bob,Carol,Dev
    3,1,2,,
    1,2,,1,3

A preamble of ``#`` lines carries ``key=value`` settings (``seats`` required, ``title``,
``withdrawn`` as ``|``-separated names); the header names the candidates in ballot-paper order
after a ``weight`` column; each row is one paper (or ``weight`` identical papers) with the rank
written against each candidate, blank where none. Why a grid: it is the paper ballot itself, so
anyone can check a row by eye, and it can express what ERS97 §6 must classify — a missing or a
repeated rank (ends the paper there), no first preference (invalid).
"""

from __future__ import annotations

import csv
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from count.ballots import PAD, UNCERTAIN, Ballots, from_arrays, require_valid
from count.blt import read_blt
from omov.ballotcsv import CSV_FORMAT_VERSION, csv_grid_lines
from omov.blt import MAX_TOTAL_WEIGHT, total_weight
from omov.csvsafe import restore
from omov.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CSV_FORMAT_VERSION", "format_csv_ballots", "load_ballots", "read_csv_ballots"]

_FIX = "see docs/formats-count.md (omov CSV ballot file)"


def load_ballots(path: str | Path, *, seats: int | None = None) -> Ballots:
    """Read a ballot file by its kind: ``.csv`` is omov's CSV ballot file, anything else BLT."""
    p = Path(path)
    if not p.is_file():
        raise InputError("ballot file not found", path=str(p), fix="check the path")
    if p.suffix.lower() == ".csv":
        return read_csv_ballots(p, seats=seats)
    return read_blt(p, seats=seats)


def _preamble(lines: list[str], path: str) -> tuple[dict[str, str], int]:
    """key=value settings from the leading ``#`` lines; returns them and the header's line index."""
    settings: dict[str, str] = {}
    for i, line in enumerate(lines):
        if line.startswith('"#'):  # a preamble line holding a comma is written as one CSV cell
            line = next(csv.reader([line]), [""])[0]
        if not line.startswith("#"):
            return settings, i
        body = line[1:].strip()
        if body.startswith("omov-ballots"):
            body = body[len("omov-ballots") :]
        try:
            parts = shlex.split(body)
        except ValueError:
            raise InputError(
                "unbalanced quotes in a # line", path=path, line=i + 1, fix=_FIX
            ) from None
        for part in parts:
            if "=" in part:
                k, v = part.split("=", 1)
                settings[k.strip().lower()] = v
    raise InputError("no header row (weight,<candidate>,…)", path=path, fix=_FIX)


def read_csv_ballots(path: str | Path, *, seats: int | None = None) -> Ballots:
    """Read and validate an omov CSV ballot file."""
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig")
    head = text[: 1 << 16].splitlines()
    settings, hdr = _preamble(head, str(p))
    version = settings.get("format_version", str(CSV_FORMAT_VERSION))
    if version != str(CSV_FORMAT_VERSION):
        raise InputError(f"unsupported format_version {version}", path=str(p), line=1, fix=_FIX)
    if seats is None:
        if "seats" not in settings or not settings["seats"].isdigit():
            raise InputError(
                "the preamble must give seats=N (or pass --seats)", path=str(p), line=1, fix=_FIX
            )
        seats = int(settings["seats"])
    import pandas as pd  # only CSV ballot files need it: keeps BLT start-up fast

    try:
        frame = pd.read_csv(
            p,
            skiprows=hdr,
            dtype="string",
            keep_default_na=False,
            encoding="utf-8-sig",
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV: {exc}", path=str(p), fix=_FIX) from None
    cols = [restore(str(c).strip()) for c in frame.columns]  # undo csv_cell's neutralising
    if not cols or cols[0].lower() != "weight":
        raise InputError("the header must start with 'weight'", path=str(p), line=hdr + 1, fix=_FIX)
    names = cols[1:]
    if len(set(names)) != len(names) or not names:
        raise InputError(
            "candidate names in the header must be distinct and non-empty",
            path=str(p),
            line=hdr + 1,
            fix=_FIX,
        )
    withdrawn = [w for w in settings.get("withdrawn", "").split("|") if w]
    unknown = [w for w in withdrawn if w not in names]
    if unknown:
        raise InputError(
            f"withdrawn candidate(s) not in the header: {', '.join(unknown)}",
            path=str(p),
            line=1,
            fix=_FIX,
        )
    weights = _int_column(frame.iloc[:, 0], str(p), hdr, "weight", allow_blank=False)
    ranks = np.zeros((len(frame), len(names)), dtype=np.int64)
    for j in range(len(names)):
        ranks[:, j] = _int_column(frame.iloc[:, j + 1], str(p), hdr, names[j], allow_blank=True)
    if total_weight(weights) > MAX_TOTAL_WEIGHT:
        raise InputError(
            f"the weights exceed the bound of {MAX_TOTAL_WEIGHT:,} papers in total",
            path=str(p),
            line=hdr + 2,
            fix="a weight is a number of identical papers: check the file was not corrupted",
        )
    prefs = ranks_to_prefs(ranks)
    ballots = from_arrays(
        names,
        seats,
        prefs,
        weights,
        title=settings.get("title", ""),
        withdrawn=[names.index(w) for w in withdrawn],
    )
    return require_valid(ballots, str(p), hdr + 2)


_INT = re.compile(r"^\d{1,9}$")


def _int_column(
    col: pd.Series, path: str, hdr: int, what: str, *, allow_blank: bool
) -> npt.NDArray[np.int64]:
    """Non-negative integers from a string column (blank → 0 where allowed), naming a bad line."""
    s = col.fillna("").str.strip()
    ok = s.str.fullmatch(_INT.pattern) | ((s == "") if allow_blank else False)
    if not bool(ok.all()):
        i = int(np.flatnonzero(~ok.to_numpy(dtype=bool))[0])
        raise InputError(
            f"{what}: {s.iloc[i]!r} is not a whole number", path=path, line=hdr + 2 + i, fix=_FIX
        )
    out = np.asarray(s.replace("", "0").astype("int64").to_numpy(), dtype=np.int64)
    return out


def ranks_to_prefs(ranks: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
    """Rank grid (0 = unranked) → preference rows; a missing or repeated rank becomes UNCERTAIN
    at that position (ERS97 6.10: the paper ends at the last valid preference)."""
    n, c = ranks.shape
    big = np.iinfo(np.int64).max
    key = np.where(ranks > 0, ranks, big)
    order = np.argsort(key, axis=1, kind="stable")
    srt = np.take_along_axis(key, order, axis=1)
    expected = np.arange(1, c + 1)[None, :]
    marked = srt != big
    # Position j is fine if its rank is exactly j+1 (so no gap) and not shared with j+1.
    dup_next = np.zeros_like(marked)
    dup_next[:, :-1] = (srt[:, 1:] == srt[:, :-1]) & marked[:, 1:]
    dup_prev = np.zeros_like(marked)
    dup_prev[:, 1:] = dup_next[:, :-1]
    bad = marked & ((srt != expected) | dup_next | dup_prev)
    prefs = np.where(marked, order, PAD).astype(np.int32)
    prefs = np.where(bad, UNCERTAIN, prefs).astype(np.int32)
    no_first = marked[:, 0] & (srt[:, 0] > 1)  # ranks but no "1": no first preference (6.9)
    prefs[no_first] = PAD
    return np.hstack([prefs, np.full((n, 1), PAD, dtype=np.int32)])


def format_csv_ballots(
    candidates: Sequence[str],
    seats: int,
    rankings: Sequence[Sequence[int]],
    weights: Sequence[int],
    *,
    title: str = "",
    withdrawn: Sequence[str] = (),
) -> str:
    """CSV ballot-file text for rankings of 0-based candidate indices."""
    groups = (
        ([int(c) + 1 for c in row if int(c) >= 0], int(w))
        for row, w in zip(rankings, weights, strict=True)
    )
    return "".join(csv_grid_lines(groups, candidates, seats, title, withdrawn=withdrawn))
