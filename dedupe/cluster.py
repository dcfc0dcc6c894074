"""Constrained clustering, strongest link first (not connected components).

Why: connected components chain twins, fathers and sons, and spouses into one person, and a
merge disenfranchises someone. Here links are accepted from the strongest down; a link is
refused when it would put into one person two membership numbers ≥ 2 edits apart, two
incompatible dates of birth, or a Jr and a Sr — and every refusal is recorded with its reason,
so the auditor sees what was kept apart instead of it happening silently.

Speed without changing a single merge: components of the link graph never influence each
other, and in a component whose records carry at most one distinct number, date of birth and
suffix no constraint can fire, so only union-by-size order matters there; those (60 % of the
links at 1M rows) are applied in numpy rounds, and only the rest walk the Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from dedupe.cluster_rounds import Rounds, components, fact_free, link_in_rounds, roots
from dedupe.compare import dob_compatible_one, numbers_far
from dedupe.compare_names import names_compatible
from dedupe.levels import Field, FirstName, Number
from dedupe.reasons import BY_MODEL, Override, Refusal
from dedupe.rules import Hardness, pair_rules

T = TypeVar("T")


@dataclass
class Clustering:
    """Labels per record plus every merge and refusal, for the queue and the report."""

    labels: np.ndarray
    # pair idx, the two roots joined, how: BY_MODEL, the Override it took, or BY_RULE
    merges: list[tuple[int, int, int, str]] = field(default_factory=list)
    refused: list[tuple[int, Refusal]] = field(default_factory=list)  # pair idx, reason
    forced: list[tuple[int, int, str]] = field(default_factory=list)  # rec a, rec b, decision


class _Constraints:
    """Per-cluster facts that cannot-links are checked against (numbers, DOBs, suffixes).

    Facts are tuples of distinct values, one per root, built lazily from the records: a
    million 1-element sets cost seconds and hundreds of MB; tuples of one are cheap, and
    clusters hold a handful of records, so a linear ``in`` beats hashing.
    """

    def __init__(
        self,
        numbers: list[str],
        dobs: np.ndarray,
        suffix: list[str],
        hard: Hardness,
        firsts: list[str] | None = None,
        alike: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        n = len(numbers)
        self.alike = alike
        self.hard = hard
        self.parent = list(range(n))
        self.size = [1] * n
        empty: tuple[()] = ()
        self.numbers: list[tuple[str, ...]] = [(x,) if x else empty for x in numbers]
        self.dobs: list[tuple[int, ...]] = [
            (d,) if d > 0 else empty for d in np.asarray(dobs, np.int64).tolist()
        ]
        self.suffix: list[tuple[str, ...]] = [(x,) if x else empty for x in suffix]
        # Full first names (not initials) are facts only while names are hard evidence.
        named = firsts if firsts is not None and hard.names else [""] * n
        self.firsts: list[tuple[str, ...]] = [(x,) if x else empty for x in named]
        self.forbid: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    def conflict(
        self, ra: int, rb: int, override: str = Override.NONE, number_exact: bool = False
    ) -> Refusal | None:
        """Why clusters ra and rb may not merge (None = they may).

        First names: a full first name on one side that none on the other may be (not the
        same, a nickname or a typo) refuses the join — an initial or a shared contact must
        not bridge Benjamin and Kirsty — unless the link itself has the same number.

        A conflict needs *no* compatible pair across the two clusters: a cluster that already
        holds a corrupted number (merged by an override) is still joined by its true number.
        """
        na, nb = self.numbers[ra], self.numbers[rb]
        if na and nb and self.hard.number and override != Override.NUMBER:
            if len(na) == 1 and len(nb) == 1:
                far = numbers_far(na[0], nb[0])
            else:
                far = all(numbers_far(a, b) for a in na for b in nb)
            if far:
                return Refusal.CLUSTER_NUMBERS
        da, db = self.dobs[ra], self.dobs[rb]
        if da and db and self.hard.dob and override != Override.DOB:
            if len(da) == 1 and len(db) == 1:
                ok = dob_compatible_one(da[0], db[0])
            else:
                ok = any(dob_compatible_one(a, b) for a in da for b in db)
            if not ok:
                return Refusal.CLUSTER_DOBS
        sa, sb = self.suffix[ra], self.suffix[rb]
        if sa and sb and (len(sa) > 1 or len(sb) > 1 or sa[0] != sb[0]):
            return Refusal.CLUSTER_JR_SR
        fa, fb = self.firsts[ra], self.firsts[rb]
        if fa and fb and fa != fb and not number_exact and _names_clash(fa, fb, self.alike):
            return Refusal.CLUSTER_FIRST_NAMES
        if self.forbid:
            for x in self.forbid.get(ra, ()):
                if self.find(x) == rb:
                    return Refusal.CLUSTER_AUDITOR
        return None

    def union(self, ra: int, rb: int) -> int:
        size = self.size
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        size[ra] += size[rb]
        self.numbers[ra] = _merged(self.numbers[ra], self.numbers[rb])
        self.dobs[ra] = _merged(self.dobs[ra], self.dobs[rb])
        self.suffix[ra] = _merged(self.suffix[ra], self.suffix[rb])
        self.firsts[ra] = _merged(self.firsts[ra], self.firsts[rb])
        if rb in self.forbid:
            self.forbid.setdefault(ra, set()).update(self.forbid.pop(rb))
        return ra


def _alike_names(
    firsts: list[str] | None, i: np.ndarray, j: np.ndarray, levels: np.ndarray
) -> frozenset[tuple[str, str]]:
    """Distinct pairs of different full first names that some candidate pair's levels call
    one name (nickname, typo, or first and middle name swapped)."""
    if firsts is None:
        return frozenset()
    level = levels[:, Field.FIRST_NAME]
    ok = np.flatnonzero((level >= FirstName.NICKNAME) & (level <= FirstName.INITIAL))
    names = np.asarray(firsts, dtype=object)
    a, b = names[i[ok]], names[j[ok]]
    keep = (a != "") & (b != "") & (a != b)
    return frozenset(
        (min(x, y), max(x, y)) for x, y in zip(a[keep].tolist(), b[keep].tolist(), strict=True)
    )


def _names_clash(a: tuple[str, ...], b: tuple[str, ...], alike: frozenset[tuple[str, str]]) -> bool:
    """A name on either side that no name on the other side may be. ``alike``: name pairs a
    candidate pair's levels already found compatible (rare-typo and middle-name rules need
    the records, not just the two names)."""

    def ok(x: str, y: str) -> bool:
        return (min(x, y), max(x, y)) in alike or names_compatible(x, y)

    return any(not any(ok(x, y) for y in b) for x in a) or any(
        not any(ok(x, y) for x in a) for y in b
    )


def _merged(a: tuple[T, ...], b: tuple[T, ...]) -> tuple[T, ...]:
    """Distinct values of two small fact tuples (a first)."""
    if not b or a == b:
        return a
    if not a:
        return b
    return a + tuple(x for x in b if x not in a)


def constrained_clusters(
    n: int,
    i: np.ndarray,
    j: np.ndarray,
    weight: np.ndarray,
    levels: np.ndarray,
    numbers: list[str],
    dobs: np.ndarray,
    suffix: list[str],
    threshold: float,
    must: list[tuple[int, int]] | None = None,
    cannot: list[tuple[int, int]] | None = None,
    hard: Hardness | None = None,
    rules: tuple[np.ndarray, np.ndarray] | None = None,
    firsts: list[str] | None = None,
    accept: np.ndarray | None = None,
) -> Clustering:
    """Accept links ≥ threshold from the strongest down, refusing those that break a constraint.

    ``must``/``cannot`` are the auditor's decisions (record index pairs): a "same" joins the
    two records first, whatever the model says; a "different" forbids the two ever sharing a
    cluster, even through others. ``rules`` is ``pair_rules(levels, hard)`` if the caller
    already has it (it is not computed twice). ``firsts``: each record's full first-name key
    ('' for an initial or none): one person never holds two names that cannot be one.
    ``accept``: per pair, may it link (default: weight ≥ threshold); the pipeline adds the
    ``rules.sure_links`` below the threshold, whose ``override`` entry is ``BY_RULE``.
    """
    hard = hard or Hardness()
    cs = _Constraints(numbers, dobs, suffix, hard, firsts, _alike_names(firsts, i, j, levels))
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
    reason, override = rules if rules is not None else pair_rules(levels, hard)
    cand = np.flatnonzero(weight >= threshold if accept is None else accept)
    order = cand[np.lexsort((j[cand], i[cand], -weight[cand]))]
    # Components over the links and the auditor's decisions: each is clustered on its own,
    # the fact-free ones in array rounds, the others by the loop; events merged in link order.
    ends = np.asarray((must or []) + (cannot or []), np.int64).reshape(-1, 2)
    comp = components(n, np.r_[i[order], ends[:, 0]], np.r_[j[order], ends[:, 1]])
    named = firsts if firsts is not None and hard.names else [""] * n
    easy = fact_free(comp, numbers, dobs, suffix, ends.ravel(), named)
    in_easy = easy[comp[i[order]]]
    exact_number = levels[:, Field.NUMBER] == Number.EXACT
    _link_in_order(cs, out, order[~in_easy], i, j, reason, override, exact_number)
    rounds = link_in_rounds(n, order[in_easy], comp, i, j, reason, override)
    _interleave(out, order, rounds)
    parent = np.where(easy[comp], rounds.parent, np.asarray(cs.parent, dtype=np.int64))
    out.labels = roots(parent)
    return out


def _link_in_order(
    cs: _Constraints,
    out: Clustering,
    order: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    reason: np.ndarray,
    override: np.ndarray,
    exact_number: np.ndarray,
) -> None:
    """The sequential strongest-first loop, over plain lists (no numpy scalars per step).

    Most accepted links join clusters whose facts are equal or absent on one side (the same
    person's records): that case is decided and merged inline; anything else goes through
    ``conflict``/``union``, which give the same answer for it.
    """
    parent, size, find, conflict, union = cs.parent, cs.size, cs.find, cs.conflict, cs.union
    nums, dobs, sfx, fst, forbid = cs.numbers, cs.dobs, cs.suffix, cs.firsts, cs.forbid
    merges, refused = out.merges, out.refused
    for p, a, b, why, over, same_number in zip(
        order.tolist(),
        i[order].tolist(),
        j[order].tolist(),
        reason[order].tolist(),
        override[order].tolist(),
        exact_number[order].tolist(),
        strict=True,
    ):
        ra = a if parent[a] == a else find(a)
        rb = b if parent[b] == b else find(b)
        if ra == rb:
            continue
        if why:
            refused.append((p, why))
            continue
        na, nb, da, db, sa, sb = nums[ra], nums[rb], dobs[ra], dobs[rb], sfx[ra], sfx[rb]
        fa, fb = fst[ra], fst[rb]
        if (
            (na == nb or not na or not nb)
            and (da == db or not da or not db)
            and (not sa or not sb or (sa == sb and len(sa) == 1))
            and (fa == fb or not fa or not fb)
            and not forbid
        ):
            # No conflict possible; union by size, facts of the smaller folded in.
            if size[ra] < size[rb]:
                big, small, nb, db, sb, fb = rb, ra, na, da, sa, fa
            else:
                big, small = ra, rb
            parent[small] = big
            size[big] += size[small]
            if nb and not nums[big]:
                nums[big] = nb
            if db and not dobs[big]:
                dobs[big] = db
            if sb and not sfx[big]:
                sfx[big] = sb
            if fb and not fst[big]:
                fst[big] = fb
        else:
            why = conflict(ra, rb, over, same_number)
            if why:
                refused.append((p, why))
                continue
            union(ra, rb)
        merges.append((p, ra, rb, over or BY_MODEL))


def _interleave(out: Clustering, order: np.ndarray, rounds: Rounds) -> None:
    """Merge the loop's and the rounds' events into one list each, in link order."""
    position = np.empty(int(order.max(initial=-1)) + 1, np.int64)
    position[order] = np.arange(len(order))
    loop_m = np.fromiter((m[0] for m in out.merges), np.int64, len(out.merges))
    merges = list(
        zip(
            rounds.merged.tolist(),
            rounds.ra.tolist(),
            rounds.rb.tolist(),
            rounds.how.tolist(),
            strict=True,
        )
    )
    out.merges = _by_position(out.merges, loop_m, merges, rounds.merged, position)
    loop_r = np.fromiter((r[0] for r in out.refused), np.int64, len(out.refused))
    refused = list(zip(rounds.refused.tolist(), rounds.why.tolist(), strict=True))
    out.refused = _by_position(out.refused, loop_r, refused, rounds.refused, position)


def _by_position(
    a: list[T], a_pairs: np.ndarray, b: list[T], b_pairs: np.ndarray, position: np.ndarray
) -> list[T]:
    if not b:
        return a
    if not a:
        a = []
    both = a + b
    order = np.argsort(position[np.r_[a_pairs, b_pairs]], kind="stable")
    return [both[k] for k in order.tolist()]
