"""Reading CSV text: decoding, delimiter, records with their lines, and the mapping file.

Why its own module: everything that can go wrong with a text file (encoding, quoting, a cell
too large, a truncated file) is turned here into an ``InputError`` naming the file, the line
and the fix; ``dedupe.io`` then only sees header, records and line numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedupe.headers import MAPPING_EXAMPLE
from dedupe.schema import CANONICAL_FIELDS, IGNORE, header_key
from omov.errors import InputError

#: Told how many more rows were read (progress); called from the reading loop.
OnRows = Callable[[int], None]

#: The longest cell a member field can plausibly hold; a longer one stops the run with its size.
MAX_CELL_CHARS = 65_536
# Read oversized cells whole, so the error can say how big they are (not "bad quoting").
csv.field_size_limit(1 << 30)


@dataclass(frozen=True)
class MappingLine:
    """One line of the mapping file."""

    file: str
    header: str
    field: str
    line: int


def decode_bytes(raw: bytes, path: Path) -> tuple[str, str]:
    """Decode an export: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252.

    UTF-16 with a byte-order mark is what Excel writes as "Unicode Text" (tab-delimited); its
    BOM makes it unambiguous. UTF-16 *without* a BOM cannot be told from binary data: it stops.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_utf16(raw, path), "utf-16"
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            "this is a spreadsheet workbook, but its name does not end .xlsx, .xls or .ods",
            path=str(path),
            line=1,
            fix="rename it to .xlsx (or .xls / .ods, as the program that wrote it says), "
            "or 'Save As' CSV UTF-8",
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise InputError(
            "the file contains NUL bytes (binary or UTF-16 data)",
            path=str(path),
            line=line,
            fix="re-export the data as a UTF-8 CSV file",
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict") if _utf8_ok(raw[3:]) else _bad_utf8(
            raw[3:], path
        ), "utf-8-sig"
    if _utf8_ok(raw):
        return raw.decode("utf-8"), "utf-8"
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"the file is neither UTF-8 nor Windows-1252 (byte 0x{raw[exc.start]:02x} at byte "
            f"{exc.start})",
            path=str(path),
            line=line,
            fix="re-save the export as 'CSV UTF-8' from the spreadsheet or database",
        ) from exc


def _decode_utf16(raw: bytes, path: Path) -> str:
    """UTF-16 (byte order from the BOM); a broken code unit stops the run at its line."""
    try:
        return raw.decode("utf-16")
    except UnicodeDecodeError as exc:
        enc = "utf-16-le" if raw.startswith(b"\xff\xfe") else "utf-16-be"
        line = raw[: exc.start].decode(enc, errors="replace").count("\n") + 1
        raise InputError(
            f"the file starts as UTF-16 but is not valid UTF-16 (at byte {exc.start})",
            path=str(path),
            line=line,
            fix="re-save the export as 'CSV UTF-8' (or 'Unicode Text') from the spreadsheet",
        ) from exc


