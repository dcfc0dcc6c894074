"""Crash recovery for ``issue.issuer``: finish or undo what a killed command left.

Every command that writes first runs ``recover`` (from ``issuer._session``): a ``pending`` batch
whose hashes are all in the register (its register transaction happened) is rolled forward — its
audit entry (with the register generation, which no batch can have changed since: the issue
lock), ledger commit, then dispatch; one whose hashes are absent is rolled back (its ledger rows
deleted, its pending directory removed: those tokens never existed); a ``committed`` batch gets
its dispatch step (idempotent). Stray pending directories without a batch row are deleted. The
audit entries recovery writes are skipped if the log already has them.

``_log_batch``, ``_log_once`` and ``_finalise_dispatch`` are also the normal path's steps 4-5.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from issue import audit, dispatch
from omov.errors import IntegrityError
from omov.fileio import sha256_file

if TYPE_CHECKING:
    from issue.issuer import _Session


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
                gen = s.register.generation()  # the lock: no batch has touched it since
                _log_batch(s, b.batch, b.kind, len(new), len(old), b.reason, gen, recovered=True)
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
    generation: int,
    *,
    recovered: bool = False,
) -> None:
    """The batch's audit entry, with the register generation it made (``issue.freshness``)."""
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
        register_generation=generation,
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
