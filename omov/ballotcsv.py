"""omov's CSV ballot file (a rank grid): the writer shared by intake (``vote/``), which writes it,
and the count (``count/ballot_files.py``), which reads it. Format: docs/formats-count.md §1.2.

Why here: imports flow dedupe → issue → vote → count, so intake cannot import the count; the
format's version and its writer live in ``omov/`` where both can reach them.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Sequence

from omov.textio import csv_cell

#: The ``format_version`` written in the ``#omov-ballots`` preamble (and the one the count reads).
CSV_FORMAT_VERSION = 1


def csv_grid_lines(
    groups: Iterable[tuple[Sequence[int], int]],
    names: Sequence[str],
    seats: int,
    title: str,
    *,
    withdrawn: Sequence[str] = (),
) -> Iterator[str]:
    """The CSV ballot grid line by line from (ranking of 1-based candidate numbers, weight).

    Written straight from 1-based rankings, line by line: building other structures first costs
    as much as the writing at 1M ballots.
    """
    head = f"#omov-ballots format_version={CSV_FORMAT_VERSION} seats={seats}"
    # A preamble line holding a comma becomes one quoted cell (the reader undoes it), so a title
    # can never start a second, executable cell; names are neutralised (docs/formats.md).
    yield csv_cell(head + (" title=" + shlex.quote(title) if title else "")) + "\n"
    if withdrawn:
        yield csv_cell("#withdrawn=" + shlex.quote("|".join(withdrawn))) + "\n"
    yield ",".join(["weight", *(csv_cell(n) for n in names)]) + "\n"
    blank = [""] * len(names)
    marks = [str(i) for i in range(len(names) + 1)]
    for ranking, weight in groups:
        cells = blank.copy()
        for rank, ballot_number in enumerate(ranking, start=1):
            cells[ballot_number - 1] = marks[rank]
        yield f"{int(weight)},{','.join(cells)}\n"
