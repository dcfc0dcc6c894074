"""Old Excel 97-2003 workbooks (.xls, BIFF8) read like .xlsx (issue 15, item 2).

The files are real .xls written by xlwt (the standard BIFF writer), in both of Excel's date
systems, and read through the same entry points as the .xlsx tests: ``read_export`` and the CLI.
Expected dates are worked out here from each system's epoch, not from the reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from dedupe.io import read_export
from dedupe.records import prepare
from omov import cli
from omov.errors import ExitCode, InputError

xlwt = pytest.importorskip("xlwt")

TODAY = dt.date(2026, 11, 25)
#: Day 0 of each Excel date system: serial n is EPOCH + n days (1900: after 28 Feb 1900).
EPOCH_1900 = dt.date(1899, 12, 30)
EPOCH_1904 = dt.date(1904, 1, 1)


class Serial(int):
    """A raw Excel day number written with a date format (what Excel itself stores)."""


Row = Sequence[object]


def write_xls(path: Path, sheets: dict[str, list[Row]], dates_1904: bool = False) -> Path:
    """A real .xls: each sheet's rows from row 1; None leaves a cell empty; dates as date cells."""
    book = xlwt.Workbook()
    book.dates_1904 = int(dates_1904)
    as_date = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for name, rows in sheets.items():
        ws = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date | Serial):
                    ws.write(r, c, int(value) if isinstance(value, Serial) else value, as_date)
                else:
                    ws.write(r, c, value)
    book.save(str(path))
    return path


HEADER = ["Forename", "Surname", "LP number", "DOB", "Mobile"]
MEMBERS: list[Row] = [
    ["Members, north branch"],  # a title above the header
    [],
    HEADER,
    ["Ann", "Lee", 1234567.0, dt.date(1980, 2, 1), 7700900123],  # sheet row 4
    ["Bob", "Roe", "0234567", None, None],  # text keeps its leading zero
    [],  # an empty row inside the data: skipped, the row numbers after it do not shift
    ["Cy", "Dee", "L3456789", dt.date(1975, 12, 31), "07700 900124"],  # row 7
    HEADER,  # row 8: pasted twice, rejected
    ["Di", "Fox", 4567890, "31/02/1970", None],  # row 9: no such day, warned
    ["Ann", "Lee", 1234567, dt.date(1980, 2, 1), None],  # row 10: Ann again
]
YOUNG: list[Row] = [["Name", "Membership Number"], ["Dee Ward", 5678901]]


def _book(tmp_path: Path, name: str = "north.xls") -> Path:
    return write_xls(tmp_path / name, {"Members": MEMBERS, "Blank": [], "Young": YOUNG})


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_xls_named_sheet_keeps_sheet_row_numbers_and_cell_text(tmp_path: Path) -> None:
    book = _book(tmp_path)
    exp = read_export(Path(f"{book}:Members"), "north", [])
    d = exp.data.sort_values("row_id")
    assert list(d["line"]) == [4, 5, 7, 9, 10]
    assert list(d["first_name"]) == ["Ann", "Bob", "Cy", "Di", "Ann"]
    # a numeric cell 1234567.0 is the number 1234567; a text cell keeps its leading zero
    assert list(d["membership_number"]) == ["1234567", "0234567", "L3456789", "4567890", "1234567"]
    assert list(d["date_of_birth"]) == ["1980-02-01", "", "1975-12-31", "31/02/1970", "1980-02-01"]
    assert [r["line"] for r in exp.rejected] == [8]
    assert "header row again" in str(exp.rejected[0]["reason"])
    assert exp.encoding == "xls" and exp.delimiter == "sheet Members"
    phones = list(prepare([exp], TODAY).records.sort_values("row_id")["phone"])
    assert phones == ["+447700900123", None, "+447700900124", None, None]


