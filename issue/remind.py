"""``omov issue remind``: email the members whose token is still unused, in numbered rounds.

A round: (1) finish any earlier round a crash left with messages queued or in flight; otherwise
(2) join the ledger with the register (``issue.standing``, in memory, scrutineer's machine) and
select the members of ``OUT/dispatch_email.csv`` whose current token is unused, who are not
undeliverable, and who were not emailed (ballot or reminder) within ``min_interval``; (3) record
the round and queue its messages in the send log; (4) send them with ``issue.send.deliver``
(throttled, resumable, in-flight windows as for the ballot emails). The audit log gets one
``delivery.reminder_round`` entry per round: its number, when it started, how many were
selected, skipped as recently contacted, sent, refused and failed. Never who.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from issue import audit
from issue.mail import MessageBuilder, Recipient, check_link, read_recipients
from issue.notice import Notice
from issue.register import UNUSED
from issue.send import Policy, SendReport, deliver
from issue.sendlog import MessageKey, Purpose, SendLog, exclusive
from issue.smtp import SmtpSettings
from issue.standing import token_states


@dataclass(frozen=True)
class RoundPlan:
    round: int
    resumed: bool
    selected: int
    skipped_recent: int
    skipped_used: int
    skipped_undeliverable: int


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def plan_round(out: Path, log: SendLog, min_interval: dt.timedelta, keys: Path | None) -> RoundPlan:
    """Queue the next round's messages (or pick up an unfinished round)."""
    open_rounds = log.open_rounds()
    if open_rounds:
        first = open_rounds[0]
        todo = log.pending(Purpose.REMINDER, first, retry_failed=False)
        return RoundPlan(first, True, len(todo), 0, 0, 0)
    dispatch = out / "dispatch_email.csv"
    rows = [check_link(r, dispatch) for r in read_recipients(dispatch)]
    undeliverable = log.undeliverable()
    states = token_states(out, [r.person_id for r in rows], keys)
    last = log.last_contact()
    cutoff = dt.datetime.now(dt.UTC) - min_interval
    chosen: list[Recipient] = []
    recent = used = bounced = 0
    for r in rows:
        if r.person_id in undeliverable:
            bounced += 1
        elif states[r.person_id] != UNUSED:
            used += 1
        elif r.person_id in last and _parse(last[r.person_id]) > cutoff:
            recent += 1
        else:
            chosen.append(r)
    round_ = log.next_round()
    log.start_round(
        round_,
        [(MessageKey(Purpose.REMINDER, round_, r.person_id, r.batch), r.email) for r in chosen],
    )
    return RoundPlan(round_, False, len(chosen), recent, used, bounced)


def remind(
    out: Path,
    notice: Notice,
    settings: SmtpSettings,
    builder: MessageBuilder,
    policy: Policy,
    min_interval: dt.timedelta,
    *,
    keys: Path | None = None,
) -> tuple[RoundPlan, SendReport]:
    """Plan (or resume) one reminder round and send it; audit the round."""
    with exclusive(out):
        return _remind(out, notice, settings, builder, policy, min_interval, keys)


def _remind(
    out: Path,
    notice: Notice,
    settings: SmtpSettings,
    builder: MessageBuilder,
    policy: Policy,
    min_interval: dt.timedelta,
    keys: Path | None,
) -> tuple[RoundPlan, SendReport]:
    log = SendLog.open(out / "sendlog.sqlite")
    try:
        in_flight = log.recover_in_flight()
        plan = plan_round(out, log, min_interval, keys)
        report = SendReport(purpose=Purpose.REMINDER.value, round=plan.round)
        report.possible_duplicates = in_flight
        todo = log.pending(Purpose.REMINDER, plan.round, retry_failed=False)
        report.selected = len(todo)
        rows = (
            r
            for r in read_recipients(out / "dispatch_email.csv")
            if MessageKey(Purpose.REMINDER, plan.round, r.person_id, r.batch) in todo
        )
        try:
            deliver(log, builder, rows, settings, report, policy)
        finally:
            audit.append(
                out / "audit.log",
                "delivery.reminder_round",
                round=plan.round,
                resumed=plan.resumed,
                selected=plan.selected,
                skipped_recently_contacted=plan.skipped_recent,
                skipped_token_not_unused=plan.skipped_used,
                skipped_undeliverable=plan.skipped_undeliverable,
                min_interval_hours=min_interval.total_seconds() / 3600,
                sent=report.sent,
                refused=report.refused,
                failed=report.failed,
                notice_sha256=notice.sha256,
                stopped=report.stopped,
            )
    finally:
        log.close()
    return plan, report
