"""The anonymised ballot files intake writes: a uniform shuffle, standard BLT, count/'s CSV grid.

Split from ``vote.intake`` (the classification core): these are pure text builders, no files.
``parse_own_blt`` reads back only what ``blt_lines`` wrote (for merging intakes), with every
number bounded: the count reads BLT with its own full reader (count.blt).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

Ranking = tuple[int, ...]  # 1-based ballot numbers in order of preference
MAX_NUMBER_DIGITS = 18  # a weight or candidate number in our own BLT fits in int64


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


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n') else text


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

    head = f"#omov-ballots format_version={format_version} seats={seats}"
    yield head + (" title=" + shlex.quote(title) if title else "") + "\n"
    yield ",".join(["weight", *(_csv_cell(n) for n in names)]) + "\n"
    blank = [""] * len(names)
    marks = [str(i) for i in range(len(names) + 1)]
    for ranking, weight in groups:
        cells = blank.copy()
        for rank, ballot_number in enumerate(ranking, start=1):
            cells[ballot_number - 1] = marks[rank]
        yield f"{weight},{','.join(cells)}\n"


def _number(text: str) -> int:
    """A whole number of at most ``MAX_NUMBER_DIGITS`` ASCII digits (never an unbounded int())."""
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_NUMBER_DIGITS:
        raise ValueError(f"not a number omov writes: {text[:20]!r}")
    return int(text)


def parse_own_blt(lines: Iterable[str]) -> tuple[int, int, Counter[Ranking]]:
    """Read back a BLT that ``blt_lines`` wrote: (candidates, seats, grouped rankings).

    Only for merging intakes; the count reads BLT with its own full reader (count.blt). Takes
    lines (a stream), and every number is bounded; a ranking naming a candidate beyond ``ncand``
    is refused.
    """
    it = iter(lines)
    ncand, seats = (_number(x) for x in next(it, "").split())
    rankings: Counter[Ranking] = Counter()
    for raw in it:
        line = raw.rstrip("\n")
        if line == "0":
            return ncand, seats, rankings
        weight, *prefs = (_number(x) for x in line.split())
        if not prefs or prefs[-1] != 0 or not all(1 <= p <= ncand for p in prefs[:-1]):
            raise ValueError(f"not an omov intake BLT line: {line[:40]!r}")
        rankings[tuple(prefs[:-1])] += weight
    raise ValueError("no end-of-ballots line '0'")
