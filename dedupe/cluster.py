"""Constrained clustering, strongest link first (not connected components).

Why: connected components chain twins, fathers and sons, and spouses into one person, and a
merge disenfranchises someone. Here links are accepted from the strongest down; a link is
refused when it would put into one person two membership numbers ≥ 2 edits apart, two
incompatible dates of birth, or a Jr and a Sr — and every refusal is recorded with its reason,
so the auditor sees what was kept apart instead of it happening silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from dedupe.compare import dob_compatible, numbers_far

# Column indices in the level matrix (see compare.COMPARISONS).
NUM, FIRST, LAST, DOB, EMAIL, PHONE, PC, ADDR, TOWN, SUFFIX = range(10)


@dataclass
class Clustering:
    """Labels per record plus every merge and refusal, for the queue and the report."""

    labels: np.ndarray
    merges: list[tuple[int, int, int, str]] = field(default_factory=list)  # pair idx, ra, rb, how
    refused: list[tuple[int, str]] = field(default_factory=list)  # pair idx, reason
    forced: list[tuple[int, int, str]] = field(default_factory=list)  # rec a, rec b, decision


def pair_refusal(levels: np.ndarray) -> np.ndarray:
    """Per pair: '' (may link) or the reason this pair can never be one person on its own."""
    reason = np.full(len(levels), "", dtype=object)
    num_agree = (levels[:, NUM] == 1) | (levels[:, NUM] == 2)
    dob_agree = (levels[:, DOB] == 1) | (levels[:, DOB] == 2)
    first_agree = np.isin(levels[:, FIRST], (1, 2, 3))
    last_agree = np.isin(levels[:, LAST], (1, 2, 3))
    corroborated = dob_agree | first_agree | (last_agree & (levels[:, FIRST] == 4))
    personal = (num_agree | (levels[:, DOB] == 1) | (levels[:, EMAIL] == 1)
                | (levels[:, PHONE] == 1))
    reason[(levels[:, LAST] == 4) & ~personal] = (
        "last names differ and no personal identifier agrees")
    reason[(levels[:, FIRST] == 5) & ~(num_agree & dob_agree)] = "first names differ"
    reason[(levels[:, SUFFIX] == 2) & (levels[:, DOB] != 1)] = "Jr on one side only"
    reason[num_agree & ~corroborated] = "number agrees but neither name nor date of birth does"
    reason[levels[:, SUFFIX] == 3] = "Jr/Sr conflict"
    reason[np.isin(levels[:, DOB], (3, 4))] = "dates of birth incompatible"
    reason[levels[:, NUM] == 3] = "membership numbers 2+ edits apart"
    return reason


class _Constraints:
    """Per-cluster facts that cannot-links are checked against (numbers, DOBs, suffixes)."""

    def __init__(self, numbers: list[str], dobs: np.ndarray, suffix: list[str]) -> None:
        self.parent = list(range(len(numbers)))
        self.numbers: list[set[str]] = [{x} if x else set() for x in numbers]
        self.dobs: list[set[int]] = [{int(d)} if d > 0 else set() for d in dobs]
        self.suffix: list[set[str]] = [{s} if s else set() for s in suffix]
        self.size = [1] * len(numbers)
        self.forbid: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    def conflict(self, ra: int, rb: int) -> str:
        for a in self.numbers[ra]:
            for b in self.numbers[rb]:
                if numbers_far(a, b):
                    return "would join membership numbers 2+ edits apart"
        if self.dobs[ra] and self.dobs[rb]:
            da = np.fromiter(self.dobs[ra], np.int64)
            db = np.fromiter(self.dobs[rb], np.int64)
            aa, bb = np.repeat(da, len(db)), np.tile(db, len(da))
            if not dob_compatible(aa, bb).all():
                return "would join incompatible dates of birth"
        sa, sb = self.suffix[ra], self.suffix[rb]
        if sa and sb and len(sa | sb) > 1:
            return "would join a Jr and a Sr"
        for x in self.forbid.get(ra, ()):
            if self.find(x) == rb:
                return "the auditor decided these are different people"
        return ""

    def union(self, ra: int, rb: int) -> int:
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        self.numbers[ra] |= self.numbers[rb]
        self.dobs[ra] |= self.dobs[rb]
        self.suffix[ra] |= self.suffix[rb]
        if rb in self.forbid:
            self.forbid.setdefault(ra, set()).update(self.forbid.pop(rb))
        return ra


def constrained_clusters(
    n: int, i: np.ndarray, j: np.ndarray, weight: np.ndarray, levels: np.ndarray,
    numbers: list[str], dobs: np.ndarray, suffix: list[str], threshold: float,
    must: list[tuple[int, int]] | None = None, cannot: list[tuple[int, int]] | None = None,
) -> Clustering:
    """Accept links ≥ threshold from the strongest down, refusing those that break a constraint.

    ``must``/``cannot`` are the auditor's decisions (record index pairs): a "same" joins the
    two records first, whatever the model says; a "different" forbids the two ever sharing a
    cluster, even through others.
    """
    cs = _Constraints(numbers, dobs, suffix)
    out = Clustering(labels=np.zeros(n, np.int64))
    for a, b in must or ():
        ra, rb = cs.find(a), cs.find(b)
        if ra != rb:
            cs.union(ra, rb)
        out.forced.append((a, b, "same"))
    for a, b in cannot or ():
        cs.forbid.setdefault(cs.find(a), set()).add(b)
        cs.forbid.setdefault(cs.find(b), set()).add(a)
        out.forced.append((a, b, "different"))
    reason = pair_refusal(levels)
    cand = np.flatnonzero(weight >= threshold)
    order = cand[np.lexsort((j[cand], i[cand], -weight[cand]))]
    for p in order.tolist():
        ra, rb = cs.find(int(i[p])), cs.find(int(j[p]))
        if ra == rb:
            continue
        why = reason[p]
        if not why:
            why = cs.conflict(ra, rb)
        if why:
            out.refused.append((p, why))
            continue
        cs.union(ra, rb)
        out.merges.append((p, ra, rb, "model"))
    out.labels = np.fromiter((cs.find(x) for x in range(n)), np.int64, n)
    return out
