"""Metamorphic test: the same members, exported the way real data officers export them.

Why: omov is judged on exports it has never seen. Every organisation re-saves its file from a
different spreadsheet or CRM — another encoding, delimiter, quoting, header spelling, column
order, date, number and phone style. None of that changes *who* the members are, so none of it
may change the persons omov finds. The test samples a few hundred real-looking rows from the
uk10k reference exports, runs the pure pipeline on them once as they are and once per
transform, and requires the same partition of (source_org, row_id) into persons, the same
normalised fields and the same warnings. Each transform is its own test case, so a failure
names the transform that broke ingest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from dedupe.io import read_export
from dedupe.pipeline import Options, run
from dedupe.schema import lookup_header

TODAY = date(2026, 11, 25)
UK10K = Path("dedupe/uk_members/uk10k_seed1")
#: Each reference export and the encoding it was written in (truth/manifest.json).
FILES = {
    "green_socialist_alliance": "utf-8-sig",
    "northern_left": "utf-8",
    "trade_union_link": "cp1252",
    "young_left": "utf-8",
}
#: The date-of-birth layout of each reference export (truth/manifest.json).
DOB_FORMAT = {
    "green_socialist_alliance": "%Y-%m-%d",
    "northern_left": "%d/%m/%Y",
    "young_left": "%m/%d/%Y",
}
#: One person in this many is sampled (whole persons, so cross-file duplicates are kept).
PERSON_SHARE = 16

#: Normalised fields that matching reads; a transform must leave every one unchanged.
COMPARED = (
    "first_key",
    "last_key",
    "middle_key",
    "nick_key",
    "suffix",
    "number",
    "dob",
    "email",
    "phone",
    "postcode",
    "pc_valid",
    "addr_key",
    "town_key",
    "active",
    "consent",
)


@dataclass(frozen=True)
class Table:
    """One export as strings: header, rows and the canonical field of each column."""

    org: str
    header: list[str]
    rows: list[list[str]]
    fields: list[str | None]

    def columns(self, *names: str) -> list[int]:
        return [k for k, f in enumerate(self.fields) if f in names]

    def map_cells(self, cols: list[int], fn: Callable[[str], str]) -> Table:
        rows = [[fn(v) if k in cols else v for k, v in enumerate(r)] for r in self.rows]
        return replace(self, rows=rows)


@dataclass(frozen=True)
class Variant:
    """A transform of the tables plus how the files are written (encoding, CSV dialect)."""

    name: str
    change: Callable[[Table], Table] = lambda t: t
    encoding: str = "utf-8"
    delimiter: str = ","
    quoting: int = csv.QUOTE_MINIMAL
    newline: str = "\n"
    sep_line: bool = False  #: a first line "sep=;" naming the delimiter (for Excel)
    delimiter_at_line_end: bool = False  #: every data line ends with the delimiter
    preamble: str = ""  #: report title lines above the header


# ----------------------------------------------------------------------------- the sample


def _load_sample(refdata: Path) -> list[Table]:
    """Every row of one person in PERSON_SHARE (by a hash of the true id), in file order.

    Rows with characters Windows-1252 cannot hold (Ł, ś, ŷ) are left out so the cp1252
    re-encoding is lossless; accents it can hold (é, ñ, ö) stay in.
    """
    base = refdata / UK10K
    truth = pd.read_csv(base / "truth" / "truth.csv", dtype=str)
    keep_person = truth["person_id"].map(
        lambda p: int(hashlib.sha256(p.encode()).hexdigest(), 16) % PERSON_SHARE == 0
    )
    chosen = set(
        zip(truth["source_org"][keep_person], truth["row_id"][keep_person].astype(int), strict=True)
    )
    tables = []
    for org, enc in FILES.items():
        text = (base / "exports" / f"{org}.csv").read_text(encoding=enc)
        header, *rows = list(csv.reader(io.StringIO(text, newline="")))
        rows = [r for n, r in enumerate(rows, 1) if (org, n) in chosen and _cp1252_ok(r)]
        tables.append(Table(org, header, rows, [lookup_header(h) for h in header]))
    return tables


def _cp1252_ok(row: list[str]) -> bool:
    try:
        "".join(row).encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _write(tables: list[Table], folder: Path, v: Variant) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in tables:
        t = v.change(t)
        buf = io.StringIO(newline="")
        w = csv.writer(buf, delimiter=v.delimiter, quoting=v.quoting, lineterminator=v.newline)
        buf.write(v.preamble.replace("\n", v.newline))
        if v.sep_line:
            buf.write(f"sep={v.delimiter}{v.newline}")
        w.writerow(t.header)
        w.writerows([[*r, ""] for r in t.rows] if v.delimiter_at_line_end else t.rows)
        p = folder / f"{t.org}.csv"
        p.write_bytes(buf.getvalue().encode(v.encoding))
        paths.append(p)
    return paths


@dataclass
class Outcome:
    partition: frozenset[frozenset[tuple[str, int]]]
    records: pd.DataFrame  # indexed by (source_org, row_id)
    warnings: set[tuple[str, int, str]]
    rejected: set[tuple[str, int]]
    rows_in: int


def _dedupe(paths: list[Path]) -> Outcome:
    exports = [read_export(p, p.stem, []) for p in paths]
    res = run(exports, Options(today=TODAY))
    cl = res.clusters
    groups = cl.groupby("person_id")[["source_org", "row_id"]]
    partition = frozenset(
        frozenset(zip(g["source_org"], g["row_id"].astype(int), strict=True)) for _, g in groups
    )
    recs = res.prep.records.set_index(["source_org", "row_id"]).sort_index()
    warnings = {(w["source_org"], int(w["row_id"]), w["field"]) for w in res.prep.warnings}
    rejected = {(str(r["source_org"]), int(r["row_id"])) for r in res.prep.rejected}  # type: ignore[call-overload]
    return Outcome(partition, recs, warnings, rejected, sum(e.n_records for e in exports))


# ----------------------------------------------------------------------------- transforms


def _reorder(t: Table) -> Table:
    """Columns in a different order: reversed, then the first two swapped."""
    order = list(range(len(t.header)))[::-1]
    order[0], order[1] = order[1], order[0]
    return Table(
        t.org,
        [t.header[k] for k in order],
        [[r[k] for k in order] for r in t.rows],
        [t.fields[k] for k in order],
    )


#: Other plausible spellings of each field's header, as real exports write them.
RENAMES: dict[str, tuple[str, ...]] = {
    "membership_number": ("Labour Party Membership Number", "LP No", "Membership #"),
    "first_name": ("Forename(s)", "Given Name", "FIRST NAMES"),
    "last_name": ("Surname", "Family name", "Last_Name"),
    "full_name": ("Member Name", "Full Name", "Name (as on register)"),
    "date_of_birth": ("D.O.B.", "Date Of Birth", "DoB"),
    "email": ("E-mail Address", "EMAIL ADDRESS", "Email 1"),
    "phone": ("Mobile No.", "Telephone No.", "Mobile Number"),
    "address": ("Address Line 1", "Street Address", "Address 1"),
    "town": ("Town/City", "Post Town", "City"),
    "postcode": ("Post Code", "POSTCODE", "Postal code"),
    "org_member_id": ("Membership ID", "Member Ref", "URN"),
    "status": ("Membership Status", "Member status", "STATUS"),
    "consent": ("Consent (Y/N)", "GDPR consent", "Consent to contact"),
}


def _rename(which: int) -> Callable[[Table], Table]:
    def change(t: Table) -> Table:
        header = [
            RENAMES[f][which] if f in RENAMES else h
            for h, f in zip(t.header, t.fields, strict=True)
        ]
        return replace(t, header=header)

    return change


def _headers_shouted(t: Table) -> Table:
    return replace(t, header=[h.upper() + "  " for h in t.header])


def _dates(style: Callable[[datetime], str]) -> Callable[[Table], Table]:
    def change(t: Table) -> Table:
        fmt = DOB_FORMAT.get(t.org)
        if fmt is None:
            return t

        def one(v: str) -> str:
            try:
                return style(datetime.strptime(v.strip(), fmt))
            except ValueError:
                return v

        return t.map_cells(t.columns("date_of_birth"), one)

    return change


def _number_digits(v: str) -> str | None:
    d = re.sub(r"[^0-9]", "", v)
    if len(d) > 7:
        d = d.lstrip("0").zfill(7)
    return d if len(d) == 7 and re.fullmatch(r"\s*[Ll]?[Pp]?[- ]?[0-9 ]+\s*", v) else None


def _numbers(style: Callable[[str], str]) -> Callable[[Table], Table]:
    def change(t: Table) -> Table:
        def one(v: str) -> str:
            d = _number_digits(v)
            return style(d) if d else v

        return t.map_cells(t.columns("membership_number"), one)

    return change


def _phones(style: Callable[[str], str]) -> Callable[[Table], Table]:
    """Rewrite UK numbers (10 national digits) in another style; leave anything else."""

    def change(t: Table) -> Table:
        def one(v: str) -> str:
            d = re.sub(r"[^0-9]", "", v.replace("(0)", ""))
            nat = d[2:] if d.startswith("44") else d[1:] if d.startswith("0") else ""
            return style(nat) if len(nat) == 10 and nat[0] != "0" else v

        return t.map_cells(t.columns("phone"), one)

    return change


_PC_END = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9][A-Z]{2})$")


def _postcodes(style: Callable[[re.Match[str]], str]) -> Callable[[Table], Table]:
    """Rewrite postcodes, also one at the end of a one-line address."""

    def change(t: Table) -> Table:
        cols = t.columns("postcode") or t.columns("address")
        return t.map_cells(cols, lambda v: _PC_END.sub(style, v.strip()))

    return change


def _upper_names(t: Table) -> Table:
    return t.map_cells(t.columns("first_name", "last_name", "full_name"), str.upper)


def _trailing_space(t: Table) -> Table:
    return t.map_cells(list(range(len(t.header))), lambda v: v + "  " if v else v)


def _compose(*fns: Callable[[Table], Table]) -> Callable[[Table], Table]:
    def change(t: Table) -> Table:
        for f in fns:
            t = f(t)
        return t

    return change


VARIANTS = [
    Variant("as_is"),
    Variant("windows_1252", encoding="cp1252", newline="\r\n"),
    Variant("utf8_bom", encoding="utf-8-sig"),
    Variant("utf16_excel_unicode_text", encoding="utf-16", delimiter="\t", newline="\r\n"),
    Variant("semicolon", delimiter=";"),
    Variant("tab", delimiter="\t"),
    Variant("pipe", delimiter="|"),
    Variant("all_quoted", quoting=csv.QUOTE_ALL),
    Variant("crlf", newline="\r\n"),
    Variant("cr_only_classic_mac", newline="\r"),
    Variant("sep=_line_first", delimiter=";", sep_line=True),
    Variant("delimiter_at_line_end", delimiter=";", delimiter_at_line_end=True),
    Variant(
        "report_title_above_header",
        delimiter=";",
        preamble="Membership report, all branches\nExported 25/11/2026 09:14\n\n",
    ),
    Variant("columns_reordered", _reorder),
    Variant("headers_renamed_a", _rename(0)),
    Variant("headers_renamed_b", _rename(1)),
    Variant("headers_renamed_c", _rename(2)),
    Variant("headers_upper_trailing_space", _headers_shouted),
    Variant("dob_dd/mm/yyyy", _dates(lambda d: d.strftime("%d/%m/%Y"))),
    Variant("dob_yyyy-mm-dd", _dates(lambda d: d.strftime("%Y-%m-%d"))),
    Variant("dob_dd.mm.yyyy", _dates(lambda d: d.strftime("%d.%m.%Y"))),
    Variant("dob_5_Jan_1963", _dates(lambda d: f"{d.day} {d:%b %Y}")),
    Variant("dob_05-Jan-1963", _dates(lambda d: d.strftime("%d-%b-%Y"))),
    Variant("dob_05-Jan-63", _dates(lambda d: d.strftime("%d-%b-%y"))),
    Variant("dob_05-JAN-63_oracle", _dates(lambda d: d.strftime("%d-%b-%y").upper())),
    Variant("dob_January_5,_1963", _dates(lambda d: f"{d:%B} {d.day}, {d.year}")),
    Variant("dob_US_mm/dd/yyyy", _dates(lambda d: d.strftime("%m/%d/%Y"))),
    Variant("dob_d/m/yyyy_unpadded", _dates(lambda d: f"{d.day}/{d.month}/{d.year}")),
    Variant(  # two systems' exports pasted together: UK days with some ISO dates
        "dob_mixed_uk_and_iso",
        _dates(lambda d: d.strftime("%d/%m/%Y" if d.day % 3 else "%Y-%m-%d")),
    ),
    Variant("dob_datetime_midnight", _dates(lambda d: d.strftime("%Y-%m-%d 00:00:00"))),
    Variant("dob_US_datetime_AM", _dates(lambda d: f"{d.month}/{d.day}/{d.year} 12:00:00 AM")),
    Variant("postcode_lower", _postcodes(lambda m: f"{m[1]} {m[2]}".lower())),
    Variant("postcode_no_space", _postcodes(lambda m: f"{m[1]}{m[2]}")),
    Variant("number_L", _numbers(lambda d: "L" + d)),
    Variant("number_LP-", _numbers(lambda d: "LP-" + d)),
    Variant("number_spaced", _numbers(lambda d: f"L {d[:3]} {d[3:]}")),
    Variant("number_zero_padded", _numbers(lambda d: "000" + d)),
    Variant("number_excel_float", _numbers(lambda d: d.lstrip("0") + ".0")),
    Variant("phone_+44_spaced", _phones(lambda n: f"+44 {n[:4]} {n[4:]}")),
    Variant("phone_national_compact", _phones(lambda n: "0" + n)),
    Variant("phone_44_no_plus", _phones(lambda n: "44" + n)),
    Variant("phone_bracketed_area", _phones(lambda n: f"(0{n[:4]}) {n[4:7]} {n[7:]}")),
    Variant("names_upper_case", _upper_names),
    Variant("trailing_whitespace", _trailing_space),
    Variant(
        "excel_kitchen_sink",
        _compose(
            _reorder,
            _rename(0),
            _dates(lambda d: d.strftime("%d-%b-%Y")),
            _numbers(lambda d: "LP-" + d),
            _phones(lambda n: f"(0{n[:4]}) {n[4:7]} {n[7:]}"),
            _postcodes(lambda m: f"{m[1]}{m[2]}".lower()),
            _upper_names,
        ),
        encoding="utf-16",
        delimiter="\t",
        newline="\r\n",
    ),
]


# ----------------------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def sample(refdata: Path) -> list[Table]:
    return _load_sample(refdata)


@pytest.fixture(scope="module")
def baseline(sample: list[Table], tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    out = _dedupe(_write(sample, tmp_path_factory.mktemp("orig"), Variant("original")))
    # The sample must be worth testing: cross-file persons and every file's rows present.
    assert sum(len(p) > 1 for p in out.partition) > 20
    return out


def _diff_records(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    problems = []
    for col in COMPARED:
        x, y = a[col], b[col].reindex(a.index)
        differ = ~((x == y) | (x.isna() & y.isna()))
        if differ.any():
            keys = list(x.index[differ])[:3]
            shown = "; ".join(f"{k}: {x[k]!r} -> {y[k]!r}" for k in keys)
            problems.append(f"{col}: {int(differ.sum())} rows differ, e.g. {shown}")
    return problems


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_export_variant_gives_same_persons(
    variant: Variant, sample: list[Table], baseline: Outcome, tmp_path: Path
) -> None:
    got = _dedupe(_write(sample, tmp_path, variant))
    assert got.rows_in == baseline.rows_in
    clustered = {k for p in got.partition for k in p}
    assert len(clustered) + len(got.rejected) == got.rows_in
    assert got.rejected == baseline.rejected
    assert list(got.records.index) == list(baseline.records.index)
    problems = _diff_records(baseline.records, got.records)
    assert not problems, f"{variant.name} changed normalised fields:\n  " + "\n  ".join(problems)
    assert got.warnings == baseline.warnings, (
        f"new warnings {sorted(got.warnings - baseline.warnings)[:5]}, "
        f"lost {sorted(baseline.warnings - got.warnings)[:5]}"
    )
    moved = baseline.partition ^ got.partition
    assert not moved, f"{variant.name} changed {len(moved)} person groups, e.g. {sorted(moved)[:2]}"
