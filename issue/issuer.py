"""Issuing, re-issuing and revoking tokens, crash-safely, across register, ledger and dispatch.

Public API (the CLI is a thin layer over these; all return frozen summaries, none print):

* ``issue_run(members, election, out, *, keys=None, vote_url=..., on_roll_change="refuse")``
* ``reissue(person_id, reason, members, out, *, keys=None, vote_url=...)``
* ``revoke(person_id, reason, out, *, keys=None)``
* ``status(out) -> dict`` — aggregates only (never a per-person "voted" flag).
* ``verify_consistency(out, members, *, keys=None) -> list[str]`` — problems found (empty = good).

Files under ``OUT/``: ``register.sqlite`` (counter's), ``vote.key`` (counter's, K_vote only),
``ledger.sqlite`` (scrutineer's), ``keys/scrutineer.key`` (default ``--keys``), ``audit.log``,
``dispatch*`` (see ``issue.dispatch``), ``roll_changes.json`` when the roll changed.

Crash safety. Plaintext tokens are never stored in a database, and the register and ledger are
two SQLite files (so the counter can have one without the other); SQLite in WAL mode does not
commit two files atomically. So every batch (issue, re-issue, revoke) is a small write-ahead
protocol whose every prefix is recoverable:

1. write the batch's dispatch files into ``dispatch/.batch-NNNN.pending/`` and fsync them —
   the plaintext tokens are durable *before* any database knows them;
2. ledger transaction A: the batch row as ``pending`` with its (pid, token hash) rows and the
   revocations it will make;
3. register transaction B: insert the new hashes as unused and revoke the old ones (refused, and
   the batch aborted, if an old one was used meanwhile);
4. audit entry for the batch; ledger transaction C: the batch becomes ``committed``;
5. rename the pending directory to ``dispatch/batch-NNNN``, rebuild the live dispatch files,
   audit entry ``dispatch_written`` (SHA-256 of each file), batch becomes ``dispatched``.

For speed, steps 1 and 2 run in two threads while step 3 fills its transaction; B's COMMIT waits
for both (``Register.add_unused(before_commit=…)``), so the order that matters — plaintext on
disk and A committed before B commits — still holds. A failure anywhere before B commits undoes
A and removes the pending files.

Every command that writes first runs ``recover``: a ``pending`` batch whose hashes are all in
the register (B happened) is rolled forward (C, then 5); one whose hashes are absent is rolled
back (its ledger rows deleted, its pending directory removed: those tokens never existed); a
``committed`` batch gets step 5 (idempotent). Stray pending directories without a batch row (a
crash during step 1) are deleted. So after ``kill -9`` at any moment and a re-run, each eligible
person holds exactly one active token and every dispatch row's token is in the register.
The audit entries that recovery writes are skipped if the log already has them.

Roll changes between runs (dedupe re-run after auditor decisions merges or splits persons): the
ledger's active persons are compared with the roll's eligible persons. *New* persons get tokens
as usual. *Vanished* persons (in the ledger, not eligible in this roll: merged away, split,
made ineligible) are a risk of one real person holding two live tokens, so by default the run
refuses (exit 3) and writes ``roll_changes.json`` (counts and the vanished pseudonyms with their
token state). ``--on-roll-change revoke-vanished`` revokes their unused tokens in the same batch
as the new tokens are issued; if any vanished person's token was already **used**, the run is
refused even then (exit 3), because issuing a token to the merged or split person could let the
same human vote twice: the scrutineer must decide case by case.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from issue import audit, destroy, dispatch
from issue.crashpoints import kill_point
from issue.keys import (
    MemberKey,
    VoteKey,
    check_election_id,
    load_or_create_scrutineer_keys,
    write_vote_key,
)
from issue.ledger import Ledger
from issue.register import USED, Register
from issue.schema import read_roll
from issue.tokens import new_tokens, normalise_token
from omov.errors import IntegrityError, ProblemsFound, UsageError
from omov.fileio import make_private_dirs, sha256_file, write_json_atomic

ROLL_CHANGE_POLICIES = ("refuse", "revoke-vanished")
REASONS = ("lost", "spoilt", "not-received", "stolen", "ineligible", "duplicate", "other")


# ------------------------------------------------------------------ paths, keys, lock


@dataclass(frozen=True)
class Paths:
    """Where one election's files live."""

    out: Path
    keys: Path

    @classmethod
    def of(cls, out: Path, keys: Path | None = None) -> Paths:
        return cls(out, keys if keys is not None else out / "keys" / "scrutineer.key")

    @property
    def register(self) -> Path:
        return self.out / "register.sqlite"

    @property
    def ledger(self) -> Path:
        return self.out / "ledger.sqlite"

    @property
    def vote_key(self) -> Path:
        return self.out / "vote.key"

    @property
    def audit(self) -> Path:
        return self.out / "audit.log"

    @property
    def dispatch(self) -> Path:
        return self.out / "dispatch"

    @property
    def lock(self) -> Path:
        return self.out / ".issue.lock"

    @property
    def roll_changes(self) -> Path:
        return self.out / "roll_changes.json"

    def batch_dir(self, batch: int) -> Path:
        return self.dispatch / f"batch-{batch:04d}"

    def pending_dir(self, batch: int) -> Path:
        return self.dispatch / f".batch-{batch:04d}.pending"


