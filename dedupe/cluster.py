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
import pandas as pd

from dedupe.compare import dob_compatible_one, numbers_far

T = TypeVar("T")

# Column indices in the level matrix (see compare.COMPARISONS).
NUM, FIRST, LAST, DOB, EMAIL, PHONE, PC, ADDR, TOWN, SUFFIX = range(10)


@dataclass
class Clustering:
    """Labels per record plus every merge and refusal, for the queue and the report."""

    labels: np.ndarray
    merges: list[tuple[int, int, int, str]] = field(default_factory=list)  # pair idx, ra, rb, how
    refused: list[tuple[int, str]] = field(default_factory=list)  # pair idx, reason
    forced: list[tuple[int, int, str]] = field(default_factory=list)  # rec a, rec b, decision


NUMBER_OVERRIDE = "merged although the membership numbers are 2+ edits apart"
DOB_OVERRIDE = "merged although the dates of birth are incompatible"


@dataclass(frozen=True)
class Hardness:
    """Which identifiers may veto a link, decided from the data (see ``measure_hardness``)."""

    number: bool = True
    dob: bool = True
    number_conflict_rate: float = 0.0
    dob_conflict_rate: float = 0.0
    number_anchors: int = 0
    dob_anchors: int = 0
    names: bool = True
    name_conflict_rate: float = 0.0
    name_anchors: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "membership_number_is_hard": self.number,
            "date_of_birth_is_hard": self.dob,
            "number_conflict_rate_among_sure_matches": round(self.number_conflict_rate, 5),
            "number_sure_matches": self.number_anchors,
            "dob_conflict_rate_among_sure_matches": round(self.dob_conflict_rate, 5),
            "dob_sure_matches": self.dob_anchors,
            "names_are_hard": self.names,
            "first_name_conflict_rate_among_sure_matches": round(self.name_conflict_rate, 5),
            "name_sure_matches": self.name_anchors,
            "max_conflict_rate_for_hard": MAX_CONFLICT_RATE,
        }


#: An identifier that disagrees (2+ edits / incompatible) in more than this share of
#: otherwise-certain matches is too corrupted to veto a link (FEBRL: 4–7 %; UK exports: < 1 %).
MAX_CONFLICT_RATE = 0.02


def measure_hardness(levels: np.ndarray, min_anchors: int = 30) -> Hardness:
    """How often numbers / DOBs conflict among pairs that are surely one person otherwise.

    "Surely": same first and last name, plus the *other* identifier exact, plus a shared
    email, phone or postcode. Too few such pairs → keep the constraint hard (the safe side).
    """
    contact = (levels[:, EMAIL] == 1) | (levels[:, PHONE] == 1) | (levels[:, PC] == 1)
    names = (levels[:, FIRST] == 1) & (levels[:, LAST] == 1) & contact
    a = names & (levels[:, DOB] == 1) & (levels[:, NUM] > 0)
    b = names & (levels[:, NUM] == 1) & (levels[:, DOB] > 0)
    rn = float((levels[a, NUM] == 3).mean()) if a.any() else 0.0
    rd = float(np.isin(levels[b, DOB], (3, 4)).mean()) if b.any() else 0.0
    # First names: pairs with the same number, DOB and surname and a shared contact.
    c = (
        (levels[:, NUM] == 1)
        & (levels[:, DOB] == 1)
        & (levels[:, LAST] == 1)
        & contact
        & (levels[:, FIRST] > 0)
    )
    rf = float((levels[c, FIRST] == 5).mean()) if c.any() else 0.0
    return Hardness(
        number=not (a.sum() >= min_anchors and rn > MAX_CONFLICT_RATE),
        dob=not (b.sum() >= min_anchors and rd > MAX_CONFLICT_RATE),
        number_conflict_rate=rn,
        dob_conflict_rate=rd,
        number_anchors=int(a.sum()),
        dob_anchors=int(b.sum()),
        names=not (c.sum() >= min_anchors and rf > MAX_CONFLICT_RATE),
        name_conflict_rate=rf,
        name_anchors=int(c.sum()),
    )


