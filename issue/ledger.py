"""The issuance ledger (scrutineer only): which person pseudonym holds which token hash.

This is omov's "corresponding-number list": the only place that links people to tokens, keyed
by ``HMAC(K_member, person_id)`` (``issue.keys.MemberKey``), never by name or person id. It is a
separate SQLite file from the register so the counter can be given the register without it.

Tables (constraints enforced by SQLite, not only by Python):

* ``batches(batch, kind, state, created_at, n_issued, n_revoked, reason)`` — one row per issue,
  re-issue or revoke operation; ``state`` walks ``pending → committed → dispatched`` (or
  ``aborted`` when crash recovery rolls a batch back). ``pending`` is the write-ahead intent that
  makes the two-file update crash-safe (see ``issue.issuer``).
* ``issuance(pid, h, batch, channel, status, revoked_batch, revoked_reason)`` — a plain rowid
  table (rows append at the end; they are inserted in pid order so the pid index also grows at
  its right edge: 1M rows in a couple of seconds). ``h`` is unique through the register, whose
  primary key it is (a batch whose hash collides is refused there and rolled back, so the ledger
  cannot keep it); a partial UNIQUE index allows at most one ``active`` row per ``pid`` and
  another at most one ``pending`` row per ``pid`` (a re-issue's new token waits as
  ``pending`` while the old one is
  still active, and both flip in one transaction).

Rows of an ``issue`` batch are inserted ``active`` straight away (the person has no other active
token, so the unique index holds) but count as issued only once their batch is committed;
recovery runs before anything reads the ledger, so readers never see a pending batch.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from issue.keys import MemberKey
from issue.register import connect, insert_rows, sort_order
from omov.errors import IntegrityError, UsageError
from omov.fileio import create_private_file

FORMAT_VERSION = "omov.ledger/1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
    batch      INTEGER PRIMARY KEY CHECK (batch >= 1),
    kind       TEXT NOT NULL CHECK (kind IN ('issue', 'reissue', 'revoke')),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'committed', 'dispatched', 'aborted')),
    created_at TEXT NOT NULL,
    n_issued   INTEGER NOT NULL,
    n_revoked  INTEGER NOT NULL,
    reason     TEXT
);
CREATE TABLE IF NOT EXISTS issuance (
    pid            BLOB NOT NULL CHECK (length(pid) = 32),
    h              BLOB NOT NULL CHECK (length(h) = 32),
    batch          INTEGER NOT NULL REFERENCES batches (batch),
    channel        TEXT NOT NULL CHECK (channel IN ('email', 'post')),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
    revoked_batch  INTEGER REFERENCES batches (batch),
    revoked_reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_active_token_per_person ON issuance (pid)
    WHERE status = 'active';
CREATE UNIQUE INDEX IF NOT EXISTS one_pending_token_per_person ON issuance (pid)
    WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS issuance_by_revoked_batch ON issuance (revoked_batch)
    WHERE revoked_batch IS NOT NULL;
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Batch:
    batch: int
    kind: str
    state: str
    n_issued: int
    n_revoked: int
    reason: str | None


class Ledger:
    """The open ledger of one election (scrutineer only)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path, key: MemberKey, *, create: bool = False) -> Ledger:
        if not create and not path.is_file():
            raise UsageError(f"ledger {path} does not exist", fix="run `omov issue run` first")
        if create:
            create_private_file(path)  # 0600 (and so its -wal/-shm) whatever the umask
        conn = connect(path)
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            if create:
                conn.executescript(_SCHEMA)
                conn.execute("BEGIN IMMEDIATE")
                for k, v in (
                    ("format_version", FORMAT_VERSION),
                    ("election", key.election),
                    ("member_key_check", key.check_value),
                ):
                    conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (k, v))
                conn.execute("COMMIT")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise UsageError(f"ledger {path} is not an omov ledger ({exc})") from None
        if meta.get("election") != key.election or meta.get("member_key_check") != key.check_value:
            conn.close()
            raise IntegrityError(
                f"ledger {path} belongs to election {meta.get('election')!r} or another member key"
            )
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ reading

    def batches(self, states: Iterable[str] | None = None) -> list[Batch]:
        rows = self.conn.execute(
            "SELECT batch, kind, state, n_issued, n_revoked, reason FROM batches ORDER BY batch"
        ).fetchall()
        wanted = set(states) if states is not None else None
        return [Batch(*r) for r in rows if wanted is None or r[2] in wanted]

    def next_batch(self) -> int:
        (top,) = self.conn.execute("SELECT coalesce(max(batch), 0) FROM batches").fetchone()
        return int(top) + 1

    def active(self) -> dict[bytes, bytes]:
        """pid → hash of the active token, for committed batches (call after recovery)."""
        return dict(self.conn.execute("SELECT pid, h FROM issuance WHERE status = 'active'"))

    def barred(self, no_ballot: Iterable[str]) -> dict[bytes, str]:
        """pid → reason, for persons whose latest revocation was for a reason in ``no_ballot``
        and who hold no active or pending token now (a re-issue lifts the bar)."""
        ends = set(no_ballot)
        last: dict[bytes, str] = {}
        for pid, reason in self.conn.execute(
            "SELECT pid, revoked_reason FROM issuance WHERE status = 'revoked' "
            "ORDER BY revoked_batch"
        ):
            last[bytes(pid)] = str(reason)
        candidates = [p for p, r in last.items() if r in ends]
        holding: set[bytes] = set()
        for i in range(0, len(candidates), 500):
            part = candidates[i : i + 500]
            marks = ",".join("?" * len(part))
            for status in ("active", "pending"):  # each has its own partial unique index
                holding.update(
                    bytes(p)
                    for (p,) in self.conn.execute(
                        f"SELECT pid FROM issuance WHERE status = '{status}' "  # noqa: S608
                        f"AND pid IN ({marks})",
                        part,
                    )
                )
        return {p: last[p] for p in candidates if p not in holding}

    def batch_hashes(self, batch: int) -> list[bytes]:
        """Token hashes issued in ``batch`` (any status)."""
        return [h for (h,) in self.conn.execute("SELECT h FROM issuance WHERE batch = ?", (batch,))]

    def batch_pids(self, batch: int) -> list[bytes]:
        sql = "SELECT pid FROM issuance WHERE batch = ?"
        return [p for (p,) in self.conn.execute(sql, (batch,))]

    def revoked_in(self, batch: int) -> list[tuple[bytes, bytes]]:
        """(pid, h) of tokens revoked (or to be revoked) by ``batch``."""
        return list(
            self.conn.execute(
                "SELECT pid, h FROM issuance WHERE revoked_batch = ?", (batch,)
            ).fetchall()
        )

    def counts(self) -> dict[str, int]:
        """Aggregates only (no per-person rows)."""
        out = {"active": 0, "revoked": 0, "pending": 0}
        for status, n in self.conn.execute("SELECT status, count(*) FROM issuance GROUP BY status"):
            out[str(status)] = int(n)
        for channel, n in self.conn.execute(
            "SELECT channel, count(*) FROM issuance WHERE status = 'active' GROUP BY channel"
        ):
            out[f"active_{channel}"] = int(n)
        return out

    # ------------------------------------------------------------------ writing

    def begin_batch(
        self,
        batch: int,
        kind: str,
        rows: Sequence[tuple[bytes, bytes, str]],
        *,
        revoke: Sequence[bytes] = (),
        reason: str | None = None,
        new_status: str = "active",
    ) -> None:
        """Tx A: record the batch as pending with its new rows (pid, h, channel) and mark the
        active tokens of persons ``revoke`` (pids) as to-be-revoked by this batch."""
        conn = self.conn
        conn.execute("PRAGMA cache_size = -8192")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO batches VALUES (?, ?, 'pending', ?, ?, ?, ?)",
                (batch, kind, _now(), len(rows), len(revoke), reason),
            )
            for pid in revoke:
                cur = conn.execute(
                    "UPDATE issuance SET revoked_batch = ?, revoked_reason = ? "
                    "WHERE pid = ? AND status = 'active' AND revoked_batch IS NULL",
                    (batch, reason, pid),
                )
                if cur.rowcount != 1:
                    raise IntegrityError("a person to revoke has no active token in the ledger")
            insert_rows(
                conn,
                "INSERT INTO issuance (pid, h, batch, channel, status) VALUES ",
                f"(?, ?, {int(batch)}, ?, '{new_status}')",
                [rows[i] for i in sort_order([r[0] for r in rows])],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def commit_batch(self, batch: int) -> None:
        """Tx C: the register has the batch's tokens, so make it count."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "UPDATE issuance SET status = 'revoked' "
                "WHERE revoked_batch = ? AND status = 'active'",
                (batch,),
            )
            conn.execute(
                "UPDATE issuance SET status = 'active' WHERE batch = ? AND status = 'pending'",
                (batch,),
            )
            conn.execute(
                "UPDATE batches SET state = 'committed' WHERE batch = ? AND state = 'pending'",
                (batch,),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def abort_batch(self, batch: int) -> None:
        """Roll back a pending batch whose register transaction never happened."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "UPDATE issuance SET revoked_batch = NULL, revoked_reason = NULL "
                "WHERE revoked_batch = ? AND status = 'active'",
                (batch,),
            )
            conn.execute("DELETE FROM issuance WHERE batch = ?", (batch,))
            conn.execute(
                "UPDATE batches SET state = 'aborted', n_issued = 0, n_revoked = 0 "
                "WHERE batch = ? AND state = 'pending'",
                (batch,),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def mark_dispatched(self, batch: int) -> None:
        self.conn.execute(
            "UPDATE batches SET state = 'dispatched' WHERE batch = ? AND state = 'committed'",
            (batch,),
        )
