"""The Meek ballot tree: ranking prefixes as numpy arrays, and one distribution pass over it.

Why a tree: ballots sharing a prefix of non-excluded candidates up to their first hopeful candidate
are treated identically by a Meek distribution, so the walk is done once per *node* with the node's
total weight (OpenSTV's tree, built here level by level as numpy arrays) — exact, and far fewer
operations than walking every ballot at every iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from count.ballots import Ballots
from count.engine import next_preferences

IntArray = npt.NDArray[np.int64]


@dataclass
class Level:
    """One depth of the prefix tree: nodes sorted by candidate."""

    cand: IntArray
    parent: IntArray  # index into the previous level (unused at depth 0)
    n: IntArray  # total weight of ballots through the node
    starts: IntArray  # where each run of one candidate starts (for per-candidate sums)
    run_cand: IntArray


def build_tree(
    ballots: Ballots, excluded: npt.NDArray[np.bool_], hopeful: npt.NDArray[np.bool_], big: bool
) -> list[Level]:
    """Levels of distinct ranking prefixes over non-excluded candidates, each ending at the first
    hopeful candidate (or at the ballot's end).

    Walks each ballot only as far as it matters: level d holds, for every ballot still passing
    through elected candidates, its d-th non-excluded candidate (engine.next_preferences does the
    vectorised "next candidate allowed" scan over the ballots still walking).
    """
    n_groups = ballots.n_groups
    if n_groups == 0:
        return []
    allowed = ~excluded
    weights = ballots.weights.astype(object) if big else ballots.weights
    levels: list[Level] = []
    rows = np.arange(n_groups, dtype=np.int64)
    pos = np.full(n_groups, -1, dtype=np.int64)
    parent = np.zeros(n_groups, dtype=np.int64)
    while rows.size:
        cand, newpos = next_preferences(ballots, rows, pos, allowed)
        ok = cand >= 0
        rows, pos, parent, cand = rows[ok], newpos[ok], parent[ok], cand[ok]
        if rows.size == 0:
            break
        key = cand * (int(parent.max()) + 1) + parent
        order = np.argsort(key, kind="stable")
        ks = key[order]
        bounds = np.flatnonzero(ks[1:] != ks[:-1]) + 1
        starts = np.concatenate(([0], bounds))
        node_sorted = np.zeros(rows.size, dtype=np.int64)
        node_sorted[bounds] = 1
        node_of = np.empty(rows.size, dtype=np.int64)
        node_of[order] = np.cumsum(node_sorted)
        n = np.add.reduceat(weights[rows[order]], starts)
        ncand = cand[order[starts]]
        run_starts = np.concatenate(([0], np.flatnonzero(np.diff(ncand)) + 1))
        levels.append(
            Level(ncand, parent[order[starts]], np.asarray(n), run_starts, ncand[run_starts])
        )
        walking = ~hopeful[cand]  # past an elected candidate the ballot goes on
        rows, pos, parent = rows[walking], pos[walking], node_of[walking]
    return levels


def distribute(
    levels: list[Level], kf: list[int], p: int, n_cand: int, *, round_up: bool, big: bool
) -> list[int]:
    """One pass over the tree: each candidate's vote (scaled by ``p``).

    OpenSTV (``round_up=False``): a node credits ``r·kf·n // p`` and passes on ``r·(p−kf) // p``.
    PRF B.2.a (``round_up=True``): each ballot keeps ``⌈r·kf / p⌉`` and passes on the rest.
    """
    votes = [0] * n_cand
    kfa = np.array(kf, dtype=object if big else np.int64)
    r_prev: IntArray | None = None
    for d, lv in enumerate(levels):
        if d == 0:
            r_in = np.full(lv.cand.size, p, dtype=object if big else np.int64)
        else:
            assert r_prev is not None
            r_in = r_prev[lv.parent]
        k = kfa[lv.cand]
        if round_up:
            keep = -((-(r_in * k)) // p)
            contrib = keep * lv.n
            r_prev = r_in - keep
        else:
            contrib = r_in * k * lv.n // p
            r_prev = r_in * (p - k) // p
        sums = np.add.reduceat(contrib, lv.starts)
        for c, v in zip(lv.run_cand.tolist(), sums.tolist(), strict=True):
            votes[c] += int(v)
    return votes
