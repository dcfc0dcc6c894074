"""kill -9 at any moment of `omov vote intake`, then the same command again: no voter is lost.

Each test runs a real intake in a subprocess that SIGKILLs itself at a named point
(``OMOV_TEST_KILL_AT``, issue.crashpoints) or is killed from outside mid-consume, then re-runs the
same command into the same --out. The result must equal an uninterrupted intake of the same
files on a copy of the same register: same rows in every class, the same multiset of counted
ballots (the line order is a fresh shuffle each run), the same rejected.csv, the same register
counts, every token counted at most once, every output present and the audit log intact.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from intake_helpers import invoke, make_ballot_def, make_register, write_returns

from issue.audit import read_entries, verify
from issue.register import Register
from issue.tokens import format_token, new_tokens
from omov.blt import read_blt
from vote import intake as core
from vote.intake_journal import JOURNAL_NAME
from vote.intake_outputs import OUTPUT_NAMES

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["Ann Able", "Bob Baker", "Cat Cole", "Dan Dale", "Eve Eagle"]
MARKS = [
    "1;2;3;4;5",
    "2;1;;;",
    "1;;2;;",
    ";1;;2;",
    "1;;;;",
    "",
    "1;1;;;",
    "3;;1;2;",
    ";;;;1",
    "2;3;;;",
    ";;X;;",
    "1;2;2;;",
    "5;4;3;2;1",
    "1;3;;;",
]
SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from vote.intake_service import IntakeRequest, take_in
    a = [Path(x) for x in sys.argv[1:8]]
    take_in(IntakeRequest(a[:2], [], a[2], a[3], a[4], a[5], a[6], batch_size=500,
                          consume_chunk=int(sys.argv[8]), accept_invalid=True))
""")


def _election(tmp_path: Path) -> dict[str, Any]:
    """A register (unused, revoked, used by an earlier intake) and two overlapping channels."""
    toks = new_tokens(1200)
    db, key = make_register(
        tmp_path / "issue", unused=toks[:1100], revoked=toks[1100:1150], used=toks[1150:]
    )
    assert not Path(f"{db}-wal").exists()  # closed: the file alone is the whole register
    bdef = make_ballot_def(tmp_path / "pack" / "ballot_definition.json", NAMES)
    online = [
        (format_token(t) if i % 3 else t, MARKS[i % len(MARKS)]) for i, t in enumerate(toks[:700])
    ]
    online += [(t, "1;;;;") for t in toks[1100:1120]]  # revoked
    online += [(t, "2;1;;;") for t in toks[1150:1170]]  # used by an earlier intake
    online += [(t, "1") for t in new_tokens(15)] + [(f"BAD{i}", "1") for i in range(10)]
    postal = [(t, MARKS[(i + 5) % len(MARKS)]) for i, t in enumerate(toks[600:1050])]  # overlap
    postal += [(toks[i], "1;;;;") for i in range(0, 40, 4)]  # repeats of online rows
    return {
        "db": db,
        "key": key,
        "bdef": bdef,
        "toks": toks,
        "files": [
            write_returns(tmp_path / "ret" / "online.csv", online),
            write_returns(tmp_path / "ret" / "postal.csv", postal),
        ],
        "log": tmp_path / "audit.log",
    }


def _args(e: dict[str, Any], db: Path, out: Path, log: Path | None) -> list[str]:
    return [
        "intake",
        *map(str, e["files"]),
        "--register",
        str(db),
        "--keys",
        str(e["key"]),
        "--ballot-def",
        str(e["bdef"]),
        "--out",
        str(out),
        "--accept-invalid",  # a test election: more spoilt papers than a real one
        *(["--audit-log", str(log)] if log else []),
    ]


def _reference(tmp_path: Path, e: dict[str, Any]) -> tuple[Path, Path]:
    """An uninterrupted intake of the same files on a copy of the same register."""
    copy = tmp_path / "ref" / "register.sqlite"
    copy.parent.mkdir()
    shutil.copy(e["db"], copy)
    code, _, err = invoke(_args(e, copy, tmp_path / "ref" / "out", None))
    assert code == 3, err  # rejected rows: a person must look
    return tmp_path / "ref" / "out", copy


def _spawn(e: dict[str, Any], out: Path, kill_at: str | None, chunk: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "OMOV_TEST_KILL_AT"}
    if kill_at:
        env["OMOV_TEST_KILL_AT"] = kill_at
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            SCRIPT,
            *map(str, e["files"]),
            str(e["db"]),
            str(e["key"]),
            str(e["bdef"]),
            str(out),
            str(e["log"]),
            str(chunk),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _killed(e: dict[str, Any], out: Path, kill_at: str, chunk: int = 150) -> None:
    proc = _spawn(e, out, kill_at, chunk)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {kill_at}: {err}"


