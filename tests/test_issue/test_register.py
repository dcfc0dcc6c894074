"""The vote register: states, atomic single use across processes, constraints in SQLite itself."""

from __future__ import annotations

import hmac
import multiprocessing
import secrets
import sqlite3
from pathlib import Path

import pytest

from issue.keys import VoteKey, hmac_many, load_vote_key, write_vote_key
from issue.register import INVALID, RECLAIMED, REVOKED, UNKNOWN, UNUSED, USED, WON, Register
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
    batch: list[str | bytes] = [
        toks[0],
        toks[2],
        toks[2],
        "garbage",
        new_tokens(1)[0],
        r.token_hash(toks[3]),
    ]
    assert r.consume_many(batch, chunk=2) == [USED, WON, USED, INVALID, UNKNOWN, WON]


def test_revoking_a_used_token_is_refused_and_writes_nothing(
    reg: tuple[Register, list[str]],
) -> None:
    r, toks = reg
    r.consume(toks[0])
    fresh = new_tokens(1)
    with pytest.raises(IntegrityError, match="already voted"):
        r.add_unused(r.key.token_hashes(fresh), revoke=[r.token_hash(toks[0])])
    assert r.check(fresh[0]) == UNKNOWN


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM tokens",
        "UPDATE tokens SET state = 'unused' WHERE state = 'used'",
        "UPDATE tokens SET state = 'bogus'",
        "INSERT INTO tokens VALUES (zeroblob(32), 'used')",
        "INSERT INTO tokens VALUES (zeroblob(16), 'unused')",
        "UPDATE tokens SET h = zeroblob(32)",
    ],
)
def test_database_constraints_hold_without_python(
    reg: tuple[Register, list[str]], sql: str
) -> None:
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


def _consumer(db: str, key_path: str, toks: list[str], q: multiprocessing.Queue[list[str]]) -> None:
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
    q: multiprocessing.Queue[list[str]] = ctx.Queue()
    procs = [
        ctx.Process(
            target=_consumer,
            args=(str(tmp_path / "register.sqlite"), str(tmp_path / "vote.key"), order, q),
        )
        for order in (toks, list(reversed(toks)))
    ]
    for p in procs:
        p.start()
    won = q.get(timeout=60) + q.get(timeout=60)
    for p in procs:
        p.join()
    assert sorted(won) == sorted(toks)


# ---- intake runs: used_by, reclaim, migration of omov.register/1 ----------------------------


def test_a_run_reclaims_its_own_wins_and_no_other(reg: tuple[Register, list[str]]) -> None:
    from issue.register import new_run_id

    r, toks = reg
    mine, other = new_run_id(), new_run_id()
    assert r.consume_many(toks[:3], run_id=mine) == [WON, WON, WON]
    assert r.consume_many([toks[0], toks[3], toks[0]], run_id=mine) == [RECLAIMED, WON, USED]
    assert r.consume_many(toks[:4], run_id=other) == [USED] * 4
    assert r.consume_many(toks[:2]) == [USED, USED]  # no run id: a fresh one of its own
    r.add_unused([], revoke=[r.token_hash(toks[5])])
    assert r.consume_many([toks[5], toks[1]], run_id=mine, chunk=1) == [REVOKED, RECLAIMED]
    assert r.consume(toks[2], run_id=mine) == RECLAIMED
    rows = (
        sqlite3.connect(r.path)
        .execute("SELECT used_by, count(*) FROM tokens WHERE state = 'used' GROUP BY used_by")
        .fetchall()
    )
    assert rows == [(mine, 4)]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tokens SET state = 'used' WHERE state = 'unused'",  # used without a run
        "UPDATE tokens SET state = 'revoked', used_by = zeroblob(16) WHERE state = 'unused'",
        "UPDATE tokens SET used_by = zeroblob(16) WHERE state = 'used'",  # never changes
        "UPDATE tokens SET state = 'used', used_by = zeroblob(8) WHERE state = 'unused'",
        "INSERT INTO tokens VALUES (randomblob(32), 'unused', zeroblob(16))",
    ],
)
def test_used_by_is_set_exactly_when_used_in_sqlite_itself(
    reg: tuple[Register, list[str]], sql: str
) -> None:
    r, toks = reg
    r.consume(toks[0])
    conn = sqlite3.connect(r.path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute(sql)
        conn.commit()
    conn.close()


def _v1_register(tmp_path: Path, toks: list[str]) -> tuple[Path, VoteKey]:
    """A register exactly as omov.register/1 made it (schema and meta of that version)."""
    from issue import register_schema as regmod

    key = VoteKey("e1", secrets.token_bytes(32))
    db = tmp_path / "old.sqlite"
    conn = regmod.connect(db)
    conn.execute(regmod._META)
    conn.execute(regmod._TOKENS_V1)
    for trigger in regmod._TRIGGERS:
        conn.execute(trigger)
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("format_version", "omov.register/1"),
            ("election", "e1"),
            ("vote_key_check", key.check_value),
        ],
    )
    conn.executemany("INSERT INTO tokens (h) VALUES (?)", [(h,) for h in key.token_hashes(toks)])
    conn.execute("UPDATE tokens SET state = 'used' WHERE h = ?", (key.token_hash(toks[0]),))
    conn.close()
    return db, key


def test_an_old_register_is_read_as_is_and_migrated_on_first_consume(tmp_path: Path) -> None:
    from issue.register import FORMAT_VERSION, new_run_id

    toks = new_tokens(5)
    db, key = _v1_register(tmp_path, toks)
    before = db.read_bytes()
    with Register.open(db, key) as r:
        assert r.counts() == {UNUSED: 4, USED: 1, REVOKED: 0} and r.check(toks[0]) == USED
        assert r.format_version == "omov.register/1"
    assert db.read_bytes() == before  # reading never changes an old register
    with Register.open(db, key, create=True) as r:  # an issue re-run leaves it as it is
        r.add_unused(key.token_hashes(new_tokens(1)), revoke=[key.token_hash(toks[4])])
        run = new_run_id()
        assert r.consume_many(toks[:3], run_id=run) == [USED, WON, WON]
        assert r.format_version == FORMAT_VERSION
        assert r.consume_many(toks[:3], run_id=run) == [USED, RECLAIMED, RECLAIMED]
    with Register.open(db, key) as r:
        assert r.format_version == FORMAT_VERSION
        assert r.counts() == {UNUSED: 2, USED: 3, REVOKED: 1}
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError):  # the migrated schema enforces used_by too
        conn.execute("UPDATE tokens SET state = 'used' WHERE state = 'unused'")
    conn.close()


def test_a_register_of_an_unknown_format_is_refused(tmp_path: Path) -> None:
    toks = new_tokens(2)
    db, key = _v1_register(tmp_path, toks)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = 'omov.register/9' WHERE key = 'format_version'")
    conn.commit()
    conn.close()
    with pytest.raises(UsageError, match=r"is not an omov\.register/2 database"):
        Register.open(db, key)