@contextmanager
def _locked(paths: Paths) -> Iterator[None]:
    """One writer per election directory (the intake writes the register, never this lock)."""
    make_private_dirs(paths.out)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"another `omov issue` command is working on {paths.out}; wait for it"
            ) from None
        yield
    finally:
        os.close(fd)


@dataclass
class _Session:
    """Open keys and databases for one command (closed by ``_session``)."""

    paths: Paths
    member_key: MemberKey
    vote_key: VoteKey
    register: Register
    ledger: Ledger
    recovered: list[str] = field(default_factory=list)


def _election_of_key_file(path: Path) -> str:
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["election"])
    except (OSError, ValueError, KeyError):
        raise UsageError(
            f"key file {path} is missing or unreadable", fix="give --keys, or run `omov issue run`"
        ) from None


@contextmanager
def _session(paths: Paths, election: str | None, *, create: bool) -> Iterator[_Session]:
    with _locked(paths):
        if election is None:
            election = _election_of_key_file(paths.keys)
        check_election_id(election)
        if not create and not paths.ledger.exists():
            raise UsageError(f"no ledger in {paths.out}", fix="run `omov issue run` first")
        member_key, vote_key, created = load_or_create_scrutineer_keys(paths.keys, election)
        if created:
            audit.append(
                paths.audit,
                "key_created",
                kind="scrutineer",
                election=election,
                vote_key_check=vote_key.check_value,
                member_key_check=member_key.check_value,
            )
        if write_vote_key(paths.vote_key, vote_key):
            audit.append(
                paths.audit,
                "vote_key_exported",
                election=election,
                vote_key_check=vote_key.check_value,
            )
        register = Register.open(paths.register, vote_key, create=create)
        try:
            ledger = Ledger.open(paths.ledger, member_key, create=create)
        except BaseException:
            register.close()
            raise
        s = _Session(paths, member_key, vote_key, register, ledger)
        try:
            recover(s)
            yield s
        finally:
            register.close()
            ledger.close()


# -------------------------------------------------------------------------- recovery


def _already_logged(log: Path, event: str, batch: int) -> bool:
    if not log.exists():
        return False
    needle = f'"batch":{batch},'
    with open(log, encoding="utf-8") as fh:
        for line in fh:
            if needle in line and f'"event":"{event}"' in line:
                return True
    return False


def _log_once(s: _Session, event: str, batch: int, *, once: bool = True, **fields: Any) -> None:
    """Append ``event`` for ``batch``; with ``once`` (recovery) skip it if the log has it already
    (a crash may have come after the append). The normal path never scans the log."""
    if not once or not _already_logged(s.paths.audit, event, batch):
        audit.append(s.paths.audit, event, batch=batch, **fields)


