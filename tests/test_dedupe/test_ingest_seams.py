"""No member row is dropped with exit 0 (issue 12, item 4); each test failed on the old code.

Short rows whose trailing empty fields were left off are padded, not rejected; a rejected row
makes the run exit 3 and is on screen; a membership-number column omov cannot read, or a
mapping line that matches no header, is a loud warning (exit 3); a file given twice or a
byte-identical copy is refused (exit 2); a huge cell is reported by its size.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dedupe.io import read_export
from omov import cli
from omov.errors import ExitCode, InputError

HEADER = "First Name,Last Name,LP number,Email,Mobile,Town,Notes\n"


def _run(paths: list[Path], out: Path, *extra: str) -> int:
    return cli.run(["dedupe", "run", *map(str, paths), "--out", str(out), "-q", *extra])


def _run_loud(paths: list[Path], out: Path, *extra: str) -> int:
    return cli.run(["dedupe", "run", *map(str, paths), "--out", str(out), *extra])


def test_rows_without_trailing_empty_fields_are_padded_not_rejected(write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A writer that leaves off trailing empty fields: 100 members, every row short.
    body = "".join(f"Ann{k},Lee{k},{1000000 + k}\n" for k in range(100))
    p = write("org.csv", HEADER + body)
    exp = read_export(p, "org", [])
    assert exp.rejected == [] and len(exp.data) == 100
    assert any("fewer fields" in n.text for n in exp.notices)
    assert _run([p], tmp_path / "out") == ExitCode.OK
    assert len(pd.read_csv(tmp_path / "out" / "clusters.csv")) == 100


def test_a_short_last_row_without_newline_is_still_truncation(write) -> None:  # type: ignore[no-untyped-def]
    p = write("t.csv", HEADER + "Ann,Lee,1000001,a@b.com,,Leeds,\nBob,Roe")
    with pytest.raises(InputError, match="truncated"):
        read_export(p, "t", [])


def test_any_rejected_row_exits_3_and_is_on_screen(write, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    p = write("g.csv", "Name,Email\nAnn Lee,a@b.com\nBob Roe,b@c.com,extra\nCy Dee,c@d.com\n")
    assert _run_loud([p], tmp_path / "out") == ExitCode.PROBLEMS
    err = capsys.readouterr().err
    assert f"{p}:3" in err and "ragged row" in err and "rejected" in err


@pytest.mark.parametrize("header", ["Mem#", "Mem #", "Membership No", "No."])
def test_membership_number_header_variants_are_read(write, header: str) -> None:  # type: ignore[no-untyped-def]
    p = write("m.csv", f"Forename,Surname,{header}\nAnn,Lee,L1234567\nBob,Roe,2345678\n")
    exp = read_export(p, "m", [])
    assert exp.header_map[header] == "membership_number"


def test_unreadable_membership_number_column_is_a_loud_warning(
    write, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    p = write("x.csv", "Forename,Surname,Party ref\nAnn,Lee,L1234567\nBob,Roe,L2345678\n")
    assert _run_loud([p], tmp_path / "out") == ExitCode.PROBLEMS
    err = capsys.readouterr().err
    assert "'Party ref'" in err and "WARNING" in err and "membership" in err
    warnings = pd.read_csv(tmp_path / "out" / "warnings.csv")
    assert "Party ref" in warnings.iloc[0]["warning"]


def test_mapping_line_matching_no_header_is_a_loud_warning(write, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    p = write("y.csv", "Forename,Surname,LP number\nAnn,Lee,1234567\n")
    m = write("map.csv", "file,header,field\n,Surname,last_name\n,Forname,first_name\n")
    assert _run_loud([p], tmp_path / "out", "--mapping", str(m)) == ExitCode.PROBLEMS
    err = capsys.readouterr().err
    assert "mapping line 3" in err and "'Forname'" in err


def test_same_file_twice_is_refused(write, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    p = write("a.csv", "Name,LP number\nAnn Lee,1234567\n")
    code = cli.run(
        ["dedupe", "run", str(p), str(tmp_path / "." / "a.csv"), "--out", str(tmp_path / "o")]
    )
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "given twice" in err and "--org" not in err.split("fix:")[1]
    assert not (tmp_path / "o").exists()


def test_byte_identical_copy_is_refused(write, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    a = write("a.csv", "Name,LP number\nAnn Lee,1234567\n")
    b = write("b.csv", "Name,LP number\nAnn Lee,1234567\n")
    assert _run([a, b], tmp_path / "o") == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "same bytes" in err and "leave out the copy" in err
    assert "twice" not in err.split("fix:")[1]


def test_a_one_megabyte_cell_is_named_by_its_size(write) -> None:  # type: ignore[no-untyped-def]
    big = "x" * 1_048_576
    p = write("big.csv", f"Name,Notes\nAnn Lee,ok\nBob Roe,{big}\nCy Dee,ok\n")
    with pytest.raises(InputError) as info:
        read_export(p, "big", [])
    msg = info.value.render()
    assert f"{p}:3:" in msg and "1,048,576 characters" in msg and "'Notes'" in msg
    assert "quoting" not in msg


@pytest.mark.parametrize(
    "encoding,delimiter",
    [("utf-16", "\t"), ("utf-16", ";"), ("utf-8", ";"), ("utf-8", "\t"), ("cp1252", ";")],
)
def test_utf16_semicolon_and_tab_exports(write, encoding: str, delimiter: str) -> None:  # type: ignore[no-untyped-def]
    rows = [["Forename", "Surname", "Town"], ["Siân", "Lee", "Leeds, West"], ["Zoë", "Roe", "York"]]
    text = "\r\n".join(delimiter.join(f'"{c}"' if "," in c else c for c in r) for r in rows)
    p = write("d.csv", text + "\r\n", encoding)
    exp = read_export(p, "d", [])
    assert exp.delimiter == delimiter
    assert list(exp.data["first_name"]) == ["Siân", "Zoë"]
    assert list(exp.data["town"]) == ["Leeds, West", "York"]