def _utf8_ok(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _bad_utf8(raw: bytes, path: Path) -> str:
    """A file that declares UTF-8 with a BOM but is not UTF-8 is mixed up: stop and say where."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            "the file starts with a UTF-8 byte-order mark but is not valid UTF-8",
            path=str(path),
            line=line,
            fix="re-save the whole file as 'CSV UTF-8'",
        ) from exc
    raise AssertionError("unreachable")


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 0 else ","


_SEP_LINE = re.compile(r'"?sep=(.)"?')


def parse_records(
    text: str, path: Path, on_rows: OnRows | None = None
) -> tuple[list[str], list[list[str]], list[int], str]:
    """Split decoded text into header, records and each record's first physical line.

    Blank lines are not records. A quote left open at the end of the file means the file was
    truncated (or a stray quote): that stops the run with the line where the quote opened.
    """
    if not text.strip():
        raise InputError(
            "the file is empty",
            path=str(path),
            line=1,
            fix="re-export the organisation's members with a header row",
        )
    nl = text.find("\n")
    first = text[: nl if nl >= 0 else len(text)]
    # "sep=;" on the first line is the spreadsheet convention for naming the delimiter.
    declared = _SEP_LINE.fullmatch(first.rstrip("\r\n").strip(" "))
    delimiter = declared[1] if declared else _sniff_delimiter(first)
    records, lines = _read_csv(text, delimiter, path, on_rows)
    if declared and lines and lines[0] == 1:
        del records[0], lines[0]
    if not records:  # only a "sep=" line
        raise InputError(
            "the file has no header row",
            path=str(path),
            line=1,
            fix="re-export the organisation's members with a header row",
        )
    header = records[0]
    return header, records[1:], lines[1:], delimiter


#: Rows read between two progress reports.
ROWS_PER_TICK = 25_000


def _read_csv(
    text: str, delimiter: str, path: Path, on_rows: OnRows | None = None
) -> tuple[list[list[str]], list[int]]:
    """Non-blank records and their first physical line, read by the csv module."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True
    )
    records: list[list[str]] = []
    lines: list[int] = []
    prev = 0
    try:
        for row in reader:
            start = prev + 1
            prev = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            records.append(row)
            lines.append(start)
            if on_rows is not None and len(records) % ROWS_PER_TICK == 1:
                on_rows(ROWS_PER_TICK if len(records) > 1 else 0)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise oversized(path, prev + 1, None, 1 << 30, 0) from exc
        if "unexpected end of data" in str(exc):
            raise InputError(
                "the file ends inside a quoted field that starts on this line: it is truncated "
                "(or a quote is never closed)",
                path=str(path),
                line=prev + 1,
                fix="re-export the file completely, or close the quote in that record",
            ) from exc
        raise InputError(
            f"the CSV quoting is malformed in the record starting on this line ({exc})",
            path=str(path),
            line=prev + 1,
            fix="a quoted field must be followed by the delimiter: double any '\"' inside a "
            'quoted field (""), or re-export the file',
        ) from exc
    if on_rows is not None:  # the data rows not yet told (the header is not a row)
        on_rows((len(records) - 1) % ROWS_PER_TICK)
    return records, lines


def load_mapping(path: Path | None) -> list[MappingLine]:
    """Read a mapping file: rows of (file, header, field); file blank = any file."""
    if path is None:
        return []
    try:
        text, _ = decode_bytes(path.read_bytes(), path)
    except OSError as exc:
        raise InputError(
            f"cannot read the mapping file ({exc.strerror})",
            path=str(path),
            fix="check the path given to --mapping",
        ) from exc
    header, records, lines, _ = parse_records(text, path)
    cols = [header_key(h) for h in header]
    if "header" not in cols or "field" not in cols:
        raise InputError(
            "the mapping file needs the columns file,header,field",
            path=str(path),
            line=1,
            fix=MAPPING_EXAMPLE.format(header="Forename"),
        )
    hi, fi = cols.index("header"), cols.index("field")
    pi = cols.index("file") if "file" in cols else None
    out = []
    for rec, line in zip(records, lines, strict=True):
        target = rec[fi].strip() if fi < len(rec) else ""
        if target not in CANONICAL_FIELDS and target != IGNORE:
            raise InputError(
                f"unknown field {target!r} in the mapping file",
                path=str(path),
                line=line,
                fix="use one of: " + ", ".join(CANONICAL_FIELDS) + ", ignore",
            )
        file_pat = rec[pi].strip() if pi is not None and pi < len(rec) else ""
        out.append(MappingLine(file_pat, rec[hi].strip() if hi < len(rec) else "", target, line))
    return out


Mapping = list[MappingLine] | list[tuple[str, str, str]]


def triples(mapping: Mapping) -> list[tuple[str, str, str]]:
    return [
        (m.file, m.header, m.field) if isinstance(m, MappingLine) else (m[0], m[1], m[2])
        for m in mapping
    ]


#: A record spanning this many physical lines is checked for an oversized cell.
MANY_LINES = 50


def long_lines(text: str) -> list[int]:
    """Line numbers of physical lines longer than any member field (cheap: one split)."""
    if len(text) <= MAX_CELL_CHARS:
        return []
    lens = np.fromiter(map(len, text.split("\n")), np.int64)
    return (np.flatnonzero(lens > MAX_CELL_CHARS) + 1).tolist()


def oversized(path: Path, line: int, column: str | None, size: int, newlines: int) -> InputError:
    where = f"in column {column!r} " if column else ""
    spans = (
        f'; it runs over {newlines + 1:,} lines of the file, so a stray quote (") at its start '
        "may have joined them"
        if newlines
        else ""
    )
    return InputError(
        f"a cell {where}of the record starting on this line is {size:,} characters long, more "
        f"than any member field can hold ({MAX_CELL_CHARS:,}){spans}",
        path=str(path),
        line=line,
        fix="clear or shorten that cell in the export (remove a stray quote if it joined lines)"
        " and export again",
    )