def recover(s: _Session) -> None:
    """Finish or undo whatever a crashed command left (see the module docstring)."""
    known = set()
    for b in s.ledger.batches():
        known.add(b.batch)
        if b.state == "pending":
            new = s.ledger.batch_hashes(b.batch)
            old = [h for _, h in s.ledger.revoked_in(b.batch)]
            states = s.register.states(new + old)
            present = sum(1 for h in new if h in states)
            revoked = sum(1 for h in old if states.get(h) == "revoked")
            if new and 0 < present < len(new):
                raise IntegrityError(f"batch {b.batch}: register holds only part of its tokens")
            happened = present == len(new) and revoked == len(old) and (new or old)
            if happened:
                _log_batch(s, b.batch, b.kind, len(new), len(old), b.reason, recovered=True)
                s.ledger.commit_batch(b.batch)
                s.recovered.append(f"batch {b.batch}: rolled forward")
            else:
                s.ledger.abort_batch(b.batch)
                shutil.rmtree(s.paths.pending_dir(b.batch), ignore_errors=True)
                _log_once(s, "batch_aborted", b.batch, kind=b.kind)
                s.recovered.append(f"batch {b.batch}: rolled back (never reached the register)")
                continue
        if b.state in ("pending", "committed"):
            _finalise_dispatch(s, b.batch, b.n_issued)
            if b.state == "committed":
                s.recovered.append(f"batch {b.batch}: dispatch files completed")
    if s.paths.dispatch.is_dir():
        for d in s.paths.dispatch.glob(".batch-*.pending"):
            number = int(d.name.split("-")[1].split(".")[0])
            if number not in known:
                shutil.rmtree(d, ignore_errors=True)
                s.recovered.append(f"batch {number}: unfinished dispatch files removed")


def _log_batch(
    s: _Session,
    batch: int,
    kind: str,
    issued: int,
    revoked: int,
    reason: str | None,
    *,
    recovered: bool = False,
) -> None:
    event = {"issue": "issue_batch", "reissue": "reissue", "revoke": "revoke"}[kind]
    _log_once(
        s,
        event,
        batch,
        once=recovered,
        issued=issued,
        revoked=revoked,
        reason=reason,
        recovered=recovered,
    )


def _finalise_dispatch(s: _Session, batch: int, n_issued: int, *, recovering: bool = True) -> None:
    """Step 5: publish the batch's files and bring the live files up to date (idempotent)."""
    pending, final = s.paths.pending_dir(batch), s.paths.batch_dir(batch)
    if n_issued:
        if pending.is_dir() and not final.exists():
            os.replace(pending, final)
            dispatch._fsync_dir(s.paths.dispatch)
        if not final.is_dir():
            raise IntegrityError(
                f"batch {batch}: its dispatch files are missing, so its tokens cannot be sent",
                fix="restore dispatch/ from backup, or revoke and re-issue that batch's persons",
            )

    def drop() -> set[bytes]:
        # Rows of this batch itself are dropped by their batch number; the persons whose older
        # token this batch revoked (re-issue, vanished from the roll) are dropped by pseudonym.
        return {pid for pid, _ in s.ledger.revoked_in(batch)}

    names = ("dispatch_email.csv", "dispatch_post.csv", "letter_preview.html")
    batch_digests = {k: sha256_file(final / k) for k in names} if n_issued else {}
    digests = dispatch.update_live_files(
        s.paths.out,
        final if n_issued else None,
        batch,
        drop,
        s.member_key.pseudonyms,
        batch_digests,
    )
    digests.update({f"batch-{batch:04d}/{k}": v for k, v in batch_digests.items()})
    _log_once(s, "dispatch_written", batch, once=recovering, files=dict(sorted(digests.items())))
    s.ledger.mark_dispatched(batch)


# ------------------------------------------------------------------------ one batch


