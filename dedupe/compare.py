"""Per-field comparison levels for candidate pairs (Splink-style, vectorised).

Each comparison maps a pair to a small integer level; level 0 always means "one side is
missing" and carries no evidence (a blank DOB is not a disagreement). Levels are declared as
data (``COMPARISONS``) so the report can name them and the model can weigh them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from dedupe.keys import Keys, house_number
from dedupe.nicknames import family, is_known_name, nickname_group


@dataclass(frozen=True)
class Comparison:
    """A field comparison: its name and the label of each level (index = level)."""

    name: str
    levels: tuple[str, ...]


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("number", ("missing", "exact", "1 edit apart", "different")),
    Comparison("first_name", ("missing", "exact", "nickname", "similar", "initial", "different")),
    Comparison("last_name", ("missing", "exact", "similar", "contains", "different")),
    Comparison(
        "date_of_birth",
        ("missing", "exact", "day/month swapped or 1 digit", "same year", "different"),
    ),
    Comparison("email", ("missing", "exact", "1 edit apart", "different")),
    Comparison("phone", ("missing", "exact", "different")),
    Comparison("postcode", ("missing", "exact", "same sector", "same district", "different")),
    Comparison("address", ("missing", "exact", "similar", "same house number", "different")),
    Comparison("town", ("missing", "exact", "different")),
    Comparison("suffix", ("none", "same", "one side only", "conflict")),
)
NAMES = tuple(c.name for c in COMPARISONS)


def record_arrays(r: pd.DataFrame, keys: Keys | None = None) -> dict[str, np.ndarray]:
    """Numpy views of the normalised records used by the comparisons (strings '' = missing).

    String work runs once per distinct value (``Keys``), integer codes are shared with
    blocking when the caller passes the same ``keys``.
    """
    keys = keys or Keys(r)
    n = len(r)
    first_c, first_u = keys.factorised("first_key")
    last_u = keys.factorised("last_key")[1]
    nick_c = keys.codes("nick_key")
    nick_of_first = np.full(len(first_u), -1, np.int64)
    ok = first_c >= 0
    nick_of_first[first_c[ok]] = nick_c[ok]
    # A spelling seen at most twice and unknown to the name table: a likely typo.
    counts = np.bincount(first_c[first_c >= 0], minlength=len(first_u))
    known = np.fromiter((is_known_name(x) for x in first_u), bool, len(first_u))
    first_rare = (counts <= 2) & ~known
    shared = pd.factorize(
        pd.concat([r["first_key"], r["middle_key"]], ignore_index=True), use_na_sentinel=True
    )[0].astype(np.int64)
    valid_pc = r["pc_valid"].fillna(False).to_numpy(dtype=bool)
    sector_c = keys.derived("sector", "postcode", lambda x: x.str.slice(0, -2))[0]
    outward_c = keys.derived("outward", "postcode", lambda x: x.str.split(" ").str[0])[0]
    number = keys.strings("number")
    dob = r["dob"].to_numpy(dtype=np.int64)
    number_z = keys.derived_strings("number_z", "number", lambda x: x.str.lstrip("0"))
    number_m, number_len = char_matrix(number)
    number_zm, number_zlen = char_matrix(number_z)
    return {
        "number": number,
        "number_m": number_m,
        "number_len": number_len,
        "number_zm": number_zm,
        "number_zlen": number_zlen,
        "number_c": keys.codes("number"),
        "number_z": number_z,
        "first": keys.strings("first_key"),
        "first_c": first_c,
        "nick_c": nick_c,
        "last": keys.strings("last_key"),
        "last_c": keys.codes("last_key"),
        "first_u": first_u,
        "last_u": last_u,
        "nick_of_first": nick_of_first,
        "first_rare": first_rare,
        "first_s": shared[:n],
        "mid_s": shared[n:],
        "last1": keys.derived_strings("last1", "last_name", _first_word_letters),
        "last1_c": keys.derived("last1_word", "last_name", _first_word)[0],
        "middle": keys.strings("middle_key"),
        "dob": dob,
        "dob_digits": dob_digit_matrix(dob),
        "email": keys.strings("email"),
        "email_c": keys.codes("email"),
        "email_letters_c": keys.derived(
            "email_letters", "email", lambda x: x.str.replace(r"[._\-+]", "", regex=True)
        )[0],
        "email_digits_c": keys.derived(
            "email_digits", "email", lambda x: x.str.replace(r"[^0-9@]", "", regex=True)
        )[0],
        "phone_c": keys.codes("phone"),
        "pc_c": keys.codes("postcode"),
        "sector_c": np.where(valid_pc, sector_c, -1),
        "outward_c": np.where(valid_pc, outward_c, -1),
        "addr": keys.strings("addr_key"),
        "addr_c": keys.codes("addr_key"),
        "addr_u": keys.factorised("addr_key")[1],
        "house_c": keys.derived("house", "addr_key", house_number)[0],
        "town_c": keys.codes("town_key"),
        "suffix": keys.strings("suffix"),
    }


def _first_word(name: pd.Series) -> pd.Series:
    """First word of a surname cell ('' when it has none: no key)."""
    return name.str.split().str[0].replace("", None)


def _first_word_letters(name: pd.Series) -> pd.Series:
    """First word of a surname cell, lower-case a–z only ('Warner-Smith' -> 'warnersmith')."""
    return (
        name.str.split()
        .str[0]
        .fillna("")
        .map(lambda v: "".join(ch for ch in v.lower() if "a" <= ch <= "z"))
    )


def _exact(c: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = c[i], c[j]
    present = (a >= 0) & (b >= 0)
    return present, present & (a == b)


def _pairwise(
    scorer: object, a: np.ndarray, b: np.ndarray, dtype: object = np.float32, **kw: object
) -> np.ndarray:
    """scorer(a[k], b[k]) for every k, in C, on both cores."""
    if len(a) == 0:
        return np.zeros(0, dtype=dtype)  # type: ignore[arg-type]
    return process.cpdist(list(a), list(b), scorer=scorer, dtype=dtype, workers=-1, **kw)  # type: ignore[arg-type, call-overload, no-any-return]


def _dl(a: np.ndarray, b: np.ndarray, cutoff: int) -> np.ndarray:
    """Damerau-Levenshtein distance, exact up to ``cutoff`` (``cutoff + 1`` = "more than that").

    Callers only ask "at most 1 (or 2) edits?", and a bounded distance is much cheaper.
    """
    return _pairwise(DamerauLevenshtein.distance, a, b, dtype=np.int32, score_cutoff=cutoff)


def char_matrix(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strings as a (n, width) matrix of code points plus their lengths (for pair prefilters)."""
    lens = _lens(values)
    width = max(1, int(lens.max(initial=0)))
    raw = np.asarray(values, dtype=f"U{width}").tobytes()
    chars = np.frombuffer(raw, np.uint32).reshape(-1, width)
    if chars.max(initial=0) < 256:  # digits and Latin-1: a quarter of the memory traffic
        return chars.astype(np.uint8), lens
    return chars, lens


