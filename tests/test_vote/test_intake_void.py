"""``omov vote void RUN_ID``: a mistaken intake run undone before the count (issue 12 item 1).

Before: no way back; a run on a misread file spent its tokens for good.
"""

from __future__ import annotations

import json
from pathlib import Path

from intake_helpers import invoke, make_ballot_def, make_register, write_returns

from count.outputs import count_file, write_result
from issue.audit import read_entries, verify
from issue.register import Register
from issue.tokens import new_tokens
from omov.fileio import sha256_file


def _setup(tmp_path: Path) -> dict[str, object]:
    toks = new_tokens(20)
    db, key = make_register(tmp_path / "issue", unused=toks[:18], revoked=toks[18:])
    bdef = make_ballot_def(tmp_path / "pack" / "ballot.json", ["A", "B", "C"])
    log = tmp_path / "issue" / "audit.log"
    return {"toks": toks, "db": db, "key": key, "bdef": bdef, "log": log}


def _intake(s: dict[str, object], f: Path, out: Path) -> dict[str, object]:
    code, _, err = invoke(
        [
            "intake",
            str(f),
            "--register",
            str(s["db"]),
            "--keys",
            str(s["key"]),
            "--ballot-def",
            str(s["bdef"]),
            "--out",
            str(out),
            "--audit-log",
            str(s["log"]),
            "--accept-invalid",
        ]
    )
    assert code in (0, 3), err
    report: dict[str, object] = json.loads((out / "intake_report.json").read_text())
    return report


def _void(s: dict[str, object], run_id: str, intake: Path, *extra: str) -> tuple[int, str]:
    code, stdout, err = invoke(
        [
            "void",
            run_id,
            "--intake",
            str(intake),
            "--register",
            str(s["db"]),
            "--keys",
            str(s["key"]),
            "--audit-log",
            str(s["log"]),
            *extra,
        ]
    )
    return code, stdout + err


def _counts(s: dict[str, object]) -> dict[str, int]:
    with Register.open(s["db"], s["key"]) as reg:  # type: ignore[arg-type]
        return reg.counts()


