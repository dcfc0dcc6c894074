"""omov issue remind: only members whose token is unused, not twice within the interval."""

from __future__ import annotations

from pathlib import Path

import pytest
from delivery_fixtures import Handler, Mailbox, Server, dispatch_rows, issued
from test_send import omov, send

from issue.audit import read_entries
from issue.register import Register


def remind(
    capsys: pytest.CaptureFixture[str], out: Path, port: int, *extra: str
) -> tuple[int, str]:
    return omov(
        capsys, "issue", "remind", "--out", str(out), "--smtp-host", "127.0.0.1",
        "--smtp-port", str(port), "--from", "ballots@example.org", *extra,
    )  # fmt: skip


def test_reminds_only_unused_tokens_once_per_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 30)
    rows = dispatch_rows(out)  # 20 email members
    voted = rows[:7]
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.consume_many([r["token"] for r in voted]) == ["won"] * 7
    box = Mailbox()
    with Server(Handler(box)) as srv:
        assert send(capsys, out, srv.port)[0] == 0
        box.received.clear()
        # Everyone was just emailed their ballot: the default 72 h interval skips them all.
        code, text = remind(capsys, out, srv.port)
        assert code == 0, text
        assert "round 1: selected 0" in text and "emailed within 72 h 13" in text
        assert box.to() == []
        code, text = remind(capsys, out, srv.port, "--min-interval-hours", "0")
        assert code == 0, text
        assert "round 2: selected 13" in text and "token not unused 7" in text
        assert sorted(box.to()) == sorted(r["email"] for r in rows[7:])
        for to, msg in box.received:
            body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            token = next(r["token"] for r in rows if r["email"] == to)
            assert "This is a reminder" in body and token in body
            assert str(msg["Subject"]).startswith("Reminder")
        box.received.clear()
        code, text = remind(capsys, out, srv.port, "--min-interval-hours", "1")
        assert "round 3: selected 0" in text and box.to() == []
    rounds = [e for e in read_entries(out / "audit.log") if e["event"] == "delivery.reminder_round"]
    assert [(e["round"], e["selected"], e["sent"]) for e in rounds] == [
        (1, 0, 0),
        (2, 13, 13),
        (3, 0, 0),
    ]
    assert all("person" not in str(e) and "@" not in str(e) for e in rounds)
