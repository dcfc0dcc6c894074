"""Per-field comparison levels for candidate pairs (Splink-style, vectorised).

Each comparison maps a pair to a small integer level; level 0 always means "one side is
missing" and carries no evidence (a blank DOB is not a disagreement). Levels are declared as
data (``COMPARISONS``) so the report can name them and the model can weigh them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import infer_dtype
from rapidfuzz import process
from rapidfuzz.distance import OSA, DamerauLevenshtein, JaroWinkler, LCSseq, Prefix
from rapidfuzz.fuzz import token_set_ratio

from dedupe.keys import Keys, house_number, outward_code, per_string
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
    first_s, mid_s = _shared_codes(keys, "first_key", "middle_key")
    valid_pc = r["pc_valid"].fillna(False).to_numpy(dtype=bool)
    sector_c = keys.derived("sector", "postcode", per_string(lambda v: v[:-2]))[0]
    outward_c = keys.derived("outward", "postcode", outward_code)[0]
    number_c, number_u = keys.factorised("number")
    number_zc, number_zu = keys.derived("number_z", "number", _lstrip_zeros)
    number_m, number_len = record_char_matrix(number_c, number_u)
    number_zm, number_zlen = record_char_matrix(number_zc, number_zu)
    dob = r["dob"].to_numpy(dtype=np.int64)
    return {
        "number": keys.strings("number"),
        "number_m": number_m,
        "number_len": number_len,
        "number_zm": number_zm,
        "number_zlen": number_zlen,
        "number_c": number_c,
        "number_z": keys.derived_strings("number_z", "number", _lstrip_zeros),
        "first_c": first_c,
        "last_c": keys.codes("last_key"),
        "last_len": _lens(last_u),
        "first_u": first_u,
        "last_u": last_u,
        "nick_of_first": nick_of_first,
        "first_rare": first_rare,
        "first_s": first_s,
        "mid_s": mid_s,
        "last1_c": keys.derived("last1_word", "last_name", _first_word)[0],
        **_swap_arrays(keys),
        "dob": dob,
        "dob_digits": dob_digit_matrix(dob),
        "email": keys.strings("email"),
        "email_c": keys.codes("email"),
        "email_len": np.append(_lens(keys.factorised("email")[1]), 0)[keys.codes("email")],
        "email_letters_c": keys.derived("email_letters", "email", _email_letters)[0],
        "email_digits_c": keys.derived("email_digits", "email", _email_digits)[0],
        "phone_c": keys.codes("phone"),
        "pc_c": keys.codes("postcode"),
        "sector_c": np.where(valid_pc, sector_c, -1),
        "outward_c": np.where(valid_pc, outward_c, -1),
        "addr_c": keys.codes("addr_key"),
        "addr_u": keys.factorised("addr_key")[1],
        "house_c": keys.derived("house", "addr_key", house_number)[0],
        "town_c": keys.codes("town_key"),
        "suffix_c": _nonblank_codes(keys, "suffix"),
    }


def _swap_arrays(keys: Keys) -> dict[str, np.ndarray]:
    """``_swap_vocabulary`` from the factorised columns: two small vocabularies joined, no
    per-record strings hashed."""
    fc, fu = keys.factorised("first_key")
    lc, lu = keys.derived("last1", "last_name", _first_word_letters)
    blank = np.array([""], dtype=object)
    codes, vocab = pd.factorize(np.concatenate([fu, lu, blank]))
    codes = codes.astype(np.int64)
    to_first = np.append(codes[: len(fu)], codes[-1])  # code -1 (missing) reads ''
    to_last1 = np.append(codes[len(fu) : len(fu) + len(lu)], codes[-1])
    return {
        "swap_first": to_first[fc],
        "swap_last1": to_last1[lc],
        "swap_vocab": np.asarray(vocab, dtype=object),
    }


_lstrip_zeros = per_string(lambda v: v.lstrip("0"))


def _shared_codes(keys: Keys, col_a: str, col_b: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes of two columns in one shared numbering (equal code <=> equal string; -1 missing).

    Built from each column's own codes and a join of the two small vocabularies, instead of
    hashing both million-row columns again.
    """
    ca, ua = keys.factorised(col_a)
    cb, ub = keys.factorised(col_b)
    vocab = pd.factorize(np.concatenate([ua, ub]))[0].astype(np.int64)
    none = np.array([-1], np.int64)
    return np.append(vocab[: len(ua)], none)[ca], np.append(vocab[len(ua) :], none)[cb]


