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
   ``vote.intake_cli`` maps issue/'s "reclaimed" to it (``vote.intake_journal``), so a resumed
   run decides every row as an uninterrupted one would;
5. only for a token used *now*: the paper's marks → ``valid``, ``blank`` or ``invalid_*``.

A spoilt or blank paper still uses its token (the member voted: TULRCA s.297A counts them as
voting), so a second paper on the same token is rejected, never counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

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

Ranking = tuple[int, ...]  # 1-based ballot numbers in order of preference


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


def _read_marks(preferences: str, ncand: int) -> list[str] | None:
    """Positional marks padded to ``ncand``; None if a mark lies beyond the last candidate."""
    marks = [m.strip() for m in preferences.split(";")]
    if len(marks) > ncand:
        if any(marks[ncand:]):
            return None
        marks = marks[:ncand]
    return marks + [""] * (ncand - len(marks))


def _ranks(marks: Sequence[str], ncand: int) -> tuple[dict[int, list[int]], list[int], int]:
    """rank → ballot numbers holding it; ballot numbers with a cross; count of ignored marks."""
    by_rank: dict[int, list[int]] = {}
    crosses: list[int] = []
    ignored = 0
    for position, mark in enumerate(marks, start=1):
        if not mark:
            continue
        if mark.isdigit() and mark.isascii() and 1 <= int(mark) <= ncand:
            by_rank.setdefault(int(mark), []).append(position)
        elif mark in CROSS_MARKS:
            crosses.append(position)
        else:
            ignored += 1
    return by_rank, crosses, ignored


_NOT_PLAIN = str.maketrans("", "", "0123456789;")


def classify_paper(preferences: str, ncand: int) -> Paper:
    """ERS97 §6 applied to one positional paper (see the module and docs for the choices)."""
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
        return Paper(INVALID_EXTRA_MARKS)
    if not any(marks):
        return Paper(BLANK)
    by_rank, crosses, ignored = _ranks(marks, ncand)
    if not by_rank and len(crosses) == 1 and ignored == 0:
        return Paper(VALID, (crosses[0],), (NOTE_SINGLE_CROSS,))
    first = by_rank.get(1, [])
    if not first:
        return Paper(INVALID_NO_FIRST)
    if len(first) > 1:
        return Paper(INVALID_FIRST_UNCERTAIN)
    ranking, note = _follow_ranks(by_rank)
    notes = tuple(n for n in (note, NOTE_IGNORED_MARKS if ignored or crosses else "") if n)
    return Paper(VALID, ranking, notes)


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


class IntakeRun:
    """One intake run over many channel files: every local check first, then the register.

    ``feed`` decides everything that needs no register (row shape, token format, repeats within
    the run, the paper's marks) batch by batch; ``finish`` asks the register once for all the
    remaining tokens. Why once, at the end: a file that turns out unreadable half-way stops the
    run before any token is used, and the register can take the tokens in hash order (one pass
    over its B-tree instead of one per batch).

    ``seen`` maps each token sent to the register to its place in ``pending``, so a repeat is
    rejected with the place it was first returned (for the scrutineer).
    """

    def __init__(self, ncand: int, register: TokenRegister, normalise: TokenFormat) -> None:
        self.result = IntakeResult(ncand)
        self._register = register
        self._normalise = normalise
        self._seen: dict[str, int] = {}
        self._tokens: list[str] = []
        self._pending: list[tuple[str, int, Paper]] = []
        self._papers: dict[str, Paper] = {}

    def feed(self, rows: Sequence[ReturnedRow]) -> None:
        """Local checks for one batch; rows that pass wait for ``finish``."""
        for channel, n in Counter(row.channel for row in rows).items():
            self.result.tally(channel).received += n
        readable = [row for row in rows if not row.problem]
        if len(readable) != len(rows):
            for row in rows:
                if row.problem:
                    self._reject(row.channel, row.line, MALFORMED_ROW, row.problem)
        seen, tokens, pending = self._seen, self._tokens, self._pending
        papers, classify, ncand = self._papers, classify_paper, self.result.ncand
        for row, (token, why) in zip(
            readable, self._normalise([r.token for r in readable]), strict=True
        ):
            if token is None:
                self._reject(row.channel, row.line, TOKEN_MALFORMED, why)
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
                paper = classify(row.preferences, ncand)
                if len(papers) < 1 << 18:
                    papers[row.preferences] = paper
            pending.append((row.channel, row.line, paper))

    def finish(self) -> IntakeResult:
        """One ``consume_many`` for every pending token, then each paper is settled."""
        tokens, self._tokens = self._tokens, []
        self._seen.clear()
        states = self._register.consume_many(tokens) if tokens else []
        if len(states) != len(tokens):
            raise RuntimeError("register answered a different number of tokens than asked")
        del tokens
        for (channel, line, paper), state in zip(self._pending, states, strict=True):
            self._settle(channel, line, paper, state)
        self._pending = []
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

    def _paper(self, preferences: str) -> Paper:
        """Cached: identical mark strings are common and get the same verdict."""
        paper = self._papers.get(preferences)
        if paper is None:
            paper = classify_paper(preferences, self.result.ncand)
            if len(self._papers) < 1 << 18:
                self._papers[preferences] = paper
        return paper


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
    run = IntakeRun(ncand, register, normalise)
    for batch in batched(rows, batch_size):
        run.feed(batch)
        if progress is not None:
            progress(len(batch))
    run.finish()
    if not run.result.balanced():
        raise RuntimeError("intake does not balance: valid + rejected != received")
    return run.result


