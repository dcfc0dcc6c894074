"""Intake never spends a token on a file it cannot read (issue 12 item 1, issue 16 item 6).

Each test names the failure it guards against; each failed on the code before this change
(a misread file exited 0 with every token spent, rejections exited 0, a 5,000-digit mark crashed,
a 20 MB field was read whole, a pasted en dash made a token malformed).
"""

from __future__ import annotations

import json
import re
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intake_helpers import invoke, make_ballot_def, make_register, write_returns

from issue.register import Register
from issue.tokens import format_token, new_tokens
from omov.fileio import sha256_file

NAMES = ["Ann Able", "Bob Baker", "Cat Cole", "Dan Dale", "Eve Eagle"]


def _election(tmp_path: Path, n: int = 10) -> dict[str, object]:
    toks = new_tokens(n)
    db, key = make_register(tmp_path / "issue", unused=toks)
    bdef = make_ballot_def(tmp_path / "pack" / "ballot_definition.json", NAMES)
    return {"toks": toks, "db": db, "key": key, "bdef": bdef}


def _intake(e: dict[str, object], files: list[Path], out: Path, *extra: str) -> tuple[int, str]:
    code, stdout, err = invoke(
        [
            "intake",
            *map(str, files),
            "--register",
            str(e["db"]),
            "--keys",
            str(e["key"]),
            "--ballot-def",
            str(e["bdef"]),
            "--out",
            str(out),
            *extra,
        ]
    )
    return code, stdout + err


def _all_unused(e: dict[str, object]) -> bool:
    with Register.open(e["db"], e["key"]) as reg:  # type: ignore[arg-type]
        return reg.counts()["used"] == 0


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _bad_file(kind: str, toks: list[str], path: Path) -> tuple[Path, int, str]:
    """A channel file with one file-level problem: (path, line named, words in the message)."""
    rows = [f"{format_token(t)}" for t in toks]
    body = {
        "arrows": ("token,preferences\n", [f"{t},3>1>4" for t in rows], 2, "'>'"),
        "quoted_commas": ("token,preferences\n", [f'{t},"3,1,4"' for t in rows], 2, "','"),
        "bare_commas": ("token,preferences\n", [f"{t},3,1,4" for t in rows], 2, "comma"),
        "semicolon_file": ("token;preferences\n", [f"{t};1;2;3" for t in rows], 1, "';'"),
        "tab_file": ("token\tpreferences\n", [f"{t}\t1;2" for t in rows], 1, "TAB"),
        "swapped_header": ("preferences,token\n", [f"1;2,{t}" for t in rows], 1, "swapped"),
        "swapped_columns": ("token,preferences\n", [f"1;2;3,{t}" for t in rows], 2, "swapped"),
        "no_header": ("", [f"{t},1;2" for t in rows], 1, "no header"),
        "wrong_header": ("code,prefs\n", [f"{t},1;2" for t in rows], 1, "token,preferences"),
    }[kind]
    head, lines, line, words = body
    return _write(path, head + "\n".join(lines) + "\n"), line, words


KINDS = [
    "arrows",
    "quoted_commas",
    "bare_commas",
    "semicolon_file",
    "tab_file",
    "swapped_header",
    "swapped_columns",
    "no_header",
    "wrong_header",
]


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_level_error_is_exit_2_and_the_register_is_untouched(
    tmp_path: Path, kind: str
) -> None:
    e = _election(tmp_path)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    good = write_returns(tmp_path / "ret" / "online.csv", [(toks[0], "1;2")])
    bad, line, words = _bad_file(kind, toks[1:], tmp_path / "ret" / "postal.csv")
    before = sha256_file(e["db"])  # type: ignore[arg-type]
    code, err = _intake(e, [good, bad], tmp_path / "out")
    assert code == 2, err
    assert f"postal.csv:{line}:" in err and words in err and "fix:" in err
    assert sha256_file(e["db"]) == before and _all_unused(e)  # type: ignore[arg-type]
    assert not (tmp_path / "out" / ".intake-journal.json").exists()
    for tok in toks:
        assert tok not in err and format_token(tok) not in err
    # The corrected file is then taken in: no vote was lost.
    fixed = write_returns(tmp_path / "ret" / "postal.csv", [(t, "3;1;2") for t in toks[1:]])
    code, err = _intake(e, [good, fixed], tmp_path / "out")
    assert code == 0, err


