"""Candidate pairs: a union of blocking passes, each an integer-coded key, fully vectorised.

Why: comparing every pair of 1M records is 5·10¹¹ comparisons; each pass below pairs only
records sharing a key. A block larger than ``max_block`` (a shared office email, a big
household postcode) is too weak to be evidence of identity on its own and would explode the
pair count, so it is skipped and reported — other passes still reach its records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dedupe.normalise import by_distinct


@dataclass
class Blocking:
    """Candidate pairs (i < j, sorted, unique) and per-pass statistics for the summary."""

    i: np.ndarray
    j: np.ndarray
    passes: dict[str, dict[str, int]] = field(default_factory=dict)


def _codes(*cols: pd.Series, cache: dict[int, tuple[np.ndarray, int]] | None = None) -> np.ndarray:
    """One int64 code per row for the tuple of key columns; -1 when any part is missing.

    Each column is factorised to integers once (``cache``, keyed by the column object, shares
    that work between passes using the same column) and the tuple is combined
    arithmetically, so no key strings are ever built.
    """
    combined = np.zeros(len(cols[0]), dtype=np.int64)
    valid = np.ones(len(cols[0]), dtype=bool)
    for c in cols:
        hit = cache.get(id(c)) if cache is not None else None
        if hit is None:
            fc, uniq = pd.factorize(c, use_na_sentinel=True)
            hit = (fc.astype(np.int64), len(uniq))
            if cache is not None:
                cache[id(c)] = hit
        codes, n_uniq = hit
        valid &= codes >= 0
        combined = combined * np.int64(n_uniq + 1) + codes
        # keep the numbers small: re-factorise the partial tuple
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


def pairs_from_codes(codes: np.ndarray, max_block: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """All pairs of rows sharing a code (code -1 = no key); blocks over max_block are skipped."""
    rows = np.flatnonzero(codes >= 0)
    if len(rows) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), 0, 0
    k = codes[rows]
    order = np.argsort(k, kind="stable")  # rows ascend already: same as lexsort((rows, k))
    rows, k = rows[order], k[order]
    counts = np.bincount(k)
    size = counts[k]
    big = size > max_block
    n_big_blocks = int((counts > max_block).sum())
    n_big_rows = int(big.sum())
    rows, k = rows[~big], k[~big]
    a, b = _within_groups(rows, k)
    if len(a) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), n_big_blocks, n_big_rows
    return np.minimum(a, b), np.maximum(a, b), n_big_blocks, n_big_rows


def _deletion_keys(number: pd.Series, extra: pd.Series) -> list[np.ndarray]:
    """Integer keys: the number itself and each single-digit deletion of it, with an initial.

    Two numbers one substitution, transposition, insertion or deletion apart share at least one
    of these keys, so typo'd numbers meet without comparing all numbers with each other.
    Computed on a digit matrix with numpy (no per-row strings).
    """
    valid = number.notna().to_numpy()
    s = number.fillna("").to_numpy(dtype=object)
    width = 9
    lens = np.fromiter((len(x) for x in s), np.int64, len(s))
    padded = np.array([x.rjust(width, "0")[-width:] for x in s], dtype=f"S{width}")
    digits = (
        np.frombuffer(padded.tobytes(), dtype=np.uint8).reshape(-1, width).astype(np.int64) - 48
    )
    ext = pd.factorize(extra)[0].astype(np.int64)
    keys = []
    pow10 = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    full = digits @ pow10
    keys.append(np.where(valid, (full * 16 + lens) * 64 + ext, -1))
    for pos in range(width):
        # delete the digit at position `pos` counted from the left of the real number
        col = width - lens + pos  # column in the padded matrix
        ok = valid & (pos < lens)
        rows = np.arange(len(s))
        colc = np.clip(col, 0, width - 1)
        left = np.zeros(len(s), np.int64)
        right = np.zeros(len(s), np.int64)
        for c in range(width):
            d = digits[:, c]
            left = np.where(c < colc, left * 10 + d, left)
            right = np.where(c > colc, right * 10 + d, right)
        ndig_right = width - 1 - colc
        val = left * (10**ndig_right) + right
        del rows
        keys.append(np.where(ok, (val * 16 + (lens - 1)) * 64 + ext, -1))
    return keys


def candidate_pairs(r: pd.DataFrame, max_block: int = 60) -> Blocking:
    """Union of the blocking passes over normalised records ``r``."""
    first3 = by_distinct(r["first_key"], lambda x: x.str.slice(0, 3))
    last3 = by_distinct(r["last_key"], lambda x: x.str.slice(0, 3))
    init = by_distinct(r["first_key"], lambda x: x.str.slice(0, 1))
    linit = by_distinct(r["last_key"], lambda x: x.str.slice(0, 1))
    year = (r["dob"] // 10000).where(r["dob"] > 0, None).astype("Int64").astype(object)
    dob = r["dob"].where(r["dob"] > 0, None).astype("Int64").astype(object)
    swapped = r["first_key"].where(
        r["first_key"].fillna("") < r["last_key"].fillna(""), r["last_key"]
    )
    other = r["last_key"].where(
        r["first_key"].fillna("") < r["last_key"].fillna(""), r["first_key"]
    )
    outward = by_distinct(r["postcode"], lambda x: x.str.split(" ").str[0])
    house = by_distinct(
        r["addr_key"], lambda x: x.str.extract(r"^(?:flat \w+ )?(\d+\w?)", expand=False)
    )
    passes: dict[str, list[pd.Series]] = {
        "number": [r["number"]],
        "email": [r["email"]],
        "phone": [r["phone"]],
        "postcode+initial": [r["postcode"], init],
        "dob+initial": [dob, init],
        "dob+last_initial": [dob, linit],
        "name": [swapped, other],
        "last+nickname": [r["last_key"], r["nick_key"]],
        "last3+first3+year": [last3, first3, year],
        "first+outward": [r["first_key"], outward],
        "address+initial": [r["addr_key"], init],
        "first3+last3+town": [first3, last3, r["town_key"]],
        "postcode+dob": [r["postcode"], dob],
        "postcode+house": [r["postcode"], house],
    }
    all_i, all_j = [], []
    stats: dict[str, dict[str, int]] = {}
    # Name-only keys grow with the square of a name's frequency ("John Smith" at 1M rows) and
    # rarely carry a match no other pass finds: they get a tighter block cap.
    name_cap = max(2, max_block // 4)
    cache: dict[int, tuple[np.ndarray, int]] = {}
    for name, cols in passes.items():
        cap = name_cap if name in ("name", "last+nickname") else max_block
        a, b, nb, nr = pairs_from_codes(_codes(*cols, cache=cache), cap)
        stats[name] = {"pairs": len(a), "oversized_blocks": nb, "rows_in_oversized": nr}
        all_i.append(a)
        all_j.append(b)
    num = r["number"].str.lstrip("0")
    num = num.where(num.str.len().between(5, 9), None)
    a_list, b_list = [], []
    dkeys = _deletion_keys(num, linit.fillna("?") + init.fillna("?"))
    stacked = np.concatenate(dkeys)
    codes = np.where(stacked >= 0, pd.factorize(stacked)[0], -1).astype(np.int64)
    n = len(r)
    row_of = np.tile(np.arange(n, dtype=np.int64), len(dkeys))
    # Pair rows (not key copies): a key shared by two copies of one row is not a pair.
    valid = codes >= 0
    k, rows = codes[valid], row_of[valid]
    order = np.lexsort((rows, k))
    k, rows = k[order], rows[order]
    counts = np.bincount(k) if len(k) else np.zeros(0, np.int64)
    small = counts[k] <= max_block if len(k) else np.zeros(0, bool)
    k, rows = k[small], rows[small]
    x, y = _within_groups(rows, k)
    keep = x != y
    if keep.any():
        a_list.append(np.minimum(x, y)[keep])
        b_list.append(np.maximum(x, y)[keep])
    if a_list:
        all_i.append(np.concatenate(a_list))
        all_j.append(np.concatenate(b_list))
    stats["number-1-edit+initials"] = {
        "pairs": int(sum(len(x) for x in a_list)),
        "oversized_blocks": int((counts > max_block).sum()),
        "rows_in_oversized": 0,
    }
    i = np.concatenate(all_i)
    j = np.concatenate(all_j)
    # Sorted distinct pairs: a plain sort and a neighbour test (np.unique hashes first, which
    # costs several times more on ~10M keys).
    packed = np.sort(i * np.int64(n) + j)
    if len(packed):
        packed = packed[np.r_[True, packed[1:] != packed[:-1]]]
    return Blocking(packed // n, packed % n, stats)
