"""Names as one organisation holds them: the person's true names with this roll's mistakes
(maiden names, nicknames, initials, typos, lost accents, swaps, capitals), then laid out in the
roll's name columns (split, with a title, one full-name cell, "SMITH, J.A." ...).
"""

from __future__ import annotations

import numpy as np
from gen_lists import ascii_fold, load_lists
from gen_mistakes import RowNoise, apply_each, typo
from gen_orgs import OrgStyle
from gen_styles import surname_initials


def noisy_names(c: RowNoise, style: OrgStyle) -> tuple[np.ndarray, np.ndarray]:
    """First and last name as this roll holds them, each mistake flagged in ``c.flags``."""
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
    apply_each(first, tf, lambda v, i: typo(v, of[i], pf[i], kf[i]))
    apply_each(last, tl, lambda v, i: typo(v, ol[i], pl[i], kl[i]))
    c.flags["typo"] = tf | tl
    nonascii = np.array(
        [not (a.isascii() and b.isascii()) for a, b in zip(first, last, strict=True)]
    )
    lost = c.pick(c.r["accent_lost"], nonascii)
    apply_each(first, lost, lambda v, i: ascii_fold(v))
    apply_each(last, lost, lambda v, i: ascii_fold(v))
    c.flags["accent_lost"] = lost
    apos = c.pick(c.r["apostrophe_variant"], np.array(["'" in s for s in last]))
    ka = ks[apos]
    apply_each(last, apos, lambda v, i: v.replace("'", ["", " ", "\u2019"][ka[i] % 3]))
    swap = c.pick(c.r["name_swap"])
    first[swap], last[swap] = last[swap], first[swap].copy()
    c.flags["name_swap"] = swap
    caps = c.pick(c.r["all_caps"])
    apply_each(first, caps, lambda v, i: v.upper())
    apply_each(last, caps, lambda v, i: v.upper())
    low = c.pick(c.r["all_lower"], ~caps)
    apply_each(first, low, lambda v, i: v.lower())
    apply_each(last, low, lambda v, i: v.lower())
    up = c.pick(style.surname_upper)
    apply_each(last, up, lambda v, i: v.upper())
    sp = c.pick(c.r["stray_space"])
    ksp = ks[sp]
    apply_each(first, sp, lambda v, i: [v + " ", " " + v, v + "  "][ksp[i] % 3])
    return first, last


def render_names(
    c: RowNoise, style: OrgStyle, first: np.ndarray, last: np.ndarray
) -> dict[str, np.ndarray]:
    """The roll's name columns (``style.name_style``) from the noisy first and last names."""
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


def _titles(c: RowNoise) -> np.ndarray:
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
    c: RowNoise, jr: tuple[str, ...], sr: tuple[str, ...], show_jr: float, show_sr: float
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
