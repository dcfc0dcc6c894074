"""The true person table: who exists, where they live, and which of them look alike on purpose.

Why a separate step: every organisation's export is a noisy *view* of this table, so the hidden
truth is exact by construction. Everything is drawn column-wise with numpy (no per-person Python
loop except on small subsets such as double-barrelled surnames).
"""

from __future__ import annotations

import gen_households
import numpy as np
import pandas as pd
from gen_lists import (
    CULTURES,
    EMAIL_DOMAIN_W,
    EMAIL_DOMAINS,
    STREET_TYPE_W,
    STREET_TYPES,
    UNIT_CODES,
    UNIT_STEP,
    ascii_fold,
    load_lists,
)
from gen_profile import Profile

REF_DATE = np.datetime64("2026-11-01")
# Reflect out-of-range ages instead of clipping them (see _fold); generate.py --no-fold-dob
# gives the old clipped draws back (they pile birthdays on one date).
FOLD_DOB = True
#: The distributions people are drawn from (set by generate.py; see gen_profile.py).
PROFILE = Profile()
LP_LOW, LP_HIGH = 100_000, 10_000_000  # 7 digits shown zero-padded: 0100000 … 9999999
MIN_PAIRS = 4  # even a small sample has a few twins, father/son pairs and namesakes

PERSON_RATES: dict[str, float] = {
    "no_lp": 0.025,  # the person's number is known to no organisation
    "middle_name": 0.30,
    "double_barrelled": 0.025,
    "couple": 0.34,  # share of people living with a partner (same address and landline)
    "couple_same_surname": 0.55,
    "married_name": 0.45,  # of same-surname couples: one partner changed name (maiden on file)
    "couple_consecutive_lp": 0.20,  # joined together: numbers one apart
    "couple_shared_email": 0.06,
    "twins": 0.005,
    "junior": 0.004,  # father and son with the same name at one address ("Jr")
    "namesake": 0.003,  # same first and last name living on the same street
    "moved": 0.12,
    "email_changed": 0.15,
    "phone_changed": 0.08,
    "landline": 0.40,
    "mobile": 0.92,
    "flat": 0.12,
}


def _s(a: np.ndarray) -> np.ndarray:
    """Integers to an object array of str, so ``+`` concatenates element-wise."""
    return a.astype(str).astype(object)


