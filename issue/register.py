"""The vote register: token hashes and their state, nothing about persons.

Public API (stable; the ballot intake in ``vote/`` uses exactly this; open it for intake or
serving with ``issue.freshness.open_current`` so a stale copy is refused)::

    from issue.register import Register, WON, USED, REVOKED, UNKNOWN, INVALID
    reg = Register.open(Path("out/issue/register.sqlite"), Path("out/issue/vote.key"))
    reg.check("ABCD-…")            -> "unused" | "used" | "revoked" | "unknown"
    reg.consume("ABCD-…")          -> "won" | "used" | "revoked" | "unknown"
    reg.consume_many(tokens)       -> list of "won" | "used" | "revoked" | "unknown" | "invalid"
    reg.consume_many_hashes(hs)    -> same, for 32-byte hashes from ``reg.token_hash(canonical)``
    reg.consume_many_hashes(hs, run_id=rid)  -> also "reclaimed" (see "Intake runs" below)
    reg.counts()                   -> {"unused": n, "used": n, "revoked": n}
    reg.used_by_run(rid), reg.unuse_run(rid)  -> void an intake run (its tokens unused again)
    reg.generation()               -> issuer batches that changed it (stale-copy check)
    reg.close()                    (or use it as a context manager)

Throughput: ``consume_many_hashes`` works in transactions of up to ``CHUNK`` (200 000) hashes,
sorted, one ``UPDATE … WHERE state='unused' AND h IN (…500…) RETURNING h`` per 500; every
commit rewrites most pages of a large register, so pass big batches (≥ 100 000) for speed:
950 000 tokens took 5.8–11.7 s on a loaded 2-core machine (bench/bench_issue.py --consume).

Intake runs (``used_by``, format ``omov.register/2``). Every token marked used records *which
consume run* did it: ``UPDATE tokens SET state='used', used_by=:run WHERE … state='unused'``, in
the same statement that wins it. ``run_id`` is 16 random bytes the caller chose (``secrets``); a
call without one gets a fresh random id of its own, so nothing can ever reclaim its tokens. When
the same ``run_id`` is passed again, a token that run had already won is answered "reclaimed"
instead of "used": the intake that was killed after consuming but before writing its ballots
resumes and counts them (vote/intake_journal.py keeps the run in a journal beside its outputs).
Why a column and not a side table of (hash, run): it is set in the same UPDATE that wins the
token, so "won" and "won by run R" can never disagree after a crash, and it costs no extra
statement. What it tells: that an intake run (a random id, not a person, time or order) used the
token; the intake's channel files, which the scrutineer already holds, tell more.

The database enforces it too: ``used_by`` is NULL unless ``state`` is used (CHECK), a trigger
refuses an UPDATE that makes a token used without a 16-byte ``used_by`` (or sets one otherwise),
and ``tokens_one_way`` already forbids any change to a used row, so ``used_by`` never changes
once set. Tokens used before the column existed keep ``used_by`` NULL: no run can reclaim them.

Old registers (``omov.register/1``) open and read as before; the first consume migrates them in
one IMMEDIATE transaction (``ALTER TABLE … ADD COLUMN``: no rows are rewritten, milliseconds even
at 1M tokens; a concurrent migrator waits and then finds the work done). Older omov code refuses a
migrated register clearly ("not an omov.register/1 database") rather than consume without a run.

``check``/``consume`` raise ``issue.tokens.TokenFormatError`` (exit 2) for a malformed token;
``consume_many`` reports "invalid" for those instead, so one bad ballot never stops an intake.
"won" means *this call* marked the token used: count the ballot. "reclaimed" (only with a
``run_id``) means an earlier call with the same run id did: the caller counts it if and only if
it never wrote that ballot out. Anything else means do not count.

Why it is safe with two intake processes at once: each consume runs ``BEGIN IMMEDIATE`` (takes
the write lock before reading), then ``UPDATE tokens SET state='used', used_by=? WHERE h IN
(…) AND state='unused' RETURNING h``; only the process whose UPDATE changed a row won (a
"reclaimed" answer needs the row's ``used_by`` to be the caller's own run id, which no other
process is given). ``consume_many`` works per chunk: inside one IMMEDIATE transaction it updates
the unused ones and reads the rest's states, so no other writer can interleave. WAL lets
readers (``check``, ``status``) run alongside, and ``busy_timeout`` makes writers queue instead
of failing. ``synchronous=FULL`` so a "won" that
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

from issue.keys import VoteKey, load_vote_key
from issue.register_schema import (
    _ADD_USED_BY,
    _CACHE_KIB,
    _ONE_WAY_TRIGGER,
    _USED_BY_TRIGGER,
    CHUNK,
    FORMAT_VERSION,
    INVALID,
    LEGACY_FORMAT_VERSION,
    RECLAIMED,
    REVOKED,
    RUN_ID_BYTES,
    UNKNOWN,
    UNUSED,
    USED,
    WON,
    _create,
    _run_id,
    connect,
    insert_rows,
    new_run_id,
    sort_order,
)
from issue.tokens import TokenFormatError, normalise_token
from omov.errors import IntegrityError, UsageError
from omov.fileio import create_private_file

#: The register's API; the constants and helpers live in ``issue.register_schema``.
__all__ = [
    "CHUNK",
    "FORMAT_VERSION",
    "INVALID",
    "LEGACY_FORMAT_VERSION",
    "RECLAIMED",
    "REVOKED",
    "RUN_ID_BYTES",
    "UNKNOWN",
    "UNUSED",
    "USED",
    "WON",
    "Register",
    "connect",
    "insert_rows",
    "new_run_id",
    "sort_order",
]


class Register:
    """An open register for one election (see the module docstring for the API)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        key: VoteKey,
        path: Path,
        format_version: str = FORMAT_VERSION,
    ) -> None:
        self._conn = conn
        self.key = key
        self.path = path
        self.format_version = format_version

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(cls, path: Path, key: VoteKey | Path, *, create: bool = False) -> Register:
        """Open ``path`` with K_vote (a ``VoteKey`` or the path of ``vote.key``).

        ``create=True`` (issuing only) makes the database and stamps it with the election and the
        key check value; otherwise a missing file is a usage error and a foreign key is refused.
        An ``omov.register/1`` file opens as it is (reading never changes it); the first consume
        migrates it (see the module docstring).
        """
        vote_key = load_vote_key(key) if isinstance(key, Path) else key
        if not create and not path.is_file():
            raise UsageError(f"register {path} does not exist")
        if create:
            create_private_file(path)  # 0600 (and so its -wal/-shm) whatever the umask
        conn = connect(path)
        try:
            if create:
                _create(conn, vote_key)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise UsageError(f"register {path} is not an omov register ({exc})") from None
        version = meta.get("format_version")
        if version not in (FORMAT_VERSION, LEGACY_FORMAT_VERSION):
            conn.close()
            raise UsageError(
                f"register {path} is not an {FORMAT_VERSION} database (it says {version!r})",
                fix="use the register.sqlite written by `omov issue run`; a newer "
                "format needs a newer omov",
            )
        if meta.get("election") != vote_key.election or meta.get("vote_key_check") != (
            vote_key.check_value
        ):
            conn.close()
            raise IntegrityError(
                f"register {path} was made for election {meta.get('election')!r} with another "
                "vote key; this key cannot check its tokens",
                fix="use the vote.key written beside this register by `omov issue run`",
            )
        return cls(conn, vote_key, path, str(version))

    def migrate(self) -> None:
        """Bring an ``omov.register/1`` file to ``/2`` (add ``used_by``); no-op if already done.

        One IMMEDIATE transaction (SQLite DDL is transactional): a crash leaves v1 or v2, never
        half. The version is re-read under the write lock, so two migrators do it once.
        """
        if self.format_version == FORMAT_VERSION:
            return
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
            if row is not None and row[0] == LEGACY_FORMAT_VERSION:
                conn.execute(_ADD_USED_BY)
                conn.execute(_USED_BY_TRIGGER)
                conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'format_version'", (FORMAT_VERSION,)
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.format_version = FORMAT_VERSION

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
        """ "unused" | "used" | "revoked" | "unknown" for a token as typed."""
        return self.check_hash(self.token_hash(token))

    def states(self, hashes: Sequence[bytes]) -> dict[bytes, str]:
        """States of many hashes (absent ones are left out)."""
        found: dict[bytes, str] = {}
        for i in range(0, len(hashes), 500):
            part = list(hashes[i : i + 500])
            marks = ",".join("?" * len(part))
            for h, state in self._conn.execute(
                f"SELECT h, state FROM tokens WHERE h IN ({marks})",  # noqa: S608
                part,
            ):
                found[h] = state
        return found

    def counts(self) -> dict[str, int]:
        """Aggregates only: how many tokens are unused, used, revoked."""
        out = {UNUSED: 0, USED: 0, REVOKED: 0}
        for state, n in self._conn.execute("SELECT state, count(*) FROM tokens GROUP BY state"):
            out[str(state)] = int(n)
        return out

    def used_per_run(self) -> dict[str, int]:
        """Used tokens per intake run id (hex); tokens used before run ids existed are left out."""
        sql = "SELECT hex(used_by), count(*) FROM tokens WHERE state = 'used' GROUP BY used_by"
        if self.format_version != FORMAT_VERSION:
            return {}
        return {str(r).lower(): int(n) for r, n in self._conn.execute(sql) if r}

    # ---------------------------------------------------------------- consuming

    def consume_hash(self, h: bytes, *, run_id: bytes | None = None) -> str:
        """Mark one token hash used if it is unused; "won" only for the call that did it
        ("reclaimed" if an earlier call with this ``run_id`` did)."""
        return self.consume_many_hashes([h], run_id=run_id)[0]

    def consume(self, token: str, *, run_id: bytes | None = None) -> str:
        """Consume a token as typed: "won" | "used" | "revoked" | "unknown" (| "reclaimed")."""
        return self.consume_hash(self.token_hash(token), run_id=run_id)

    def consume_many_hashes(
        self, hashes: Sequence[bytes], *, chunk: int = CHUNK, run_id: bytes | None = None
    ) -> list[str]:
        """Consume many hashes in IMMEDIATE transactions of ``chunk``; one outcome per item.

        Each hash won is marked used *by* ``run_id`` (16 bytes; a fresh random one if None). A
        hash this run id had already won is "reclaimed". A hash repeated within the call wins
        (or is reclaimed) at most once, at its first occurrence; the repeats are "used".
        """
        run = _run_id(run_id)
        self.migrate()
        outcomes: list[str] = []
        taken: set[bytes] = set()  # won or reclaimed by this call: a repeat is "used"
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
                    won.update(
                        h
                        for (h,) in conn.execute(
                            "UPDATE tokens SET state = 'used', used_by = ? "  # noqa: S608
                            f"WHERE state = 'unused' AND h IN ({marks}) RETURNING h",
                            (run, *sub),
                        )
                    )
                states = self._states_for_run([h for h in ordered if h not in won], run)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            states.update(dict.fromkeys(won, WON))
            for h in part:
                state = states.get(h, UNKNOWN)
                if state in (WON, RECLAIMED):
                    if h in taken:
                        state = USED  # a repeat later in the call
                    else:
                        taken.add(h)
                outcomes.append(state)
        return outcomes

    def _states_for_run(self, hashes: Sequence[bytes], run: bytes) -> dict[bytes, str]:
        """States of hashes not won now; "reclaimed" where ``run`` had used them before."""
        found: dict[bytes, str] = {}
        for i in range(0, len(hashes), 500):
            part = list(hashes[i : i + 500])
            marks = ",".join("?" * len(part))
            for h, state, mine in self._conn.execute(
                f"SELECT h, state, used_by = ? FROM tokens WHERE h IN ({marks})",  # noqa: S608
                (run, *part),
            ):
                found[h] = RECLAIMED if mine else state
        return found

    def consume_many(
        self, tokens: Iterable[str | bytes], *, chunk: int = CHUNK, run_id: bytes | None = None
    ) -> list[str]:
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
        results = iter(self.consume_many_hashes(valid, chunk=chunk, run_id=run_id))
        return [INVALID if h is None else next(results) for h in hashes]

    def used_by_run(self, run_id: bytes) -> int:
        """How many tokens the consume run ``run_id`` marked used."""
        sql = "SELECT count(*) FROM tokens WHERE used_by = ?"
        return int(self._conn.execute(sql, (_run_id(run_id),)).fetchone()[0])

    def unuse_run(self, run_id: bytes, *, expected: int | None = None) -> int:
        """Void an intake run: every token ``run_id`` used is unused again; returns how many.

        One IMMEDIATE transaction; the one-way trigger is dropped and re-created inside it (DDL
        is transactional). ``expected``: IntegrityError, nothing changed, unless that many."""
        run = _run_id(run_id)
        self.migrate()
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DROP TRIGGER tokens_one_way")
            sql = "UPDATE tokens SET state = 'unused', used_by = NULL WHERE used_by = ?"
            n = conn.execute(sql, (run,)).rowcount
            conn.execute(_ONE_WAY_TRIGGER)
            if expected is not None and n != expected:
                raise IntegrityError(f"{n} tokens used by this run, expected {expected}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(n)

    # ------------------------------------------------------- issuing (scrutineer)

    def add_unused(
        self,
        hashes: Sequence[bytes],
        *,
        revoke: Sequence[bytes] = (),
        sorted_input: bool = False,
        before_commit: Callable[[], None] | None = None,
        advance_generation: bool = False,
    ) -> int:
        """One transaction: insert ``hashes`` as unused and revoke ``revoke`` (which must all be
        unused now). IntegrityError (and nothing written) if any to revoke is not unused.
        ``before_commit`` runs inside the transaction just before COMMIT; if it raises, nothing
        is written (the issuer waits there for its ledger and dispatch steps).
        ``advance_generation`` (every issuer batch) adds one to the register's generation in the
        same transaction; returns the generation after the commit (see ``generation``).
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
            generation = self.generation() + int(advance_generation)
            if advance_generation:
                conn.execute(
                    "INSERT INTO meta VALUES ('generation', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(generation),),
                )
            if before_commit is not None:
                before_commit()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute(f"PRAGMA cache_size = {_CACHE_KIB}")
        return generation

    def generation(self) -> int:
        """How many issuer batches (issue, re-issue, revoke) changed this register; 0 for a
        register no batch wrote. The audit log records each batch's generation, so a copy taken
        before the latest batch is older than the log says (``issue.freshness``)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def contains_all(self, hashes: Sequence[bytes]) -> bool:
        """True iff every hash is in the register (used by crash recovery)."""
        return len(self.states(hashes)) == len(set(hashes))
