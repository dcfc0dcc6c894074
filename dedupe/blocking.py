"""Candidate pairs: a union of blocking passes, each an integer-coded key, fully vectorised.

Why: comparing every pair of 1M records is 5·10¹¹ comparisons; each pass below pairs only
records sharing a key. A block larger than ``max_block`` (a shared office email, a big
household postcode) is too weak to be evidence of identity on its own and would explode the
pair count, so it is skipped and reported — other passes still reach its records.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dedupe.keys import Keys, house_number, outward_code, pack_pairs, per_string, unpack_pairs

#: The pass pairing membership numbers one digit apart (run beside the key passes).
NUMBER_EDITS = "number-1-edit+initials"


@dataclass
class Blocking:
    """Candidate pairs (i < j, sorted, unique) and per-pass statistics for the summary."""

    i: np.ndarray
    j: np.ndarray
    passes: dict[str, dict[str, int]] = field(default_factory=dict)


def combine_codes(*cols: np.ndarray) -> np.ndarray:
    """One int64 code per row for a tuple of integer-coded keys; -1 when any part is missing.

    The tuple is combined arithmetically and re-factorised after each part to keep the
    numbers small, so no key strings are ever built.
    """
    combined = np.zeros(len(cols[0]), dtype=np.int64)
    valid = np.ones(len(cols[0]), dtype=bool)
    for codes in cols:
        valid &= codes >= 0
        combined = combined * np.int64(int(codes.max(initial=0)) + 2) + (codes + 1)
        combined = pd.factorize(combined)[0].astype(np.int64)
    return np.where(valid, combined, -1)


def _within_groups(rows: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (rows[p], rows[q]), p < q, with k[p] == k[q], for ``k`` sorted (groups contiguous).

    Ordered by distance q - p, then p. Why not compare k[:-d] with k[d:] for each d: that
    scans every row once per distance (60 scans of 1M rows per pass); here each distance only
    visits the positions whose group still has a member that far ahead.
    """
    n = len(k)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, n])
    rem = np.repeat(starts + sizes, sizes) - np.arange(n) - 1  # later members of my group
    act = np.flatnonzero(rem >= 1)
    xs, ys = [], []
    d = 1
    while len(act):
        xs.append(rows[act])
        ys.append(rows[act + d])
        d += 1
        act = act[rem[act] >= d]
    if not xs:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(xs), np.concatenate(ys)


def block_codes(*cols: np.ndarray) -> np.ndarray:
    """One int64 code per row for a tuple of integer-coded keys; -1 when any part is missing.

    Unlike ``combine_codes`` the codes need not be small (``pairs_from_codes`` finds blocks
    by sorting, not by counting), so the parts are combined arithmetically without a hash
    table per part; only a tuple whose code space would overflow int64 is re-factorised.
    """
    combined = np.zeros(len(cols[0]), dtype=np.int64)
    valid = np.ones(len(cols[0]), dtype=bool)
    space = 1
    for codes in cols:
        valid &= codes >= 0
        radix = int(codes.max(initial=0)) + 2
        if space * radix >= 2**62:
            combined = pd.factorize(combined)[0].astype(np.int64)
            space = int(combined.max(initial=0)) + 1
        combined = combined * np.int64(radix) + (codes + 1)
        space *= radix
    return np.where(valid, combined, -1)


@dataclass
class Blocks:
    """Rows grouped by key: only blocks of 2 to ``max_block`` rows, each block contiguous."""

    rows: np.ndarray
    k: np.ndarray
    oversized_blocks: int
    rows_in_oversized: int


def blocks_of(rows: np.ndarray, k: np.ndarray, max_block: int) -> Blocks:
    """Group ``rows`` by key ``k``, dropping singletons and blocks over ``max_block``.

    Why a hash table first: most keys (a membership number, an email) are held by one record
    only; counting block sizes with ``pd.factorize`` (linear) leaves only the rows that pair
    with someone to sort. Any order within a block will do (pairs are put in (low, high)
    order and deduplicated afterwards), so the sort need not be stable.
    """
    block, _ = pd.factorize(k)
    sizes = np.bincount(block)
    size = sizes[block]
    big = size > max_block
    keep = np.flatnonzero((size >= 2) & ~big)
    block = block[keep]
    order = np.argsort(block)
    return Blocks(rows[keep][order], block[order], int((sizes > max_block).sum()), int(big.sum()))