def _nonblank_codes(keys: Keys, col: str) -> np.ndarray:
    """A column's codes with the blank value counted as missing (-1), like ``strings() == ''``."""
    codes, uniques = keys.factorised(col)
    blank = np.append(uniques == "", True)
    return np.where(blank[codes], -1, codes)


def _delete_chars(values: pd.Series, delete: bytes, pattern: str) -> pd.Series:
    """Each string with the characters matched by ``pattern`` removed; ``delete`` is the same
    set as bytes (ASCII bytes, plus every byte >= 0x80 when non-ASCII characters go too).

    Why bytes: one ``bytes.translate`` over all values joined is ~20x cheaper than a regex
    substitution per value. UTF-8 never puts an ASCII byte inside a multi-byte character, so
    deleting ASCII bytes deletes exactly those characters, and deleting all bytes >= 0x80
    deletes exactly the non-ASCII characters. Values that are not all strings, or hold the
    separator, take the regex.
    """
    strings = values.tolist()
    blob = _SEP.join(strings) if infer_dtype(strings, skipna=False) == "string" else None
    if not strings or blob is None or blob.count(_SEP) != len(strings) - 1:
        return values.str.replace(pattern, "", regex=True)
    try:
        encoded = blob.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (undecodable input kept as such)
        return values.str.replace(pattern, "", regex=True)
    parts = encoded.translate(None, delete).decode("utf-8").split(_SEP)
    return pd.Series(np.array(parts, dtype=object), index=values.index, copy=False)


_SEP = "\x00"
_EMAIL_SEPARATORS = b"._-+"
_NOT_DIGIT_OR_AT = bytes(b for b in range(1, 256) if not (48 <= b <= 57 or b == ord("@")))


def _email_letters(email: pd.Series) -> pd.Series:
    """The address without separators ('emma.mitchell@x' -> 'emmamitchell@x')."""
    return _delete_chars(email, _EMAIL_SEPARATORS, r"[._\-+]")


def _email_digits(email: pd.Series) -> pd.Series:
    """The address's digits and its '@' only ('kelly_white84@gmail' -> '84@')."""
    return _delete_chars(email, _NOT_DIGIT_OR_AT, r"[^0-9@]")


def _word1(name: str) -> str | None:
    words = name.split()
    return words[0] if words else None


#: First word of a surname cell (None when it has none: no key).
_first_word = per_string(_word1)


def _first_word_letters(name: pd.Series) -> pd.Series:
    """First word of a surname cell, lower-case a–z only ('Warner-Smith' -> 'warnersmith')."""
    words = per_string(lambda v: (_word1(v) or "").lower())(name).fillna("")
    return _delete_chars(words, _NOT_LOWER_LETTER, r"[^a-z]")


_NOT_LOWER_LETTER = bytes(b for b in range(1, 256) if not 97 <= b <= 122)


