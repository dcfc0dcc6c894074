"""`omov issue …` end to end: one token per eligible person, idempotent runs, roll changes,
re-issue and revoke, exit codes, aggregates-only status, and secrecy (no token outside dispatch)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from issue_fixtures import person, roll, write_members

from issue import consistency, issuer
from issue.register import Register
from issue.tokens import format_token, normalise_token
from omov.cli import run


def _args(tmp: Path, members: Path) -> list[str]:
    return ["--members", str(members), "--out", str(tmp / "out")]


def _issue(tmp: Path, members: Path, *extra: str) -> int:
    return run(["issue", "run", "--election", "nec-2026", *_args(tmp, members), *extra])


def _live_rows(out: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for ch in ("email", "post"):
        with open(out / f"dispatch_{ch}.csv", newline="") as fh:
            rows += [dict(r, channel=ch) for r in csv.DictReader(fh)]
    return rows


def _all_tokens(out: Path) -> set[str]:
    """Every token that ever reached any dispatch file (live and per batch)."""
    found: set[str] = set()
    for f in out.rglob("dispatch_*.csv"):
        with open(f, newline="") as fh:
            found |= {normalise_token(r["token"]) for r in csv.DictReader(fh)}
    return found


def _ok(tmp: Path, members: Path) -> None:
    assert consistency.verify_consistency(tmp / "out", members) == []


@pytest.fixture()
def members(tmp_path: Path) -> Path:
    rows = [person(i) for i in range(1, 31)] + [person(99, eligible=False)]
    return write_members(tmp_path / "members.parquet", rows)


def test_first_run_issues_one_token_per_eligible_person(tmp_path: Path, members: Path) -> None:
    assert _issue(tmp_path, members) == 0
    out = tmp_path / "out"
    rows = _live_rows(out)
    assert sorted(r["person_id"] for r in rows) == [f"P{i:07d}" for i in range(1, 31)]
    assert len({r["token"] for r in rows}) == 30
    for r in rows:
        assert re.fullmatch(r"([0-9A-Z]{4}-){5}[0-9A-Z]", r["token"])
        assert normalise_token(r["token"]) in r["vote_link"]
        assert r["format_version"] == "omov.dispatch/1"
        assert (r["channel"] == "email") == bool(r.get("email"))
    assert {r["channel"] for r in rows if r["person_id"] == "P0000003"} == {"post"}
    html = (out / "letter_preview.html").read_text()
    assert "SPECIMEN" in html and "<script" not in html and "<link" not in html
    assert not any(t in html for t in (r["token"] for r in rows))
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.counts() == {"unused": 30, "used": 0, "revoked": 0}
        assert reg.check(rows[0]["token"]) == "unused"
    assert (out / "keys" / "scrutineer.key").stat().st_mode & 0o777 == 0o600
    assert run(["audit", "verify", str(out / "audit.log")]) == 0
    _ok(tmp_path, members)


def test_rerun_is_idempotent_and_new_persons_get_tokens(tmp_path: Path, members: Path) -> None:
    out = tmp_path / "out"
    assert _issue(tmp_path, members) == 0
    before = (out / "dispatch_email.csv").read_bytes(), (out / "dispatch_post.csv").read_bytes()
    assert _issue(tmp_path, members) == 0
    after = (out / "dispatch_email.csv").read_bytes(), (out / "dispatch_post.csv").read_bytes()
    assert after == before
    assert sorted(p.name for p in (out / "dispatch").iterdir()) == ["batch-0001"]
    bigger = roll(tmp_path / "members2.parquet", range(1, 36))
    assert _issue(tmp_path, bigger) == 0
    batch2 = [
        r
        for f in (out / "dispatch" / "batch-0002").glob("*.csv")
        for r in csv.DictReader(f.read_text().splitlines())
    ]
    assert sorted(r["person_id"] for r in batch2) == [f"P{i:07d}" for i in range(31, 36)]
    assert len(_live_rows(out)) == 35
    report = json.loads((out / "roll_changes.json").read_text())
    assert (report["vanished"], report["new"]) == (0, 5)
    _ok(tmp_path, bigger)


def test_schema_errors_exit_2_naming_the_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_members(tmp_path / "m.parquet", [person(1)], drop="eligible")
    assert _issue(tmp_path, bad) == 2
    assert "eligible" in capsys.readouterr().err
    dup = write_members(tmp_path / "d.parquet", [person(1), person(1)])
    assert _issue(tmp_path, dup) == 2
    assert "duplicate" in capsys.readouterr().err
    assert not (tmp_path / "out" / "register.sqlite").exists()
    assert run(["issue", "run", "--election", "bad id!", *_args(tmp_path, dup)]) == 2
    assert _issue(tmp_path, roll(tmp_path / "ok.parquet", [1]), "--vote-url", "http://x") == 2


def test_vanished_persons_refuse_then_revoke_vanished(
    tmp_path: Path, members: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dedupe re-run merged P1 into P2 and split P3 into P31 + P32."""
    out = tmp_path / "out"
    assert _issue(tmp_path, members) == 0
    old = {r["person_id"]: r["token"] for r in _live_rows(out)}
    changed = roll(tmp_path / "m2.parquet", [*range(4, 31), 2, 31, 32])
    assert _issue(tmp_path, changed) == 3
    report = json.loads((out / "roll_changes.json").read_text())
    assert (report["vanished"], report["new"], report["vanished_used"]) == (2, 2, 0)
    assert "P0000001" not in json.dumps(report)  # pseudonyms only
    assert len(_live_rows(out)) == 30  # nothing issued
    assert _issue(tmp_path, changed, "--on-roll-change", "revoke-vanished") == 0
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.check(old["P0000001"]) == "revoked" and reg.check(old["P0000003"]) == "revoked"
        assert reg.check(old["P0000002"]) == "unused"
    ids = sorted(r["person_id"] for r in _live_rows(out))
    assert ids == sorted(f"P{i:07d}" for i in [*range(4, 31), 2, 31, 32])
    _ok(tmp_path, changed)


