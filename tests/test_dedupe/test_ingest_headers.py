"""Any export a data officer has (issue 15, item 2): header variants, initials, spreadsheets,
``omov dedupe inspect``. Each test failed on the old code (exit 2, or a wrong proposal).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dedupe.headers import How, recognise
from dedupe.io import read_export
from dedupe.records import prepare
from omov import cli
from omov.errors import ExitCode, InputError

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    "header,field,how",
    [
        ("Initials", "initials", How.ALIAS),
        ("Surname", "last_name", How.ALIAS),
        ("D.O.B.", "date_of_birth", How.ALIAS),
        ("Mem#", "membership_number", How.ABBREVIATION),
        ("Mem #", "membership_number", How.ABBREVIATION),
        ("Addr 1", "address", How.ABBREVIATION),
        ("Surnmae", "last_name", How.SPELLING),
        ("Emial Address", "email", How.SPELLING),
        ("Postocde", "postcode", How.SPELLING),
        ("Frist name", "first_name", How.SPELLING),
        ("Memebrship number", "membership_number", How.SPELLING),
        ("Postal town", "town", How.ALIAS),
        ("Favourite colour", None, None),
        # a real word one or two letters from an alias is not a typo of it
        ("Membership start", None, None),
        ("Contact pref", None, None),
        ("Mobile 2", None, None),
        ("Address 4", None, None),
        # a qualifying first word, and abbreviated words ("Lab. Mem. No.")
        ("Member Surname", "last_name", How.QUALIFIED),
        ("Member Forename", "first_name", How.QUALIFIED),
        ("Contact Email", "email", How.ALIAS),
        ("Primary Postcode", "postcode", How.QUALIFIED),
        ("Lab. Mem. No.", "membership_number", How.ABBREVIATION),
        ("Member ID", "org_member_id", How.ALIAS),
        ("Preferred name", None, None),  # a name one goes by, never the whole name
        ("Mobile/Cell", "phone", How.ALIAS),
        ("Post/Zip Code", "postcode", How.ALIAS),
        ("Home Email", "email", How.ALIAS),
        ("Work Email", None, None),  # a second email column would stop the run: left unread
        ("House No/Name", "address", How.ALIAS),
        ("Flat No", "address", How.ALIAS),
    ],
)
def test_header_variants(header: str, field: str | None, how: How | None) -> None:
    assert recognise(header) == (field, how)


def test_bare_number_header_is_decided_by_its_values() -> None:
    assert recognise("No.", ["L1234567", "2345678"]) == ("membership_number", How.VALUES)
    assert recognise("No.", ["17", "18", "19"]) == ("org_member_id", How.VALUES)


def test_membership_id_holding_labour_numbers_is_the_membership_number() -> None:
    # "Membership ID" is usually the organisation's own id; L-prefixed cells make it Labour's.
    assert recognise("Membership ID", ["L1234567", "L 765 4321", "LP-2345678"]) == (
        "membership_number",
        How.VALUES,
    )
    assert recognise("Membership ID", ["1234567", "7654321"]) == ("org_member_id", How.ALIAS)


def test_a_column_headed_member_is_a_name_or_an_id_by_its_values() -> None:
    assert recognise("Member", ["Ann Lee", "Bob Roe"]) == ("full_name", How.VALUES)
    assert recognise("Member", ["10023", "10024"]) == ("org_member_id", How.VALUES)


def test_proposal_follows_the_header_words_not_the_column_order(write) -> None:  # type: ignore[no-untyped-def]
    # The surname column comes first: proposing it as first_name (by position) was wrong.
    p = write("fr.csv", "Nom,Prénom,Ref\nDupont,Jean,12345\nMartin,Anne,12346\n")
    with pytest.raises(InputError) as info:
        read_export(p, "fr", [])
    fix = info.value.fix or ""
    assert ",Nom,last_name" in fix and ",Prénom,first_name" in fix


def test_initials_surname_no_dob_export_reads_and_links(write) -> None:  # type: ignore[no-untyped-def]
    # The export that stopped the 200k run with exit 2 (and a fix mapping No. to first_name).
    p = write(
        "held.csv",
        "Initials,Surname,No.,D.O.B.\nJ.A.,Lee,1234567,01/02/1980\nB,Roe,2345678,03/04/1975\n",
    )
    exp = read_export(p, "held", [])
    assert exp.header_map == {
        "Initials": "initials",
        "Surname": "last_name",
        "No.": "membership_number",
        "D.O.B.": "date_of_birth",
    }
    assert list(exp.data["initials"]) == ["J.A.", "B"]
    rec = prepare([exp], TODAY).records.sort_values("row_id")
    assert list(rec["first_key"]) == ["j", "b"] and rec["middle_key"].iloc[0] == "a"


def test_proposal_never_maps_an_id_column_to_a_name(write) -> None:  # type: ignore[no-untyped-def]
    p = write("u.csv", "Ref No,Given,Fam\n1001,Ann,Lee\n1002,Bob,Roe\n")
    with pytest.raises(InputError) as info:
        read_export(p, "u", [])
    fix = info.value.fix or ""
    assert ",Given,first_name" in fix and ",Fam,last_name" in fix
    assert "Ref No" not in fix


def test_header_mapping_is_said_on_screen(write, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    p = write("s.csv", "Forename,Surnmae,Mem#\nAnn,Lee,1234567\n")
    assert cli.run(["dedupe", "run", str(p), "--out", str(tmp_path / "o")]) == ExitCode.OK
    err = capsys.readouterr().err
    assert "'Surnmae' → last_name" in err and "'Mem#' → membership_number" in err
    assert "'Surnmae' read as last_name (close spelling)" in err


def _xlsx(path: Path) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Members"
    ws.append(["Members, all branches"])
    ws.append([])
    ws.append(["Forename", "Surname", "LP number", "DOB", "Mobile"])
    ws.append(["Ann", "Lee", 1234567, dt.date(1980, 2, 1), 7700900123])
    ws.append(["Bob", "Roe", "L2345678", None, None])
    ws.append(["Cy", "Dee", 3456789.0, "05/06/1970", "07700 900124", "stray"])
    other = wb.create_sheet("Young")
    other.append(["Name", "Membership Number"])
    other.append(["Dee Ward", 4567890])
    wb.save(path)
    return path


def test_xlsx_sheet_rows_keep_sheet_line_numbers(tmp_path: Path) -> None:
    book = _xlsx(tmp_path / "north.xlsx")
    exp = read_export(Path(f"{book}:Members"), "north", [])
    d = exp.data.sort_values("row_id")
    assert list(d["line"]) == [4, 5, 6]  # sheet rows; the title rows are not members
    assert list(d["membership_number"]) == ["1234567", "L2345678", "3456789"]
    assert list(d["date_of_birth"]) == ["1980-02-01", "", "05/06/1970"]
    assert exp.rejected == []  # a cell in a column without a header shifts nothing in a sheet
    prep = prepare([exp], TODAY)
    assert list(prep.records.sort_values("row_id")["phone"]) == [
        "+447700900123",
        None,
        "+447700900124",
    ]


def test_every_sheet_of_a_workbook_is_an_export(tmp_path: Path) -> None:
    book = _xlsx(tmp_path / "north.xlsx")
    code = cli.run(["dedupe", "run", str(book), "--out", str(tmp_path / "o"), "-q"])
    assert code == ExitCode.OK
    clusters = (tmp_path / "o" / "clusters.csv").read_text()
    assert "north:Members,1," in clusters and "north:Young,1," in clusters


def test_ods_is_read(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("odf")
    path = tmp_path / "org.ods"
    pd.DataFrame({"First Name": ["Ann"], "Last Name": ["Lee"], "LP No": [1234567]}).to_excel(
        path, engine="odf", index=False
    )
    exp = read_export(path, "org", [])
    assert exp.encoding == "ods" and list(exp.data["membership_number"]) == ["1234567"]


def test_missing_sheet_is_named(tmp_path: Path) -> None:
    book = _xlsx(tmp_path / "north.xlsx")
    with pytest.raises(InputError, match=r"no sheet 'Nope'.*'Members'"):
        read_export(Path(f"{book}:Nope"), "north", [])


def test_inspect_shows_each_file_without_matching(write, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    good = write("good.csv", "Forename;Surname;Mem#\nAnn;Lee;1234567\n")
    short = write("short.csv", "Name,LP number,Notes\nAnn Lee,1234567\nBob Roe,2,x,y\n")
    bad = write("bad.csv", "Nom,Courriel\nAnne,a@b.com\n")
    code = cli.run(["dedupe", "inspect", str(good), str(short), str(bad)])
    out = capsys.readouterr().out
    assert code == ExitCode.USAGE  # bad.csv cannot be read; the others are still shown
    assert "delimiter semicolon" in out and "'Mem#' → membership_number" in out
    assert "would reject line 3" in out and "fewer fields" in out
    assert "CANNOT READ" in out and "no name column" in out
    assert not (tmp_path / "out").exists()