def test_xls_reads_like_the_same_xlsx(tmp_path: Path) -> None:
    # One cell conversion for every format: the same rows give the same columns.
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Members"
    for row in MEMBERS:
        ws.append(list(row))
    wb.save(tmp_path / "north.xlsx")
    xls = write_xls(tmp_path / "north.xls", {"Members": MEMBERS})
    a = read_export(xls, "north", []).data
    b = read_export(tmp_path / "north.xlsx", "north", []).data
    assert a.to_dict("records") == b.to_dict("records")


def test_every_xls_sheet_with_data_is_an_export(tmp_path: Path) -> None:
    book = _book(tmp_path)
    out = tmp_path / "o"
    assert cli.run(["dedupe", "run", str(book), "--out", str(out), "-q"]) == ExitCode.PROBLEMS
    clusters = _csv(out / "clusters.csv")
    orgs = sorted({r["source_org"] for r in clusters})
    assert orgs == ["north:Members", "north:Young"]  # the empty sheet 'Blank' is no export
    # every row of the sheet is accounted for: 5 members kept, the repeated header rejected
    members = sorted(int(r["row_id"]) for r in clusters if r["source_org"] == "north:Members")
    rejected = _csv(out / "rejected.csv")
    assert members == [1, 2, 3, 5, 6]
    assert [(r["row_id"], r["line"]) for r in rejected] == [("4", "8")]
    persons = {r["row_id"]: r["person_id"] for r in clusters if r["source_org"] == "north:Members"}
    assert persons["1"] == persons["6"]  # Ann Lee on rows 4 and 10 is one person
    warned = [(r["row_id"], r["line"], r["field"]) for r in _csv(out / "warnings.csv")]
    assert ("5", "9", "date_of_birth") in warned  # 31/02/1970, at its sheet row


def test_missing_xls_sheet_stops_with_exit_2_and_names_the_sheets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = _book(tmp_path)
    with pytest.raises(InputError, match=r"no sheet 'Nope'.*'Members'.*'Young'"):
        read_export(Path(f"{book}:Nope"), "north", [])
    out = tmp_path / "o"
    assert cli.run(["dedupe", "run", f"{book}:Nope", "--out", str(out)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "north.xls:SHEET" in err and not out.exists()


@pytest.mark.parametrize(
    ("dates_1904", "epoch"), [(False, EPOCH_1900), (True, EPOCH_1904)], ids=["1900", "1904"]
)
def test_xls_date_cells_in_both_date_systems(
    tmp_path: Path, dates_1904: bool, epoch: dt.date
) -> None:
    rows: list[Row] = [
        ["First name", "Last name", "Date of birth"],
        ["Ann", "Lee", dt.date(1980, 2, 1)],  # xlwt stores the serial in the book's system
        ["Bob", "Roe", Serial(29281)],  # a stored serial: its date depends on the system
        ["Cy", "Dee", dt.date(1904, 1, 2)],
        ["Di", "Fox", dt.date(2010, 12, 31)],
    ]
    book = write_xls(tmp_path / "d.xls", {"Members": rows}, dates_1904=dates_1904)
    exp = read_export(book, "d", [])
    bob = (epoch + dt.timedelta(days=29281)).isoformat()
    assert bob == ("1980-03-01" if not dates_1904 else "1984-03-02")
    want = ["1980-02-01", bob, "1904-01-02", "2010-12-31"]
    assert list(exp.data.sort_values("row_id")["date_of_birth"]) == want
    prep = prepare([exp], TODAY)
    assert [w for w in prep.warnings if w["field"] == "date_of_birth"] == []


def test_xls_text_keeps_accents_and_empty_leading_rows_keep_row_numbers(tmp_path: Path) -> None:
    rows: list[Row] = [[], [], [None, "First name", "Last name", "Membership number"]]
    rows += [[None, "Zoë", "Siân-Łukasz", "0012345"], [None, "Åsa", "O’Brien", 7654321.0]]
    exp = read_export(write_xls(tmp_path / "a.xls", {"Sheet1": rows}), "a", [])
    d = exp.data.sort_values("row_id")
    assert list(d["line"]) == [4, 5]  # the header is on row 3 of the sheet, in column B
    assert list(d["first_name"]) == ["Zoë", "Åsa"]
    assert list(d["last_name"]) == ["Siân-Łukasz", "O’Brien"]
    assert list(d["membership_number"]) == ["0012345", "7654321"]


def test_xlsx_saved_with_an_xls_name_is_read_as_what_it_is(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["First name", "Last name", "LP number"])
    wb.active.append(["Ann", "Lee", 1234567])
    wb.save(tmp_path / "real.xls")  # the bytes are .xlsx (a ZIP), the name says .xls
    exp = read_export(tmp_path / "real.xls", "real", [])
    assert list(exp.data["membership_number"]) == ["1234567"]
    assert list(exp.data["line"]) == [2]


@pytest.mark.parametrize(
    ("text", "said", "fix"),
    [
        ("First name,Last name\nAnn,Lee\n", "holds text", "rename it to .csv"),
        ("First name\tLast name\nAnn\tLee\n", "holds text", "rename it to .csv"),
        ("<html><table><tr><td>First name</td></tr></table></html>", "web page", "Save As"),
        ('<?xml version="1.0"?><Workbook></Workbook>', "web page or XML", "Save As"),
        ("", "empty", "save it again"),
    ],
    ids=["csv", "tsv", "html", "xml2003", "empty"],
)
def test_text_named_xls_is_refused_with_a_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, said: str, fix: str
) -> None:
    path = tmp_path / "export.xls"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=said) as info:
        read_export(path, "export", [])
    assert info.value.path == str(path) and fix in (info.value.fix or "")
    out = tmp_path / "o"
    assert cli.run(["dedupe", "run", str(path), "--out", str(out)]) == ExitCode.USAGE
    assert not out.exists()