def pairs_from_codes(codes: np.ndarray, max_block: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """All pairs of rows sharing a code (code -1 = no key); blocks over max_block are skipped.

    Returns (low rows, high rows, oversized blocks, rows in oversized blocks).
    """
    rows = np.flatnonzero(codes >= 0)
    if len(rows) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), 0, 0
    blocks = blocks_of(rows, codes[rows], max_block)
    nb, nr = blocks.oversized_blocks, blocks.rows_in_oversized
    a, b = _within_groups(blocks.rows, blocks.k)
    if len(a) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), nb, nr
    return np.minimum(a, b), np.maximum(a, b), nb, nr


def _deletion_keys(codes: np.ndarray, uniques: np.ndarray, extra: np.ndarray) -> list[np.ndarray]:
    """Integer keys: the number itself and each single-digit deletion of it, with initials.

    Two numbers one substitution, transposition, insertion or deletion apart share at least
    one of these keys, so typo'd numbers meet without comparing all numbers with each other.
    ``uniques`` holds the distinct digit strings, ``codes`` each record's (-1 = none). The
    arithmetic runs on int64 over the distinct numbers (no per-row strings): deleting the
    digit at position p keeps ``full // 10^(len-p)`` on the left and ``full % 10^(len-1-p)``
    on the right.
    """
    lens_u = np.fromiter((len(x) for x in uniques), np.int64, len(uniques))
    full_u = np.asarray(uniques, dtype=np.int64) if len(uniques) else np.zeros(0, np.int64)
    valid = codes >= 0
    lens = np.append(lens_u, np.int64(0))[codes]
    pow10 = 10 ** np.arange(19, dtype=np.int64)
    keys = [np.where(valid, (np.append(full_u, np.int64(0))[codes] * 16 + lens) * 64 + extra, -1)]
    for pos in range(9):
        ok = valid & (pos < lens)
        right_digits = np.clip(lens_u - 1 - pos, 0, 18)
        left = full_u // pow10[np.clip(lens_u - pos, 0, 18)]
        val = np.append(left * pow10[right_digits] + full_u % pow10[right_digits], np.int64(0))
        keys.append(np.where(ok, (val[codes] * 16 + (lens - 1)) * 64 + extra, -1))
    return keys


#: Deletion keys are paired in this many slices of the key space (a key only meets its own
#: slice), so the sort's working memory is a fraction of all ten keys per record at once.
DELETION_SLICES = 4


