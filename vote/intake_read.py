"""Reading channel files for intake: bounded, streaming, with exact line numbers.

Every reader here streams (one line at a time, never a whole file in memory) and every line is
bounded: a line longer than ``MAX_LINE_CHARS`` (64 KiB) stops the run with exit 2 naming it, so a
1 GiB field is refused after reading 64 KiB of it, never read whole. A header that is not
``token,preferences`` is refused with what was found and the fix (another delimiter, swapped
columns, no header at all). Tokens are normalised by issue/'s ``normalise_token`` (the one
implementation), with a vectorised fast path that only ever *accepts* a token it has verified.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from omov.errors import InputError, UsageError
from vote.intake_result import ReturnedRow

#: The longest line (a row: token, comma, marks) intake reads; no returned paper comes near it.
MAX_LINE_CHARS = 64 * 1024
_CHANNEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_HEADER = ["token", "preferences"]
_HEADER_FIX = "the first line must be the header token,preferences (comma-separated)"


@dataclass(frozen=True)
class Channel:
    """One channel file: its name (online, postal, …) and path."""

    name: str
    path: Path


def parse_channels(files: Sequence[Path], specs: Sequence[str]) -> list[Channel]:
    """Channels from plain paths (name = file stem) and ``NAME=PATH`` specs; names unique."""
    channels = [Channel(p.stem, p) for p in files]
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not path:
            raise UsageError(f"--channel {spec!r}: expected NAME=PATH")
        channels.append(Channel(name.strip(), Path(path)))
    if not channels:
        raise UsageError("no returned-ballot files given", fix="pass FILES or --channel NAME=PATH")
    names = [c.name for c in channels]
    for c in channels:
        if not _CHANNEL.match(c.name):
            raise UsageError(f"channel name {c.name!r}: use letters, digits, '.', '_' or '-'")
        if names.count(c.name) > 1:
            raise UsageError(
                f"channel {c.name!r} given twice", fix="name channels with --channel NAME=PATH"
            )
        if not c.path.is_file():
            raise InputError("returned-ballot file not found", path=str(c.path))
    return channels


def _too_long(path: str, line: int) -> InputError:
    return InputError(
        f"line longer than {MAX_LINE_CHARS:,} characters (a limit: no returned paper is this "
        "long); refused without reading the rest of it",
        path=path,
        line=line,
        fix="this is not a returns file, or it is corrupt: check the file's export",
    )


def read_rows(channel: Channel) -> Iterator[ReturnedRow]:
    """Rows of one channel file, one per physical line, with its exact line number.

    A bad header, a line over ``MAX_LINE_CHARS`` or bytes that are not UTF-8 stop the run (exit
    2) before any token is used. Why not ``csv.reader``: a token and a mark string never hold a
    comma, quote or newline, so a line *is* a row; splitting lines is faster at 1M rows and keeps
    line numbers exact. A line with a double quote is parsed as CSV on its own.
    """
    path = str(channel.path)
    limit = MAX_LINE_CHARS
    try:
        fh = open(channel.path, encoding="utf-8-sig", newline="")  # noqa: SIM115 (generator)
    except OSError as exc:
        raise InputError(f"cannot open ({exc})", path=path) from exc
    with fh:
        try:
            header = fh.readline(limit + 1)
            if len(header) > limit:
                raise _too_long(path, 1)
            check_header(header, path)
            readline = fh.readline
            lineno = 1
            while raw := readline(limit + 1):
                lineno += 1
                if len(raw) > limit:
                    raise _too_long(path, lineno)
                line = raw.rstrip("\r\n")
                if not line.strip():
                    continue  # an empty line is not a returned paper
                fields = next(csv.reader([line])) if '"' in line else line.split(",")
                if len(fields) != 2:
                    yield ReturnedRow(channel.name, lineno, "", "", f"{len(fields)} fields")
                else:
                    yield ReturnedRow(channel.name, lineno, fields[0], fields[1])
        except UnicodeDecodeError as exc:
            raise InputError(
                "not UTF-8 text",
                path=path,
                line=_first_bad_line(channel.path),
                fix="save the file as UTF-8",
            ) from exc


def _first_bad_line(path: Path) -> int | None:
    """The line holding the first bytes that are not UTF-8 (bounded reads, like ``read_rows``)."""
    with open(path, "rb") as fh:
        lineno = 0
        while raw := fh.readline(4 * MAX_LINE_CHARS + 1):
            lineno += 1
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return lineno
    return None


def _cells(text: str, sep: str) -> list[str]:
    return [h.strip().strip('"').strip().lower() for h in text.split(sep)]


def check_header(raw: str, path: str) -> None:
    """Refuse (exit 2) a first line that is not ``token,preferences``, saying what it is."""
    text = raw.strip("\r\n")
    if not text.strip():
        raise InputError(
            "the first line is empty: expected the header token,preferences",
            path=path,
            line=1,
            fix=_HEADER_FIX,
        )
    cells = _cells(text, ",")
    if cells == _HEADER:
        return
    if cells == _HEADER[::-1]:
        raise InputError(
            "found the header preferences,token: the columns are swapped",
            path=path,
            line=1,
            fix="put the token column first: token,preferences",
        )
    for sep, name in ((";", "';'"), ("\t", "TAB"), ("|", "'|'")):
        if _cells(text, sep) == _HEADER:
            raise InputError(
                f"the header is separated by {name}, not a comma",
                path=path,
                line=1,
                fix="save the file comma-separated (token,preferences) with ';' between marks",
            )
    if any(normalise_one(piece)[0] is not None for piece in re.split(r"[,;\t|]", text)):
        raise InputError(
            "no header: the first line is a returned ballot, not token,preferences",
            path=path,
            line=1,
            fix="add the header line token,preferences at the top (no ballot was lost)",
        )
    shown = ", ".join(repr(c[:30]) for c in cells[:4])
    raise InputError(
        f"expected the header token,preferences, found the columns {shown}",
        path=path,
        line=1,
        fix=_HEADER_FIX,
    )


def check_headers(channels: Sequence[Channel]) -> None:
    """Fail on a bad header in any file before anything else is read."""
    for channel in channels:
        next(iter(read_rows(channel)), None)


def all_rows(channels: Sequence[Channel]) -> Iterator[ReturnedRow]:
    """Every row of every channel file, in the order the channels were given."""
    for channel in channels:
        yield from read_rows(channel)


# ---- tokens ----------------------------------------------------------------------------------


def normalise_one(text: str) -> tuple[str | None, str]:
    """issue/'s lenient token reading; the error's reason (never the token) when malformed."""
    from issue.tokens import TokenFormatError, normalise_token

    try:
        return normalise_token(text), ""
    except TokenFormatError as exc:
        return None, exc.reason


def _gf32_times_two() -> npt.NDArray[np.uint8]:
    """x·s in GF(32) mod x^5 + x^2 + 1: the Damm step issue.tokens documents."""
    return np.array(
        [((s << 1) & 0x1F) ^ (0b00101 if s & 0x10 else 0) for s in range(32)], dtype=np.uint8
    )


def _symbol_values() -> npt.NDArray[np.uint8]:
    from issue.tokens import ALPHABET

    table = np.full(256, 255, dtype=np.uint8)
    for value, ch in enumerate(ALPHABET):
        table[ord(ch)] = value
    return table


_TIMES_TWO = _gf32_times_two()
_VALUES = _symbol_values()
_LENIENT = str.maketrans(
    {"O": "0", "I": "1", "L": "1", "-": None, " ": None, "\t": None, "\r": None, "\n": None}
)


def normalise(texts: Sequence[str]) -> list[tuple[str | None, str]]:
    """``normalise_one`` over a batch, vectorised for the common case (a well-typed token).

    The fast path only ever *accepts* an ASCII token whose check symbol it has verified with
    numpy; anything else (a foreign dash or space included) goes through
    issue.tokens.normalise_token, so the two can never disagree (a test compares them).
    """
    from issue.tokens import TOKEN_SYMBOLS

    cleaned = [t.upper().replace("-", "") for t in texts]
    cleaned = [
        c.translate(_LENIENT) if ("O" in c or "I" in c or "L" in c or " " in c) else c
        for c in cleaned
    ]
    idx = [i for i, c in enumerate(cleaned) if len(c) == TOKEN_SYMBOLS and c.isascii()]
    out: list[tuple[str | None, str] | None] = [None] * len(texts)
    if idx:
        raw = "".join(cleaned[i] for i in idx).encode("ascii")
        vals = _VALUES[np.frombuffer(raw, dtype=np.uint8).reshape(len(idx), TOKEN_SYMBOLS)]
        ok = (vals != 255).all(axis=1)
        running: npt.NDArray[np.uint8] = np.zeros(len(idx), dtype=np.uint8)
        for col in range(TOKEN_SYMBOLS):
            running = (_TIMES_TWO[running] ^ (vals[:, col] & 0x1F)).astype(np.uint8)
        ok &= running == 0
        for j in np.flatnonzero(ok).tolist():
            out[idx[j]] = (cleaned[idx[j]], "")
    return [o if o is not None else normalise_one(texts[i]) for i, o in enumerate(out)]
