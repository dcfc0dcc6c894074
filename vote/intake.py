"""Intake: turn returned ballot rows into counted papers and a list of rejections.

Why a pure core: the rules that decide whether a returned paper counts (ERS97 §6 for the marks,
first-use-wins for the token) are what a scrutineer must be able to check, so they live here with
no files, no clock and no printing. The register is reached only through ``TokenRegister``, so
the classification is tested with a fake and run against issue/'s SQLite register in production.

Order of checks for one row (docs/formats-intake.md, "Classes"):

1. the row itself (two fields) → ``malformed_row``;
2. the token's format and check symbol → ``token_malformed``;
3. the same token earlier in this intake run → ``token_repeated``;
4. the register: first use wins atomically → ``token_unknown`` / ``token_revoked`` /
   ``token_used`` (used by an earlier run or by a concurrent intake process). A token that an
   interrupted attempt of *this* run had used answers ``consumed`` again: the adapter in
   ``vote.intake_register`` maps issue/'s "reclaimed" to it (``vote.intake_journal``), so a resumed
   run decides every row as an uninterrupted one would;
5. only for a token used *now*: the paper's marks → ``valid``, ``blank`` or ``invalid_*``.

A spoilt or blank paper still uses its token (the member voted: TULRCA s.297A counts them as
voting), so a second paper on the same token is rejected, never counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from vote.intake_checks import ChannelShape, FileProblem, file_problems
from vote.intake_result import ChannelTally as ChannelTally
from vote.intake_result import IntakeResult as IntakeResult
from vote.intake_result import Preview as Preview
from vote.intake_result import Ranking as Ranking
from vote.intake_result import Rejection as Rejection
from vote.intake_result import ReturnedRow as ReturnedRow

# ---- classes -------------------------------------------------------------------------------

VALID = "valid"
BLANK = "blank"
INVALID_NO_FIRST = "invalid_no_first_preference"
INVALID_FIRST_UNCERTAIN = "invalid_first_preference_uncertain"
INVALID_EXTRA_MARKS = "invalid_marks_beyond_ballot"
MALFORMED_ROW = "malformed_row"
TOKEN_MALFORMED = "token_malformed"  # noqa: S105 (a class name, not a secret)
TOKEN_REPEATED = "token_repeated"  # noqa: S105 (a class name, not a secret)
TOKEN_UNKNOWN = "token_unknown"  # noqa: S105 (a class name, not a secret)
TOKEN_REVOKED = "token_revoked"  # noqa: S105 (a class name, not a secret)
TOKEN_USED = "token_used"  # noqa: S105 (a class name, not a secret)

PAPER_REJECTS: tuple[str, ...] = (
    BLANK,
    INVALID_NO_FIRST,
    INVALID_FIRST_UNCERTAIN,
    INVALID_EXTRA_MARKS,
)
TOKEN_REJECTS: tuple[str, ...] = (
    MALFORMED_ROW,
    TOKEN_MALFORMED,
    TOKEN_REPEATED,
    TOKEN_UNKNOWN,
    TOKEN_REVOKED,
    TOKEN_USED,
)
REJECT_CLASSES: tuple[str, ...] = PAPER_REJECTS + TOKEN_REJECTS
ALL_CLASSES: tuple[str, ...] = (VALID, *REJECT_CLASSES)

# Notes on valid papers (counted, but the scrutineer sees how many).
NOTE_TRUNCATED_REPEATED = "truncated_repeated_rank"
NOTE_TRUNCATED_MISSING = "truncated_missing_rank"
NOTE_IGNORED_MARKS = "ignored_marks"
NOTE_SINGLE_CROSS = "single_cross_as_first_preference"
NOTES: tuple[str, ...] = (
    NOTE_TRUNCATED_REPEATED,
    NOTE_TRUNCATED_MISSING,
    NOTE_IGNORED_MARKS,
    NOTE_SINGLE_CROSS,
)

#: Register answers (issue/'s ``consume_many``, or a fake in tests).
STATE_CONSUMED = "consumed"  # unused until now: this call used it
STATE_USED = "used"
STATE_REVOKED = "revoked"
STATE_UNKNOWN = "unknown"
_STATE_REJECT = {STATE_USED: TOKEN_USED, STATE_REVOKED: TOKEN_REVOKED, STATE_UNKNOWN: TOKEN_UNKNOWN}

#: A cross or tick standing alone on a paper is read as a first preference (documented choice).
CROSS_MARKS = frozenset({"X", "x", "×", "✓", "✔", "✗", "✘"})  # not V: it could be a Roman 5


class TokenRegister(Protocol):
    """What intake needs from the vote register: atomic first-use-wins over a batch.

    ``consume_many`` returns one of ``consumed | used | revoked | unknown`` per canonical token,
    in order; ``consumed`` must be returned at most once per token across all processes, ever.
    """

    def consume_many(self, tokens: Sequence[str]) -> Sequence[str]: ...


#: Canonicalise typed tokens, one answer per token: ``(canonical, "")`` or ``(None, reason)``.
TokenFormat = Callable[[Sequence[str]], list[tuple[str | None, str]]]


# ---- one paper -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Paper:
    """The verdict on one paper's marks: its class, its ranking if valid, and notes."""

    status: str
    ranking: Ranking = ()
    notes: tuple[str, ...] = ()
    #: not valid, and a mark is neither a whole number nor a cross (e.g. ``3>1>4``): the file
    #: may be misread (``vote.intake_checks``)
    foreign: bool = False