def _run_batch(
    s: _Session,
    kind: str,
    people: pa.Table,
    pids: list[bytes],
    revoke_pids: list[bytes],
    revoke_hashes: list[bytes],
    reason: str | None,
    vote_url: str,
) -> tuple[int, pa.Array]:
    """Steps 1–5 for one batch; returns its number and each new row's channel."""
    batch = s.ledger.next_batch()
    n = people.num_rows
    kill_point("batch_start")
    tokens = new_tokens(n)
    hashes = s.vote_key.token_hashes(tokens)
    channels = dispatch.channels_of(people.column("email")) if n else pa.array([], pa.string())
    # Constant strings per row (to_pylist() would make a new str object per row).
    is_email = pc.equal(channels, "email").to_pylist()
    rows = [
        (p, h, "email" if e else "post") for p, h, e in zip(pids, hashes, is_email, strict=True)
    ]
    del is_email
    # Steps 1 (dispatch files) and 2 (ledger A) run in threads while step 3 (register B) fills
    # its transaction; B commits only after both finished (``before_commit``), which is all the
    # protocol needs: B committed ⇒ A committed and the plaintext tokens are on disk.
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures: list[Future[Any]] = [
                pool.submit(
                    s.ledger.begin_batch,
                    batch,
                    kind,
                    rows,
                    revoke=revoke_pids,
                    reason=reason,
                    new_status="pending" if kind == "reissue" else "active",
                )
            ]
            if n:
                futures.append(
                    pool.submit(
                        dispatch.write_batch,
                        s.paths.pending_dir(batch),
                        batch,
                        people,
                        tokens,
                        channels,
                        vote_url,
                    )
                )

            def steps_1_and_2_done() -> None:
                for f in futures:
                    f.result()
                kill_point("before_register_commit")

            s.register.add_unused(hashes, revoke=revoke_hashes, before_commit=steps_1_and_2_done)
    except BaseException as exc:
        s.ledger.abort_batch(batch)  # no-op if transaction A never committed
        shutil.rmtree(s.paths.pending_dir(batch), ignore_errors=True)
        if isinstance(exc, IntegrityError):
            _log_once(s, "batch_aborted", batch, kind=kind, why="token to revoke was not unused")
        raise
    del tokens, rows
    kill_point("after_register")
    _log_batch(s, batch, kind, n, len(revoke_pids), reason)
    s.ledger.commit_batch(batch)
    kill_point("after_commit")
    _finalise_dispatch(s, batch, n, recovering=False)
    kill_point("after_dispatch")
    return batch, channels


# ---------------------------------------------------------------------- issue run


@dataclass(frozen=True)
class IssueSummary:
    """What ``issue_run`` did, in aggregates."""

    election: str
    batch: int | None
    persons: int
    eligible: int
    already_held: int
    issued: int
    revoked_vanished: int
    by_channel: dict[str, int]
    recovered: list[str]
    no_contact: int
    audit_head: str


def _roll_change_report(
    s: _Session,
    vanished: list[bytes],
    new: int,
    states: dict[bytes, str],
    active: dict[bytes, bytes],
) -> dict[str, Any]:
    rows = [
        {"pseudonym": p.hex(), "token_state": states.get(active[p], "unknown")}
        for p in sorted(vanished)
    ]
    return {
        "format_version": "omov.roll-changes/1",
        "vanished": len(vanished),
        "vanished_used": sum(1 for r in rows if r["token_state"] == USED),
        "new": new,
        "vanished_persons": rows,
        "explanation": (
            "Persons in the issuance ledger who are not eligible in this roll (merged into "
            "another person, split, or made ineligible) still hold a live token. Re-run with "
            "--on-roll-change revoke-vanished to revoke their unused tokens; a used token needs "
            "the scrutineer's decision."
        ),
    }