def _draw_names(
    rng: np.random.Generator, culture: np.ndarray, gender: np.ndarray
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
                first[sub] = rng.choice(pool.idx, size=len(sub), p=_profiled(pool.p))
        rows = np.flatnonzero(in_c)
        use_native = rng.random(len(rows)) < sur_native
        for flag, org in ((True, sur_origin), (False, "british")):
            sub = rows[use_native == flag]
            pool = lists.last_pools[org]
            last[sub] = rng.choice(pool.idx, size=len(sub), p=_profiled(pool.p))
    women = gender == "F"
    last[women] = lists.last_fem[last[women]]
    return first, last


def _profiled(p: np.ndarray) -> np.ndarray:
    """A pool's draw probabilities under ``PROFILE``: weights handed ``name_rotation`` places
    down the ranking (the old top names become rare), then raised to ``name_skew``."""
    if PROFILE.name_skew == 1.0 and PROFILE.name_rotation == 0:
        return p
    order = np.argsort(-p, kind="stable")
    w = np.empty_like(p)
    w[order] = np.roll(p[order], PROFILE.name_rotation)
    w = w**PROFILE.name_skew
    out: np.ndarray = w / w.sum()
    return out


def _key(names: np.ndarray) -> np.ndarray:
    """Lower-case ASCII local-part fragment of each name (for e-mail addresses)."""
    uniq, inv = np.unique(names.astype(str), return_inverse=True)
    keys = np.array(
        [ascii_fold(u).lower().replace("'", "").replace(" ", "").replace("-", "") for u in uniq],
        dtype=object,
    )
    return keys[inv]


def _emails(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, dob_year: np.ndarray
) -> np.ndarray:
    """E-mail addresses in the patterns people really use (first.last, flast, first87 …)."""
    n = len(first)
    fk, lk = _key(first), _key(last)
    num = _s(rng.integers(1, 100, n))
    yr = _s(dob_year % 100)
    init = np.array([k[:1] for k in fk], dtype=object)
    linit = np.array([k[:1] for k in lk], dtype=object)
    patterns = [  # built only for the rows that use them (memory at 1M rows)
        lambda i: fk[i] + "." + lk[i],
        lambda i: fk[i] + lk[i],
        lambda i: fk[i] + "." + lk[i] + num[i],
        lambda i: init[i] + lk[i],
        lambda i: fk[i] + "_" + lk[i],
        lambda i: lk[i] + init[i] + num[i],
        lambda i: fk[i] + num[i],
        lambda i: fk[i] + linit[i],
        lambda i: lk[i] + "." + fk[i],
        lambda i: fk[i] + lk[i] + yr[i],
    ]
    which = rng.choice(
        len(patterns), size=n, p=[0.24, 0.1, 0.1, 0.1, 0.08, 0.08, 0.1, 0.05, 0.05, 0.1]
    )
    local = np.empty(n, dtype=object)
    for k, make in enumerate(patterns):
        rows = np.flatnonzero(which == k)
        local[rows] = make(rows)
    domain = rng.choice(EMAIL_DOMAINS, size=n, p=EMAIL_DOMAIN_W / EMAIL_DOMAIN_W.sum())
    email = local + "@" + domain
    dup = pd.Series(email).duplicated().to_numpy()
    if dup.any():  # two different people never own one mailbox by accident
        email[dup] = local[dup] + _s(rng.integers(100, 1000, dup.sum())) + "@" + domain[dup]
    return email


def _fold(x: np.ndarray, low: float, high: float, fold: bool) -> np.ndarray:
    """Reflect values outside [low, high] back inside (no new random draws).

    Why not np.clip: clipping piles every out-of-range draw onto one value, so thousands of
    unrelated people shared the birthday exactly 30 years before REF_DATE and same-name
    strangers then matched on name + DOB, which real member lists do not do."""
    if not fold:
        return np.clip(x, low, high)
    x = np.where(x < low, 2 * low - x, x)
    x = np.where(x > high, 2 * high - x, x)
    return np.clip(x, low, high)  # only for draws more than a whole range away (never seen)


def _not_after(d: np.ndarray, cap: np.datetime64, fold: bool) -> np.ndarray:
    """Dates later than cap reflected to before it (np.minimum would pile them on cap)."""
    if not fold:
        return np.minimum(d, cap)
    d = np.asarray(d).astype("datetime64[D]")
    cap = np.datetime64(cap, "D")
    return np.where(d > cap, cap - (d - cap), d)


def mailbox_key(email: str) -> str:
    """The mailbox an address delivers to (as dedupe/normalise.py reads it): lower case,
    googlemail = gmail, and Gmail ignores dots and +tags in the local part."""
    local, _, dom = email.strip().lower().partition("@")
    if dom in ("gmail.com", "googlemail.com"):
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    return local + "@" + dom


def _own_mailboxes(p: pd.DataFrame) -> None:
    """Make every mailbox (current or old) belong to one household.

    Why: the name+number patterns collide by accident (two unrelated Anne Carters both got
    anne.carter401@gmail.com; stephanie.butler@ and stephaniebutler@gmail.com are one Gmail
    mailbox), and a shared mailbox is strong evidence in dedupe: real exports never give one
    person's account to a stranger. The first holder (current addresses first, in person
    order) keeps it; a later holder from another household gets the lowest free number
    appended. Deterministic and draws no random numbers, so data without collisions is
    unchanged byte for byte."""
    n = len(p)
    household = p["household"].to_numpy()
    cols = {c: p[c].to_numpy().copy() for c in ("email", "old_email")}
    vals = np.concatenate([cols["email"], cols["old_email"]])
    hh = np.concatenate([household, household])
    has = vals != ""
    keys = np.full(len(vals), "", dtype=object)
    keys[has] = [mailbox_key(v) for v in vals[has]]
    k = pd.Series(keys[has])
    owner = pd.Series(hh[has]).groupby(k.to_numpy()).transform("first").to_numpy()
    bad = np.flatnonzero(has)[owner != hh[has]]
    if not len(bad):
        return
    taken = set(k.tolist())
    for pos in bad:  # ascending: current addresses first, then old ones, in person order
        col, i = ("email", pos) if pos < n else ("old_email", pos - n)
        local, _, dom = vals[pos].partition("@")
        j = 2
        while mailbox_key(f"{local}{j}@{dom}") in taken:
            j += 1
        new = f"{local}{j}@{dom}"
        taken.add(mailbox_key(new))
        cols[col][i] = new
    for c, v in cols.items():
        p[c] = v


def _addresses(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """n independent UK-style addresses: real postcode sectors, drawn in proportion to their
    residential postcode units (a proxy for households), with the district's post town and
    dialling code. A sector with k units uses k distinct unit codes (as the real one does), so
    full postcodes are about as many, and as crowded, as the UK's ~1.7 M."""
    lists = load_lists()
    sector = rng.choice(len(lists.sector_p), size=n, p=lists.sector_p)
    unit = (rng.random(n) * lists.sector_units[sector]).astype(np.int64)
    code = UNIT_CODES[(lists.sector_offset[sector] + unit * UNIT_STEP) % len(UNIT_CODES)]
    town = lists.sector_district[sector]  # district index: town, region, std are per district
    inward = lists.sector_digit[sector] + code
    street = (
        rng.choice(lists.street, size=n, p=lists.street_p)
        + " "
        + rng.choice(STREET_TYPES, size=n, p=STREET_TYPE_W / STREET_TYPE_W.sum())
    )
    house = np.minimum(rng.geometric(1 / 60, n), 400)
    flat = rng.random(n) < PERSON_RATES["flat"]
    addr1 = _s(house) + " " + street
    addr1[flat] = "Flat " + _s(rng.integers(1, 30, flat.sum())) + ", " + addr1[flat]
    std = lists.std[town]
    sub_len = 11 - np.array([len(s) for s in lists.std])[town]
    subscriber = rng.integers(2 * 10**7, 10**8, n)  # 8 digits, cut to the code's length
    landline = std + np.array(
        [str(s)[:k] for s, k in zip(subscriber, sub_len, strict=True)], dtype=object
    )
    return {
        "house": house,
        "street": street,
        "addr1": addr1,
        "town": lists.town[town],
        "region": lists.region[town],
        "postcode": lists.district[town] + " " + inward,
        "landline": landline,
    }


def _mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    return "07" + _s(rng.integers(3, 10, n)) + _s(rng.integers(10**7, 10**8, n))


def _take_pairs(
    rng: np.random.Generator, free: np.ndarray, n_pairs: int, eligible: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint (a, b) index pairs among free people; marks them used."""
    cand = np.flatnonzero(free if eligible is None else free & eligible)
    n_pairs = min(n_pairs, len(cand) // 2)
    pick = rng.permutation(cand)[: 2 * n_pairs]
    free[pick] = False
    return pick[:n_pairs], pick[n_pairs:]


def make_persons(
    n: int, rng: np.random.Generator, rates: dict[str, float] | None = None
) -> pd.DataFrame:
    """The true people: names, DOB, number, contacts, old contacts, and the look-alike relations."""
    r = dict(PERSON_RATES, **(rates or {}))
    lists = load_lists()
    names = list(CULTURES)
    shares = np.array([CULTURES[c][0] for c in names])
    culture = np.array(names, dtype=object)[rng.choice(len(names), n, p=shares / shares.sum())]
    gender = rng.choice(np.array(["F", "M", "X"], dtype=object), n, p=[0.52, 0.47, 0.01])
    name_gender = np.where(gender == "X", rng.choice(np.array(["F", "M"], dtype=object), n), gender)
    fi, li = _draw_names(rng, culture, name_gender)
    mi, _ = _draw_names(rng, culture, name_gender)
    first, last = lists.first[fi].copy(), lists.last[li].copy()
    middle = np.where(rng.random(n) < r["middle_name"], lists.first[mi], "").astype(object)
    middle[middle == first] = ""
    dbl = np.flatnonzero(rng.random(n) < r["double_barrelled"])
    british = lists.last_pools["british"]  # the second half is usually an English name
    other = lists.last[rng.choice(british.idx, len(dbl), p=british.p)]
    last[dbl] = np.array(
        [a if a == b else f"{a}-{b}" for a, b in zip(last[dbl], other, strict=True)], dtype=object
    )
    young = rng.random(n) < PROFILE.young_share
    age_days = (
        np.where(
            young,
            rng.uniform(16, 30, n),
            _fold(rng.normal(PROFILE.age_mean, PROFILE.age_sd, n), 30, 97, FOLD_DOB),
        )
        * 365.25
    )
    dob = (REF_DATE - age_days.astype("timedelta64[D]")).astype("datetime64[D]")
    lp = rng.choice(LP_HIGH - LP_LOW, size=n, replace=False).astype(np.int64) + LP_LOW
    p = pd.DataFrame(
        {
            "person_id": np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), 7)).astype(
                object
            ),
            "culture": culture,
            "gender": gender,
            "first_name": first,
            "first_idx": fi,
            "middle_name": middle,
            "last_name": last,
            "maiden_name": "",
            "suffix": "",
            "dob": dob,
            "lp": lp,
        }
    )
    addr = _addresses(rng, n)
    for k, v in addr.items():
        p[k] = v
    p["landline"] = np.where(rng.random(n) < r["landline"], p["landline"], "")
    p["mobile"] = np.where(rng.random(n) < r["mobile"], _mobiles(rng, n), "")
    p["household"] = np.arange(n)
    p["hard_case"] = ""
    p["related_to"] = ""
    p["partner"] = -1
    _relations(p, rng, r)
    p["email"] = _emails(
        rng,
        p["first_name"].to_numpy(),
        p["last_name"].to_numpy(),
        p["dob"].to_numpy().astype("datetime64[Y]").astype(int) + 1970,
    )
    _couple_email(p, rng, r)
    own = None  # a family-mailbox member's own address (heldout2: gen_households.py)
    if PROFILE.family_email > 0 and PROFILE.family_email_name == "first":
        _family_email(p, rng, PROFILE.family_email)
    elif PROFILE.family_email > 0:
        own = gen_households.family_mailboxes(p, rng, PROFILE.family_email)
    moved = None
    if PROFILE.renamed_moved > 0:
        moved = gen_households.renamed_moves(p, rng, PROFILE.renamed_moved)
    _history(p, rng, r, moved)
    if own is not None or moved is not None:
        gen_households.after_history(p, rng, own, PROFILE.family_email_keep_own, moved, _emails)
    _own_mailboxes(p)
    p.loc[rng.random(n) < r["no_lp"], "lp"] = -1
    return p


def _copy(p: pd.DataFrame, a: np.ndarray, b: np.ndarray, cols: list[str]) -> None:
    for c in cols:
        p.iloc[b, p.columns.get_loc(c)] = p[c].to_numpy()[a]


HOME = ["house", "street", "addr1", "town", "region", "postcode", "landline", "household"]


def _relations(p: pd.DataFrame, rng: np.random.Generator, r: dict[str, float]) -> None:
    """Twins, father/"Jr" son, same-name neighbours, then couples, among disjoint people."""
    n = len(p)
    lists = load_lists()
    free = np.ones(n, dtype=bool)
    pid = p["person_id"].to_numpy()
    # Twins: same DOB, surname and home; different first names.
    a, b = _take_pairs(rng, free, max(int(n * r["twins"] / 2), MIN_PAIRS))
    _copy(p, a, b, [*HOME, "last_name", "dob", "culture"])
    fi = p["first_idx"].to_numpy()
    same = fi[a] == fi[b]
    for i, j in zip(a[same], b[same], strict=True):  # rare: redraw until the names differ
        pool = lists.first_pools[(lists.first_origin[fi[i]], lists.first_gender[fi[i]])].idx
        choices = pool[pool != fi[i]]
        fi[j] = choices[rng.integers(len(choices))]
        p.iat[j, p.columns.get_loc("first_name")] = lists.first[fi[j]]
    p["first_idx"] = fi
    if PROFILE.twin_same_initial > 0:
        gen_households.same_initial_twins(p, rng, a, b, PROFILE.twin_same_initial)
    _mark(p, a, b, "twin", "twin", pid)
    # Father and son: same first/middle/last name, son 20-40 years younger, same home.
    old = (p["dob"].to_numpy() < np.datetime64("1975-01-01")) & (p["gender"].to_numpy() == "M")
    a, b = _take_pairs(rng, free, max(int(n * r["junior"] / 2), MIN_PAIRS), eligible=old)
    a = a[np.isin(a, np.flatnonzero(old))]
    b = b[: len(a)]
    _copy(
        p, a, b, [*HOME, "first_name", "first_idx", "middle_name", "last_name", "culture", "gender"]
    )
    gap = rng.integers(20 * 365, 40 * 365, len(a)).astype("timedelta64[D]")
    son_dob = _not_after(
        p["dob"].to_numpy()[a] + gap, REF_DATE - np.timedelta64(17 * 365, "D"), FOLD_DOB
    )
    p.iloc[b, p.columns.get_loc("dob")] = son_dob
    p.iloc[b, p.columns.get_loc("suffix")] = "Jr"
    p.iloc[a, p.columns.get_loc("suffix")] = "Sr"
    _mark(p, a, b, "senior", "junior", pid)
    # Same-name neighbours: same first and last name, same street and postcode, another house.
    a, b = _take_pairs(rng, free, max(int(n * r["namesake"] / 2), MIN_PAIRS))
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
    p.iloc[b, p.columns.get_loc("addr1")] = _s(house) + " " + p["street"].to_numpy()[a]
    _mark(p, a, b, "namesake", "namesake", pid)
    if PROFILE.birthday_namesakes > 0:  # same first name and birthday, nothing else
        a, b = gen_households.birthday_namesakes(
            p, rng, free, PROFILE.birthday_namesakes, _take_pairs
        )
        _mark(p, a, b, "birthday", "birthday", pid)
    # Couples: same home and landline; often the same surname; some joined together.
    # (mostly a man and a woman; the woman is b, the one who may have taken the other's surname)
    n_couples = int(n * r["couple"] / 2)
    g = p["gender"].to_numpy()
    n_same = int(n_couples * 0.08)
    a1, b1 = _take_pairs(rng, free, n_same)
    men, women = np.flatnonzero(free & (g == "M")), np.flatnonzero(free & (g == "F"))
    k = min(n_couples - len(a1), len(men), len(women))
    a2, b2 = rng.choice(men, k, replace=False), rng.choice(women, k, replace=False)
    free[a2] = free[b2] = False
    a, b = np.concatenate([a1, a2]), np.concatenate([b1, b2])
    _copy(p, a, b, HOME)
    p.iloc[a, p.columns.get_loc("partner")] = b
    p.iloc[b, p.columns.get_loc("partner")] = a
    dob_b = p["dob"].to_numpy()[a] + rng.normal(0, 4 * 365, len(a)).astype("timedelta64[D]")
    p.iloc[b, p.columns.get_loc("dob")] = _not_after(
        dob_b, REF_DATE - np.timedelta64(17 * 365, "D"), FOLD_DOB
    )
    same_name = rng.random(len(a)) < r["couple_same_surname"]
    changed = same_name & (rng.random(len(a)) < r["married_name"])
    last = p["last_name"].to_numpy()
    p.iloc[b[changed], p.columns.get_loc("maiden_name")] = last[b[changed]]
    taken = last[a[same_name]]
    fem = {
        n: lists.last[lists.last_fem[i]] for i, n in enumerate(lists.last) if lists.last_fem[i] != i
    }
    women = g[b[same_name]] == "F"
    taken[women] = np.array([fem.get(x, x) for x in taken[women]], dtype=object)
    p.iloc[b[same_name], p.columns.get_loc("last_name")] = taken
    consec = rng.random(len(a)) < r["couple_consecutive_lp"]
    lp = p["lp"].to_numpy()
    lp[b[consec]] = np.minimum(lp[a[consec]] + 1, LP_HIGH - 1)
    _unique_numbers(lp, rng)
    p["lp"] = lp
    if PROFILE.children > 0:
        _children(p, rng, free, a, b, PROFILE.children)


def _children(
    p: pd.DataFrame,
    rng: np.random.Generator,
    free: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    share: float,
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
    born = _not_after(
        p["dob"].to_numpy()[b[parent]] + gap, REF_DATE - np.timedelta64(18 * 365, "D"), FOLD_DOB
    )
    p.iloc[pool, p.columns.get_loc("dob")] = born
    p.iloc[pool, p.columns.get_loc("maiden_name")] = ""
    pid = p["person_id"].to_numpy()
    p.iloc[pool, p.columns.get_loc("hard_case")] = "child"
    p.iloc[pool, p.columns.get_loc("related_to")] = pid[a[parent]]


def _family_email(p: pd.DataFrame, rng: np.random.Generator, share: float) -> None:
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


def _mark(p: pd.DataFrame, a: np.ndarray, b: np.ndarray, ka: str, kb: str, pid: np.ndarray) -> None:
    p.iloc[a, p.columns.get_loc("hard_case")] = ka
    p.iloc[b, p.columns.get_loc("hard_case")] = kb
    p.iloc[a, p.columns.get_loc("related_to")] = pid[b]
    p.iloc[b, p.columns.get_loc("related_to")] = pid[a]


def _couple_email(p: pd.DataFrame, rng: np.random.Generator, r: dict[str, float]) -> None:
    """A few couples share one mailbox: household evidence, not person evidence."""
    partner = p["partner"].to_numpy()
    a = np.flatnonzero((partner >= 0) & (np.arange(len(p)) < partner))
    a = a[rng.random(len(a)) < r["couple_shared_email"]]
    email = p["email"].to_numpy()
    email[partner[a]] = email[a]
    p["email"] = email


def _history(
    p: pd.DataFrame,
    rng: np.random.Generator,
    r: dict[str, float],
    also_moved: np.ndarray | None = None,
) -> None:
    """Previous address, e-mail and mobile for people who moved or changed them (stale copies).

    Old values are drawn only for the people who have one (memory at 1M rows).
    ``also_moved``: households (by id) that moved whatever the draw."""
    n = len(p)
    household = p["household"].to_numpy()
    move = rng.random(n) < r["moved"]
    if also_moved is not None:
        move |= also_moved
    moved_home = np.flatnonzero(move)
    slot = np.full(n, -1)
    slot[moved_home] = np.arange(len(moved_home))
    where = slot[household]  # a household moves together
    moved = where >= 0
    old = _addresses(rng, len(moved_home))
    for c in ("addr1", "town", "postcode"):
        col = np.full(n, "", dtype=object)
        col[moved] = old[c][where[moved]]
        p["old_" + c] = col
    changed = np.flatnonzero(rng.random(n) < r["email_changed"])
    m = len(changed)
    dom = rng.choice(EMAIL_DOMAINS, m, p=EMAIL_DOMAIN_W / EMAIL_DOMAIN_W.sum())
    email = p["email"].to_numpy()
    local = np.array([e.split("@", 1)[0] for e in email[changed]], dtype=object)
    alt = _emails(
        rng,
        p["first_name"].to_numpy()[changed],
        p["last_name"].to_numpy()[changed],
        rng.integers(1940, 2008, m),
    )
    alt_local = np.array([e.split("@", 1)[0] for e in alt], dtype=object)
    new = np.where(rng.random(m) < 0.5, local + "@" + dom, alt_local + "@" + dom)
    suffix = rng.integers(100, 1000, m)
    taken = set(email.tolist())
    for j, e in enumerate(new):  # an old mailbox is never someone else's mailbox by accident
        if e in taken and e != email[changed[j]]:
            local_part, dom_part = e.split("@", 1)
            new[j] = f"{local_part}{suffix[j]}@{dom_part}"
        taken.add(new[j])
    old_email = np.full(n, "", dtype=object)
    old_email[changed] = np.where(new != email[changed], new, "")
    p["old_email"] = old_email
    phone = np.flatnonzero(rng.random(n) < r["phone_changed"])
    old_mobile = np.full(n, "", dtype=object)
    old_mobile[phone] = _mobiles(rng, len(phone))
    p["old_mobile"] = old_mobile
