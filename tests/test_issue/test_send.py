"""omov issue send against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from delivery_fixtures import Handler, Mailbox, Server, dispatch_rows, issued
from typer.testing import CliRunner

from issue.sendlog import Purpose, SendLog
from omov.cli import build_app, run

runner = CliRunner()


def omov(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run omov in-process with its real exit-code mapping; (code, stdout + stderr)."""
    capsys.readouterr()
    code = run(list(argv))
    got = capsys.readouterr()
    return code, got.out + got.err


def send(capsys: pytest.CaptureFixture[str], out: Path, port: int, *extra: str) -> tuple[int, str]:
    return omov(
        capsys,
        *[
            "issue", "send", "--out", str(out), "--smtp-host", "127.0.0.1",
            "--smtp-port", str(port), "--from", "Scrutineer <ballots@example.org>",
            "--retry-backoff", "0.05", *extra,
        ],
    )  # fmt: skip


def test_every_member_gets_one_multipart_message_with_their_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 30)
    rows = dispatch_rows(out)
    box = Mailbox()
    with Server(Handler(box)) as srv:
        code, text = send(capsys, out, srv.port)
    assert code == 0, text
    assert sorted(box.to()) == sorted(r["email"] for r in rows)
    by_addr = dict(box.received)
    for r in rows:
        msg = by_addr[r["email"]]
        assert msg.get_content_type() == "multipart/alternative"
        parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk()
                 if not p.is_multipart()}  # fmt: skip
        assert set(parts) == {"text/plain", "text/html"}
        for body in parts.values():
            assert r["token"] in body
            assert "NEC election 2027" in body and "Momentum" in body
            assert "29 January 2027" in body and "scrutineer@example.org" in body
            assert "candidates_pack.html" in body and "Freepost OMOV BALLOT" in body
        assert r["token"] not in str(msg["Subject"]) + str(msg["Message-ID"])
    assert stat.S_IMODE(os.stat(out / "sendlog.sqlite").st_mode) == 0o600


def test_rerun_sends_nothing_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = issued(tmp_path, 12)
    box = Mailbox()
    with Server(Handler(box)) as srv:
        assert send(capsys, out, srv.port)[0] == 0
        first = len(box.to())
        code, text = send(capsys, out, srv.port)
    assert code == 0, text
    assert len(box.to()) == first == len(dispatch_rows(out))
    assert "selected 0" in text


def test_refused_recipients_are_recorded_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 12)
    rows = dispatch_rows(out)
    # Give two members addresses the server refuses (550).
    refused = {rows[0]["person_id"], rows[3]["person_id"]}
    _rewrite_emails(out, {p: f"refuse{i}@example.org" for i, p in enumerate(refused)})
    box = Mailbox()
    with Server(Handler(box)) as srv:
        code, text = send(capsys, out, srv.port)
    assert code == 3, text
    assert "refused 2" in text and "550: 2" in text
    assert len(box.to()) == len(rows) - 2
    log = SendLog.open(out / "sendlog.sqlite")
    got = log.refused()
    log.close()
    assert {p for p, *_ in got} == refused
    assert all(c == 550 and "User unknown" in reply for _, _, c, reply in got)


def test_temporary_failure_is_retried_with_backoff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 6)
    rows = dispatch_rows(out)
    _rewrite_emails(out, {rows[1]["person_id"]: "grey1@example.org"})
    box = Mailbox()
    with Server(Handler(box, grey_times=2)) as srv:
        code, text = send(capsys, out, srv.port)
    assert code == 0, text
    assert box.to().count("grey1@example.org") == 1
    assert "temporary failures retried: 2" in text and "451: 2" in text


def test_temporary_failure_beyond_attempts_is_failed_then_retried_next_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 6)
    rows = dispatch_rows(out)
    _rewrite_emails(out, {rows[1]["person_id"]: "grey1@example.org"})
    box = Mailbox()
    handler = Handler(box, grey_times=3)
    with Server(handler) as srv:
        code, text = send(capsys, out, srv.port, "--max-attempts", "2")
        assert code == 3 and "failed 1" in text
        code, text = send(capsys, out, srv.port, "--max-attempts", "2")
    assert code == 0, text
    assert "selected 1" in text
    assert box.to().count("grey1@example.org") == 1
    assert len(box.to()) == len(rows)


def test_dropped_connection_mid_batch_is_resumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 30)
    rows = dispatch_rows(out)
    box = Mailbox()
    with Server(Handler(box, drop_at=7)) as srv:
        code, text = send(capsys, out, srv.port, "--connections", "1")
    assert code == 0, text
    # The 7th body was dropped before the server's reply (and not kept by this server): the
    # message is retried on a new connection, and the report counts it as possibly delivered.
    assert sorted(box.to()) == sorted(r["email"] for r in rows)
    assert "after a dropped connection mid-message: 1" in text
    assert "connections: 2" in text


