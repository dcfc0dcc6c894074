"""Reading organisations' exports and the user's mapping/decision files; writing outputs.

Why its own module: everything that can go wrong with a file (encoding, quoting, ragged rows,
headers) is caught here and turned into an ``InputError`` naming the file, the line and the fix,
so the pure core only ever sees clean string columns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dedupe.headers import MAPPING_EXAMPLE, NO_NAME, Column, Level, Notice, choose_columns
from dedupe.schema import CANONICAL_FIELDS, COALESCE_FIELDS, IGNORE, header_key
from dedupe.sheets import is_workbook, read_sheet_rows, sheet_names, split_sheet
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


@dataclass
class Export:
    """One organisation's export, decoded and mapped to canonical fields (all strings)."""

    org: str
    path: Path
    encoding: str
    sha256: str
    data: pd.DataFrame  # canonical columns + row_id, line, fingerprint
    header_map: dict[str, str]  # original header -> canonical field (or 'ignore'/'unmapped')
    rejected: list[dict[str, object]] = field(default_factory=list)
    delimiter: str = ","
    records_total: int = 0  #: data records in the file (kept when ``data`` is released)
    columns: list[Column] = field(default_factory=list)  #: every header and how it was read
    notices: list[Notice] = field(default_factory=list)  #: file-level news for the data officer

    @property
    def n_records(self) -> int:
        return self.records_total or len(self.data) + len(self.rejected)


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
            if on_rows is not None and len(records) % ROWS_PER_TICK == 0:
                on_rows(ROWS_PER_TICK)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise _oversized(path, prev + 1, None, 1 << 30, 0) from exc
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
    if on_rows is not None:
        on_rows(len(records) % ROWS_PER_TICK)
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


def _triples(mapping: Mapping) -> list[tuple[str, str, str]]:
    return [
        (m.file, m.header, m.field) if isinstance(m, MappingLine) else (m[0], m[1], m[2])
        for m in mapping
    ]


#: How many lines of title or notes a report may put above its header row.
MAX_PREAMBLE_LINES = 10

_Chosen = tuple[dict[int, str], list[Column], list[Notice]]


def _header_after_preamble(
    text: str, path: Path, org: str, mapping: list[tuple[str, str, str]]
) -> tuple[list[str], list[list[str]], list[int], str, _Chosen] | None:
    """Header, records, lines, delimiter and columns when the header row is not the first line.

    CRM "reports" put a title, a date or a filter description above the header ("Members,
    all branches", "Exported 25/11/2026", a blank line). The first of the next few lines that
    names a name column is the header; the lines above it are not records. None if no line
    does (then the first line's error stands).
    """
    start = 0
    for skipped in range(1, MAX_PREAMBLE_LINES + 1):
        nl = text.find("\n", start)
        if nl < 0:
            return None
        start = nl + 1
        rest = text[start:]
        if not rest.strip():
            return None
        end = rest.find("\n")
        line = rest[: end if end >= 0 else len(rest)]
        try:  # probe the one line first: a whole parse per candidate would cost a lot
            choose_columns(parse_records(line, path)[0], [], path, org, mapping)
            header, records, lines, delimiter = parse_records(rest, path)
            chosen = choose_columns(header, records, path, org, mapping, skipped + 1)
        except InputError:
            continue
        if not records:
            return None
        return header, records, [n + skipped for n in lines], delimiter, chosen
    return None


def _rows_after_preamble(
    rows: list[list[str]],
    lines: list[int],
    path: Path,
    org: str,
    mapping: list[tuple[str, str, str]],
) -> tuple[int, _Chosen] | None:
    """A sheet's header row below a title: (its position, its columns), or None."""
    for k in range(1, min(MAX_PREAMBLE_LINES, len(rows) - 1) + 1):
        try:
            return k, choose_columns(rows[k], rows[k + 1 :], path, org, mapping, lines[k])
        except InputError:
            continue
    return None


