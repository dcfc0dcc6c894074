"""BLT ballot files (Hill / ERS / OpenSTV format): a fast reader and a writer.

Layout::

    4 2                 number of candidates, number of seats
    -3                  optional: withdrawn candidates, negated
    5 1 2 0             weight, preferences (1-based candidate numbers), 0
    3 2=3 1 0           "2=3": two candidates at one rank, void for uncertainty (ERS97 6.10)
    0                   end of ballots
    "Alice"             one quoted name per candidate, in candidate-number order
    ...
    "Title"             the election title

Why a byte-level reader: a 1M-ballot file is ~25 MB and ~10M numbers; tokenising it with numpy on
the
raw bytes takes a fraction of a second where a per-token Python loop takes many seconds. Lines the
fast path cannot read (ballot ids in parentheses, "=" ties, "-" skipped ranks) fall back to a
per-line reader that also names the offending line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from count.ballots import PAD, UNCERTAIN, Ballots, from_arrays
from omov.errors import InputError

_END = re.compile(rb"^[ \t]*0[ \t]*\r?$", re.M)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_FIX = "see docs/formats-count.md (BLT): 'weight pref pref … 0' per line, a line '0', then names"


def read_blt(path: str | Path, *, seats: int | None = None) -> Ballots:
    """Read and validate a BLT file; ``seats`` overrides the file's number of seats."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read ballot file: {exc.strerror}", path=str(p)) from exc
    return parse_blt(data, str(p), seats=seats)


def _header(data: bytes, path: str) -> tuple[int, int, int, int]:
    """(candidates, seats, byte offset of the line after the header, its 1-based line number)."""
    pos, line = 0, 1
    while True:
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
        text = data[pos:end].strip()
        if text and not text.startswith(b"#"):
            parts = text.split()
            if len(parts) != 2 or not all(x.isdigit() for x in parts):
                raise InputError(
                    "first line must be '<candidates> <seats>'", path=path, line=line, fix=_FIX
                )
            return int(parts[0]), int(parts[1]), (len(data) if nl < 0 else nl + 1), line + 1
        if nl < 0:
            raise InputError("empty ballot file", path=path, fix=_FIX)
        pos, line = nl + 1, line + 1


def parse_blt(data: bytes, path: str = "<blt>", *, seats: int | None = None) -> Ballots:
    """Parse BLT bytes into validated, grouped :class:`Ballots`."""
    n_cand, file_seats, pos, line = _header(data, path)
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
    names, title = _names(data[end[1] :], path, n_cand, line + section.count(b"\n") + 1)
    return from_arrays(
        names,
        file_seats if seats is None else seats,
        prefs,
        weights,
        title=title,
        withdrawn=withdrawn,
    )


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
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]] | None:
    """Digits-and-whitespace ballot lines, vectorised; ``None`` if another byte is present.

    numpy's C parser reads every number at once; the line structure comes from counting token
    starts between newlines, so a line is never guessed from its closing 0.
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
    return prefs, vals[first]


def _parse_slow(
    section: bytes, path: str, line0: int, n_cand: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """Line-by-line reader for rarer BLT dialects: ``(id)``, ``a=b`` ties, ``-`` skipped ranks."""
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
        try:
            weight = int(toks[0])
        except ValueError:
            raise InputError(f"bad weight {toks[0]!r}", path=path, line=ln, fix=_FIX) from None
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


def _names(tail: bytes, path: str, n_cand: int, line0: int) -> tuple[list[str], str]:
    """Candidate names (quoted, one a line, or bare lines) and then the title."""
    lines = [ln.strip() for ln in tail.decode("utf-8").splitlines()]
    items: list[str] = []
    for ln in lines:
        if not ln:
            continue
        found = _QUOTED.findall(ln)
        items.extend(found if found else [ln])
    if len(items) < n_cand:
        raise InputError(
            f"expected {n_cand} candidate names after the ballots, found {len(items)}",
            path=path,
            line=line0,
            fix=_FIX,
        )
    names = [x.replace('\\"', '"') for x in items[:n_cand]]
    if len(set(names)) != len(names):
        raise InputError("candidate names must be distinct", path=path, line=line0)
    title = items[n_cand] if len(items) > n_cand else ""
    return names, title


def _quote(s: str) -> str:
    return '"' + s.replace('"', '\\"') + '"'


def format_blt(
    candidates: Sequence[str],
    seats: int,
    rankings: Sequence[Sequence[int]] | npt.NDArray[np.int32],
    weights: Sequence[int] | npt.NDArray[np.int64],
    *,
    title: str = "",
    withdrawn: Sequence[int] = (),
) -> str:
    """BLT text for rankings of 0-based indices (PAD-padded arrays allowed)."""
    out = [f"{len(candidates)} {seats}"]
    if withdrawn:
        out.append(" ".join(f"-{w + 1}" for w in withdrawn))
    for row, w in zip(rankings, weights, strict=True):
        prefs = " ".join(str(int(c) + 1) for c in row if int(c) >= 0)
        out.append(f"{int(w)} {prefs} 0" if prefs else f"{int(w)} 0")
    out.append("0")
    out.extend(_quote(c) for c in candidates)
    out.append(_quote(title))
    return "\n".join(out) + "\n"
