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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dedupe.schema import (
    CANONICAL_FIELDS,
    COALESCE_FIELDS,
    DECISION_COLUMNS,
    IGNORE,
    MULTI_COLUMN_FIELDS,
    header_key,
    lookup_header,
)
from omov.csvsafe import restore
from omov.errors import InputError

MAPPING_EXAMPLE = (
    "write a mapping file (CSV with columns file,header,field; file may be blank for 'any file'),"
    " e.g.\n      file,header,field\n      ,{header},first_name\n    and pass --mapping FILE."
    " Fields: " + ", ".join(CANONICAL_FIELDS) + ", or 'ignore'"
)

_NAME_FIELDS = ("full_name", "first_name", "last_name")


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
            "this is a spreadsheet workbook, not a CSV file",
            path=str(path),
            line=1,
            fix="open it and 'Save As' CSV UTF-8, then pass the .csv file",
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


def parse_records(text: str, path: Path) -> tuple[list[str], list[list[str]], list[int], str]:
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
    records, lines = _read_csv(text, delimiter, path)
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


def _read_csv(text: str, delimiter: str, path: Path) -> tuple[list[list[str]], list[int]]:
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
    except csv.Error as exc:
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
    return records, lines


def load_mapping(path: Path | None) -> list[tuple[str, str, str]]:
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
        out.append((file_pat, rec[hi].strip(), target))
    return out


def map_headers(
    header: list[str], path: Path, org: str, mapping: list[tuple[str, str, str]]
) -> dict[int, str]:
    """Column index -> canonical field; raises on duplicates and on an unusable header set."""
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        k = header_key(h)
        if not k:
            continue
        if k in seen:
            raise InputError(
                f"duplicate header {h!r} (columns {seen[k] + 1} and {i + 1})",
                path=str(path),
                line=1,
                fix="rename or delete one of the two columns so each header is unique",
            )
        seen[k] = i
    user = {}
    for file_pat, h, target in mapping:
        if file_pat and file_pat not in (path.name, path.stem, org, str(path)):
            continue
        user[header_key(h)] = target
    by_col: dict[int, str] = {}
    for i, h in enumerate(header):
        k = header_key(h)
        field = user[k] if k in user else lookup_header(h)
        if field and field != IGNORE:
            by_col[i] = field
    used: dict[str, list[int]] = {}
    for i, f in by_col.items():
        used.setdefault(f, []).append(i)
    for f, cols in used.items():
        if len(cols) > 1 and f not in MULTI_COLUMN_FIELDS | COALESCE_FIELDS:
            names = " and ".join(repr(header[c]) for c in cols)
            raise InputError(
                f"columns {names} both mean {f!r}",
                path=str(path),
                line=1,
                fix=MAPPING_EXAMPLE.format(header=header[cols[1]]).replace("first_name", "ignore"),
            )
    has_name = "full_name" in used or ("last_name" in used and "first_name" in used)
    if not has_name:
        unknown = [h for i, h in enumerate(header) if i not in by_col]
        raise InputError(
            f"{_NO_NAME} (need 'full name', or 'first name' and 'last name'); "
            f"headers not recognised: {', '.join(repr(u) for u in unknown) or 'none'}",
            path=str(path),
            line=1,
            fix=MAPPING_EXAMPLE.format(header=unknown[0] if unknown else "Forename"),
        )
    return by_col


_NO_NAME = "no name column found"
#: How many lines of title or notes a report may put above its header row.
MAX_PREAMBLE_LINES = 10


def _header_after_preamble(
    text: str, path: Path, org: str, mapping: list[tuple[str, str, str]]
) -> tuple[list[str], list[list[str]], list[int], str, dict[int, str]] | None:
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
            map_headers(parse_records(line, path)[0], path, org, mapping)
            header, records, lines, delimiter = parse_records(rest, path)
            by_col = map_headers(header, path, org, mapping)
        except InputError:
            continue
        if not records:
            return None
        return header, records, [n + skipped for n in lines], delimiter, by_col
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


