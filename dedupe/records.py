"""From decoded exports to one table of normalised records (the input of matching).

Why separate from ``normalise``: this is where per-organisation facts (the date format of *this*
column, postcodes hidden in *this* org's one-line address) are decided, and where a row that
names nobody is rejected with a reason instead of silently vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dedupe import names as nm
from dedupe import normalise as nz
from dedupe.distinct import (
    Cells,
    Distinct,
    clean_cell,
    clean_cells,
    nones,
    per_distinct1,
    present,
)
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


def _cells(df: pd.DataFrame, name: str) -> Cells:
    """A raw column's cells; all missing when the export has no such column."""
    return df[name].to_numpy(dtype=object) if name in df else nones(len(df))


#: Name columns ("initials": an export with initials instead of given names).
_NAME_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "title",
    "middle_names",
    "suffix",
    "initials",
)
#: "robin_edwards.jr39@…": a generation suffix the name columns left out.
_JR_EMAIL = re.compile(r"(?:^|[a-z._-])(?:jr|jnr|junior)(?:[0-9._-]|@)")
#: Embedded line breaks in a quoted address are separators, not content.
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def _address_parts(df: pd.DataFrame) -> tuple[Cells, Cells, Cells | Distinct, Cells, Cells]:
    """(address, its key, raw postcode, town, its key), taking a postcode (and town) out of a
    one-line address.

    Whether to look inside the address is decided by the column (no postcode column or it is
    empty everywhere), then each distinct address is split once. When nothing is split, the
    keys are made from the distinct values already at hand (``address_key``/``ascii_key`` of
    the per-row columns without factorising those again), and a postcode column comes back
    factorised for ``postcodes``.
    """
    raw = Distinct.of(_cells(df, "address"))
    lines = clean_cells(
        [_LINE_BREAKS.sub(", ", u) if "\n" in u or "\r" in u else u for u in map(str, raw.values)]
    )
    pc_col = Distinct.of(_cells(df, "postcode"))
    town_col = Distinct.of(_cells(df, "town"))
    town_vals = clean_cells(town_col.values)
    town = town_col.gather(town_vals)
    town_key = town_col.gather(_keys(town_vals, nm.ascii_key_one, clean=False))
    if any(clean_cell(v) is not None for v in pc_col.values) or all(a is None for a in lines):
        return (
            raw.gather(lines),
            raw.gather(_keys(lines, nz.address_key_one)),
            pc_col,
            town,
            town_key,
        )
    split_town = not any(v is not None for v in town_vals)
    found: list[object] = []
    rest: list[str | None] = []
    towns: list[str | None] = []
    for a in lines:
        pc, r = (None, None) if a is None else nz.postcode_in_text(a)
        r = clean_cell(r) if pc is not None else a
        found.append(pc)
        if split_town and r is not None and len(two := r.rsplit(",", 1)) == 2:
            r, t = two[0].strip(), two[1].strip()
            towns.append(t)
        else:
            towns.append(None)
        rest.append(r)
    # Keyed from the per-row columns here: what is left of the addresses (and the towns) has
    # far fewer distinct values than the one-line addresses it came from.
    address = raw.gather(rest)
    if split_town:
        town = raw.gather(towns)
        town_key = nm.ascii_key(town)
    return address, nz.address_key(address), raw.gather(found), town, town_key


def _keys(
    values: list[str | None], fn: Callable[[str], str | None], clean: bool = True
) -> list[str | None]:
    """``fn`` of each value, None for a missing one (and, with ``clean``, a blank-ish one)."""
    if not clean:
        return [None if v is None else fn(v) for v in values]
    out: list[str | None] = []
    for v in values:
        c = None if v is None else clean_cell(v)
        out.append(None if c is None else fn(c))
    return out


Columns = dict[str, npt.NDArray[Any]]


def normalise_export(
    exp: Export, today: date
) -> tuple[Columns, list[tuple[int, str, str]], dict[str, object]]:
    """Normalised columns for one organisation, its cell warnings and a cleaning report."""
    df = exp.data  # read by position only: its index does not matter (and is not copied)
    n = len(df)
    warn: list[tuple[int, str, str]] = []
    out: Columns = {
        c: df[c].to_numpy() for c in ("source_org", "row_id", "line", "fingerprint", "raw_fp")
    }
    out.update(nm.names({c: _cells(df, c) for c in _NAME_FIELDS if c in df}, n))
    out["number"] = nz.membership_number(_cells(df, "membership_number"), warn)
    dob, fmt = nz.dates_of_birth(_cells(df, "date_of_birth"), warn, today)
    out["dob"] = dob
    email = nz.emails(_cells(df, "email"), warn)
    out["email"] = email
    jr = per_distinct1(email, lambda e: _JR_EMAIL.search(e) is not None, clean=False)
    suffix = out["suffix"]
    suffix[np.equal(jr, True) & (suffix == "")] = "jr"
    out["suffix"] = suffix
    out["phone"] = nz.phones(_cells(df, "phone"), warn)
    address, addr_key, pc_raw, town, town_key = _address_parts(df)
    out["postcode"], out["pc_valid"] = nz.postcodes(pc_raw, warn)
    out["address"] = address
    out["addr_key"] = addr_key
    out["town"] = town
    out["town_key"] = town_key
    out["active"] = nz.status_active(_cells(df, "status"))
    out["consent"] = nz.consent_given(_cells(df, "consent"))
    report = {
        "file": str(exp.path),
        "encoding": exp.encoding,
        "sha256": exp.sha256,
        "delimiter": exp.delimiter,
        "records": exp.n_records,
        "date_of_birth_format": fmt,
        "headers": exp.header_map,
        "filled": {
            c: int(present(out[c]).sum())
            for c in ("first_key", "last_key", "number", "email", "phone", "postcode", "addr_key")
        }
        | {"dob": int((dob > 0).sum())},
    }
    return out, warn, report


