"""The records' key columns as integer codes, each column factorised once.

Why: blocking and comparison both need "which records share this value" for the same ten
columns (and for keys derived from them: a name's first three letters, a postcode's sector).
Hashing a million strings costs ~0.15 s a column; done once here, everything downstream
works on integers, and a derived key is computed on the distinct values only.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd


class Keys:
    """Lazily factorised columns of a records table: codes (-1 = missing) and distinct values."""

    def __init__(self, records: pd.DataFrame) -> None:
        self._r = records
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._r)

    def factorised(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes, distinct values) of a column; codes number values in order of first row."""
        hit = self._cache.get(col)
        if hit is None:
            codes, uniques = pd.factorize(self._r[col], use_na_sentinel=True)
            hit = (codes.astype(np.int64), np.asarray(uniques, dtype=object))
            self._cache[col] = hit
        return hit

    def codes(self, col: str) -> np.ndarray:
        return self.factorised(col)[0]

    def strings(self, col: str, missing: str = "") -> np.ndarray:
        """The column as an object array of str, ``missing`` where the cell is missing."""
        codes, uniques = self.factorised(col)
        out: np.ndarray = np.append(uniques, np.array([missing], dtype=object))[codes]
        return out

    def derived(
        self, name: str, col: str, fn: Callable[[pd.Series], pd.Series]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Codes and values of an element-wise ``fn`` of ``col``, run on its distinct values.

        A record whose ``col`` is missing, or whose ``fn`` value is missing, gets code -1.
        """
        hit = self._cache.get(name)
        if hit is None:
            base, uniques = self.factorised(col)
            values = fn(pd.Series(uniques, dtype=object))
            sub, sub_uniques = pd.factorize(values, use_na_sentinel=True)
            mapped = np.append(sub.astype(np.int64), np.int64(-1))
            hit = (mapped[base], np.asarray(sub_uniques, dtype=object))
            self._cache[name] = hit
        return hit

    def derived_strings(
        self, name: str, col: str, fn: Callable[[pd.Series], pd.Series], missing: str = ""
    ) -> np.ndarray:
        """``derived`` as an object array of str (``missing`` where there is no value)."""
        codes, uniques = self.derived(name, col, fn)
        out: np.ndarray = np.append(uniques, np.array([missing], dtype=object))[codes]
        return out


def per_string(fn: Callable[[str], str | None]) -> Callable[[pd.Series], pd.Series]:
    """``fn`` applied to each str of a Series (anything else gives None, as NaN from .str).

    Why: derived keys run on up to half a million distinct values; a plain loop over them
    costs a fraction of pandas' ``.str`` machinery (which also builds intermediate lists).
    """

    def apply(values: pd.Series) -> pd.Series:
        out = [fn(v) if isinstance(v, str) else None for v in values.tolist()]
        # via numpy: pandas' own list conversion is ~4x slower for half a million values
        return pd.Series(np.array(out, dtype=object), index=values.index, copy=False)

    return apply


_HOUSE = re.compile(r"^(?:flat \w+ )?(\d+\w?)")


def _house(addr_key: str) -> str | None:
    m = _HOUSE.search(addr_key)
    return m.group(1) if m else None


#: The house number that starts an address key ('flat 2 14a high st' -> '14a').
house_number = per_string(_house)


def _outward(postcode: str) -> str:
    return postcode.partition(" ")[0]


#: A postcode's outward code, the part before the space ('sw1a 1aa' -> 'sw1a').
outward_code = per_string(_outward)


def pack_pairs(a: np.ndarray, b: np.ndarray, base: int) -> np.ndarray:
    """Pairs of integer codes in [0, base) as one int64 each (a * base + b): half the memory
    of two arrays, and a plain sort or hash table finds distinct pairs."""
    out: np.ndarray = np.asarray(a, np.int64) * np.int64(base) + b
    return out


def unpack_pairs(packed: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """``pack_pairs`` undone: (a, b)."""
    return packed // base, packed % base
