"""The ballot box: an SQLite file of preferences only, written durably before a member is told.

Layout of ``--box DIR`` (docs/formats-vote.md)::

    box.sqlite        the live box while the ballot is open (WAL, synchronous=FULL)
    box.lock          flock'd by the one process that owns the box (the server, or close)
    sealed.sqlite     after ``omov vote close``: the box rebuilt in key order, nothing else
    seal.json         its SHA-256, ballot count and election (written last: "sealed")
    confirmations.csv the recorded confirmation codes, sorted (publishable; no preferences)

Secrecy by construction: ``ballots(k, marks)`` holds a random 16-byte key and the positional
marks, ``WITHOUT ROWID``, so the physical order is the random key's order, never arrival; no
token, token hash, time or address is stored with a ballot. Confirmation codes sit in their own
table keyed by the code, with nothing linking a code to a ballot.

First use, shared with intake, and durable before answering (``vote.casting`` drives this):

1. ``stage``: the batch's ballots go into ``pending`` (with the token's register hash and a
   random batch id) and are committed (fsync).
2. issue/'s ``Register.consume_many_hashes(hashes, run_id=batch)`` — the very method intake
   uses — marks the winners used *by that batch id* and commits (fsync).
3. ``settle``: the winners move to ``ballots`` and ``confirmations``, the whole batch leaves
   ``pending``. Only then are the members answered. (This commit needs no fsync: it only
   derives from steps 1 and 2, which are durable, and ``recover`` redoes it after a crash.)

Killed anywhere, ``recover`` finishes the job from the register's own record: a pending ballot
whose token the register shows used by its batch id is kept (the register committed); any other
is dropped (its token is still unused, or another channel won it). So tokens used by the web
channel always equal ballots in the box, and a ballot a member saw confirmed is never lost.
The token hash lives in ``pending`` only between steps 1 and 3 (milliseconds) and is erased by
``secure_delete``; the sealed box is rebuilt without that table.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from omov.errors import IntegrityError, UsageError
from vote.ballot import new_confirmation_code

FORMAT_VERSION = "omov.ballot-box/1"
LIVE, LOCK, SEALED, SEAL, CODES = (
    "box.sqlite",
    "box.lock",
    "sealed.sqlite",
    "seal.json",
    "confirmations.csv",
)
KEY_BYTES = 16
_BUSY_MS = 60_000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    f"""CREATE TABLE IF NOT EXISTS ballots (
        k BLOB PRIMARY KEY CHECK (typeof(k) = 'blob' AND length(k) = {KEY_BYTES}),
        marks TEXT NOT NULL CHECK (marks NOT GLOB '*[^0-9;]*')
    ) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS confirmations (code TEXT PRIMARY KEY) WITHOUT ROWID",
    """CREATE TABLE IF NOT EXISTS pending (
        k BLOB PRIMARY KEY, batch BLOB NOT NULL, pos INTEGER NOT NULL, h BLOB NOT NULL,
        marks TEXT NOT NULL, code TEXT NOT NULL UNIQUE
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS pending_batch ON pending (batch)",
    """CREATE TRIGGER IF NOT EXISTS ballots_never_deleted BEFORE DELETE ON ballots
    BEGIN SELECT RAISE(ABORT, 'omov box: a recorded ballot is never deleted'); END""",
    """CREATE TRIGGER IF NOT EXISTS ballots_never_changed BEFORE UPDATE ON ballots
    BEGIN SELECT RAISE(ABORT, 'omov box: a recorded ballot is never changed'); END""",
)


@dataclass(frozen=True)
class Staged:
    """One ballot waiting for its token: the key it will have and the code it will show."""

    key: bytes
    code: str


def connect(path: Path) -> sqlite3.Connection:
    """Autocommit (we BEGIN explicitly), WAL, synchronous=FULL, deleted bytes zeroed."""
    conn = sqlite3.connect(
        path, isolation_level=None, timeout=_BUSY_MS / 1000, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA secure_delete = ON")
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (durable on return), ``ROLLBACK`` on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def owned(box_dir: Path) -> Iterator[None]:
    """Hold the box's exclusive lock (one server or one close at a time), or refuse."""
    box_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(box_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    fh: IO[bytes] = os.fdopen(fd, "r+b")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"ballot box {box_dir} is in use by another omov process (a running "
                "`omov vote serve`, or a close)",
                fix="stop the server on this box first",
            ) from None
        yield
    finally:
        fh.close()


