"""The auditor's review queue: refused links worth a look, overridden constraints, weak links.

Why triage: at 1M rows thousands of links are refused; almost all are plainly two people
(spouses sharing an email, a mistyped number landing on a stranger). Only links where the
*other* evidence says "same person" are queued, number conflicts first, then by weight, so
the auditor's time goes where a ballot is at stake.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np
import pandas as pd

from dedupe.cluster import Clustering
from dedupe.levels import (
    COMPARISONS,
    NUMBER_AGREES,
    Address,
    Dob,
    Email,
    Field,
    FirstName,
    LastName,
    Number,
    Phone,
    Postcode,
    Suffix,
)
from dedupe.reasons import BY_MODEL, Refusal

#: Triage order of queue categories (lower first).
CATEGORY_ORDER = {
    "number conflict": 0,
    "date of birth conflict": 1,
    "number without name": 2,
    "name conflict": 3,
    "initial at a home": 4,
    "cluster conflict": 5,
    "weak link": 6,
    "near miss": 7,
}

#: Links this many bits below the acceptance threshold (and refused by no rule) are asked
#: about: Fellegi and Sunter's clerical-review band. Measured: FEBRL 3 has 13 such person
#: pairs, all one person; 200k synthetic UK rows have 90, 16 of them one person.
NEAR_MISS_BITS = 3.0


#: A record whose strongest link has both a different email and a different phone is asked
#: about unless that link is this many bits above ``--weak``. Measured: namesakes at one
#: postcode (same full name, both contacts different) were 38 % of such pairs at 200k rows;
#: the bar queued 56 records there, 14 of them wrongly merged (12 at uk100k, none wrong).
BOTH_CONTACTS_DIFFER_BITS = 8.0


def namesakes(levels: np.ndarray) -> np.ndarray:
    """Per pair: same first name, different surname, no shared email or phone.

    Why: near misses of this shape are strangers who share a first name and a birthday or
    town (97 % of the 3,709 near misses at 1M synthetic rows; 1 of 61 at 200k was one
    person), and asking about them would bury the auditor.
    """
    first, last = levels[:, Field.FIRST_NAME], levels[:, Field.LAST_NAME]
    same_first = (first >= FirstName.EXACT) & (first <= FirstName.TYPO)
    out: np.ndarray = same_first & (last == LastName.DIFFERENT)
    out &= levels[:, Field.EMAIL] != Email.EXACT
    return np.asarray(out & (levels[:, Field.PHONE] != Phone.EXACT), dtype=bool)


QUEUE_COLUMNS = (
    "item_id",
    "priority",
    "category",
    "reason",
    "proposed_decision",
    "weight",
    "person_id_a",
    "person_id_b",
    "source_org_a",
    "row_id_a",
    "fingerprint_a",
    "name_a",
    "number_a",
    "dob_a",
    "email_a",
    "phone_a",
    "postcode_a",
    "address_a",
    "source_org_b",
    "row_id_b",
    "fingerprint_b",
    "name_b",
    "number_b",
    "dob_b",
    "email_b",
    "phone_b",
    "postcode_b",
    "address_b",
    "evidence",
    "records",
    "decision",
    "note",
)


def _categories(reasons: list[Refusal], lv: np.ndarray, w: np.ndarray, strong: float) -> np.ndarray:
    """Queue category of each refused pair ('' when it is plainly two people), vectorised.

    Measured on labelled synthetic exports: refusals whose only other agreement is a shared
    email or postcode are namesakes 98 % of the time, so they are counted, not queued; a
    shared *mobile*, two shared contacts, or a DOB plus a shared contact is worth the
    auditor's look. An initial ("S. Dhillon") counts as a compatible first name here: a
    refusal is only a question, and a hard constraint must not split silently a person whose
    identifiers are corrupted in several places (at 200k rows every refused pair with
    compatible names, no DOB conflict and two shared contacts was one person).
    """
    out = np.full(len(reasons), "", dtype=object)
    if not reasons:
        return out
    why = np.asarray(reasons, dtype=object)

    def refused_for(*which: Refusal) -> np.ndarray:
        return np.isin(why, list(which))

    num, first, last, dob = (
        lv[:, Field.NUMBER],
        lv[:, Field.FIRST_NAME],
        lv[:, Field.LAST_NAME],
        lv[:, Field.DATE_OF_BIRTH],
    )
    email, phone = lv[:, Field.EMAIL] == Email.EXACT, lv[:, Field.PHONE] == Phone.EXACT
    first_ok = (first >= FirstName.EXACT) & (first <= FirstName.TYPO)
    last_ok = (last >= LastName.EXACT) & (last <= LastName.CONTAINS)
    names_ok = (first_ok | (first == FirstName.INITIAL)) & last_ok
    place = (lv[:, Field.ADDRESS] == Address.EXACT) | (lv[:, Field.POSTCODE] == Postcode.EXACT)
    place |= lv[:, Field.PHONE] == Phone.LANDLINE
    contact = email | phone | place
    n_contacts = email.astype(np.int8) + phone + place
    num_agree = np.isin(num, NUMBER_AGREES)
    strong_num = num_agree & (w >= strong)
    plausible = (dob <= Dob.TYPO) & (lv[:, Field.SUFFIX] < Suffix.ONE_SIDE)
    strong_other = phone | ((dob == Dob.EXACT) & contact) | (n_contacts >= 2)
    renamed = first_ok & (dob == Dob.EXACT) & (n_contacts >= 2)  # a new surname and a typo
    rules: tuple[tuple[tuple[Refusal, ...], np.ndarray, str], ...] = (
        (
            (Refusal.NUMBERS_FAR,),
            plausible & ((names_ok & strong_other) | renamed),
            "number conflict",
        ),
        (
            (Refusal.DOB_INCOMPATIBLE,),
            names_ok & np.isin(num, (Number.MISSING, *NUMBER_AGREES)) & (phone | email),
            "date of birth conflict",
        ),
        (
            (Refusal.NUMBER_WITHOUT_NAME,),
            (num == Number.EXACT) & (email | phone),
            "number without name",
        ),
        (
            # The same birthday with a shared email or the same mobile: twins, or one member
            # whose first name was mistyped twice (114 of 114 with the mobile, 200k rows).
            (Refusal.FIRST_NAMES_DIFFER,),
            strong_num | ((dob == Dob.EXACT) & (((last == LastName.EXACT) & email) | phone)),
            "name conflict",
        ),
        (
            (Refusal.JR_ONE_SIDE, Refusal.JR_SR),
            strong_num | (first_ok & last_ok & (email | (n_contacts >= 2))),
            "name conflict",
        ),
        (
            # "B. Smyth" at Brenda Smyth's home, writing from the household's mailbox: the
            # data cannot tell her from a child B., a person can (at 200k held-out rows 85 %
            # of such pairs without a differing phone were one person).
            (Refusal.INITIAL_ALONE,),
            (first == FirstName.INITIAL)
            & (last == LastName.EXACT)
            & place
            & ((dob <= Dob.TYPO) | (dob == Dob.STAND_IN))
            & (num != Number.DIFFERENT)
            & (lv[:, Field.EMAIL] != Email.DIFFERENT)
            & (lv[:, Field.PHONE] != Phone.DIFFERENT),
            "initial at a home",
        ),
        (
            (Refusal.CLUSTER_NUMBERS, Refusal.CLUSTER_DOBS, Refusal.CLUSTER_JR_SR),
            (w >= strong) & first_ok & last_ok & ((num == Number.EXACT) | (dob == Dob.EXACT)),
            "cluster conflict",
        ),
    )
    for which, queued, category in rules:
        out[refused_for(*which) & queued] = category
    return out


def weak_bridges(
    cl: Clustering,
    i: np.ndarray,
    j: np.ndarray,
    weight: np.ndarray,
    usable: np.ndarray,
    strong: float,
) -> list[int]:
    """Merges below ``strong`` that alone hold their person together (graph bridges).
    ``usable``: per pair, a link that could hold them (refused by no rule, accepted).

    The accepted-quality edges are grouped by cluster in numpy (one sort), so each weak merge
    searches only its own cluster's few edges.
    """
    merged = np.fromiter((m[0] for m in cl.merges), np.int64, len(cl.merges))
    by_model = np.fromiter((m[3] == BY_MODEL for m in cl.merges), bool, len(cl.merges))
    weak = merged[by_model & (weight[merged] < strong)]
    if not len(weak):
        return []
    lab = cl.labels
    ok = np.flatnonzero(usable & (lab[i] == lab[j]))
    key = lab[i[ok]]
    grouped = np.argsort(key, kind="stable")
    key, ok = key[grouped], ok[grouped]
    weak_lab = lab[i[weak]]
    lo = np.searchsorted(key, weak_lab, "left").tolist()
    hi = np.searchsorted(key, weak_lab, "right").tolist()
    qs, qi, qj = ok.tolist(), i[ok].tolist(), j[ok].tolist()
    out = []
    for p, start, target, a, b in zip(
        weak.tolist(), i[weak].tolist(), j[weak].tolist(), lo, hi, strict=True
    ):
        adj: dict[int, list[int]] = defaultdict(list)
        for k in range(a, b):
            if qs[k] != p:
                adj[qi[k]].append(qj[k])
                adj[qj[k]].append(qi[k])
        seen, stack = {start}, [start]
        while stack:
            x = stack.pop()
            for y in adj[x]:
                if y not in seen:
                    seen.add(y)
                    stack.append(y)
        if target not in seen:
            out.append(p)
    return out


def weakly_attached(
    i: np.ndarray,
    j: np.ndarray,
    weight: np.ndarray,
    accepted: np.ndarray,
    contrary: np.ndarray,
    strong: float,
) -> list[int]:
    """The strongest link of each record whose every accepted link is below ``strong`` and
    whose strongest link also carries ``contrary`` evidence (a different email or phone).

    Why besides bridges: a record tied to a person by three weak links (a namesake with an
    initial at the same postcode) is not held by any single bridge, yet nothing strong says
    it belongs there. Why only with contrary evidence: FEBRL's heavily corrupted but true
    records are weakly attached by the dozen with nothing against them (FEBRL 3: 51 more
    items, none wrong); the wrong merges at uk100k all had a different email.
    """
    links = np.flatnonzero(accepted)
    ends = np.concatenate([i[links], j[links]])
    links = np.concatenate([links, links])
    order = np.lexsort((-weight[links], ends))  # per record, its strongest link first
    ends, links = ends[order], links[order]
    best = links[np.r_[True, ends[1:] != ends[:-1]]] if len(ends) else links
    return sorted(set(best[(weight[best] < strong) & contrary[best]].tolist()))


def evidence_text(lv: np.ndarray, wt: np.ndarray) -> str:
    """'number: exact (+12.2); first_name: different (-3.1); …' for one pair."""
    parts = []
    for k, c in enumerate(COMPARISONS):
        if lv[k] > 0:
            parts.append(f"{c.name}: {c.levels[lv[k]]} ({wt[k, lv[k]]:+.1f})")
    return "; ".join(parts)


def item_id(fp_a: str, fp_b: str) -> str:
    """Stable id of a queue item from the two records' fingerprints (order-free)."""
    a, b = sorted((fp_a, fp_b))
    return "Q" + hashlib.sha256(f"{a}|{b}".encode()).hexdigest()[:12]


