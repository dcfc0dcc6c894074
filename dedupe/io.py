"""Reading organisations' exports and the user's mapping/decision files; writing outputs.

Why its own module: everything that can go wrong with a file (encoding, quoting, ragged rows,
headers) is caught here and turned into an ``InputError`` naming the file, the line and the fix,
so the pure core only ever sees clean string columns.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dedupe.csvfile import (
    MANY_LINES,
    MAX_CELL_CHARS,
    Mapping,
    OnRows,
    decode_bytes,
    long_lines,
    oversized,
    parse_records,
    triples,
)
from dedupe.csvfile import load_mapping as load_mapping  # re-exported: the old home
from dedupe.headers import NO_NAME, Column, Notice, choose_columns
from dedupe.rows import (
    all_plain_records,
    drop_trailing_delimiters,
    padded_notice,
    sort_out_records,
)
from dedupe.schema import CANONICAL_FIELDS, COALESCE_FIELDS
from dedupe.sheets import is_workbook, read_sheet_rows, sheet_names, split_sheet
from omov.errors import InputError


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
    by_file = triples(mapping)
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
        table = _sheet_table(raw, path, sheet, org, by_file)
        if on_rows is not None:
            on_rows(len(table.records))
    else:
        table = _csv_table(raw, path, org, by_file, on_rows)
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
    return _Table(header, records, lines, encoding, delimiter, chosen, path, ends, long_lines(text))


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
        rows[start],
        rows[start + 1 :],
        lines[start + 1 :],
        split_sheet(path)[0].suffix.lower().lstrip("."),
        f"sheet {name}",
        chosen,
        path,
    )


def _build_export(table: _Table, path: Path, org: str, digest: str) -> Export:
    header, lines = table.header, table.lines
    by_col, columns, notices = table.chosen
    width = len(header)
    records = drop_trailing_delimiters(table.records, width)
    header_map = {h: by_col.get(i, "unmapped") for i, h in enumerate(header)}
    rejected: list[dict[str, object]] = []
    if all_plain_records(records, header, width):
        keep_rows, keep_idx = records, list(range(len(records)))
    else:
        keep_rows, keep_idx, padded = sort_out_records(
            records, lines, header, table.ends_with_newline, org, path, rejected
        )
        if padded:
            notices = [*notices, padded_notice(padded, width)]
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
    df = _frame(data, len(keep_rows))
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


def _frame(data: dict[str, object], n: int) -> pd.DataFrame:
    """The columns as one DataFrame, the text ones adopted as one 2-D block.

    Why not ``pd.DataFrame(data)``: it scans every object column for dates to infer and then
    copies them all to consolidate (~0.3 s for a 300k-row export; this is ~0.06 s).
    """
    arrays = {k: np.asarray(v) for k, v in data.items()}
    text = [k for k, v in arrays.items() if v.dtype.kind == "O"]
    block = np.empty((len(text), n), dtype=object)
    for i, k in enumerate(text):
        block[i] = arrays[k]
    df = pd.DataFrame(block.T, columns=text, index=pd.RangeIndex(n), copy=False)
    for pos, (k, v) in enumerate(arrays.items()):
        if v.dtype.kind != "O":
            df.insert(pos, k, v)
    return df


_LETTER = re.compile(r"[^\W\d_]")


def _spaced_initials(cells: object) -> np.ndarray:
    """An initials column as a first name matching can read: "J.A." / "JA" -> "J A"."""
    values = cells.tolist() if isinstance(cells, np.ndarray) else list(cells)  # type: ignore[call-overload]
    out = np.empty(len(values), dtype=object)
    out[:] = [" ".join(_LETTER.findall(v)) if isinstance(v, str) else v for v in values]
    return out


def _refuse_oversized(table: _Table, rows: list[list[str]], keep_idx: list[int]) -> None:
    """Stop at the first cell longer than any member field (its size, line and column).

    Only records that hold a very long physical line or span many lines are looked at cell by
    cell (a sheet's records all are): a 1M-row file is not measured cell by cell.
    """
    starts = np.array([table.lines[k] for k in keep_idx], dtype=np.int64)
    suspects: list[int] | range
    if table.long_lines is None:
        suspects = range(len(rows))
    else:
        spans = np.diff(np.r_[starts, starts[-1] + 1]) if len(starts) else starts
        found = set(np.flatnonzero(spans >= MANY_LINES).tolist())
        for ln in table.long_lines:
            k = int(np.searchsorted(starts, ln, side="right")) - 1
            if k >= 0:
                found.add(k)
        suspects = sorted(found)
    for k in suspects:
        for c, cell in enumerate(rows[k]):
            if len(cell) > MAX_CELL_CHARS:
                column = table.header[c] if c < len(table.header) else None
                raise oversized(table.path, int(starts[k]), column, len(cell), cell.count("\n"))


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
    given = [*exports, *named]
    for path in given:
        if sum(1 for g in given if g.resolve() == path.resolve()) > 1:
            raise InputError(
                "the same export is given twice",
                path=str(path),
                fix="name each organisation's export once",
            )
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
