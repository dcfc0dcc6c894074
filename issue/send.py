"""Sending ballot and reminder emails: throttled, resumable, and honest about every message.

``send_ballots(out, settings, sender, …)`` queues one message per row of ``OUT/dispatch_email.csv``
(the live file: each person's current token) in ``OUT/sendlog.sqlite`` and sends what is not sent
yet; ``deliver`` is the engine that ``issue.remind`` uses too.

How a run stays correct after ``kill -9`` (see ``issue.sendlog``): a window of messages is marked
``sending`` in one fsynced commit *before* any of them goes to the server, and their outcomes are
committed after. A re-run finds a killed run's window still ``sending``, sends it again and
counts it (``possible_duplicates``): every member gets the message once, or twice for at most one
window per connection (``Policy.connections``, default 2: 200 messages; the same token, so
harmless). Temporary failures (4xx, dropped connection) are retried
with exponential back-off up to ``max_attempts``; what still fails is ``failed`` and the next run
tries again. A refused recipient (5xx) is ``refused`` and reported (``omov issue bounces`` moves
them to post).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from pathlib import Path

from issue import audit
from issue.mail import MessageBuilder, Recipient, check_link, read_recipients
from issue.notice import Notice
from issue.sendlog import MessageKey, Outcome, Purpose, SendLog, State, exclusive
from issue.smtp import Reply, SenderRefused, Session, SmtpSettings, Verdict

WINDOW = 100  #: messages marked in flight per commit: the most a crash can send twice


@dataclass(frozen=True)
class Policy:
    """Throttle and retry settings (``rate`` None: as fast as the server takes them)."""

    rate: float | None = None
    window: int = WINDOW
    connections: int = 2  #: SMTP sessions in parallel, each sending whole windows
    max_attempts: int = 5
    backoff: float = 2.0  #: seconds before the first retry; doubles each time
    backoff_max: float = 300.0


@dataclass
class SendReport:
    """Aggregates of one run (no person, no address, no token)."""

    purpose: str
    round: int
    selected: int = 0
    already_sent: int = 0
    sent: int = 0
    refused: int = 0
    failed: int = 0
    invalid_address: int = 0
    possible_duplicates: int = 0
    maybe_delivered_retried: int = 0
    temporary_retries: int = 0
    connections: int = 0
    elapsed_s: float = 0.0
    reply_codes: dict[str, int] = field(default_factory=dict)
    stopped: str = ""

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


class _Throttle:
    def __init__(
        self, rate: float | None, clock: Callable[[], float], sleep: Callable[[float], None]
    ):
        self.gap = 1.0 / rate if rate else 0.0
        self.clock, self.sleep = clock, sleep
        self.next = clock()

    def wait(self) -> None:
        if not self.gap:
            return
        now = self.clock()
        if self.next > now:
            self.sleep(self.next - now)
        self.next = max(self.next, now) + self.gap


def _windows(items: Iterable[Recipient], size: int) -> Iterator[list[Recipient]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


class _Run:
    """One delivery run: sessions (one per worker thread), throttle, retry heap and report.

    Worker threads share this object; everything but building a message and talking to the
    server happens under ``lock`` (the send log's one SQLite connection, the report, the heap).
    """

    def __init__(
        self,
        log: SendLog,
        builder: MessageBuilder,
        settings: SmtpSettings,
        policy: Policy,
        report: SendReport,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.log, self.builder, self.settings, self.policy = log, builder, settings, policy
        self.report, self.clock, self.sleep = report, clock, sleep
        self.throttle = _Throttle(policy.rate, clock, sleep)
        self.retry: list[tuple[float, int, int, Recipient, MessageKey]] = []
        self.seq = itertools.count()
        self.codes: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.sessions: list[Session] = []

    def session(self) -> Session:
        session: Session | None = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = Session(self.settings)
            with self.lock:
                self.sessions.append(session)
        return session

    def key(self, r: Recipient) -> MessageKey:
        return MessageKey(Purpose(self.report.purpose), self.report.round, r.person_id, r.batch)

    def attempt(self, r: Recipient, key: MessageKey, attempt: int) -> Outcome:
        try:
            message_id, data = self.builder.build(r)
        except (ValueError, HeaderParseError, IndexError) as exc:
            with self.lock:
                self.report.invalid_address += 1
                self.report.refused += 1
            return Outcome(key, State.REFUSED, None, f"invalid address: {type(exc).__name__}")
        with self.lock:
            self.throttle.wait()
        reply = self.session().send(self.builder.sender.addr_spec, r.email, data)
        with self.lock:
            return self._settle(r, key, attempt, reply, message_id)

    def _settle(
        self, r: Recipient, key: MessageKey, attempt: int, reply: Reply, message_id: str
    ) -> Outcome:
        if reply.verdict is Verdict.SENT:
            self.report.sent += 1
            return Outcome(key, State.SENT, reply.code, reply.text, message_id)
        self.codes[str(reply.code) if reply.code else "no reply (connection)"] += 1
        if reply.verdict is Verdict.REFUSED:
            self.report.refused += 1
            return Outcome(key, State.REFUSED, reply.code, reply.text, message_id)
        if reply.maybe_delivered:
            self.report.maybe_delivered_retried += 1
        if attempt < self.policy.max_attempts:
            delay = min(self.policy.backoff * 2 ** (attempt - 1), self.policy.backoff_max)
            heapq.heappush(self.retry, (self.clock() + delay, next(self.seq), attempt + 1, r, key))
            self.report.temporary_retries += 1
        else:
            self.report.failed += 1
        return Outcome(key, State.FAILED, reply.code, reply.text)

    def window(self, rows: list[Recipient]) -> None:
        keys = [self.key(r) for r in rows]
        with self.lock:
            self.log.mark_sending(keys)
        outcomes: list[Outcome] = []
        try:
            for r, k in zip(rows, keys, strict=True):
                outcomes.append(self.attempt(r, k, 1))
        finally:
            if outcomes:
                with self.lock:
                    self.log.record(outcomes)

    def drain_retries(self) -> None:
        while self.retry:
            due, _, attempt, r, key = heapq.heappop(self.retry)
            wait = due - self.clock()
            if wait > 0:
                self.sleep(wait)
            with self.lock:
                self.log.mark_sending([key])
            outcome = self.attempt(r, key, attempt)
            with self.lock:
                self.log.record([outcome])

    def close(self) -> None:
        for session in self.sessions:
            session.quit()
        self.report.connections = sum(s.connects for s in self.sessions)


def _run_windows(run: _Run, recipients: Iterable[Recipient], policy: Policy) -> None:
    """Windows in order on one session, or spread over ``policy.connections`` worker threads
    (at most two windows queued per worker, so memory stays flat)."""
    windows = _windows(recipients, policy.window)
    if policy.connections <= 1:
        for rows in windows:
            run.window(rows)
        return
    pending: deque[Future[None]] = deque()
    with ThreadPoolExecutor(policy.connections, thread_name_prefix="omov-smtp") as pool:
        try:
            for rows in windows:
                pending.append(pool.submit(run.window, rows))
                if len(pending) >= 2 * policy.connections:
                    pending.popleft().result()
            while pending:
                pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


def deliver(
    log: SendLog,
    builder: MessageBuilder,
    recipients: Iterable[Recipient],
    settings: SmtpSettings,
    report: SendReport,
    policy: Policy = Policy(),
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send ``recipients`` (already queued in ``log`` under the report's purpose and round).

    A refused sender or login stops the run (``SenderRefused``, exit 2) with the unsent messages
    still queued; the report says how far it got. With several connections, up to
    ``connections`` windows are in flight at once (the most a crash can send twice).
    """
    start = clock()
    run = _Run(log, builder, settings, policy, report, clock, sleep)
    try:
        _run_windows(run, recipients, policy)
        run.drain_retries()
    except SenderRefused as exc:
        report.stopped = exc.message
        raise
    finally:
        run.close()
        report.elapsed_s = clock() - start
        report.reply_codes = dict(run.codes)
    return report


def send_ballots(
    out: Path,
    notice: Notice,
    settings: SmtpSettings,
    builder: MessageBuilder,
    policy: Policy = Policy(),
    *,
    retry_failed: bool = True,
) -> SendReport:
    """Queue every row of ``OUT/dispatch_email.csv`` and send what is not sent yet."""
    with exclusive(out):
        return _send_ballots(out, notice, settings, builder, policy, retry_failed)


def _send_ballots(
    out: Path,
    notice: Notice,
    settings: SmtpSettings,
    builder: MessageBuilder,
    policy: Policy,
    retry_failed: bool,
) -> SendReport:
    dispatch = out / "dispatch_email.csv"
    report = SendReport(purpose=Purpose.BALLOT.value, round=0)
    log = SendLog.open(out / "sendlog.sqlite")
    try:
        report.possible_duplicates = log.recover_in_flight()
        undeliverable = log.undeliverable()
        log.enqueue(
            (MessageKey(Purpose.BALLOT, 0, r.person_id, r.batch), r.email)
            for r in map(lambda r: check_link(r, dispatch), read_recipients(dispatch))
            if r.person_id not in undeliverable
        )
        todo = log.pending(Purpose.BALLOT, 0, retry_failed=retry_failed)
        report.selected = len(todo)
        report.already_sent = log.counts(Purpose.BALLOT, 0)[State.SENT]
        rows = (
            r
            for r in read_recipients(dispatch)
            if MessageKey(Purpose.BALLOT, 0, r.person_id, r.batch) in todo
        )
        try:
            deliver(log, builder, rows, settings, report, policy)
        finally:
            audit.append(
                out / "audit.log",
                "delivery.email_sent",
                selected=report.selected,
                sent=report.sent,
                refused=report.refused,
                failed=report.failed,
                possible_duplicates=report.possible_duplicates,
                notice_sha256=notice.sha256,
                dispatch_sha256=_digest(dispatch),
                stopped=report.stopped,
            )
    finally:
        log.close()
    return report


def _digest(path: Path) -> str:
    from omov.fileio import sha256_file

    return sha256_file(path)