def issue_run(
    members: Path,
    election: str,
    out: Path,
    *,
    keys: Path | None = None,
    vote_url: str = dispatch.DEFAULT_VOTE_URL,
    on_roll_change: str = "refuse",
) -> IssueSummary:
    """One token per eligible person without one; idempotent and crash-safe (module docstring)."""
    dispatch.check_vote_url(vote_url)
    if on_roll_change not in ROLL_CHANGE_POLICIES:
        raise UsageError(f"--on-roll-change must be one of {', '.join(ROLL_CHANGE_POLICIES)}")
    check_election_id(election)
    # The system allocator gives freed Arrow buffers back to the OS; mimalloc keeps them, which
    # costs ~150 MB of peak RSS on a 1M-person roll (the process does nothing else).
    pa.set_memory_pool(pa.system_memory_pool())
    roll = read_roll(members)  # validate before creating anything
    paths = Paths.of(out, keys)
    with _session(paths, election, create=True) as s:
        audit.append(
            paths.audit,
            "roll_loaded",
            input_sha256=sha256_file(members),
            persons=roll.persons,
            eligible=roll.eligible,
            input_format_version=roll.format_version,
        )
        person_ids = roll.table.column("person_id").to_pylist()
        pids = s.member_key.pseudonyms(person_ids)
        del person_ids
        active = s.ledger.active()
        roll_pids = set(pids)
        new_idx = [i for i, p in enumerate(pids) if p not in active]
        vanished = [p for p in active if p not in roll_pids]
        n_new = len(new_idx)
        del roll_pids
        revoke_hashes: list[bytes] = []
        if active and (vanished or n_new):
            # A re-run on a changed roll: always say what changed, in counts (and pseudonyms).
            states = s.register.states([active[p] for p in vanished])
            write_json_atomic(
                paths.roll_changes, _roll_change_report(s, vanished, n_new, states, active)
            )
            if not vanished:
                audit.append(
                    paths.audit,
                    "roll_changed",
                    vanished=0,
                    vanished_used=0,
                    new=n_new,
                    policy=on_roll_change,
                )
        if vanished:
            states = s.register.states([active[p] for p in vanished])
            report = _roll_change_report(s, vanished, len(new_idx), states, active)
            write_json_atomic(paths.roll_changes, report)
            audit.append(
                paths.audit,
                "roll_changed",
                vanished=report["vanished"],
                vanished_used=report["vanished_used"],
                new=len(new_idx),
                policy=on_roll_change,
            )
            if on_roll_change == "refuse" or report["vanished_used"]:
                raise ProblemsFound(
                    f"the roll changed since the last run: {len(vanished)} person(s) holding a "
                    f"token are no longer eligible in it ({report['vanished_used']} already "
                    f"voted), {len(new_idx)} are new; nothing was issued. "
                    f"Report: {paths.roll_changes}",
                    fix="check the dedupe changes; then re-run with --on-roll-change "
                    "revoke-vanished"
                    if not report["vanished_used"]
                    else "a vanished person already voted: the scrutineer must resolve it by hand "
                    "(e.g. keep the old person eligible) before anyone new is issued a token",
                )
            revoke_hashes = [active[p] for p in vanished]
        batch = None
        by_channel = {"email": 0, "post": 0}
        no_contact = 0
        if new_idx or vanished:
            people = (
                roll.table
                if len(new_idx) == roll.table.num_rows
                else roll.table.take(pa.array(new_idx, pa.int64()))
            )
            new_pids = [pids[i] for i in new_idx]
            del new_idx, pids
            batch, ch = _run_batch(
                s,
                "issue",
                people,
                new_pids,
                vanished,
                revoke_hashes,
                "roll-change" if vanished else None,
                vote_url,
            )
            if people.num_rows:
                by_channel["email"] = int(pc.sum(pc.equal(ch, "email")).as_py() or 0)
                by_channel["post"] = people.num_rows - by_channel["email"]
                no_addr = pc.and_(
                    pc.equal(ch, "post"),
                    pc.fill_null(
                        pc.equal(
                            pc.utf8_length(pc.utf8_trim_whitespace(people.column("address"))), 0
                        ),
                        True,
                    ),
                )
                no_contact = int(pc.sum(no_addr).as_py() or 0)
        head = audit.append(
            paths.audit,
            "issue_run_done",
            batch=batch,
            issued=n_new,
            revoked=len(vanished),
            eligible=roll.eligible,
            active=len(active) - len(vanished) + n_new,
        )
        return IssueSummary(
            election=election,
            batch=batch,
            persons=roll.persons,
            eligible=roll.eligible,
            already_held=len(active) - len(vanished),
            issued=n_new,
            revoked_vanished=len(vanished),
            by_channel=by_channel,
            recovered=s.recovered,
            no_contact=no_contact,
            audit_head=head,
        )


# ------------------------------------------------------------- reissue and revoke


@dataclass(frozen=True)
class ChangeSummary:
    """What a re-issue or revoke did (no token, no person data)."""

    batch: int
    kind: str
    reason: str
    channel: str | None
    dispatch_dir: Path | None
    audit_head: str


def _check_reason(reason: str) -> str:
    if reason not in REASONS:
        raise UsageError(f"--reason must be one of: {', '.join(REASONS)}")
    return reason


def _active_of(s: _Session, pid: bytes) -> tuple[bytes, str]:
    row = s.ledger.conn.execute(
        "SELECT h, channel FROM issuance WHERE pid = ? AND status = 'active'", (pid,)
    ).fetchone()
    if row is None:
        raise UsageError(
            "that person holds no active token",
            fix="check the person id; a person never issued a token gets one from `omov issue run`",
        )
    return bytes(row[0]), str(row[1])


