"""BLT ballot files (Hill / ERS / OpenSTV / Droop format): the project's one reader and writer.

Why one module in ``omov/``: intake (``vote/``) writes BLT and the count (``count/``) reads it;
two implementations quoted names differently. Imports flow dedupe → issue → vote → count, so the
shared format lives here. Layout::

    4 2                 number of candidates, number of seats (at least 1)
    -3                  optional: withdrawn candidates, negated
    5 1 2 0             weight, preferences (1-based candidate numbers), 0
    3 2=3 1 0           "2=3": two candidates at one rank (void for uncertainty, ERS97 6.10)
    0                   end of ballots
    "Alice"             one name line per candidate, in candidate-number order
    "Eddie ANDERSON" "Independent"     a second quoted string is the candidate's affiliation
    "Ann ""Red"" Smith" a doubled quote (or \\") inside a name is one quote
    Bob Jones           a bare line is one name (public Scottish ward files)
    "Title"             the election title (required: it tells a missing name from the title)

Dialects read: OpenSTV / ERS (quoted names, quoted title), Droop (``#`` comments, ``(id)`` ballot
ids, ``-`` skipped ranks, ``=`` equal ranks), and the public Scottish ward files (a party as a
second quoted string, doubled quotes, bare names and titles). The writer quotes with doubled
quotes, so every name round-trips.

Why a byte-level reader: a 1M-ballot file is ~25 MB and ~10M numbers; numpy tokenises it in a
fraction of a second where a per-token Python loop takes many seconds. Lines the fast path cannot
read fall back to a per-line reader that names the offending line.

Arithmetic bound: weights are whole numbers ≥ 0 and a file's weights may total at most
:data:`MAX_TOTAL_WEIGHT` (10^15 papers) — far beyond any election, and low enough that every
weight sum and every scaled vote the count builds from them is exact (no 64-bit wrap); a larger
file is refused (exit 2), never counted wrongly.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from omov.errors import InputError

#: Padding after a ranking's last preference (also: "no candidate here").
PAD = -1
#: A rank that is void for uncertainty or missing: the paper ends just before it.
UNCERTAIN = -2
#: Largest total of weights a ballot file may hold (documented in docs/formats-count.md).
MAX_TOTAL_WEIGHT = 10**15

_END = re.compile(rb"^[ \t]*0[ \t]*\r?$", re.M)
_FIX = "see docs/formats-count.md (BLT): 'weight pref pref … 0' per line, a line '0', then names"
_NAMES_FIX = (
    "after the '0' line put one name line per candidate (in candidate-number order), then one "
    "title line; see docs/formats-count.md (BLT)"
)

PrefArray = npt.NDArray[np.int32]
WeightArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class BltFile:
    """A BLT file as read: raw rankings (0-based, :data:`PAD`-padded, :data:`UNCERTAIN` marks)."""

    n_candidates: int
    seats: int
    withdrawn: tuple[int, ...]  # 0-based
    prefs: PrefArray
    weights: WeightArray
    names: tuple[str, ...]
    affiliations: tuple[str, ...]  # "" where the name line has none
    title: str
    first_ballot_line: int  # 1-based line of the first ballot (for messages)

    def rankings(self) -> Counter[tuple[int, ...]]:
        """Grouped rankings of 1-based candidate numbers (ends at the first PAD/UNCERTAIN)."""
        out: Counter[tuple[int, ...]] = Counter()
        for row, w in zip(self.prefs.tolist(), self.weights.tolist(), strict=True):
            prefix: list[int] = []
            for c in row:
                if c < 0:
                    break
                prefix.append(c + 1)
            out[tuple(prefix)] += int(w)
        return out


# ---- reading --------------------------------------------------------------------------------


def read_blt(path: str | Path, *, notes_after_title: bool = False) -> BltFile:
    """Read a BLT file (any dialect above); :class:`InputError` names the file and line.

    Lines after the title are refused (they usually mean the header's number of candidates is
    wrong) unless ``notes_after_title`` (e.g. Wichmann's ERBS test files, which end with notes)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read ballot file: {exc.strerror}", path=str(p)) from exc
    return parse_blt(data, str(p), notes_after_title=notes_after_title)


def parse_blt(data: bytes, path: str = "<blt>", *, notes_after_title: bool = False) -> BltFile:
    """Parse BLT bytes into a :class:`BltFile` (see :func:`read_blt`)."""
    n_cand, seats, pos, line = _header(data, path)
    withdrawn: list[int] = []
    nl = data.find(b"\n", pos)
    first = data[pos : len(data) if nl < 0 else nl].strip()
    if first.startswith(b"-"):
        try:
            withdrawn = [-int(x) - 1 for x in first.split()]
        except ValueError:
            raise InputError(
                "bad withdrawn-candidates line", path=path, line=line, fix=_FIX
            ) from None
        if any(not (0 <= w < n_cand) for w in withdrawn):
            raise InputError("withdrawn candidate number out of range", path=path, line=line)
        pos, line = (len(data) if nl < 0 else nl + 1), line + 1
    end = _end_of_ballots(data, pos)
    if end is None:
        raise InputError("no '0' line ends the ballots", path=path, fix=_FIX)
    section = data[pos : end[0]]
    fast = _parse_fast(section, path, line, n_cand)
    prefs, weights = fast if fast is not None else _parse_slow(section, path, line, n_cand)
    _check_total(weights, path, line)
    names_line = line + section.count(b"\n") + 1
    tail = data[end[1] :]
    tail = tail[1:] if tail.startswith(b"\n") else tail  # the rest of the '0' line
    names, parties, title = read_names(tail, path, n_cand, names_line, notes_after_title)
    return BltFile(n_cand, seats, tuple(withdrawn), prefs, weights, names, parties, title, line)


def _header(data: bytes, path: str) -> tuple[int, int, int, int]:
    """(candidates, seats, byte offset of the line after the header, its 1-based line number)."""
    pos, line = 0, 1
    if data.startswith(b"\xef\xbb\xbf"):
        pos = 3
    while True:
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
        text = data[pos:end].split(b"#", 1)[0].strip()
        if text:
            parts = text.split()
            if len(parts) != 2 or not all(x.isdigit() for x in parts):
                raise InputError(
                    "first line must be '<candidates> <seats>'", path=path, line=line, fix=_FIX
                )
            n_cand, seats = int(parts[0]), int(parts[1])
            if n_cand < 1:
                raise InputError("the header says 0 candidates", path=path, line=line, fix=_FIX)
            if seats < 1:
                raise InputError(
                    "the header says 0 seats: at least one place must be filled",
                    path=path,
                    line=line,
                    fix="write the number of places after the number of candidates, e.g. "
                    f"'{n_cand} 1', or pass --seats N",
                )
            return n_cand, seats, (len(data) if nl < 0 else nl + 1), line + 1
        if nl < 0:
            raise InputError("empty ballot file", path=path, fix=_FIX)
        pos, line = nl + 1, line + 1


def _end_of_ballots(data: bytes, pos: int) -> tuple[int, int] | None:
    """(start, end) of the first line that is just ``0`` — found with bytes.find, which is far
    faster than a multi-line regex over 25 MB; the regex only confirms each candidate line."""
    at = pos - 1 if pos > 0 and data[pos - 1 : pos] == b"\n" else pos
    while True:
        hit = data.find(b"\n0", at) if at >= 0 else -1
        if pos == 0 and at == 0 and data[:1] == b"0":
            hit = -1
        if hit < 0:
            m = _END.search(data, pos)
            return None if m is None else (m.start(), m.end())
        m = _END.match(data, hit + 1)
        if m is not None:
            return (m.start(), m.end())
        at = hit + 1


def _parse_fast(
    section: bytes, path: str, line0: int, n_cand: int
) -> tuple[PrefArray, WeightArray] | None:
    """Digits-and-whitespace ballot lines, vectorised; ``None`` if another byte is present.

    numpy's C parser reads every number at once; the line structure comes from counting token
    starts between newlines, so a line is never guessed from its closing 0. A number too large
    for 64 bits saturates in that parser, so weights are checked against the bound afterwards.
    """
    buf = np.frombuffer(section, dtype=np.uint8)
    if buf.size == 0:
        return np.full((0, 1), PAD, dtype=np.int32), np.zeros(0, dtype=np.int64)
    if section.translate(None, b"0123456789 \t\r\n"):  # any other byte: the slower reader
        return None
    digit = (buf - np.uint8(48)) < 10  # uint8 wraps: only '0'..'9' are below 10
    tok_start = digit.copy()
    tok_start[1:] &= ~digit[:-1]
    del digit
    line_starts = np.concatenate(([0], np.flatnonzero(buf == 10) + 1))
    line_starts = line_starts[line_starts < buf.size]
    tok_pos = np.flatnonzero(tok_start)
    del tok_start
    per_line = np.diff(np.append(np.searchsorted(tok_pos, line_starts), tok_pos.size))
    del tok_pos
    vals = np.fromstring(section, dtype=np.int64, sep=" ")  # C parser, text mode
    if vals.size != int(per_line.sum()):
        raise InputError("could not read every number in the ballots", path=path, fix=_FIX)
    lines = np.flatnonzero(per_line > 0)
    counts = per_line[lines]
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    if (counts < 2).any():
        ln = int(lines[np.argmax(counts < 2)]) + line0
        raise InputError(
            "a ballot line needs a weight and a closing 0", path=path, line=ln, fix=_FIX
        )
    last = first + counts - 1
    if (vals[last] != 0).any():
        ln = int(lines[np.argmax(vals[last] != 0)]) + line0
        raise InputError("ballot line does not end with 0", path=path, line=ln, fix=_FIX)
    weights = vals[first]
    if weights.size and int(weights.max()) > MAX_TOTAL_WEIGHT:
        ln = int(lines[np.argmax(weights > MAX_TOTAL_WEIGHT)]) + line0
        raise _too_heavy(path, ln)
    width = int(counts.max()) - 2
    prefs = np.full((lines.size, width + 1), PAD, dtype=np.int32)
    for j in range(width):
        rows = np.flatnonzero(counts > j + 2)
        col = vals[first[rows] + 1 + j]
        if col.size and (col.min() < 1 or col.max() > n_cand):
            ln = int(lines[rows[np.argmax((col < 1) | (col > n_cand))]]) + line0
            raise InputError(
                f"candidate number out of range 1..{n_cand}", path=path, line=ln, fix=_FIX
            )
        prefs[rows, j] = col - 1
    return prefs, weights


_WEIGHT = re.compile(r"^\d+$")


def _parse_slow(
    section: bytes, path: str, line0: int, n_cand: int
) -> tuple[PrefArray, WeightArray]:
    """Line-by-line reader for rarer dialects: ``(id)``, ``a=b`` ties, ``-`` skipped ranks,
    ``#`` comments; refuses a negative or fractional weight naming its line."""
    rows: list[list[int]] = []
    weights: list[int] = []
    for i, raw in enumerate(section.decode("utf-8", "replace").splitlines()):
        ln = line0 + i
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        toks = text.split()
        if toks[0].startswith("("):  # a ballot id: ignored
            toks = toks[1:]
        if len(toks) < 2 or toks[-1] != "0":
            raise InputError("ballot line must be 'weight prefs… 0'", path=path, line=ln, fix=_FIX)
        if not _WEIGHT.match(toks[0]):
            raise InputError(
                f"weight {toks[0]!r} is not a whole number ≥ 0",
                path=path,
                line=ln,
                fix="a weight counts identical papers: write 0, 1, 2, …",
            )
        weight = int(toks[0])
        if weight > MAX_TOTAL_WEIGHT:
            raise _too_heavy(path, ln)
        row: list[int] = []
        for tok in toks[1:-1]:
            if tok == "-" or "=" in tok:  # skipped rank, or several candidates at one rank
                row.append(UNCERTAIN)
                continue
            if not tok.isdigit() or not (1 <= int(tok) <= n_cand):
                raise InputError(
                    f"bad candidate number {tok!r} (1..{n_cand})", path=path, line=ln, fix=_FIX
                )
            row.append(int(tok) - 1)
        rows.append(row)
        weights.append(weight)
    width = max((len(r) for r in rows), default=0) + 1
    prefs = np.full((len(rows), width), PAD, dtype=np.int32)
    for i, r in enumerate(rows):
        prefs[i, : len(r)] = r
    return prefs, np.asarray(weights, dtype=np.int64)


def total_weight(weights: WeightArray) -> int:
    """Exact sum of weights (int64 sums only where they cannot wrap, else Python ints)."""
    if weights.size == 0:
        return 0
    if int(weights.max()) < 2**31 and weights.size < 2**32:
        return int(weights.sum())
    return sum(int(w) for w in weights.tolist())


def _check_total(weights: WeightArray, path: str, line: int) -> None:
    if total_weight(weights) > MAX_TOTAL_WEIGHT:
        raise _too_heavy(path, line)


def _too_heavy(path: str, line: int) -> InputError:
    return InputError(
        f"the weights exceed the bound of {MAX_TOTAL_WEIGHT:,} papers in total",
        path=path,
        line=line,
        fix="a weight is a number of identical papers: check the file was not corrupted",
    )


# ---- names ----------------------------------------------------------------------------------


def parse_name_line(text: str, path: str, line: int) -> tuple[str, str]:
    """(name, affiliation) from one name line.

    The first quoted string is the name; a second is the affiliation (e.g. a party); ``""`` or
    ``\\"`` inside a quoted string is one quote and ``\\\\`` one backslash. A line that does not
    start with a quote is one bare name, whole (``Ward #4`` keeps its ``#``); after quoted
    strings, ``#`` starts a comment.
    """
    s = text.strip()
    if not s.startswith('"'):
        return s, ""
    strings: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch.isspace():
            i += 1
        elif ch == "#":
            break
        elif ch == '"':
            value, i = _quoted(s, i + 1, path, line)
            strings.append(value)
        else:
            raise InputError(
                f"unexpected text {s[i:][:20]!r} after a quoted name",
                path=path,
                line=line,
                fix='quote the name once: "Name" or "Name" "Party"',
            )
    if len(strings) > 2:
        raise InputError(
            f"a name line holds a name and at most one affiliation, found {len(strings)} "
            "quoted strings",
            path=path,
            line=line,
            fix='write "Name" "Party"; a quote inside a name is doubled: "Ann ""Red"" Smith"',
        )
    return strings[0], strings[1] if len(strings) == 2 else ""


def _quoted(s: str, i: int, path: str, line: int) -> tuple[str, int]:
    """The quoted string starting after the opening quote at ``i - 1``; returns (value, next)."""
    out: list[str] = []
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s) and s[i + 1] in '"\\':
            out.append(s[i + 1])
            i += 2
        elif ch == '"' and i + 1 < len(s) and s[i + 1] == '"':
            out.append('"')
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise InputError("a quoted name is not closed", path=path, line=line, fix=_NAMES_FIX)