def fingerprint(org: str, values: list[str]) -> str:
    """Content hash of a raw record: identifies it across re-exports and row reordering."""
    h = hashlib.sha256(("\x1f".join([org, *[v.strip() for v in values]])).encode("utf-8"))
    return h.hexdigest()[:16]


def _fingerprints(org: str, rows: list[list[str]]) -> list[str]:
    """``fingerprint`` of every row, with the per-call overhead hoisted out of the loop."""
    sha, strip, join, head = hashlib.sha256, str.strip, "\x1f".join, org + "\x1f"
    return [
        sha((head + join(map(strip, r)) if r else org).encode("utf-8")).hexdigest()[:16]
        for r in rows
    ]


def _unique_fingerprints(org: str, rows: list[list[str]]) -> tuple[list[str], list[str]]:
    """Content fingerprints, made unique among identical rows by their occurrence number.

    Identical rows are interchangeable, so numbering them in file order still gives the same
    *set* of fingerprints whatever the row order.
    """
    raw = _fingerprints(org, rows)
    if len(set(raw)) == len(raw):  # the usual case: no two rows alike
        return list(raw), raw
    seen: dict[str, int] = {}
    out = []
    for r, fp in zip(rows, raw, strict=True):
        k = seen.get(fp, 0)
        seen[fp] = k + 1
        out.append(fp if k == 0 else fingerprint(org, [*r, f"#{k}"]))
    return out, raw


@dataclass
class _Table:
    """A file's header, records and where each record starts, before any row is judged."""

    header: list[str]
    records: list[list[str]]
    lines: list[int]
    encoding: str
    delimiter: str
    chosen: _Chosen
    path: Path
    ends_with_newline: bool = True
    long_lines: list[int] | None = None  #: None: check every cell (a sheet)


def read_export(path: Path, org: str, mapping: Mapping, on_rows: OnRows | None = None) -> Export:
    """Read one organisation's export into canonical string columns.

    A CSV or a spreadsheet (``.xlsx``/``.xls``/``.ods``, one sheet: ``file.xlsx:Sheet``). Rows
    shorter than the header lost only trailing empty fields and are padded; a longer row or a
    repeated header is rejected (``rejected.csv``); file-level problems stop with file and line.
    """
    triples = _triples(mapping)
    file, sheet = split_sheet(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the export ({exc.strerror})",
            path=str(file),
            fix="check the path and permissions",
        ) from exc
    digest = hashlib.sha256(raw).hexdigest()
    if is_workbook(file):
        table = _sheet_table(raw, path, sheet, org, triples)
        if on_rows is not None:
            on_rows(len(table.records) + 1)
    else:
        table = _csv_table(raw, path, org, triples, on_rows)
    return _build_export(table, path, org, digest)


def _csv_table(
    raw: bytes,
    path: Path,
    org: str,
    mapping: list[tuple[str, str, str]],
    on_rows: OnRows | None = None,
) -> _Table:
    text, encoding = decode_bytes(raw, path)
    try:
        header, records, lines, delimiter = parse_records(text, path, on_rows)
        if not records:
            raise InputError(
                "the file has a header but no member rows",
                path=str(path),
                line=1,
                fix="re-export the organisation's members, or leave the file out",
            )
        chosen = choose_columns(header, records, path, org, mapping)
    except InputError as err:
        # A title above the header can hide it (or, read with the title's delimiter, look
        # like bad quoting near the top): look for the header a few lines down.
        near_top = NO_NAME in str(err) or (err.line or 0) <= MAX_PREAMBLE_LINES + 2
        found = _header_after_preamble(text, path, org, mapping) if near_top else None
        if found is None:
            raise
        header, records, lines, delimiter, chosen = found
    ends = text.endswith(("\n", "\r"))
    return _Table(
        header, records, lines, encoding, delimiter, chosen, path, ends, _long_lines(text)
    )


