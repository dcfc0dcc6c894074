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

from dedupe.cluster import ADDR, DOB, EMAIL, FIRST, LAST, NUM, PC, PHONE, SUFFIX, Clustering
from dedupe.compare import COMPARISONS

#: Triage order of queue categories (lower first).
CATEGORY_ORDER = {
    "number conflict": 0,
    "date of birth conflict": 1,
    "number without name": 2,
    "name conflict": 3,
    "cluster conflict": 4,
    "weak link": 5,
    "near miss": 6,
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
    return (
        (levels[:, LAST] == 4)
        & np.isin(levels[:, FIRST], (1, 2, 3))
        & (levels[:, EMAIL] != 1)
        & (levels[:, PHONE] != 1)
    )


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


def _category(reason: str, lv: np.ndarray, w: float, strong: float) -> str | None:
    """Queue category of a refused pair, or None when it is plainly two people.

    Measured on labelled synthetic exports: refusals whose only other agreement is a shared
    email or postcode are namesakes 98 % of the time, so they are counted, not queued; a
    shared *mobile*, two shared contacts, or a DOB plus a shared contact is worth the
    auditor's look. An initial ("S. Dhillon") counts as a compatible first name here: a
    refusal is only a question, and a hard constraint must not split silently a person whose
    identifiers are corrupted in several places (at 200k rows every refused pair with
    compatible names, no DOB conflict and two shared contacts was one person).
    """
    first_ok = lv[FIRST] in (1, 2, 3)
    names_ok = (first_ok or lv[FIRST] == 4) and lv[LAST] in (1, 2, 3)
    contact = lv[EMAIL] == 1 or lv[PHONE] == 1 or lv[ADDR] == 1 or lv[PC] == 1
    n_contacts = int(lv[EMAIL] == 1) + int(lv[PHONE] == 1) + int(lv[ADDR] == 1 or lv[PC] == 1)
    if reason.startswith("membership numbers"):
        plausible = lv[DOB] in (0, 1, 2) and lv[SUFFIX] < 2
        strong_other = lv[PHONE] == 1 or (lv[DOB] == 1 and contact) or n_contacts >= 2
        renamed = first_ok and lv[DOB] == 1 and n_contacts >= 2  # a new surname and a typo
        return "number conflict" if plausible and ((names_ok and strong_other) or renamed) else None
    if reason.startswith("dates of birth"):
        return (
            "date of birth conflict"
            if names_ok and lv[NUM] in (0, 1, 2) and (lv[PHONE] == 1 or lv[EMAIL] == 1)
            else None
        )
    if reason.startswith("number agrees"):
        return (
            "number without name" if lv[NUM] == 1 and (lv[EMAIL] == 1 or lv[PHONE] == 1) else None
        )
    if reason.startswith("first names"):
        same_otherwise = lv[LAST] == 1 and lv[EMAIL] == 1 and lv[DOB] == 1
        return "name conflict" if (lv[NUM] in (1, 2) and w >= strong) or same_otherwise else None
    if reason.startswith("Jr"):
        household = first_ok and lv[LAST] in (1, 2, 3) and (lv[EMAIL] == 1 or n_contacts >= 2)
        return "name conflict" if (lv[NUM] in (1, 2) and w >= strong) or household else None
    if reason.startswith("would join"):
        return (
            "cluster conflict"
            if w >= strong and first_ok and lv[LAST] in (1, 2, 3) and (lv[NUM] == 1 or lv[DOB] == 1)
            else None
        )
    return None


def weak_bridges(
    cl: Clustering,
    i: np.ndarray,
    j: np.ndarray,
    weight: np.ndarray,
    linkable: np.ndarray,
    threshold: float,
    strong: float,
) -> list[int]:
    """Merges below ``strong`` that alone hold their person together (graph bridges)."""
    weak = [p for p, _ra, _rb, how in cl.merges if how == "model" and weight[p] < strong]
    if not weak:
        return []
    lab = cl.labels
    ok = linkable & (weight >= threshold) & (lab[i] == lab[j])
    edges: dict[int, list[int]] = defaultdict(list)
    for p in np.flatnonzero(ok).tolist():
        edges[int(lab[i[p]])].append(p)
    out = []
    for p in weak:
        adj: dict[int, list[int]] = defaultdict(list)
        for q in edges[int(lab[i[p]])]:
            if q != p:
                adj[int(i[q])].append(int(j[q]))
                adj[int(j[q])].append(int(i[q]))
        seen, stack, target = {int(i[p])}, [int(i[p])], int(j[p])
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
) -> pd.DataFrame:
    """One row per item for the auditor (strongest pair per pair of persons), triaged."""
    items: dict[tuple[str, str], tuple[int, str, str, str]] = {}

    def add(p: int, cat: str, why: str, proposed: str) -> None:
        a, b = int(i[p]), int(j[p])
        pa, pb = str(person[a]), str(person[b])
        key = (min(pa, pb), max(pa, pb)) if pa != pb else (pa, "")
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
    for p, why in cl.refused:
        pa, pb = str(person[i[p]]), str(person[j[p]])
        if pa == pb or (min(pa, pb), max(pa, pb)) in ruled_apart:
            continue
        cat = _category(why, levels[p], float(weight[p]), strong)
        if cat:
            add(p, cat, why, "different")
    near = (reasons == "") & (weight < threshold) & (weight >= threshold - NEAR_MISS_BITS)
    near &= ~namesakes(levels)
    for p in np.flatnonzero(near & (person[i] != person[j])).tolist():
        pa, pb = str(person[i[p]]), str(person[j[p]])
        if (min(pa, pb), max(pa, pb)) not in ruled_apart:
            add(p, "near miss", f"weight {weight[p]:.1f} is just below the threshold", "different")
    # Merges that overrode a constraint (overwhelming evidence) were right in every labelled
    # case: they are counted in summary.json (links_merged_despite_conflict), not queued.
    linkable = reasons == ""
    accepted = linkable & (weight >= threshold) & (person[i] == person[j])
    bridges = set(weak_bridges(cl, i, j, weight, linkable, threshold, strong))
    email_differs, phone_differs = levels[:, EMAIL] == 3, levels[:, PHONE] == 2
    loose = set(weakly_attached(i, j, weight, accepted, email_differs | phone_differs, strong))
    bar = strong + BOTH_CONTACTS_DIFFER_BITS
    both = set(weakly_attached(i, j, weight, accepted, email_differs & phone_differs, bar))
    for p in sorted(bridges | loose | both):
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
    rows = []
    for p, cat, why, proposed in items.values():
        a, b = int(i[p]), int(j[p])
        if (min(a, b), max(a, b)) in decided:
            continue
        row: dict[str, object] = {
            "item_id": item_id(r.at[a, "fingerprint"], r.at[b, "fingerprint"]),
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
            row.update(_side(r, k, side))
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


def _side(r: pd.DataFrame, k: int, side: str) -> dict[str, object]:
    name = " ".join(
        str(x)
        for x in (
            r.at[k, "title"],
            r.at[k, "first_name"],
            r.at[k, "middle_names"],
            r.at[k, "last_name"],
        )
        if x is not None and x == x
    )
    if r.at[k, "suffix"]:
        name += f" ({r.at[k, 'suffix']})"
    dob = int(r.at[k, "dob"])
    return {
        f"source_org_{side}": r.at[k, "source_org"],
        f"row_id_{side}": int(r.at[k, "row_id"]),
        f"fingerprint_{side}": r.at[k, "fingerprint"],
        f"name_{side}": name,
        f"number_{side}": r.at[k, "number"] or "",
        f"dob_{side}": f"{dob // 10000:04d}-{dob // 100 % 100:02d}-{dob % 100:02d}" if dob else "",
        f"email_{side}": r.at[k, "email"] or "",
        f"phone_{side}": r.at[k, "phone"] or "",
        f"postcode_{side}": r.at[k, "postcode"] or "",
        f"address_{side}": r.at[k, "address"] or "",
    }
