"""The send log: one row per (message, person) on the scrutineer's machine, SQLite, mode 0600.

Why: "I never got my ballot" is the commonest complaint; the scrutineer must be able to say what
happened to every message (queued, sent with the server's reply, refused, failed) and a re-run
must send only what was not sent. It holds person ids and email addresses (personal data) but
never a token: the token is read from the dispatch file at the moment a message is built.

States (``State``): ``queued`` → ``sending`` (in flight: committed *before* the message goes to
the server) → ``sent`` (the server said 250 after DATA) | ``refused`` (a 5xx: permanent, not
retried) | ``failed`` (4xx or dropped connection, retries exhausted: a re-run tries again).
A row still ``sending`` when a run starts was in flight when the last run died: it is sent again
and counted in ``possible_duplicates`` (the same token, so harmless). Messages are marked
``sending`` a window at a time (one fsynced commit per window), so after ``kill -9`` at most one
window is sent twice.

Tables: ``messages`` keyed by (purpose, round, person_id, batch) — purpose ``ballot`` (round 0)
or ``reminder`` (round ≥ 1); a re-issued token has a new batch, so it is a new message.
``undeliverable`` — persons moved to post by ``omov issue bounces`` (why, from what source).
``reminder_rounds`` — when each round ran and how many it sent.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from omov.errors import UsageError

FORMAT_VERSION = "omov.sendlog/1"


class State(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    REFUSED = "refused"
    FAILED = "failed"


class Purpose(StrEnum):
    BALLOT = "ballot"
    REMINDER = "reminder"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    purpose    TEXT NOT NULL CHECK (purpose IN ('ballot', 'reminder')),
    round      INTEGER NOT NULL CHECK (round >= 0),
    person_id  TEXT NOT NULL,
    batch      TEXT NOT NULL,
    email      TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'refused', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    resent     INTEGER NOT NULL DEFAULT 0,
    message_id TEXT,
    reply_code INTEGER,
    reply      TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (purpose, round, person_id, batch)
);
CREATE INDEX IF NOT EXISTS messages_by_state ON messages (state);
CREATE INDEX IF NOT EXISTS messages_by_message_id ON messages (message_id);
CREATE TABLE IF NOT EXISTS undeliverable (
    person_id   TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    source      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    status      TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    moved_to    TEXT
);
CREATE TABLE IF NOT EXISTS reminder_rounds (
    round      INTEGER PRIMARY KEY CHECK (round >= 1),
    started_at TEXT NOT NULL,
    selected   INTEGER NOT NULL
);
"""


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class MessageKey:
    purpose: Purpose
    round: int
    person_id: str
    batch: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one message in this run."""

    key: MessageKey
    state: State
    reply_code: int | None
    reply: str
    message_id: str | None = None


def _create_private(path: Path) -> None:
    """Create the file 0600 whatever the umask (SQLite gives its -wal/-shm the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


class SendLog:
    """An open send log (``SendLog.open(OUT / "sendlog.sqlite")``)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> SendLog:
        _create_private(path)
        conn = sqlite3.connect(path, isolation_level=None, timeout=60, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.executescript(_SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('format_version', ?)", (FORMAT_VERSION,)
            )
            (version,) = conn.execute(
                "SELECT value FROM meta WHERE key = 'format_version'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise UsageError(f"send log {path} is not an omov send log ({exc})") from None
        if version != FORMAT_VERSION:
            conn.close()
            raise UsageError(f"send log {path} is {version!r}, not {FORMAT_VERSION}")
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    def _tx(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(sql, rows)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # -------------------------------------------------------------- queueing

    def enqueue(self, rows: Iterable[tuple[MessageKey, str]]) -> None:
        """Add messages (key, email) not already in the log; existing rows are kept as they are."""
        stamp = now()
        self._tx(
            "INSERT OR IGNORE INTO messages (purpose, round, person_id, batch, email, state, "
            "updated_at) VALUES (?, ?, ?, ?, ?, 'queued', ?)",
            ((k.purpose, k.round, k.person_id, k.batch, e, stamp) for k, e in rows),
        )

    def recover_in_flight(self) -> int:
        """Messages left ``sending`` by a killed run go back to the queue, flagged ``resent``."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            n = self.conn.execute(
                "UPDATE messages SET state = 'queued', resent = resent + 1 WHERE state = 'sending'"
            ).rowcount
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return int(n)

    def pending(self, purpose: Purpose, round_: int, *, retry_failed: bool) -> set[MessageKey]:
        """Keys of this purpose/round still to send (queued; and failed ones on request)."""
        states = ("queued", "failed") if retry_failed else ("queued",)
        marks = ",".join("?" * len(states))
        rows = self.conn.execute(
            "SELECT person_id, batch FROM messages WHERE purpose = ? AND round = ? "  # noqa: S608
            f"AND state IN ({marks})",
            (purpose, round_, *states),
        )
        return {MessageKey(purpose, round_, p, b) for p, b in rows}

    # -------------------------------------------------------------- sending

    def mark_sending(self, keys: Sequence[MessageKey]) -> None:
        """One fsynced commit for a window of messages about to go to the server."""
        stamp = now()
        self._tx(
            "UPDATE messages SET state = 'sending', attempts = attempts + 1, updated_at = ? "
            "WHERE purpose = ? AND round = ? AND person_id = ? AND batch = ?",
            ((stamp, k.purpose, k.round, k.person_id, k.batch) for k in keys),
        )

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """One commit with the outcome of each message of a window."""
        stamp = now()
        self._tx(
            "UPDATE messages SET state = ?, reply_code = ?, reply = ?, "
            "message_id = coalesce(?, message_id), updated_at = ? "
            "WHERE purpose = ? AND round = ? AND person_id = ? AND batch = ?",
            (
                (
                    o.state,
                    o.reply_code,
                    o.reply[:500],
                    o.message_id,
                    stamp,
                    o.key.purpose,
                    o.key.round,
                    o.key.person_id,
                    o.key.batch,
                )
                for o in outcomes
            ),
        )

    # -------------------------------------------------------------- reading

    def counts(self, purpose: Purpose | None = None, round_: int | None = None) -> dict[str, int]:
        """Messages by state (aggregates), optionally for one purpose and round."""
        sql = "SELECT state, count(*) FROM messages WHERE 1 = 1"
        args: list[object] = []
        if purpose is not None:
            sql += " AND purpose = ?"
            args.append(purpose)
        if round_ is not None:
            sql += " AND round = ?"
            args.append(round_)
        out = dict.fromkeys([s.value for s in State], 0)
        for state, n in self.conn.execute(sql + " GROUP BY state", args):
            out[str(state)] = int(n)
        return out

    def resent_count(self, purpose: Purpose, round_: int) -> int:
        (n,) = self.conn.execute(
            "SELECT count(*) FROM messages WHERE purpose = ? AND round = ? AND resent > 0",
            (purpose, round_),
        ).fetchone()
        return int(n)

    def refused(self) -> list[tuple[str, str, int | None, str]]:
        """(person_id, email, reply_code, reply) of ballot messages the server refused (5xx)."""
        return list(
            self.conn.execute(
                "SELECT person_id, email, reply_code, coalesce(reply, '') FROM messages "
                "WHERE purpose = 'ballot' AND state = 'refused' ORDER BY person_id"
            )
        )

    def by_message_id(self) -> dict[str, str]:
        """Message-ID → person_id for every message the server took."""
        return dict(
            self.conn.execute(
                "SELECT message_id, person_id FROM messages WHERE message_id IS NOT NULL"
            )
        )

    def reply_codes(self, purpose: Purpose, round_: int) -> dict[str, int]:
        """How many messages got each reply code (aggregate; for the report)."""
        out: dict[str, int] = {}
        for code, n in self.conn.execute(
            "SELECT coalesce(reply_code, 0), count(*) FROM messages WHERE purpose = ? "
            "AND round = ? AND state IN ('refused', 'failed') GROUP BY 1",
            (purpose, round_),
        ):
            out[str(code) if code else "no reply (connection)"] = int(n)
        return out

    # -------------------------------------------------------------- undeliverable

    def undeliverable(self) -> dict[str, tuple[str, str]]:
        """person_id → (reason, moved_to) for every person marked undeliverable."""
        return {
            p: (r, m or "")
            for p, r, m in self.conn.execute(
                "SELECT person_id, reason, moved_to FROM undeliverable"
            )
        }

    def mark_undeliverable(self, rows: Sequence[tuple[str, str, str, str, str]]) -> int:
        """Add (person_id, email, source, reason, status); a person already marked is kept."""
        stamp = now()
        before = self.conn.total_changes
        self._tx(
            "INSERT OR IGNORE INTO undeliverable (person_id, email, source, reason, status, "
            "detected_at) VALUES (?, ?, ?, ?, ?, ?)",
            ((*r, stamp) for r in rows),
        )
        return self.conn.total_changes - before

    def set_moved(self, person_ids: Sequence[str], where: str) -> None:
        self._tx(
            "UPDATE undeliverable SET moved_to = ? WHERE person_id = ? AND moved_to IS NULL",
            ((where, p) for p in person_ids),
        )

    # -------------------------------------------------------------- reminders

    def last_contact(self) -> dict[str, str]:
        """person_id → when they were last sent a ballot or reminder (ISO UTC)."""
        return dict(
            self.conn.execute(
                "SELECT person_id, max(updated_at) FROM messages WHERE state = 'sent' "
                "GROUP BY person_id"
            )
        )

    def next_round(self) -> int:
        (top,) = self.conn.execute("SELECT coalesce(max(round), 0) FROM reminder_rounds").fetchone()
        return int(top) + 1

    def open_rounds(self) -> list[int]:
        """Reminder rounds with messages not yet sent (a killed round is finished first)."""
        return [
            int(r)
            for (r,) in self.conn.execute(
                "SELECT DISTINCT round FROM messages WHERE purpose = 'reminder' "
                "AND state IN ('queued', 'sending') ORDER BY round"
            )
        ]

    def start_round(self, round_: int, rows: Sequence[tuple[MessageKey, str]]) -> str:
        """Record a reminder round and queue its messages in one transaction (a crash leaves
        either no round or the whole round queued)."""
        stamp = now()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(
                "INSERT INTO reminder_rounds VALUES (?, ?, ?)", (round_, stamp, len(rows))
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO messages (purpose, round, person_id, batch, email, state, "
                "updated_at) VALUES (?, ?, ?, ?, ?, 'queued', ?)",
                ((k.purpose, k.round, k.person_id, k.batch, e, stamp) for k, e in rows),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return stamp


@contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """One sending command per issue directory at a time (two would send the same messages)."""
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / ".delivery.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"another `omov issue send`, `remind` or `bounces` is working on {out}; wait for it"
            ) from None
        yield
    finally:
        os.close(fd)
