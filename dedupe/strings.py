"""Vectorised string distances for candidate pairs: rapidfuzz on both cores, prefilters in numpy.

Why a module of its own: every comparison needs "scorer(a[k], b[k]) for millions of k" and
"are these two strings at most one edit apart", and each has a fast path worth keeping once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import infer_dtype
from rapidfuzz import process
from rapidfuzz.distance import OSA, DamerauLevenshtein

from dedupe.keys import pack_pairs, unpack_pairs


def delete_chars(values: pd.Series, delete: bytes, pattern: str) -> pd.Series:
    """Each string with the characters matched by ``pattern`` removed; ``delete`` is the same
    set as bytes (ASCII bytes, plus every byte >= 0x80 when non-ASCII characters go too).

    Why bytes: one ``bytes.translate`` over all values joined is ~20x cheaper than a regex
    substitution per value. UTF-8 never puts an ASCII byte inside a multi-byte character, so
    deleting ASCII bytes deletes exactly those characters, and deleting all bytes >= 0x80
    deletes exactly the non-ASCII characters. Values that are not all strings, or hold the
    separator, take the regex.
    """
    strings = values.tolist()
    blob = SEP.join(strings) if infer_dtype(strings, skipna=False) == "string" else None
    if not strings or blob is None or blob.count(SEP) != len(strings) - 1:
        return values.str.replace(pattern, "", regex=True)
    try:
        encoded = blob.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (undecodable input kept as such)
        return values.str.replace(pattern, "", regex=True)
    parts = encoded.translate(None, delete).decode("utf-8").split(SEP)
    return pd.Series(np.array(parts, dtype=object), index=values.index, copy=False)


SEP = "\x00"


def pairwise(
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


def scores_from(
    scorer: Callable[..., Any], a: np.ndarray, b: np.ndarray, lowest: float
) -> np.ndarray:
    """``pairwise`` scores (float32), exact from ``lowest`` up and 0 below it.

    Callers only compare scores with thresholds >= ``lowest``, and rapidfuzz skips work on
    pairs that cannot reach a cutoff. The cutoff sits a hair below ``lowest``: a score just
    under it in float64 may round up to ``lowest`` in float32, which is what gets compared.
    """
    return pairwise(scorer, a, b, score_cutoff=lowest - 1e-4)


def bounded_dl(a: np.ndarray, b: np.ndarray, cutoff: int) -> np.ndarray:
    """Damerau-Levenshtein distance, exact up to ``cutoff`` (``cutoff + 1`` = "more than that").

    Callers only ask "at most 1 (or 2) edits?", and a bounded distance is much cheaper.
    """
    return pairwise(DamerauLevenshtein.distance, a, b, dtype=np.int32, score_cutoff=cutoff)


def char_matrix(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strings as a (n, width) matrix of code points plus their lengths (for pair prefilters).

    Rows are zero-padded to a multiple of 8 bytes so ``differing_chars`` can compare them a
    64-bit word at a time.
    """
    lens = str_lens(values)
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


def differing_chars(
    chars: np.ndarray, a: np.ndarray, b: np.ndarray, other: np.ndarray | None = None
) -> np.ndarray:
    """Number of positions where rows a[k] and b[k] of a ``char_matrix`` differ (row b[k] of
    ``other``, a matrix of the same shape, when given).

    Why words: XOR of two 64-bit words, then OR-folding each character's bits onto its
    lowest bit and summing those bits (one multiply: the sum lands in the top character),
    counts up to 8 differing characters in a few operations (numpy < 2 has no popcount).
    """
    words = chars.view(np.uint64)
    words_b = words if other is None else other.view(np.uint64)
    width_bits = 8 * chars.itemsize
    low = np.uint64(_LOW_BITS[chars.itemsize])
    count = np.zeros(len(a), np.int32)
    for w in range(words.shape[1]):
        col = np.ascontiguousarray(words[:, w])
        col_b = col if other is None else np.ascontiguousarray(words_b[:, w])
        x = col[a] ^ col_b[b]
        shift = width_bits // 2
        while shift:
            x |= x >> np.uint64(shift)
            shift //= 2
        count += (((x & low) * low) >> np.uint64(64 - width_bits)).astype(np.int32)
    return count