def is_sealed(box_dir: Path) -> bool:
    return (box_dir / SEAL).exists()


class BallotBox:
    """The live box (see the module docstring). Its transactions hold a lock, so the caster's
    stager and committer threads can share it (one transaction at a time)."""

    def __init__(self, conn: sqlite3.Connection, box_dir: Path, meta: dict[str, str]) -> None:
        self._conn = conn
        self._lock = threading.Lock()  # the caster's two threads share the connection
        self.dir = box_dir
        self.meta = meta

    @classmethod
    def open(cls, box_dir: Path, expect: dict[str, str] | None = None) -> BallotBox:
        """Open (``expect`` given: create if new) the live box; refuse a sealed or foreign one.

        ``expect`` holds ``election``, ``ballot_definition_sha256`` and ``candidates``: a box
        made for another election or ballot paper is an integrity failure (exit 4).
        """
        if is_sealed(box_dir):
            raise UsageError(f"ballot box {box_dir} is sealed: the ballot has closed")
        path = box_dir / LIVE
        if expect is None and not path.is_file():
            raise UsageError(f"{box_dir} holds no ballot box ({LIVE} is missing)")
        box_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        old = os.umask(0o077)
        try:
            conn = connect(path)
        finally:
            os.umask(old)
        with transaction(conn):
            for statement in _SCHEMA:
                conn.execute(statement)
            if expect is not None:
                rows = [("format_version", FORMAT_VERSION), *sorted(expect.items())]
                conn.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", rows)
        meta = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}
        for name, want in (expect or {}).items():
            if meta.get(name) != want:
                conn.close()
                raise IntegrityError(
                    f"ballot box {box_dir} was made with {name} {meta.get(name)!r}, not {want!r}",
                    fix="use the box made for this election and ballot paper, or a new --box",
                )
        return cls(conn, box_dir, meta)

    def close(self) -> None:
        self._conn.close()

    def set_period(self, opens: str, closes: str) -> None:
        """Record the voting period the server runs with (``close`` checks the closing time)."""
        with transaction(self._conn) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", [("opens", opens), ("closes", closes)]
            )
        self.meta.update(opens=opens, closes=closes)

    # ---- the three steps of a batch ------------------------------------------------------

    def stage(self, batch: bytes, items: Sequence[tuple[bytes, str]]) -> list[Staged]:
        """Step 1: ``(token hash, marks)`` pairs into ``pending`` under ``batch``; committed."""
        staged: list[Staged] = []
        with self._lock, transaction(self._conn) as conn:
            for pos, (h, marks) in enumerate(items):
                key = secrets.token_bytes(KEY_BYTES)
                code = self._fresh_code(conn)
                conn.execute(
                    "INSERT INTO pending (k, batch, pos, h, marks, code) VALUES (?, ?, ?, ?, ?, ?)",
                    (key, batch, pos, h, marks, code),
                )
                staged.append(Staged(key, code))
        return staged

    @staticmethod
    def _fresh_code(conn: sqlite3.Connection) -> str:
        while True:
            code = new_confirmation_code()
            taken = conn.execute(
                "SELECT 1 FROM confirmations WHERE code = ? UNION ALL "
                "SELECT 1 FROM pending WHERE code = ?",
                (code, code),
            ).fetchone()
            if taken is None:
                return code

    def settle(self, batch: bytes, winners: Sequence[bytes]) -> None:
        """Step 3: the winners' ballots and codes recorded, the batch gone from ``pending``.

        Committed with ``synchronous=NORMAL`` (no fsync of its own): it needs none. Everything
        it writes is derived from what steps 1 and 2 made durable — the staged ballot and code,
        and the register's record of which tokens the batch won — so if a crash loses this
        commit, ``recover`` redoes it exactly (same ballots, same codes) before anything else
        reads the box. WAL keeps commits in order: the next durable commit makes it durable too.
        """
        with self._lock:
            self._conn.execute("PRAGMA synchronous = NORMAL")
            try:
                with transaction(self._conn) as conn:
                    self._settle(conn, batch, winners)
            finally:
                self._conn.execute("PRAGMA synchronous = FULL")

    @staticmethod
    def _settle(conn: sqlite3.Connection, batch: bytes, winners: Sequence[bytes]) -> None:
        for key in winners:
            row = conn.execute(
                "SELECT marks, code FROM pending WHERE k = ? AND batch = ?", (key, batch)
            ).fetchone()
            if row is None:
                raise IntegrityError("ballot box: a winning ballot is not pending")
            conn.execute("INSERT INTO ballots (k, marks) VALUES (?, ?)", (key, row[0]))
            conn.execute("INSERT INTO confirmations (code) VALUES (?)", (row[1],))
        conn.execute("DELETE FROM pending WHERE batch = ?", (batch,))

    def recover(self, register_path: Path, only: bytes | None = None) -> tuple[int, int]:
        """Finish every batch a crash left in ``pending`` (or just batch ``only``, when one
        batch failed in a running server): (ballots kept, ballots dropped).

        A pending ballot is kept iff the register shows its token used by its batch id (the
        first of the batch's rows with that token, as ``consume_many_hashes`` decides repeats).
        """
        with self._lock:
            return self._recover(register_path, only)

    def _recover(self, register_path: Path, only: bytes | None) -> tuple[int, int]:
        kept = dropped = 0
        batches = [b for (b,) in self._conn.execute("SELECT DISTINCT batch FROM pending")]
        if only is not None:
            batches = [b for b in batches if b == only]
        if not batches:
            return 0, 0
        with _read_register(register_path) as reg, transaction(self._conn) as conn:
            for batch in batches:
                rows = conn.execute(
                    "SELECT k, h FROM pending WHERE batch = ? ORDER BY pos", (batch,)
                ).fetchall()
                won = _used_by(reg, batch, [h for _, h in rows])
                winners: list[bytes] = []
                for key, h in rows:
                    if h in won:
                        winners.append(key)
                        won.discard(h)  # a repeat of the token in the batch lost
                self._settle(conn, batch, winners)
                kept += len(winners)
                dropped += len(rows) - len(winners)
        return kept, dropped

    # ---- reading -------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Aggregates only: ballots recorded, codes issued, ballots in flight."""
        one = self._conn.execute
        return {
            "ballots": int(one("SELECT count(*) FROM ballots").fetchone()[0]),
            "confirmations": int(one("SELECT count(*) FROM confirmations").fetchone()[0]),
            "pending": int(one("SELECT count(*) FROM pending").fetchone()[0]),
        }

    def connection(self) -> sqlite3.Connection:
        """The box's connection (for sealing, which owns the box)."""
        return self._conn