class MarkTooLong(ValueError):
    """A mark of more than ``MAX_MARK_DIGITS`` digits: no paper holds one (a hostile or corrupt
    file). Raised instead of calling ``int()`` on it, so a 5,000-digit mark is an input error."""


#: The most digits a mark may have: a mark is at most the number of candidates, and no ballot
#: has a million; a longer run of digits is never converted with ``int()``.
MAX_MARK_DIGITS = 6
_LONG_NUMBER = re.compile(f"[0-9]{{{MAX_MARK_DIGITS + 1}}}")


def _read_marks(preferences: str, ncand: int) -> list[str] | None:
    """Positional marks padded to ``ncand``; None if a mark lies beyond the last candidate."""
    marks = [m.strip() for m in preferences.split(";")]
    if len(marks) > ncand:
        if any(marks[ncand:]):
            return None
        marks = marks[:ncand]
    return marks + [""] * (ncand - len(marks))


def _ranks(marks: Sequence[str], ncand: int) -> tuple[dict[int, list[int]], list[int], int, bool]:
    """rank → ballot numbers holding it; ballot numbers with a cross; count of ignored marks;
    whether any mark is foreign (neither a whole number nor a cross)."""
    by_rank: dict[int, list[int]] = {}
    crosses: list[int] = []
    ignored = 0
    foreign = False
    for position, mark in enumerate(marks, start=1):
        if not mark:
            continue
        number = mark.isdigit() and mark.isascii()  # at most MAX_MARK_DIGITS: checked before
        if number and 1 <= int(mark) <= ncand:
            by_rank.setdefault(int(mark), []).append(position)
        elif mark in CROSS_MARKS:
            crosses.append(position)
        else:
            ignored += 1
            foreign = foreign or not number
    return by_rank, crosses, ignored, foreign


_NOT_PLAIN = str.maketrans("", "", "0123456789;")


def classify_paper(preferences: str, ncand: int) -> Paper:
    """ERS97 §6 applied to one positional paper (see the module and docs for the choices).

    Raises ``MarkTooLong`` for a run of more than ``MAX_MARK_DIGITS`` digits.
    """
    if _LONG_NUMBER.search(preferences):
        raise MarkTooLong(f"a mark of more than {MAX_MARK_DIGITS} digits")
    if not preferences.translate(_NOT_PLAIN) and preferences.count(";") < ncand:
        paper = _classify_plain(preferences, ncand)
        if paper is not None:
            return paper
    return _classify_general(preferences, ncand)


def _classify_plain(preferences: str, ncand: int) -> Paper | None:
    """Fast path for the usual paper (only digits and ``;``); None = use the general path."""
    items = sorted((int(m), pos) for pos, m in enumerate(preferences.split(";"), start=1) if m)
    if not items:
        return Paper(BLANK)
    if items[0][0] < 1 or items[-1][0] > ncand:
        return None  # a 0 or an out-of-range number: the general path notes it
    if items[0][0] != 1:
        return Paper(INVALID_NO_FIRST)
    ranking: list[int] = []
    for j, (rank, pos) in enumerate(items):
        if rank != len(ranking) + 1:
            return Paper(VALID, tuple(ranking), (NOTE_TRUNCATED_MISSING,))
        if j + 1 < len(items) and items[j + 1][0] == rank:
            if rank == 1:
                return Paper(INVALID_FIRST_UNCERTAIN)
            return Paper(VALID, tuple(ranking), (NOTE_TRUNCATED_REPEATED,))
        ranking.append(pos)
    return Paper(VALID, tuple(ranking))


