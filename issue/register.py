"""The vote register: token hashes and their state, nothing about persons.

Public API (stable; the ballot intake in ``count/`` uses exactly this)::

    from issue.register import Register, WON, USED, REVOKED, UNKNOWN, INVALID
    reg = Register.open(Path("out/issue/register.sqlite"), Path("out/issue/vote.key"))
    reg.check("ABCD-…")            -> "unused" | "used" | "revoked" | "unknown"
    reg.consume("ABCD-…")          -> "won" | "used" | "revoked" | "unknown"
    reg.consume_many(tokens)       -> list of "won" | "used" | "revoked" | "unknown" | "invalid"
    reg.consume_many_hashes(hs)    -> same, for 32-byte hashes from ``reg.token_hash(canonical)``
    reg.counts()                   -> {"unused": n, "used": n, "revoked": n}
    reg.close()                    (or use it as a context manager)

Throughput: ``consume_many_hashes`` works in transactions of up to ``CHUNK`` (200 000) hashes,
sorted, one ``UPDATE … WHERE state='unused' AND h IN (…500…) RETURNING h`` per 500; every
commit rewrites most pages of a large register, so pass big batches (≥ 100 000) for speed:
950 000 tokens took 5.8–11.7 s on a loaded 2-core machine (bench/bench_issue.py --consume).

``check``/``consume`` raise ``issue.tokens.TokenFormatError`` (exit 2) for a malformed token;
``consume_many`` reports "invalid" for those instead, so one bad ballot never stops an intake.
"won" means *this call* marked the token used: count the ballot. Anything else means do not.

Why it is safe with two intake processes at once: each consume runs ``BEGIN IMMEDIATE`` (takes
the write lock before reading), then ``UPDATE tokens SET state='used' WHERE h=? AND
state='unused'``; only the process whose UPDATE changed a row won. ``consume_many`` does the same
per chunk: inside one IMMEDIATE transaction it reads the chunk's states and updates the unused
ones, so no other writer can interleave. WAL lets readers (``check``, ``status``) run alongside,
and ``busy_timeout`` makes writers queue instead of failing. ``synchronous=FULL`` so a "won" that
was reported is on disk before the ballot is counted.

The database enforces the rules itself, not only Python: ``h`` is a 32-byte BLOB primary key
(unique), ``state`` is CHECKed to the three values, triggers forbid deleting a row, inserting one
that is not unused, and any state change other than unused → used or unused → revoked.

Only ``HMAC-SHA256(K_vote, "omov/v1" ‖ election ‖ token)`` is stored (see ``issue.keys``), so the
register file holds no token and no person identifier; opening it needs ``vote.key`` (K_vote
only), never the member key or the ledger.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from issue.keys import VoteKey, load_vote_key
from issue.tokens import TokenFormatError, normalise_token
from omov.errors import IntegrityError, UsageError

FORMAT_VERSION = "omov.register/1"
UNUSED, USED, REVOKED, UNKNOWN = "unused", "used", "revoked", "unknown"
WON, INVALID = "won", "invalid"
CHUNK = 200_000  # rows per transaction: each commit rewrites most pages of a big register
_BUSY_MS = 60_000
_CACHE_KIB = -65536  # negative: KiB, so 64 MiB

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
    h     BLOB PRIMARY KEY CHECK (typeof(h) = 'blob' AND length(h) = 32),
    state TEXT NOT NULL DEFAULT 'unused' CHECK (state IN ('unused', 'used', 'revoked'))
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS tokens_never_deleted BEFORE DELETE ON tokens
BEGIN SELECT RAISE(ABORT, 'omov register: rows are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS tokens_born_unused BEFORE INSERT ON tokens
WHEN NEW.state <> 'unused'
BEGIN SELECT RAISE(ABORT, 'omov register: a token is inserted unused'); END;
CREATE TRIGGER IF NOT EXISTS tokens_one_way BEFORE UPDATE ON tokens
WHEN NEW.h IS NOT OLD.h OR OLD.state <> 'unused' OR NEW.state NOT IN ('used', 'revoked')
BEGIN SELECT RAISE(ABORT, 'omov register: only unused -> used or unused -> revoked'); END;
"""


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (we BEGIN explicitly), WAL, patient when busy."""
    conn = sqlite3.connect(
        path, isolation_level=None, timeout=_BUSY_MS / 1000, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA cache_size = {_CACHE_KIB}")  # a 1M-token register fits in cache
    return conn


def insert_rows(
    conn: sqlite3.Connection, head: str, row_sql: str, rows: Sequence[Any],
    per_statement: int = 200,
) -> None:
    """Insert many rows with multi-row ``VALUES`` statements (inside the caller's transaction).

    Why: one statement per row costs a Python→SQLite round trip each; 200 rows per statement
    halves the time of a 1M-row issue. ``head`` is "INSERT INTO t (cols) VALUES ", ``row_sql``
    one row's placeholders, e.g. "(?, ?)". ``rows`` are tuples, or bare values for one column.
    """
    if not rows:
        return
    tupled = isinstance(rows[0], tuple)
    width = len(rows[0]) if tupled else 1
    flat = [v for r in rows for v in r] if tupled else rows
    step = per_statement * width
    full = len(flat) - len(flat) % step
    if full:
        sql = head + ", ".join([row_sql] * per_statement)
        conn.executemany(sql, (tuple(flat[i : i + step]) for i in range(0, full, step)))
    if full < len(flat):
        rest = tuple(flat[full:])
        conn.execute(head + ", ".join([row_sql] * (len(rest) // width)), rest)


def sort_order(keys: Sequence[bytes]) -> list[int]:
    """Indices that sort 32-byte keys (numpy: ~5x faster than ``sorted`` for 1M keys).

    Why sort: rows inserted in key order append to the B-tree's right edge instead of splitting
    pages all over it.
    """
    import numpy as np

    if not keys:
        return []
    return np.argsort(np.array(keys, dtype="S32"), kind="stable").tolist()  # type: ignore[no-any-return]


class Register:
    """An open register for one election (see the module docstring for the API)."""

    def __init__(self, conn: sqlite3.Connection, key: VoteKey, path: Path) -> None:
        self._conn = conn
        self.key = key
        self.path = path

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(cls, path: Path, key: VoteKey | Path, *, create: bool = False) -> Register:
        """Open ``path`` with K_vote (a ``VoteKey`` or the path of ``vote.key``).

        ``create=True`` (issuing only) makes the database and stamps it with the election and the
        key check value; otherwise a missing file is a usage error and a foreign key is refused.
        """
        vote_key = load_vote_key(key) if isinstance(key, Path) else key
        if not create and not path.is_file():
            raise UsageError(f"register {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path)
        try:
            if create:
                conn.executescript(_SCHEMA)
                conn.execute("BEGIN IMMEDIATE")
                for k, v in (
                    ("format_version", FORMAT_VERSION),
                    ("election", vote_key.election),
                    ("vote_key_check", vote_key.check_value),
                ):
                    conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (k, v))
                conn.execute("COMMIT")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise UsageError(f"register {path} is not an omov register ({exc})") from None
        if meta.get("format_version") != FORMAT_VERSION:
            conn.close()
            raise UsageError(f"register {path} is not an {FORMAT_VERSION} database")
        if meta.get("election") != vote_key.election or meta.get("vote_key_check") != (
            vote_key.check_value
        ):
            conn.close()
            raise IntegrityError(
                f"register {path} was made for election {meta.get('election')!r} with another "
                "vote key; this key cannot check its tokens",
                fix="use the vote.key written beside this register by `omov issue run`",
            )
        return cls(conn, vote_key, path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Register:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ hashing

    def token_hash(self, token: str) -> bytes:
        """The register key of a token as typed (normalised first; TokenFormatError if bad)."""
        return self.key.token_hash(normalise_token(token))

    # ----------------------------------------------------------------- reading

    def check_hash(self, h: bytes) -> str:
        row = self._conn.execute("SELECT state FROM tokens WHERE h = ?", (h,)).fetchone()
        return str(row[0]) if row else UNKNOWN

    def check(self, token: str) -> str:
        """"unused" | "used" | "revoked" | "unknown" for a token as typed."""
        return self.check_hash(self.token_hash(token))

    def states(self, hashes: Sequence[bytes]) -> dict[bytes, str]:
        """States of many hashes (absent ones are left out)."""
        found: dict[bytes, str] = {}
        for i in range(0, len(hashes), 500):
            part = list(hashes[i : i + 500])
            marks = ",".join("?" * len(part))
            for h, state in self._conn.execute(
                f"SELECT h, state FROM tokens WHERE h IN ({marks})", part  # noqa: S608
            ):
                found[h] = state
        return found

    def counts(self) -> dict[str, int]:
        """Aggregates only: how many tokens are unused, used, revoked."""
        out = {UNUSED: 0, USED: 0, REVOKED: 0}
        for state, n in self._conn.execute("SELECT state, count(*) FROM tokens GROUP BY state"):
            out[str(state)] = int(n)
        return out

    # ---------------------------------------------------------------- consuming

    def consume_hash(self, h: bytes) -> str:
        """Mark one token hash used if it is unused; "won" only for the call that did it."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "UPDATE tokens SET state = 'used' WHERE h = ? AND state = 'unused'", (h,))
            outcome = WON if cur.rowcount == 1 else self.check_hash(h)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return outcome

    def consume(self, token: str) -> str:
        """Consume a token as typed: "won" | "used" | "revoked" | "unknown"."""
        return self.consume_hash(self.token_hash(token))

    def consume_many_hashes(self, hashes: Sequence[bytes], *, chunk: int = CHUNK) -> list[str]:
        """Consume many hashes in IMMEDIATE transactions of ``chunk``; one outcome per item.

        A hash repeated within the call wins at most once (the first occurrence).
        """
        outcomes: list[str] = []
        conn = self._conn
        for start in range(0, len(hashes), chunk):
            part = hashes[start : start + chunk]
            # Sorted updates walk the B-tree in key order: far fewer page visits. One
            # UPDATE … RETURNING per 500 hashes marks the winners; only the rest are looked up.
            ordered = sorted(set(part))
            conn.execute("BEGIN IMMEDIATE")
            try:
                won: set[bytes] = set()
                for i in range(0, len(ordered), 500):
                    sub = ordered[i : i + 500]
                    marks = ",".join("?" * len(sub))
                    won.update(h for (h,) in conn.execute(
                        "UPDATE tokens SET state = 'used' WHERE state = 'unused' "  # noqa: S608
                        f"AND h IN ({marks}) RETURNING h", sub))
                states = self.states([h for h in ordered if h not in won])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            states.update(dict.fromkeys(won, UNUSED))  # unused before this call: won below
            for h in part:
                state = states.get(h, UNKNOWN)
                if state == UNUSED:
                    outcomes.append(WON)
                    states[h] = USED  # a repeat later in the call is "used"
                else:
                    outcomes.append(state)
        return outcomes

    def consume_many(self, tokens: Iterable[str | bytes], *, chunk: int = CHUNK) -> list[str]:
        """Consume tokens as typed (or 32-byte hashes); malformed tokens give "invalid"."""
        hashes: list[bytes | None] = []
        for t in tokens:
            if isinstance(t, bytes):
                hashes.append(t)
                continue
            try:
                hashes.append(self.token_hash(t))
            except TokenFormatError:
                hashes.append(None)
        valid = [h for h in hashes if h is not None]
        results = iter(self.consume_many_hashes(valid, chunk=chunk))
        return [INVALID if h is None else next(results) for h in hashes]

    # ------------------------------------------------------- issuing (scrutineer)

    def add_unused(
        self,
        hashes: Sequence[bytes],
        *,
        revoke: Sequence[bytes] = (),
        sorted_input: bool = False,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        """One transaction: insert ``hashes`` as unused and revoke ``revoke`` (which must all be
        unused now). IntegrityError (and nothing written) if any to revoke is not unused.
        ``before_commit`` runs inside the transaction just before COMMIT; if it raises, nothing
        is written (the issuer waits there for its ledger and dispatch steps).
        """
        conn = self._conn
        conn.execute("PRAGMA cache_size = -8192")  # sorted inserts need only the right edge
        conn.execute("BEGIN IMMEDIATE")
        try:
            for h in revoke:
                cur = conn.execute(
                    "UPDATE tokens SET state = 'revoked' WHERE h = ? AND state = 'unused'", (h,)
                )
                if cur.rowcount != 1:
                    state = self.check_hash(h)
                    raise IntegrityError(
                        f"the token to revoke is {state}, not unused: refused"
                        + (" (the person has already voted)" if state == USED else "")
                    )
            rows = hashes if sorted_input else [hashes[i] for i in sort_order(hashes)]
            insert_rows(conn, "INSERT INTO tokens (h) VALUES ", "(?)", rows)
            if before_commit is not None:
                before_commit()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute(f"PRAGMA cache_size = {_CACHE_KIB}")

    def contains_all(self, hashes: Sequence[bytes]) -> bool:
        """True iff every hash is in the register (used by crash recovery)."""
        return len(self.states(hashes)) == len(set(hashes))