def test_vanished_person_who_voted_blocks_even_revoke_vanished(
    tmp_path: Path, members: Path
) -> None:
    out = tmp_path / "out"
    assert _issue(tmp_path, members) == 0
    tok = next(r["token"] for r in _live_rows(out) if r["person_id"] == "P0000001")
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.consume(tok) == "won"
    changed = roll(tmp_path / "m2.parquet", range(2, 31))
    assert _issue(tmp_path, changed, "--on-roll-change", "revoke-vanished") == 3
    assert json.loads((out / "roll_changes.json").read_text())["vanished_used"] == 1


def test_reissue_and_revoke(tmp_path: Path, members: Path) -> None:
    out = tmp_path / "out"
    assert _issue(tmp_path, members) == 0
    old = {r["person_id"]: r["token"] for r in _live_rows(out)}
    a = _args(tmp_path, members)
    assert run(["issue", "reissue", "P0000005", "--reason", "lost", *a]) == 0
    new = {r["person_id"]: r["token"] for r in _live_rows(out)}
    assert new["P0000005"] != old["P0000005"] and len(new) == 30
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.check(old["P0000005"]) == "revoked"
        assert reg.check(new["P0000005"]) == "unused"
        assert reg.consume(new["P0000006"]) == "won"
    assert run(["issue", "reissue", "P0000006", "--reason", "lost", *a]) == 4  # already voted
    assert run(["issue", "revoke", "P0000006", "--reason", "ineligible", "--out", str(out)]) == 4
    assert run(["issue", "reissue", "P0000007", "--reason", "made-up", *a]) == 2
    assert run(["issue", "reissue", "P9999999", "--reason", "lost", *a]) == 2
    assert run(["issue", "revoke", "P0000007", "--reason", "stolen", "--out", str(out)]) == 0
    assert "P0000007" not in {r["person_id"] for r in _live_rows(out)}
    assert run(["issue", "revoke", "P0000007", "--reason", "stolen", "--out", str(out)]) == 2
    assert run(["audit", "verify", str(out / "audit.log")]) == 0


