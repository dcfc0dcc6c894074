"""The intake journal is bound to its register and run (issue 16: "first use wins can be bypassed
with a hand-written intake journal reusing a finished run's public id").

The attack, as found: after a finished intake of 1,000 tokens, a journal written by hand into a
new --out, naming the finished run's public id (printed in intake_report.json and the audit log)
as ``open`` with a new channel file, made intake "resume" that run: every one of the 1,000
already-counted tokens was reclaimed and counted again with new preferences.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from intake_helpers import invoke, make_ballot_def, make_register, write_returns

from issue.keys import load_vote_key
from issue.register import Register
from issue.tokens import new_tokens
from omov.fileio import sha256_file
from vote import intake_journal as journal

N = 1000


def _setup(tmp_path: Path) -> dict[str, object]:
    toks = new_tokens(N)
    db, key = make_register(tmp_path / "issue", unused=toks)
    bdef = make_ballot_def(tmp_path / "ballot.json", ["A", "B", "C"])
    first = write_returns(tmp_path / "online.csv", [(t, "1;2;3") for t in toks])
    code, _, err = invoke(_args(db, key, bdef, first, tmp_path / "done"))
    assert code == 0, err
    report = json.loads((tmp_path / "done" / "intake_report.json").read_text())
    assert report["totals"]["valid"] == N
    again = write_returns(tmp_path / "forged" / "online.csv", [(t, "3;2;1") for t in toks])
    return {"db": db, "key": key, "bdef": bdef, "again": again, "run_id": report["run"]["id"]}


def _args(db: Path, key: Path, bdef: Path, f: Path, out: Path) -> list[str]:
    return [
        "intake",
        str(f),
        "--register",
        str(db),
        "--keys",
        str(key),
        "--ballot-def",
        str(bdef),
        "--out",
        str(out),
    ]


def _hand_written(s: dict[str, object], version: str) -> dict[str, object]:
    return {
        "format_version": version,
        "run_id": s["run_id"],
        "state": "open",
        "attempt": 1,
        "election_id": "e1",
        "ballot_definition_sha256": sha256_file(s["bdef"]),  # type: ignore[arg-type]
        "inputs": [{"channel": "online", "sha256": sha256_file(s["again"])}],  # type: ignore[arg-type]
    }


def _used(s: dict[str, object]) -> dict[str, int]:
    with Register.open(s["db"], s["key"]) as reg:  # type: ignore[arg-type]
        return reg.counts()


def _attempt(s: dict[str, object], out: Path) -> tuple[int, str]:
    code, _, err = invoke(_args(s["db"], s["key"], s["bdef"], s["again"], out))  # type: ignore[arg-type]
    return code, err


def test_a_hand_written_journal_reusing_a_finished_run_id_is_refused(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    before = _used(s)
    for version in ("omov.intake-journal/1", journal.JOURNAL_FORMAT_VERSION):
        out = tmp_path / f"attack-{version[-1]}"
        out.mkdir()
        (out / journal.JOURNAL_NAME).write_text(json.dumps(_hand_written(s, version)))
        code, err = _attempt(s, out)
        assert code == 4, err  # before: exit 0, and 1,000 counted tokens counted again
        assert "journal" in err
        assert not (out / "ballots.blt").exists()
    assert _used(s) == before


def test_a_journal_sealed_with_the_vote_key_still_cannot_reclaim_a_finished_run(
    tmp_path: Path,
) -> None:
    """Even an insider holding vote.key cannot: the register's ``used_by`` is a keyed one-way
    function of the run's secret, which the finished journal no longer holds."""
    s = _setup(tmp_path)
    key = load_vote_key(s["key"])  # type: ignore[arg-type]
    doc = {**_hand_written(s, journal.JOURNAL_FORMAT_VERSION), "run_secret": "00" * 16}
    out = tmp_path / "insider"
    out.mkdir()
    journal.write(out, doc, key)
    code, err = _attempt(s, out)
    assert code == 4 and "secret" in err, err
    # A self-consistent journal (a secret of its own) is just a new run: nothing reclaimed.
    secret = secrets.token_bytes(16)
    doc.update(run_secret=secret.hex(), run_id=journal.run_id_for(key, secret).hex())
    out2 = tmp_path / "insider2"
    out2.mkdir()
    journal.write(out2, doc, key)
    code, err = _attempt(s, out2)
    assert code == 3, err
    report = json.loads((out2 / "intake_report.json").read_text())
    assert report["totals"]["valid"] == 0 and report["totals"]["by_class"]["token_used"] == N
    assert report["run"]["tokens_reclaimed"] == 0


def test_a_finished_journal_replayed_as_open_is_refused(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    doc = json.loads((tmp_path / "done" / journal.JOURNAL_NAME).read_text())
    assert doc["state"] == "finished" and "run_secret" not in doc  # the secret is forgotten
    out = tmp_path / "replay"
    out.mkdir()
    doc.update(state="open", inputs=_hand_written(s, "")["inputs"])
    (out / journal.JOURNAL_NAME).write_text(json.dumps(doc))
    code, err = _attempt(s, out)
    assert code == 4 and "seal" in err, err
    assert _used(s)["used"] == N


def test_a_journal_of_another_register_is_refused(tmp_path: Path) -> None:
    """Sealed with another election's vote key: refused, not resumed."""
    s = _setup(tmp_path)
    _, other_key = make_register(tmp_path / "other", unused=new_tokens(1))
    key = load_vote_key(other_key)
    secret = secrets.token_bytes(16)
    doc = {
        **_hand_written(s, journal.JOURNAL_FORMAT_VERSION),
        "run_secret": secret.hex(),
        "run_id": journal.run_id_for(key, secret).hex(),
    }
    out = tmp_path / "foreign"
    out.mkdir()
    journal.write(out, doc, key)
    code, err = _attempt(s, out)
    assert code == 4, err