@dataclass
class PreparedExport:
    """One organisation's normalised records and what cleaning found.

    Why its own unit: it depends on that one file only, so each export can be read and
    normalised in its own worker process and only this (not the raw cells) comes back.
    """

    org: str
    #: The text columns of RECORD_COLUMNS (but ``source_org``, the same in every row) as the
    #: rows of one C-ordered 2-D block, named by ``text_names``; rows sorted by (fingerprint,
    #: row_id). Why not a frame: a worker pickles a frame's transposed block against the
    #: grain (slow), and ``combine`` builds one frame of all parts without a ``pd.concat``
    #: copy. Why one block, not a column each: freed, one big block goes back to the system;
    #: many column-sized arrays stay in the heap and raise the peak memory later on.
    text: npt.NDArray[np.object_]
    text_names: list[str]
    #: The other (numeric and boolean) columns.
    numbers: Columns
    rejected: list[dict[str, object]]
    warnings: list[dict[str, object]]
    report: dict[str, object]


def prepare_export(exp: Export, today: date) -> PreparedExport:
    """Normalise one export; reject rows that name nobody; collect its warnings."""
    out, warn, report = normalise_export(exp, today)
    row_id = out["row_id"].tolist()
    line = out["line"].tolist()
    warnings: list[dict[str, object]] = [
        {
            "source_org": exp.org,
            "row_id": row_id[pos],
            "line": line[pos],
            "field": fld,
            "warning": msg,
        }
        for pos, fld, msg in warn
    ]
    nameless = ~present(out["first_key"]) & ~present(out["last_key"])
    rejected = list(exp.rejected)
    for pos in np.flatnonzero(nameless).tolist():
        rejected.append(
            {
                "source_org": exp.org,
                "row_id": row_id[pos],
                "file": str(exp.path),
                "line": line[pos],
                "reason": "no name: a ballot cannot be addressed to this row",
                "fix": "add the member's name in the export (or confirm the row is junk)",
            }
        )
    report["rejected"] = len(rejected)
    order = _canonical_order(out, np.flatnonzero(~nameless))
    names = [c for c in RECORD_COLUMNS if c != "source_org" and out[c].dtype.kind == "O"]
    text = np.empty((len(names), len(order)), dtype=object)
    for i, c in enumerate(names):
        np.take(out[c], order, out=text[i])
    numbers = {c: out[c][order] for c in RECORD_COLUMNS if out[c].dtype.kind != "O"}
    return PreparedExport(exp.org, text, names, numbers, rejected, warnings, report)


def _column(part: PreparedExport, name: str) -> npt.NDArray[Any]:
    """One of a part's RECORD_COLUMNS."""
    if name == "source_org":
        return np.full(part.text.shape[1], part.org, dtype=object)
    if name in part.numbers:
        return part.numbers[name]
    row: npt.NDArray[Any] = part.text[part.text_names.index(name)]
    return row


def _records_frame(parts: list[PreparedExport]) -> pd.DataFrame:
    """RECORD_COLUMNS of all ``parts``, one after the other, as one DataFrame.

    Why by hand: the text columns are concatenated straight into one 2-D block that the frame
    adopts without copying; ``pd.concat`` of per-part frames (or a frame from a dict of
    columns) copies them all again to consolidate.
    """
    n = sum(p.text.shape[1] for p in parts)
    cols = {c: [_column(p, c) for p in parts] for c in RECORD_COLUMNS}
    dtypes = {c: np.result_type(*(a.dtype for a in cols[c])) for c in RECORD_COLUMNS}
    text = [c for c in RECORD_COLUMNS if dtypes[c].kind == "O"]
    block = np.empty((len(text), n), dtype=object)
    for i, c in enumerate(text):
        np.concatenate(cols[c], out=block[i])
    frame = pd.DataFrame(block.T, columns=text, index=pd.RangeIndex(n), copy=False)
    for pos, c in enumerate(RECORD_COLUMNS):
        if dtypes[c].kind != "O":
            frame.insert(pos, c, np.concatenate(cols[c]))
    return frame


def _canonical_order(out: Columns, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """``rows`` ordered by (fingerprint, row_id): by content, never by position, so a shuffled
    file gives the same result. Sorted as fixed-width strings (a numpy sort, no Python compares).
    """
    fp = out["fingerprint"][rows].astype(str)
    return rows[np.lexsort((out["row_id"][rows], fp))]


def combine(parts: list[PreparedExport]) -> Prepared:
    """All organisations' records in one table, ordered by (organisation, fingerprint, row)."""
    parts = sorted(parts, key=lambda p: p.org)
    if len({p.org for p in parts}) != len(parts):
        raise ValueError("two exports have the same organisation name")
    prep = Prepared(records=pd.DataFrame(columns=list(RECORD_COLUMNS)))
    if parts:
        prep.records = _records_frame(parts)
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
            exp.data = exp.data.iloc[0:0].copy()  # a view would keep every cell alive
    return combine(parts)
