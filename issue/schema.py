"""The input contract from dedupe: ``members.parquet``, validated up front.

One row per person. Required columns (types checked loosely: strings may be ``string`` or
``large_string``, ``eligible`` must be boolean with no nulls):

    person_id, full_name, first_name, last_name, email, phone, address, town, postcode,
    organisations, membership_number, eligible, ineligible_reason

``person_id`` must be non-null and unique: two rows with one id would be one person twice. The
file's key-value metadata should carry ``format_version``; it is recorded in the audit log.
A missing column or a bad value is an ``InputError`` (exit 2) naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from omov.errors import InputError

MEMBER_COLUMNS: tuple[str, ...] = (
    "person_id",
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "town",
    "postcode",
    "organisations",
    "membership_number",
    "eligible",
    "ineligible_reason",
)
#: Columns issue actually reads (the rest are checked for presence only).
USED_COLUMNS: tuple[str, ...] = (
    "person_id",
    "full_name",
    "first_name",
    "email",
    "address",
    "town",
    "postcode",
    "eligible",
)


@dataclass(frozen=True)
class Roll:
    """The eligible part of the roll, as arrow columns (kept columnar for 1M rows)."""

    table: pa.Table  #: eligible rows only, USED_COLUMNS
    persons: int  #: rows in the file
    eligible: int
    format_version: str | None


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t))


def read_roll(path: Path) -> Roll:
    """Read and validate ``members.parquet``; keep eligible rows only."""
    if not path.is_file():
        raise InputError("no such file", path=str(path), fix="give the members.parquet from dedupe")
    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"not a readable parquet file ({exc})", path=str(path)) from None
    schema = pf.schema_arrow
    missing = [c for c in MEMBER_COLUMNS if c not in schema.names]
    if missing:
        raise InputError(
            f"missing column(s): {', '.join(missing)}",
            path=str(path),
            fix="use the members.parquet written by `omov dedupe run`",
        )
    for name in MEMBER_COLUMNS:
        t = schema.field(name).type
        if name == "eligible":
            if not pa.types.is_boolean(t):
                raise InputError(f"column 'eligible' must be boolean, not {t}", path=str(path))
        elif not _is_text(t):
            raise InputError(f"column {name!r} must be text, not {t}", path=str(path))
    meta = schema.metadata or {}
    fv = meta.get(b"format_version")
    table = pf.read(columns=list(USED_COLUMNS))
    for name in ("person_id", "eligible"):
        nulls = table.column(name).null_count
        if nulls:
            raise InputError(f"column {name!r} has {nulls} empty value(s)", path=str(path))
    ids = table.column("person_id")
    if pc.count_distinct(ids).as_py() != len(ids):
        raise InputError(
            "column 'person_id' has duplicate values: one person would get two tokens",
            path=str(path),
            fix="re-run dedupe; person_id must be unique",
        )
    eligible = table.filter(table.column("eligible"))
    return Roll(
        table=eligible.combine_chunks(),
        persons=table.num_rows,
        eligible=eligible.num_rows,
        format_version=fv.decode("utf-8", "replace") if fv is not None else None,
    )
