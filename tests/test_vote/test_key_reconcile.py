"""omov vote key-reconcile: only papers both operators read alike reach the intake."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issue.tokens import format_token, new_tokens
from omov.cli import run
from vote.key_reconcile import Reading, reconcile

T = [format_token(t) for t in new_tokens(8)]


def write(path: Path, rows: list[list[str]], header: str = "paper,token,preferences") -> Path:
    path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def omov(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = run(list(argv))
    got = capsys.readouterr()
    return code, got.out + got.err


def test_agreed_go_to_intake_and_every_disagreement_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(tmp_path / "a.csv", [
        ["P1", T[0], "1;2;3"],
        ["P2", T[1].lower().replace("-", " "), "2;1;;"],  # same token typed differently; trailing
        ["P3", T[2], "1;2"],           # second operator read a 3 for the 2
        ["P4", T[3], "1"],             # second operator slipped a symbol in the token
        ["P5", T[4], "1;2"],           # missing in the second file
        ["P6", T[5], "1"],             # given twice in the first file
        ["P6", T[5], "2"],
        ["P8", "NOT-A-TOKEN", "1"],    # unreadable, but both typed it alike: intake rejects it
    ])  # fmt: skip
    wrong = T[3][:-3] + ("0" if T[3][-3] != "0" else "1") + T[3][-2:]
    second = write(tmp_path / "b.csv", [
        ["P1", T[0], "1; 2 ;3"],
        ["P2", T[1], "2;1"],
        ["P3", T[2], "1;3"],
        ["P4", wrong, "1"],
        ["P6", T[5], "1"],
        ["P7", T[6], "1"],             # missing in the first file
        ["P8", "not-a-token", "1"],
    ])  # fmt: skip
    out = tmp_path / "out"
    code, text = omov(capsys, "vote", "key-reconcile", str(first), str(second), "--out", str(out))
    assert code == 3, text
    agreed = list(csv.DictReader((out / "postal.csv").open()))
    assert [(r["token"], r["preferences"]) for r in agreed] == [
        (T[0], "1;2;3"), (T[1], "2;1"), ("NOT-A-TOKEN", "1"),
    ]  # fmt: skip
    dis = list(csv.DictReader((out / "disagreements.csv").open()))
    issues = sorted((d["paper"], d["issue"]) for d in dis)
    assert issues == [
        ("P3", "preferences"), ("P4", "token"), ("P5", "missing_in_second"),
        ("P6", "paper_twice_in_first"), ("P6", "paper_twice_in_first"),
        ("P6", "paper_twice_in_first"), ("P7", "missing_in_first"),
    ]  # fmt: skip
    p3 = next(d for d in dis if d["paper"] == "P3")
    assert (p3["first_preferences"], p3["second_preferences"]) == ("1;2", "1;3")
    assert (p3["first_line"], p3["second_line"]) == ("4", "4")
    disagreed_tokens = {T[2], T[3], T[4], T[5], T[6]}
    assert not disagreed_tokens & {r["token"] for r in agreed}
    # The agreed file is a valid intake channel file (header token,preferences).
    assert (out / "postal.csv").read_text().splitlines()[0] == "token,preferences"


def test_bad_header_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write(tmp_path / "a.csv", [["P1", T[0], "1"]], header="paper,tok,prefs")
    b = write(tmp_path / "b.csv", [["P1", T[0], "1"]])
    code, text = omov(capsys, "vote", "key-reconcile", str(a), str(b), "--out", str(tmp_path / "o"))
    assert code == 2 and "a.csv:1" in text
    assert not (tmp_path / "o").exists()


readings = st.lists(
    st.tuples(
        st.sampled_from(["P1", "P2", "P3", "P4"]),
        st.sampled_from(T[:3]),
        st.sampled_from(["1", "1;2", "2;1", ""]),
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(readings, readings)
def test_nothing_disagreed_reaches_the_intake_and_every_row_is_accounted(
    a: list[tuple[str, str, str]], b: list[tuple[str, str, str]]
) -> None:
    first = [Reading(p, i + 2, t, m) for i, (p, t, m) in enumerate(a)]
    second = [Reading(p, i + 2, t, m) for i, (p, t, m) in enumerate(b)]
    r = reconcile(first, second)
    listed_a = sum(1 for d in r.disagreements if d["first_line"])
    listed_b = sum(1 for d in r.disagreements if d["second_line"])
    paired = [d for d in r.disagreements if d["first_line"] and d["second_line"]]
    assert len(r.agreed) + listed_a == len(first)
    assert len(r.agreed) + listed_b == len(second)
    # An agreed paper has exactly one reading in each file and both say the same.
    for token, marks in r.agreed:
        assert any((t, m) == (token, marks) for _, t, m in a)
        assert any((t, m) == (token, marks) for _, t, m in b)
    assert not {d["paper"] for d in r.disagreements} & set(r.agreed_papers)
    for p in r.agreed_papers:  # exactly one reading in each file
        assert [q for q, _, _ in a].count(p) == 1 == [q for q, _, _ in b].count(p)
    assert len(paired) <= len(first)
