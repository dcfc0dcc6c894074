"""Who looks alike on purpose: twins, a father and his "Jr" son, same-name neighbours,
couples (and their grown-up children), shared mailboxes, and numbers one apart.

Each relation copies some columns from one person to another among disjoint free people, and
marks both (``hard_case``, ``related_to``) so a scorer can say which look-alikes a method
confused. The hooks that came with the ``heldout2`` profile live in gen_households.py.
"""

from __future__ import annotations

import gen_households
import numpy as np
import pandas as pd
from gen_contacts import as_str
from gen_lists import load_lists
from gen_settings import LP_HIGH, LP_LOW, REF_DATE, PeopleSettings, not_after

MIN_PAIRS = 4  # even a small sample has a few twins, father/son pairs and namesakes
HOME = ["house", "street", "addr1", "town", "region", "postcode", "landline", "household"]


def relations(p: pd.DataFrame, rng: np.random.Generator, s: PeopleSettings) -> None:
    """Twins, father/"Jr" son, same-name neighbours, then couples, among disjoint people."""
    free = np.ones(len(p), dtype=bool)
    pid = p["person_id"].to_numpy()
    _twins(p, rng, free, pid, s)
    _father_and_son(p, rng, free, pid, s)
    _namesakes(p, rng, free, pid, s.rates)
    if s.profile.birthday_namesakes > 0:  # same first name and birthday, nothing else
        a, b = gen_households.birthday_namesakes(
            p, rng, free, s.profile.birthday_namesakes, take_pairs
        )
        _mark(p, a, b, "birthday", "birthday", pid)
    a, b = _couples(p, rng, free, s.rates, s.fold_dob)
    if s.profile.children > 0:
        _children(p, rng, free, a, b, s.profile.children, s.fold_dob)