def _one_edit_apart(
    strings: np.ndarray, chars: np.ndarray, lens: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Damerau-Levenshtein distance <= 1 between records a[k] and b[k], exactly.

    Why the prefilter: millions of candidate pairs carry two different membership numbers
    and nearly all are many digits apart. Equal-length strings one edit apart differ in at
    most two positions (a substitution or an adjacent swap), and strings whose lengths
    differ by two or more are never one edit apart; only the pairs passing that test (a
    few percent) pay for the exact distance.
    """
    out = np.zeros(len(a), bool)
    if len(a) == 0:
        return out
    la, lb = lens[a], lens[b]
    hamming = (chars[a] != chars[b]).sum(axis=1)
    maybe = np.flatnonzero(((la == lb) & (hamming <= 2)) | (np.abs(la - lb) == 1))
    if len(maybe):
        out[maybe] = _dl(strings[a[maybe]], strings[b[maybe]], 1) <= 1
    return out


def number_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = _exact(A["number_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 3
    lvl[same] = 1
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        a, b = i[rest], j[rest]
        near = _one_edit_apart(A["number"], A["number_m"], A["number_len"], a, b)
        far = np.flatnonzero(~near)
        near[far] = _one_edit_apart(A["number_z"], A["number_zm"], A["number_zlen"], a[far], b[far])
        lvl[rest[near]] = 2
    return lvl


def numbers_far(a: str, b: str) -> bool:
    """Two membership numbers 2+ edits apart, also after dropping leading zeros.

    Why both: a padded "06934535" that lost a digit reads "0693535"; against the real
    "6934535" that is 2 edits, but 1 edit once the padding zero is gone.
    """
    if a == b:
        return False
    if DamerauLevenshtein.distance(a, b, score_cutoff=2) < 2:
        return False
    return DamerauLevenshtein.distance(a.lstrip("0"), b.lstrip("0"), score_cutoff=2) >= 2


def _unique_pairs(ci: np.ndarray, cj: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (code_i, code_j) pairs and the inverse map: string work once per name pair."""
    m = np.int64(max(int(ci.max(initial=0)), int(cj.max(initial=0))) + 1)
    uniq, inv = np.unique(ci * m + cj, return_inverse=True)
    return uniq // m, uniq % m, inv


def _lens(values: np.ndarray) -> np.ndarray:
    return np.fromiter((len(x) for x in values), np.int32, len(values))


def _first_name_levels(
    a: np.ndarray,
    b: np.ndarray,
    nick_a: np.ndarray,
    nick_b: np.ndarray,
    rare_a: np.ndarray | None = None,
    rare_b: np.ndarray | None = None,
) -> np.ndarray:
    """Level (2 nickname, 3 typo, 4 initial, 5 different) of distinct first-name pairs."""
    la, lb = _lens(a), _lens(b)
    first_a = np.array([x[:1] for x in a], dtype=object)
    first_b = np.array([x[:1] for x in b], dtype=object)
    initial = ((la == 1) | (lb == 1)) & (first_a == first_b)
    # A short form that starts the long one (Ant/Anthony, Sam/Samantha) is a nickname.
    prefix = np.array(
        [
            (len(x) >= 3 and len(y) >= 3 and (x.startswith(y) or y.startswith(x)))
            for x, y in zip(a, b, strict=True)
        ],
        dtype=bool,
    )
    jw = _pairwise(JaroWinkler.normalized_similarity, a, b)
    dl = _dl(a, b, 2)
    # One edit is a typo when the names are long enough or a letter was dropped/added;
    # a substitution in a short name is another name (Tom/Tim, Jon/Jan: twins exist).
    # Swapped letters (Zoe/Zeo) and a rare non-name spelling of a short name (Amy/Amh) are
    # typos too; two real names one letter apart are not.
    anagram = np.array([sorted(x) == sorted(y) for x, y in zip(a, b, strict=True)], dtype=bool)
    rare = np.zeros(len(a), bool) if rare_a is None or rare_b is None else (rare_a | rare_b)
    typo = (
        (jw >= 0.88)
        | (
            (dl <= 1)
            & (
                (np.minimum(la, lb) >= 4)
                | ((la != lb) & (np.minimum(la, lb) >= 2))
                | anagram
                | rare
            )
        )
        | ((dl <= 2) & (np.minimum(la, lb) >= 5) & (first_a == first_b))
    )
    sub = np.full(len(a), 5, np.int8)
    sub[initial] = 4
    sub[typo & (la > 1) & (lb > 1)] = 3
    sub[(nick_a == nick_b) | prefix] = 2
    if rare_a is not None and rare_b is not None:
        sub[_misspelt_short_form(a, b, rare_a, rare_b, sub)] = 3
    return sub


def _misspelt_short_form(
    a: np.ndarray, b: np.ndarray, rare_a: np.ndarray, rare_b: np.ndarray, sub: np.ndarray
) -> np.ndarray:
    """A rare spelling one edit from a name in the other side's family: a nickname with a typo.

    Why: "Lotttie"/"Charlotte", "Cthy"/"Catherine", "Shron"/"Shaz" were refused as different
    first names (the twin guard) although everything else agreed. Only a spelling that is
    not itself a known name qualifies, so two real names (twins) are never joined this way.
    """
    out = np.zeros(len(a), bool)
    for k in np.flatnonzero((sub == 5) & (rare_a | rare_b)).tolist():
        x, y = (a[k], b[k]) if rare_a[k] else (b[k], a[k])
        if len(x) < 3:
            continue
        out[k] = any(
            len(m) >= 2 and DamerauLevenshtein.distance(x, m, score_cutoff=1) <= 1
            for m in family(y)
        )
    return out


def first_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = _exact(A["first_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 5
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        ci, cj = A["first_c"][i[rest]], A["first_c"][j[rest]]
        ui, uj, inv = _unique_pairs(ci, cj)
        nick = A["nick_of_first"]
        rare = A["first_rare"]
        sub = _first_name_levels(
            A["first_u"][ui], A["first_u"][uj], nick[ui], nick[uj], rare[ui], rare[uj]
        )[inv]
        # A middle name used as the first name ("A. John Smith" vs "John Smith").
        fs, ms = A["first_s"], A["mid_s"]
        a, b = i[rest], j[rest]
        mid = ((fs[a] >= 0) & (fs[a] == ms[b])) | ((fs[b] >= 0) & (fs[b] == ms[a]))
        sub[mid & (sub == 5)] = 4
        lvl[rest] = sub
    lvl[same] = 1
    return lvl


def _last_name_levels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Level (2 typo, 3 one contains the other, 4 different) of distinct surname pairs."""
    jw = _pairwise(JaroWinkler.normalized_similarity, a, b)
    contains = np.array(
        [(len(x) > 2 and x in y) or (len(y) > 2 and y in x) for x, y in zip(a, b, strict=True)],
        dtype=bool,
    )
    dl = _dl(a, b, 2)
    short = np.minimum(_lens(a), _lens(b))
    sub = np.full(len(a), 4, np.int8)
    sub[contains] = 3
    sub[(jw >= 0.9) | ((dl <= 1) & (short >= 3))] = 2
    return sub


def last_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = _exact(A["last_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 4
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        ui, uj, inv = _unique_pairs(A["last_c"][i[rest]], A["last_c"][j[rest]])
        lvl[rest] = _last_name_levels(A["last_u"][ui], A["last_u"][uj])[inv]
    lvl[same] = 1
    return lvl


def swapped_names(
    A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """First and last name exchanged between the two records (a common data-entry slip).

    Compared on the first word of each name cell ("Warner | Iain Kyle" vs "Iain | Warner"),
    allowing a typo on each side. Only ``rows`` (pairs whose names disagree) are examined.
    """
    out = np.zeros(len(i), bool)
    if len(rows) == 0:
        return out
    a, b = i[rows], j[rows]
    f1, l1 = A["first"][a], A["last1"][a]
    f2, l2 = A["first"][b], A["last1"][b]
    ok = (
        (A["first_c"][a] >= 0)
        & (A["last1_c"][a] >= 0)
        & (A["first_c"][b] >= 0)
        & (A["last1_c"][b] >= 0)
    )
    s1 = _pairwise(JaroWinkler.normalized_similarity, f1, l2)
    s2 = _pairwise(JaroWinkler.normalized_similarity, l1, f2)
    # A swap rarely comes alone: the given name on the other side is often an initial, a
    # nickname or has a typo ("Shaw | Ian" vs "I | Shaw", "White | Trevor" vs "Trev | White").
    # One side must agree closely (a surname); the other may agree loosely.
    close = (s1 >= 0.9) & (s2 >= 0.9)
    strong = ((s1 >= 0.9) & (_lens(f1) > 1) & (_lens(l2) > 1)) | (
        (s2 >= 0.9) & (_lens(l1) > 1) & (_lens(f2) > 1)
    )
    # The per-pair Python checks (initials, nicknames) only for the few pairs they can decide.
    maybe = np.flatnonzero(ok & ~close & strong)
    loose = np.zeros(len(rows), bool)
    loose[maybe] = ((s1[maybe] >= 0.85) | _given_alike(f1[maybe], l2[maybe])) & (
        (s2[maybe] >= 0.85) | _given_alike(l1[maybe], f2[maybe])
    )
    out[rows] = ok & (close | loose) & (f1 != l1)
    return out


def _given_alike(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two given-name spellings that may be one person: an initial of, or a nickname of."""
    initial = np.array(
        [(len(x) == 1 or len(y) == 1) and x[:1] == y[:1] != "" for x, y in zip(a, b, strict=True)],
        dtype=bool,
    )
    nick = np.array(
        [x != "" and nickname_group(x) == nickname_group(y) for x, y in zip(a, b, strict=True)],
        dtype=bool,
    )
    return initial | nick


def dob_digit_matrix(dob: np.ndarray) -> np.ndarray:
    """yyyymmdd integers as an (n, 8) matrix of digits, computed once per record."""
    out = np.zeros((len(dob), 8), np.uint8)
    x = np.maximum(dob, 0)
    for k in range(7, -1, -1):
        out[:, k] = x % 10
        x = x // 10
    return out


def _dob_compatible_pairs(
    digits: np.ndarray, dob: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Same date, day/month swapped, or one digit off (a typo, not another person), per pair.

    Digits come from the per-record matrix, so a pair costs one row comparison.
    """
    x, y = dob[a], dob[b]
    diffs = (digits[a] != digits[b]).sum(axis=1)
    swap = (x // 10000 == y // 10000) & (x // 100 % 100 == y % 100) & (x % 100 == y // 100 % 100)
    trans = np.zeros(len(a), bool)
    cand = np.flatnonzero(diffs == 2)
    if len(cand):  # strings only for the few pairs two digits apart
        sa, sb = x[cand].astype(str).astype(object), y[cand].astype(str).astype(object)
        trans[cand] = _dl(sa, sb, 1) <= 1
    return (x == y) | swap | (diffs <= 1) | trans


def dob_compatible_one(a: int, b: int) -> bool:
    """Scalar twin of ``_dob_compatible_pairs`` for the clustering loop (no numpy call overhead)."""
    if a == b:
        return True
    if a // 10000 == b // 10000 and a // 100 % 100 == b % 100 and a % 100 == b // 100 % 100:
        return True
    sa, sb = f"{a:08d}", f"{b:08d}"
    diff = [k for k in range(8) if sa[k] != sb[k]]
    if len(diff) <= 1:
        return True
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and sa[diff[0]] == sb[diff[1]]
        and sa[diff[1]] == sb[diff[0]]
    )


def dob_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    a, b = A["dob"][i], A["dob"][j]
    present = (a > 0) & (b > 0)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 4
    idx = np.flatnonzero(present)
    compat = _dob_compatible_pairs(A["dob_digits"], A["dob"], i[idx], j[idx])
    sameyear = (a[idx] // 10000) == (b[idx] // 10000)
    sub = np.full(len(idx), 4, np.int8)
    sub[sameyear] = 3
    sub[compat] = 2
    sub[a[idx] == b[idx]] = 1
    lvl[idx] = sub
    return lvl


def email_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = _exact(A["email_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 3
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        # A typo only: the same local part at another provider is often a namesake
        # ("kelly_white@gmail" vs "kelly_white@hotmail"), not the same person.
        same_digits = A["email_digits_c"][i[rest]] == A["email_digits_c"][j[rest]]
        # "emma.mitchell@" vs "emmamitchell@" (outside Gmail) is another address built from
        # the same name — a namesake's, not a typo.
        same_seps = A["email_letters_c"][i[rest]] != A["email_letters_c"][j[rest]]
        rest = rest[same_digits & same_seps]  # the edit distance only matters for these
        d = _dl(A["email"][i[rest]], A["email"][j[rest]], 1)
        lvl[rest[d <= 1]] = 2
    lvl[same] = 1
    return lvl


def phone_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = _exact(A["phone_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 2
    lvl[same] = 1
    return lvl


def postcode_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = _exact(A["pc_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 4
    _, out = _exact(A["outward_c"], i, j)
    _, sec = _exact(A["sector_c"], i, j)
    lvl[present & out] = 3
    lvl[present & sec] = 2
    lvl[same] = 1
    return lvl


def address_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = _exact(A["addr_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 4
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        # Households repeat: score each distinct pair of addresses once.
        ui, uj, inv = _unique_pairs(A["addr_c"][i[rest]], A["addr_c"][j[rest]])
        addr_u = A["addr_u"]
        sim = _pairwise(token_set_ratio, addr_u[ui], addr_u[uj])[inv]
        _, house = _exact(A["house_c"], i[rest], j[rest])
        sub = np.full(len(rest), 4, np.int8)
        sub[house] = 3
        sub[(sim >= 85) & house] = 2
        sub[(sim >= 92)] = 2
        lvl[rest] = sub
    lvl[same] = 1
    return lvl


def town_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = _exact(A["town_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 2
    lvl[same] = 1
    return lvl


def suffix_conflict(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two different generation suffixes (Jr vs Sr, II vs III): never one person."""
    return (a != "") & (b != "") & (a != b)


def suffix_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    a, b = A["suffix"][i], A["suffix"][j]
    lvl = np.zeros(len(i), np.int8)
    lvl[(a != "") & (a == b)] = 1
    lvl[(a == "") != (b == "")] = 2
    lvl[suffix_conflict(a, b)] = 3
    return lvl


_FUNCS = (
    number_level,
    first_level,
    last_level,
    dob_level,
    email_level,
    phone_level,
    postcode_level,
    address_level,
    town_level,
    suffix_level,
)


def compare(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Level matrix (pairs × comparisons, int8) for candidate pairs (i, j)."""
    out = np.zeros((len(i), len(COMPARISONS)), np.int8)
    for k, fn in enumerate(_FUNCS):
        out[:, k] = fn(A, i, j)
    sw = swapped_names(A, i, j, np.flatnonzero((out[:, 1] == 5) & (out[:, 2] >= 2)))
    out[sw, 1] = 3
    out[sw, 2] = 2
    # Postcode, street and town describe one fact (where someone lives): a move must not be
    # counted three times, so town only speaks when a postcode is missing, and a street that
    # differs adds nothing once the postcodes already differ.
    pc = out[:, 6]
    out[pc > 0, 8] = 0
    out[(pc == 4) & (out[:, 7] == 4), 7] = 0
    return out
