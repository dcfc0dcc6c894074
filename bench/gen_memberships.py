"""Who is on which roll: each person's organisations, duplicates within a roll, and file order.

People are on 1-5 rolls (``MEMBERSHIP_COUNTS``), chosen by each organisation's weight and its
age affinity (a youth wing draws the young), then every file is shuffled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from gen_orgs import OrgStyle
from gen_settings import REF_DATE

MEMBERSHIP_COUNTS = [0.50, 0.27, 0.13, 0.07, 0.03]  # people on 1, 2, 3, 4, 5+ rolls


def assign_memberships(
    persons: pd.DataFrame,
    styles: list[OrgStyle],
    rng: np.random.Generator,
    n_rows: int,
    dup_rate: float,
) -> pd.DataFrame:
    """Exactly ``n_rows`` (person, org) rows in file order, people on 1–5 rolls, with duplicates."""
    n, k = len(persons), len(styles)
    age = (REF_DATE - persons["dob"].to_numpy().astype("datetime64[D]")).astype(int) / 365.25
    w = np.tile(np.array([s.weight for s in styles]), (n, 1))
    for j, s in enumerate(styles):
        if s.age_affinity == "young":
            w[:, j] *= np.where(age < 30, 5.0, 0.12)
        elif s.age_affinity == "working":
            w[:, j] *= np.where((age > 24) & (age < 66), 1.3, 0.4)
        elif s.age_affinity == "older":
            w[:, j] *= np.where(age > 50, 1.5, 0.7)
    m = rng.choice(np.arange(1, k + 1), n, p=membership_count_probs(k))
    keys = np.log(w) + rng.gumbel(size=(n, k))  # Gumbel top-m = weighted draw without replacement
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    person, org = np.nonzero(rank < m[:, None])
    dup = rng.random(len(person)) < dup_rate
    person = np.concatenate([person, person[dup]])
    org = np.concatenate([org, org[dup]])
    if len(person) > n_rows:
        keep = np.sort(rng.choice(len(person), n_rows, replace=False))
        person, org = person[keep], org[keep]
    while len(person) < n_rows:  # only for tiny inputs: top up with more duplicates
        extra = rng.integers(0, len(person), n_rows - len(person))
        person, org = np.concatenate([person, person[extra]]), np.concatenate([org, org[extra]])
    order = np.lexsort((rng.random(n_rows), org))  # by org, shuffled inside each file
    rows = pd.DataFrame({"person": person[order], "org": org[order]})
    rows["row_id"] = rows.groupby("org").cumcount() + 1
    rows["within_org_dup"] = rows.duplicated(["org", "person"]).to_numpy()
    return rows


def membership_count_probs(k: int) -> np.ndarray:
    """P(on 1 roll), … P(on k rolls): MEMBERSHIP_COUNTS cut (or zero-padded) to k organisations."""
    c = np.zeros(k)
    base = np.array(MEMBERSHIP_COUNTS)
    c[: min(k, len(base))] = base[:k]
    c[-1] += base[k:].sum()
    return c / c.sum()