def _used_by_run(db: Path, run_id: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(
            conn.execute(
                "SELECT count(*) FROM tokens WHERE used_by = ?", (bytes.fromhex(run_id),)
            ).fetchone()[0]
        )
    finally:
        conn.close()


def _csv_lines(path: Path) -> Counter[str]:
    return Counter(path.read_text(encoding="utf-8").splitlines()[2:])


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _assert_same_as_uninterrupted(
    e: dict[str, Any], out: Path, ref: Path, ref_db: Path
) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "intake_report.json").read_text())
    expect = json.loads((ref / "intake_report.json").read_text())
    assert report["balanced"] and report["channels"] == expect["channels"]
    t = report["totals"]
    assert t["received"] == t["valid"] + t["rejected"] == expect["totals"]["received"]
    assert t == expect["totals"] and t["valid"] > 0
    # The same multiset of counted ballots, in both ballot files.
    blt = read_blt(out / "ballots.blt").rankings()
    assert blt == read_blt(ref / "ballots.blt").rankings()
    assert sum(blt.values()) == t["valid"]
    assert _csv_lines(out / "ballots.csv") == _csv_lines(ref / "ballots.csv")
    assert _rows(out / "rejected.csv") == _rows(ref / "rejected.csv")
    # No token counted twice: every paper settled on a token (valid, blank, spoilt) is a distinct
    # token this run marked used, and the register ends exactly as after the uninterrupted run.
    papers = t["valid"] + sum(t["by_class"][c] for c in core.PAPER_REJECTS)
    assert _used_by_run(e["db"], report["run"]["id"]) == papers
    with Register.open(e["db"], e["key"]) as reg, Register.open(ref_db, e["key"]) as ref_reg:
        assert reg.counts() == ref_reg.counts() == report["register_after"]
    # Every file present, nothing half-written left behind, the journal closed, the log intact.
    for name in OUTPUT_NAMES:
        assert (out / name).is_file(), name
    assert not list(out.glob(".*.tmp"))
    doc = json.loads((out / JOURNAL_NAME).read_text())
    assert doc["state"] == "finished" and doc["run_id"] == report["run"]["id"]
    assert doc["outputs"] == report["outputs"]
    verify(e["log"])
    return report


def _events(log: Path) -> list[str]:
    return [x["event"] for x in read_entries(log)]


KILL_POINTS = [
    "intake_journal_written",
    "intake_after_consume_1",
    "intake_after_consume_4",
    "intake_blt_written",
    "intake_report_written",
    "intake_finished_logged",
]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_at_each_step_then_rerun(tmp_path: Path, point: str) -> None:
    e = _election(tmp_path)
    ref, ref_db = _reference(tmp_path, e)
    out = tmp_path / "intake"
    _killed(e, out, point)
    doc = json.loads((out / JOURNAL_NAME).read_text())
    assert doc["state"] == "open"  # written before any token was consumed
    before = _used_by_run(e["db"], doc["run_id"])
    assert (before > 0) == (point != "intake_journal_written")
    code, _, err = invoke(_args(e, e["db"], out, e["log"]))
    assert code == 3, err  # rejected rows: a person must look
    report = _assert_same_as_uninterrupted(e, out, ref, ref_db)
    assert report["run"] == {"id": doc["run_id"], "attempt": 2, "tokens_reclaimed": before}
    assert (
        f"attempt 2 (resumed after an interruption; {before} tokens"
        in (out / "intake_report.html").read_text()
    )
    events = _events(e["log"])
    assert events[0] == "intake.started" and events[-2:] == ["intake.resumed", "intake.finished"]
    assert {x["run_id"] for x in read_entries(e["log"])} == {doc["run_id"]}


def test_killed_again_while_resuming(tmp_path: Path) -> None:
    e = _election(tmp_path)
    ref, ref_db = _reference(tmp_path, e)
    out = tmp_path / "intake"
    _killed(e, out, "intake_after_consume_2", chunk=200)
    _killed(e, out, "intake_after_consume_5", chunk=120)  # the resume dies too, further on
    code, _, err = invoke(_args(e, e["db"], out, e["log"]))
    assert code == 3, err  # rejected rows: a person must look
    report = _assert_same_as_uninterrupted(e, out, ref, ref_db)
    assert report["run"]["attempt"] == 3
    assert _events(e["log"]) == [
        "intake.started",
        "intake.resumed",
        "intake.resumed",
        "intake.finished",
    ]


@pytest.mark.parametrize("after_used", [37, 512])
def test_killed_from_outside_mid_consume(tmp_path: Path, after_used: int) -> None:
    """SIGKILL from outside once the register shows ``after_used`` tokens won by the run (a
    deterministic moment inside the consume phase, wherever it falls between transactions)."""
    e = _election(tmp_path)
    ref, ref_db = _reference(tmp_path, e)
    out = tmp_path / "intake"
    proc = _spawn(e, out, None, chunk=25)
    conn = sqlite3.connect(e["db"], timeout=30)
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            used = conn.execute("SELECT count(*) FROM tokens WHERE state = 'used'").fetchone()[0]
            if used - 50 >= after_used:  # 50 were used by an earlier intake
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
    finally:
        conn.close()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the intake finished before it could be killed"
    code, _, err = invoke(_args(e, e["db"], out, e["log"]))
    assert code == 3, err  # rejected rows: a person must look
    report = _assert_same_as_uninterrupted(e, out, ref, ref_db)
    assert report["run"]["attempt"] == 2 and report["run"]["tokens_reclaimed"] >= after_used