def test_unreachable_server_leaves_everything_queued(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from delivery_fixtures import free_port

    out = issued(tmp_path, 6)
    code, text = send(capsys, out, free_port(), "--max-attempts", "1")
    assert code == 3, text
    log = SendLog.open(out / "sendlog.sqlite")
    counts = log.counts(Purpose.BALLOT, 0)
    log.close()
    assert counts["sent"] == 0 and counts["failed"] == len(dispatch_rows(out))


def test_credentials_never_on_the_command_line_and_file_must_be_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 3)
    cred = tmp_path / "smtp.cred"
    cred.write_text("user\npw\n")
    os.chmod(cred, 0o644)
    code, text = send(capsys, out, 2525, "--credentials", str(cred))
    assert code == 2 and "chmod 600" in text
    res = runner.invoke(build_app(), ["issue", "send", "--help"])
    assert "--password" not in res.output


def _rewrite_emails(out: Path, new: dict[str, str]) -> None:
    """Change some addresses in the live dispatch file (a test of the sender, not of issue)."""
    import csv

    path = out / "dispatch_email.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames
        rows = list(reader)
    for r in rows:
        r["email"] = new.get(r["person_id"], r["email"])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields or [])
        w.writeheader()
        w.writerows(rows)


@pytest.fixture(autouse=True)
def _no_smtp_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMOV_SMTP_USER", raising=False)
    monkeypatch.delenv("OMOV_SMTP_PASSWORD", raising=False)


def test_message_parses_back_and_names_cannot_inject_headers(tmp_path: Path) -> None:
    import json
    from email import message_from_bytes
    from email.policy import default

    from delivery_fixtures import NOTICE

    from issue.mail import MessageBuilder, Recipient, parse_sender
    from issue.notice import load_notice

    (tmp_path / "n.json").write_text(json.dumps(NOTICE | {"title": "Élection NEC ☭ 2027"}))
    builder = MessageBuilder(load_notice(tmp_path / "n.json"), parse_sender("Scrutinéer <b@x.org>"))
    r = Recipient("3", "P1", "ABCD-EFGH-JKMN-PQRS-TVWX-Y", "Zoë O'Brien-Łukasz\r\nBcc: evil@x.org",
                  "Zoë", "zoe@example.org", "https://v.example.org/b#ABCD")  # fmt: skip
    message_id, wire = builder.build(r)
    assert b"\nBcc:" not in wire and all(line.endswith(b"\r") for line in wire.split(b"\n")[:-1])
    msg = message_from_bytes(wire, policy=default)
    assert msg["Bcc"] is None and msg["Message-ID"] == message_id
    assert msg["To"].addresses[0].addr_spec == "zoe@example.org"
    assert msg["To"].addresses[0].display_name == "Zoë O'Brien-Łukasz Bcc: evil@x.org"
    assert msg["From"].addresses[0].display_name == "Scrutinéer"
    assert "Élection NEC ☭ 2027" in str(msg["Subject"])
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Dear Zoë" in plain and "ABCD-EFGH-JKMN-PQRS-TVWX-Y" in plain
    assert "Dear Zoë" in html and "Élection NEC ☭ 2027" in html
    with pytest.raises(ValueError):
        builder.build(Recipient("3", "P2", "T", "N", "N", "two words@x.org", "l"))


def test_parallel_connections_send_everyone_exactly_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 450)  # 300 email members: three windows per connection
    rows = dispatch_rows(out)
    box = Mailbox()
    with Server(Handler(box, drop_at=150)) as srv:
        code, text = send(capsys, out, srv.port, "--connections", "3")
    assert code == 0, text
    assert sorted(box.to()) == sorted(r["email"] for r in rows)
    # Three workers, a reconnect after the drop, and the retry's own session.
    assert "mid-message: 1" in text and "connections: 5" in text


def test_a_token_in_a_query_string_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    """Refused where the link is made (issue run, exit 2): no dispatch file, so nothing to send."""
    from issue_fixtures import roll

    from issue import issuer
    from omov.errors import UsageError

    members = roll(tmp_path / "members.parquet", range(1, 7))
    out = tmp_path / "issue"
    with pytest.raises(UsageError, match=r"after .#"):
        issuer.issue_run(
            members, "nec-2027", out, vote_url="https://v.example.org/ballot?token={token}"
        )
    assert not (out / "dispatch_email.csv").exists()


def test_two_senders_at_once_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from issue.sendlog import exclusive

    out = issued(tmp_path, 6)
    box = Mailbox()
    with Server(Handler(box)) as srv, exclusive(out):
        code, text = send(capsys, out, srv.port)
    assert code == 2 and "another `omov issue send`" in text
    assert box.to() == []