def test_utf16_text_named_xls_is_refused_as_text(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"  # Excel's "Unicode Text": UTF-16 with a BOM, tab separated
    path.write_bytes("First name\tLast name\r\nAnn\tLee\r\n".encode("utf-16"))
    with pytest.raises(InputError, match="holds text"):
        read_export(path, "export", [])


def _flipped(good: bytes, seed: int) -> bytes:
    """1-8 random bytes after the 512-byte header set to random values (seeded)."""
    rng = random.Random(seed)
    b = bytearray(good)
    for _ in range(rng.randint(1, 8)):
        b[rng.randrange(512, len(b))] = rng.randrange(256)
    return bytes(b)


def _corruptions(good: bytes) -> dict[str, bytes]:
    return {
        "cut-in-half": good[: len(good) // 2],
        "cut-near-end": good[:-40],  # calamine panics in Rust here (pyo3 PanicException)
        "signature-then-junk": good[:8] + b"\x00\x01" * 300,
        # FAT zeroed: a sector chain that loops; calamine grew memory until the OOM killer
        "directory-zeroed": good[:512] + b"\x00" * (len(good) - 512),
        # found by flipping bytes (2 of 300 seeds): calamine asked for ~1 TB and aborted
        "flipped-117": _flipped(good, 117),
        "flipped-187": _flipped(good, 187),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "cut-in-half",
        "cut-near-end",
        "signature-then-junk",
        "directory-zeroed",
        "flipped-117",
        "flipped-187",
    ],
)
def test_corrupt_xls_stops_with_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    good = _book(tmp_path, "good.xls").read_bytes()
    path = tmp_path / "broken.xls"
    path.write_bytes(_corruptions(good)[kind])
    out = tmp_path / "o"
    for argv in (["run", str(path), "--out", str(out)], ["inspect", str(path)]):
        assert cli.run(["dedupe", *argv]) == ExitCode.USAGE
        err = capsys.readouterr()
        assert str(path) in err.out + err.err and "save it again" in err.out + err.err
    with pytest.raises(InputError) as info:
        read_export(Path(f"{path}:Members"), "broken", [])
    assert info.value.path == f"{path}:Members"
    if kind in ("directory-zeroed", "flipped-117", "flipped-187"):  # the reader's process died
        assert "reader failed on this file" in str(info.value)
    assert not out.exists()


def test_inspect_shows_each_xls_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = _book(tmp_path)
    code = cli.run(["dedupe", "inspect", str(book)])
    out = capsys.readouterr().out
    assert code == ExitCode.PROBLEMS  # row 8 would be rejected: a person must act
    assert "xls workbook, sheet Members" in out and "xls workbook, sheet Young" in out
    assert "Blank" not in out
    assert "'LP number' → membership_number" in out and "would reject line 8" in out


def _prepared(tmp_path: Path, rows: list[Row]) -> list[tuple[int, object, object]]:
    exp = read_export(write_xls(tmp_path / "m.xls", {"Members": rows}), "m", [])
    rec = prepare([exp], TODAY).records.sort_values("row_id")
    return list(zip(rec["line"].tolist(), rec["number"].tolist(), rec["dob"].tolist(), strict=True))


def test_date_cells_and_typed_dates_mixed_in_one_column_are_all_read(tmp_path: Path) -> None:
    # Date cells come as ISO; the typed-in dates beside them decide day/month order (13/05 is
    # day-first). Before: the ISO cells outvoted them and 05/06/1970 was left out.
    rows: list[Row] = [
        ["First name", "Last name", "DOB"],
        ["Ann", "One", dt.date(1980, 2, 1)],
        ["Bob", "Two", "05/06/1970"],
        ["Cy", "Three", dt.datetime(1975, 12, 31, 0, 0)],
        ["Di", "Four", "13/05/1971"],
        ["Ed", "Five", "1969-07-20"],
        ["Flo", "Six", Serial(21916)],  # 1960-01-01 in the 1900 system
        ["Gus", "Seven", "2/3/1960"],
    ]
    got = [dob for _, _, dob in _prepared(tmp_path, rows)]
    assert got == [19800201, 19700605, 19751231, 19710513, 19690720, 19600101, 19600302]


def test_typed_dates_month_first_beside_date_cells(tmp_path: Path) -> None:
    rows: list[Row] = [["First name", "Last name", "DOB"], ["Ann", "One", dt.date(1980, 2, 1)]]
    rows += [["Bob", "Two", "12/31/1970"], ["Cy", "Three", "05/06/1971"]]
    got = [dob for _, _, dob in _prepared(tmp_path, rows)]
    assert got == [19800201, 19701231, 19710506]  # 12/31 says month first, for 05/06 too


def test_membership_numbers_mixed_numeric_and_text_cells(tmp_path: Path) -> None:
    rows: list[Row] = [
        ["First name", "Last name", "Membership number"],
        ["Ann", "One", 1234567],  # numeric
        ["Bob", "Two", "0234567"],  # text: its leading zero is kept
        ["Cy", "Three", 2345678.0],  # a float cell: no '.0'
        ["Di", "Four", "L3456789"],
        ["Ed", "Five", 1e20],  # a number too long for a cell: digits lost, never trusted
    ]
    exp = read_export(write_xls(tmp_path / "m.xls", {"Members": rows}), "m", [])
    warnings = prepare([exp], TODAY).warnings
    got = [(line, number) for line, number, _ in _prepared(tmp_path, rows)]
    assert got == [(2, "1234567"), (3, "0234567"), (4, "2345678"), (5, "3456789"), (6, None)]
    assert [(w["line"], w["field"]) for w in warnings] == [(6, "membership_number")]
    assert "scientific notation" in str(warnings[0]["warning"])


def test_numeric_cell_that_lost_its_leading_zero_is_warned_at_its_row(tmp_path: Path) -> None:
    # Excel turned "0234567" into the number 234567: 6 digits are not a number, said per row.
    rows: list[Row] = [["First name", "Last name", "Membership number"], ["Bob", "Two", 234567]]
    exp = read_export(write_xls(tmp_path / "m.xls", {"Members": rows}), "m", [])
    warnings = prepare([exp], TODAY).warnings
    assert [(w["line"], w["field"], w["warning"]) for w in warnings] == [
        (2, "membership_number", "not a 7-digit membership number")
    ]
