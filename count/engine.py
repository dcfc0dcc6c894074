"""Shared machinery of the Gregory-family rules (ERS97, Scottish): parcels of papers and transfers.

A *parcel* is a set of ballot groups held by one candidate, all at one value per paper, received in
one transfer (ERS97 6.1 "batch"; Scottish "sub-parcel"). Identical rankings always travel together,
so a group is in exactly one parcel at any time and a parcel is three numpy arrays plus two ints.
Values are exact integers in units of ``10**-dp``; a parcel's total value is ``papers × value``.

Nothing here knows a rule: the rule modules decide what to move and at what value; this module
finds each paper's next available preference (ERS97 6.10) and splits a parcel by it, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from count.ballots import Ballots

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Parcel:
    """Papers one candidate received in one transfer, at one value each."""

    groups: IntArray  # indices into Ballots.prefs
    pos: IntArray  # preference position (column) at which the holder appears
    papers: int  # number of papers (sum of the groups' weights)
    value: int  # value of each paper, scaled
    stage: int  # stage at which it was received

    @property
    def total(self) -> int:
        """Total value of the parcel (scaled)."""
        return self.papers * self.value


@dataclass
class Split:
    """A set of papers sorted by next available preference."""

    parcels: dict[int, tuple[IntArray, IntArray, int]]  # candidate -> (groups, pos, papers)
    exhausted_papers: int

    @property
    def transferable_papers(self) -> int:
        """Papers with a next available preference (ERS97 6.23)."""
        return sum(p for _, _, p in self.parcels.values())


def first_preferences(ballots: Ballots, scale: int) -> list[list[Parcel]]:
    """Stage 1: every group to its first preference at value 1 (``scale``)."""
    n = ballots.n_candidates
    holdings: list[list[Parcel]] = [[] for _ in range(n)]
    groups = np.arange(ballots.n_groups, dtype=np.int64)
    split = _split(
        ballots,
        groups,
        np.zeros(groups.size, dtype=np.int64),
        ballots.prefs[:, 0].astype(np.int64) if ballots.n_groups else groups,
    )
    for c, (g, p, papers) in split.parcels.items():
        holdings[c].append(Parcel(g, p, papers, scale, 1))
    return holdings


def next_preferences(
    ballots: Ballots, groups: IntArray, pos: IntArray, continuing: BoolArray
) -> tuple[IntArray, IntArray]:
    """Each paper's next available preference for a continuing candidate after ``pos``.

    Returns (target candidate or -1 if non-transferable, its position). Scans one column at a time
    over only the papers still unresolved, so a transfer costs about one pass over its papers.
    """
    prefs = ballots.prefs
    width = prefs.shape[1]
    cont_ext = np.append(continuing, False)  # index -1 (padding) -> not continuing
    target = np.full(groups.size, -1, dtype=np.int64)
    newpos = pos.copy()
    todo = np.arange(groups.size)
    cur = pos + 1
    while todo.size:
        col = np.minimum(cur[todo], width - 1)
        cand = prefs[groups[todo], col].astype(np.int64)
        hit = cont_ext[cand]
        done_hit = todo[hit]
        target[done_hit] = cand[hit]
        newpos[done_hit] = col[hit]
        alive = ~hit & (cand >= 0)  # padding ends the paper (non-transferable)
        todo = todo[alive]
        cur[todo] += 1
    return target, newpos


def _split(ballots: Ballots, groups: IntArray, pos: IntArray, target: IntArray) -> Split:
    """Group papers by target candidate (sorting once), counting papers exactly."""
    w = ballots.weights[groups]
    ok = target >= 0
    exhausted = int(w[~ok].sum())
    g, p, t, w = groups[ok], pos[ok], target[ok], w[ok]
    parcels: dict[int, tuple[IntArray, IntArray, int]] = {}
    if t.size:
        order = np.argsort(t, kind="stable")
        g, p, t, w = g[order], p[order], t[order], w[order]
        starts = np.concatenate(([0], np.flatnonzero(t[1:] != t[:-1]) + 1))
        ends = np.append(starts[1:], t.size)
        sums = np.add.reduceat(w, starts)
        for s, e, total in zip(starts.tolist(), ends.tolist(), sums.tolist(), strict=True):
            parcels[int(t[s])] = (g[s:e], p[s:e], int(total))
    return Split(parcels, exhausted)


def sort_papers(
    ballots: Ballots, parcel_groups: IntArray, parcel_pos: IntArray, continuing: BoolArray
) -> Split:
    """Sort papers into next available preferences for continuing candidates (ERS97 5.3.3)."""
    target, newpos = next_preferences(ballots, parcel_groups, parcel_pos, continuing)
    return _split(ballots, parcel_groups, newpos, target)


def concat(parcels: list[Parcel]) -> tuple[IntArray, IntArray]:
    """Groups and positions of several parcels together."""
    if not parcels:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return (np.concatenate([p.groups for p in parcels]), np.concatenate([p.pos for p in parcels]))