def test_an_unfinished_intake_refuses_other_inputs_and_finishes_with_its_own(
    tmp_path: Path,
) -> None:
    e = _election(tmp_path)
    out = tmp_path / "intake"
    _killed(e, out, "intake_after_consume_2")
    other = write_returns(tmp_path / "other.csv", [(e["toks"][1090], "1;;;;")])
    code, _, err = invoke(
        [
            "intake",
            str(other),
            "--register",
            str(e["db"]),
            "--keys",
            str(e["key"]),
            "--ballot-def",
            str(e["bdef"]),
            "--out",
            str(out),
        ]
    )
    assert code == 2 and "unfinished intake" in err and "re-run `omov vote intake`" in err
    swapped = _args(e, e["db"], out, None)
    swapped[1], swapped[2] = swapped[2], swapped[1]  # the same files, another order
    assert invoke(swapped)[0] == 2
    e["files"][1].write_text(e["files"][1].read_text() + f"{e['toks'][1095]},1;;;;\n")
    code, _, err = invoke(_args(e, e["db"], out, None))  # a channel file edited since
    assert code == 2 and "other channel files" in err
    e["files"][1].write_text("\n".join(e["files"][1].read_text().splitlines()[:-1]) + "\n")
    assert invoke(_args(e, e["db"], out, e["log"]))[0] == 3
    code, _, err = invoke(_args(e, e["db"], out, None))  # finished: never overwritten
    assert code == 2 and "already holds an intake" in err
    assert (
        invoke(
            [
                "intake",
                str(other),
                "--register",
                str(e["db"]),
                "--keys",
                str(e["key"]),
                "--ballot-def",
                str(e["bdef"]),
                "--out",
                str(tmp_path / "o2"),
            ]
        )[0]
        == 0
    )


def test_a_second_process_on_the_same_out_is_refused(tmp_path: Path) -> None:
    e = _election(tmp_path)
    out = tmp_path / "intake"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        code, _, err = invoke(_args(e, e["db"], out, None))
    finally:
        os.close(fd)
    assert code == 2 and "right now" in err
    with Register.open(e["db"], e["key"]) as reg:
        assert reg.counts()["used"] == 50  # nothing consumed


def test_merge_refuses_one_run_twice(tmp_path: Path) -> None:
    e = _election(tmp_path)
    out = tmp_path / "intake"
    assert invoke(_args(e, e["db"], out, None))[0] == 3
    shutil.copytree(out, tmp_path / "copy")
    code, _, err = invoke(
        ["intake-merge", str(out), str(tmp_path / "copy"), "--out", str(tmp_path / "m")]
    )
    assert code == 4 and "same intake run" in err


def test_resume_keeps_first_use_wins_against_another_intake(tmp_path: Path) -> None:
    """Online is killed mid-consume, postal (overlapping) runs meanwhile, online resumes: every
    token is counted exactly once over the two, every contested token refused exactly once."""
    toks = new_tokens(2000)
    db, key = make_register(tmp_path / "issue", unused=toks)
    bdef = make_ballot_def(tmp_path / "ballot.json", ["A", "B", "C"])
    online = write_returns(tmp_path / "online.csv", [(t, "1;2;3") for t in toks[:1400]])
    postal = write_returns(tmp_path / "postal.csv", [(t, "3;2;1") for t in reversed(toks[600:])])
    empty = write_returns(tmp_path / "none.csv", [])  # SCRIPT takes two channel files
    e = {
        "files": [online, empty],
        "db": db,
        "key": key,
        "bdef": bdef,
        "log": tmp_path / "audit.log",
    }
    _killed(e, tmp_path / "a", "intake_after_consume_2", chunk=200)
    args = ["--register", str(db), "--keys", str(key), "--ballot-def", str(bdef)]
    assert invoke(["intake", str(postal), *args, "--out", str(tmp_path / "b")])[0] == 3
    assert invoke(["intake", str(online), str(empty), *args, "--out", str(tmp_path / "a")])[0] == 3
    reports = [json.loads((tmp_path / d / "intake_report.json").read_text()) for d in "ab"]
    valid = [r["totals"]["valid"] for r in reports]
    used = [r["totals"]["by_class"]["token_used"] for r in reports]
    assert sum(valid) == 2000 and sum(used) == 800
    assert reports[0]["run"]["attempt"] == 2 and reports[0]["run"]["tokens_reclaimed"] == 400
    with Register.open(db, key) as reg:
        assert reg.counts() == {"unused": 0, "used": 2000, "revoked": 0}
    assert sum(_used_by_run(db, r["run"]["id"]) for r in reports) == 2000