def _refuse_if_used(s: _Session, h: bytes, kind: str, reason: str) -> None:
    state = s.register.check_hash(h)
    if state == USED:
        audit.append(s.paths.audit, f"{kind}_refused", reason=reason, why="token already used")
        raise IntegrityError(
            f"{kind} refused: the person's token has already been used to vote",
            fix="a used token is never replaced; refer the case to the scrutineer",
        )
    if state != "unused":
        raise IntegrityError(
            f"{kind} refused: the ledger's active token is {state} in the register"
        )


def reissue(
    person_id: str,
    reason: str,
    members: Path,
    out: Path,
    *,
    keys: Path | None = None,
    vote_url: str = dispatch.DEFAULT_VOTE_URL,
) -> ChangeSummary:
    """Revoke the person's token and issue a new one (one batch); exit 4 if it was used."""
    _check_reason(reason)
    dispatch.check_vote_url(vote_url)
    roll = read_roll(members)
    person = roll.table.filter(pc.equal(roll.table.column("person_id"), person_id))
    if person.num_rows != 1:
        raise UsageError("that person id is not an eligible person in the roll given by --members")
    paths = Paths.of(out, keys)
    with _session(paths, None, create=False) as s:
        (pid,) = s.member_key.pseudonyms([person_id])
        old_h, _ = _active_of(s, pid)
        _refuse_if_used(s, old_h, "reissue", reason)
        batch, ch = _run_batch(s, "reissue", person, [pid], [pid], [old_h], reason, vote_url)
        channel = str(ch[0].as_py())
        return ChangeSummary(
            batch, "reissue", reason, channel, paths.batch_dir(batch), audit.head(paths.audit).hash
        )


def revoke(person_id: str, reason: str, out: Path, *, keys: Path | None = None) -> ChangeSummary:
    """Revoke the person's token without a replacement; exit 4 if it was used."""
    _check_reason(reason)
    paths = Paths.of(out, keys)
    with _session(paths, None, create=False) as s:
        (pid,) = s.member_key.pseudonyms([person_id])
        old_h, _ = _active_of(s, pid)
        _refuse_if_used(s, old_h, "revoke", reason)
        empty = pa.table({c: pa.array([], pa.string()) for c in ("person_id", "email")})
        batch, _ = _run_batch(
            s, "revoke", empty, [], [pid], [old_h], reason, dispatch.DEFAULT_VOTE_URL
        )
        return ChangeSummary(batch, "revoke", reason, None, None, audit.head(paths.audit).hash)


# --------------------------------------------------------------- status, consistency


def _ro(path: Path) -> Any:
    import sqlite3

    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def status(out: Path) -> dict[str, Any]:
    """Aggregates only: tokens by register state, persons by channel, batches by kind."""
    paths = Paths.of(out)
    if not paths.register.exists():
        raise UsageError(f"no register in {out}", fix="run `omov issue run` first")
    result: dict[str, Any] = {}
    conn = _ro(paths.register)
    try:
        result["register"] = {"unused": 0, "used": 0, "revoked": 0} | {
            str(k): int(v) for k, v in conn.execute("SELECT state, count(*) FROM tokens GROUP BY 1")
        }
        result["election"] = conn.execute(
            "SELECT value FROM meta WHERE key = 'election'"
        ).fetchone()[0]
    finally:
        conn.close()
    result["register"]["issued"] = sum(result["register"].values())
    if paths.ledger.exists():
        conn = _ro(paths.ledger)
        try:
            done = "batch IN (SELECT batch FROM batches WHERE state IN ('committed','dispatched'))"
            result["ledger"] = {
                "persons_with_active_token": conn.execute(
                    f"SELECT count(*) FROM issuance WHERE status='active' AND {done}"  # noqa: S608
                ).fetchone()[0],
                "active_by_channel": {
                    str(k): int(v)
                    for k, v in conn.execute(
                        f"SELECT channel, count(*) FROM issuance WHERE status='active' AND {done} "  # noqa: S608
                        "GROUP BY 1"
                    )
                },
                "revoked": conn.execute(
                    "SELECT count(*) FROM issuance WHERE status='revoked'"
                ).fetchone()[0],
                "batches": {
                    f"{k}/{st}": int(v)
                    for k, st, v in conn.execute(
                        "SELECT kind, state, count(*) FROM batches GROUP BY 1, 2"
                    )
                },
            }
        finally:
            conn.close()
    if paths.audit.exists():
        h = audit.head(paths.audit)
        result["audit"] = {"entries": h.entries, "head": h.hash}
    return result


