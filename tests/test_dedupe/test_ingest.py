"""Ingest: encodings, header aliases, date/number styles, and one test per bad-input class."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dedupe.io import load_mapping, read_export
from dedupe.records import prepare
from dedupe.schema import lookup_header
from omov import cli
from omov.errors import ExitCode, InputError

TODAY = date(2026, 11, 25)


def _prep(path: Path, mapping: list[tuple[str, str, str]] | None = None):  # type: ignore[no-untyped-def]
    exp = read_export(path, path.stem, mapping or [])
    return exp, prepare([exp], TODAY)


@pytest.mark.parametrize(
    "encoding,expected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("cp1252", "cp1252"),
        ("utf-16", "utf-16"),  # Excel "Unicode Text": UTF-16 with a BOM
        ("utf-16-be", "utf-16"),  # written with a big-endian BOM below
    ],
)
def test_encodings_detected_and_accents_kept(write, encoding: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    text = "First Name,Surname\nSiân,Ó Murchú\nZoë,Brontë\n"
    bom = b"\xfe\xff" if encoding == "utf-16-be" else b""
    p = write("org.csv", "", raw=bom + text.encode(encoding))
    exp, prep = _prep(p)
    assert exp.encoding == expected
    r = prep.records.sort_values("row_id")
    assert list(r["first_name"]) == ["Siân", "Zoë"]
    assert list(r["first_key"]) == ["sian", "zoe"]
    assert list(r["last_key"]) == ["omurchu", "bronte"]


def test_header_styles_map_to_canonical_fields(write) -> None:  # type: ignore[no-untyped-def]
    p = write(
        "a.csv",
        "Member ID,Labour Membership No,Forename(s),SURNAME,D.O.B.,E-mail,"
        "Home Phone,Mobile,Address Line 1,Address Line 2,Town/City,Post code,"
        "Membership Status,Mailing consent,Branch\n"
        "X1,LP-1234567,Ann,Lee,01/02/1980,A.Lee@Example.com,01132 496000,"
        "07700 900123,Flat 2,1 High St,Leeds,ls1 1aa,Lapsed,No,North\n",
    )
    exp, prep = _prep(p)
    hm = exp.header_map
    assert hm["Labour Membership No"] == "membership_number"
    assert hm["Forename(s)"] == "first_name" and hm["D.O.B."] == "date_of_birth"
    assert hm["Branch"] == "unmapped"
    rec = prep.records.iloc[0]
    assert rec["number"] == "1234567"
    assert rec["phone"] == "+447700900123"  # mobile preferred over the household landline
    assert rec["postcode"] == "LS1 1AA"
    assert rec["address"] == "Flat 2, 1 High St"
    assert rec["email"] == "a.lee@example.com"
    assert rec["active"] is False and rec["consent"] is False


@pytest.mark.parametrize(
    "header,field",
    [
        ("Membership #", "membership_number"),  # '#', 'No', 'No.', 'Num' all mean 'number'
        ("Telephone No.", "phone"),
        ("LP Num", "membership_number"),
        ("Consent (Y/N)", "consent"),  # answer choices and notes in brackets are not the name
        ("Consent Y/N", "consent"),
        ("Date of Birth (dd/mm/yyyy)", "date_of_birth"),
        ("  POST CODE  ", "postcode"),
        ("Member #", "org_member_id"),
        ("Notes (internal)", None),
        ("Email 1", "email"),  # the first of a numbered set is the primary one
        ("Email 2", None),
        ("Surname, Forename", "full_name"),
    ],
)
def test_header_spellings(header: str, field: str | None) -> None:
    assert lookup_header(header) == field


@pytest.mark.parametrize(
    "header,cells,expected",
    [
        ("DOB", ["1980-02-01", "1975-12-31"], [19800201, 19751231]),
        ("DOB", ["01/02/1980", "31/12/1975"], [19800201, 19751231]),
        ("DOB", ["02/01/1980", "12/31/1975"], [19800201, 19751231]),  # US: decided by the column
        ("DOB", ["01-02-80", "31-12-75"], [19800201, 19751231]),
        ("DOB", ["01-02-20", "31-12-75"], [19200201, 19751231]),  # a birth year is never future
        ("DOB", ["19800201", "19751231"], [19800201, 19751231]),
        ("DOB", ["01.02.1980", "31.12.1975"], [19800201, 19751231]),
        ("DOB", ["1 Feb 1980", "31 Dec 1975"], [19800201, 19751231]),
        ("DOB", ["01-Feb-1980", "31-Dec-1975"], [19800201, 19751231]),
        ("DOB", ["01-Feb-80", "31-Dec-75"], [19800201, 19751231]),  # Excel's default display
        ("DOB", ["February 1, 1980", "December 31, 1975"], [19800201, 19751231]),
        ("DOB", ["Feb 1, 1980", "Dec 31, 1975"], [19800201, 19751231]),
        ("DOB", ["1st February 1980", "31st December 1975"], [19800201, 19751231]),
        ("DOB", ["February 1st, 1980", "December 31st, 1975"], [19800201, 19751231]),
        ("DOB", ["01 Feb 80", "31 Dec 75"], [19800201, 19751231]),
        ("DOB", ["February 1 1980", "December 31 1975"], [19800201, 19751231]),
        ("DOB", ["1980-02-01T00:00:00.000Z", "1975-12-31 00:00"], [19800201, 19751231]),
        ("DOB", ["2/1/1980 12:00:00 AM", "12/31/1975 12:00:00 AM"], [19800201, 19751231]),
        # The column's format first; cells it misses only by a layout with one reading.
        (
            "DOB",
            ["01/02/1980", "31/12/1975", "1980-02-01", "3 Feb 1980"],
            [19800201, 19751231, 19800201, 19800203],
        ),
        ("DOB", ["01/02/1980", "31/12/1975", "02/31/1975"], [19800201, 19751231, 0]),
    ],
)
def test_date_format_detected_per_column(
    write,
    header: str,
    cells: list[str],  # type: ignore[no-untyped-def]
    expected: list[int],
) -> None:
    body = "".join(f'Ann,Lee{k},"{c}"\n' for k, c in enumerate(cells))
    _, prep = _prep(write("d.csv", f"First Name,Last Name,{header}\n{body}"))
    assert list(prep.records.sort_values("row_id")["dob"]) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("L1234567", "1234567"),
        ("1234567", "1234567"),
        ("01234567", "1234567"),
        ("L 123 4567", "1234567"),
        ("LP-1234567", "1234567"),
        ("l1234567", "1234567"),
        ("0123456", "0123456"),  # 7 digits: a leading zero that is not padding is kept
        ("000001234567", "1234567"),
        ("", None),
        ("N/A", None),
    ],
)
def test_membership_number_styles(write, raw: str, expected: str | None) -> None:  # type: ignore[no-untyped-def]
    _, prep = _prep(write("n.csv", f"Name,LP number\nAnn Lee,{raw}\n"))
    got = prep.records.iloc[0]["number"]
    assert (got if got == got else None) == expected


def test_float_membership_number_is_read(write) -> None:  # type: ignore[no-untyped-def]
    # A number column saved as floats keeps all its digits: "2450905.0" is 2450905.
    _, prep = _prep(write("n.csv", "Name,LP number\nAnn Lee,2450905.0\nBob Roe,0123456.0\n"))
    assert list(prep.records.sort_values("row_id")["number"]) == ["2450905", "0123456"]
    assert prep.warnings == []


def _cli_outputs(paths: list[Path], out: Path) -> dict[str, pd.DataFrame]:
    code = cli.run(["dedupe", "run", *map(str, paths), "--out", str(out), "-q"])
    assert code in (ExitCode.OK, ExitCode.PROBLEMS)
    return {n: pd.read_csv(out / f"{n}.csv") for n in ("clusters", "rejected", "warnings")}


def test_excel_mangled_cells_are_warned_by_row_never_trusted(write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """ "9.59668E+06" and a date shown as Excel's day number 28430 have lost information.

    They must not be matched on, the row must stay, and warnings.csv must name the row.
    """
    p = write(
        "xl.csv",
        "Name,LP number,DOB,Mobile\n"
        "Ann Lee,9.59668E+06,28430,4.47701E+11\n"
        "Bob Roe,2450905,12/03/1961,07700 900123\n"
        "Cy Dee,2450906,28431.0,07700 900124\n",
    )
    out = _cli_outputs([p], tmp_path / "out")
    assert sorted(out["clusters"]["row_id"]) == [1, 2, 3] and out["rejected"].empty
    w = out["warnings"]
    by = {(int(r), f): m for r, f, m in zip(w.row_id, w.field, w.warning, strict=True)}
    assert "scientific notation" in by[(1, "membership_number")]
    assert "scientific notation" in by[(1, "phone")]
    assert "Excel day number" in by[(1, "date_of_birth")]
    assert "Excel day number" in by[(3, "date_of_birth")]
    assert set(w.line[w.row_id == 1]) == {2}
    _, prep = _prep(p)
    rec = prep.records.set_index("row_id")
    assert rec.at[1, "number"] is None and rec.at[1, "phone"] is None
    assert rec.at[1, "dob"] == 0 and rec.at[3, "dob"] == 0 and rec.at[2, "dob"] == 19610312


def test_date_column_of_day_numbers_only_warns_every_row(write) -> None:  # type: ignore[no-untyped-def]
    # No format fits any cell: before, the column was dropped without a word.
    _, prep = _prep(write("d.csv", "Name,DOB\nAnn Lee,28430\nBob Roe,whenever\nCy Dee,\n"))
    w = {(int(x["row_id"]), x["field"]): x["warning"] for x in prep.warnings}
    assert set(w) == {(1, "date_of_birth"), (2, "date_of_birth")}
    assert "Excel day number" in w[(1, "date_of_birth")]
    assert "no date format" in w[(2, "date_of_birth")]
    assert len(prep.records) == 3


@pytest.mark.parametrize(
    "full,first,last,suffix",
    [
        ("Mr John A. Smith Jr", "John", "Smith", "jr"),
        ("SMITH, John", "John", "Smith", ""),
        ("Dr Siân O'Brien-Jones", "Siân", "O'Brien-Jones", ""),
        ("Rt Hon Jane Smith MP", "Jane", "Smith", ""),
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven", ""),
        ("Oliver Reynolds Junior", "Oliver", "Reynolds", "jr"),
    ],
)
def test_full_name_layouts(write, full: str, first: str, last: str, suffix: str) -> None:  # type: ignore[no-untyped-def]
    _, prep = _prep(write("f.csv", f'Full name\n"{full}"\n'))
    rec = prep.records.iloc[0]
    assert (rec["first_name"], rec["last_name"], rec["suffix"]) == (first, last, suffix)


def test_postcode_found_inside_one_line_address(write) -> None:  # type: ignore[no-untyped-def]
    _, prep = _prep(
        write("y.csv", 'Name,Address\n"LEE, Ann","68 Thorpe Drive, Glasgow, G25 2GB"\n')
    )
    rec = prep.records.iloc[0]
    assert (rec["postcode"], rec["town"], rec["address"]) == (
        "G25 2GB",
        "Glasgow",
        "68 Thorpe Drive",
    )


def test_gmail_variants_and_phone_formats(write) -> None:  # type: ignore[no-untyped-def]
    _, prep = _prep(
        write(
            "e.csv",
            "Name,Email,Phone\nA B,J.Smith+votes@googlemail.com,"
            "+44 (0)7700 900123\nC D,x@y.org,447700900124\n",
        )
    )
    r = prep.records.sort_values("row_id")
    assert list(r["email"]) == ["jsmith@gmail.com", "x@y.org"]
    assert list(r["phone"]) == ["+447700900123", "+447700900124"]


@pytest.mark.parametrize(
    "raw", ["+44 7700 900123", "07700900123", "447700900123", "7700900123.0", "0044 7700 900123"]
)
def test_phone_styles(write, raw: str) -> None:  # type: ignore[no-untyped-def]
    _, prep = _prep(write("p.csv", f"Name,Mobile No.\nAnn Lee,{raw}\n"))
    assert prep.records.iloc[0]["phone"] == "+447700900123"


def test_landline_with_bracketed_area_code(write) -> None:  # type: ignore[no-untyped-def]
    _, prep = _prep(write("p.csv", "Name,Tel\nAnn Lee,(01632) 960 001\n"))
    assert prep.records.iloc[0]["phone"] == "+441632960001"


def test_embedded_newline_counts_records_not_lines(write) -> None:  # type: ignore[no-untyped-def]
    p = write("m.csv", 'Name,Address\nAnn Lee,"1 High St\nLeeds"\nBob Roe,"2 Low St"\n')
    exp, _ = _prep(p)
    d = exp.data.sort_values("row_id")
    assert list(d["row_id"]) == [1, 2]
    assert list(d["line"]) == [2, 4]


def test_sep_line_names_the_delimiter(write) -> None:  # type: ignore[no-untyped-def]
    exp, _ = _prep(write("s.csv", "sep=;\nName;Town\nAnn Lee;Leeds, West Yorks\nBob Roe;York\n"))
    assert exp.delimiter == ";" and exp.header_map == {"Name": "full_name", "Town": "town"}
    d = exp.data.sort_values("row_id")
    assert list(d["row_id"]) == [1, 2] and list(d["line"]) == [3, 4]
    assert list(d["town"]) == ["Leeds, West Yorks", "York"]


def test_sep_line_alone_is_an_error(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(write("s.csv", "sep=,\n"), 1, "no header row")


def test_delimiter_at_every_line_end_is_not_ragged(write) -> None:  # type: ignore[no-untyped-def]
    exp, prep = _prep(write("t.csv", "Name;Email\nAnn Lee;a@b.com;\nBob Roe;;\nCy Dee;c@d.com\n"))
    assert exp.rejected == [] and len(prep.records) == 3


def test_one_stray_trailing_field_is_still_ragged(write) -> None:  # type: ignore[no-untyped-def]
    exp, _ = _prep(write("t.csv", "Name,Email\nAnn Lee,a@b.com\nBob Roe,b@c.com,\nCy Dee,c@d\n"))
    assert [r["row_id"] for r in exp.rejected] == [2]


def test_title_lines_above_the_header_are_skipped(write) -> None:  # type: ignore[no-untyped-def]
    p = write(
        "r.csv",
        'Members, all branches\n"Exported 25/11/2026"\n\nSurname\tForename\nLee\tAnn\nRoe\tBob\n',
    )
    exp, prep = _prep(p)
    assert exp.delimiter == "\t" and set(exp.header_map) == {"Surname", "Forename"}
    d = exp.data.sort_values("row_id")
    assert list(d["row_id"]) == [1, 2] and list(d["line"]) == [5, 6]
    assert sorted(prep.records["first_name"]) == ["Ann", "Bob"]


def test_no_header_in_the_first_lines_names_line_one(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(write("r.csv", "Report\nNom,Courriel\nAnne,a@b.com\n"), 1, "no name column")


def test_repeated_header_row_is_rejected_not_a_member(write) -> None:  # type: ignore[no-untyped-def]
    # Two exports pasted into one file: the second header must not become "Forename Surname".
    p = write("c.csv", "Forename,Surname\nAnn,Lee\nForename,Surname\nBob,Roe\n")
    exp, prep = _prep(p)
    assert [(r["row_id"], r["line"]) for r in exp.rejected] == [(2, 3)]
    assert "header row again" in str(exp.rejected[0]["reason"])
    assert sorted(prep.records["first_name"]) == ["Ann", "Bob"]


def test_bad_cell_is_a_warning_not_a_drop(write) -> None:  # type: ignore[no-untyped-def]
    _, prep = _prep(
        write(
            "w.csv",
            "Name,DOB,Postcode\nAnn Lee,1980-01-01,LS1 1AA\nBob Roe,not a date,NOTAPOSTCODE\n",
        )
    )
    assert len(prep.records) == 2
    fields = {w["field"] for w in prep.warnings}
    assert {"date_of_birth", "postcode"} <= fields
    assert all(w["line"] == 3 for w in prep.warnings)


def test_nameless_row_rejected_with_reason(write) -> None:  # type: ignore[no-untyped-def]
    _, prep = _prep(write("r.csv", "First Name,Last Name,Email\nAnn,Lee,a@b.com\n,,c@d.com\n"))
    assert len(prep.records) == 1
    assert prep.rejected[0]["line"] == 3 and "no name" in str(prep.rejected[0]["reason"])


def test_ragged_row_rejected_with_line_and_fix(write) -> None:  # type: ignore[no-untyped-def]
    exp, _ = _prep(
        write("g.csv", "Name,Email\nAnn Lee,a@b.com\nBob Roe,b@c.com,extra\nCy Dee,c@d.com\n")
    )
    assert exp.n_records == 3
    (rej,) = exp.rejected
    assert rej["line"] == 3 and rej["row_id"] == 2
    assert "ragged row" in str(rej["reason"]) and "unquoted comma" in str(rej["fix"])


# --- bad-input classes: each error names the file, the line and a fix -------------------------


def _assert_error(path: Path, line: int, words: str) -> None:
    with pytest.raises(InputError) as info:
        read_export(path, path.stem, [])
    msg = info.value.render()
    assert f"{path}:{line}:" in msg, msg
    assert words in msg, msg
    assert "fix:" in msg, msg


def test_empty_file(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(write("empty.csv", ""), 1, "empty")


def test_header_only_file(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(write("hdr.csv", "Name,Email\n"), 1, "no member rows")


def test_truncated_file_inside_quotes(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(write("t.csv", 'Name,Address\nAnn Lee,1 High St\nBob Roe,"2 Lo'), 3, "truncated")


def test_truncated_last_record(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(
        write("t2.csv", "Name,Email,Phone\nAnn Lee,a@b.com,0113\nBob Roe"), 3, "truncated"
    )


def test_duplicate_header(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(
        write("dup.csv", "Name,Email,email\nAnn Lee,a@b.com,c@d.com\n"), 1, "duplicate header"
    )


def test_two_columns_same_field(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(
        write("two.csv", "Name,Email,E-mail address\nAnn,a@b.com,c@d.com\n"), 1, "both mean"
    )


def test_wrong_encoding_utf16_without_bom(write) -> None:  # type: ignore[no-untyped-def]
    # Without a byte-order mark UTF-16 cannot be told from binary data: it stops the run.
    _assert_error(write("u16.csv", "Name\nAnn\n", "utf-16-le"), 1, "UTF-16")


def test_excel_unicode_text_tab_delimited_utf16(write) -> None:  # type: ignore[no-untyped-def]
    text = "Surname\tForename(s)\tMobile No.\r\nLee\tAnn\t07700 900123\r\n"
    exp, prep = _prep(write("u16.txt", text, "utf-16"))
    assert (exp.encoding, exp.delimiter) == ("utf-16", "\t")
    assert prep.records.iloc[0][["first_name", "last_name", "phone"]].tolist() == [
        "Ann",
        "Lee",
        "+447700900123",
    ]


def test_broken_utf16_names_the_line(write) -> None:  # type: ignore[no-untyped-def]
    raw = "Name\nAnn\nBob\n".encode("utf-16") + b"\x00\xd8"  # an unpaired surrogate
    _assert_error(write("b16.csv", "", raw=raw), 4, "not valid UTF-16")


def test_wrong_encoding_undecodable(write) -> None:  # type: ignore[no-untyped-def]
    raw = b"Name,Email\nAnn,a@b.com\nBob \x81\x8d,b@c.com\n"
    _assert_error(write("bad.csv", "", raw=raw), 3, "neither UTF-8 nor Windows-1252")


def test_spreadsheet_instead_of_csv(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(write("x.csv", "", raw=b"PK\x03\x04rest-of-zip"), 1, "spreadsheet")


def test_unmappable_headers_suggest_mapping_file(write) -> None:  # type: ignore[no-untyped-def]
    p = write("u.csv", "Nom,Courriel\nAnne,a@b.com\n")
    with pytest.raises(InputError) as info:
        read_export(p, "u", [])
    msg = info.value.render()
    assert "'Nom'" in msg and "mapping" in msg and "file,header,field" in msg


def test_mapping_file_rescues_unknown_headers(write) -> None:  # type: ignore[no-untyped-def]
    p = write("u.csv", "Nom,Prénom,Courriel\nLee,Anne,a@b.com\n")
    m = write(
        "map.csv", "file,header,field\n,Nom,last_name\nu.csv,Prénom,first_name\n,Courriel,email\n"
    )
    exp = read_export(p, "u", load_mapping(m))
    assert exp.header_map == {"Nom": "last_name", "Prénom": "first_name", "Courriel": "email"}


def test_malformed_quote(write) -> None:  # type: ignore[no-untyped-def]
    _assert_error(write("q.csv", 'Name,Email\nAnn,a@b.com\n"Bob"x,b@c.com\n'), 3, "malformed")
