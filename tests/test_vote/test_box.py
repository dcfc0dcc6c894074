"""The ballot box: durable batches, crash recovery from the register, sealing, the web channel."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from pathlib import Path

import pytest
from intake_helpers import write_returns
from web_helpers import WebElection, box_marks, build, register_states

from issue import audit
from issue.register import Register
from omov.cli import run
from omov.errors import IntegrityError, UsageError
from vote import box as boxes
from vote.seal import close_box

NOW = dt.datetime.now(dt.UTC)
EXPECT = {"election": "e1", "ballot_definition_sha256": "x", "candidates": "6"}


def _open(e: WebElection) -> boxes.BallotBox:
    from omov.fileio import sha256_file

    box = boxes.BallotBox.open(
        e.box, {**EXPECT, "ballot_definition_sha256": sha256_file(e.ballot_def)}
    )
    box.set_period(
        (NOW - dt.timedelta(hours=2)).isoformat(), (NOW - dt.timedelta(hours=1)).isoformat()
    )
    return box


def _cast(
    box: boxes.BallotBox, reg: Register, items: list[tuple[str, str]], steps: int = 3
) -> list[str]:
    """Run the three steps of one batch, stopping after ``steps`` (a simulated crash)."""
    batch = secrets.token_bytes(16)
    hashes = [reg.token_hash(t) for t, _ in items]
    staged = box.stage(batch, [(h, m) for h, (_, m) in zip(hashes, items, strict=True)])
    if steps == 1:
        return []
    states = reg.consume_many_hashes(hashes, run_id=batch)
    if steps == 2:
        return states
    box.settle(batch, [s.key for s, st in zip(staged, states, strict=True) if st == "won"])
    return states


def test_a_crash_after_staging_drops_the_ballot_and_keeps_the_token(tmp_path: Path) -> None:
    e = build(tmp_path)
    box = _open(e)
    with Register.open(e.register, e.keys) as reg:
        _cast(box, reg, [(e.unused[0], "1;;;;;"), (e.unused[1], ";1;;;;")], steps=1)
    assert box.counts()["pending"] == 2
    assert box.recover(e.register) == (0, 2)
    assert box.counts() == {"ballots": 0, "confirmations": 0, "pending": 0}
    assert set(register_states(e, e.unused[:2]).values()) == {"unused"}  # they can vote again


def test_a_crash_after_the_register_keeps_exactly_the_winners(tmp_path: Path) -> None:
    e = build(tmp_path)
    box = _open(e)
    items = [
        (e.unused[0], "1;;;;;"),
        (e.unused[0], ";;;;;1"),  # the same token twice in one batch: the first wins
        (e.revoked[0], ";1;;;;"),
        (e.used[0], ";;1;;;"),
        (e.unused[1], ";;;1;;"),
    ]
    with Register.open(e.register, e.keys) as reg:
        states = _cast(box, reg, items, steps=2)
    assert states == ["won", "used", "revoked", "used", "won"]
    assert box.recover(e.register) == (2, 3)
    assert sorted(box_marks(e.box)) == sorted(["1;;;;;", ";;;1;;"])
    assert box.counts() == {"ballots": 2, "confirmations": 2, "pending": 0}


def test_settled_batches_need_no_recovery(tmp_path: Path) -> None:
    e = build(tmp_path)
    box = _open(e)
    with Register.open(e.register, e.keys) as reg:
        _cast(box, reg, [(e.unused[0], "1;;;;;")])
    assert box.recover(e.register) == (0, 0)
    assert box.counts()["ballots"] == 1


def test_the_box_refuses_another_election_or_ballot_paper(tmp_path: Path) -> None:
    e = build(tmp_path)
    _open(e).close()
    with pytest.raises(IntegrityError):
        boxes.BallotBox.open(e.box, {**EXPECT, "election": "e2"})
    with boxes.owned(e.box), pytest.raises(UsageError, match="in use"), boxes.owned(e.box):
        pass


def _fill(e: WebElection, n: int) -> list[str]:
    box = _open(e)
    marks = []
    for k in range(n):  # candidate k%6 first; every other ballot candidate (k+1)%6 second
        cells = [""] * 6
        cells[k % 6] = "1"
        if k % 2:
            cells[(k + 1) % 6] = "2"
        marks.append(";".join(cells))
    with Register.open(e.register, e.keys) as reg:
        for k in range(n):  # one batch each: arrival order is k
            _cast(box, reg, [(e.unused[k], marks[k])])
    box.close()
    return marks


def test_seal_keeps_preferences_only_in_random_order(tmp_path: Path) -> None:
    e = build(tmp_path, n_unused=60)
    marks = _fill(e, 40)
    seal = close_box(e.box, e.log, now=NOW)
    assert seal["ballots"] == 40
    sealed = e.box / "sealed.sqlite"
    conn = sqlite3.connect(sealed)
    tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"meta", "ballots", "confirmations"}
    assert [r[1] for r in conn.execute("PRAGMA table_info(ballots)")] == ["k", "marks"]
    stored = [m for (m,) in conn.execute("SELECT marks FROM ballots")]
    conn.close()
    assert sorted(stored) == sorted(marks) and stored != marks  # not arrival order
    data = sealed.read_bytes()
    with Register.open(e.register, e.keys) as reg:
        for t in e.unused[:40]:
            assert reg.token_hash(t) not in data and t.encode() not in data
    assert not (e.box / "box.sqlite").exists() and not (e.box / "box.sqlite-wal").exists()
    codes = (e.box / "confirmations.csv").read_text().splitlines()
    assert codes[0] == "format_version,confirmation" and len(codes) == 41
    assert codes[1:] == sorted(codes[1:])
    entry = audit.read_entries(e.log)[-1]
    assert entry["event"] == "vote.closed" and entry["ballots"] == 40
    assert entry["box_sha256"] == seal["sealed_sha256"] and entry["forced"] is False
    # Closing again only re-checks: nothing is logged twice.
    close_box(e.box, e.log, now=NOW)
    assert len(audit.read_entries(e.log)) == 1
    with pytest.raises(UsageError, match="sealed"):
        boxes.BallotBox.open(e.box, EXPECT)


def test_close_before_the_closing_time_needs_force(tmp_path: Path) -> None:
    e = build(tmp_path)
    box = _open(e)
    box.set_period(NOW.isoformat(), (NOW + dt.timedelta(hours=1)).isoformat())
    box.close()
    with pytest.raises(UsageError, match="still open"):
        close_box(e.box, e.log, now=NOW)
    assert not e.log.exists()
    close_box(e.box, e.log, now=NOW, force=True)
    assert audit.read_entries(e.log)[-1]["forced"] is True


def test_a_changed_sealed_box_is_an_integrity_failure(tmp_path: Path) -> None:
    e = build(tmp_path)
    _fill(e, 3)
    close_box(e.box, e.log, now=NOW)
    with (e.box / "sealed.sqlite").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(IntegrityError, match="changed"):
        close_box(e.box, e.log, now=NOW)


def _intake(e: WebElection, out: Path, postal: Path | None) -> int:
    return run(
        [
            "vote",
            "intake",
            *([str(postal)] if postal else []),
            "--web",
            str(e.box),
            "--register",
            str(e.register),
            "--keys",
            str(e.keys),
            "--ballot-def",
            str(e.ballot_def),
            "--out",
            str(out),
            "--audit-log",
            str(e.log),
            "--accept-invalid",  # a 3-row postal file with a blank paper: over the 20 % gate
        ]
    )


def test_intake_takes_the_sealed_box_beside_postal_returns(tmp_path: Path) -> None:
    e = build(tmp_path)
    marks = _fill(e, 5)  # unused[0..4] voted online
    postal = write_returns(
        tmp_path / "postal.csv",
        [(e.unused[0], "1;;;;;"), (e.unused[10], "2;1;;;;"), (e.unused[11], "")],
    )
    assert _intake(e, tmp_path / "not-yet", postal) == 2  # the box is not sealed yet
    close_box(e.box, e.log, now=NOW)
    assert _intake(e, tmp_path / "intake", postal) == 3  # rows rejected: a person looks
    report = json.loads((tmp_path / "intake" / "intake_report.json").read_text())
    web = report["channels"]["web"]
    assert (web["received"], web["valid"], web["rejected"]) == (5, 5, 0)
    post = report["channels"]["postal"]
    assert post["by_class"]["token_used"] == 1  # voted online first: the paper is rejected
    assert post["by_class"]["blank"] == 1 and post["valid"] == 1
    assert report["totals"]["valid"] == 6 and report["balanced"]
    assert any(i["channel"] == "web" and i["rows"] == 5 for i in report["inputs"])
    blt = (tmp_path / "intake" / "ballots.blt").read_text()
    assert (
        sum(
            int(line.split()[0])
            for line in blt.splitlines()[1:]
            if line.split()[-1] == "0" and len(line.split()) > 1
        )
        == 6
    )
    assert len(marks) == 5
    # The same box again, by another intake run: refused (it would count twice).
    assert _intake(e, tmp_path / "again", None) == 4


def test_voiding_an_intake_gives_the_box_back(tmp_path: Path) -> None:
    """A mistaken intake that took the sealed box is voided: its postal tokens are unused again
    and the box may be taken in by the corrected intake — no web ballot is lost, none counted
    twice. (Before: the void refused, its paper count included the box's ballots, and the box
    stayed claimed by the voided run for ever.)"""
    e = build(tmp_path)
    _fill(e, 5)
    postal = write_returns(tmp_path / "postal.csv", [(e.unused[10], "2;1;;;;")])
    close_box(e.box, e.log, now=NOW)
    assert _intake(e, tmp_path / "first", postal) == 0
    run_id = json.loads((tmp_path / "first" / "intake_report.json").read_text())["run"]["id"]
    void = ["vote", "void", run_id, "--intake", str(tmp_path / "first"), "--register"]
    void += [str(e.register), "--keys", str(e.keys), "--audit-log", str(e.log)]
    assert run([*void, "--reason", "wrong postal file"]) == 0
    record = json.loads((tmp_path / "first" / "voided.json").read_text())
    assert record["tokens_restored"] == 1 and record["box_released"] == str(e.box)
    assert _intake(e, tmp_path / "second", postal) == 0
    report = json.loads((tmp_path / "second" / "intake_report.json").read_text())
    assert report["channels"]["web"]["valid"] == 5 and report["channels"]["postal"]["valid"] == 1
    assert _intake(e, tmp_path / "third", None) == 4  # taken by the second run now


def test_status_reports_aggregates_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    e = build(tmp_path)
    _fill(e, 2)
    assert run(["vote", "status", "--box", str(e.box), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ballots"] == 2 and doc["sealed"] is False and doc["pending"] == 0
    assert not any(isinstance(v, str) and ";" in v for v in doc.values())
    close_box(e.box, e.log, now=NOW)
    assert run(["vote", "status", "--box", str(e.box), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ballots"] == 2 and doc["sealed"] is True


def test_status_by_channel_and_audit_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    e = build(tmp_path)  # three tokens were used by another channel before
    _fill(e, 4)
    close_box(e.box, e.log, now=NOW)
    argv = ["vote", "status", "--box", str(e.box), "--register", str(e.register)]
    assert run([*argv, "--json"]) == 2  # --keys missing
    capsys.readouterr()
    argv += ["--keys", str(e.keys), "--audit-log", str(e.log), "--json"]
    assert run(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["used_by_channel"] == {"web": 4, "other_channels": 3}
    assert doc["audit_head"]["hash"] == audit.head(e.log).hash


class _FlakyRegister:
    """The real register, but the consume fails before or after it has committed."""

    def __init__(self, reg: Register, after: bool) -> None:
        self._reg, self.after, self.path = reg, after, reg.path

    def consume_many_hashes(self, hashes: list[bytes], run_id: bytes) -> list[str]:
        if not self.after:
            raise OSError("disk full")
        self._reg.consume_many_hashes(hashes, run_id=run_id)
        raise OSError("lost the answer")


@pytest.mark.parametrize("after", [False, True])
def test_a_failed_batch_is_recovered_and_the_member_told(tmp_path: Path, after: bool) -> None:
    import asyncio

    from vote.casting import Caster, CastingError

    e = build(tmp_path)
    box = _open(e)
    with Register.open(e.register, e.keys) as reg:
        caster = Caster(box, _FlakyRegister(reg, after))
        caster.start()
        try:
            with pytest.raises(CastingError):
                asyncio.run(caster.cast(reg.token_hash(e.unused[0]), "1;;;;;"))
        finally:
            caster.stop()
        assert box.counts()["pending"] == 0
        state = reg.check(e.unused[0])
    # Committed in the register: the ballot is kept (a retry will say "used"); not: dropped.
    assert (state, box_marks(e.box)) == (("used", ["1;;;;;"]) if after else ("unused", []))
