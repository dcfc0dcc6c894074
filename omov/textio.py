"""File edges shared by the candidates' pack, intake and the scrutineer's report: HTML, CSV, JSON.

Why one module: every HTML page omov hands to members or scrutineers must be self-contained (no
network, no scripts from elsewhere) and auto-escaped (names and bios are member-supplied text), so
they are all rendered the same way, here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    """CSV text with one header row and ``\\n`` line ends."""
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=list(header), lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """Write a CSV atomically and return its SHA-256."""
    return write_text_atomic(path, csv_text(header, rows))


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
