"""File-level checks: a channel file that intake would misread is refused before any token is used.

Why: a returns file whose preferences are written ``3>1>4`` or ``"3,1,4"`` used to be taken in
with every paper ``invalid_no_first_preference``, spending every token; the corrected file was
then rejected row by row as ``token_used``, and the votes were gone. A file whose *shape* is
wrong (no row with two fields, the token and preferences columns swapped, no row whose marks can
be read) is a file problem, not a thousand spoilt papers: intake stops with exit 2 naming the
file, the line, what was found and the fix.

Pure: the core (``vote.intake``) feeds a ``ChannelShape`` per channel while it reads; the edge
asks ``file_problems`` once every file has been read, before the register is touched. What is
recorded never includes a token or a voter's marks: only counts, line numbers, and the
punctuation characters found between marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: The fix shown for any misread preferences column (docs/formats-intake.md §3).
PREFERENCES_FIX = (
    "write the mark given to each candidate in ballot-paper order, separated by ';' "
    "(with 5 candidates '2;;1;3;' ranks candidate 3 first, 1 second, 4 third); a list of "
    "candidates in order of preference such as 3>1>4 must be turned into marks first"
)
_MAX_SEPARATORS = 6


@dataclass
class ChannelShape:
    """What one channel file looked like, for the file-level checks (counts and lines only)."""

    rows: int = 0
    bad_rows: int = 0  #: not exactly two fields
    first_bad_row: tuple[int, str] | None = None  #: (line, problem)
    bad_tokens: int = 0  #: token field malformed
    swapped: int = 0  #: ... and the preferences field is a well-formed token
    first_swapped: int | None = None
    foreign: int = 0  #: papers with a mark that is neither a number nor a cross
    first_foreign: int | None = None
    separators: list[str] = field(default_factory=list)  #: punctuation found in foreign marks
    blank: int = 0

    def bad_row(self, line: int, problem: str) -> None:
        self.bad_rows += 1
        if self.first_bad_row is None:
            self.first_bad_row = (line, problem)

    def bad_token(self, line: int, swapped: bool) -> None:
        self.bad_tokens += 1
        if swapped:
            self.swapped += 1
            if self.first_swapped is None:
                self.first_swapped = line

    def odd_paper(self, line: int, preferences: str, foreign: bool) -> None:
        """A paper that is blank or holds a foreign mark (the rare path: counted here)."""
        if not foreign:
            self.blank += 1
            return
        self.foreign += 1
        if self.first_foreign is None:
            self.first_foreign = line
        if len(self.separators) < _MAX_SEPARATORS:
            for ch in preferences:
                if not (ch.isalnum() or ch.isspace() or ch == ";") and ch not in self.separators:
                    self.separators.append(ch)


@dataclass(frozen=True)
class FileProblem:
    """One reason a channel file cannot be taken in: where, what was found, how to fix it."""

    channel: str
    line: int
    found: str
    fix: str


def _shape_problem(channel: str, shape: ChannelShape) -> FileProblem | None:
    if shape.rows and shape.bad_rows == shape.rows and shape.first_bad_row is not None:
        line, problem = shape.first_bad_row
        return FileProblem(
            channel,
            line,
            f"no row has the two fields token,preferences (this one has {problem}); the "
            "delimiter is not a comma, or the marks are separated by commas",
            "save the file comma-separated with exactly two columns, token and preferences, "
            "and separate the marks with ';' (e.g. ABCD-…-C,2;;1;3)",
        )
    good = shape.rows - shape.bad_rows
    checked = min(shape.bad_tokens, 200)
    if shape.swapped and 2 * shape.bad_tokens >= good and 2 * shape.swapped >= checked:
        return FileProblem(
            channel,
            shape.first_swapped or 2,
            "the token and preferences columns are swapped: the preferences column holds "
            f"ballot tokens ({shape.swapped} of the first {checked} rows checked)",
            "put the token in the first column and the preferences in the second, matching "
            "the header token,preferences",
        )
    return None


def _marks_problem(channel: str, shape: ChannelShape, classified: int) -> FileProblem | None:
    readable = classified - shape.foreign - shape.blank
    if shape.foreign == 0 or readable > 0:
        return None
    seps = " ".join(repr(c) for c in shape.separators) or "letters"
    return FileProblem(
        channel,
        shape.first_foreign or 2,
        f"no row's preferences can be read: {shape.foreign} rows hold marks that are not "
        f"numbers (they contain {seps}), and no row has marks omov can read",
        PREFERENCES_FIX,
    )


def file_problems(
    shapes: Mapping[str, ChannelShape], classified: Mapping[str, int]
) -> list[FileProblem]:
    """Every file-level problem, one per channel at most (in channel order)."""
    found: list[FileProblem] = []
    for channel, shape in shapes.items():
        problem = _shape_problem(channel, shape) or _marks_problem(
            channel, shape, classified.get(channel, 0)
        )
        if problem is not None:
            found.append(problem)
    return found