# ---- anonymised outputs ----------------------------------------------------------------------


def shuffled_groups(
    rankings: Counter[Ranking], random_bytes: Callable[[int], bytes]
) -> list[tuple[Ranking, int]]:
    """Groups in an order fixed by fresh random sort keys (``secrets.token_bytes`` in use).

    Sorting by 16 random bytes per item is a uniform shuffle (ties have probability ~2^-128) and
    needs one call for all keys instead of one ``randbelow`` per item.
    """
    items = list(rankings.items())
    keys = random_bytes(16 * len(items))
    order = sorted(range(len(items)), key=lambda i: keys[16 * i : 16 * i + 16])
    return [items[i] for i in order]


def blt_quote(text: str) -> str:
    """BLT has no escape for a double quote inside a name: it becomes a single quote."""
    return '"' + text.replace('"', "'").replace("\n", " ") + '"'


def blt_lines(
    groups: Sequence[tuple[Ranking, int]], names: Sequence[str], seats: int, title: str
) -> Iterator[str]:
    """The standard BLT file: header, ``weight c1 … 0`` lines, ``0``, names, title."""
    yield f"{len(names)} {seats}\n"
    for ranking, weight in groups:
        yield f"{weight} {' '.join(map(str, ranking))} 0\n"
    yield "0\n"
    for name in names:
        yield blt_quote(name) + "\n"
    yield blt_quote(title) + "\n"


def csv_grid_lines(
    groups: Sequence[tuple[Ranking, int]],
    names: Sequence[str],
    seats: int,
    title: str,
    format_version: int,
) -> Iterator[str]:
    """count/'s CSV ballot grid (``count.ballot_files``): the rank written under each candidate.

    Written here straight from 1-based rankings, line by line, because building the 0-based
    lists that ``format_csv_ballots`` takes costs as much as the writing (1M ballots).
    """
    import shlex

    from omov.textio import csv_cell

    head = f"#omov-ballots format_version={format_version} seats={seats}"
    yield csv_cell(head + (" title=" + shlex.quote(title) if title else "")) + "\n"
    yield ",".join(["weight", *(csv_cell(n) for n in names)]) + "\n"
    blank = [""] * len(names)
    marks = [str(i) for i in range(len(names) + 1)]
    for ranking, weight in groups:
        cells = blank.copy()
        for rank, ballot_number in enumerate(ranking, start=1):
            cells[ballot_number - 1] = marks[rank]
        yield f"{weight},{','.join(cells)}\n"


def parse_own_blt(text: str) -> tuple[int, int, Counter[Ranking]]:
    """Read back a BLT that ``blt_lines`` wrote: (candidates, seats, grouped rankings).

    Only for merging intakes; the count reads BLT with its own full reader (count.blt).
    """
    lines = text.split("\n")
    ncand, seats = (int(x) for x in lines[0].split())
    rankings: Counter[Ranking] = Counter()
    for line in lines[1:]:
        if line == "0":
            return ncand, seats, rankings
        weight, *prefs = (int(x) for x in line.split())
        if not prefs or prefs[-1] != 0:
            raise ValueError(f"not an omov intake BLT line: {line[:40]!r}")
        rankings[tuple(prefs[:-1])] += weight
    raise ValueError("no end-of-ballots line '0'")
