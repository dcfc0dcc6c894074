"""One register of truth (issue 16 item 4): the stolen-token story end to end.

The counter is handed a copy of the register; the scrutineer then re-issues a member whose
letter was stolen. Before: intake on the stale copy counted the stolen (revoked) token and
rejected the member's replacement as unknown, exit 0. Now the copy is refused (exit 4, naming
both generations); on the current register the stolen token is rejected as revoked and the
replacement counted; and re-issuing a member who has voted is refused (exit 4).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from issue_fixtures import person, write_members

from issue import audit, candidates
from issue.freshness import log_generation
from issue.register import Register
from omov.cli import run
from omov.fileio import write_json_atomic

NAMES = ["Ann Able", "Bob Baker", "Cat Cole"]


def _ballot_def(path: Path) -> Path:
    ballot = candidates.BallotDefinition(
        election_id="nec-2026",
        seats=1,
        title="Test election",
        order="alphabetical",
        candidates=tuple(candidates.BallotCandidate(i, n, "Org") for i, n in enumerate(NAMES, 1)),
    )
    write_json_atomic(path, candidates.ballot_definition_to_dict(ballot))
    return path


def _tokens(out: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for ch in ("email", "post"):
        with open(out / f"dispatch_{ch}.csv", newline="") as fh:
            found |= {r["person_id"]: r["token"] for r in csv.DictReader(fh)}
    return found


def _returns(path: Path, tokens: list[str]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["token", "preferences"])
        w.writerows((t, "1;2;3") for t in tokens)
    return path


def _intake(returns: Path, register: Path, out: Path, tmp: Path, *log: str) -> int:
    return run(
        [
            "vote",
            "intake",
            str(returns),
            "--register",
            str(register),
            "--keys",
            str(register.parent / "vote.key"),
            "--ballot-def",
            str(tmp / "ballot_definition.json"),
            "--out",
            str(out),
            *log,
        ]
    )


@pytest.fixture()
def election(tmp_path: Path) -> Path:
    members = write_members(tmp_path / "members.parquet", [person(i) for i in range(1, 11)])
    out = tmp_path / "issue"
    args = ["--members", str(members), "--election", "nec-2026", "--out", str(out)]
    assert run(["issue", "run", *args]) == 0
    _ballot_def(tmp_path / "ballot_definition.json")
    return out


def test_stolen_token_story_end_to_end(
    tmp_path: Path, election: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, members = election, tmp_path / "members.parquet"
    counter = tmp_path / "counter"
    counter.mkdir()
    for name in ("register.sqlite", "vote.key"):
        shutil.copy(out / name, counter / name)  # the counter's copy, taken at issue time
    stolen = _tokens(out)["P0000005"]
    args = ["--members", str(members), "--out", str(out)]
    assert run(["issue", "reissue", "P0000005", "--reason", "stolen", *args]) == 0
    replacement = _tokens(out)["P0000005"]
    assert replacement != stolen
    log = ["--audit-log", str(out / "audit.log")]
    returns = _returns(tmp_path / "online.csv", [stolen, replacement, _tokens(out)["P0000006"]])
    capsys.readouterr()

    # The stale copy with the scrutineer's log: refused, naming both generations; untouched.
    assert _intake(returns, counter / "register.sqlite", tmp_path / "in1", tmp_path, *log) == 4
    err = capsys.readouterr().err
    assert "generation 1" in err and "generation 2" in err
    with Register.open(counter / "register.sqlite", counter / "vote.key") as reg:
        assert reg.counts()["used"] == 0
    assert not (tmp_path / "in1" / "ballots.blt").exists()
    # The stale copy with no log at all: refused before anything is read (exit 2).
    assert _intake(returns, counter / "register.sqlite", tmp_path / "in2", tmp_path) == 2

    # The current register: stolen token rejected as revoked, replacement counted.
    assert _intake(returns, out / "register.sqlite", tmp_path / "in3", tmp_path, *log) in (0, 3)
    with open(tmp_path / "in3" / "rejected.csv", newline="") as fh:
        rejected = list(csv.DictReader(fh))
    assert len(rejected) == 1 and "revoked" in str(rejected[0]).lower()
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.check(stolen) == "revoked"
        assert reg.check(replacement) == "used"
        assert reg.counts()["used"] == 2

    # Re-issuing a member who has voted is refused.
    assert run(["issue", "reissue", "P0000006", "--reason", "lost", *args]) == 4
    assert run(["issue", "reissue", "P0000008", "--reason", "lost", *args]) == 0  # not voted
    assert run(["issue", "verify", *args]) == 0
    assert run(["audit", "verify", str(out / "audit.log")]) == 0


def test_every_batch_advances_the_generation_and_the_log_records_it(election: Path) -> None:
    out = election
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.generation() == 1
    assert log_generation(audit.read_entries(out / "audit.log")) == 1
    assert run(["issue", "revoke", "P0000002", "--reason", "withdrawn", "--out", str(out)]) == 0
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.generation() == 2
    assert log_generation(audit.read_entries(out / "audit.log")) == 2


def test_a_log_older_than_the_register_is_refused(
    tmp_path: Path, election: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = election
    old_log = tmp_path / "old" / "audit.log"
    old_log.parent.mkdir()
    shutil.copy(out / "audit.log", old_log)
    assert run(["issue", "revoke", "P0000003", "--reason", "lost", "--out", str(out)]) == 0
    returns = _returns(tmp_path / "online.csv", [_tokens(out)["P0000004"]])
    code = _intake(
        returns, out / "register.sqlite", tmp_path / "in", tmp_path, "--audit-log", str(old_log)
    )
    assert code == 4
    assert "older" in capsys.readouterr().err


def test_an_intake_on_a_copy_blocks_reissue_of_its_voters(
    tmp_path: Path, election: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before any re-issue the copy is current, so intake on it is accepted; but then the
    scrutineer's register does not know who voted. A re-issue must not trust it (before: the
    voter's re-issue succeeded and they could vote twice)."""
    out, members = election, tmp_path / "members.parquet"
    counter = tmp_path / "counter"
    counter.mkdir()
    for name in ("register.sqlite", "vote.key"):
        shutil.copy(out / name, counter / name)
    voter = _tokens(out)["P0000007"]
    returns = _returns(tmp_path / "online.csv", [voter])
    log = ["--audit-log", str(out / "audit.log")]
    assert _intake(returns, counter / "register.sqlite", tmp_path / "in", tmp_path, *log) == 0
    args = ["--members", str(members), "--out", str(out)]
    capsys.readouterr()
    assert run(["issue", "reissue", "P0000007", "--reason", "lost", *args]) == 4
    assert "another copy of the register" in capsys.readouterr().err
    assert run(["issue", "revoke", "P0000008", "--reason", "lost", "--out", str(out)]) == 4
    assert run(["issue", "verify", *args]) == 4
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.check(voter) == "unused"  # nothing was changed by the refusals


def test_a_reissue_killed_after_its_register_commit_is_refused_until_recovered(
    tmp_path: Path, election: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kill -9 between the register transaction and the audit entry: the register is a
    generation ahead of the log. Intake refuses (exit 4) until any issue command recovers."""
    import os
    import signal
    import subprocess
    import sys

    out, members = election, tmp_path / "members.parquet"
    old = _tokens(out)["P0000009"]
    args = ["issue", "reissue", "P0000009", "--reason", "lost", "--members", str(members)]
    env = dict(os.environ, OMOV_TEST_KILL_AT="after_register")
    proc = subprocess.run(
        [sys.executable, "-m", "omov", *args, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    log = ["--audit-log", str(out / "audit.log")]
    returns = _returns(tmp_path / "online.csv", [old])
    capsys.readouterr()
    assert _intake(returns, out / "register.sqlite", tmp_path / "in1", tmp_path, *log) == 4
    assert "omov issue verify" in capsys.readouterr().err
    assert run(["issue", "verify", "--members", str(members), "--out", str(out)]) == 0
    assert _intake(returns, out / "register.sqlite", tmp_path / "in2", tmp_path, *log) in (0, 3)
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.check(old) == "revoked"  # the re-issue was rolled forward, not lost
