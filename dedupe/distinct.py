"""Column work done once per distinct cell, gathered back to rows with one ``take``.

Why: exports repeat towns, statuses, dates, first names and blanks a lot, and even columns that
are mostly distinct (emails, numbers) are cheaper as one Python function per value than as a
chain of pandas object-dtype string methods (each of which costs a Python call per row, and
``isna``/``where`` passes in between). Every cleaner in ``dedupe.normalise`` is element-wise, so
computing it on the distinct values and taking rows back gives exactly the per-row result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

#: A column of cells: 1-D object array of ``str`` (or ``None`` for a missing cell).
Cells = npt.NDArray[np.object_]
Mask = npt.NDArray[np.bool_]

#: Cells that mean "nothing here" once stripped and lower-cased.
JUNK = frozenset(
    {"", "n/a", "na", "null", "none", "-", "--", "unknown", "nan", "#n/a", "?", "not known"}
)


def clean_cell(cell: object) -> str | None:
    """A stripped cell, or None when it is empty-ish ('', 'n/a', 'null', '-', 'unknown')."""
    v = str(cell).strip()
    return None if v.lower() in JUNK else v


def objects(values: Sequence[object]) -> Cells:
    """``values`` as a 1-D object array (never 2-D, whatever the values are)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def nones(n: int) -> Cells:
    """A column of ``n`` missing cells."""
    return np.full(n, None, dtype=object)


@dataclass
class Distinct:
    """A column as (row -> distinct value code, distinct values); code -1 is a missing cell."""

    codes: npt.NDArray[np.intp]
    values: list[object]

    @classmethod
    def of(cls, cells: Cells | pd.Series) -> Distinct:
        codes, uniques = pd.factorize(cells, use_na_sentinel=True)
        return cls(np.asarray(codes, dtype=np.intp), list(uniques))

    def gather(self, results: Sequence[object], missing: object = None) -> Cells:
        """Per-row column of ``results`` (one per distinct value); ``missing`` where code -1."""
        table = np.empty(len(results) + 1, dtype=object)
        table[:-1] = results
        table[-1] = missing
        return table[self.codes]

    def gather_bool(self, results: Sequence[bool]) -> Mask:
        """Per-row boolean column of ``results``; False where the cell is missing."""
        return np.array([*results, False], dtype=bool)[self.codes]


def clean_cells(values: Sequence[object]) -> list[str | None]:
    """``clean_cell`` of each value (a loop with the per-value call overhead taken out)."""
    stripped = list(map(str.strip, map(str, values)))
    return [None if len(v) <= _JUNK_LEN and v.lower() in JUNK else v for v in stripped]


_JUNK_LEN = max(map(len, JUNK))


def _inputs(d: Distinct, clean: bool) -> list[str | None]:
    return clean_cells(d.values) if clean else cast(list[str | None], d.values)


def per_distinct(
    cells: Cells | pd.Series | Distinct,
    fn: Callable[[str], tuple[object, ...]],
    missing: tuple[object, ...],
    clean: bool = True,
) -> list[Cells]:
    """The k columns of tuple-valued ``fn``, run once per distinct cell.

    With ``clean`` the cell is first stripped and blank-ish cells give ``missing`` (as
    ``clean_cell``); without, ``fn`` sees the distinct non-missing values as they are.
    ``cells`` may be a column already factorised (a ``Distinct`` another step made).
    """
    d = cells if isinstance(cells, Distinct) else Distinct.of(cells)
    results = [missing if v is None else fn(v) for v in _inputs(d, clean)]
    # One list per part (``zip(*results)`` would pass every tuple as an argument: slow).
    return [d.gather([r[k] for r in results], m) for k, m in enumerate(missing)]


def per_distinct1(
    cells: Cells | pd.Series, fn: Callable[[str], object], clean: bool = True
) -> Cells:
    """``fn`` of each cell, run once per distinct cell; None for missing (or blank-ish) cells."""
    d = Distinct.of(cells)
    return d.gather([None if v is None else fn(v) for v in _inputs(d, clean)])


def blank(cells: Cells | pd.Series) -> Cells:
    """Stripped cells, with empty-ish ones ('', 'n/a', 'null', '-', 'unknown') as None."""
    d = Distinct.of(cells)
    return d.gather(clean_cells(d.values))


def present(cells: Cells) -> Mask:
    """True where a cell is not None (cells hold str or None only)."""
    return np.not_equal(cells, _NONE).astype(bool)


_NONE = objects([None])