def build_queue(
    r: pd.DataFrame,
    person: np.ndarray,
    cl: Clustering,
    i: np.ndarray,
    j: np.ndarray,
    levels: np.ndarray,
    weight: np.ndarray,
    wt: np.ndarray,
    reasons: np.ndarray,
    threshold: float,
    strong: float,
    decided: dict[tuple[int, int], str],
    accept: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per item for the auditor (strongest pair per pair of persons), triaged.

    ``accept``: per pair, may it link (default: weight ≥ threshold; the pipeline adds the
    ``rules.sure_links`` below it, which are neither near misses nor weak links).
    """
    if accept is None:
        accept = weight >= threshold
    items: dict[tuple[str, str], tuple[int, str, str, str]] = {}

    def add(p: int, cat: str, why: str, proposed: str) -> None:
        a, b = int(i[p]), int(j[p])
        pa, pb = str(person[a]), str(person[b])
        key = (min(pa, pb), max(pa, pb)) if pa != pb else (pa, "")
        if key in ruled_apart:  # persons the auditor already ruled apart are not asked again
            return
        old = items.get(key)
        if old is None or (CATEGORY_ORDER[cat], -weight[p]) < (
            CATEGORY_ORDER[old[1]],
            -weight[old[0]],
        ):
            items[key] = (p, cat, why, proposed)

    # Persons the auditor already ruled on are not asked about again.
    ruled_apart: set[tuple[str, str]] = set()
    ruled_same: set[str] = set()
    for (a, b), d in decided.items():
        pa, pb = str(person[a]), str(person[b])
        if d == "same":
            ruled_same.add(pa)
        else:
            ruled_apart.add((min(pa, pb), max(pa, pb)))
    refused = np.fromiter((x[0] for x in cl.refused), np.int64, len(cl.refused))
    whys = [x[1] for x in cl.refused]
    cats = _categories(whys, levels[refused], weight[refused], strong)
    lab = cl.labels
    worth = (cats != "") & (lab[i[refused]] != lab[j[refused]])  # still two persons
    for k in np.flatnonzero(worth).tolist():
        add(int(refused[k]), str(cats[k]), whys[k], "different")
    near = (reasons == "") & ~accept & (weight >= threshold - NEAR_MISS_BITS)
    near &= ~namesakes(levels)
    for p in np.flatnonzero(near & (lab[i] != lab[j])).tolist():
        add(p, "near miss", f"weight {weight[p]:.1f} is just below the threshold", "different")
    # Merges that overrode a constraint (overwhelming evidence) were right in every labelled
    # case: they are counted in summary.json (links_merged_despite_conflict), not queued;
    # so are the links a rule accepted below the threshold (links_below_threshold_by_rule).
    linkable = reasons == ""
    accepted = linkable & accept & (lab[i] == lab[j])  # one label, one person
    bridges = set(weak_bridges(cl, i, j, weight, linkable & accept, strong))
    email_differs = levels[:, Field.EMAIL] == Email.DIFFERENT
    phone_differs = levels[:, Field.PHONE] == Phone.DIFFERENT
    loose = set(weakly_attached(i, j, weight, accepted, email_differs | phone_differs, strong))
    bar = strong + BOTH_CONTACTS_DIFFER_BITS
    both = set(weakly_attached(i, j, weight, accepted, email_differs & phone_differs, bar))
    by_rule = {p for p in loose | both if weight[p] < threshold}
    for p in sorted((bridges | loose | both) - by_rule):
        if str(person[i[p]]) in ruled_same:
            continue
        if p in bridges:
            why = f"one weak link (weight {weight[p]:.1f}) holds this person together"
        elif p in loose:
            why = (
                f"a record is tied to this person only by links below {strong:.0f} bits "
                f"(strongest {weight[p]:.1f})"
            )
        else:
            why = (
                f"a record is tied to this person only by links below {bar:.0f} bits "
                f"(strongest {weight[p]:.1f}) and its email and phone both differ"
            )
        add(p, "weak link", why, "same")
    cols = {c: r[c].to_numpy() for c in SIDE_COLUMNS}
    fps = cols["fingerprint"]
    rows = []
    for p, cat, why, proposed in items.values():
        a, b = int(i[p]), int(j[p])
        if (min(a, b), max(a, b)) in decided:
            continue
        row: dict[str, object] = {
            "item_id": item_id(str(fps[a]), str(fps[b])),
            "category": cat,
            "reason": why,
            "proposed_decision": proposed,
            "weight": round(float(weight[p]), 2),
            "person_id_a": person[a],
            "person_id_b": person[b],
            "evidence": evidence_text(levels[p], wt),
            "records": "",
            "decision": "",
            "note": "",
        }
        for side, k in (("a", a), ("b", b)):
            row.update(_side(cols, k, side))
        rows.append(row)
    q = pd.DataFrame(rows, columns=[c for c in QUEUE_COLUMNS if c != "priority"])
    if q.empty:
        return pd.DataFrame(columns=list(QUEUE_COLUMNS))
    q["_o"] = q["category"].map(CATEGORY_ORDER)
    q = (
        q.sort_values(["_o", "weight", "item_id"], ascending=[True, False, True])
        .drop(columns="_o")
        .reset_index(drop=True)
    )
    q.insert(1, "priority", np.arange(1, len(q) + 1))
    return q[list(QUEUE_COLUMNS)]


#: Record columns an item shows for each side.
SIDE_COLUMNS = (
    "title",
    "first_name",
    "middle_names",
    "last_name",
    "suffix",
    "dob",
    "source_org",
    "row_id",
    "fingerprint",
    "number",
    "email",
    "phone",
    "postcode",
    "address",
)


def _side(cols: dict[str, np.ndarray], k: int, side: str) -> dict[str, object]:
    """One record's columns for an item (``cols``: record columns as numpy, no ``r.at``)."""
    name = " ".join(
        str(x)
        for x in (
            cols["title"][k],
            cols["first_name"][k],
            cols["middle_names"][k],
            cols["last_name"][k],
        )
        if x is not None and x == x
    )
    if cols["suffix"][k]:
        name += f" ({cols['suffix'][k]})"
    dob = int(cols["dob"][k])
    return {
        f"source_org_{side}": cols["source_org"][k],
        f"row_id_{side}": int(cols["row_id"][k]),
        f"fingerprint_{side}": cols["fingerprint"][k],
        f"name_{side}": name,
        f"number_{side}": cols["number"][k] or "",
        f"dob_{side}": f"{dob // 10000:04d}-{dob // 100 % 100:02d}-{dob % 100:02d}" if dob else "",
        f"email_{side}": cols["email"][k] or "",
        f"phone_{side}": cols["phone"][k] or "",
        f"postcode_{side}": cols["postcode"][k] or "",
        f"address_{side}": cols["address"][k] or "",
    }