def _exact(c: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = c[i], c[j]
    present = (a >= 0) & (b >= 0)
    return present, present & (a == b)


def _pairwise(
    scorer: Callable[..., Any],
    a: np.ndarray,
    b: np.ndarray,
    dtype: npt.DTypeLike = np.float32,
    **kw: Any,
) -> np.ndarray:
    """scorer(a[k], b[k]) for every k, in C, on both cores."""
    if len(a) == 0:
        return np.zeros(0, dtype=dtype)
    out: np.ndarray = process.cpdist(list(a), list(b), scorer=scorer, dtype=dtype, workers=-1, **kw)
    return out


def _scores_from(
    scorer: Callable[..., Any], a: np.ndarray, b: np.ndarray, lowest: float
) -> np.ndarray:
    """``_pairwise`` scores (float32), exact from ``lowest`` up and 0 below it.

    Callers only compare scores with thresholds >= ``lowest``, and rapidfuzz skips work on
    pairs that cannot reach a cutoff. The cutoff sits a hair below ``lowest``: a score just
    under it in float64 may round up to ``lowest`` in float32, which is what gets compared.
    """
    return _pairwise(scorer, a, b, score_cutoff=lowest - 1e-4)


def _dl(a: np.ndarray, b: np.ndarray, cutoff: int) -> np.ndarray:
    """Damerau-Levenshtein distance, exact up to ``cutoff`` (``cutoff + 1`` = "more than that").

    Callers only ask "at most 1 (or 2) edits?", and a bounded distance is much cheaper.
    """
    return _pairwise(DamerauLevenshtein.distance, a, b, dtype=np.int32, score_cutoff=cutoff)


def char_matrix(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strings as a (n, width) matrix of code points plus their lengths (for pair prefilters).

    Rows are zero-padded to a multiple of 8 bytes so ``differing_chars`` can compare them a
    64-bit word at a time.
    """
    lens = _lens(values)
    width = max(1, int(lens.max(initial=0)))
    raw = np.asarray(values, dtype=f"U{width}").tobytes()
    chars = np.frombuffer(raw, np.uint32).reshape(-1, width)
    if chars.max(initial=0) < 256:  # digits and Latin-1: a quarter of the memory traffic
        chars = chars.astype(np.uint8)
    per_word = 8 // chars.itemsize
    padded = np.zeros((len(chars), -(-width // per_word) * per_word), chars.dtype)
    padded[:, :width] = chars
    return padded, lens


def record_char_matrix(codes: np.ndarray, uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``char_matrix`` of a factorised column per record ('' where missing), built once per
    distinct value and gathered by code."""
    chars, lens = char_matrix(np.append(uniques, np.array([""], dtype=object)))
    return chars[codes], lens[codes]


#: Per character width in bytes: a mask with the lowest bit of every character in a word.
_LOW_BITS = {1: 0x0101010101010101, 2: 0x0001000100010001, 4: 0x0000000100000001}


def differing_chars(chars: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of positions where rows a[k] and b[k] of a ``char_matrix`` differ.

    Why words: XOR of two 64-bit words, then OR-folding each character's bits onto its
    lowest bit and summing those bits (one multiply: the sum lands in the top character),
    counts up to 8 differing characters in a few operations (numpy < 2 has no popcount).
    """
    words = chars.view(np.uint64)
    width_bits = 8 * chars.itemsize
    low = np.uint64(_LOW_BITS[chars.itemsize])
    count = np.zeros(len(a), np.int32)
    for w in range(words.shape[1]):
        col = np.ascontiguousarray(words[:, w])
        x = col[a] ^ col[b]
        shift = width_bits // 2
        while shift:
            x |= x >> np.uint64(shift)
            shift //= 2
        count += (((x & low) * low) >> np.uint64(64 - width_bits)).astype(np.int32)
    return count


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
    maybe = np.flatnonzero(
        ((la == lb) & (differing_chars(chars, a, b) <= 2)) | (np.abs(la - lb) == 1)
    )
    if len(maybe):
        out[maybe] = _within_one_edit(strings[a[maybe]], strings[b[maybe]])
    return out


def _within_one_edit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Damerau-Levenshtein distance <= 1, element-wise.

    At most one edit, the restricted (OSA) and the true Damerau-Levenshtein distance agree,
    and OSA is bit-parallel in rapidfuzz: several times cheaper.
    """
    return _pairwise(OSA.distance, a, b, dtype=np.int32, score_cutoff=1) <= 1


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


def _unique_pairs(
    ci: np.ndarray, cj: np.ndarray, symmetric: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (code_i, code_j) pairs and the inverse map: string work once per name pair.

    ``symmetric``: (x, y) and (y, x) are one pair (for a score that does not depend on the
    order of its arguments): a quarter to a third fewer pairs to score.
    """
    if symmetric:
        ci, cj = np.minimum(ci, cj), np.maximum(ci, cj)
    m = np.int64(max(int(ci.max(initial=0)), int(cj.max(initial=0))) + 1)
    # A hash table, not a sort: the distinct pairs may come in any order.
    inv, uniq = pd.factorize(ci * m + cj)
    return uniq // m, uniq % m, inv


def _lens(values: np.ndarray) -> np.ndarray:
    return np.fromiter(map(len, values), np.int32, len(values))


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
    short = np.minimum(la, lb)
    common = _pairwise(Prefix.similarity, a, b, dtype=np.int32)  # shared leading letters
    same_initial = (common >= 1) | ((la == 0) & (lb == 0))
    initial = ((la == 1) | (lb == 1)) & same_initial
    # A short form that starts the long one (Ant/Anthony, Sam/Samantha) is a nickname.
    nickname = (nick_a == nick_b) | ((short >= 3) & (common == short))
    rare = np.zeros(len(a), bool) if rare_a is None or rare_b is None else (rare_a | rare_b)
    sub = np.full(len(a), 5, np.int8)
    sub[initial] = 4
    # A typo only matters where no nickname rule wins and both names are longer than initials.
    open_ = np.flatnonzero((la > 1) & (lb > 1) & ~nickname)
    typo = _first_name_typos(
        a[open_], b[open_], la[open_], lb[open_], same_initial[open_], rare[open_]
    )
    sub[open_[typo]] = 3
    sub[nickname] = 2
    if rare_a is not None and rare_b is not None:
        sub[_misspelt_short_form(a, b, rare_a, rare_b, sub)] = 3
    return sub


def _first_name_typos(
    a: np.ndarray,
    b: np.ndarray,
    la: np.ndarray,
    lb: np.ndarray,
    same_initial: np.ndarray,
    rare: np.ndarray,
) -> np.ndarray:
    """Which first-name pairs are one name with a typo.

    One edit is a typo when the names are long enough or a letter was dropped/added;
    a substitution in a short name is another name (Tom/Tim, Jon/Jan: twins exist).
    Swapped letters (Zoe/Zeo) and a rare non-name spelling of a short name (Amy/Amh) are
    typos too; two real names one letter apart are not. The edit distance is computed only
    where Jaro-Winkler has not decided, and the anagram test only where it decides.
    """
    short = np.minimum(la, lb)
    typo = _scores_from(JaroWinkler.normalized_similarity, a, b, 0.88) >= 0.88
    need = np.flatnonzero(~typo & (np.abs(la - lb) <= 2))  # else 3+ edits apart
    dl = _dl(a[need], b[need], 2)
    one = dl <= 1
    long_enough = (short[need] >= 4) | ((la[need] != lb[need]) & (short[need] >= 2)) | rare[need]
    undecided = np.flatnonzero(one & ~long_enough)
    anagram = np.zeros(len(need), bool)
    anagram[undecided] = [
        sorted(x) == sorted(y) for x, y in zip(a[need[undecided]], b[need[undecided]], strict=True)
    ]
    typo[need] = (one & (long_enough | anagram)) | (
        (dl <= 2) & (short[need] >= 5) & same_initial[need]
    )
    return typo


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
        differ = np.flatnonzero(sub == 5)
        a, b = i[rest[differ]], j[rest[differ]]
        mid = ((fs[a] >= 0) & (fs[a] == ms[b])) | ((fs[b] >= 0) & (fs[b] == ms[a]))
        sub[differ[mid]] = 4
        lvl[rest] = sub
    lvl[same] = 1
    return lvl


def _last_name_levels(a: np.ndarray, b: np.ndarray, la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """Level (2 typo, 3 one contains the other, 4 different) of distinct surname pairs.

    A typo (Jaro-Winkler >= 0.9, or one edit in a name of 3+ letters) wins over containment,
    so each test runs only on the pairs the earlier ones left open. Containment needs the
    shorter name to be a subsequence of the longer (LCS = its length, bit-parallel in C):
    only those few pairs reach the Python substring test.
    """
    short = np.minimum(la, lb)
    similar = _scores_from(JaroWinkler.normalized_similarity, a, b, 0.9) >= 0.9
    maybe = np.flatnonzero(~similar & (short >= 3) & (np.abs(la - lb) <= 1))
    similar[maybe] = _within_one_edit(a[maybe], b[maybe])
    rest = np.flatnonzero(~similar & (short > 2))
    lcs = _pairwise(LCSseq.similarity, a[rest], b[rest], dtype=np.int32)
    cand = rest[lcs == short[rest]]
    contains = np.zeros(len(a), bool)
    contains[cand] = [
        (len(x) > 2 and x in y) or (len(y) > 2 and y in x)
        for x, y in zip(a[cand], b[cand], strict=True)
    ]
    sub = np.full(len(a), 4, np.int8)
    sub[contains] = 3
    sub[similar] = 2
    return sub


def last_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = _exact(A["last_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = 4
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        ui, uj, inv = _unique_pairs(A["last_c"][i[rest]], A["last_c"][j[rest]], symmetric=True)
        lens = A["last_len"]
        lvl[rest] = _last_name_levels(A["last_u"][ui], A["last_u"][uj], lens[ui], lens[uj])[inv]
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
    first, last1, vocab = _swap_vocabulary(A)
    f1, l1, f2, l2 = first[a], last1[a], first[b], last1[b]
    ok = (
        (A["first_c"][a] >= 0)
        & (A["last1_c"][a] >= 0)
        & (A["first_c"][b] >= 0)
        & (A["last1_c"][b] >= 0)
        & (f1 != l1)
    )
    sel = np.flatnonzero(ok)
    f1, l1, f2, l2 = f1[sel], l1[sel], f2[sel], l2[sel]
    # Jaro-Winkler is symmetric, so s2 = JW(l1, f2) = JW(f2, l1): both are scores of
    # (first name, surname word) pairs, each distinct pair scored once.
    size = np.int64(len(vocab))
    sims = _vocabulary_scores(vocab, np.concatenate([f1 * size + l2, f2 * size + l1]), 0.85)
    s1, s2 = sims[: len(sel)], sims[len(sel) :]
    lens = _lens(vocab)
    # A swap rarely comes alone: the given name on the other side is often an initial, a
    # nickname or has a typo ("Shaw | Ian" vs "I | Shaw", "White | Trevor" vs "Trev | White").
    # One side must agree closely (a surname); the other may agree loosely.
    close = (s1 >= 0.9) & (s2 >= 0.9)
    strong = ((s1 >= 0.9) & (lens[f1] > 1) & (lens[l2] > 1)) | (
        (s2 >= 0.9) & (lens[l1] > 1) & (lens[f2] > 1)
    )
    # The per-pair Python checks (initials, nicknames) only for the few pairs they can decide.
    maybe = np.flatnonzero(~close & strong)
    loose = np.zeros(len(sel), bool)
    loose[maybe] = ((s1[maybe] >= 0.85) | _given_alike(vocab[f1[maybe]], vocab[l2[maybe]])) & (
        (s2[maybe] >= 0.85) | _given_alike(vocab[l1[maybe]], vocab[f2[maybe]])
    )
    out[rows[sel]] = close | loose
    return out


def _swap_vocabulary(A: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per record, codes of ``first`` and ``last1`` in one vocabulary (equal code <=> equal
    string, '' included), and that vocabulary. ``record_arrays`` builds them once from the
    factorised columns; otherwise they come from per-record strings ``first`` and ``last1``."""
    if "swap_vocab" in A:
        return A["swap_first"], A["swap_last1"], A["swap_vocab"]
    n = len(A["first"])
    codes, vocab = pd.factorize(np.concatenate([A["first"], A["last1"]]))
    return codes[:n].astype(np.int64), codes[n:].astype(np.int64), np.asarray(vocab, dtype=object)


def _vocabulary_scores(vocab: np.ndarray, pair: np.ndarray, lowest: float) -> np.ndarray:
    """Jaro-Winkler of vocab[x] and vocab[y] for each ``pair`` = x * len(vocab) + y (exact
    from ``lowest`` up), once per distinct pair (one int64 per pair keeps memory low)."""
    if len(pair) == 0:
        return np.zeros(0, np.float32)
    inv, uniq = pd.factorize(pair)
    size = len(vocab)
    scores = _scores_from(
        JaroWinkler.normalized_similarity, vocab[uniq // size], vocab[uniq % size], lowest
    )
    out: np.ndarray = scores[inv]
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
    out: np.ndarray = initial | nick
    return out


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
    diffs = differing_chars(digits, a, b)
    swap = (x // 10000 == y // 10000) & (x // 100 % 100 == y % 100) & (x % 100 == y // 100 % 100)
    trans = np.zeros(len(a), bool)
    cand = np.flatnonzero(diffs == 2)
    if len(cand):  # strings only for the few pairs two digits apart
        sa, sb = x[cand].astype(str).astype(object), y[cand].astype(str).astype(object)
        trans[cand] = _dl(sa, sb, 1) <= 1
    out: np.ndarray = (x == y) | swap | (diffs <= 1) | trans
    return out


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
    sameyear = (a[idx] // 10000) == (b[idx] // 10000)
    same = a[idx] == b[idx]
    sub = np.full(len(idx), 4, np.int8)
    sub[sameyear] = 3
    differ = np.flatnonzero(~same)  # the same date is level 1 whatever else holds
    compat = _dob_compatible_pairs(A["dob_digits"], A["dob"], i[idx[differ]], j[idx[differ]])
    sub[differ[compat]] = 2
    sub[same] = 1
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
        lens = A["email_len"]
        rest = rest[np.abs(lens[i[rest]] - lens[j[rest]]) <= 1]  # else 2+ edits apart
        near = _within_one_edit(A["email"][i[rest]], A["email"][j[rest]])
        lvl[rest[near]] = 2
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
        ui, uj, inv = _unique_pairs(A["addr_c"][i[rest]], A["addr_c"][j[rest]], symmetric=True)
        addr_u = A["addr_u"]
        sim = _scores_from(token_set_ratio, addr_u[ui], addr_u[uj], 85.0)[inv]
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
    out: np.ndarray = (a != "") & (b != "") & (a != b)
    return out


def suffix_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``suffix_conflict`` and friends on codes (-1 = blank): no string comparisons per pair."""
    a, b = A["suffix_c"][i], A["suffix_c"][j]
    has_a, has_b = a >= 0, b >= 0
    lvl = np.zeros(len(i), np.int8)
    lvl[has_a & (a == b)] = 1
    lvl[has_a != has_b] = 2
    lvl[has_a & has_b & (a != b)] = 3
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
