"""The web ballot's rules, with no web, no files and no clock: data in, data out.

* ``Period``: the voting period (``opens`` ≤ now < ``closes``, times with a zone) → ``Phase``.
* ``marks_from_ranking`` / ``marks_from_form``: what a member submitted, as the positional marks
  a returned paper carries (``2;;1`` = candidate 3 first, candidate 1 second; the returns format
  of docs/formats-intake.md), so one rule reads both channels.
* ``review``: ERS97 §6 applied by ``vote.intake.classify_paper`` (the intake's own rule, not a
  second implementation) and put in words for the review page: the ranking as it will count,
  how many candidates are unranked, and why a duplicate rank or a gap cuts the ranking short.
* ``to_record``: what the ballot box stores for a confirmed ballot — the ranking *as it counts*
  (ranks 1…k, no duplicates, no gaps) as positional marks, or ``""`` for a blank ballot. A paper
  that would not count for anyone (no first preference, two first preferences) is not accepted
  online: the review page asks the member to change it (or to submit it blank on purpose).
* ``new_confirmation_code``: 60 random bits as ``XXXX-XXXX-XXXX`` in the token alphabet; it
  proves a ballot was *recorded*, never how it voted (the box keeps codes and ballots apart).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from issue.tokens import ALPHABET
from omov.errors import UsageError
from vote import intake

CONFIRMATION_SYMBOLS = 12


class Phase(StrEnum):
    """Where the clock is relative to the voting period."""

    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"


class Outcome(StrEnum):
    """What happened to one attempt to use a token (pages and API answer from this)."""

    CAST = "cast"
    USED = "used"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    MALFORMED = "malformed"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    RATE_LIMITED = "rate_limited"


def parse_time(text: str, what: str) -> dt.datetime:
    """An ISO 8601 time *with* a zone (a zoneless time is ambiguous for a deadline)."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{what} {text!r} is not an ISO 8601 time", fix="e.g. 2026-05-01T09:00:00+01:00"
        ) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise UsageError(
            f"{what} {text!r} has no time zone", fix="add one: e.g. 2026-05-01T09:00:00+01:00 or Z"
        )
    return when


@dataclass(frozen=True)
class Period:
    """The voting period: ballots are taken while ``opens <= now < closes``."""

    opens: dt.datetime
    closes: dt.datetime

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise UsageError("the ballot must close after it opens (--closes after --opens)")

    def phase(self, now: dt.datetime) -> Phase:
        """Not open yet, open, or closed at ``now``."""
        if now < self.opens:
            return Phase.NOT_OPEN
        return Phase.OPEN if now < self.closes else Phase.CLOSED


def human_time(when: dt.datetime) -> str:
    """``4 December 2026, 17:00 (UTC+01:00)``: a deadline as people read it, zone included."""
    offset = when.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{when.day} {when.strftime('%B %Y, %H:%M')} ({zone})"


# ---- what the member submitted -------------------------------------------------------------


def marks_from_ranking(ranking: object, ncand: int) -> str:
    """Positional marks from the API's ranking (ballot numbers, most preferred first).

    Raises ``ValueError`` (→ HTTP 422) unless it is a list of distinct integers 1…ncand. An
    empty list is a blank ballot.
    """
    if not isinstance(ranking, list):
        raise ValueError("ranking must be a list of ballot numbers")
    if len(ranking) > ncand:
        raise ValueError(f"ranking has {len(ranking)} entries; the ballot has {ncand} candidates")
    marks = [""] * ncand
    for rank, number in enumerate(ranking, start=1):
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= ncand:
            raise ValueError(f"ranking entry {rank} is not a ballot number from 1 to {ncand}")
        if marks[number - 1]:
            raise ValueError(f"ballot number {number} is ranked twice")
        marks[number - 1] = str(rank)
    return ";".join(marks)


def marks_from_form(fields: Mapping[str, str], ncand: int) -> str:
    """Positional marks from the ballot form's ``rank-N`` selects (``""`` = not ranked).

    Raises ``ValueError`` for a value no select offers (a tampered form).
    """
    marks: list[str] = []
    for number in range(1, ncand + 1):
        value = (fields.get(f"rank-{number}") or "").strip()
        if value and not (value.isascii() and value.isdigit() and 1 <= int(value) <= ncand):
            raise ValueError(f"rank for ballot number {number} is not a rank from 1 to {ncand}")
        marks.append(str(int(value)) if value else "")
    return ";".join(marks)


