"""Ballots in memory: validated, cleaned and grouped rankings as numpy arrays.

Why numpy and grouping: a 1M-ballot election is 15M small integers. Identical rankings are counted
once with a weight (real Scottish wards shrink to ~17 % of their lines), and every transfer is a
vectorised operation over the groups, not a Python loop over papers.

Validation follows ERS97 §6 (the glossary the three rules share in substance):

* 6.9 / 6.24 — a paper with no first preference, or whose first preference is void for
  uncertainty, is **invalid** and set aside before the quota is calculated.
* 6.10 / 6.12 — a later preference that is uncertain (two candidates at one rank) or a missing rank
  ends the paper: it has no next available preference from there on (it is **truncated**, still
  valid).
* A candidate ranked twice keeps only the first ranking: by the time a paper reaches the second
  mark that candidate is already elected or excluded, so every rule passes over it; dropping it
  changes nothing in an ERS97 or Scottish count, and stops a Meek count crediting a candidate
  twice.
* Withdrawn candidates are passed over, as if never on the paper.

Each class is counted (number of papers) and reported.

Build ballots in memory with :func:`build_ballots` (a list of rankings of 0-based candidate
indices, with :data:`UNCERTAIN` marking an uncertain or missing rank, plus optional weights).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from omov.blt import MAX_TOTAL_WEIGHT, PAD, UNCERTAIN, total_weight
from omov.errors import InputError

__all__ = [
    "PAD",
    "UNCERTAIN",
    "Ballots",
    "build_ballots",
    "clean_and_group",
    "from_arrays",
    "require_valid",
]

IntArray = npt.NDArray[np.int64]
PrefArray = npt.NDArray[np.int32]


@dataclass(frozen=True)
class Ballots:
    """Validated ballots: one row per distinct ranking, with how many papers carry it.

    ``prefs[g, j]`` is the 0-based index of the candidate at preference ``j+1`` of group ``g``,
    padded with :data:`PAD`; the last column is always padding, so a scan for the next preference
    always stops. ``weights[g]`` is the number of papers in group ``g`` (only valid papers).
    """

    candidates: tuple[str, ...]
    seats: int
    prefs: PrefArray
    weights: IntArray
    title: str = ""
    withdrawn: frozenset[int] = frozenset()
    invalid: dict[str, int] = field(default_factory=dict)
    truncated: dict[str, int] = field(default_factory=dict)
    papers_read: int = 0
    affiliations: tuple[str, ...] = ()  # per candidate ("" = none), from a BLT name line

    @property
    def n_candidates(self) -> int:
        """Number of candidates on the ballot paper (withdrawn ones included)."""
        return len(self.candidates)

    @property
    def valid(self) -> int:
        """Total valid vote (ERS97 5.1.2): papers with a first preference."""
        return int(self.weights.sum()) if self.weights.size else 0

    @property
    def n_groups(self) -> int:
        """Number of distinct rankings."""
        return int(self.prefs.shape[0])

    def rankings(self) -> list[tuple[tuple[int, ...], int]]:
        """Every group as (ranking, weight): handy for small elections and tests."""
        out = []
        for row, w in zip(self.prefs.tolist(), self.weights.tolist(), strict=True):
            out.append((tuple(c for c in row if c >= 0), int(w)))
        return out


def _truncate_uncertain(
    prefs: PrefArray, weights: IntArray
) -> tuple[PrefArray, int, npt.NDArray[np.bool_]]:
    """Cut each row at its first UNCERTAIN mark (ERS97 6.10, 6.12).

    Returns the cut rows, the number of *papers* cut after a valid first preference, and a mask of
    rows whose *first* preference was uncertain (those are invalid, 6.9).
    """
    bad = prefs == UNCERTAIN
    if not bad.any():
        return prefs, 0, np.zeros(prefs.shape[0], dtype=bool)
    first_bad = np.where(bad.any(axis=1), bad.argmax(axis=1), prefs.shape[1])
    cols = np.arange(prefs.shape[1])[None, :]
    out = np.where(cols >= first_bad[:, None], PAD, prefs).astype(np.int32)
    first_uncertain = first_bad == 0
    cut_later = int(weights[(first_bad > 0) & (first_bad < prefs.shape[1])].sum())
    return out, cut_later, first_uncertain


def _compact(prefs: PrefArray, drop: npt.NDArray[np.bool_]) -> PrefArray:
    """Remove the marked cells, shifting later preferences left (only rows that need it)."""
    rows = np.flatnonzero(drop.any(axis=1))
    if rows.size == 0:
        return prefs
    sub = np.where(drop[rows], PAD, prefs[rows])
    # Stable sort moves kept cells (key 0) before dropped/padding cells (key 1), order preserved.
    order = np.argsort(sub == PAD, axis=1, kind="stable")
    out = prefs.copy()
    out[rows] = np.take_along_axis(sub, order, axis=1)
    return out


def _duplicate_mask(prefs: PrefArray) -> npt.NDArray[np.bool_]:
    """Cells repeating a candidate already ranked earlier in the same row."""
    srt = np.sort(prefs, axis=1)
    has_dup = ((srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] >= 0)).any(axis=1)
    mask = np.zeros(prefs.shape, dtype=bool)
    for r in np.flatnonzero(has_dup).tolist():  # rare: a plain loop is clearest
        seen: set[int] = set()
        for j, c in enumerate(prefs[r].tolist()):
            if c >= 0 and c in seen:
                mask[r, j] = True
            seen.add(c)
    return mask


def _row_keys(prefs: PrefArray) -> list[npt.NDArray[np.uint64]]:
    """Each row packed exactly into a few 63-bit words (bit-packed cells), most significant first.

    Exact, so equal keys mean equal rows: no hash, no collision check.
    """
    bits = max(int(prefs.max(initial=0)) + 2, 2).bit_length()
    per_word = max(63 // bits, 1)
    keys: list[npt.NDArray[np.uint64]] = []
    for start in range(0, prefs.shape[1], per_word):
        word = np.zeros(prefs.shape[0], dtype=np.uint64)
        for j in range(start, min(start + per_word, prefs.shape[1])):
            word = (word << np.uint64(bits)) | (prefs[:, j] + 1).astype(np.uint64)
        keys.append(word)
    return keys


def group_rankings(prefs: PrefArray, weights: IntArray) -> tuple[PrefArray, IntArray]:
    """Merge identical rows, summing their weights; groups come out in sorted-key order."""
    if prefs.shape[0] == 0:
        return prefs, weights
    keys = _row_keys(prefs)
    order = np.argsort(keys[0], kind="stable")
    if len(keys) > 1:
        # Only rows sharing the first word need the later words: sort just those runs fully.
        k0 = keys[0][order]
        same = k0[1:] == k0[:-1]
        in_run = np.zeros(order.size, dtype=bool)
        in_run[1:] |= same
        in_run[:-1] |= same
        idx = np.flatnonzero(in_run)
        sub = order[idx]
        order[idx] = sub[np.lexsort([k[sub] for k in keys[::-1]])]
    boundary = np.zeros(order.size - 1, dtype=bool)
    for k in keys:
        ks = k[order]
        boundary |= ks[1:] != ks[:-1]
    starts = np.concatenate(([0], np.flatnonzero(boundary) + 1))
    return prefs[order[starts]], np.add.reduceat(weights[order], starts).astype(np.int64)


def _trim_width(prefs: PrefArray) -> PrefArray:
    """Keep exactly one padding column after the longest ranking."""
    if prefs.shape[0] == 0:
        return np.full((0, 1), PAD, dtype=np.int32)
    lengths = (prefs >= 0).sum(axis=1)
    width = int(lengths.max()) + 1
    if prefs.shape[1] >= width:
        return np.ascontiguousarray(prefs[:, :width], dtype=np.int32)
    pad = np.full((prefs.shape[0], width - prefs.shape[1]), PAD, dtype=np.int32)
    return np.ascontiguousarray(np.hstack([prefs, pad]), dtype=np.int32)


def clean_and_group(
    candidates: Sequence[str],
    seats: int,
    prefs: PrefArray,
    weights: IntArray,
    *,
    title: str = "",
    withdrawn: Iterable[int] = (),
    affiliations: Sequence[str] = (),
) -> Ballots:
    """Validate raw rankings (0-based, PAD-padded, UNCERTAIN marks) and group identical ones."""
    withdrawn_set = frozenset(int(w) for w in withdrawn)
    prefs = np.asarray(prefs, dtype=np.int32)
    if prefs.ndim != 2:
        prefs = prefs.reshape(len(weights), -1)
    weights = _checked_weights(weights)
    papers_read = total_weight(weights)
    prefs, cut_later, first_uncertain = _truncate_uncertain(prefs, weights)
    truncated: dict[str, int] = {}
    if cut_later:
        truncated["uncertain_or_missing_rank"] = cut_later
    if withdrawn_set:
        prefs = _compact(prefs, np.isin(prefs, np.fromiter(withdrawn_set, dtype=np.int32)))
    dup = _duplicate_mask(prefs)
    if dup.any():
        truncated["repeated_candidate_dropped"] = int(weights[dup.any(axis=1)].sum())
        prefs = _compact(prefs, dup)
    empty = prefs[:, 0] < 0 if prefs.shape[1] else np.ones(prefs.shape[0], dtype=bool)
    invalid: dict[str, int] = {}
    unc = first_uncertain & empty
    if unc.any():
        invalid["first_preference_uncertain"] = int(weights[unc].sum())
    blank = empty & ~first_uncertain
    if blank.any():
        invalid["no_first_preference"] = int(weights[blank].sum())
    keep = ~empty & (weights > 0)
    grouped, gweights = group_rankings(_trim_width(prefs[keep]), weights[keep])
    return Ballots(
        candidates=tuple(candidates),
        seats=int(seats),
        prefs=grouped,
        weights=gweights,
        title=title,
        withdrawn=withdrawn_set,
        invalid=invalid,
        truncated=truncated,
        papers_read=papers_read,
        affiliations=tuple(affiliations) if any(affiliations) else (),
    )


def _checked_weights(weights: Sequence[int] | IntArray) -> IntArray:
    """Weights as int64, refusing a negative one or a total past ``MAX_TOTAL_WEIGHT`` (the bound
    that keeps every sum the count makes exact; the file readers say which line)."""
    if not isinstance(weights, np.ndarray):
        values = [int(w) for w in weights]
        if any(w < 0 or w > MAX_TOTAL_WEIGHT for w in values):
            raise InputError(
                "a weight is negative or past the bound of "
                f"{MAX_TOTAL_WEIGHT:,} papers: weights count identical papers"
            )
        weights = np.asarray(values, dtype=np.int64)
    out = np.asarray(weights, dtype=np.int64)
    if out.size and (int(out.min()) < 0 or total_weight(out) > MAX_TOTAL_WEIGHT):
        raise InputError(
            f"a weight is negative or the weights total more than {MAX_TOTAL_WEIGHT:,} papers"
        )
    return out


def build_ballots(
    candidates: Sequence[str],
    seats: int,
    rankings: Iterable[Sequence[int]],
    weights: Iterable[int] | None = None,
    *,
    title: str = "",
    withdrawn: Iterable[int] = (),
) -> Ballots:
    """Ballots from Python rankings of 0-based candidate indices (UNCERTAIN marks a void rank).

    Example: ``build_ballots(["A", "B", "C"], 1, [[0, 1], [2], [1, 0]])``.
    """
    rows = [list(r) for r in rankings]
    w = [1] * len(rows) if weights is None else [int(x) for x in weights]
    if len(w) != len(rows):
        raise ValueError("weights and rankings differ in length")
    width = max((len(r) for r in rows), default=0) + 1
    arr = np.full((len(rows), width), PAD, dtype=np.int32)
    n = len(candidates)
    for i, r in enumerate(rows):
        for _j, c in enumerate(r):
            if not (c == UNCERTAIN or 0 <= c < n):
                raise InputError(f"ranking {i + 1}: candidate index {c} out of range 0..{n - 1}")
        arr[i, : len(r)] = r
    return from_arrays(
        candidates, seats, arr, _checked_weights(w), title=title, withdrawn=withdrawn
    )


def from_arrays(
    candidates: Sequence[str],
    seats: int,
    prefs: PrefArray,
    weights: IntArray,
    *,
    title: str = "",
    withdrawn: Iterable[int] = (),
    affiliations: Sequence[str] = (),
) -> Ballots:
    """Ballots from raw arrays (what the file parsers produce); validates and groups."""
    return clean_and_group(
        candidates,
        seats,
        prefs,
        weights,
        title=title,
        withdrawn=withdrawn,
        affiliations=affiliations,
    )


def require_valid(ballots: Ballots, path: str | None = None, line: int | None = None) -> Ballots:
    """``ballots`` if at least one paper is valid, else :class:`InputError` (exit 2)."""
    if ballots.valid == 0:
        raise InputError(
            "no valid ballot: every paper is blank, void for uncertainty or for withdrawn "
            f"candidates only ({ballots.papers_read} paper(s) read)",
            path=path,
            line=line,
            fix="check this is the right file: a count needs at least one paper with a first "
            "preference",
        )
    return ballots
