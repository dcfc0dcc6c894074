"""From decoded exports to one table of normalised records (the input of matching).

Why separate from ``normalise``: this is where per-organisation facts (the date format of *this*
column, postcodes hidden in *this* org's one-line address) are decided, and where a row that
names nobody is rejected with a reason instead of silently vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from dedupe import normalise as nz
from dedupe.io import Export

RECORD_COLUMNS = (
    "source_org",
    "row_id",
    "line",
    "fingerprint",
    "raw_fp",
    "title",
    "first_name",
    "middle_names",
    "last_name",
    "suffix",
    "first_key",
    "last_key",
    "middle_key",
    "nick_key",
    "number",
    "dob",
    "email",
    "phone",
    "postcode",
    "pc_valid",
    "address",
    "addr_key",
    "town",
    "town_key",
    "active",
    "consent",
)


@dataclass
class Prepared:
    """Normalised records plus what cleaning did, per organisation (for the summary)."""

    records: pd.DataFrame
    rejected: list[dict[str, object]] = field(default_factory=list)
    warnings: list[dict[str, object]] = field(default_factory=list)
    cleaning: dict[str, dict[str, object]] = field(default_factory=dict)


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df else pd.Series([None] * len(df), index=df.index, dtype=object)


def normalise_export(
    exp: Export, today: date
) -> tuple[pd.DataFrame, list[tuple[int, str, str]], dict[str, object]]:
    """Normalised columns for one organisation, its cell warnings and a cleaning report."""
    df = exp.data.reset_index(drop=True)
    warn: list[tuple[int, str, str]] = []
    out = df[["source_org", "row_id", "line", "fingerprint", "raw_fp"]].copy()
    out = pd.concat([out, nz.names(df)], axis=1)
    out["number"] = nz.membership_number(_col(df, "membership_number"), warn)
    dob, fmt = nz.dates_of_birth(_col(df, "date_of_birth"), warn, today)
    out["dob"] = dob
    out["email"] = nz.emails(_col(df, "email"), warn)
    # "robin_edwards.jr39@…": a generation suffix the name columns left out.
    jr = (
        out["email"]
        .fillna("")
        .str.contains(r"(?:^|[a-z._-])(?:jr|jnr|junior)(?:[0-9._-]|@)", regex=True)
    )
    out["suffix"] = out["suffix"].where(~(jr & (out["suffix"] == "")), "jr")
    out["phone"] = nz.phones(_col(df, "phone"), warn)
    # Embedded line breaks in a quoted address are separators, not content.
    address = nz._blank(
        _col(df, "address").astype(object).str.replace(r"\s*[\r\n]+\s*", ", ", regex=True)
    )
    pc_raw = nz._blank(_col(df, "postcode"))
    town = nz._blank(_col(df, "town"))
    if pc_raw.isna().all() and address.notna().any():
        found, rest = nz.postcode_from_text(address)
        pc_raw = found
        address = nz._blank(rest)
        if town.isna().all():  # "68 Thorpe Drive, Glasgow" -> town is the last part
            parts = address.str.rsplit(",", n=1)
            two = parts.map(lambda x: isinstance(x, list) and len(x) == 2)
            town = parts.map(
                lambda x: x[1].strip() if isinstance(x, list) and len(x) == 2 else None
            ).astype(object)
            address = (
                parts.map(lambda x: x[0].strip() if isinstance(x, list) and len(x) == 2 else None)
                .astype(object)
                .where(two, address)
            )
    out["postcode"], out["pc_valid"] = nz.postcodes(pc_raw, warn)
    out["address"] = address
    out["addr_key"] = nz.address_key(address)
    out["town"] = town
    out["town_key"] = nz.ascii_key(town)
    out["active"] = nz.status_active(_col(df, "status"))
    out["consent"] = nz.consent_given(_col(df, "consent"))
    report = {
        "file": str(exp.path),
        "encoding": exp.encoding,
        "sha256": exp.sha256,
        "delimiter": exp.delimiter,
        "records": exp.n_records,
        "date_of_birth_format": fmt,
        "headers": exp.header_map,
        "filled": {
            c: int(out[c].notna().sum())
            for c in ("first_key", "last_key", "number", "email", "phone", "postcode", "addr_key")
        }
        | {"dob": int((out["dob"] > 0).sum())},
    }
    return out, warn, report


@dataclass
class PreparedExport:
    """One organisation's normalised records and what cleaning found.

    Why its own unit: it depends on that one file only, so each export can be read and
    normalised in its own worker process and only this (not the raw cells) comes back.
    """

    org: str
    records: pd.DataFrame  # RECORD_COLUMNS, sorted by (fingerprint, row_id)
    rejected: list[dict[str, object]]
    warnings: list[dict[str, object]]
    report: dict[str, object]


def prepare_export(exp: Export, today: date) -> PreparedExport:
    """Normalise one export; reject rows that name nobody; collect its warnings."""
    out, warn, report = normalise_export(exp, today)
    row_id = out["row_id"].to_numpy()
    line = out["line"].to_numpy()
    warnings: list[dict[str, object]] = [
        {
            "source_org": exp.org,
            "row_id": int(row_id[pos]),
            "line": int(line[pos]),
            "field": fld,
            "warning": msg,
        }
        for pos, fld, msg in warn
    ]
    nameless = (out["first_key"].isna() & out["last_key"].isna()).to_numpy()
    rejected = list(exp.rejected)
    for pos in np.flatnonzero(nameless):
        rejected.append(
            {
                "source_org": exp.org,
                "row_id": int(row_id[pos]),
                "file": str(exp.path),
                "line": int(line[pos]),
                "reason": "no name: a ballot cannot be addressed to this row",
                "fix": "add the member's name in the export (or confirm the row is junk)",
            }
        )
    report["rejected"] = len(rejected)
    kept = out[~nameless][list(RECORD_COLUMNS)]
    # Canonical order: by content, never by position, so a shuffled file gives the same result.
    kept = kept.sort_values(["fingerprint", "row_id"], kind="stable").reset_index(drop=True)
    return PreparedExport(exp.org, kept, rejected, warnings, report)


def combine(parts: list[PreparedExport]) -> Prepared:
    """All organisations' records in one table, ordered by (organisation, fingerprint, row)."""
    parts = sorted(parts, key=lambda p: p.org)
    if len({p.org for p in parts}) != len(parts):
        raise ValueError("two exports have the same organisation name")
    prep = Prepared(records=pd.DataFrame(columns=list(RECORD_COLUMNS)))
    if parts:
        prep.records = pd.concat([p.records for p in parts], ignore_index=True)
    for part in parts:
        prep.rejected.extend(part.rejected)
        prep.warnings.extend(part.warnings)
        prep.cleaning[part.org] = part.report
    prep.rejected.sort(key=lambda r: (str(r["source_org"]), int(r["row_id"])))  # type: ignore[call-overload]
    prep.warnings.sort(key=lambda r: (str(r["source_org"]), int(r["row_id"]), str(r["field"])))  # type: ignore[call-overload]
    return prep


def prepare(exports: list[Export], today: date, release_raw: bool = False) -> Prepared:
    """Normalise every export in this process (see ``dedupe.loading`` for the parallel path)."""
    parts = []
    for exp in exports:
        parts.append(prepare_export(exp, today))
        if release_raw:  # the raw cells are no longer needed: free them before the next file
            exp.data = exp.data.iloc[0:0]
    return combine(parts)