def _sheet_table(
    raw: bytes, path: Path, sheet: str | None, org: str, mapping: list[tuple[str, str, str]]
) -> _Table:
    name, rows, lines = read_sheet_rows(raw, path, sheet)
    if len(rows) < 2:
        raise InputError(
            f"sheet {name!r} has a header but no member rows"
            if rows
            else f"sheet {name!r} is empty",
            path=str(path),
            line=1,
            fix="re-export the organisation's members, or name another sheet: FILE.xlsx:SHEET",
        )
    try:
        start, chosen = 0, choose_columns(rows[0], rows[1:], path, org, mapping, lines[0])
    except InputError as err:
        found = (
            _rows_after_preamble(rows, lines, path, org, mapping) if NO_NAME in str(err) else None
        )
        if found is None:
            raise
        start, chosen = found
    return _Table(
        rows[start], rows[start + 1 :], lines[start + 1 :], "xlsx", f"sheet {name}", chosen, path
    )


def _build_export(table: _Table, path: Path, org: str, digest: str) -> Export:
    header, lines = table.header, table.lines
    by_col, columns, notices = table.chosen
    width = len(header)
    records = _drop_trailing_delimiters(table.records, width)
    header_map = {h: by_col.get(i, "unmapped") for i, h in enumerate(header)}
    rejected: list[dict[str, object]] = []
    if _all_plain_records(records, header, width):
        keep_rows, keep_idx = records, list(range(len(records)))
    else:
        keep_rows, keep_idx, padded = _sort_out_records(
            records, lines, header, table.ends_with_newline, org, path, rejected
        )
        if padded:
            notices = [*notices, _padded_notice(padded, width)]
    _refuse_oversized(table, keep_rows, keep_idx)
    data: dict[str, object] = {"source_org": np.full(len(keep_rows), org, dtype=object)}
    data.update(_canonical_columns(keep_rows, header, by_col))
    if "initials" in data and "first_name" not in data and "full_name" not in data:
        data["first_name"] = _spaced_initials(data["initials"])
    # Cells are stripped later, once per distinct value (dedupe.distinct.clean_cell).
    idx = np.array(keep_idx, dtype=np.int64)
    data["row_id"] = idx + 1
    data["line"] = np.array(lines, dtype=np.int64)[idx] if len(idx) else np.array([], np.int64)
    data["fingerprint"], data["raw_fp"] = (
        np.array(fps, dtype=object) for fps in _unique_fingerprints(org, keep_rows)
    )
    df = pd.DataFrame(data, index=pd.RangeIndex(len(keep_rows)))
    return Export(
        org,
        path,
        table.encoding,
        digest,
        df,
        header_map,
        rejected,
        table.delimiter,
        records_total=len(records),
        columns=columns,
        notices=notices,
    )


def _padded_notice(padded: list[int], width: int) -> Notice:
    return Notice(
        Level.INFO,
        f"{len(padded):,} row(s) (first on line {padded[0]}) have fewer fields than the header's "
        f"{width}: the writer left off trailing empty fields; they were read as empty",
    )


_LETTER = re.compile(r"[^\W\d_]")


def _spaced_initials(cells: object) -> np.ndarray:
    """An initials column as a first name matching can read: "J.A." / "JA" -> "J A"."""
    values = cells.tolist() if isinstance(cells, np.ndarray) else list(cells)  # type: ignore[call-overload]
    out = np.empty(len(values), dtype=object)
    out[:] = [" ".join(_LETTER.findall(v)) if isinstance(v, str) else v for v in values]
    return out


#: A record spanning this many physical lines is checked for an oversized cell.
_MANY_LINES = 50


def _long_lines(text: str) -> list[int]:
    """Line numbers of physical lines longer than any member field (cheap: one split)."""
    if len(text) <= MAX_CELL_CHARS:
        return []
    lens = np.fromiter(map(len, text.split("\n")), np.int64)
    return (np.flatnonzero(lens > MAX_CELL_CHARS) + 1).tolist()


