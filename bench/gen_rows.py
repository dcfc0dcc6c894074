"""Membership rows: who is on which roll, and the noise each organisation's copy of a person has.

Why per-row flags: every injected error is recorded next to the row, so a test or a scorer can say
which kind of error a method misses. Errors are drawn column-wise; only the few rows that get a
typo or a mistyped number go through small Python helpers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from gen_lists import STREET_ABBREV, ascii_fold, cp1252_safe, load_lists
from gen_orgs import UNION_P, UNIONS, OrgStyle, format_dates, format_lp, format_phones
from gen_people import REF_DATE
from gen_styles import house_street, surname_initials

ROW_RATES: dict[str, float] = {
    "lp_mistype": 0.025,
    "nickname": 0.07,
    "initial_only": 0.02,
    "typo_first": 0.015,
    "typo_last": 0.015,
    "name_swap": 0.004,
    "middle_in_first": 0.15,
    "maiden_name": 0.4,  # share of a renamed person's rows still under the maiden name
    "accent_lost": 0.15,
    "apostrophe_variant": 0.25,
    "all_caps": 0.01,
    "all_lower": 0.01,  # typed into a web form: "john smith"
    "stray_space": 0.01,  # leading/trailing spaces in a name field
    "stale_address": 0.5,  # share of a mover's rows with the old address
    "stale_email": 0.5,
    "stale_mobile": 0.5,
    "postcode_missing": 0.02,
    "postcode_typo": 0.01,
    "postcode_format": 0.15,
    "dob_daymonth_swap": 0.01,
    "dob_typo": 0.005,
    "dob_placeholder": 0.002,
    "email_missing": 0.05,
    "email_typo": 0.005,
    "email_variant": 0.03,
    "within_org_dup": 0.012,
}
LP_TYPO_KINDS: dict[str, float] = {
    "transpose": 0.35,
    "substitute": 0.30,
    "drop": 0.12,
    "insert": 0.08,
    "two_edits": 0.08,
    "partner": 0.07,  # the partner's number typed on this person's form
}
MEMBERSHIP_COUNTS = [0.50, 0.27, 0.13, 0.07, 0.03]  # people on 1, 2, 3, 4, 5+ rolls

FLAGS = [
    "within_org_dup",
    "lp_missing",
    "lp_mistyped",
    "lp_collision",
    "nickname",
    "initial",
    "typo",
    "maiden",
    "name_swap",
    "accent_lost",
    "stale_address",
    "stale_email",
    "postcode_missing",
    "postcode_typo",
    "dob_missing",
    "dob_error",
    "email_missing",
]

_KEYS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _near(ch: str, k: int) -> str:
    """A key next to ``ch`` on a UK keyboard (or any letter for non-letters)."""
    low = ch.lower()
    for row in _KEYS:
        i = row.find(low)
        if i >= 0:
            j = min(max(i + (1 if k % 2 else -1), 0), len(row) - 1)
            out = row[j] if row[j] != low else row[i - 1]
            return out.upper() if ch.isupper() else out
    return "e"


def typo(s: str, op: int, pos: float, k: int) -> str:
    """One keyboard slip: drop, double, swap adjacent or hit a neighbouring key."""
    if len(s) < 3:
        return s + s[-1:] if s else s
    i = 1 + int(pos * (len(s) - 2))  # keep the first letter (people rarely slip there)
    if op == 0:
        return s[:i] + s[i + 1 :]
    if op == 1:
        return s[:i] + s[i] + s[i:]
    if op == 2 and i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + _near(s[i], k) + s[i + 1 :]


def mistype_number(s: str, kind: str, pos: float, digit: int) -> str:
    """A 7-digit number after one slip of the given kind (never equal to the original)."""
    i = int(pos * (len(s) - 1))
    if kind == "transpose" and s[i] != s[i + 1]:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if kind == "drop":
        return s[:i] + s[i + 1 :]
    if kind == "insert":
        return s[:i] + s[i] + s[i:]
    if kind == "two_edits":
        j = (i + 3) % len(s)
        t = list(s)
        t[i] = str((int(t[i]) + 1 + digit % 9) % 10)
        t[j] = str((int(t[j]) + 1 + (digit * 7) % 9) % 10)
        return "".join(t)
    return s[:i] + str((int(s[i]) + 1 + digit % 9) % 10) + s[i + 1 :]


def membership_count_probs(k: int) -> np.ndarray:
    """P(on 1 roll), … P(on k rolls): MEMBERSHIP_COUNTS cut (or zero-padded) to k organisations."""
    c = np.zeros(k)
    base = np.array(MEMBERSHIP_COUNTS)
    c[: min(k, len(base))] = base[:k]
    c[-1] += base[k:].sum()
    return c / c.sum()


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


class _Ctx:
    """Per-org working arrays and flags (a tiny mutable bag, local to ``build_org``)."""

    def __init__(
        self, p: pd.DataFrame, pi: np.ndarray, rng: np.random.Generator, rates: dict[str, float]
    ):
        self.n = len(pi)
        self.rng = rng
        self.r = rates
        self.col = {c: p[c].to_numpy()[pi] for c in p.columns}
        self.flags: dict[str, np.ndarray] = {f: np.zeros(self.n, dtype=bool) for f in FLAGS}

    def pick(self, rate: float, where: np.ndarray | None = None) -> np.ndarray:
        hit = self.rng.random(self.n) < rate
        return hit if where is None else hit & where


def _apply(values: np.ndarray, mask: np.ndarray, fn) -> None:  # type: ignore[no-untyped-def]
    idx = np.flatnonzero(mask)
    if len(idx):
        values[idx] = np.array([fn(v, i) for i, v in enumerate(values[idx])], dtype=object)


def _names(c: _Ctx, style: OrgStyle) -> tuple[np.ndarray, np.ndarray]:
    lists = load_lists()
    first, last = c.col["first_name"].copy(), c.col["last_name"].copy()
    maiden = c.pick(c.r["maiden_name"], c.col["maiden_name"] != "")
    last[maiden] = c.col["maiden_name"][maiden]
    c.flags["maiden"] = maiden
    fidx = c.col["first_idx"]
    nick = c.pick(c.r["nickname"], lists.has_nick[fidx] & (first == lists.first[fidx]))
    ks = c.rng.integers(0, 1000, c.n)
    first[nick] = np.array(
        [
            lists.nicknames[f][k % len(lists.nicknames[f])]
            for f, k in zip(fidx[nick], ks[nick], strict=True)
        ],
        dtype=object,
    )
    c.flags["nickname"] = nick
    init = c.pick(c.r["initial_only"], ~nick)
    dot = c.rng.random(c.n) < 0.5
    first[init] = np.array(
        [f[0] + ("." if d else "") for f, d in zip(first[init], dot[init], strict=True)],
        dtype=object,
    )
    c.flags["initial"] = init
    ops, pos = c.rng.integers(0, 4, c.n), c.rng.random(c.n)
    tf, tl = c.pick(c.r["typo_first"], ~init), c.pick(c.r["typo_last"])
    of, pf, kf = ops[tf], pos[tf], ks[tf]
    ol, pl, kl = ops[tl], pos[tl], ks[tl]
    _apply(first, tf, lambda v, i: typo(v, of[i], pf[i], kf[i]))
    _apply(last, tl, lambda v, i: typo(v, ol[i], pl[i], kl[i]))
    c.flags["typo"] = tf | tl
    nonascii = np.array(
        [not (a.isascii() and b.isascii()) for a, b in zip(first, last, strict=True)]
    )
    lost = c.pick(c.r["accent_lost"], nonascii)
    _apply(first, lost, lambda v, i: ascii_fold(v))
    _apply(last, lost, lambda v, i: ascii_fold(v))
    c.flags["accent_lost"] = lost
    apos = c.pick(c.r["apostrophe_variant"], np.array(["'" in s for s in last]))
    ka = ks[apos]
    _apply(last, apos, lambda v, i: v.replace("'", ["", " ", "\u2019"][ka[i] % 3]))
    swap = c.pick(c.r["name_swap"])
    first[swap], last[swap] = last[swap], first[swap].copy()
    c.flags["name_swap"] = swap
    caps = c.pick(c.r["all_caps"])
    _apply(first, caps, lambda v, i: v.upper())
    _apply(last, caps, lambda v, i: v.upper())
    low = c.pick(c.r["all_lower"], ~caps)
    _apply(first, low, lambda v, i: v.lower())
    _apply(last, low, lambda v, i: v.lower())
    up = c.pick(style.surname_upper)
    _apply(last, up, lambda v, i: v.upper())
    sp = c.pick(c.r["stray_space"])
    ksp = ks[sp]
    _apply(first, sp, lambda v, i: [v + " ", " " + v, v + "  "][ksp[i] % 3])
    return first, last


def _titles(c: _Ctx) -> np.ndarray:
    g = c.col["gender"]
    u = c.rng.random(c.n)
    female = np.where(u < 0.45, "Ms", np.where(u < 0.85, "Mrs", "Miss"))
    female = np.where(c.col["maiden_name"] != "", np.where(u < 0.5, "Mrs", "Ms"), female)
    title = np.where(g == "F", female, np.where(g == "M", "Mr", "Mx")).astype(object)
    v = c.rng.random(c.n)
    title[v < 0.05] = "Dr"
    title[v < 0.012] = "Cllr"
    title[v < 0.004] = "Prof"
    return title


def _suffix(
    c: _Ctx, jr: tuple[str, ...], sr: tuple[str, ...], show_jr: float, show_sr: float
) -> np.ndarray:
    s = c.col["suffix"]
    k = c.rng.integers(0, 100, c.n)
    u = c.rng.random(c.n)
    out = np.full(c.n, "", dtype=object)
    is_jr, is_sr = (s == "Jr") & (u < show_jr), (s == "Sr") & (u < show_sr)
    out[is_jr] = np.array([jr[i % len(jr)] for i in k[is_jr]], dtype=object)
    out[is_sr] = np.array([sr[i % len(sr)] for i in k[is_sr]], dtype=object)
    return out


def _join(*parts: np.ndarray) -> np.ndarray:
    """Space-join arrays element-wise, skipping empty parts."""
    out = parts[0].astype(object)
    for p in parts[1:]:
        out = np.where(p == "", out, np.where(out == "", p, out + " " + p)).astype(object)
    return out


def _render_names(
    c: _Ctx, style: OrgStyle, first: np.ndarray, last: np.ndarray
) -> dict[str, np.ndarray]:
    middle = np.where(c.flags["initial"] | c.flags["name_swap"], "", c.col["middle_name"]).astype(
        object
    )
    if style.name_style == "split":
        mif = c.pick(c.r["middle_in_first"], middle != "")
        first = np.where(mif, first + " " + middle, first).astype(object)
        return {"first": first, "last": _join(last, _suffix(c, ("Jr", "Jnr"), ("Snr",), 0.6, 0.2))}
    if style.name_style == "title_split":
        mif = c.pick(0.5, middle != "")
        title = np.where(c.rng.random(c.n) < 0.85, _titles(c), "").astype(object)
        return {
            "title": title,
            "first": np.where(mif, first + " " + middle, first).astype(object),
            "last": _join(last, _suffix(c, ("Jnr", "Junior"), ("Snr",), 0.7, 0.3)),
        }
    if style.name_style == "full":
        title = np.where(c.rng.random(c.n) < 0.45, _titles(c), "").astype(object)
        mid = np.where(c.rng.random(c.n) < 0.6, middle, "").astype(object)
        sfx = _suffix(c, ("Jr", "Jr.", "Jnr", "Junior"), ("Sr", "Snr", "Senior"), 0.85, 0.4)
        return {"full": _join(title, first, mid, last, sfx)}
    if style.name_style == "full_initial":
        mid = np.array([m[0] + "." if m else "" for m in middle], dtype=object)
        return {"full": _join(first, mid, last, _suffix(c, ("Jr",), ("Sr",), 0.7, 0.2))}
    if style.name_style == "initials":  # "B", "B.", "B K" or "B.K.": the given names' initials
        dots = c.rng.random(c.n) < 0.5
        with_mid = c.rng.random(c.n) < 0.7
        sep, end = np.where(dots, ".", " "), np.where(dots, ".", "")
        inits = np.array(
            [  # from the formal first name: a roll of initials never holds a nickname's
                f[:1] + (s + m[:1] + e if m and k else e)
                for f, m, k, s, e in zip(
                    c.col["first_name"], c.col["middle_name"], with_mid, sep, end, strict=True
                )
            ],
            dtype=object,
        )
        return {"first": inits, "last": _join(last, _suffix(c, ("Jr",), ("Sr",), 0.7, 0.2))}
    if style.name_style == "surname_initials":  # "SMITH, J.A." (gen_styles.py)
        sur = _join(last, _suffix(c, ("Jr",), ("Sr",), 0.6, 0.2))
        cells, init = surname_initials(c.rng, c.col["first_name"], middle, first, sur)
        c.flags["initial"] |= init
        return {"full": cells}
    if style.name_style == "surname_comma":
        upper = np.array([s.upper() for s in last], dtype=object)
        sur = np.where(c.rng.random(c.n) < 0.9, upper, last)
        return {"surname_comma": sur + ", " + _join(first, _suffix(c, ("Jr",), ("Sr",), 0.7, 0.3))}
    raise ValueError(style.name_style)


def _dob(c: _Ctx, style: OrgStyle) -> np.ndarray:
    dob = c.col["dob"].astype("datetime64[D]")
    y = dob.astype("datetime64[Y]").astype(int) + 1970
    m = dob.astype("datetime64[M]").astype(int) % 12 + 1
    d = (dob - dob.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    swap = c.pick(c.r["dob_daymonth_swap"], (d <= 12) & (d != m))
    m, d = np.where(swap, d, m), np.where(swap, m, d)
    ty = c.pick(c.r["dob_typo"])
    y = np.where(ty, y + c.rng.choice([-10, -1, 1, 10], c.n), y)
    ph = c.pick(c.r["dob_placeholder"])
    y, m, d = np.where(ph, 1900, y), np.where(ph, 1, m), np.where(ph, 1, d)
    miss = c.pick(style.dob_missing)
    y = np.where(miss, 0, y)
    c.flags["dob_missing"] = miss
    c.flags["dob_error"] = (swap | ty | ph) & ~miss
    return format_dates(y, m, d, style.dob_format or "iso")


def _lp(c: _Ctx, style: OrgStyle, p: pd.DataFrame, true_numbers: np.ndarray) -> np.ndarray:
    lp = c.col["lp"]
    digits = np.array([f"{v:07d}" for v in np.maximum(lp, 0)], dtype=object)
    miss = (lp < 0) | c.pick(style.lp_missing)
    typo_rows = c.pick(c.r["lp_mistype"], ~miss)
    kinds = np.array(list(LP_TYPO_KINDS))
    kind = kinds[c.rng.choice(len(kinds), c.n, p=np.array(list(LP_TYPO_KINDS.values())))]
    pos, dig = c.rng.random(c.n), c.rng.integers(0, 90, c.n)
    partner = c.col["partner"]
    p_lp = p["lp"].to_numpy()
    for i in np.flatnonzero(typo_rows):
        if kind[i] == "partner" and partner[i] >= 0 and p_lp[partner[i]] >= 0:
            digits[i] = f"{p_lp[partner[i]]:07d}"
        else:
            digits[i] = mistype_number(
                digits[i], "substitute" if kind[i] == "partner" else kind[i], pos[i], dig[i]
            )
    out = format_lp(digits, style.lp_style, c.rng)
    tokens = np.array(style.lp_missing_token, dtype=object)
    out[miss] = tokens[c.rng.integers(0, len(tokens), miss.sum())]
    c.flags["lp_missing"] = miss
    c.flags["lp_mistyped"] = typo_rows
    as_int = np.array([int(s) for s in digits[typo_rows]], dtype=np.int64)
    c.flags["lp_collision"][typo_rows] = np.isin(as_int, true_numbers)
    return out


def _email(c: _Ctx) -> np.ndarray:
    email = c.col["email"].copy()
    stale = c.pick(c.r["stale_email"], c.col["old_email"] != "")
    if c.r.get("maiden_stale", 0) > 0:  # a maiden-name row predates the marriage's new e-mail
        stale |= c.pick(c.r["maiden_stale"], c.flags["maiden"] & (c.col["old_email"] != ""))
    email[stale] = c.col["old_email"][stale]
    c.flags["stale_email"] = stale
    k = c.rng.integers(0, 1000, c.n)
    bad = {
        "gmail.com": "gmial.com",
        "hotmail.co.uk": "hotmial.co.uk",
        "outlook.com": "outlok.com",
        "btinternet.com": "btinternet.co.uk",
        "yahoo.co.uk": "yahoo.co",
    }

    def slip(v: str, i: int) -> str:
        local, dom = v.split("@", 1)
        if dom in bad and ks[i] % 2:
            return f"{local}@{bad[dom]}"
        return typo(local, ks[i] % 4, (ks[i] % 97) / 97, ks[i]) + "@" + dom

    def variant(v: str, i: int) -> str:
        local, dom = v.split("@", 1)
        j = kv[i] % 6
        gmail = dom in ("gmail.com", "googlemail.com")
        if j == 0:
            return v.upper()
        if j == 1:
            return local.capitalize() + "@" + dom
        if j == 2 and gmail:
            return local + "@" + ("googlemail.com" if dom == "gmail.com" else "gmail.com")
        if j == 3 and gmail:  # Gmail ignores dots and +tags: the same mailbox
            return (local.replace(".", "") if "." in local else local + "+labour") + "@" + dom
        if j == 4:
            return local + "@" + dom.upper()
        return " " + v + " "

    t = c.pick(c.r["email_typo"])
    ks = k[t]
    _apply(email, t, slip)
    vmask = c.pick(c.r["email_variant"], ~t)
    kv = k[vmask]
    _apply(email, vmask, variant)
    miss = c.pick(c.r["email_missing"])
    email[miss] = ""
    c.flags["email_missing"] = miss
    return email


def _address(c: _Ctx, style: OrgStyle) -> dict[str, np.ndarray]:
    stale = c.pick(c.r["stale_address"], c.col["old_addr1"] != "")
    if c.r.get("maiden_stale", 0) > 0:  # ... and the move that came with it
        stale |= c.pick(c.r["maiden_stale"], c.flags["maiden"] & (c.col["old_addr1"] != ""))
    c.flags["stale_address"] = stale
    addr1 = np.where(stale, c.col["old_addr1"], c.col["addr1"]).astype(object)
    town = np.where(stale, c.col["old_town"], c.col["town"]).astype(object)
    pc = np.where(stale, c.col["old_postcode"], c.col["postcode"]).astype(object)
    ab = c.pick(style.street_abbrev)

    def abbrev(v: str, i: int) -> str:
        head, _, tail = v.rpartition(" ")
        return f"{head} {STREET_ABBREV.get(tail, tail)}"

    _apply(addr1, ab, abbrev)
    k = c.rng.integers(0, 1000, c.n)
    pt = c.pick(c.r["postcode_typo"])
    kt = k[pt]

    def pc_slip(v: str, i: int) -> str:
        j = kt[i] % len(v)
        if v[j] == " ":
            j -= 1
        ch = v[j]
        rep = (
            str((int(ch) + 1 + kt[i] % 8) % 10)
            if ch.isdigit()
            else "ABDEFGHJLNPQRSTUWXYZ"[kt[i] % 20]
        )
        if rep == ch:
            rep = "Q" if ch != "Q" else "W"
        return v[:j] + rep + v[j + 1 :]

    _apply(pc, pt, pc_slip)
    c.flags["postcode_typo"] = pt
    pf = c.pick(c.r["postcode_format"])
    kf = k[pf]
    _apply(
        pc,
        pf,
        lambda v, i: [
            v.replace(" ", ""),
            v.lower(),
            v.replace(" ", "  "),
            v.lower().replace(" ", ""),
        ][kf[i] % 4],
    )
    miss = c.pick(c.r["postcode_missing"])
    pc[miss] = ""
    c.flags["postcode_missing"] = miss
    if style.address_style == "single_line":
        tail = np.where(c.rng.random(c.n) < 0.2, " " + pc, ", " + pc)
        one = addr1 + ", " + town + np.where(pc == "", "", tail)
        return {"address": one.astype(object)}
    if style.address_style == "house_street":
        house, street = house_street(addr1)
        return {"house": house, "street": street, "town": town, "postcode": pc}
    if style.address_style == "split2":
        flat = np.array([a.startswith("Flat ") for a in addr1])
        a1 = np.array(
            [a.split(", ", 1)[0] if f else a for a, f in zip(addr1, flat, strict=True)],
            dtype=object,
        )
        a2 = np.array(
            [a.split(", ", 1)[1] if f else "" for a, f in zip(addr1, flat, strict=True)],
            dtype=object,
        )
        return {"addr1": a1, "addr2": a2, "town": town, "postcode": pc}
    return {"addr1": addr1, "town": town, "postcode": pc}


def _phones(c: _Ctx, style: OrgStyle) -> dict[str, np.ndarray]:
    mob = c.col["mobile"]
    mob = np.where(c.pick(c.r["stale_mobile"], c.col["old_mobile"] != ""), c.col["old_mobile"], mob)
    land = c.col["landline"]
    out: dict[str, np.ndarray] = {}
    if "landline" in style.headers:
        out["landline"] = np.where(c.pick(0.3), "", land)
        phone = mob
    elif style.headers["phone"] == "Mobile":
        phone = mob
    else:
        use_land = (land != "") & ((mob == "") | (c.rng.random(c.n) < 0.3))
        phone = np.where(use_land, land, mob)
    out["phone"] = np.where(c.pick(style.phone_missing), "", phone)
    return {k: format_phones(v.astype(object), style.phone_style, c.rng) for k, v in out.items()}


def _unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    v = rng.integers(low, high, n)
    dup = pd.Series(v).duplicated().to_numpy()
    while dup.any():
        v[dup] = rng.integers(low, high, dup.sum())
        dup = pd.Series(v).duplicated().to_numpy()
    return v


def _refs(rng: np.random.Generator, n: int, style: str) -> np.ndarray:
    width = max(6, len(str(4 * n)))
    v = _unique_ints(rng, n, 10 ** (width - 1), 10**width)
    s = v.astype(str).astype(object)
    if style == "int":
        return s
    if style == "hex":
        h = _unique_ints(rng, n, 1 << 36, 1 << 40)
        return np.array([f"{x:010x}"[:6] + "-" + f"{x:010x}"[6:] for x in h], dtype=object)
    if style == "GLL":
        year = rng.integers(2010, 2027, n).astype(str).astype(object)
        return "GL" + year + "-" + s
    sep = "-" if style == "TU" else ""
    return style + sep + s


def build_org(
    style: OrgStyle,
    pi: np.ndarray,
    dup: np.ndarray,
    p: pd.DataFrame,
    rng: np.random.Generator,
    rates: dict[str, float],
    true_numbers: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One organisation's export (columns named as the org names them) and its per-row flags."""
    c = _Ctx(p, pi, rng, rates)
    c.flags["within_org_dup"] = dup
    first, last = _names(c, style)
    fields: dict[str, np.ndarray] = {"ref": _refs(rng, c.n, style.id_style)}
    fields.update(_render_names(c, style, first, last))
    fields["lp"] = _lp(c, style, p, true_numbers)
    if style.dob_format:
        fields["dob"] = _dob(c, style)
    fields["email"] = _email(c)
    fields.update(_phones(c, style))
    fields.update(_address(c, style))
    if style.status:
        keys = np.array(list(style.status), dtype=object)
        fields["status"] = keys[rng.choice(len(keys), c.n, p=np.array(list(style.status.values())))]
    if style.consent:
        yes, no, share_no = style.consent
        u = rng.random(c.n)
        fields["consent"] = np.where(u < 0.03, "", np.where(u < 0.03 + share_no, no, yes)).astype(
            object
        )
    if style.extra == "region":
        fields["extra"] = c.col["region"]
    elif style.extra == "branch":
        fields["extra"] = np.where(rng.random(c.n) < 0.9, c.col["town"] + " branch", "").astype(
            object
        )
    elif style.extra == "union":
        fields["extra"] = rng.choice(UNIONS, c.n, p=UNION_P / UNION_P.sum())
    df = pd.DataFrame({header: fields[canon] for canon, header in style.headers.items()})
    if style.encoding == "cp1252":  # what the source system could not store is folded, not lost
        for col in df.columns:
            codes, uniq = pd.factorize(df[col], use_na_sentinel=False)
            df[col] = np.array([cp1252_safe(str(x)) for x in uniq], dtype=object)[codes]
    return df, pd.DataFrame(c.flags)
