"""The vote register: states, atomic single use across processes, constraints in SQLite itself."""

from __future__ import annotations

import hmac
import multiprocessing
import secrets
import sqlite3
from pathlib import Path

import pytest

from issue.keys import VoteKey, hmac_many, load_vote_key, write_vote_key
from issue.register import INVALID, REVOKED, UNKNOWN, UNUSED, USED, WON, Register
from issue.tokens import TokenFormatError, format_token, new_tokens
from omov.errors import IntegrityError, UsageError


@pytest.fixture()
def reg(tmp_path: Path) -> tuple[Register, list[str]]:
    key = VoteKey("e1", secrets.token_bytes(32))
    write_vote_key(tmp_path / "vote.key", key)
    r = Register.open(tmp_path / "register.sqlite", key, create=True)
    toks = new_tokens(50)
    r.add_unused(key.token_hashes(toks))
    return r, toks


def test_hmac_many_is_rfc2104_hmac() -> None:
    key = secrets.token_bytes(32)
    msgs = [b"", b"a", b"x" * 100]
    assert hmac_many(key, b"pre", msgs) == [hmac.digest(key, b"pre" + m, "sha256") for m in msgs]


def test_states_and_single_use(reg: tuple[Register, list[str]]) -> None:
    r, toks = reg
    assert r.check(toks[0]) == UNUSED
    assert r.consume(format_token(toks[0]).lower()) == WON
    assert r.consume(toks[0]) == USED
    assert r.check(toks[0]) == USED
    r.add_unused([], revoke=[r.token_hash(toks[1])])
    assert r.check(toks[1]) == REVOKED and r.consume(toks[1]) == REVOKED
    stranger = new_tokens(1)[0]
    assert r.check(stranger) == UNKNOWN and r.consume(stranger) == UNKNOWN
    with pytest.raises(TokenFormatError):
        r.check("not-a-token")
    assert r.counts() == {UNUSED: 48, USED: 1, REVOKED: 1}


def test_consume_many_outcomes(reg: tuple[Register, list[str]]) -> None:
    r, toks = reg
    r.consume(toks[0])
    batch = [toks[0], toks[2], toks[2], "garbage", new_tokens(1)[0], r.token_hash(toks[3])]
    assert r.consume_many(batch, chunk=2) == [USED, WON, USED, INVALID, UNKNOWN, WON]


def test_revoking_a_used_token_is_refused_and_writes_nothing(
        reg: tuple[Register, list[str]]) -> None:
    r, toks = reg
    r.consume(toks[0])
    fresh = new_tokens(1)
    with pytest.raises(IntegrityError, match="already voted"):
        r.add_unused(r.key.token_hashes(fresh), revoke=[r.token_hash(toks[0])])
    assert r.check(fresh[0]) == UNKNOWN


@pytest.mark.parametrize("sql", [
    "DELETE FROM tokens",
    "UPDATE tokens SET state = 'unused' WHERE state = 'used'",
    "UPDATE tokens SET state = 'bogus'",
    "INSERT INTO tokens VALUES (zeroblob(32), 'used')",
    "INSERT INTO tokens VALUES (zeroblob(16), 'unused')",
    "UPDATE tokens SET h = zeroblob(32)",
])
def test_database_constraints_hold_without_python(
        reg: tuple[Register, list[str]], sql: str) -> None:
    r, toks = reg
    r.consume(toks[0])
    conn = sqlite3.connect(r.path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute(sql)
        conn.commit()
    conn.close()


def test_wrong_key_or_missing_register(tmp_path: Path, reg: tuple[Register, list[str]]) -> None:
    r, _ = reg
    with pytest.raises(IntegrityError):
        Register.open(r.path, VoteKey("e1", secrets.token_bytes(32)))
    with pytest.raises(IntegrityError):
        Register.open(r.path, VoteKey("e2", r.key.secret))
    with pytest.raises(UsageError):
        Register.open(tmp_path / "nope.sqlite", r.key)


def test_vote_key_file_is_private_and_holds_k_vote_only(tmp_path: Path) -> None:
    key = VoteKey("e1", secrets.token_bytes(32))
    path = tmp_path / "vote.key"
    write_vote_key(path, key)
    assert path.stat().st_mode & 0o777 == 0o600
    assert "k_member" not in path.read_text()
    assert load_vote_key(path).check_value == key.check_value
    path.chmod(0o644)
    with pytest.raises(UsageError, match="other users"):
        load_vote_key(path)


def test_register_file_holds_no_token(reg: tuple[Register, list[str]]) -> None:
    r, toks = reg
    r.consume_many(toks[:10])
    r.close()
    blob = b"".join(p.read_bytes() for p in r.path.parent.glob("register.sqlite*"))
    for t in toks:
        assert t.encode() not in blob and format_token(t).encode() not in blob


def _consumer(db: str, key_path: str, toks: list[str], q: multiprocessing.Queue) -> None:
    with Register.open(Path(db), Path(key_path)) as r:
        won = [t for t, o in zip(toks, r.consume_many(toks, chunk=97), strict=True) if o == WON]
        won += [t for t in toks[:50] if r.consume(t) == WON]
    q.put(won)


def test_two_processes_consuming_the_same_tokens_win_each_once(tmp_path: Path) -> None:
    key = VoteKey("e1", secrets.token_bytes(32))
    write_vote_key(tmp_path / "vote.key", key)
    toks = new_tokens(3000)
    with Register.open(tmp_path / "register.sqlite", key, create=True) as r:
        r.add_unused(key.token_hashes(toks))
    ctx = multiprocessing.get_context("fork")
    q: multiprocessing.Queue = ctx.Queue()
    procs = [ctx.Process(target=_consumer, args=(str(tmp_path / "register.sqlite"),
                                                str(tmp_path / "vote.key"), order, q))
             for order in (toks, list(reversed(toks)))]
    for p in procs:
        p.start()
    won = q.get(timeout=60) + q.get(timeout=60)
    for p in procs:
        p.join()
    assert sorted(won) == sorted(toks)
