"""What an intake run decided: rows in, tallies, rejections and grouped rankings out (no tokens).

Plain data shared by the core (``vote.intake``) and the edges that report it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

Ranking = tuple[int, ...]  # 1-based ballot numbers in order of preference


class ReturnedRow(NamedTuple):
    """One returned ballot as read from a channel file (``line`` is the file's line number)."""

    channel: str
    line: int
    token: str
    preferences: str
    problem: str = ""  # non-empty: the row cannot be read (wrong number of fields, …)


@dataclass(frozen=True)
class Rejection:
    """One rejected row, for rejected.csv: where it is, why, and never the token or the marks."""

    channel: str
    line: int
    reason: str
    detail: str = ""


@dataclass
class ChannelTally:
    """Counts for one channel: received = valid + sum(rejected) always."""

    received: int = 0
    valid: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)

    def balanced(self) -> bool:
        return self.received == self.valid + sum(self.rejected.values())


@dataclass
class IntakeResult:
    """Everything intake decided: grouped rankings (no tokens), rejections, per-channel tallies."""

    ncand: int
    rankings: Counter[Ranking] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    channels: dict[str, ChannelTally] = field(default_factory=dict)

    def tally(self, channel: str) -> ChannelTally:
        found = self.channels.get(channel)
        if found is None:
            found = self.channels[channel] = ChannelTally()
        return found

    def totals(self) -> ChannelTally:
        total = ChannelTally()
        for t in self.channels.values():
            total.received += t.received
            total.valid += t.valid
            total.rejected.update(t.rejected)
            total.notes.update(t.notes)
        return total

    def balanced(self) -> bool:
        """valid + rejected = received per channel and overall; valid = ballots kept."""
        return all(t.balanced() for t in self.channels.values()) and self.totals().valid == sum(
            self.rankings.values()
        )


@dataclass(frozen=True)
class Preview:
    """What a run would reject for reasons that need no register, before any token is used."""

    received: int
    not_counted: Counter[str]  #: class → rows, for ``GATE_CLASSES`` only

    @property
    def invalid(self) -> int:
        return sum(self.not_counted.values())

    def exceeds(self, max_share: Fraction) -> bool:
        """True if invalid / received > ``max_share`` (exact: no float)."""
        return self.received > 0 and Fraction(self.invalid, self.received) > max_share