def _classify_general(preferences: str, ncand: int) -> Paper:
    """Any paper: spaces, crosses, stray marks, extra fields."""
    marks = _read_marks(preferences, ncand)
    if marks is None:
        extra = [m for m in preferences.split(";") if m.strip()]
        foreign = any(not (m.strip().isdigit() or m.strip() in CROSS_MARKS) for m in extra)
        return Paper(INVALID_EXTRA_MARKS, foreign=foreign)
    if not any(marks):
        return Paper(BLANK)
    by_rank, crosses, ignored, foreign = _ranks(marks, ncand)
    if not by_rank and len(crosses) == 1 and ignored == 0:
        return Paper(VALID, (crosses[0],), (NOTE_SINGLE_CROSS,))
    first = by_rank.get(1, [])
    if not first:
        return Paper(INVALID_NO_FIRST, foreign=foreign)
    if len(first) > 1:
        return Paper(INVALID_FIRST_UNCERTAIN, foreign=foreign)
    ranking, note = _follow_ranks(by_rank)
    notes = tuple(n for n in (note, NOTE_IGNORED_MARKS if ignored or crosses else "") if n)
    return Paper(VALID, ranking, notes)  # a foreign mark beside a clear 1 is just ignored


def _follow_ranks(by_rank: dict[int, list[int]]) -> tuple[Ranking, str]:
    """1, 2, 3 … while each rank is held by exactly one candidate (ERS97 6.10, 6.12)."""
    ranking: list[int] = []
    rank = 1
    highest = max(by_rank)
    while True:
        holders = by_rank.get(rank, [])
        if len(holders) == 1:
            ranking.append(holders[0])
            rank += 1
            continue
        if len(holders) > 1:
            return tuple(ranking), NOTE_TRUNCATED_REPEATED
        return tuple(ranking), (NOTE_TRUNCATED_MISSING if rank < highest else "")


# ---- many rows -----------------------------------------------------------------------------


