"""omov issue bounces: DSNs (mbox, Maildir), a provider CSV and SMTP refusals → postal batch."""

from __future__ import annotations

import csv
import mailbox
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from delivery_fixtures import Handler, Mailbox, Server, dispatch_rows, issued
from test_send import _rewrite_emails, omov, send

from issue.bounces import Reason, reason_of
from issue.sendlog import SendLog


def dsn(recipient: str, status: str, action: str = "failed", message_id: str = "") -> Message:
    """A delivery-status notification laid out as Postfix writes one (RFC 3464)."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@mx.example.net (Mail Delivery System)"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(
        MIMEText("I'm sorry to have to inform you that your message could not be delivered.")
    )
    status_part = MIMEBase("message", "delivery-status")
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.example.net"
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {recipient.upper()}"
    per_recipient["Original-Recipient"] = f"rfc822;{recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; 550 {status} User unknown"
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)
    headers = MIMEText(f"Message-ID: {message_id}\nSubject: Your ballot\n", "rfc822-headers")
    report.attach(headers)
    return report


def test_reason_codes() -> None:
    assert reason_of("5.1.1") is Reason.NO_MAILBOX
    assert reason_of("5.1.2") is Reason.NO_DOMAIN
    assert reason_of("5.2.2") is Reason.MAILBOX_FULL
    assert reason_of("5.7.1") is Reason.POLICY
    assert reason_of("4.4.7") is Reason.GAVE_UP
    assert reason_of("5.3.0") is Reason.PERMANENT


def test_bounced_members_move_to_post_with_the_same_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 30)
    rows = dispatch_rows(out)
    refused_pid = rows[5]["person_id"]
    _rewrite_emails(out, {refused_pid: "refuse9@example.org"})
    rows = dispatch_rows(out)
    box = Mailbox()
    with Server(Handler(box)) as srv:
        assert send(capsys, out, srv.port)[0] == 3  # one refusal
    ids = {to: str(m["Message-ID"]) for to, m in box.received}
    by_id, by_addr, maildir_one, csv_one, soft = rows[0], rows[1], rows[2], rows[3], rows[4]

    mbox_path = tmp_path / "bounces.mbox"
    mb = mailbox.mbox(mbox_path)
    # Matched by the returned Message-ID even though the reported address differs (forwarding).
    mb.add(dsn("someone-else@forward.example", "5.1.1", message_id=ids[by_id["email"]]))
    mb.add(dsn(by_addr["email"], "5.2.2"))  # matched by address (no headers returned)
    mb.add(dsn(rows[6]["email"], "4.4.1", action="delayed"))  # not a bounce
    mb.add(dsn("stranger@elsewhere.example", "5.1.1"))  # not one of ours
    auto = EmailMessage()
    auto["Subject"] = "Out of office"
    auto.set_content("I am away")
    mb.add(auto)  # not a DSN
    mb.flush()
    mb.close()
    md = mailbox.Maildir(tmp_path / "Maildir", create=True)
    md.add(dsn(maildir_one["email"], "5.7.1"))
    md.close()
    provider = tmp_path / "provider.csv"
    with open(provider, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Email", "Type", "Reason"])
        w.writerow([csv_one["email"].upper(), "hard", "mailbox does not exist"])
        w.writerow([soft["email"], "soft", "mailbox full"])

    args = ["issue", "bounces", str(mbox_path), str(tmp_path / "Maildir"), str(provider),
            "--out", str(out), "--members", str(tmp_path / "members.parquet")]  # fmt: skip
    code, text = omov(capsys, *args)
    assert code == 0, text
    assert "newly undeliverable: 5" in text and "bounces not matching any member: 1" in text
    assert "moved to post now: 5" in text
    assert "action_delayed 1" in text and "not_a_delivery_report 1" in text
    assert "csv_soft_skipped 1" in text
    want = {r["person_id"]: r for r in (by_id, by_addr, maildir_one, csv_one)}
    want[refused_pid] = next(r for r in rows if r["person_id"] == refused_pid)
    post_csv = (out / "postal" / "bounced-0001" / "dispatch_post.csv").read_text()
    post = list(csv.DictReader(post_csv.splitlines()))
    assert {r["person_id"]: r["token"] for r in post} == {p: r["token"] for p, r in want.items()}
    assert all(r["address"] and r["postcode"] for r in post)
    log = SendLog.open(out / "sendlog.sqlite")
    reasons = {p: r for p, (r, _) in log.undeliverable().items()}
    log.close()
    assert reasons[by_id["person_id"]] == "mailbox_does_not_exist"
    assert reasons[by_addr["person_id"]] == "mailbox_full"
    assert reasons[maildir_one["person_id"]] == "refused_by_policy_or_spam_filter"
    assert reasons[refused_pid] == "mailbox_does_not_exist"
    # Re-run: nobody moves twice.
    code, text = omov(capsys, *args)
    assert code == 0 and "moved to post now: 0" in text and "already known: 5" in text
    assert not (out / "postal" / "bounced-0002").exists()
    # A re-send does not email the undeliverable again.
    with Server(Handler(box)) as srv:
        code, text = send(capsys, out, srv.port)
    assert "selected 0" in text
