"""One organisation's export: the rows it holds, in its own columns and formats, and the
per-row flags of every mistake put in (gen_mistakes.py).

Names are built in gen_row_names.py; here are the reference, membership number, date of birth,
e-mail, phone and address columns, and the roll's status, consent and extra columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from gen_lists import STREET_ABBREV, cp1252_safe
from gen_mistakes import LP_TYPO_KINDS, RowNoise, apply_each, mistype_number, typo
from gen_orgs import UNION_P, UNIONS, OrgStyle, format_dates, format_lp, format_phones
from gen_row_names import noisy_names, render_names
from gen_styles import house_street


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
    c = RowNoise(p, pi, rng, rates)
    c.flags["within_org_dup"] = dup
    first, last = noisy_names(c, style)
    fields: dict[str, np.ndarray] = {"ref": _refs(rng, c.n, style.id_style)}
    fields.update(render_names(c, style, first, last))
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


def _unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    v = rng.integers(low, high, n)
    dup = pd.Series(v).duplicated().to_numpy()
    while dup.any():
        v[dup] = rng.integers(low, high, dup.sum())
        dup = pd.Series(v).duplicated().to_numpy()
    return v


def _lp(c: RowNoise, style: OrgStyle, p: pd.DataFrame, true_numbers: np.ndarray) -> np.ndarray:
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


def _dob(c: RowNoise, style: OrgStyle) -> np.ndarray:
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


def _email(c: RowNoise) -> np.ndarray:
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
    apply_each(email, t, slip)
    vmask = c.pick(c.r["email_variant"], ~t)
    kv = k[vmask]
    apply_each(email, vmask, variant)
    miss = c.pick(c.r["email_missing"])
    email[miss] = ""
    c.flags["email_missing"] = miss
    return email


def _phones(c: RowNoise, style: OrgStyle) -> dict[str, np.ndarray]:
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


def _address(c: RowNoise, style: OrgStyle) -> dict[str, np.ndarray]:
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

    apply_each(addr1, ab, abbrev)
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

    apply_each(pc, pt, pc_slip)
    c.flags["postcode_typo"] = pt
    pf = c.pick(c.r["postcode_format"])
    kf = k[pf]
    apply_each(
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
