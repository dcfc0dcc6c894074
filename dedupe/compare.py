"""Per-field comparison levels for candidate pairs (Splink-style, vectorised).

Each comparison maps a pair to a small integer level; level 0 always means "one side is
missing" and carries no evidence (a blank DOB is not a disagreement). Levels are declared as
data (``COMPARISONS``) so the report can name them and the model can weigh them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.fuzz import token_set_ratio

from dedupe.compare_names import first_level, last_level, spelling_slips, swapped_names
from dedupe.keys import Keys, house_number, outward_code, per_string
from dedupe.levels import (
    ADDRESS_SIMILAR,
    ADDRESS_SIMILAR_SAME_HOUSE,
    COMPARISONS,
    NUMBER_NEAR_EDITS,
    STAND_IN_MMDD,
    Address,
    Dob,
    Email,
    Field,
    FirstName,
    LastName,
    Number,
    Phone,
    Postcode,
    Suffix,
    Town,
)
from dedupe.nicknames import is_known_name
from dedupe.strings import (
    bounded_dl,
    delete_chars,
    differing_chars,
    exact,
    near_one,
    one_edit_apart,
    record_char_matrix,
    scores_from,
    str_lens,
    unique_pairs,
    within_edits,
    within_one_edit,
)

__all__ = ["COMPARISONS", "compare", "record_arrays"]


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
    counts = np.bincount(first_c[first_c >= 0], minlength=len(first_u))
    known = np.fromiter((is_known_name(x) for x in first_u), bool, len(first_u))
    first_rare, first_meant = spelling_slips(first_u, counts, known)
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
        "last_len": str_lens(last_u),
        "first_u": first_u,
        "last_u": last_u,
        "nick_of_first": nick_of_first,
        "first_rare": first_rare,
        "first_meant": first_meant,
        "first_s": first_s,
        "mid_s": mid_s,
        "last1_c": keys.derived("last1_word", "last_name", _first_word)[0],
        **_swap_arrays(keys),
        "dob": dob,
        "dob_digits": dob_digit_matrix(dob),
        "email": keys.strings("email"),
        "email_c": keys.codes("email"),
        "email_len": np.append(str_lens(keys.factorised("email")[1]), 0)[keys.codes("email")],
        "email_letters_c": keys.derived("email_letters", "email", _email_letters)[0],
        "email_digits_c": keys.derived("email_digits", "email", _email_digits)[0],
        "phone_c": keys.codes("phone"),
        "phone_landline": _landline(keys),
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


_EMAIL_SEPARATORS = b"._-+"
_NOT_DIGIT_OR_AT = bytes(b for b in range(1, 256) if not (48 <= b <= 57 or b == ord("@")))


def _email_letters(email: pd.Series) -> pd.Series:
    """The address without separators ('emma.mitchell@x' -> 'emmamitchell@x')."""
    return delete_chars(email, _EMAIL_SEPARATORS, r"[._\-+]")


def _email_digits(email: pd.Series) -> pd.Series:
    """The address's digits and its '@' only ('kelly_white84@gmail' -> '84@')."""
    return delete_chars(email, _NOT_DIGIT_OR_AT, r"[^0-9@]")


def _word1(name: str) -> str | None:
    words = name.split()
    return words[0] if words else None


#: First word of a surname cell (None when it has none: no key).
_first_word = per_string(_word1)


def _first_word_letters(name: pd.Series) -> pd.Series:
    """First word of a surname cell, lower-case a–z only ('Warner-Smith' -> 'warnersmith')."""
    words = per_string(lambda v: (_word1(v) or "").lower())(name).fillna("")
    return delete_chars(words, _NOT_LOWER_LETTER, r"[^a-z]")


_NOT_LOWER_LETTER = bytes(b for b in range(1, 256) if not 97 <= b <= 122)