def one_edit_apart(
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
        out[maybe] = within_one_edit(strings[a[maybe]], strings[b[maybe]])
    return out


def within_edits(
    strings: np.ndarray, chars: np.ndarray, lens: np.ndarray, a: np.ndarray, b: np.ndarray, k: int
) -> np.ndarray:
    """Damerau-Levenshtein distance <= k between records a[k] and b[k], for the slips a
    mistyped number shows: substitutions and adjacent swaps, characters lost or added, and a
    character dropped at one end with one added at the other (1234567 / 2345678). The exact
    distance is computed only for pairs a prefilter lets through (``near_one`` is the same
    rule for one pair); rarer shapes — a character moved inside the string together with
    another slip — count as more than k edits apart: two numbers, the cautious reading.
    """
    out = np.zeros(len(a), bool)
    if len(a) == 0:
        return out
    la, lb = lens[a], lens[b]
    gap = np.abs(la - lb)
    same_len = gap == 0
    differ = differing_chars(chars, a, b)
    close = same_len & (differ <= k)
    # Between k and 2k differing positions, k edits need adjacent swaps (one edit, two
    # positions each): count them on those pairs only (a Hamming filter of 2k passes half
    # of all pairs of 7-digit numbers).
    swaps = np.flatnonzero(same_len & (differ > k) & (differ <= 2 * k))
    if len(swaps):
        close[swaps] = differ[swaps] - _adjacent_swaps(chars, a[swaps], b[swaps]) <= k
    # A character dropped at one end and one added at the other shifts every position in
    # two edits (1234567 / 2345678): compare each string shifted by one against the other.
    shifted = np.zeros_like(chars)
    shifted[:, :-1] = chars[:, 1:]
    rest = np.flatnonzero(same_len & ~close)
    near = (differing_chars(shifted, a[rest], b[rest], chars) <= k - 1) | (
        differing_chars(chars, a[rest], b[rest], shifted) <= k - 1
    )
    close[rest[near]] = True
    maybe = np.flatnonzero(close | ((gap > 0) & (gap <= k)))
    if len(maybe):
        out[maybe] = bounded_dl(strings[a[maybe]], strings[b[maybe]], k) <= k
    return out


def near_one(x: str, y: str, k: int) -> bool:
    """``within_edits`` for one pair of strings (the clustering's scalar check)."""
    n = len(x)
    if abs(n - len(y)) > k:
        return False
    if n == len(y):
        differ = sum(1 for p in range(n) if x[p] != y[p])
        swaps = sum(
            1
            for p in range(n - 1)
            if x[p] != y[p] and x[p + 1] != y[p + 1] and x[p] == y[p + 1] and x[p + 1] == y[p]
        )
        left = sum(1 for p in range(n - 1) if x[p + 1] != y[p]) + 1
        right = sum(1 for p in range(n - 1) if x[p] != y[p + 1]) + 1
        close = differ <= k or (differ <= 2 * k and differ - swaps <= k)
        if not (close or min(left, right) <= k - 1):
            return False
    return bool(DamerauLevenshtein.distance(x, y, score_cutoff=k + 1) <= k)


def _adjacent_swaps(chars: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: positions p where rows a and b hold two characters swapped (xy / yx); an
    overlapping count only ever lets more pairs through to the exact distance."""
    ca, cb = chars[a], chars[b]
    diff = ca != cb
    swapped = diff[:, :-1] & diff[:, 1:] & (ca[:, :-1] == cb[:, 1:]) & (ca[:, 1:] == cb[:, :-1])
    out: np.ndarray = swapped.sum(axis=1)
    return out


def within_one_edit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Damerau-Levenshtein distance <= 1, element-wise.

    At most one edit, the restricted (OSA) and the true Damerau-Levenshtein distance agree,
    and OSA is bit-parallel in rapidfuzz: several times cheaper.
    """
    return pairwise(OSA.distance, a, b, dtype=np.int32, score_cutoff=1) <= 1


def unique_pairs(
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
    inv, uniq = pd.factorize(pack_pairs(ci, cj, int(m)))
    ui, uj = unpack_pairs(uniq, int(m))
    return ui, uj, inv


def str_lens(values: np.ndarray) -> np.ndarray:
    return np.fromiter(map(len, values), np.int32, len(values))


def exact(c: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = c[i], c[j]
    present = (a >= 0) & (b >= 0)
    return present, present & (a == b)
