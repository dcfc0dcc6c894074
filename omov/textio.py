"""File edges shared by the candidates' pack, intake and the scrutineer's report: HTML, CSV, JSON.

Why one module: every HTML page omov hands to members or scrutineers must be self-contained (no
network, no scripts from elsewhere) and auto-escaped (names and bios are member-supplied text), so
they are all rendered the same way, here.
"""

from __future__ import annotations

import csv
import io
import json
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from omov.csvsafe import FIRST_CHARS, neutralise_value, restore
from omov.errors import InputError
from omov.fileio import write_text_atomic

if TYPE_CHECKING:  # jinja2 is imported where a page is rendered: fast CLI start-up
    import jinja2


@cache
def _environment(package: str) -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_html(package: str, template: str, **context: Any) -> str:
    """Render one of PACKAGE/templates/*.html.j2 (auto-escaped, strict about missing values)."""
    return _environment(package).get_template(template).render(**context)


def csv_text(header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV text with one header row and ``\\n`` line ends; formula-like cells neutralised.

    Every cell (header included) goes through ``omov.csvsafe.neutralise_value``: a cell a
    spreadsheet would execute is written with a leading ``'`` (docs/formats.md).
    """
    names = list(header)
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writerow(names)
    get = [operator.itemgetter(name) for name in names]
    for row in rows:
        try:
            writer.writerow([g(row) for g in get])
        except KeyError:  # a missing column is written empty, as csv.DictWriter does
            writer.writerow([row.get(name) for name in names])
    return buf.getvalue()


class SafeCsvWriter:
    """``csv.writer`` (``\\n`` line ends) that neutralises every cell (``omov.csvsafe``).

    A row with a carriage return in a cell is written fully quoted: Python's csv module (3.11)
    leaves a lone ``\\r`` unquoted when the line end is ``\\n``, and a spreadsheet (or a
    reader) would start a new row there, whose first cell escaped neutralisation.
    """

    def __init__(self, fh: IO[str]) -> None:
        self._writer = csv.writer(fh, lineterminator="\n")
        self._quoted = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[Any]) -> None:
        # Inline fast path (most cells are ints or text with a harmless first character);
        # everything else goes through csvsafe.neutralise_value.
        first = FIRST_CHARS
        cells = [
            c
            if (c.__class__ is str and c[:1] not in first) or c.__class__ is int or c is None
            else neutralise_value(c)
            for c in row
        ]
        # repr() shows a CR as \\r (C speed); a literal backslash-r only quotes a row for nothing.
        if "\\r" in repr(cells):
            self._quoted.writerow(cells)
        else:
            self._writer.writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(fh: IO[str]) -> SafeCsvWriter:
    """The one way to write CSV rows to an open text file: cells neutralised."""
    return SafeCsvWriter(fh)


def csv_cell(value: Any) -> str:
    """One cell as ``csv.writer`` would write it (quoted only if needed), neutralised.

    For writers that join cells themselves for speed (omov's ballot grid).
    """
    text = "" if value is None else str(neutralise_value(value))
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """Write a CSV atomically (0600) and return its SHA-256; cells neutralised (``csv_text``)."""
    return write_text_atomic(path, csv_text(header, rows))


def read_csv_records(text: str) -> list[list[str]]:
    """The rows of a CSV omov wrote, each cell restored to its raw value (``csvsafe.restore``)."""
    return [[restore(cell) for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]


def read_csv_columns(path: Path, columns: Sequence[str]) -> Iterator[list[str]]:
    """Stream a CSV omov wrote: per row, the ``columns`` (in that order) restored to their raw
    values (``csvsafe.restore``) and stripped. InputError names the file and line of a missing
    column or a short row."""
    if not path.is_file():
        raise InputError("file not found", path=str(path))
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", path=str(path), line=1)
        for row in reader:
            if any(row.get(c) is None for c in columns):
                raise InputError("short row", path=str(path), line=reader.line_num)
            yield [restore(row[c]).strip() for c in columns]


def read_text(path: Path, what: str) -> str:
    """A UTF-8 text input, or InputError (exit 2) naming the file."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found", path=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{what} cannot be read ({exc})", path=str(path), fix="save it as UTF-8 text"
        ) from exc


def read_json(path: Path, what: str) -> Any:
    """A JSON input, or InputError (exit 2) naming the file and line."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} is not valid JSON ({exc.msg})", path=str(path), line=exc.lineno
        ) from exc
