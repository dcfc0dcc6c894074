"""Anchored audit log (issue 16 item 5): cutting, emptying, or editing and re-chaining the log
is exit 4 without any head kept off the machine (each passed with exit 0 before)."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from issue_fixtures import person, write_members

from issue import audit, checkpoint
from omov.cli import run
from omov.errors import IntegrityError


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    members = write_members(tmp_path / "members.parquet", [person(i) for i in range(1, 9)])
    o = tmp_path / "issue"
    args = ["--members", str(members), "--election", "nec-2026", "--out", str(o)]
    assert run(["issue", "run", *args]) == 0
    assert run(["issue", "revoke", "P0000002", "--reason", "lost", "--out", str(o)]) == 0
    return o


def _verify(log: Path, *extra: str) -> int:
    return run(["audit", "verify", str(log), *extra])


def _rechain(entries: list[dict[str, Any]]) -> bytes:
    """What a careful forger does: fix every hash and prev link after the edit."""
    prev = audit.GENESIS
    lines = []
    for seq, e in enumerate(entries, start=1):
        body = {k: v for k, v in e.items() if k != "hash"}
        body["prev"], body["seq"] = prev, seq
        body["hash"] = audit.entry_hash(body)
        prev = body["hash"]
        lines.append(audit.canonical_json(body).encode() + b"\n")
    return b"".join(lines)


def _set_meta(store: Path, key: str, value: str) -> None:
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))


def test_an_untouched_log_verifies_with_its_anchors(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _verify(out / "audit.log") == 0
    said = capsys.readouterr().out
    assert "register.sqlite, ledger.sqlite" in said and "signed checkpoint" in said


@pytest.mark.parametrize("cut", [1, 2, 5])
def test_cutting_the_last_entries_is_exit_4(out: Path, cut: int) -> None:
    log = out / "audit.log"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-cut]))
    assert _verify(log) == 4


def test_emptying_the_log_is_exit_4(out: Path, tmp_path: Path) -> None:
    log = out / "audit.log"
    log.write_bytes(b"")
    assert _verify(log) == 4
    lone = tmp_path / "lone" / "audit.log"  # even with no register or ledger beside it
    lone.parent.mkdir()
    lone.write_bytes(b"")
    assert _verify(lone) == 4


def test_edit_and_recompute_the_chain_is_exit_4(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = out / "audit.log"
    entries = audit.read_entries(log)
    batch = next(e for e in entries if e["event"] == "issue_batch")
    batch["issued"] += 1  # a forged figure
    log.write_bytes(_rechain(entries))
    assert audit.read_entries(log)  # the chain itself is consistent again
    assert _verify(log) == 4
    assert "edited" in capsys.readouterr().err


def test_rewriting_the_unsigned_anchors_too_is_caught_by_the_signature(out: Path) -> None:
    log = out / "audit.log"
    entries = audit.read_entries(log)
    entries[-1]["reason"] = "ineligible"
    log.write_bytes(_rechain(entries))
    new = audit.read_entries(log)
    for store in ("register.sqlite", "ledger.sqlite"):
        _set_meta(out / store, "audit_head", str(new[-1]["hash"]))
    assert _verify(log) == 4  # the signed checkpoint still names the old head


def test_a_checkpoint_signed_with_another_key_is_exit_4(out: Path) -> None:
    log = out / "audit.log"
    h = audit.head(log)
    forger = Ed25519PrivateKey.generate()
    cp = {"election": "nec-2026", "hash": h.hash, "seq": h.seq}
    cp |= {
        "public_key": checkpoint.public_hex(forger),
        "signature": forger.sign(checkpoint._message("nec-2026", h.seq, h.hash)).hex(),
    }
    _set_meta(out / "register.sqlite", "audit_checkpoint", json.dumps(cp))
    assert _verify(log) == 4  # the key was never announced in the log


def test_a_bad_signature_and_a_wrong_pinned_key_are_exit_4(out: Path) -> None:
    log = out / "audit.log"
    key = checkpoint.announced_key(log)
    assert key is not None
    assert _verify(log, "--public-key", key) == 0
    assert _verify(log, "--public-key", "ab" * 32) == 4
    store = out / "ledger.sqlite"
    with sqlite3.connect(store) as conn:
        (text,) = conn.execute("SELECT value FROM meta WHERE key = 'audit_checkpoint'").fetchone()
    cp = json.loads(text)
    cp["signature"] = ("00" if cp["signature"][:2] != "00" else "11") + cp["signature"][2:]
    _set_meta(store, "audit_checkpoint", json.dumps(cp))
    assert _verify(log) == 4


def test_signing_key_is_0600_and_announced(out: Path) -> None:
    key_file = out / "keys" / checkpoint.KEY_FILE_NAME
    assert key_file.stat().st_mode & 0o777 == 0o600
    announced = [
        e for e in audit.read_entries(out / "audit.log") if e["event"] == "audit_key_created"
    ]
    assert len(announced) == 1
    assert "private" not in json.dumps(announced[0])


def test_head_prefix_of_8_hex_digits(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = out / "audit.log"
    head = audit.head(log).hash
    assert _verify(log, "--head", head[:8]) == 0
    assert _verify(log, "--head", head[:8].upper()) == 0
    assert _verify(log, "--head", head[:7]) == 2  # too short to be a commitment
    assert _verify(log, "--head", "zz" + head[2:8]) == 2
    other = "0" * 8 if not head.startswith("0" * 8) else "1" * 8
    assert _verify(log, "--head", other) == 4


def test_a_log_one_entry_ahead_of_its_anchor_passes(out: Path) -> None:
    """A crash between an append and its anchor update leaves the log ahead: that is fine."""
    log = out / "audit.log"
    seq = audit.head(log).seq
    for store in ("register.sqlite", "ledger.sqlite"):
        _set_meta(out / store, "audit_seq", str(seq - 1))
        entries = audit.read_entries(log)
        _set_meta(out / store, "audit_head", str(entries[seq - 2]["hash"]))
    assert _verify(log) == 0


def test_a_crash_before_the_key_is_announced_is_announced_on_the_next_run(
    out: Path, tmp_path: Path
) -> None:
    """kill -9 between writing the key file and announcing it must not block later runs."""
    log = out / "audit.log"
    lines = log.read_bytes().splitlines(keepends=True)
    kept = [ln for ln in lines if b'"audit_key_created"' not in ln]
    log.write_bytes(_rechain([json.loads(x) for x in kept]))
    for store in ("register.sqlite", "ledger.sqlite"):  # as if the stores never saw them
        with sqlite3.connect(out / store) as conn:
            conn.execute("DELETE FROM meta WHERE key LIKE 'audit_%'")
    members = tmp_path / "members.parquet"
    assert run(["issue", "verify", "--members", str(members), "--out", str(out)]) == 3
    assert checkpoint.announced_key(log) is not None
    assert _verify(log) == 0


def test_a_replaced_signing_key_is_refused(out: Path, tmp_path: Path) -> None:
    key_file = out / "keys" / checkpoint.KEY_FILE_NAME
    key_file.unlink()
    members = tmp_path / "members.parquet"
    assert run(["issue", "verify", "--members", str(members), "--out", str(out)]) == 4


def test_a_signing_key_readable_by_others_is_refused(out: Path, tmp_path: Path) -> None:
    key_file = out / "keys" / checkpoint.KEY_FILE_NAME
    key_file.chmod(0o644)
    members = tmp_path / "members.parquet"
    assert run(["issue", "verify", "--members", str(members), "--out", str(out)]) == 2


def _anchored_log(tmp: Path, n: int) -> Path:
    """A log of n entries with a register and ledger (bare meta tables) beside it."""
    for name in ("register.sqlite", "ledger.sqlite"):
        with sqlite3.connect(tmp / name) as conn:
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    log = tmp / "audit.log"
    for i in range(n):
        audit.append(log, "test_event", n=i)
    return log


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), data=st.data())
def test_any_cut_or_rechained_edit_is_caught(n: int, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as d:
        log = _anchored_log(Path(d), n)
        whole = log.read_bytes()
        keep = data.draw(st.integers(0, n - 1), label="entries kept")
        log.write_bytes(b"".join(whole.splitlines(keepends=True)[:keep]))
        with pytest.raises(IntegrityError):
            audit.verify(log)
        entries = [json.loads(x) for x in whole.splitlines()]
        i = data.draw(st.integers(0, n - 1), label="entry edited")
        entries[i]["n"] = -1
        log.write_bytes(_rechain(entries))
        with pytest.raises(IntegrityError):
            audit.verify(log)
        log.write_bytes(whole)
        assert audit.verify(log).entries == n
