"""Ballot and reminder emails: multipart text + HTML from templates, one per dispatch row.

Why templates in files (``issue/templates/ballot_email.*.j2``): the words a member reads are the
scrutineer's to check, in one place for email and reminder. The HTML part is auto-escaped (names
are member-supplied text); the text part is plain. Both say the election, the organisations, the
closing date, how to vote online and by post, the scrutineer's contact and the candidates' pack.

The token appears only in the message body and in the voting link as the dispatch file has it
(``issue.dispatch``); it is never in a header, a log line or the send log.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from functools import cache
from pathlib import Path

import jinja2

from issue.notice import Notice
from omov.errors import InputError, UsageError

EMAIL_COLUMNS = ("batch", "person_id", "token", "full_name", "first_name", "email", "vote_link")


@dataclass(frozen=True)
class Recipient:
    """One row of a dispatch_email.csv: a person, their current token and its link."""

    batch: str
    person_id: str
    token: str
    full_name: str
    first_name: str
    email: str
    vote_link: str


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("issue", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def read_recipients(path: Path) -> Iterator[Recipient]:
    """Stream the rows of a dispatch_email.csv (InputError naming the line if one is short)."""
    if not path.is_file():
        raise InputError("dispatch file not found", path=str(path), fix="run `omov issue run`")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in EMAIL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", path=str(path), line=1)
        for row in reader:
            if any(row.get(c) is None for c in EMAIL_COLUMNS):
                raise InputError("short row", path=str(path), line=reader.line_num)
            yield Recipient(*(row[c].strip() for c in EMAIL_COLUMNS))


def parse_sender(text: str) -> Address:
    """``--from``: 'ballots@example.org' or 'Scrutineer <ballots@example.org>'."""
    from email.headerregistry import HeaderRegistry

    try:
        header = HeaderRegistry()("From", text)
        addresses = header.addresses  # type: ignore[attr-defined]
    except (ValueError, IndexError):
        addresses = ()
    if len(addresses) != 1 or not addresses[0].domain:
        raise UsageError(f"--from {text!r} is not one email address")
    return addresses[0]  # type: ignore[no-any-return]


class MessageBuilder:
    """Renders one member's email; ``build`` returns (Message-ID, wire bytes)."""

    def __init__(self, notice: Notice, sender: Address, *, reminder: bool = False) -> None:
        self.notice = notice
        self.sender = sender
        self.reminder = reminder
        self._text = _env().get_template("ballot_email.txt.j2")
        self._html = _env().get_template("ballot_email.html.j2")
        prefix = "Reminder: your ballot" if reminder else "Your ballot"
        self.subject = f"{prefix}: {notice.title} (closes {notice.closes})"

    def build(self, r: Recipient) -> tuple[str, bytes]:
        """ValueError if the address cannot be one (no '@', spaces, line breaks)."""
        if r.email.count("@") != 1 or any(c.isspace() for c in r.email):
            raise ValueError("not an email address")
        context = {
            "name": r.first_name or r.full_name or "member",
            "token": r.token,
            "vote_link": r.vote_link,
            "notice": self.notice,
            "reminder": self.reminder,
        }
        msg = EmailMessage(policy=SMTP)
        message_id = f"<omov.{secrets.token_hex(12)}@{self.sender.domain}>"
        msg["Message-ID"] = message_id
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["From"] = self.sender
        msg["To"] = Address(display_name=r.full_name, addr_spec=r.email)
        msg["Subject"] = self.subject
        msg.set_content(self._text.render(context))
        msg.add_alternative(self._html.render(context), subtype="html")
        return message_id, msg.as_bytes()
