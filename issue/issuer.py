"""Issuing, re-issuing and revoking tokens, crash-safely, across register, ledger and dispatch.

Public API (the CLI is a thin layer over these; all return frozen summaries, none print):

* ``issue_run(members, election, out, *, keys=None, vote_url=..., on_roll_change="refuse")``

Re-issue and revoke are in ``issue.changes``; ``status`` and ``verify_*`` in
``issue.consistency``; revocation reasons in ``issue.reasons``. A person revoked for a reason
that ends the right to a ballot is *withheld*: ``issue_run`` does not issue them a token again.

Every batch advances the register's generation in its register transaction and records it in
its audit entry (``register_generation``), so intake and serving can refuse a stale register
copy (``issue.freshness``). Every command ends by signing the audit log's head with the
scrutineer's Ed25519 key into the register and ledger (``issue.checkpoint``, ``issue.anchor``).

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

Every command that writes first runs ``recover`` (``issue.recovery``): a ``pending`` batch
whose hashes are all in the register (B happened) is rolled forward (C, then 5); one whose
hashes are absent is rolled back (its ledger rows deleted, its pending directory removed: those
tokens never existed); a ``committed`` batch gets step 5 (idempotent). Stray pending
directories without a batch row (a crash during step 1) are deleted. So after ``kill -9`` at
any moment and a re-run, each eligible person holds exactly one active token and every dispatch
row's token is in the register. The audit entries that recovery writes are skipped if the log
already has them.

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

from issue import audit, checkpoint, dispatch, reasons
from issue.crashpoints import kill_point
from issue.keys import (
    MemberKey,
    VoteKey,
    check_election_id,
    load_or_create_scrutineer_keys,
    write_vote_key,
)
from issue.ledger import Ledger
from issue.notice import notice_if_present
from issue.recovery import _finalise_dispatch, _log_batch, _log_once, recover
from issue.register import USED, Register
from issue.schema import read_roll
from issue.tokens import new_tokens
from omov.errors import IntegrityError, ProblemsFound, UsageError
from omov.fileio import make_private_dirs, sha256_file, write_json_atomic

ROLL_CHANGE_POLICIES = ("refuse", "revoke-vanished")


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
        signing = checkpoint.load_or_create(checkpoint.key_path(paths.keys), paths.audit, election)
        s = _Session(paths, member_key, vote_key, register, ledger)
        try:
            recover(s)
            yield s
        finally:
            register.close()
            ledger.close()
        # The command finished: sign the log's head into the register and ledger (issue.anchor).
        checkpoint.sign_head(signing, paths.audit, election)


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
    notice = notice_if_present(s.paths.out)  # a broken notice.json stops before any write
    batch = s.ledger.next_batch()
    n = people.num_rows
    kill_point("batch_start")
    tokens = new_tokens(n)
    hashes = s.vote_key.token_hashes(tokens)
    channels = dispatch.channels_of(people.column("email")) if n else pa.array([], pa.string())
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
                        election=s.vote_key.election,
                        notice=notice,
                    )
                )

            def steps_1_and_2_done() -> None:
                for f in futures:
                    f.result()
                kill_point("before_register_commit")

            generation = s.register.add_unused(
                hashes,
                revoke=revoke_hashes,
                before_commit=steps_1_and_2_done,
                advance_generation=True,
            )
    except BaseException as exc:
        s.ledger.abort_batch(batch)  # no-op if transaction A never committed
        shutil.rmtree(s.paths.pending_dir(batch), ignore_errors=True)
        if isinstance(exc, IntegrityError):
            _log_once(s, "batch_aborted", batch, kind=kind, why="token to revoke was not unused")
        raise
    del tokens, rows
    kill_point("after_register")
    _log_batch(s, batch, kind, n, len(revoke_pids), reason, generation)
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
    #: Eligible persons not issued a token: revoked for a reason that ends the right to a
    #: ballot (``issue.reasons``) and not reinstated by ``reissue``.
    withheld: int = 0


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
        barred = s.ledger.barred(reasons.NO_BALLOT)
        roll_pids = set(pids)
        withheld = len(roll_pids & barred.keys())
        new_idx = [i for i, p in enumerate(pids) if p not in active and p not in barred]
        del barred
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
            withheld=withheld,
            register_generation=s.register.generation(),
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
            withheld=withheld,
        )
