"""Bounces: read delivery-status notifications, mark members undeliverable, move them to post.

Sources (``omov issue bounces --out OUT --members … SOURCE…``):

* an **mbox** file or a **Maildir** directory of DSNs (RFC 3464 ``multipart/report;
  report-type=delivery-status``), read with the stdlib ``mailbox`` and ``email`` packages. Each
  per-recipient block with ``Action: failed`` is a bounce; its ``Status`` gives the reason.
  The returned headers' ``Message-ID`` (ours, from the send log) names the member exactly;
  otherwise the ``Final-Recipient`` / ``Original-Recipient`` address is matched. ``delayed`` and
  ``delivered`` reports, and messages that are not DSNs, are counted and left alone.
* a provider's **CSV export** (``*.csv``): an address column (``email``, ``recipient``,
  ``address`` or ``email_address``), optionally a reason (``reason``, ``bounce_reason``,
  ``diagnostic``, ``description``), a status code (``status``, ``code``) and a type (``type``,
  ``bounce_type``, ``event``); rows whose type says soft / transient / delayed / deferred are
  counted and skipped.
* the send log's own refusals: recipients the server refused with a 5xx at send time.

Each newly undeliverable member is recorded in the send log and moved to the postal channel
**with the same token**: their current dispatch row (``OUT/dispatch_email.csv``) and their postal
address (``members.parquet``) form a new postal batch ``OUT/postal/bounced-NNNN/dispatch_post.csv``
(``omov.dispatch/1`` post columns), which ``omov issue print`` prints. A member already in a postal
batch is never moved twice (re-runs are idempotent, also after a crash between the two writes).
"""

from __future__ import annotations

import csv
import mailbox
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from enum import StrEnum
from pathlib import Path

import pyarrow.parquet as pq

from issue import audit
from issue.dispatch import POST_COLUMNS
from issue.mail import Recipient, read_recipients
from issue.sendlog import SendLog, exclusive
from omov.errors import InputError
from omov.fileio import sha256_file
from omov.textio import read_csv_columns, write_csv

DISPATCH_FORMAT = "omov.dispatch/1"


class Reason(StrEnum):
    NO_MAILBOX = "mailbox_does_not_exist"
    NO_DOMAIN = "domain_does_not_exist"
    MAILBOX_FULL = "mailbox_full"
    POLICY = "refused_by_policy_or_spam_filter"
    PERMANENT = "permanent_failure_other"
    GAVE_UP = "temporary_failure_given_up"
    PROVIDER = "provider_reported_bounce"


def reason_of(status: str) -> Reason:
    """The reason for an RFC 3463 status code such as 5.1.1 (or an SMTP code such as 550)."""
    s = status.strip()
    if s.startswith("4"):
        return Reason.GAVE_UP
    if s.startswith(("5.1.1", "5.1.0", "5.1.10", "5.1.6")):
        return Reason.NO_MAILBOX
    if s.startswith("5.1.2"):
        return Reason.NO_DOMAIN
    if s.startswith(("5.2.2", "4.2.2", "552")):
        return Reason.MAILBOX_FULL
    if s.startswith("5.7") or s == "554":
        return Reason.POLICY
    if s == "550" or s == "551" or s == "553":
        return Reason.NO_MAILBOX
    return Reason.PERMANENT


@dataclass(frozen=True)
class Bounce:
    address: str
    message_id: str
    status: str
    reason: Reason
    source: str


@dataclass
class BounceReport:
    """Aggregates: what was read and what it led to."""

    read: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    already_known: int = 0
    not_ours: int = 0
    marked: int = 0
    moved: int = 0
    no_postal_address: int = 0
    batch: str = ""


# ------------------------------------------------------------------ reading DSNs


def _addr(field_value: str | None) -> str:
    """'rfc822; Someone@Example.org' → 'someone@example.org'."""
    if not field_value:
        return ""
    value = str(field_value).split(";", 1)[-1].strip().strip("<>")
    return value.lower()


def _original_message_id(msg: Message) -> str:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return str(inner[0].get("Message-ID", "")).strip()
        if ctype == "text/rfc822-headers":
            from email import message_from_string

            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            return str(message_from_string(text).get("Message-ID", "")).strip()
    return ""


