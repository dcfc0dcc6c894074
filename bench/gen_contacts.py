"""Where the people live and how they are reached: addresses, landlines, mobiles, e-mail
addresses, and the stale copies of each that people who moved or changed them leave behind.

Drawn column-wise with numpy; real postcode sectors, towns and dialling codes come from
gen_lists.py. A mailbox, current or old, belongs to one household (``own_mailboxes``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from gen_lists import (
    EMAIL_DOMAIN_W,
    EMAIL_DOMAINS,
    STREET_TYPE_W,
    STREET_TYPES,
    UNIT_CODES,
    UNIT_STEP,
    ascii_fold,
    load_lists,
)
from gen_settings import PERSON_RATES


def as_str(a: np.ndarray) -> np.ndarray:
    """Integers to an object array of str, so ``+`` concatenates element-wise."""
    return a.astype(str).astype(object)


def addresses(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """n independent UK-style addresses: real postcode sectors, drawn in proportion to their
    residential postcode units (a proxy for households), with the district's post town and
    dialling code. A sector with k units uses k distinct unit codes (as the real one does), so
    full postcodes are about as many, and as crowded, as the UK's ~1.7 M.

    The share of flats is always ``PERSON_RATES["flat"]`` (a rates override does not reach it)."""
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
    addr1 = as_str(house) + " " + street
    addr1[flat] = "Flat " + as_str(rng.integers(1, 30, flat.sum())) + ", " + addr1[flat]
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


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    return "07" + as_str(rng.integers(3, 10, n)) + as_str(rng.integers(10**7, 10**8, n))


def _key(names: np.ndarray) -> np.ndarray:
    """Lower-case ASCII local-part fragment of each name (for e-mail addresses)."""
    uniq, inv = np.unique(names.astype(str), return_inverse=True)
    keys = np.array(
        [ascii_fold(u).lower().replace("'", "").replace(" ", "").replace("-", "") for u in uniq],
        dtype=object,
    )
    return keys[inv]


def emails(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, dob_year: np.ndarray
) -> np.ndarray:
    """E-mail addresses in the patterns people really use (first.last, flast, first87 …)."""
    n = len(first)
    fk, lk = _key(first), _key(last)
    num = as_str(rng.integers(1, 100, n))
    yr = as_str(dob_year % 100)
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
        email[dup] = local[dup] + as_str(rng.integers(100, 1000, dup.sum())) + "@" + domain[dup]
    return email


def history(
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
    old = addresses(rng, len(moved_home))
    for c in ("addr1", "town", "postcode"):
        col = np.full(n, "", dtype=object)
        col[moved] = old[c][where[moved]]
        p["old_" + c] = col
    changed = np.flatnonzero(rng.random(n) < r["email_changed"])
    m = len(changed)
    dom = rng.choice(EMAIL_DOMAINS, m, p=EMAIL_DOMAIN_W / EMAIL_DOMAIN_W.sum())
    email = p["email"].to_numpy()
    local = np.array([e.split("@", 1)[0] for e in email[changed]], dtype=object)
    alt = emails(
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
    old_mobile[phone] = mobiles(rng, len(phone))
    p["old_mobile"] = old_mobile


def mailbox_key(email: str) -> str:
    """The mailbox an address delivers to (as dedupe/normalise.py reads it): lower case,
    googlemail = gmail, and Gmail ignores dots and +tags in the local part."""
    local, _, dom = email.strip().lower().partition("@")
    if dom in ("gmail.com", "googlemail.com"):
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    return local + "@" + dom


def own_mailboxes(p: pd.DataFrame) -> None:
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