def test_void_restores_exactly_the_runs_tokens_and_removes_its_ballots(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    toks: list[str] = s["toks"]  # type: ignore[assignment]
    other = _intake(s, write_returns(tmp_path / "postal.csv", [(toks[10], "1;2")]), tmp_path / "b")
    wrong = write_returns(
        tmp_path / "online.csv",
        [(t, "2;1") for t in toks[:6]]
        + [(toks[6], ""), (toks[7], "1;1"), (toks[10], "1"), (toks[18], "1"), ("BAD", "1")],
    )
    a = tmp_path / "out" / "intake"
    report = _intake(s, wrong, a)
    run_id = report["run"]["id"]  # type: ignore[index]
    assert _counts(s) == {"unused": 9, "used": 9, "revoked": 2}
    code, out = _void(s, run_id, a, "--reason", "columns in the wrong order")
    assert code == 0, out
    assert "8 tokens unused again" in out  # 6 valid + 1 blank + 1 spoilt, not postal's token
    assert _counts(s) == {"unused": 17, "used": 1, "revoked": 2}
    assert not (a / "ballots.blt").exists() and not (a / "ballots.csv").exists()
    record = json.loads((a / "voided.json").read_text())
    assert record["tokens_restored"] == 8 and set(record["removed"]) == {
        "ballots.blt",
        "ballots.csv",
    }
    html = (a / "intake_report.html").read_text()
    assert 'id="voided"' in html and "columns in the wrong order" in html
    verify(s["log"])  # type: ignore[arg-type]
    voided = [e for e in read_entries(s["log"]) if e["event"] == "intake.voided"]  # type: ignore[arg-type]
    assert len(voided) == 1 and voided[0]["run_id"] == run_id
    assert voided[0]["tokens_restored"] == 8 and voided[0]["reason"] == "columns in the wrong order"
    # The run cannot be voided twice, nor merged, and the corrected file is taken in afresh.
    assert _void(s, run_id, a)[0] == 2
    assert (
        invoke(["intake-merge", str(a), str(tmp_path / "b"), "--out", str(tmp_path / "m")])[0] == 2
    )
    fixed = write_returns(tmp_path / "fixed.csv", [(t, "1;2") for t in toks[:8]])
    again = _intake(s, fixed, tmp_path / "c")
    assert again["totals"]["valid"] == 8  # type: ignore[index]
    assert other["totals"]["valid"] == 1  # type: ignore[index]


def test_void_is_refused_once_a_count_used_the_ballot_file(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    toks: list[str] = s["toks"]  # type: ignore[assignment]
    a = tmp_path / "out" / "intake"
    report = _intake(s, write_returns(tmp_path / "online.csv", [(t, "1;2") for t in toks[:5]]), a)
    write_result(
        count_file(a / "ballots.blt", "ers97", tie_seed="seed"), tmp_path / "out" / "count"
    )
    before = sha256_file(s["db"])  # type: ignore[arg-type]
    code, out = _void(s, report["run"]["id"], a)  # type: ignore[index]
    assert code == 4 and "count" in out and "result.json" in out, out
    assert sha256_file(s["db"]) == before  # type: ignore[arg-type]
    assert (a / "ballots.blt").exists()


def test_void_finds_a_count_elsewhere_when_told_and_a_logged_merge(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    toks: list[str] = s["toks"]  # type: ignore[assignment]
    a, b = tmp_path / "in" / "a", tmp_path / "in" / "b"
    ra = _intake(s, write_returns(tmp_path / "x.csv", [(t, "1;2") for t in toks[:3]]), a)
    rb = _intake(s, write_returns(tmp_path / "y.csv", [(t, "2;1") for t in toks[3:6]]), b)
    write_result(
        count_file(b / "ballots.csv", "ers97", tie_seed="seed"), tmp_path / "elsewhere" / "c"
    )
    code, out = _void(s, rb["run"]["id"], b, "--count", str(tmp_path / "elsewhere"))  # type: ignore[index]
    assert code == 4 and "elsewhere" in out and "result.json" in out, out
    merge = ["intake-merge", "--out", str(tmp_path / "far" / "m"), "--audit-log", str(s["log"])]
    code, _, err = invoke([*merge, str(a), str(a)])
    assert code == 4  # the same run twice
    _intake(s, write_returns(tmp_path / "z.csv", [(t, "1") for t in toks[6:8]]), tmp_path / "c")
    code, _, err = invoke([*merge, str(a), str(tmp_path / "c")])
    assert code == 0, err
    code, out = _void(s, ra["run"]["id"], a)  # type: ignore[index]
    assert code == 4 and "intake.merged" in out, out


def test_void_needs_the_right_run_id(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    toks: list[str] = s["toks"]  # type: ignore[assignment]
    a = tmp_path / "a"
    _intake(s, write_returns(tmp_path / "x.csv", [(t, "1;2") for t in toks[:3]]), a)
    code, out = _void(s, "00" * 16, a)
    assert code == 2 and "not 0000" in out
    tok_reason = ("--reason", f"token {toks[0]} was wrong")
    assert _void(s, "00" * 16, a, *tok_reason)[0] == 2
    assert _void(s, "00" * 16, a, "--count", str(tmp_path / "nowhere"))[0] == 2
    assert _counts(s)["used"] == 3


def test_unuse_run_is_one_transaction_and_keeps_the_one_way_rule(tmp_path: Path) -> None:
    import sqlite3

    import pytest

    from omov.errors import IntegrityError

    s = _setup(tmp_path)
    toks: list[str] = s["toks"]  # type: ignore[assignment]
    report = _intake(
        s, write_returns(tmp_path / "x.csv", [(t, "1") for t in toks[:4]]), tmp_path / "a"
    )
    run = bytes.fromhex(report["run"]["id"])  # type: ignore[index]
    before = sha256_file(s["db"])  # type: ignore[arg-type]
    with Register.open(s["db"], s["key"]) as reg:  # type: ignore[arg-type]
        assert reg.used_by_run(run) == 4
        with pytest.raises(IntegrityError):
            reg.unuse_run(run, expected=3)  # rolled back: nothing restored
        assert reg.counts()["used"] == 4
    assert sha256_file(s["db"]) == before  # type: ignore[arg-type]
    with Register.open(s["db"], s["key"]) as reg:  # type: ignore[arg-type]
        assert reg.unuse_run(run, expected=4) == 4
        reg.consume_many(toks[:1])
    conn = sqlite3.connect(s["db"])  # type: ignore[arg-type]
    try:
        with pytest.raises(sqlite3.IntegrityError):  # the trigger is back: used stays used
            conn.execute("UPDATE tokens SET state = 'unused', used_by = NULL WHERE state = 'used'")
    finally:
        conn.close()


def test_an_interrupted_run_can_be_voided(tmp_path: Path) -> None:
    """Killed after its first consume transaction: void restores what it had used."""
    import os
    import signal
    import subprocess
    import sys

    from issue import audit

    s = _setup(tmp_path)
    audit.append(s["log"], "issue.finished", tokens=18)  # type: ignore[arg-type]
    toks: list[str] = s["toks"]  # type: ignore[assignment]
    f = write_returns(tmp_path / "x.csv", [(t, "1;2") for t in toks[:12]])
    out = tmp_path / "a"
    script = (
        "import sys; from pathlib import Path\n"
        "from vote.intake_service import IntakeRequest, take_in\n"
        "a = [Path(x) for x in sys.argv[1:6]]\n"
        "take_in(IntakeRequest([a[0]], [], a[1], a[2], a[3], a[4], consume_chunk=5))\n"
    )
    env = {**os.environ, "OMOV_TEST_KILL_AT": "intake_after_consume_1"}
    args = [str(f), str(s["db"]), str(s["key"]), str(s["bdef"]), str(out)]
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    doc = json.loads((out / ".intake-journal.json").read_text())
    assert doc["state"] == "open" and _counts(s)["used"] == 5
    code, text = _void(s, doc["run_id"], out)
    assert code == 0 and "5 tokens unused again" in text, text
    assert _counts(s)["used"] == 0