def test_an_implausible_share_of_invalid_papers_stops_before_consuming(tmp_path: Path) -> None:
    e = _election(tmp_path)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    rows = [(t, "1;2") for t in toks[:7]] + [(t, "1;1") for t in toks[7:]]  # 30 % spoilt
    f = write_returns(tmp_path / "online.csv", rows)
    before = sha256_file(e["db"])  # type: ignore[arg-type]
    code, err = _intake(e, [f], tmp_path / "a")
    assert code == 2 and "3 of 10" in err and "--accept-invalid" in err, err
    assert sha256_file(e["db"]) == before  # type: ignore[arg-type]
    assert not (tmp_path / "a" / ".intake-journal.json").exists()
    code, err = _intake(e, [f], tmp_path / "a", "--max-invalid-share", "35%")
    assert code == 3, err  # taken in; three spoilt papers rejected
    report = json.loads((tmp_path / "a" / "intake_report.json").read_text())
    assert report["totals"]["valid"] == 7


def test_accept_invalid_takes_the_file_in(tmp_path: Path) -> None:
    e = _election(tmp_path)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    f = write_returns(tmp_path / "online.csv", [(t, "") for t in toks[:5]] + [(toks[5], "1")])
    assert _intake(e, [f], tmp_path / "a")[0] == 2
    code, err = _intake(e, [f], tmp_path / "a", "--accept-invalid")
    assert code == 3, err


def test_dry_run_classifies_without_consuming(tmp_path: Path) -> None:
    e = _election(tmp_path)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    f = write_returns(
        tmp_path / "online.csv",
        [(t, "1;1") for t in toks[:5]] + [(t, "2;1") for t in toks[5:]] + [("BAD", "1")],
    )
    before = sha256_file(e["db"])  # type: ignore[arg-type]
    code, out = _intake(e, [f], tmp_path / "out", "--dry-run")
    assert code == 3 and "no token used" in out, out
    assert sha256_file(e["db"]) == before and _all_unused(e)  # type: ignore[arg-type]
    dry = json.loads((tmp_path / "out" / "dry_run_report.json").read_text())
    assert dry["run"]["dry_run"] and dry["run"]["would_stop"]
    html = (tmp_path / "out" / "dry_run_report.html").read_text()
    assert 'id="dry-run"' in html and "would stop" in html
    assert not (tmp_path / "out" / "ballots.blt").exists()
    assert (tmp_path / "out" / "dry_run_rejected.csv").read_text().count("\n") == 7
    code, _ = _intake(e, [f], tmp_path / "out", "--accept-invalid")  # same --out afterwards
    assert code == 3
    real = json.loads((tmp_path / "out" / "intake_report.json").read_text())
    assert real["totals"] == dry["totals"]


def test_rejections_exit_3_and_a_losing_intake_shows_a_warning(tmp_path: Path) -> None:
    e = _election(tmp_path)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    ok = write_returns(tmp_path / "ok.csv", [(t, "1;2") for t in toks[:4]])
    code, err = _intake(e, [ok], tmp_path / "a")
    assert code == 0, err
    html = (tmp_path / "a" / "intake_report.html").read_text()
    assert 'id="warning"' not in html
    again = write_returns(tmp_path / "again.csv", [(t, "1;2") for t in toks[:4]] + [(toks[4], "1")])
    code, err = _intake(e, [again], tmp_path / "b", "--accept-invalid")
    assert code == 3 and "4 returned rows were rejected" in err
    assert "fewer valid papers than rejected" in err
    report = json.loads((tmp_path / "b" / "intake_report.json").read_text())
    assert report["warning"] is True
    html = (tmp_path / "b" / "intake_report.html").read_text()
    assert 'id="warning"' in html and 'role="alert"' in html


@pytest.mark.parametrize(
    "sep", ["\u2013", "\u2014", "\u200b", "\u00a0", "\u2011", "\u2212", "\u3000", " \u200d"]
)
def test_tokens_pasted_with_unicode_dashes_and_spaces_are_read(tmp_path: Path, sep: str) -> None:
    e = _election(tmp_path, 3)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    rows = [(format_token(t).replace("-", sep), "1") for t in toks]
    rows[0] = ("\u200b" + rows[0][0] + "\u00a0", "1")
    f = write_returns(tmp_path / "online.csv", rows)
    code, err = _intake(e, [f], tmp_path / "out")
    assert code == 0, err
    assert json.loads((tmp_path / "out" / "intake_report.json").read_text())["totals"]["valid"] == 3


def test_register_keys_and_ballot_def_are_required_and_named(tmp_path: Path) -> None:
    e = _election(tmp_path, 2)
    f = write_returns(tmp_path / "online.csv", [(t, "1") for t in e["toks"]])  # type: ignore[attr-defined]
    code, _, err = invoke(["intake", str(f), "--out", str(tmp_path / "o")])
    assert code == 2 and "--register" in err
    code, out = _intake(e, [f], tmp_path / "o")
    assert code == 0 and f"using register {e['db']}" in out and str(e["bdef"]) in out