def ranks_of(marks: str, ncand: int) -> dict[int, str]:
    """Ballot number → the rank shown in its select (to redisplay a form the member changes)."""
    found = (marks.split(";") + [""] * ncand)[:ncand]
    return {number: mark for number, mark in enumerate(found, start=1) if mark}


# ---- the review ----------------------------------------------------------------------------


class Problem(StrEnum):
    """Why a marked ballot counts only in part, or not at all."""

    DUPLICATE = "duplicate"  #: a rank given to two candidates: counting stops before it
    GAP = "gap"  #: a rank skipped: counting stops at the gap
    NO_FIRST = "no_first"  #: no candidate ranked 1: counts for nobody
    TWO_FIRSTS = "two_firsts"  #: 1 given to several candidates: counts for nobody


@dataclass(frozen=True)
class Review:
    """The ballot as the count will read it, and what the member should know before casting."""

    marks: str
    ranking: tuple[int, ...]  #: ballot numbers in the order they count
    unranked: int  #: candidates not in ``ranking``
    blank: bool
    problems: tuple[Problem, ...]
    ignored: tuple[int, ...]  #: ballot numbers marked but cut off by a duplicate or a gap

    @property
    def acceptable(self) -> bool:
        """True if casting it now is allowed: it counts for someone, or it is blank."""
        return self.blank or bool(self.ranking)


_NOTE_PROBLEM = {
    intake.NOTE_TRUNCATED_REPEATED: Problem.DUPLICATE,
    intake.NOTE_TRUNCATED_MISSING: Problem.GAP,
}
_STATUS_PROBLEM = {
    intake.INVALID_NO_FIRST: Problem.NO_FIRST,
    intake.INVALID_FIRST_UNCERTAIN: Problem.TWO_FIRSTS,
}


def review(marks: str, ncand: int) -> Review:
    """ERS97 §6 (``vote.intake.classify_paper``) on the member's marks, for the review page."""
    paper = intake.classify_paper(marks, ncand)
    marked = tuple(n for n, m in ranks_of(marks, ncand).items() if m)
    if paper.status == intake.BLANK:
        return Review(marks, (), ncand, True, (), ())
    if paper.status != intake.VALID:
        problem = _STATUS_PROBLEM.get(paper.status)
        return Review(marks, (), ncand, False, (problem,) if problem else (), marked)
    problems = tuple(_NOTE_PROBLEM[n] for n in paper.notes if n in _NOTE_PROBLEM)
    ignored = tuple(n for n in marked if n not in paper.ranking)
    return Review(marks, paper.ranking, ncand - len(paper.ranking), False, problems, ignored)


def to_record(rev: Review, ncand: int) -> str:
    """The marks the box stores: the counted ranking as ranks 1…k, or ``""`` if blank."""
    if not rev.acceptable:
        raise ValueError("this ballot would count for nobody; it is not accepted online")
    marks = [""] * ncand
    for rank, number in enumerate(rev.ranking, start=1):
        marks[number - 1] = str(rank)
    return ";".join(marks) if rev.ranking else ""


def ranking_of_record(marks: str, ncand: int) -> tuple[int, ...]:
    """Ballot numbers in preference order from stored marks (inverse of ``to_record``)."""
    return review(marks, ncand).ranking


# ---- confirmation codes --------------------------------------------------------------------


def new_confirmation_code() -> str:
    """``XXXX-XXXX-XXXX``: 60 bits from ``secrets`` in the token alphabet (no I, L, O, U)."""
    value = int.from_bytes(secrets.token_bytes(8), "big") >> 4  # 60 bits, one system call
    symbols = "".join(
        ALPHABET[(value >> (5 * (CONFIRMATION_SYMBOLS - 1 - i))) & 0x1F]
        for i in range(CONFIRMATION_SYMBOLS)
    )
    return "-".join(symbols[i : i + 4] for i in range(0, CONFIRMATION_SYMBOLS, 4))


def describe_ranking(ranking: Sequence[int], names: Sequence[str]) -> list[str]:
    """Names in preference order (for the review and, in tests, for reading a box back)."""
    return [names[n - 1] for n in ranking]
