"""The election notice: what every ballot email, reminder and postal pack tells the member.

``notice.json`` (``format_version`` ``omov.notice/1``), written by the scrutineer once::

    {"format_version": "omov.notice/1",
     "title": "NEC election 2027",
     "organisations": ["Labour Party", "Momentum"],
     "closes": "12:00 noon on Friday 29 January 2027",
     "return_by": "first post on Thursday 28 January 2027",
     "scrutineer": {"name": "…", "email": "…", "phone": "…", "address": ["…", "…"]},
     "return_address": ["Freepost OMOV BALLOT", "…"],
     "pack_url": "https://…/candidates_pack.html",
     "vote_page": "https://vote.example.org/ballot"}

Why a file and not options: the same words must reach the email, the reminder and the printed
pack, and the audit log records the notice's SHA-256 with every send and print run.
Every field is required except ``scrutineer.phone``; a missing or wrongly typed field is an
``InputError`` naming the file and the field (nothing is sent or printed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omov.errors import InputError
from omov.fileio import sha256_file
from omov.textio import read_json

FORMAT_VERSION = "omov.notice/1"


@dataclass(frozen=True)
class Scrutineer:
    name: str
    email: str
    phone: str
    address: tuple[str, ...]


@dataclass(frozen=True)
class Notice:
    """The validated notice (see the module docstring); ``sha256`` is the file's digest."""

    title: str
    organisations: tuple[str, ...]
    closes: str
    return_by: str
    scrutineer: Scrutineer
    return_address: tuple[str, ...]
    pack_url: str
    vote_page: str
    sha256: str

    @property
    def organisations_text(self) -> str:
        orgs = list(self.organisations)
        return orgs[0] if len(orgs) == 1 else ", ".join(orgs[:-1]) + " and " + orgs[-1]


def _text(doc: dict[str, Any], key: str, path: Path, where: str = "") -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"field {where}{key!r} must be non-empty text",
            path=str(path),
            fix="see docs/formats-issue.md, 'notice.json'",
        )
    return value.strip()


def _lines(doc: dict[str, Any], key: str, path: Path, where: str = "") -> tuple[str, ...]:
    value = doc.get(key)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise InputError(
            f"field {where}{key!r} must be a non-empty list of non-empty text lines",
            path=str(path),
        )
    return tuple(v.strip() for v in value)


def _url(doc: dict[str, Any], key: str, path: Path) -> str:
    url = _text(doc, key, path)
    if not url.startswith(("https://", "http://")) or "{token}" in url or "?" in url:
        raise InputError(
            f"field {key!r} must be a plain http(s) address with no query string",
            path=str(path),
            fix="a token never goes in a query string; give the page's address only",
        )
    return url


def load_notice(path: Path) -> Notice:
    """Read and validate ``notice.json``."""
    doc = read_json(path, "election notice")
    if not isinstance(doc, dict) or doc.get("format_version") != FORMAT_VERSION:
        raise InputError(f"not an {FORMAT_VERSION} file", path=str(path))
    scr = doc.get("scrutineer")
    if not isinstance(scr, dict):
        raise InputError("field 'scrutineer' must be an object", path=str(path))
    phone = scr.get("phone", "")
    return Notice(
        title=_text(doc, "title", path),
        organisations=_lines(doc, "organisations", path),
        closes=_text(doc, "closes", path),
        return_by=_text(doc, "return_by", path),
        scrutineer=Scrutineer(
            name=_text(scr, "name", path, "scrutineer."),
            email=_text(scr, "email", path, "scrutineer."),
            phone=phone.strip() if isinstance(phone, str) else "",
            address=_lines(scr, "address", path, "scrutineer."),
        ),
        return_address=_lines(doc, "return_address", path),
        pack_url=_url(doc, "pack_url", path),
        vote_page=_url(doc, "vote_page", path),
        sha256=sha256_file(path),
    )


def notice_if_present(out: Path) -> Notice | None:
    """``OUT/notice.json`` if the scrutineer has written it (validated), else None."""
    path = out / "notice.json"
    return load_notice(path) if path.is_file() else None