def test_a_5000_digit_mark_is_exit_2_with_its_line(tmp_path: Path) -> None:
    e = _election(tmp_path, 3)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    f = write_returns(
        tmp_path / "online.csv", [(toks[0], "1;2"), (toks[1], "1;" + "9" * 5000), (toks[2], "1")]
    )
    before = sha256_file(e["db"])  # type: ignore[arg-type]
    code, err = _intake(e, [f], tmp_path / "out")
    assert code == 2 and "online.csv:3:" in err and "digits" in err, err[:500]
    assert sha256_file(e["db"]) == before  # type: ignore[arg-type]
    assert not (tmp_path / "out" / ".intake-journal.json").exists()


def test_a_huge_field_is_refused_by_the_line_limit_not_read(tmp_path: Path) -> None:
    """A 20 MB preferences field: exit 2 naming the line and the limit, with a small memory peak
    (the field is never read whole: a 1 GiB one used to cost 9.6 GB RSS)."""
    e = _election(tmp_path, 2)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    f = tmp_path / "online.csv"
    with f.open("w") as fh:
        fh.write(f"token,preferences\n{toks[0]},1\n{toks[1]},")
        block = "1;" * (1 << 19)  # 1 MiB
        for _ in range(20):
            fh.write(block)
        fh.write("\n")
    before = sha256_file(e["db"])  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        code, err = _intake(e, [f], tmp_path / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 2 and "online.csv:3:" in err and "65,536" in err, err[:500]
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB: the field was read"
    assert sha256_file(e["db"]) == before  # type: ignore[arg-type]


def test_a_hostile_line_in_a_later_file_stops_before_any_token_of_the_first(
    tmp_path: Path,
) -> None:
    e = _election(tmp_path, 4)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    good = write_returns(tmp_path / "online.csv", [(t, "1;2") for t in toks[:3]])
    bad = write_returns(tmp_path / "postal.csv", [(toks[3], "0" * 7)])
    code, err = _intake(e, [good, bad], tmp_path / "out")
    assert code == 2 and "postal.csv:2:" in err
    assert _all_unused(e)


def test_a_file_writing_blanks_as_dashes_is_still_read(tmp_path: Path) -> None:
    """Foreign marks beside a clear first preference are ignored marks, not a misread file."""
    e = _election(tmp_path, 3)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    f = write_returns(tmp_path / "postal.csv", [(t, "1;-;2;-;-") for t in toks])
    code, err = _intake(e, [f], tmp_path / "out")
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "intake_report.json").read_text())
    assert report["totals"]["valid_notes"]["ignored_marks"] == 3


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.integers(1, 12))
def test_classifying_any_text_returns_a_paper_or_refuses_a_long_number(
    text: str, ncand: int
) -> None:
    from vote import intake as core

    try:
        paper = core.classify_paper(text, ncand)
    except core.MarkTooLong:
        assert any(len(run) > core.MAX_MARK_DIGITS for run in re.findall("[0-9]+", text))
        return
    assert paper.status in core.ALL_CLASSES
    assert all(1 <= c <= ncand for c in paper.ranking)
    assert len(set(paper.ranking)) == len(paper.ranking)


def test_merge_reads_a_ballot_file_with_bounded_numbers(tmp_path: Path) -> None:
    """A BLT whose report digest was re-computed to match a 5,000-digit weight: exit 2, no crash."""
    e = _election(tmp_path, 4)
    toks: list[str] = e["toks"]  # type: ignore[assignment]
    for i in range(2):
        f = write_returns(tmp_path / f"c{i}.csv", [(t, "1;2") for t in toks[2 * i : 2 * i + 2]])
        assert _intake(e, [f], tmp_path / f"i{i}")[0] == 0
    blt = tmp_path / "i1" / "ballots.blt"
    lines = blt.read_text().splitlines()
    lines[1] = "9" * 5000 + " 1 2 0"
    blt.write_text("\n".join(lines) + "\n")
    report_path = tmp_path / "i1" / "intake_report.json"
    report = json.loads(report_path.read_text())
    report["outputs"]["ballots.blt"] = sha256_file(blt)
    report_path.write_text(json.dumps(report))
    code, _, err = invoke(
        ["intake-merge", str(tmp_path / "i0"), str(tmp_path / "i1"), "--out", str(tmp_path / "m")]
    )
    assert code == 2 and "ballots.blt" in err, err
