"""Every file omov creates is 0600 and every folder 0700, whatever the umask; keys are atomic.

Two layers, each tested on its own: the ``omov`` command runs under umask 077
(``omov.fileio.private_umask``), and every writer sets the mode explicitly (``omov.fileio``,
SQLite files created 0600 before SQLite opens them, the audit log, key files). The pipeline test
runs the whole demo under umask 000 with and without the first layer.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omov import fileio

ROOT = Path(__file__).resolve().parents[2]
#: The demo's folders written by omov commands (returns/ is bench/simulate_returns.py's).
OMOV_DIRS = ("dedupe", "issue", "candidates", "intake", "count", "report")


def issue_fixtures() -> Any:
    """tests/test_issue/issue_fixtures.py (members.parquet builders), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        "issue_fixtures", ROOT / "tests" / "test_issue" / "issue_fixtures.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def modes(top: Path) -> dict[str, int]:
    found = {top.as_posix(): stat.S_IMODE(top.stat().st_mode)}
    for path in top.rglob("*"):
        found[path.as_posix()] = stat.S_IMODE(path.lstat().st_mode)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("cli_umask", [True, False], ids=["cli-umask", "explicit-modes-only"])
def test_whole_pipeline_under_umask_000_writes_only_private_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_umask: bool
) -> None:
    from omov import demo

    if not cli_umask:  # prove the explicit modes alone suffice
        monkeypatch.setattr(demo, "private_umask", contextlib.nullcontext)
    out = tmp_path / "demo"
    with umask(0o000):
        assert demo.main(["--sample", str(ROOT / "sample_data"), "--out", str(out)]) == 0
    seen = {out.as_posix(): stat.S_IMODE(out.stat().st_mode)}
    for name in OMOV_DIRS:
        seen |= modes(out / name)
    assert len(seen) > 40  # register, ledger, audit log, keys, dispatch, reports...
    for suffix in ("register.sqlite", "ledger.sqlite", "audit.log", "vote.key", "scrutineer.key"):
        assert any(p.endswith(suffix) for p in seen), suffix
    wrong = {
        p: oct(m)
        for p, m in seen.items()
        if m != (fileio.PRIVATE_DIR if Path(p).is_dir() else fileio.PRIVATE_FILE)
    }
    assert wrong == {}


def test_each_writer_is_private_under_umask_000(tmp_path: Path) -> None:
    """The writers one by one, outside the CLI (as a library caller or a test uses them)."""
    from issue import audit
    from issue.keys import MemberKey, VoteKey, write_vote_key
    from issue.ledger import Ledger
    from issue.register import Register
    from omov.textio import write_csv

    with umask(0o000):
        base = tmp_path / "a" / "b"
        fileio.write_text_atomic(base / "x.txt", "x")
        write_csv(base / "c" / "y.csv", ["a"], [{"a": 1}])
        audit.append(base / "audit.log", "test_event", n=1)
        key = VoteKey("e1", os.urandom(32))
        write_vote_key(base / "keys" / "vote.key", key)
        reg = Register.open(base / "register.sqlite", key, create=True)
        reg.add_unused(key.token_hashes(["0" * 21]))  # a write: SQLite makes -wal and -shm
        companions = [base / "register.sqlite-wal", base / "register.sqlite-shm"]
        assert all(stat.S_IMODE(p.stat().st_mode) == fileio.PRIVATE_FILE for p in companions)
        reg.close()
        Ledger.open(base / "ledger.sqlite", MemberKey("e1", os.urandom(32)), create=True).close()
    found = modes(tmp_path / "a")
    wrong = {
        p: oct(m)
        for p, m in found.items()
        if m != (fileio.PRIVATE_DIR if Path(p).is_dir() else fileio.PRIVATE_FILE)
    }
    assert wrong == {}
    assert len(found) >= 9


def test_the_omov_command_sets_umask_077_and_run_leaves_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from omov import cli

    with umask(0o022):
        cli.run(["--version"])  # in-process (tests, the demo, threads): the umask is untouched
        assert os.umask(0o022) == 0o022
    set_to: list[int] = []
    with monkeypatch.context() as m:
        m.setattr(cli.os, "umask", set_to.append)
        m.setattr(cli, "run", lambda: 0)
        with pytest.raises(SystemExit):
            cli.main()
    assert set_to == [0o077]


# ------------------------------------------------------------------------- key files


def test_a_key_write_cut_short_leaves_no_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash (here: the disk full at fsync) before the key is whole leaves no file at all, so
    the next run creates a key instead of tripping over an empty one."""
    from issue.keys import load_or_create_scrutineer_keys

    path = tmp_path / "keys" / "scrutineer.key"

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "fsync", disk_full)
        with pytest.raises(OSError):
            load_or_create_scrutineer_keys(path, "e1")
    assert not path.exists()
    assert list(path.parent.iterdir()) == []  # no temp file left either
    _, _, created = load_or_create_scrutineer_keys(path, "e1")
    assert created and path.stat().st_size > 0


@pytest.mark.parametrize("content", ["", '{"format_version": "omov.keys/1", "kind"'])
def test_an_empty_or_partial_key_file_is_refused_clearly(tmp_path: Path, content: str) -> None:
    from omov.cli import run

    members = issue_fixtures().roll(tmp_path / "members.parquet", range(1, 6))
    keys = tmp_path / "out" / "keys" / "scrutineer.key"
    keys.parent.mkdir(parents=True)
    keys.write_text(content)
    keys.chmod(0o600)
    code = run(
        [
            "issue",
            "run",
            "--members",
            str(members),
            "--election",
            "e1",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 4
    assert not (tmp_path / "out" / "register.sqlite").exists()


def test_empty_key_file_message_says_what_to_do(tmp_path: Path) -> None:
    from issue.keys import load_vote_key
    from omov.errors import IntegrityError

    path = tmp_path / "vote.key"
    path.write_text("")
    path.chmod(0o600)
    with pytest.raises(IntegrityError) as err:
        load_vote_key(path)
    text = err.value.render()
    assert "empty" in text and "backup" in text


def test_vote_key_file_is_whole_json(tmp_path: Path) -> None:
    from issue.keys import VoteKey, write_vote_key

    write_vote_key(tmp_path / "vote.key", VoteKey("e1", os.urandom(32)))
    doc = json.loads((tmp_path / "vote.key").read_text())
    assert doc["kind"] == "vote" and len(bytes.fromhex(doc["k_vote"])) == 32
