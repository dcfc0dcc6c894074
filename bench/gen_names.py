"""Who the people are called: culture, gender, first, middle and last names.

Names are drawn by culture and gender from the real name pools (gen_lists.py), under the
profile's name ranking and skew (gen_profile.py), column-wise with numpy; only the few
double-barrelled surnames go through a Python loop.
"""

from __future__ import annotations

import numpy as np
from gen_lists import CULTURES, load_lists
from gen_profile import Profile


def people_names(
    rng: np.random.Generator, n: int, rates: dict[str, float], profile: Profile
) -> dict[str, np.ndarray]:
    """Culture, gender and names of n people (columns of the person table)."""
    lists = load_lists()
    names = list(CULTURES)
    shares = np.array([CULTURES[c][0] for c in names])
    culture = np.array(names, dtype=object)[rng.choice(len(names), n, p=shares / shares.sum())]
    gender = rng.choice(np.array(["F", "M", "X"], dtype=object), n, p=[0.52, 0.47, 0.01])
    name_gender = np.where(gender == "X", rng.choice(np.array(["F", "M"], dtype=object), n), gender)
    fi, li = draw_names(rng, culture, name_gender, profile)
    mi, _ = draw_names(rng, culture, name_gender, profile)
    first, last = lists.first[fi].copy(), lists.last[li].copy()
    middle = np.where(rng.random(n) < rates["middle_name"], lists.first[mi], "").astype(object)
    middle[middle == first] = ""
    dbl = np.flatnonzero(rng.random(n) < rates["double_barrelled"])
    british = lists.last_pools["british"]  # the second half is usually an English name
    other = lists.last[rng.choice(british.idx, len(dbl), p=british.p)]
    last[dbl] = np.array(
        [a if a == b else f"{a}-{b}" for a, b in zip(last[dbl], other, strict=True)], dtype=object
    )
    return {
        "culture": culture,
        "gender": gender,
        "first_name": first,
        "first_idx": fi,
        "middle_name": middle,
        "last_name": last,
    }


def draw_names(
    rng: np.random.Generator, culture: np.ndarray, gender: np.ndarray, profile: Profile
) -> tuple[np.ndarray, np.ndarray]:
    """First-name and surname indices, by culture and gender (some cultures mix British names).

    Women bear the feminine form of a Polish -ski/-cki surname (Kowalska)."""
    lists = load_lists()
    first = np.zeros(len(culture), dtype=np.int64)
    last = np.zeros(len(culture), dtype=np.int64)
    for c, (_, origin, native, sur_origin, sur_native) in CULTURES.items():
        in_c = culture == c
        for g in ("F", "M"):
            rows = np.flatnonzero(in_c & (gender == g))
            if not len(rows):
                continue
            use_native = rng.random(len(rows)) < native
            for flag, org in ((True, origin), (False, "british")):
                sub = rows[use_native == flag]
                pool = lists.first_pools[(org, g)]
                first[sub] = rng.choice(pool.idx, size=len(sub), p=profiled(pool.p, profile))
        rows = np.flatnonzero(in_c)
        use_native = rng.random(len(rows)) < sur_native
        for flag, org in ((True, sur_origin), (False, "british")):
            sub = rows[use_native == flag]
            pool = lists.last_pools[org]
            last[sub] = rng.choice(pool.idx, size=len(sub), p=profiled(pool.p, profile))
    women = gender == "F"
    last[women] = lists.last_fem[last[women]]
    return first, last


def profiled(p: np.ndarray, profile: Profile) -> np.ndarray:
    """A pool's draw probabilities under ``profile``: weights handed ``name_rotation`` places
    down the ranking (the old top names become rare), then raised to ``name_skew``."""
    if profile.name_skew == 1.0 and profile.name_rotation == 0:
        return p
    order = np.argsort(-p, kind="stable")
    w = np.empty_like(p)
    w[order] = np.roll(p[order], profile.name_rotation)
    w = w**profile.name_skew
    out: np.ndarray = w / w.sum()
    return out