@contextlib.contextmanager
def _read_register(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to issue/'s register (recovery reads ``used_by``, never writes)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=_BUSY_MS / 1000)
    try:
        yield conn
    finally:
        conn.close()


def _used_by(reg: sqlite3.Connection, batch: bytes, hashes: Sequence[bytes]) -> set[bytes]:
    """Which of ``hashes`` the register shows used by consume run ``batch``."""
    found: set[bytes] = set()
    unique = sorted(set(hashes))
    for i in range(0, len(unique), 500):
        part = unique[i : i + 500]
        marks = ",".join("?" * len(part))
        found.update(
            h
            for (h,) in reg.execute(
                f"SELECT h FROM tokens WHERE state = 'used' AND used_by = ? AND h IN ({marks})",  # noqa: S608
                (batch, *part),
            )
        )
    return found


def status(box_dir: Path) -> dict[str, object]:
    """Aggregates of a live or sealed box, read without taking it over (``omov vote status``)."""
    from omov.textio import read_json

    if is_sealed(box_dir):
        seal = read_json(box_dir / SEAL, "box seal")
        return {"ballots": seal["ballots"], "pending": 0, "sealed": True, "seal": seal}
    path = box_dir / LIVE
    if not path.is_file():
        raise UsageError(f"{box_dir} holds no ballot box ({LIVE} is missing)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=_BUSY_MS / 1000)
    try:
        box = BallotBox(conn, box_dir, {})
        counts = box.counts()
        meta = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}
    finally:
        conn.close()
    return {
        "ballots": counts["ballots"],
        "pending": counts["pending"],
        "sealed": False,
        "election": meta.get("election", ""),
        "opens": meta.get("opens", ""),
        "closes": meta.get("closes", ""),
    }
