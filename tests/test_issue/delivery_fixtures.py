"""A real SMTP server on 127.0.0.1 (aiosmtpd) and a small issued election for delivery tests."""

from __future__ import annotations

import csv
import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from issue_fixtures import roll

from issue import issuer

NOTICE = {
    "format_version": "omov.notice/1",
    "title": "NEC election 2027",
    "organisations": ["Labour Party", "Momentum"],
    "closes": "12:00 noon on Friday 29 January 2027",
    "return_by": "first post on Thursday 28 January 2027",
    "scrutineer": {
        "name": "Independent Scrutineer Ltd",
        "email": "scrutineer@example.org",
        "phone": "020 7946 0000",
        "address": ["1 Counting House", "London", "EC1A 1AA"],
    },
    "return_address": ["Freepost OMOV BALLOT", "London", "EC1A 1BB"],
    "pack_url": "https://vote.example.org/candidates_pack.html",
    "vote_page": "https://vote.example.org/ballot",
}


def issued(tmp: Path, n: int, **kw: Any) -> Path:
    """An issue directory with ``n`` persons (every third has no email) and a notice."""
    members = roll(tmp / "members.parquet", range(1, n + 1), **kw)
    out = tmp / "issue"
    issuer.issue_run(members, "nec-2027", out, vote_url="https://vote.example.org/ballot#{token}")
    (out / "notice.json").write_text(json.dumps(NOTICE), encoding="utf-8")
    return out


def dispatch_rows(out: Path, channel: str = "email") -> list[dict[str, str]]:
    with open(out / f"dispatch_{channel}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Mailbox:
    """What the server accepted: one (recipient, parsed message) per accepted message."""

    received: list[tuple[str, Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self) -> list[str]:
        with self.lock:
            return [r for r, _ in self.received]


class Handler:
    """Accepts everything, except: RCPT to 'refuse*' gets 550; to 'grey*' gets 451 the first
    ``grey_times`` times; the connection is dropped without a reply after the body of the
    ``drop_at``-th message (counted from 1; that message is *not* accepted)."""

    def __init__(self, box: Mailbox, *, grey_times: int = 0, drop_at: int | None = None) -> None:
        self.box = box
        self.grey_times = grey_times
        self.grey_seen: dict[str, int] = {}
        self.drop_at = drop_at
        self.bodies = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        local = address.split("@")[0]
        if local.startswith("refuse"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if local.startswith("grey"):
            seen = self.grey_seen.get(address, 0)
            self.grey_seen[address] = seen + 1
            if seen < self.grey_times:
                return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.bodies += 1
        if self.drop_at is not None and self.bodies == self.drop_at:
            server.transport.close()
            return "421 closing"  # never reaches the client: the transport is closed
        msg = message_from_bytes(envelope.content, policy=default)
        with self.box.lock:
            for rcpt in envelope.rcpt_tos:
                self.box.received.append((rcpt, msg))
        return "250 2.0.0 Ok: queued"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, handler: Handler) -> None:
        self.port = free_port()
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Server:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def ballot_definition(path: Path, n: int = 12, seats: int = 9) -> Path:
    cands = [
        {"ballot_number": i, "name": f"Candidate Zoë Number{i:02d}", "organisation": "Momentum"}
        for i in range(1, n + 1)
    ]
    doc = {
        "format_version": "omov.ballot-definition/1",
        "election_id": "nec-2027",
        "title": "NEC election 2027",
        "seats": seats,
        "order": "alphabetical",
        "candidates": cands,
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
