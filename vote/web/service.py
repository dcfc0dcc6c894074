"""What the pages and the JSON API share: the election, the period, the token check, casting.

A token is checked in this order, the same for every route: the period (no token is looked at
outside it) → the failed-attempt limits → the token's format (``issue.tokens``, as forgiving as
``omov issue check``) → its state in the register (a read; only an unused token is queued for
the writer, which then decides first use atomically with ``Register.consume_many_hashes``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from issue.candidates import BallotDefinition
from issue.tokens import TokenFormatError
from vote.ballot import Outcome, Period, Phase
from vote.casting import Cast, Caster
from vote.web.limits import FailureLimiter

_PHASE_OUTCOME = {Phase.NOT_OPEN: Outcome.NOT_OPEN, Phase.CLOSED: Outcome.CLOSED}
_STATE_OUTCOME = {"used": Outcome.USED, "revoked": Outcome.REVOKED, "unknown": Outcome.UNKNOWN}


@dataclass(frozen=True)
class Election:
    """What the pages show: the ballot paper, the period, names for people."""

    ballot: BallotDefinition
    period: Period
    name: str
    contact: str
    pack: Path | None = None  #: the candidates' pack (statements), served at /candidates

    @property
    def ncand(self) -> int:
        return len(self.ballot.candidates)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Checked:
    """A token check: ``outcome`` None means the token is unused now (``token_hash`` set);
    ``reason`` is issue.tokens' reason for a malformed token (length, alphabet, check)."""

    outcome: Outcome | None
    token_hash: bytes = b""
    reason: str = ""


@dataclass
class VotingService:
    """The election, a read-only view of the register, the writer, the limits, the clock."""

    election: Election
    register: Any  #: issue.register.Register for reads on the event loop
    caster: Caster
    limiter: FailureLimiter = field(default_factory=FailureLimiter)
    clock: Callable[[], dt.datetime] = _utcnow
    monotonic: Callable[[], float] = time.monotonic

    def phase(self) -> Phase:
        return self.election.period.phase(self.clock())

    def check(self, token_text: str, client: str) -> Checked:
        """Period, limits, format, register state (see the module docstring)."""
        phase = self.phase()
        if phase is not Phase.OPEN:
            return Checked(_PHASE_OUTCOME[phase])
        now = self.monotonic()
        if self.limiter.blocked(client, now):
            return Checked(Outcome.RATE_LIMITED)
        try:
            h = self.register.token_hash(token_text)
        except TokenFormatError as exc:
            self.limiter.fail(client, now)
            return Checked(Outcome.MALFORMED, reason=exc.reason)
        state = self.register.check_hash(h)
        if state == "unused":
            return Checked(None, h)
        if state == "unknown":
            self.limiter.fail(client, now)
        return Checked(_STATE_OUTCOME.get(state, Outcome.USED))

    async def cast(self, token_text: str, marks: str, client: str) -> Cast:
        """Check, then record ``marks`` if this token wins first use (durable on return)."""
        checked = self.check(token_text, client)
        if checked.outcome is not None:
            return Cast(checked.outcome)
        return await self.caster.cast(checked.token_hash, marks)

    def retry_after(self, client: str) -> int:
        return self.limiter.retry_after(client)
