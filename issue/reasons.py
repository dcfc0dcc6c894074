"""Why a token was revoked, and whether the person keeps a right to a ballot.

One enum, so the rule lives in one place: a revocation for a reason that *ends* the person's
right to vote (ineligible, deceased, withdrawn, duplicate) sticks — ``omov issue run`` does not
issue that person a new token, ``omov issue verify`` accepts the missing token — until the
scrutineer overrides it with ``omov issue reissue … --reason reinstated`` (or any reason that
keeps the ballot). A revocation for a reason that *keeps* it (lost, spoilt, not received,
stolen, compromised) only kills that token: the person is owed a replacement (``reissue`` does
both in one step; a bare ``revoke`` leaves it to the next ``issue run``).

``roll-change`` is omov's own reason for revoking the token of a person who vanished from the
roll (``--on-roll-change revoke-vanished``); it is never typed by a person.
"""

from __future__ import annotations

from enum import StrEnum

from omov.errors import UsageError


class Reason(StrEnum):
    """A revocation or re-issue reason as typed after ``--reason``."""

    LOST = "lost"
    SPOILT = "spoilt"
    NOT_RECEIVED = "not-received"
    STOLEN = "stolen"
    COMPROMISED = "compromised"
    REINSTATED = "reinstated"
    INELIGIBLE = "ineligible"
    DECEASED = "deceased"
    WITHDRAWN = "withdrawn"
    DUPLICATE = "duplicate"
    ROLL_CHANGE = "roll-change"

    @property
    def keeps_ballot(self) -> bool:
        """True if the person is still owed a ballot after this revocation."""
        return self not in NO_BALLOT


#: Reasons that end the person's right to a ballot in this election.
NO_BALLOT = frozenset({Reason.INELIGIBLE, Reason.DECEASED, Reason.WITHDRAWN, Reason.DUPLICATE})
#: What a person may type (``roll-change`` is omov's own).
TYPED = tuple(r for r in Reason if r is not Reason.ROLL_CHANGE)


def parse(text: str, *, for_reissue: bool = False) -> Reason:
    """A typed reason; a re-issue needs one that keeps the ballot. UsageError otherwise."""
    try:
        reason = Reason(text.strip().lower())
    except ValueError:
        reason = None
    if reason is None or reason is Reason.ROLL_CHANGE:
        raise UsageError(
            f"--reason {text!r} is not a reason omov knows",
            fix=f"use one of: {', '.join(TYPED)}",
        )
    if not for_reissue and reason is Reason.REINSTATED:
        raise UsageError(
            "--reason reinstated gives a ballot back: it is a re-issue reason",
            fix="use `omov issue reissue … --reason reinstated`",
        )
    if for_reissue and not reason.keeps_ballot:
        raise UsageError(
            f"--reason {reason} ends the person's right to a ballot: a re-issue cannot have it",
            fix="use `omov issue revoke` for that reason; a re-issue's reason is one of "
            + ", ".join(r for r in TYPED if r.keeps_ballot),
        )
    return reason


def help_text() -> str:
    keep = ", ".join(r for r in TYPED if r.keeps_ballot and r is not Reason.REINSTATED)
    end = ", ".join(r for r in TYPED if not r.keeps_ballot)
    return (
        f"Keeps the ballot (replace it): {keep}. Ends it (never re-issued by `run`): {end}. "
        "Re-issue only: reinstated (lifts a revocation that ended it)."
    )