def _refuse_oversized(table: _Table, rows: list[list[str]], keep_idx: list[int]) -> None:
    """Stop at the first cell longer than any member field (its size, line and column).

    Only records that hold a very long physical line or span many lines are looked at cell by
    cell (a sheet's records all are): a 1M-row file is not measured cell by cell.
    """
    starts = np.array([table.lines[k] for k in keep_idx], dtype=np.int64)
    if table.long_lines is None:
        suspects = range(len(rows))
    else:
        spans = np.diff(np.r_[starts, starts[-1] + 1]) if len(starts) else starts
        found = set(np.flatnonzero(spans >= _MANY_LINES).tolist())
        for ln in table.long_lines:
            k = int(np.searchsorted(starts, ln, side="right")) - 1
            if k >= 0:
                found.add(k)
        suspects = sorted(found)
    for k in suspects:
        for c, cell in enumerate(rows[k]):
            if len(cell) > MAX_CELL_CHARS:
                column = table.header[c] if c < len(table.header) else None
                raise _oversized(table.path, int(starts[k]), column, len(cell), cell.count("\n"))


def _oversized(path: Path, line: int, column: str | None, size: int, newlines: int) -> InputError:
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


def _is_repeated_header(rec: list[str], header: list[str], header_keys: list[str]) -> bool:
    first_head = header[0].strip()
    return bool(
        first_head  # cheap test first: this runs once per row
        and rec[0].strip().lstrip("\ufeff") == first_head
        and len(rec) == len(header)
        and [header_key(v) for v in rec] == header_keys
    )


def _all_plain_records(records: list[list[str]], header: list[str], width: int) -> bool:
    """True when every record has the header's width and none is the header again."""
    if any(len(r) != width for r in records):
        return False
    first_head = header[0].strip()
    if not first_head:
        return True
    keys = [header_key(h) for h in header]
    return not any(_is_repeated_header(r, header, keys) for r in records if first_head in r[0])


def _sort_out_records(
    records: list[list[str]],
    lines: list[int],
    header: list[str],
    ends_with_newline: bool,
    org: str,
    path: Path,
    rejected: list[dict[str, object]],
) -> tuple[list[list[str]], list[int], list[int]]:
    """(kept rows, their indices, lines of padded rows).

    A row shorter than the header is padded with empty fields: writers that leave off trailing
    empty fields are common, and its cells are still in their columns. A longer row (cells
    shifted by an unquoted delimiter) or a repeated header goes to ``rejected``.
    """
    width = len(header)
    keep_rows: list[list[str]] = []
    keep_idx: list[int] = []
    padded: list[int] = []
    header_keys = [header_key(h) for h in header]
    for n, rec in enumerate(records):
        if _is_repeated_header(rec, header, header_keys):
            rejected.append(
                _reject(
                    org,
                    n + 1,
                    path,
                    lines[n],
                    "the header row again (two exports pasted into one file?)",
                    "delete the repeated header line; the row was left out",
                )
            )
            continue
        if len(rec) < width:
            if n == len(records) - 1 and not ends_with_newline:
                raise InputError(
                    f"the last record has {len(rec)} of {width} fields and the file does not "
                    "end with a newline: it looks truncated",
                    path=str(path),
                    line=lines[n],
                    fix="re-export the file completely",
                )
            rec = [*rec, *([""] * (width - len(rec)))]
            padded.append(lines[n])
        elif len(rec) > width:
            rejected.append(
                _reject(
                    org,
                    n + 1,
                    path,
                    lines[n],
                    f"ragged row: {len(rec)} fields, header has {width}",
                    "check the row for an unquoted comma (quote that field) "
                    "and re-export; the row was left out",
                )
            )
            continue
        keep_rows.append(rec)
        keep_idx.append(n)
    return keep_rows, keep_idx, padded


_EDGE_SEPARATORS = re.compile(r"^(, )+|(, )+$")
_REPEATED_SEPARATORS = re.compile(r"(, ){2,}")


