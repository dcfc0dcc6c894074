"""The audit log: any changed byte, dropped, swapped or inserted line fails at that entry."""

from __future__ import annotations

import json
import multiprocessing
import re
from pathlib import Path

import pytest

from issue import audit
from omov.errors import IntegrityError, UsageError

N = 6


def _log(tmp_path: Path, n: int = N) -> Path:
    path = tmp_path / "audit.log"
    for i in range(n):
        audit.append(path, "test_event", n=i, digest="ab" * 32, note="ünïcode")
    return path


def _bad_entry(exc: pytest.ExceptionInfo[IntegrityError]) -> int:
    m = re.search(r"entry (\d+)", str(exc.value))
    assert m, str(exc.value)
    return int(m.group(1))


def test_chain_verifies_and_head_is_last_hash(tmp_path: Path) -> None:
    path = _log(tmp_path)
    h = audit.head(path)
    last = json.loads(path.read_text().splitlines()[-1])
    assert (h.seq, h.hash) == (N, last["hash"])
    assert audit.verify(path, expected_head=h.hash) == h


def test_flipping_any_byte_fails_at_that_entry(tmp_path: Path) -> None:
    path = _log(tmp_path, 3)
    data = path.read_bytes()
    starts = [0, *[i + 1 for i, b in enumerate(data) if b == ord("\n")][:-1]]
    for pos in range(len(data)):
        broken = bytearray(data)
        broken[pos] ^= 0x01
        path.write_bytes(bytes(broken))
        line = sum(1 for s in starts if s <= pos)
        with pytest.raises(IntegrityError) as exc:
            audit.verify(path)
        # A flipped newline merges/splits lines, which is caught at the same or the next entry.
        expected = (line, line + 1) if data[pos] == ord("\n") else (line,)
        assert _bad_entry(exc) in expected


def test_dropping_any_line_fails_at_that_entry(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    published = audit.head(path).hash
    for i in range(N):
        path.write_bytes(b"".join(lines[:i] + lines[i + 1 :]))
        with pytest.raises(IntegrityError) as exc:
            audit.verify(path, expected_head=published)
        if i < N - 1:
            assert _bad_entry(exc) == i + 1
        else:  # cutting the tail is only visible against a published head
            assert "published head" in str(exc.value)


@pytest.mark.parametrize("i", range(N - 1))
def test_swapping_adjacent_lines_fails_at_the_first(tmp_path: Path, i: int) -> None:
    path = _log(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    path.write_bytes(b"".join(lines))
    with pytest.raises(IntegrityError) as exc:
        audit.verify(path)
    assert _bad_entry(exc) == i + 1


def test_inserting_a_forged_entry_fails(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    forged = json.loads(lines[1])
    forged["n"] = 99
    forged["hash"] = audit.entry_hash(forged)
    lines.insert(2, (audit.canonical_json(forged) + "\n").encode())
    path.write_bytes(b"".join(lines))
    with pytest.raises(IntegrityError) as exc:
        audit.verify(path)
    assert _bad_entry(exc) == 3


def test_tokens_are_refused_in_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    bads = ("ABCD-EFGH-JKMN-PQRS-TVWX-Y", "abcdefghjkmnpqrstvwxy", {"x": ["7ZZZZZZZZZZZZZZZZZZZZ"]})
    for bad in bads:
        with pytest.raises(UsageError):
            audit.append(path, "x", value=bad)
    audit.append(path, "x", digest="f" * 64, count=3)


def _appender(path: str, k: int) -> None:
    for i in range(k):
        audit.append(path, "concurrent", i=i)


def test_two_processes_appending_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_appender, args=(str(path), 40)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert audit.head(path).seq == 80