def read_export(path: Path, org: str, mapping: list[tuple[str, str, str]]) -> Export:
    """Read one organisation's export into canonical string columns; ragged rows are rejected."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the export ({exc.strerror})",
            path=str(path),
            fix="check the path and permissions",
        ) from exc
    digest = hashlib.sha256(raw).hexdigest()
    text, encoding = decode_bytes(raw, path)
    try:
        header, records, lines, delimiter = parse_records(text, path)
        if not records:
            raise InputError(
                "the file has a header but no member rows",
                path=str(path),
                line=1,
                fix="re-export the organisation's members, or leave the file out",
            )
        by_col = map_headers(header, path, org, mapping)
    except InputError as err:
        # A title above the header can hide it (or, read with the title's delimiter, look
        # like bad quoting near the top): look for the header a few lines down.
        near_top = _NO_NAME in str(err) or (err.line or 0) <= MAX_PREAMBLE_LINES + 2
        found = _header_after_preamble(text, path, org, mapping) if near_top else None
        if found is None:
            raise
        header, records, lines, delimiter, by_col = found
    width = len(header)
    records = _drop_trailing_delimiters(records, width)
    header_map = {h: by_col.get(i, "unmapped") for i, h in enumerate(header)}
    rejected: list[dict[str, object]] = []
    if _all_plain_records(records, header, width):
        keep_rows, keep_idx = records, list(range(len(records)))
    else:
        keep_rows, keep_idx = _sort_out_records(records, lines, header, text, org, path, rejected)
    data: dict[str, object] = {"source_org": np.full(len(keep_rows), org, dtype=object)}
    data.update(_canonical_columns(keep_rows, header, by_col))
    # Cells are stripped later, once per distinct value (dedupe.distinct.clean_cell).
    idx = np.array(keep_idx, dtype=np.int64)
    data["row_id"] = idx + 1
    data["line"] = np.array(lines, dtype=np.int64)[idx] if len(idx) else np.array([], np.int64)
    data["fingerprint"], data["raw_fp"] = (
        np.array(fps, dtype=object) for fps in _unique_fingerprints(org, keep_rows)
    )
    df = pd.DataFrame(data, index=pd.RangeIndex(len(keep_rows)))
    return Export(
        org, path, encoding, digest, df, header_map, rejected, delimiter, records_total=len(records)
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
    text: str,
    org: str,
    path: Path,
    rejected: list[dict[str, object]],
) -> tuple[list[list[str]], list[int]]:
    """(kept rows, their indices); a repeated header or a ragged row goes to ``rejected``."""
    width = len(header)
    keep_rows: list[list[str]] = []
    keep_idx: list[int] = []
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
        if len(rec) != width:
            if n == len(records) - 1 and len(rec) < width and not text.endswith(("\n", "\r")):
                raise InputError(
                    f"the last record has {len(rec)} of {width} fields and the file does not "
                    "end with a newline: it looks truncated",
                    path=str(path),
                    line=lines[n],
                    fix="re-export the file completely",
                )
            rejected.append(
                _reject(
                    org,
                    n + 1,
                    path,
                    lines[n],
                    f"ragged row: {len(rec)} fields, header has {width}",
                    "check the row for an unquoted comma or a missing field "
                    "and re-export; the row was left out",
                )
            )
            continue
        keep_rows.append(rec)
        keep_idx.append(n)
    return keep_rows, keep_idx


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
        pairs.append((named.pop(path, path.stem), path))
    for path, name in sorted(named.items()):
        pairs.append((name, path))
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


def load_decisions(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Read an auditor's decisions file (see docs/formats-dedupe.md)."""
    try:
        text, _ = decode_bytes(path.read_bytes(), path)
    except OSError as exc:
        raise InputError(
            f"cannot read the decisions file ({exc.strerror})",
            path=str(path),
            fix="check the path given to --decisions",
        ) from exc
    header, records, lines, _ = parse_records(text, path)
    # Cells omov neutralised in review_queue.csv (a leading "'") read back raw: omov.csvsafe.
    cols = [header_key(restore(h)).replace(" ", "_") for h in header]
    if "decision" not in cols:
        raise InputError(
            "the decisions file needs a 'decision' column",
            path=str(path),
            line=1,
            fix="start from review_queue.csv: fill in 'decision' (same/different) and 'note'",
        )
    rows = []
    for rec, line in zip(records, lines, strict=True):
        d = dict(zip(cols, [restore(v).strip() for v in rec], strict=False))
        rows.append({c: d.get(c, "") for c in DECISION_COLUMNS})
        dec = rows[-1]["decision"].lower()
        if dec not in ("same", "different", ""):
            raise InputError(
                f"decision must be 'same' or 'different', not {dec!r}",
                path=str(path),
                line=line,
                fix="write same or different (or leave blank to skip the row)",
            )
    return pd.DataFrame(rows, columns=list(DECISION_COLUMNS), dtype=object), lines