def read_names(
    tail: bytes, path: str, n_cand: int, line0: int, notes_after_title: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """Exactly ``n_cand`` name lines then one title line (blank and ``#`` lines skipped); lines
    after the title are an error unless ``notes_after_title``."""
    try:
        text = tail.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            "the names are not UTF-8 text", path=path, line=line0, fix="save the file as UTF-8"
        ) from None
    entries: list[tuple[int, str]] = []
    for i, raw in enumerate(text.splitlines()):
        if raw.strip() and not raw.lstrip().startswith("#"):
            entries.append((line0 + i, raw))
    if len(entries) < n_cand + 1:
        found = len(entries)
        raise InputError(
            f"the header says {n_cand} candidates: {n_cand} name lines and a title line are "
            f"needed after the ballots, found {found} line(s)"
            + (" (is a name or the title missing?)" if found == n_cand else ""),
            path=path,
            line=entries[-1][0] if entries else line0,
            fix=_NAMES_FIX,
        )
    if len(entries) > n_cand + 1 and not notes_after_title:
        raise InputError(
            f"more name lines than the header's {n_cand} candidates (line {entries[n_cand][0]} "
            "would be read as the title, the rest ignored)",
            path=path,
            line=entries[n_cand + 1][0],
            fix="make the header's first number the number of candidates, or remove the lines "
            "after the title (notes some tools append)",
        )
    parsed = [parse_name_line(raw, path, ln) for ln, raw in entries[: n_cand + 1]]
    names = tuple(n for n, _ in parsed[:n_cand])
    for (ln, _), name in zip(entries, names, strict=False):
        if not name:
            raise InputError("a candidate name is empty", path=path, line=ln, fix=_NAMES_FIX)
        if names.count(name) > 1:
            raise InputError(
                f"candidate name {name!r} appears twice", path=path, line=ln, fix=_NAMES_FIX
            )
    return names, tuple(a for _, a in parsed[:n_cand]), parsed[n_cand][0]


