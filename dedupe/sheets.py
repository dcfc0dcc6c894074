"""Spreadsheet exports (.xlsx, .xlsm, .xls, .ods) read as rows of strings, with sheet row numbers.

Why python-calamine: a data officer's export is often the workbook itself, and re-saving it as
CSV by hand is where accents, leading zeros and dates get mangled. calamine (Rust, MIT) reads all
four formats without Excel, fast, and gives typed cells, which are turned here into the strings
a CSV export would hold, so the rest of ingest (headers, rows, errors) is the same for both and a
row's ``line`` is its row number in the sheet.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from python_calamine import CalamineWorkbook

from omov.errors import InputError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_SHEET_SUFFIX = re.compile(r"^(.*\.(?:xlsx|xlsm|xls|ods)):(.+)$", re.IGNORECASE)

Cell = str | float | int | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None


def split_sheet(path: Path) -> tuple[Path, str | None]:
    """``members.xlsx:Sheet 2`` -> (members.xlsx, "Sheet 2"); any other path -> (path, None)."""
    m = _SHEET_SUFFIX.match(str(path))
    if m and not path.exists():
        return Path(m[1]), m[2]
    return path, None


def is_workbook(path: Path) -> bool:
    """A spreadsheet file by its name (.xlsx/.xlsm/.xls/.ods)."""
    return path.suffix.lower() in WORKBOOK_SUFFIXES


def _open(raw: bytes, path: Path) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except Exception as exc:  # calamine raises several types for a corrupt or locked file
        raise InputError(
            f"cannot read the spreadsheet ({type(exc).__name__}: {exc})",
            path=str(path),
            line=1,
            fix="open it in the spreadsheet program and save it again (without a password), "
            "or 'Save As' CSV UTF-8",
        ) from exc


def _text(v: Cell) -> str:
    """The text a CSV export would hold for a typed cell (an integral float has no '.0')."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def _rows(book: CalamineWorkbook, name: str) -> tuple[list[list[str]], list[int]]:
    """Non-blank rows of a sheet as strings, and each row's number in the sheet."""
    sheet = book.get_sheet_by_name(name)
    first = sheet.start[0] if sheet.start else 0
    rows: list[list[str]] = []
    lines: list[int] = []
    for k, row in enumerate(sheet.to_python(skip_empty_area=True)):
        cells = [_text(v) for v in row]
        if any(c.strip() for c in cells):
            rows.append(cells)
            lines.append(first + k + 1)
    return rows, lines


def sheet_names(path: Path) -> list[str]:
    """The names of a workbook's sheets that hold anything, in workbook order."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the export ({exc.strerror})",
            path=str(path),
            fix="check the path and permissions",
        ) from exc
    book = _open(raw, path)
    return [n for n in book.sheet_names if _rows(book, n)[0]]


def read_sheet_rows(
    raw: bytes, path: Path, sheet: str | None
) -> tuple[str, list[list[str]], list[int]]:
    """(sheet name, its non-blank rows (all as wide as the sheet), their sheet row numbers)."""
    book = _open(raw, path)
    if sheet is None:
        filled = [n for n in book.sheet_names if _rows(book, n)[0]]
        if len(filled) != 1:
            raise InputError(
                "the workbook has no sheet with data"
                if not filled
                else f"the workbook has {len(filled)} sheets with data: "
                + ", ".join(map(repr, filled)),
                path=str(path),
                line=1,
                fix=f"name the sheet to read: '{path}:SHEET'",
            )
        sheet = filled[0]
    if sheet not in book.sheet_names:
        raise InputError(
            f"the workbook has no sheet {sheet!r} (it has: "
            + ", ".join(map(repr, book.sheet_names))
            + ")",
            path=str(path),
            fix=f"name one of its sheets: '{path}:SHEET'",
        )
    rows, lines = _rows(book, sheet)
    return sheet, rows, lines