def test_check_needs_only_register_and_vote_key(
    tmp_path: Path, members: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _issue(tmp_path, members) == 0
    tok = _live_rows(out)[0]["token"]
    counter = tmp_path / "counter"
    counter.mkdir()
    shutil.copy(out / "register.sqlite", counter)
    shutil.copy(out / "vote.key", counter)
    capsys.readouterr()
    assert (
        run(
            [
                "issue",
                "check",
                tok.lower().replace("-", " "),
                "--register",
                str(counter / "register.sqlite"),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == "unused"
    assert (
        run(
            [
                "issue",
                "check",
                format_token("0" * 21),
                "--register",
                str(counter / "register.sqlite"),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == "unknown"
    broken = tok[:-1] + ("0" if tok[-1] != "0" else "1")
    assert run(["issue", "check", broken, "--register", str(counter / "register.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "check symbol" in err and broken not in err and tok not in err


def test_status_prints_aggregates_only(
    tmp_path: Path, members: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _issue(tmp_path, members) == 0
    capsys.readouterr()
    assert run(["issue", "status", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "issued 30" in text and "unused 30" in text
    assert "P00000" not in text and "@" not in text
    assert run(["issue", "status", "--out", str(out), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["register"]["issued"] == 30 and st["ledger"]["persons_with_active_token"] == 30


def test_no_token_or_key_outside_the_dispatch_files(
    tmp_path: Path, members: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    a = _args(tmp_path, members)
    codes = [
        _issue(tmp_path, members),
        run(["issue", "reissue", "P0000002", "--reason", "spoilt", *a]),
        run(["issue", "status", "--out", str(out)]),
        run(["issue", "verify", *a]),
        run(["audit", "head", str(out / "audit.log")]),
    ]
    assert codes == [0, 0, 0, 0, 0]
    tokens = _all_tokens(out)
    assert len(tokens) == 31
    captured = capsys.readouterr()
    keydoc = json.loads((out / "keys" / "scrutineer.key").read_text())
    secrets_ = [keydoc["k_member"], keydoc["k_vote"]]
    needles = [t.encode() for t in tokens] + [format_token(t).encode() for t in tokens]
    needles += [k.encode() for k in secrets_]
    for f in out.rglob("*"):
        if f.is_file() and "dispatch" not in f.name and f.suffix != ".key":
            blob = f.read_bytes()
            assert not any(n in blob for n in needles), f
    text = (captured.out + captured.err).encode()
    assert not any(n in text for n in needles)


def test_crash_inside_run_leaves_no_token_in_the_traceback(
    tmp_path: Path,
    members: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[str] = []
    real = issuer.new_tokens

    def spy(n: int) -> list[str]:
        toks = real(n)
        seen.extend(toks)
        return toks

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(issuer, "new_tokens", spy)
    monkeypatch.setattr(Register, "add_unused", boom)
    assert _issue(tmp_path, members) == 1
    err = capsys.readouterr().err
    assert "simulated bug" in err and seen
    assert not any(t in err or format_token(t) in err for t in seen)
    assert not list((tmp_path / "out" / "dispatch").glob(".batch-*"))  # plaintext cleaned up
    monkeypatch.undo()
    assert _issue(tmp_path, members) == 0
    _ok(tmp_path, members)


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in (
        ["issue", "run"],
        ["issue", "reissue"],
        ["issue", "revoke"],
        ["issue", "status"],
        ["issue", "check"],
        ["issue", "verify"],
        ["audit", "verify"],
        ["audit", "head"],
    ):
        assert run([*cmd, "--help"]) == 0
        assert "Example:" in capsys.readouterr().out, cmd


def test_audit_cli_exit_4_on_tamper_and_head_pin(
    tmp_path: Path, members: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _issue(tmp_path, members) == 0
    log = out / "audit.log"
    capsys.readouterr()
    assert run(["audit", "head", str(log)]) == 0
    head = capsys.readouterr().out.strip()
    assert run(["audit", "verify", str(log), "--head", head]) == 0
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-1]))  # cut the last entry
    # The register and ledger beside the log hold its anchor: cutting it shows without a head.
    assert run(["audit", "verify", str(log)]) == 4
    assert "cut short" in capsys.readouterr().err
    assert run(["audit", "verify", str(log), "--head", head]) == 4
    log.write_bytes(b"".join([lines[0], lines[2], lines[1], *lines[3:]]))
    assert run(["audit", "verify", str(log)]) == 4
    assert "entry 2" in capsys.readouterr().err


def test_a_second_writer_is_refused_while_one_runs(tmp_path: Path, members: Path) -> None:
    import fcntl

    out = tmp_path / "out"
    assert _issue(tmp_path, members) == 0
    with open(out / ".issue.lock", "w") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        assert _issue(tmp_path, members) == 2
    assert _issue(tmp_path, members) == 0


def test_other_election_key_is_refused(tmp_path: Path, members: Path) -> None:
    assert _issue(tmp_path, members) == 0
    assert run(["issue", "run", "--election", "other", *_args(tmp_path, members)]) == 4