# ---- writing --------------------------------------------------------------------------------


def quote(text: str) -> str:
    """A BLT quoted string read back exactly by :func:`parse_name_line`: a quote is doubled (as
    the Scottish ward files write it), a backslash written ``\\\\``; a line break inside a name
    becomes a space (a name is one line)."""
    flat = " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text
    return '"' + flat.replace("\\", "\\\\").replace('"', '""') + '"'


def blt_lines(
    groups: Iterable[tuple[Sequence[int], int]],
    names: Sequence[str],
    seats: int,
    title: str,
    *,
    withdrawn: Sequence[int] = (),
    affiliations: Sequence[str] | None = None,
) -> Iterator[str]:
    """BLT text line by line from (ranking of 1-based candidate numbers, weight) groups."""
    yield f"{len(names)} {seats}\n"
    if withdrawn:
        yield " ".join(f"-{w + 1}" for w in withdrawn) + "\n"
    for ranking, weight in groups:
        prefs = " ".join(map(str, ranking))
        yield f"{int(weight)} {prefs} 0\n" if prefs else f"{int(weight)} 0\n"
    yield "0\n"
    for i, name in enumerate(names):
        party = affiliations[i] if affiliations else ""
        yield quote(name) + (" " + quote(party) if party else "") + "\n"
    yield quote(title) + "\n"
