"""Small members.parquet fixtures in the dedupe output contract (built here, not by dedupe)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = (
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


def person(i: int, *, email: bool | None = None, eligible: bool = True) -> dict[str, object]:
    has_email = (i % 3 != 0) if email is None else email
    return {
        "person_id": f"P{i:07d}",
        "full_name": f"Alex Member{i}",
        "first_name": "Alex",
        "last_name": f"Member{i}",
        "email": f"alex{i}@example.org" if has_email else None,
        "phone": None,
        "address": f"{i} High Street",
        "town": "Leeds",
        "postcode": "LS1 1AA",
        "organisations": "Labour;Momentum",
        "membership_number": f"{i:07d}",
        "eligible": eligible,
        "ineligible_reason": None if eligible else "lapsed",
    }


def write_members(path: Path, rows: list[dict[str, object]], drop: str | None = None) -> Path:
    schema = pa.schema(
        [(c, pa.bool_() if c == "eligible" else pa.string()) for c in COLUMNS if c != drop],
        metadata={"format_version": "omov.members/1"},
    )
    cols = {c: [r[c] for r in rows] for c in COLUMNS if c != drop}
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols, schema=schema), path)
    return path


def roll(path: Path, ids: range | list[int], **kw: object) -> Path:
    return write_members(path, [person(i, **kw) for i in ids])  # type: ignore[arg-type]