def number_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = exact(A["number_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = Number.DIFFERENT
    lvl[same] = Number.EXACT
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        a, b = i[rest], j[rest]
        near = one_edit_apart(A["number"], A["number_m"], A["number_len"], a, b)
        # Leading zeros matter only where a number has them (a padded "06934535").
        zeros = A["number_len"] != A["number_zlen"]
        padded = zeros[a] | zeros[b]
        far = np.flatnonzero(~near & padded)
        near[far] = one_edit_apart(A["number_z"], A["number_zm"], A["number_zlen"], a[far], b[far])
        lvl[rest[near]] = Number.ONE_EDIT
        one = np.flatnonzero(near)
        lvl[rest[one[_consecutive(A, a[one], b[one], ADJACENT_SPAN)]]] = Number.ADJACENT
        far = np.flatnonzero(~near)
        k = NUMBER_NEAR_EDITS
        typo = within_edits(A["number"], A["number_m"], A["number_len"], a[far], b[far], k)
        other = np.flatnonzero(~typo & padded[far])
        typo[other] = within_edits(
            A["number_z"], A["number_zm"], A["number_zlen"], a[far[other]], b[far[other]], k
        )
        near = far[typo]
        lvl[rest[near]] = Number.NEAR
        # Numbers a family got by joining together (5100019, 5100020) are two numbers.
        family = _consecutive(A, a[near], b[near], CONSECUTIVE_SPAN)
        lvl[rest[near[family]]] = Number.DIFFERENT
    return lvl


def _consecutive(A: dict[str, np.ndarray], a: np.ndarray, b: np.ndarray, span: int) -> np.ndarray:
    """``consecutive_numbers`` of records a[k] and b[k] (only a few pairs get here)."""
    numbers = A["number"]
    return np.array(
        [
            consecutive_numbers(x, y, span)
            for x, y in zip(numbers[a].tolist(), numbers[b].tolist(), strict=True)
        ],
        dtype=bool,
    )


#: Numbers at most this far apart as integers were issued together (a family joining at
#: once), not mistyped: 2-3 edits apart only because a carry changed several digits.
CONSECUTIVE_SPAN = 10
#: One edit apart and at most this far apart as integers (5100019, 5100020 or 5100021):
#: ``Number.ADJACENT``, a mistyped last digit or the next member of a family joining together.
ADJACENT_SPAN = 2


def consecutive_numbers(a: str, b: str, span: int = CONSECUTIVE_SPAN) -> bool:
    return a.isdigit() and b.isdigit() and abs(int(a) - int(b)) <= span


def numbers_far(a: str, b: str) -> bool:
    """Two membership numbers more than ``NUMBER_NEAR_EDITS`` apart, also after dropping
    leading zeros: two numbers, not one mistyped (the ``Number.DIFFERENT`` level).

    Why both: a padded "06934535" that lost a digit reads "0693535"; against the real
    "6934535" that is 2 edits, but 1 edit once the padding zero is gone.
    """
    if a == b:
        return False
    za, zb = a.lstrip("0"), b.lstrip("0")
    if _one_edit(a, b) or _one_edit(za, zb):
        return False  # Number.ONE_EDIT or ADJACENT (also "0012345" against "12345")
    k = NUMBER_NEAR_EDITS
    if near_one(a, b, k) or near_one(za, zb, k):
        return consecutive_numbers(a, b)  # NEAR, unless a family's numbers issued together
    return True


def _one_edit(a: str, b: str) -> bool:
    return DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1


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
        trans[cand] = bounded_dl(sa, sb, 1) <= 1
    # A two-digit year mistyped by one digit ("92" for "02") is ten or more years out once
    # the century is added: the same date written yymmdd is one digit apart.
    yy = np.count_nonzero(digits[a, 2:] != digits[b, 2:], axis=1) <= 1
    out: np.ndarray = (x == y) | swap | (diffs <= 1) | trans | yy
    return out


def dob_compatible_one(a: int, b: int) -> bool:
    """Scalar twin of ``_dob_compatible_pairs`` for the clustering loop (no numpy call overhead)."""
    if a == b or a % 10000 == STAND_IN_MMDD or b % 10000 == STAND_IN_MMDD:
        return True
    if a // 10000 == b // 10000 and a // 100 % 100 == b % 100 and a % 100 == b // 100 % 100:
        return True
    sa, sb = f"{a:08d}", f"{b:08d}"
    diff = [k for k in range(8) if sa[k] != sb[k]]
    if len(diff) <= 1 or len([k for k in diff if k >= 2]) <= 1:  # or one digit of yymmdd
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
    lvl[present] = Dob.DIFFERENT
    idx = np.flatnonzero(present)
    sameyear = (a[idx] // 10000) == (b[idx] // 10000)
    same = a[idx] == b[idx]
    sub = np.full(len(idx), Dob.DIFFERENT, np.int8)
    sub[sameyear] = Dob.SAME_YEAR
    differ = np.flatnonzero(~same)  # the same date is EXACT whatever else holds
    compat = _dob_compatible_pairs(A["dob_digits"], A["dob"], i[idx[differ]], j[idx[differ]])
    sub[differ[compat]] = Dob.TYPO
    x, y = a[idx[differ]], b[idx[differ]]
    stand_in = ~compat & ((x % 10000 == STAND_IN_MMDD) | (y % 10000 == STAND_IN_MMDD))
    sub[differ[stand_in]] = Dob.STAND_IN
    sub[same] = Dob.EXACT
    lvl[idx] = sub
    return lvl


def email_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = exact(A["email_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = Email.DIFFERENT
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        # A typo only: the same local part at another provider is often a namesake
        # ("kelly_white@gmail" vs "kelly_white@hotmail"), not the same person.
        same_digits = A["email_digits_c"][i[rest]] == A["email_digits_c"][j[rest]]
        # "emma.mitchell@" vs "emmamitchell@" (outside Gmail) is another address built from
        # the same name — a namesake's, not a typo.
        same_seps = A["email_letters_c"][i[rest]] != A["email_letters_c"][j[rest]]
        rest = rest[same_digits & same_seps]  # the edit distance only matters for these
        elen = A["email_len"]
        rest = rest[np.abs(elen[i[rest]] - elen[j[rest]]) <= 1]  # else 2+ edits apart
        near = within_one_edit(A["email"][i[rest]], A["email"][j[rest]])
        lvl[rest[near]] = Email.ONE_EDIT
    lvl[same] = Email.EXACT
    return lvl


def phone_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = exact(A["phone_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = Phone.DIFFERENT
    lvl[same] = Phone.EXACT
    lvl[same & A["phone_landline"][i]] = Phone.LANDLINE
    return lvl


def _landline(keys: Keys) -> np.ndarray:
    """Per record: its phone is a UK number that is not a mobile (+447…): a household's line."""
    codes, uniques = keys.factorised("phone")
    fixed = np.fromiter(
        (v.startswith("+44") and not v.startswith("+447") for v in uniques), bool, len(uniques)
    )
    out: np.ndarray = np.append(fixed, False)[codes]
    return out


def postcode_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = exact(A["pc_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = Postcode.DIFFERENT
    _, out = exact(A["outward_c"], i, j)
    _, sec = exact(A["sector_c"], i, j)
    lvl[present & out] = Postcode.DISTRICT
    lvl[present & sec] = Postcode.SECTOR
    lvl[same] = Postcode.EXACT
    return lvl


def address_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = exact(A["addr_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = Address.DIFFERENT
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        # Households repeat: score each distinct pair of addresses once.
        ui, uj, inv = unique_pairs(A["addr_c"][i[rest]], A["addr_c"][j[rest]], symmetric=True)
        addr_u = A["addr_u"]
        sim = scores_from(token_set_ratio, addr_u[ui], addr_u[uj], ADDRESS_SIMILAR_SAME_HOUSE)[inv]
        _, house = exact(A["house_c"], i[rest], j[rest])
        sub = np.full(len(rest), Address.DIFFERENT, np.int8)
        sub[house] = Address.HOUSE
        sub[(sim >= ADDRESS_SIMILAR_SAME_HOUSE) & house] = Address.SIMILAR
        sub[sim >= ADDRESS_SIMILAR] = Address.SIMILAR
        lvl[rest] = sub
    lvl[same] = Address.EXACT
    return lvl


def town_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = exact(A["town_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = Town.DIFFERENT
    lvl[same] = Town.EXACT
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
    lvl[has_a & (a == b)] = Suffix.SAME
    lvl[has_a != has_b] = Suffix.ONE_SIDE
    lvl[has_a & has_b & (a != b)] = Suffix.CONFLICT
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
    """Level matrix (pairs x fields, int8; columns ``Field``) for candidate pairs (i, j)."""
    out = np.zeros((len(i), len(COMPARISONS)), np.int8)
    for k, fn in enumerate(_FUNCS):
        out[:, k] = fn(A, i, j)
    first, last = out[:, Field.FIRST_NAME], out[:, Field.LAST_NAME]
    names_differ = (first == FirstName.DIFFERENT) & (last >= LastName.TYPO)
    sw = swapped_names(A, i, j, np.flatnonzero(names_differ))
    first[sw] = FirstName.TYPO
    last[sw] = LastName.TYPO
    # Postcode, street and town describe one fact (where someone lives): a move must not be
    # counted three times, so town only speaks when a postcode is missing, and a street that
    # differs adds nothing once the postcodes already differ.
    pc, addr = out[:, Field.POSTCODE], out[:, Field.ADDRESS]
    out[pc > 0, Field.TOWN] = Town.MISSING
    addr[(pc == Postcode.DIFFERENT) & (addr == Address.DIFFERENT)] = Address.MISSING
    return out