def take_pairs(
    rng: np.random.Generator, free: np.ndarray, n_pairs: int, eligible: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint (a, b) index pairs among free people; marks them used."""
    cand = np.flatnonzero(free if eligible is None else free & eligible)
    n_pairs = min(n_pairs, len(cand) // 2)
    pick = rng.permutation(cand)[: 2 * n_pairs]
    free[pick] = False
    return pick[:n_pairs], pick[n_pairs:]


def _twins(
    p: pd.DataFrame, rng: np.random.Generator, free: np.ndarray, pid: np.ndarray, s: PeopleSettings
) -> None:
    """Twins: same DOB, surname and home; different first names."""
    lists = load_lists()
    a, b = take_pairs(rng, free, max(int(len(p) * s.rates["twins"] / 2), MIN_PAIRS))
    _copy(p, a, b, [*HOME, "last_name", "dob", "culture"])
    fi = p["first_idx"].to_numpy()
    same = fi[a] == fi[b]
    for i, j in zip(a[same], b[same], strict=True):  # rare: redraw until the names differ
        pool = lists.first_pools[(lists.first_origin[fi[i]], lists.first_gender[fi[i]])].idx
        choices = pool[pool != fi[i]]
        fi[j] = choices[rng.integers(len(choices))]
        p.iat[j, p.columns.get_loc("first_name")] = lists.first[fi[j]]
    p["first_idx"] = fi
    if s.profile.twin_same_initial > 0:
        gen_households.same_initial_twins(p, rng, a, b, s.profile.twin_same_initial)
    _mark(p, a, b, "twin", "twin", pid)


def _father_and_son(
    p: pd.DataFrame, rng: np.random.Generator, free: np.ndarray, pid: np.ndarray, s: PeopleSettings
) -> None:
    """Father and son: same first/middle/last name, son 20-40 years younger, same home."""
    old = (p["dob"].to_numpy() < np.datetime64("1975-01-01")) & (p["gender"].to_numpy() == "M")
    a, b = take_pairs(rng, free, max(int(len(p) * s.rates["junior"] / 2), MIN_PAIRS), eligible=old)
    a = a[np.isin(a, np.flatnonzero(old))]
    b = b[: len(a)]
    _copy(
        p, a, b, [*HOME, "first_name", "first_idx", "middle_name", "last_name", "culture", "gender"]
    )
    gap = rng.integers(20 * 365, 40 * 365, len(a)).astype("timedelta64[D]")
    son_dob = not_after(
        p["dob"].to_numpy()[a] + gap, REF_DATE - np.timedelta64(17 * 365, "D"), s.fold_dob
    )
    p.iloc[b, p.columns.get_loc("dob")] = son_dob
    p.iloc[b, p.columns.get_loc("suffix")] = "Jr"
    p.iloc[a, p.columns.get_loc("suffix")] = "Sr"
    _mark(p, a, b, "senior", "junior", pid)


def _namesakes(
    p: pd.DataFrame,
    rng: np.random.Generator,
    free: np.ndarray,
    pid: np.ndarray,
    r: dict[str, float],
) -> None:
    """Same-name neighbours: same first and last name, same street and postcode, another house."""
    a, b = take_pairs(rng, free, max(int(len(p) * r["namesake"] / 2), MIN_PAIRS))
    _copy(
        p,
        a,
        b,
        [
            "first_name",
            "first_idx",
            "gender",
            "culture",
            "last_name",
            "street",
            "town",
            "region",
            "postcode",
        ],
    )
    house = p["house"].to_numpy()[a] + rng.integers(1, 12, len(a)) * 2
    p.iloc[b, p.columns.get_loc("house")] = house
    p.iloc[b, p.columns.get_loc("addr1")] = as_str(house) + " " + p["street"].to_numpy()[a]
    _mark(p, a, b, "namesake", "namesake", pid)


def _couples(
    p: pd.DataFrame,
    rng: np.random.Generator,
    free: np.ndarray,
    r: dict[str, float],
    fold_dob: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Couples (a, b): same home and landline; often the same surname; some joined together.

    Mostly a man and a woman; the woman is b, the one who may have taken the other's surname."""
    lists = load_lists()
    n_couples = int(len(p) * r["couple"] / 2)
    g = p["gender"].to_numpy()
    n_same = int(n_couples * 0.08)
    a1, b1 = take_pairs(rng, free, n_same)
    men, women = np.flatnonzero(free & (g == "M")), np.flatnonzero(free & (g == "F"))
    k = min(n_couples - len(a1), len(men), len(women))
    a2, b2 = rng.choice(men, k, replace=False), rng.choice(women, k, replace=False)
    free[a2] = free[b2] = False
    a, b = np.concatenate([a1, a2]), np.concatenate([b1, b2])
    _copy(p, a, b, HOME)
    p.iloc[a, p.columns.get_loc("partner")] = b
    p.iloc[b, p.columns.get_loc("partner")] = a
    dob_b = p["dob"].to_numpy()[a] + rng.normal(0, 4 * 365, len(a)).astype("timedelta64[D]")
    p.iloc[b, p.columns.get_loc("dob")] = not_after(
        dob_b, REF_DATE - np.timedelta64(17 * 365, "D"), fold_dob
    )
    same_name = rng.random(len(a)) < r["couple_same_surname"]
    changed = same_name & (rng.random(len(a)) < r["married_name"])
    last = p["last_name"].to_numpy()
    p.iloc[b[changed], p.columns.get_loc("maiden_name")] = last[b[changed]]
    taken = last[a[same_name]]
    fem = {
        name: lists.last[lists.last_fem[i]]
        for i, name in enumerate(lists.last)
        if lists.last_fem[i] != i
    }
    women = g[b[same_name]] == "F"
    taken[women] = np.array([fem.get(x, x) for x in taken[women]], dtype=object)
    p.iloc[b[same_name], p.columns.get_loc("last_name")] = taken
    consec = rng.random(len(a)) < r["couple_consecutive_lp"]
    lp = p["lp"].to_numpy()
    lp[b[consec]] = np.minimum(lp[a[consec]] + 1, LP_HIGH - 1)
    _unique_numbers(lp, rng)
    p["lp"] = lp
    return a, b


def _children(
    p: pd.DataFrame,
    rng: np.random.Generator,
    free: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    share: float,
    fold_dob: bool,
) -> None:
    """Grown-up children at home: 1-3 for a ``share`` of couples (households of 3-5).

    A child shares the home (address, landline, household), the first partner's surname and
    culture, and is born 20-38 years after the second partner; first names are their own.
    """
    with_kids = np.flatnonzero(rng.random(len(a)) < share)
    counts = rng.integers(1, 4, len(with_kids))
    parent = np.repeat(with_kids, counts)
    pool = rng.permutation(np.flatnonzero(free))[: len(parent)]
    parent = parent[: len(pool)]
    free[pool] = False
    _copy(p, a[parent], pool, [*HOME, "last_name", "culture"])
    gap = rng.integers(20 * 365, 38 * 365, len(pool)).astype("timedelta64[D]")
    born = not_after(
        p["dob"].to_numpy()[b[parent]] + gap, REF_DATE - np.timedelta64(18 * 365, "D"), fold_dob
    )
    p.iloc[pool, p.columns.get_loc("dob")] = born
    p.iloc[pool, p.columns.get_loc("maiden_name")] = ""
    pid = p["person_id"].to_numpy()
    p.iloc[pool, p.columns.get_loc("hard_case")] = "child"
    p.iloc[pool, p.columns.get_loc("related_to")] = pid[a[parent]]


def couple_email(p: pd.DataFrame, rng: np.random.Generator, r: dict[str, float]) -> None:
    """A few couples share one mailbox: household evidence, not person evidence."""
    partner = p["partner"].to_numpy()
    a = np.flatnonzero((partner >= 0) & (np.arange(len(p)) < partner))
    a = a[rng.random(len(a)) < r["couple_shared_email"]]
    email = p["email"].to_numpy()
    email[partner[a]] = email[a]
    p["email"] = email


def family_email(p: pd.DataFrame, rng: np.random.Generator, share: float) -> None:
    """A ``share`` of multi-person households use one family mailbox (the first member's)."""
    household = p["household"].to_numpy()
    sizes = np.bincount(household, minlength=len(p))
    homes = np.flatnonzero(sizes >= 2)
    chosen = homes[rng.random(len(homes)) < share]
    first = np.full(len(p), -1)
    members = np.flatnonzero(np.isin(household, chosen))
    order = members[np.argsort(household[members], kind="stable")]
    h = household[order]
    starts = np.r_[True, h[1:] != h[:-1]]
    first[h[starts]] = order[starts]
    email = p["email"].to_numpy()
    email[members] = email[first[household[members]]]
    p["email"] = email


def _unique_numbers(lp: np.ndarray, rng: np.random.Generator) -> None:
    """Give a fresh unused number to any later holder of a duplicated one (in place)."""
    dup = pd.Series(lp).duplicated().to_numpy()
    while dup.any():
        lp[dup] = rng.integers(LP_LOW, LP_HIGH, dup.sum())
        dup = pd.Series(lp).duplicated().to_numpy()


def _copy(p: pd.DataFrame, a: np.ndarray, b: np.ndarray, cols: list[str]) -> None:
    for c in cols:
        p.iloc[b, p.columns.get_loc(c)] = p[c].to_numpy()[a]


def _mark(p: pd.DataFrame, a: np.ndarray, b: np.ndarray, ka: str, kb: str, pid: np.ndarray) -> None:
    p.iloc[a, p.columns.get_loc("hard_case")] = ka
    p.iloc[b, p.columns.get_loc("hard_case")] = kb
    p.iloc[a, p.columns.get_loc("related_to")] = pid[b]
    p.iloc[b, p.columns.get_loc("related_to")] = pid[a]