def _deletion_pairs(dkeys: list[np.ndarray], max_block: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs of rows sharing any deletion key (a key shared by two copies of one row is not)."""
    xs, ys = [], []
    oversized = 0
    for part in range(DELETION_SLICES):
        ks, rs = [], []
        for keys in dkeys:
            mine = np.flatnonzero((keys >= 0) & (keys % DELETION_SLICES == part))
            ks.append(keys[mine])
            rs.append(mine)
        k, rows = np.concatenate(ks), np.concatenate(rs)
        del ks, rs
        if len(k) == 0:
            continue
        blocks = blocks_of(rows, k, max_block)
        del k, rows
        oversized += blocks.oversized_blocks
        x, y = _within_groups(blocks.rows, blocks.k)
        other_row = x != y
        xs.append(np.minimum(x, y)[other_row])
        ys.append(np.maximum(x, y)[other_row])
    if not xs:
        return np.empty(0, np.int64), np.empty(0, np.int64), oversized
    return np.concatenate(xs), np.concatenate(ys), oversized


def _initial(keys: Keys, col: str, width: int) -> tuple[np.ndarray, np.ndarray]:
    return keys.derived(f"{col}[:{width}]", col, per_string(lambda v: v[:width]))


def candidate_pairs(r: pd.DataFrame, max_block: int = 60, keys: Keys | None = None) -> Blocking:
    """Union of the blocking passes over normalised records ``r``."""
    keys = keys or Keys(r)
    first, last = keys.codes("first_key"), keys.codes("last_key")
    first3, last3 = _initial(keys, "first_key", 3)[0], _initial(keys, "last_key", 3)[0]
    init, linit = _initial(keys, "first_key", 1)[0], _initial(keys, "last_key", 1)[0]
    dob_int = r["dob"].to_numpy(dtype=np.int64)
    dob = np.where(dob_int > 0, pd.factorize(dob_int)[0], -1).astype(np.int64)
    year = np.where(dob_int > 0, pd.factorize(dob_int // 10000)[0], -1).astype(np.int64)
    # The name pair in alphabetical order, so "Warner | Iain" meets "Iain | Warner": ranks
    # of one shared sorted vocabulary order the two names like the strings themselves.
    rank = _name_ranks(keys)
    first_r, last_r = rank[0][first], rank[1][last]
    low_first = first_r < last_r
    swapped = np.where(low_first, first_r, last_r)
    other = np.where(low_first, last_r, first_r)
    outward = keys.derived("outward", "postcode", outward_code)[0]
    house = keys.derived("house", "addr_key", house_number)[0]
    postcode = keys.codes("postcode")
    passes: dict[str, list[np.ndarray]] = {
        "number": [keys.codes("number")],
        "email": [keys.codes("email")],
        "phone": [keys.codes("phone")],
        "postcode+initial": [postcode, init],
        "dob+initial": [dob, init],
        "dob+last_initial": [dob, linit],
        "name": [swapped, other],
        "last+nickname": [last, keys.codes("nick_key")],
        "last3+first3+year": [last3, first3, year],
        "first+outward": [first, outward],
        "address+initial": [keys.codes("addr_key"), init],
        "first3+last3+town": [first3, last3, keys.codes("town_key")],
        "postcode+dob": [postcode, dob],
        "postcode+house": [postcode, house],
    }
    n = len(r)
    # Name-only keys grow with the square of a name's frequency ("John Smith" at 1M rows) and
    # rarely carry a match no other pass finds: they get a tighter block cap.
    name_cap = max(2, max_block // 4)
    num_c, num_u = keys.derived("number_unpadded", "number", _unpadded_number)
    initials = combine_codes(linit + 1, init + 1)  # a missing initial is a value ('?') here

    def one_pass(name: str) -> tuple[np.ndarray, dict[str, int]]:
        if name == NUMBER_EDITS:
            a, b, oversized = _deletion_pairs(_deletion_keys(num_c, num_u, initials), max_block)
            stat = {"pairs": len(a), "oversized_blocks": oversized, "rows_in_oversized": 0}
            return pack_pairs(a, b, n), stat
        cap = name_cap if name in ("name", "last+nickname") else max_block
        a, b, nb, nr = pairs_from_codes(block_codes(*passes[name]), cap)
        return pack_pairs(a, b, n), {
            "pairs": len(a),
            "oversized_blocks": nb,
            "rows_in_oversized": nr,
        }

    # The passes are independent and their heavy parts (hash tables of integers, sorts) run in
    # numpy/pandas without the GIL: two threads for the key passes. The number-edit pass, the
    # one with the biggest working set, runs alone first (two at once would add ~90 MB to the
    # peak at 1M rows). Results are taken in pass order and the union is sorted below, so the
    # outcome does not depend on which thread finished first.
    names = [*passes, NUMBER_EDITS]
    edits = one_pass(NUMBER_EDITS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [*pool.map(one_pass, passes), edits]
    packed_parts = [d[0] for d in done]  # each pass's pairs packed as i * n + j (half the memory)
    stats = {name: d[1] for name, d in zip(names, done, strict=True)}
    del done, edits
    # Sorted distinct pairs: a plain sort and a neighbour test (np.unique hashes first, which
    # costs several times more on ~10M keys).
    packed = np.concatenate(packed_parts)
    del packed_parts
    packed.sort()
    if len(packed):
        packed = packed[np.r_[True, packed[1:] != packed[:-1]]]
    return Blocking(*unpack_pairs(packed, n), stats)


def _unpadded(number: str) -> str | None:
    """Digits without leading zeros, when 5 to 9 digits remain (else no deletion keys)."""
    s = number.lstrip("0")
    return s if 5 <= len(s) <= 9 and s.isascii() and s.isdigit() else None


_unpadded_number = per_string(_unpadded)


def _name_ranks(keys: Keys) -> tuple[np.ndarray, np.ndarray]:
    """Alphabetical rank of each distinct first and last name key in one shared vocabulary.

    Index -1 (a missing name) ranks below every name, as '' sorts before any string.
    """
    fu, lu = keys.factorised("first_key")[1], keys.factorised("last_key")[1]
    vocab = np.unique(np.concatenate([fu, lu]).astype(str))
    first_rank = np.searchsorted(vocab, fu.astype(str)).astype(np.int64)
    last_rank = np.searchsorted(vocab, lu.astype(str)).astype(np.int64)
    return np.append(first_rank, -1), np.append(last_rank, -1)