def pair_rules(levels: np.ndarray, hard: Hardness | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: the reason it may never link on its own ('' = may link), and overrides.

    A hard constraint gives way only to overwhelming independent evidence, and then the merge
    is queued for the auditor: numbers 2+ edits apart yield to the same full name, the same
    date of birth and a shared email/phone/address (a number corrupted in several digits);
    incompatible dates of birth yield to the same number and the same full name (a DOB
    corrupted in several digits). A father and son differ in number; twins in first name.
    """
    reason = np.full(len(levels), "", dtype=object)
    override = np.full(len(levels), "", dtype=object)
    num_exact = levels[:, NUM] == 1
    num_agree = num_exact | (levels[:, NUM] == 2)
    dob_agree = (levels[:, DOB] == 1) | (levels[:, DOB] == 2)
    first_agree = np.isin(levels[:, FIRST], (1, 2, 3))
    last_agree = np.isin(levels[:, LAST], (1, 2, 3))
    contact = (levels[:, EMAIL] == 1) | (levels[:, PHONE] == 1) | (levels[:, ADDR] == 1)
    two_contacts = (levels[:, EMAIL] == 1) & (levels[:, PHONE] == 1)
    corroborated = (
        dob_agree
        | first_agree
        | (levels[:, LAST] == 1)
        | (last_agree & ((levels[:, FIRST] == 4) | contact))
        | (num_exact & two_contacts)
    )
    personal = num_agree | (levels[:, DOB] == 1) | (levels[:, EMAIL] == 1) | (levels[:, PHONE] == 1)
    reason[(levels[:, LAST] == 4) & ~personal] = (
        "last names differ and no personal identifier agrees"
    )
    # Sequential numbers (a family joining together) are 1 edit apart: only an exact number
    # may outvote a different first name.
    first_ok = (num_exact & dob_agree) | (
        num_exact
        & ~np.isin(levels[:, DOB], (3, 4))
        & (((levels[:, LAST] == 1) & contact) | two_contacts)
    )
    hard = hard or Hardness()
    names_hard = hard.names
    reason[(levels[:, FIRST] == 5) & ~first_ok & names_hard] = "first names differ"
    reason[(levels[:, SUFFIX] == 2) & (levels[:, DOB] != 1) & ~num_agree] = "Jr on one side only"
    reason[num_agree & ~corroborated & names_hard] = (
        "number agrees but neither name nor date of birth does"
    )
    reason[levels[:, SUFFIX] == 3] = "Jr/Sr conflict"
    dob_bad = np.isin(levels[:, DOB], (3, 4))
    dob_over = (
        dob_bad
        & first_agree
        & last_agree
        & (levels[:, SUFFIX] != 3)
        & (num_exact | (two_contacts & (levels[:, FIRST] == 1) & (levels[:, LAST] == 1)))
    )
    hard = hard or Hardness()
    if not hard.dob:
        dob_bad = np.zeros(len(levels), bool)
        dob_over = dob_bad
    reason[dob_bad & ~dob_over] = "dates of birth incompatible"
    override[dob_over] = DOB_OVERRIDE
    num_bad = (levels[:, NUM] == 3) & hard.number
    n_contacts = (
        (levels[:, EMAIL] == 1).astype(int)
        + (levels[:, PHONE] == 1)
        + ((levels[:, ADDR] == 1) | (levels[:, PC] == 1))
    )
    num_over = (
        num_bad
        & first_agree
        & last_agree
        & (levels[:, SUFFIX] < 2)
        & (((levels[:, DOB] == 1) & contact) | ((levels[:, DOB] == 0) & (n_contacts >= 2)))
    )
    reason[num_bad & ~num_over] = "membership numbers 2+ edits apart"
    override[num_over] = NUMBER_OVERRIDE
    reason[num_over & dob_bad] = "membership numbers 2+ edits apart"
    override[num_over & dob_bad] = ""
    return reason, override


def pair_refusal(levels: np.ndarray, hard: Hardness | None = None) -> np.ndarray:
    """Per pair: '' (may link) or the reason this pair can never be one person on its own."""
    return pair_rules(levels, hard)[0]


class _Constraints:
    """Per-cluster facts that cannot-links are checked against (numbers, DOBs, suffixes).

    Facts are tuples of distinct values, one per root, built lazily from the records: a
    million 1-element sets cost seconds and hundreds of MB; tuples of one are cheap, and
    clusters hold a handful of records, so a linear ``in`` beats hashing.
    """

    def __init__(
        self, numbers: list[str], dobs: np.ndarray, suffix: list[str], hard: Hardness
    ) -> None:
        n = len(numbers)
        self.hard = hard
        self.parent = list(range(n))
        self.size = [1] * n
        empty: tuple[()] = ()
        self.numbers: list[tuple[str, ...]] = [(x,) if x else empty for x in numbers]
        self.dobs: list[tuple[int, ...]] = [
            (d,) if d > 0 else empty for d in np.asarray(dobs, np.int64).tolist()
        ]
        self.suffix: list[tuple[str, ...]] = [(x,) if x else empty for x in suffix]
        self.forbid: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    def conflict(self, ra: int, rb: int, override: str = "") -> str:
        """Why clusters ra and rb may not merge ('' = they may).

        A conflict needs *no* compatible pair across the two clusters: a cluster that already
        holds a corrupted number (merged by an override) is still joined by its true number.
        """
        na, nb = self.numbers[ra], self.numbers[rb]
        if na and nb and self.hard.number and override != NUMBER_OVERRIDE:
            if len(na) == 1 and len(nb) == 1:
                far = numbers_far(na[0], nb[0])
            else:
                far = all(numbers_far(a, b) for a in na for b in nb)
            if far:
                return "would join membership numbers 2+ edits apart"
        da, db = self.dobs[ra], self.dobs[rb]
        if da and db and self.hard.dob and override != DOB_OVERRIDE:
            if len(da) == 1 and len(db) == 1:
                ok = dob_compatible_one(da[0], db[0])
            else:
                ok = any(dob_compatible_one(a, b) for a in da for b in db)
            if not ok:
                return "would join incompatible dates of birth"
        sa, sb = self.suffix[ra], self.suffix[rb]
        if sa and sb and (len(sa) > 1 or len(sb) > 1 or sa[0] != sb[0]):
            return "would join a Jr and a Sr"
        if self.forbid:
            for x in self.forbid.get(ra, ()):
                if self.find(x) == rb:
                    return "the auditor decided these are different people"
        return ""

    def union(self, ra: int, rb: int) -> int:
        size = self.size
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        size[ra] += size[rb]
        self.numbers[ra] = _merged(self.numbers[ra], self.numbers[rb])
        self.dobs[ra] = _merged(self.dobs[ra], self.dobs[rb])
        self.suffix[ra] = _merged(self.suffix[ra], self.suffix[rb])
        if rb in self.forbid:
            self.forbid.setdefault(ra, set()).update(self.forbid.pop(rb))
        return ra


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
) -> Clustering:
    """Accept links ≥ threshold from the strongest down, refusing those that break a constraint.

    ``must``/``cannot`` are the auditor's decisions (record index pairs): a "same" joins the
    two records first, whatever the model says; a "different" forbids the two ever sharing a
    cluster, even through others. ``rules`` is ``pair_rules(levels, hard)`` if the caller
    already has it (it is not computed twice).
    """
    hard = hard or Hardness()
    cs = _Constraints(numbers, dobs, suffix, hard)
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
    cand = np.flatnonzero(weight >= threshold)
    order = cand[np.lexsort((j[cand], i[cand], -weight[cand]))]
    # Components over the links and the auditor's decisions: each is clustered on its own,
    # the fact-free ones in array rounds, the others by the loop; events merged in link order.
    ends = np.asarray((must or []) + (cannot or []), np.int64).reshape(-1, 2)
    comp = _components(n, np.r_[i[order], ends[:, 0]], np.r_[j[order], ends[:, 1]])
    easy = _fact_free(comp, numbers, dobs, suffix, ends.ravel())
    in_easy = easy[comp[i[order]]]
    _link_in_order(cs, out, order[~in_easy], i, j, reason, override)
    rounds = _link_in_rounds(n, order[in_easy], comp, i, j, reason, override)
    _interleave(out, order, rounds)
    parent = np.where(easy[comp], rounds.parent, np.asarray(cs.parent, dtype=np.int64))
    out.labels = _roots(parent)
    return out


def _roots(parent: np.ndarray) -> np.ndarray:
    """Root of every record, by pointer jumping in numpy (no per-record ``find``)."""
    lab = parent
    while True:
        up = lab[lab]
        if np.array_equal(up, lab):
            return lab
        lab = up


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected component (its smallest record) of every record over the edges a–b."""
    lab = np.arange(n, dtype=np.int64)
    while True:
        low = np.minimum(lab[a], lab[b])
        new = lab.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = _roots(new)
        if np.array_equal(new, lab):
            return lab
        lab = new


def _fact_free(
    comp: np.ndarray, numbers: list[str], dobs: np.ndarray, suffix: list[str], decided: np.ndarray
) -> np.ndarray:
    """Per component (indexed by its label): can no link in it ever meet a conflict?

    True when its records carry at most one distinct membership number, one date of birth
    and one suffix, and no auditor decision names any of them: then ``_Constraints.conflict``
    is '' for every pair of its clusters, so only the order of links matters.
    """
    n = len(comp)
    ok = np.ones(n, bool)
    dob = np.asarray(dobs, np.int64)
    for values, present in (_codes(numbers), (dob, dob > 0), _codes(suffix)):
        lo = np.full(n, np.iinfo(np.int64).max)
        hi = np.full(n, np.iinfo(np.int64).min)
        np.minimum.at(lo, comp[present], values[present])
        np.maximum.at(hi, comp[present], values[present])
        ok &= lo >= hi
    ok[comp[decided]] = False
    return ok


def _codes(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Integer code per value, and where the value is present (not '')."""
    arr = np.asarray(values, dtype=object)
    codes = pd.factorize(arr)[0].astype(np.int64)
    return codes, arr != ""


@dataclass
class _Rounds:
    """Outcome of the links of fact-free components: union-find parents and events."""

    parent: np.ndarray
    merged: np.ndarray  # pair indices, with the two roots joined and how
    ra: np.ndarray
    rb: np.ndarray
    how: np.ndarray
    refused: np.ndarray  # pair indices, with the reason
    why: np.ndarray


def _link_in_rounds(
    n: int,
    pairs: np.ndarray,
    comp: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    reason: np.ndarray,
    override: np.ndarray,
) -> _Rounds:
    """Strongest-first union by size for fact-free components, all components at once.

    Components never influence each other, so round k takes the k-th strongest link of every
    component: the links of one round touch distinct clusters and are applied as arrays. Same
    roots, merges and refusals as the sequential loop (``pairs`` is in link order).
    """
    parent = np.arange(n, dtype=np.int64)
    size = np.ones(n, np.int64)
    c = comp[i[pairs]]
    by_comp = np.argsort(c, kind="stable")
    sc = c[by_comp]
    first = np.r_[True, sc[1:] != sc[:-1]] if len(sc) else np.zeros(0, bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(sc)), 0)) if len(sc) else sc
    rank = np.empty(len(pairs), np.int64)
    rank[by_comp] = np.arange(len(sc)) - start
    by_round = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_round], np.arange(int(rank.max(initial=-1)) + 2))
    merged, ra_all, rb_all, refused = [], [], [], []
    for k in range(len(bounds) - 1):
        p = pairs[by_round[bounds[k] : bounds[k + 1]]]
        ra, rb = _find_all(parent, i[p]), _find_all(parent, j[p])
        live = ra != rb
        blocked = live & (reason[p] != "")
        join = live & ~blocked
        refused.append(p[blocked])
        p, ra, rb = p[join], ra[join], rb[join]
        swap = size[ra] < size[rb]
        big, small = np.where(swap, rb, ra), np.where(swap, ra, rb)
        parent[small] = big
        size[big] += size[small]
        merged.append(p)
        ra_all.append(ra)
        rb_all.append(rb)
    m = np.concatenate(merged) if merged else np.zeros(0, np.int64)
    x = np.concatenate(refused) if refused else np.zeros(0, np.int64)
    how = override[m].copy()
    how[how == ""] = "model"
    return _Rounds(
        parent,
        m,
        np.concatenate(ra_all) if ra_all else m,
        np.concatenate(rb_all) if rb_all else m,
        how,
        x,
        reason[x],
    )


def _find_all(parent: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Roots of records x (union by size keeps the trees a few levels deep)."""
    root: np.ndarray = parent[x]
    while True:
        up: np.ndarray = parent[root]
        if np.array_equal(up, root):
            return root
        root = up


def _interleave(out: Clustering, order: np.ndarray, rounds: _Rounds) -> None:
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


def _link_in_order(
    cs: _Constraints,
    out: Clustering,
    order: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    reason: np.ndarray,
    override: np.ndarray,
) -> None:
    """The sequential strongest-first loop, over plain lists (no numpy scalars per step).

    Most accepted links join clusters whose facts are equal or absent on one side (the same
    person's records): that case is decided and merged inline; anything else goes through
    ``conflict``/``union``, which give the same answer for it.
    """
    parent, size, find, conflict, union = cs.parent, cs.size, cs.find, cs.conflict, cs.union
    nums, dobs, sfx, forbid = cs.numbers, cs.dobs, cs.suffix, cs.forbid
    merges, refused = out.merges, out.refused
    for p, a, b, why, over in zip(
        order.tolist(),
        i[order].tolist(),
        j[order].tolist(),
        reason[order].tolist(),
        override[order].tolist(),
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
        if (
            (na == nb or not na or not nb)
            and (da == db or not da or not db)
            and (not sa or not sb or (sa == sb and len(sa) == 1))
            and not forbid
        ):
            # No conflict possible; union by size, facts of the smaller folded in.
            if size[ra] < size[rb]:
                big, small, nb, db, sb = rb, ra, na, da, sa
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
        else:
            why = conflict(ra, rb, over)
            if why:
                refused.append((p, why))
                continue
            union(ra, rb)
        merges.append((p, ra, rb, over or "model"))