def dsn_bounces(msg: Message, source: str, tally: Counter[str]) -> list[Bounce]:
    """The failed recipients of one DSN (empty for anything else, which is tallied)."""
    if msg.get_content_type() != "multipart/report":
        tally["not_a_delivery_report"] += 1
        return []
    blocks: list[Message] = []
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            blocks = (
                [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
            )
    if not blocks:
        tally["not_a_delivery_report"] += 1
        return []
    message_id = _original_message_id(msg)
    found: list[Bounce] = []
    for block in blocks[1:]:  # the first block is per-message; the rest per recipient
        action = str(block.get("Action", "")).strip().lower()
        if action != "failed":
            tally[f"action_{action or 'missing'}"] += 1
            continue
        address = _addr(block.get("Final-Recipient")) or _addr(block.get("Original-Recipient"))
        status = str(block.get("Status", "")).strip()
        found.append(Bounce(address, message_id, status, reason_of(status), source))
        tally["failed_recipient"] += 1
    return found


def _mailbox(path: Path) -> mailbox.Mailbox[mailbox.Message]:
    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise InputError("a directory that is not a Maildir (no cur/ or new/)", path=str(path))
        return mailbox.Maildir(path, create=False)
    return mailbox.mbox(path, create=False)


def read_mail_source(path: Path, tally: Counter[str]) -> Iterator[Bounce]:
    box = _mailbox(path)
    try:
        for msg in box:
            tally["messages"] += 1
            yield from dsn_bounces(msg, str(path), tally)
    finally:
        box.close()


def _pick(fields: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {f.strip().lower(): f for f in fields}
    return next((lowered[n] for n in names if n in lowered), None)


def read_provider_csv(path: Path, tally: Counter[str]) -> Iterator[Bounce]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        col = _pick(fields, ("email", "recipient", "address", "email_address"))
        if col is None:
            raise InputError(
                "no address column (email, recipient, address or email_address)",
                path=str(path),
                line=1,
            )
        why = _pick(fields, ("reason", "bounce_reason", "diagnostic", "description"))
        code = _pick(fields, ("status", "code"))
        kind = _pick(fields, ("type", "bounce_type", "event"))
        for row in reader:
            tally["csv_rows"] += 1
            k = (row.get(kind) or "").lower() if kind else ""
            if any(w in k for w in ("soft", "transient", "delay", "defer")):
                tally["csv_soft_skipped"] += 1
                continue
            status = (row.get(code) or "").strip() if code else ""
            reason = reason_of(status) if status else Reason.PROVIDER
            text = (row.get(why) or "").lower() if why else ""
            if reason is Reason.PROVIDER and ("full" in text or "quota" in text):
                reason = Reason.MAILBOX_FULL
            address = (row.get(col) or "").strip().lower()
            if address:
                yield Bounce(address, "", status, reason, str(path))


def read_sources(paths: list[Path], tally: Counter[str]) -> list[Bounce]:
    found: list[Bounce] = []
    for p in paths:
        if not p.exists():
            raise InputError("bounce source not found", path=str(p))
        reader = read_provider_csv if p.suffix.lower() == ".csv" else read_mail_source
        found.extend(reader(p, tally))
    return found


# ------------------------------------------------------------------ moving to post


def moved_already(out: Path) -> set[str]:
    """Person ids already in a postal bounce batch (the batch files are the record)."""
    done: set[str] = set()
    for path in sorted((out / "postal").glob("bounced-*/dispatch_post.csv")):
        done.update(pid for (pid,) in read_csv_columns(path, ("person_id",)))
    return done


def _addresses(members: Path, ids: set[str]) -> dict[str, dict[str, str]]:
    cols = ["person_id", "address", "town", "postcode"]
    table = pq.read_table(members, columns=cols)
    out: dict[str, dict[str, str]] = {}
    for row in table.to_pylist():
        if row["person_id"] in ids:
            out[row["person_id"]] = {k: (row[k] or "").strip() for k in cols[1:]}
    return out


def _post_row(r: Recipient, addr: dict[str, str]) -> dict[str, str]:
    return {
        "format_version": DISPATCH_FORMAT,
        "batch": r.batch,
        "person_id": r.person_id,
        "token": r.token,
        "full_name": r.full_name,
        "first_name": r.first_name,
        **addr,
        "vote_link": r.vote_link,
    }


def process_bounces(out: Path, members: Path, sources: list[Path]) -> BounceReport:
    """Read every source, mark the bounced members, and write one postal batch for them."""
    with exclusive(out):
        return _process(out, members, sources)


def _process(out: Path, members: Path, sources: list[Path]) -> BounceReport:
    report = BounceReport()
    bounces = read_sources(sources, report.read)
    log = SendLog.open(out / "sendlog.sqlite")
    try:
        by_id = log.by_message_id()
        current = {r.person_id: r for r in read_recipients(out / "dispatch_email.csv")}
        by_email = {r.email.lower(): r.person_id for r in current.values()}
        rows: dict[str, tuple[str, str, str, str, str]] = {}
        for b in bounces:
            pid = by_id.get(b.message_id) or by_email.get(b.address)
            if pid is None:
                report.not_ours += 1
                continue
            rows.setdefault(pid, (pid, b.address, b.source, b.reason.value, b.status))
        for pid, email, code, reply in (r for r in log.refused()):
            rows.setdefault(pid, (pid, email, "smtp", reason_of(str(code or "")).value, reply[:80]))
        known = log.undeliverable()
        report.already_known = sum(1 for p in rows if p in known)
        report.marked = log.mark_undeliverable([r for p, r in rows.items() if p not in known])
        reasons = {p: r for p, (r, _) in log.undeliverable().items()}
        todo = sorted(set(reasons) - moved_already(out))
        todo = [p for p in todo if p in current]
        report.by_reason = Counter(reasons[p] for p in reasons)
        _move_to_post(out, members, todo, current, log, report)
    finally:
        log.close()
    audit.append(
        out / "audit.log",
        "delivery.bounces",
        sources=[{"file": str(p), "sha256": _digest(p)} for p in sources],
        read=dict(report.read),
        newly_undeliverable=report.marked,
        undeliverable_by_reason=dict(report.by_reason),
        moved_to_post=report.moved,
        no_postal_address=report.no_postal_address,
        postal_batch=report.batch,
    )
    return report


def _digest(path: Path) -> str:
    return sha256_file(path) if path.is_file() else "maildir"


def _move_to_post(
    out: Path,
    members: Path,
    todo: list[str],
    current: dict[str, Recipient],
    log: SendLog,
    report: BounceReport,
) -> None:
    if not todo:
        return
    addresses = _addresses(members, set(todo))
    movable = [p for p in todo if addresses.get(p, {}).get("address")]
    report.no_postal_address = len(todo) - len(movable)
    if not movable:
        return
    existing = sorted((out / "postal").glob("bounced-*"))
    name = f"bounced-{len(existing) + 1:04d}"
    folder = out / "postal" / name
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    post = [_post_row(current[p], addresses[p]) for p in movable]
    write_csv(folder / "dispatch_post.csv", POST_COLUMNS, post)
    log.set_moved(movable, name)
    report.moved, report.batch = len(movable), name
