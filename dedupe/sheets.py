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
import pickle
import re
import subprocess
import sys
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


#: The first bytes of the two containers calamine reads: OLE2 (.xls) and ZIP (.xlsx/.xlsm/.ods).
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_SAVE_AGAIN = (
    "open it in the spreadsheet program and save it again (without a password), "
    "or 'Save As' CSV UTF-8"
)


def _damaged(path: Path, message: str) -> InputError:
    """A workbook the reader cannot use: saving it again from the spreadsheet program is the fix."""
    return InputError(message, path=str(path), line=1, fix=_SAVE_AGAIN)


def _not_a_workbook(raw: bytes, path: Path) -> InputError:
    """Why a file named like a workbook is none: the '.xls' that is a CSV, a web page or XML."""
    start = raw[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    named = f"this file is named {split_sheet(path)[0].suffix} but"
    if not raw:
        return _damaged(path, "the file is empty")
    if start.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta")):
        what = "a web page or XML file (the 'Excel' download of many web systems)"
        return InputError(
            f"{named} is {what}, not a workbook",
            path=str(path),
            line=1,
            fix="open it in the spreadsheet program and 'Save As' Excel Workbook (.xlsx) "
            "or CSV UTF-8",
        )
    if b"\x00" not in start or raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 "Unicode Text"
        return InputError(
            f"{named} holds text (a CSV or tab-separated export), not a workbook",
            path=str(path),
            line=1,
            fix="rename it to .csv (comma, semicolon and tab separated text are all read) "
            "and run again",
        )
    return _damaged(path, f"{named} is not a workbook (no Excel or OpenDocument signature)")


def _unreadable(exc: BaseException, path: Path) -> InputError:
    return _damaged(path, f"cannot read the spreadsheet ({type(exc).__name__}: {exc})")


def _reader_failed(exc: BaseException) -> bool:
    """calamine's own errors, and pyo3's PanicException: a Rust panic on malformed bytes (a
    truncated .xls) surfaces as that, which is a BaseException, not an Exception."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _open(raw: bytes, path: Path) -> CalamineWorkbook:
    if not raw.startswith((_OLE2_MAGIC, _ZIP_MAGIC)):
        raise _not_a_workbook(raw, path)
    try:  # calamine finds the format from the bytes: an .xlsx named .xls is read as .xlsx
        return CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except BaseException as exc:
        if not _reader_failed(exc):
            raise
        raise _unreadable(exc, path) from exc


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


def _rows(book: CalamineWorkbook, name: str, path: Path) -> tuple[list[list[str]], list[int]]:
    """Non-blank rows of a sheet as strings, and each row's number in the sheet."""
    try:  # .xlsx/.ods sheets are parsed only now: a corrupt one fails here
        sheet = book.get_sheet_by_name(name)
        first = sheet.start[0] if sheet.start else 0
        cells = sheet.to_python(skip_empty_area=True)
    except BaseException as exc:
        if not _reader_failed(exc):
            raise
        raise _unreadable(exc, path) from exc
    rows: list[list[str]] = []
    lines: list[int] = []
    for k, row in enumerate(cells):
        texts = [_text(v) for v in row]
        if any(c.strip() for c in texts):
            rows.append(texts)
            lines.append(first + k + 1)
    return rows, lines


Sheets = dict[str, tuple[list[list[str]], list[int]]]


def _load(raw: bytes, path: Path, wanted: str | None) -> tuple[list[str], Sheets]:
    """(every sheet's name, the rows of sheet ``wanted``, or of every sheet when None)."""
    book = _open(raw, path)
    names = list(book.sheet_names)
    return names, {n: _rows(book, n, path) for n in names if wanted in (None, n)}


def _load_safely(raw: bytes, path: Path, wanted: str | None) -> tuple[list[str], Sheets]:
    """``_load``; for an .xls in a child process with a memory cap (``dedupe.sheet_child``).

    Why: calamine's .xls reader trusts sizes written in the file. A damaged .xls (found by
    flipping bytes of a real one) made it ask for 4 GB to 1 TB and abort the whole process
    (SIGABRT, not an exception), or follow a looping sector chain until the machine ran out of
    memory. In a child, that is one refused file (exit 2, the file named), not a crash.
    """
    if not raw.startswith(_OLE2_MAGIC):
        return _load(raw, path, wanted)
    args = [sys.executable, "-m", "dedupe.sheet_child", str(path), wanted or ""]
    try:
        # a fixed command (this Python, our module); the path is only an argument, no shell
        done = subprocess.run(  # noqa: S603
            args, input=raw, capture_output=True, timeout=CHILD_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise _crashed(path, f"no answer in {CHILD_TIMEOUT_S} s") from exc
    if done.returncode != 0 or not done.stdout:
        raise _crashed(path, f"exit status {done.returncode}")
    ok, value = pickle.loads(done.stdout)  # our own child's answer  # noqa: S301
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


#: Long enough for the largest .xls (65,536 rows x 256 columns a sheet) on a slow machine.
CHILD_TIMEOUT_S = 300


def _crashed(path: Path, how: str) -> InputError:
    return _damaged(
        path,
        f"the spreadsheet reader failed on this file ({how}): it is damaged or not a real .xls",
    )


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
    names, sheets = _load_safely(raw, path, None)
    return [n for n in names if sheets[n][0]]


def read_sheet_rows(
    raw: bytes, path: Path, sheet: str | None
) -> tuple[str, list[list[str]], list[int]]:
    """(sheet name, its non-blank rows (all as wide as the sheet), their sheet row numbers)."""
    names, sheets = _load_safely(raw, path, sheet)
    file = split_sheet(path)[0]
    if sheet is None:
        filled = [n for n in names if sheets[n][0]]
        if len(filled) != 1:
            raise InputError(
                "the workbook has no sheet with data"
                if not filled
                else f"the workbook has {len(filled)} sheets with data: "
                + ", ".join(map(repr, filled)),
                path=str(path),
                line=1,
                fix=f"name the sheet to read: '{file}:SHEET'",
            )
        sheet = filled[0]
    if sheet not in names:
        raise InputError(
            f"the workbook has no sheet {sheet!r} (it has: " + ", ".join(map(repr, names)) + ")",
            path=str(path),
            fix=f"name one of its sheets: '{file}:SHEET'",
        )
    rows, lines = sheets[sheet]
    return sheet, rows, lines