class RowError(Exception):
    """A row that stops the whole run before any token is used (a hostile or corrupt file).

    The edge turns it into ``omov.errors.InputError`` naming the channel's file and ``line``.
    """

    def __init__(self, channel: str, line: int, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.channel, self.line, self.message, self.fix = channel, line, message, fix


#: Classes that say the *file* may be misread (counted for the invalid-share gate): rows that
#: cannot be read at all, and papers whose token would be spent without a vote counted.
GATE_CLASSES: tuple[str, ...] = (MALFORMED_ROW, TOKEN_MALFORMED, *PAPER_REJECTS)


class IntakeRun:
    """One intake run over many channel files: every local check first, then the register.

    ``feed`` decides everything that needs no register (row shape, token format, repeats within
    the run, the paper's marks) batch by batch; ``finish`` asks the register once for all the
    remaining tokens. Why once, at the end: a file that turns out unreadable half-way stops the
    run before any token is used, ``file_problems`` and ``preview`` can refuse a misread file
    first, and the register can take the tokens in hash order (one pass over its B-tree).

    ``seen`` maps each token sent to the register to its place in ``pending``, so a repeat is
    rejected with the place it was first returned (for the scrutineer).
    """

    def __init__(self, ncand: int, normalise: TokenFormat) -> None:
        self.result = IntakeResult(ncand)
        self.shapes: dict[str, ChannelShape] = {}
        self._normalise = normalise
        self._seen: dict[str, int] = {}
        self._tokens: list[str] = []
        self._pending: list[tuple[str, int, Paper]] = []
        self._papers: dict[str, Paper] = {}

    def _shape(self, channel: str) -> ChannelShape:
        found = self.shapes.get(channel)
        if found is None:
            found = self.shapes[channel] = ChannelShape()
        return found

    def feed(self, rows: Sequence[ReturnedRow]) -> None:
        """Local checks for one batch; rows that pass wait for ``finish``.

        Raises ``RowError`` for a mark no paper can hold (``MarkTooLong``).
        """
        for channel, n in Counter(row.channel for row in rows).items():
            self.result.tally(channel).received += n
            self._shape(channel).rows += n
        readable = [row for row in rows if not row.problem]
        if len(readable) != len(rows):
            for row in rows:
                if row.problem:
                    self._reject(row.channel, row.line, MALFORMED_ROW, row.problem)
                    self._shape(row.channel).bad_row(row.line, row.problem)
        seen, tokens, pending = self._seen, self._tokens, self._pending
        papers, classify, ncand = self._papers, classify_paper, self.result.ncand
        for row, (token, why) in zip(
            readable, self._normalise([r.token for r in readable]), strict=True
        ):
            if token is None:
                self._reject(row.channel, row.line, TOKEN_MALFORMED, why)
                self._bad_token(row)
                continue
            n = len(tokens)
            first = seen.setdefault(token, n)
            if first != n:
                channel, line, _ = pending[first]
                self._reject(
                    row.channel,
                    row.line,
                    TOKEN_REPEATED,
                    f"first returned at {channel} line {line}",
                )
                continue
            tokens.append(token)
            paper = papers.get(row.preferences)
            if paper is None:
                try:
                    paper = classify(row.preferences, ncand)
                except MarkTooLong as exc:
                    raise RowError(
                        row.channel,
                        row.line,
                        f"{exc}: a mark is a number from 1 to {ncand} or a cross",
                        "correct the mark on that line (a corrupt or hostile file)",
                    ) from None
                if len(papers) < 1 << 18:
                    papers[row.preferences] = paper
            if paper.foreign or paper.status == BLANK:
                self._shape(row.channel).odd_paper(row.line, row.preferences, paper.foreign)
            pending.append((row.channel, row.line, paper))

    def _bad_token(self, row: ReturnedRow) -> None:
        """Is a malformed token's preferences field a token (the columns swapped)?"""
        shape = self._shape(row.channel)
        if shape.bad_tokens < 200:  # enough evidence; bounded work on a broken file
            swapped = self._normalise([row.preferences])[0][0] is not None
            shape.bad_token(row.line, swapped)
        else:
            shape.bad_tokens += 1

    def preview(self) -> Preview:
        """Rows in ``GATE_CLASSES`` so far (local rejections and papers with invalid marks)."""
        totals = self.result.totals()
        counts: Counter[str] = Counter(
            {c: totals.rejected[c] for c in (MALFORMED_ROW, TOKEN_MALFORMED)}
        )
        counts.update(p.status for _, _, p in self._pending if p.status != VALID)
        return Preview(totals.received, +counts)

    def file_problems(self) -> list[FileProblem]:
        """File-level problems of the channels read so far (``vote.intake_checks``)."""
        return file_problems(self.shapes, {c: self.classified(c) for c in self.shapes})

    def classified(self, channel: str) -> int:
        """Rows of ``channel`` whose paper was read (token well-formed and first in the run)."""
        t = self.result.tally(channel)
        rej = t.rejected
        return t.received - rej[MALFORMED_ROW] - rej[TOKEN_MALFORMED] - rej[TOKEN_REPEATED]

    def finish(self, register: TokenRegister) -> IntakeResult:
        """One ``consume_many`` for every pending token, then each paper is settled."""
        tokens, self._tokens = self._tokens, []
        self._seen.clear()
        states = register.consume_many(tokens) if tokens else []
        if len(states) != len(tokens):
            raise RuntimeError("register answered a different number of tokens than asked")
        del tokens
        for (channel, line, paper), state in zip(self._pending, states, strict=True):
            self._settle(channel, line, paper, state)
        self._pending = []
        if not self.result.balanced():
            raise RuntimeError("intake does not balance: valid + rejected != received")
        return self.result

    def _reject(self, channel: str, line: int, reason: str, detail: str = "") -> None:
        self.result.tally(channel).rejected[reason] += 1
        self.result.rejections.append(Rejection(channel, line, reason, detail))

    def _settle(self, channel: str, line: int, paper: Paper, state: str) -> None:
        if state != STATE_CONSUMED:
            reason = _STATE_REJECT.get(state)
            if reason is None:
                raise RuntimeError(f"register answered an unknown state {state!r}")
            self._reject(channel, line, reason)
            return
        if paper.status != VALID:
            self._reject(channel, line, paper.status)
            return
        tally = self.result.tally(channel)
        tally.valid += 1
        if paper.notes:
            tally.notes.update(paper.notes)
        self.result.rankings[paper.ranking] += 1


def batched(rows: Iterable[ReturnedRow], size: int) -> Iterator[list[ReturnedRow]]:
    """Rows in lists of ``size`` (tokens are normalised a list at a time)."""
    batch: list[ReturnedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def read_all(
    run: IntakeRun,
    rows: Iterable[ReturnedRow],
    *,
    batch_size: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> IntakeRun:
    """Feed every row to ``run`` (no register yet)."""
    for batch in batched(rows, batch_size):
        run.feed(batch)
        if progress is not None:
            progress(len(batch))
    return run


def run_intake(
    rows: Iterable[ReturnedRow],
    ncand: int,
    register: TokenRegister,
    normalise: TokenFormat,
    *,
    batch_size: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> IntakeResult:
    """Classify every row; raises RuntimeError if the books do not balance (a bug, never data)."""
    run = read_all(IntakeRun(ncand, normalise), rows, batch_size=batch_size, progress=progress)
    return run.finish(register)