def _joined(parts: tuple[str, ...]) -> str:
    """Cells of a multi-column field joined with ", ", empty ones leaving no stray separator."""
    joined = ", ".join([p.strip() for p in parts])
    return _REPEATED_SEPARATORS.sub(", ", _EDGE_SEPARATORS.sub("", joined))


def _first_filled(parts: tuple[str, ...]) -> str:
    """The first non-empty stripped cell of a coalesced field ("" when all are empty)."""
    for p in parts:
        if v := p.strip():
            return v
    return ""


def _canonical_columns(
    rows: list[list[str]], header: list[str], by_col: dict[int, str]
) -> dict[str, object]:
    """Canonical field -> object array of its raw cells (multi-column fields combined).

    Why a 2-D array: one ``np.array`` over the rows transposes them in C, several times
    faster than ``zip(*rows)`` and an array per column.
    """
    width = len(header)
    table = np.empty((len(rows), width), dtype=object)
    if rows:
        table[:] = rows
    data: dict[str, object] = {}
    for fld in CANONICAL_FIELDS:
        src = [i for i in sorted(by_col) if by_col[i] == fld]
        if not src:
            continue
        if len(src) == 1:
            data[fld] = table[:, src[0]].copy()
            continue
        if fld in COALESCE_FIELDS:
            src.sort(key=lambda c: (0 if "mob" in header[c].lower() else 1, c))
            combine = _first_filled
        else:
            combine = _joined
        cells = zip(*(table[:, c].tolist() for c in src), strict=True)
        out = np.empty(len(rows), dtype=object)
        out[:] = [combine(parts) for parts in cells]
        data[fld] = out
    return data


def _drop_trailing_delimiters(records: list[list[str]], width: int) -> list[list[str]]:
    """Cut the empty cells that a delimiter at the end of every data line adds.

    Some exporters end each data line with the delimiter ("a;b;c;") but not the header. That
    is a file-wide habit, so it is undone only when most rows show it; one row with a stray
    extra field is still ragged (its cells may have shifted).
    """
    extra = [len(r) > width and not "".join(r[width:]).strip() for r in records]
    if sum(extra) * 2 <= len(records):
        return records
    return [r[:width] if e else r for r, e in zip(records, extra, strict=True)]


def _reject(
    org: str, row_id: int, path: Path, line: int, reason: str, fix: str
) -> dict[str, object]:
    return {
        "source_org": org,
        "row_id": row_id,
        "file": str(path),
        "line": line,
        "reason": reason,
        "fix": fix,
    }


def _sheets_of(pair: tuple[str, Path]) -> list[tuple[str, Path]]:
    """A workbook with several sheets of data is one export per sheet ("org:Sheet")."""
    org, path = pair
    file, sheet = split_sheet(path)
    if sheet is not None or not is_workbook(file) or not file.is_file():
        return [pair]
    names = sheet_names(file)
    if len(names) <= 1:
        return [pair]
    return [(f"{org}:{n}", Path(f"{file}:{n}")) for n in names]


def parse_org_args(exports: list[Path], org_args: list[str]) -> list[tuple[str, Path]]:
    """Pair each export with its organisation name (file stem unless --org NAME=PATH)."""
    pairs: list[tuple[str, Path]] = []
    named: dict[Path, str] = {}
    for spec in org_args:
        if "=" not in spec:
            raise InputError(f"--org {spec!r} is not NAME=PATH", fix="e.g. --org unison=exp.csv")
        name, where = spec.split("=", 1)
        named[Path(where)] = name.strip()
    for path in exports:
        pairs += _sheets_of((named.pop(path, path.stem), path))
    for path, name in sorted(named.items()):
        pairs += _sheets_of((name, path))
    orgs = [o for o, _ in pairs]
    dup = sorted({o for o in orgs if orgs.count(o) > 1})
    if dup:
        raise InputError(
            f"two exports have the same organisation name {dup[0]!r}",
            fix="name them apart with --org NAME=PATH",
        )
    if not pairs:
        raise InputError("no export files given", fix="omov dedupe run a.csv b.csv --out out/")
    return sorted(pairs)
