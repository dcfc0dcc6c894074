"""Sorting an export's records: padded, kept, or rejected with a reason (never dropped).

Why its own module: this is where "every input row is accounted for" is decided; a row that
cannot be read as the header says goes to ``rejected.csv`` with its line and a fix.
"""

from __future__ import annotations

from pathlib import Path

from dedupe.headers import Level, Notice
from dedupe.schema import header_key
from omov.errors import InputError


def is_repeated_header(rec: list[str], header: list[str], header_keys: list[str]) -> bool:
    first_head = header[0].strip()
    return bool(
        first_head  # cheap test first: this runs once per row
        and rec[0].strip().lstrip("\ufeff") == first_head
        and len(rec) == len(header)
        and [header_key(v) for v in rec] == header_keys
    )


def all_plain_records(records: list[list[str]], header: list[str], width: int) -> bool:
    """True when every record has the header's width and none is the header again."""
    if any(len(r) != width for r in records):
        return False
    first_head = header[0].strip()
    if not first_head:
        return True
    keys = [header_key(h) for h in header]
    return not any(is_repeated_header(r, header, keys) for r in records if first_head in r[0])


def sort_out_records(
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
        if is_repeated_header(rec, header, header_keys):
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


def padded_notice(padded: list[int], width: int) -> Notice:
    return Notice(
        Level.INFO,
        f"{len(padded):,} row(s) (first on line {padded[0]}) have fewer fields than the header's "
        f"{width}: the writer left off trailing empty fields; they were read as empty",
    )


def drop_trailing_delimiters(records: list[list[str]], width: int) -> list[list[str]]:
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
