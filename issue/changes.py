"""Re-issuing and revoking one person's token (the helpline's two actions).

* ``reissue(person_id, reason, members, out)`` — revoke the person's token and issue a new one
  in one batch; refused (exit 4) if the token was used (the person has voted). A person whose
  token was revoked earlier (for any reason) and who holds none now gets a new one: that is how
  the scrutineer overrides a revocation that ended the right to a ballot (``--reason reinstated``).
* ``revoke(person_id, reason, out)`` — revoke without a replacement; refused (exit 4) if used.

Both are refused (exit 4) while the audit log shows an intake run whose used tokens this
register does not hold (``issue.freshness.intake_runs_elsewhere``): the counter took returns in
against a copy, so "not yet voted" here cannot be trusted.
  Whether the person is still owed a ballot follows from the reason (``issue.reasons``).

Both run as one crash-safe batch of ``issue.issuer`` (write-ahead ledger, register, audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from issue import audit, dispatch, freshness, reasons
from issue.issuer import Paths, _run_batch, _Session, _session
from issue.register import USED
from issue.schema import read_roll
from omov.errors import IntegrityError, UsageError


@dataclass(frozen=True)
class ChangeSummary:
    """What a re-issue or revoke did (no token, no person data)."""

    batch: int
    kind: str
    reason: str
    channel: str | None
    dispatch_dir: Path | None
    audit_head: str
    #: After a revoke: is the person still owed a ballot (``issue run`` will send one)?
    keeps_ballot: bool = True
    #: After a re-issue that lifted a no-ballot revocation: that revocation's reason.
    reinstated_from: str | None = None


def _active_of(s: _Session, pid: bytes) -> bytes | None:
    row = s.ledger.conn.execute(
        "SELECT h FROM issuance WHERE pid = ? AND status = 'active'", (pid,)
    ).fetchone()
    return None if row is None else bytes(row[0])


def _was_revoked(s: _Session, pid: bytes) -> bool:
    sql = "SELECT 1 FROM issuance WHERE pid = ? AND status = 'revoked' LIMIT 1"
    return s.ledger.conn.execute(sql, (pid,)).fetchone() is not None


def _no_token(person_id: str) -> UsageError:
    return UsageError(
        f"person {person_id} holds no active token",
        fix="check the person id (`omov issue lookup`); a person never issued a token gets one "
        "from `omov issue run`",
    )


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
    why = reasons.parse(reason, for_reissue=True)
    dispatch.check_vote_url(vote_url)
    roll = read_roll(members)
    person = roll.table.filter(pc.equal(roll.table.column("person_id"), person_id))
    if person.num_rows != 1:
        raise UsageError("that person id is not an eligible person in the roll given by --members")
    paths = Paths.of(out, keys)
    with _session(paths, None, create=False) as s:
        freshness.refuse_if_intake_elsewhere(s.register, paths.audit)
        (pid,) = s.member_key.pseudonyms([person_id])
        old_h = _active_of(s, pid)
        lifted = None
        if old_h is None:
            if not _was_revoked(s, pid):
                raise _no_token(person_id)
            lifted = s.ledger.barred(reasons.NO_BALLOT).get(pid)
            batch, ch = _run_batch(s, "reissue", person, [pid], [], [], str(why), vote_url)
            if lifted is not None:
                audit.append(paths.audit, "revocation_lifted", batch=batch, was=lifted)
        else:
            _refuse_if_used(s, old_h, "reissue", str(why))
            batch, ch = _run_batch(s, "reissue", person, [pid], [pid], [old_h], str(why), vote_url)
        channel = str(ch[0].as_py())
        head = audit.head(paths.audit).hash
    return ChangeSummary(
        batch, "reissue", str(why), channel, paths.batch_dir(batch), head, True, lifted
    )


def revoke(person_id: str, reason: str, out: Path, *, keys: Path | None = None) -> ChangeSummary:
    """Revoke the person's token without a replacement; exit 4 if it was used."""
    why = reasons.parse(reason)
    paths = Paths.of(out, keys)
    with _session(paths, None, create=False) as s:
        freshness.refuse_if_intake_elsewhere(s.register, paths.audit)
        (pid,) = s.member_key.pseudonyms([person_id])
        old_h = _active_of(s, pid)
        if old_h is None:
            raise _no_token(person_id)
        _refuse_if_used(s, old_h, "revoke", str(why))
        empty = pa.table({c: pa.array([], pa.string()) for c in ("person_id", "email")})
        batch, _ = _run_batch(
            s, "revoke", empty, [], [pid], [old_h], str(why), dispatch.DEFAULT_VOTE_URL
        )
        head = audit.head(paths.audit).hash
    return ChangeSummary(batch, "revoke", str(why), None, None, head, why.keeps_ballot)