def _expected_in_live_files(s: _Session, active: dict[bytes, bytes], through: int) -> set[bytes]:
    """Active token hashes the live dispatch files must list: those of batches after the last
    destruction (``issue.destroy``; all of them if the files were never destroyed)."""
    if not through:
        return set(active.values())
    rows = s.ledger.conn.execute(
        "SELECT h FROM issuance WHERE status = 'active' AND batch > ?", (through,)
    )
    return {bytes(h) for (h,) in rows}


def destroy_dispatch(out: Path, *, keys: Path | None = None) -> destroy.DestroySummary:
    """Destroy the dispatch files (after recovery, under the issue lock); see ``issue.destroy``."""
    paths = Paths.of(out, keys)
    with _session(paths, None, create=False) as s:
        batches = [b.batch for b in s.ledger.batches(["dispatched"])]
        return destroy.destroy_dispatch(out, paths.audit, max(batches, default=0))


def verify_consistency(out: Path, members: Path, *, keys: Path | None = None) -> list[str]:
    """Check the invariants (read-only apart from recovery); return the problems found.

    * every eligible person in ``members`` holds exactly one active token (ledger), and nobody
      else does;
    * every active token is in the register, unused or used;
    * the live dispatch files list each active token exactly once (after ``destroy-dispatch``:
      each active token of a later batch), and every dispatch row's token (in every batch file
      of a committed batch) is in the register;
    * every recorded destruction matches the digests recorded when the files were written, and
      no file recorded as destroyed still exists (``issue.destroy``).
    """
    paths = Paths.of(out, keys)
    roll = read_roll(members)
    problems: list[str] = []
    with _session(paths, None, create=False) as s:
        pids = s.member_key.pseudonyms(roll.table.column("person_id").to_pylist())
        active = s.ledger.active()
        if set(pids) != set(active):
            problems.append(
                f"{len(set(pids) - set(active))} eligible person(s) without an active token, "
                f"{len(set(active) - set(pids))} active token(s) for persons not eligible"
            )
        (dupes,) = s.ledger.conn.execute(
            "SELECT count(*) FROM (SELECT pid FROM issuance WHERE status='active' "
            "GROUP BY pid HAVING count(*) > 1)"
        ).fetchone()
        if dupes:
            problems.append(f"{dupes} person(s) hold more than one active token")
        states = s.register.states(list(active.values()))
        bad = sum(1 for a in active.values() if states.get(a) not in ("unused", "used"))
        if bad:
            problems.append(f"{bad} active token(s) missing from the register or revoked there")
        entries = audit.read_entries(paths.audit) if paths.audit.is_file() else []
        problems += destroy.check_destruction(out, entries)
        active_h = _expected_in_live_files(s, active, destroy.destroyed_through(entries))
        live: list[bytes] = []
        for channel in dispatch.CHANNELS:
            f = out / f"dispatch_{channel}.csv"
            if f.exists():
                t = pacsv.read_csv(
                    f, convert_options=pacsv.ConvertOptions(column_types={"token": pa.string()})
                )
                live += s.vote_key.token_hashes(
                    [normalise_token(x) for x in t.column("token").to_pylist()]
                )
        if len(live) != len(set(live)) or set(live) != active_h:
            problems.append(
                f"live dispatch files list {len(live)} row(s) ({len(set(live))} distinct) for "
                f"{len(active_h)} active token(s), {len(set(live) - active_h)} not active"
            )
        for b in s.ledger.batches(["committed", "dispatched"]):
            d = paths.batch_dir(b.batch)
            for channel in dispatch.CHANNELS:
                f = d / f"dispatch_{channel}.csv"
                if not f.exists():
                    continue
                t = pacsv.read_csv(
                    f, convert_options=pacsv.ConvertOptions(column_types={"token": pa.string()})
                )
                hs = s.vote_key.token_hashes(
                    [normalise_token(x) for x in t.column("token").to_pylist()]
                )
                st = s.register.states(hs)
                if len(st) != len(set(hs)):
                    problems.append(
                        f"batch {b.batch}: {len(set(hs)) - len(st)} dispatch row(s) "
                        "carry a token the register lacks"
                    )
    return problems
