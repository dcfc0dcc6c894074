"""``omov issue send | bounces | remind | turnout | print`` — getting every ballot to its member.

Thin typer commands: each parses options, calls one function (``issue.send``, ``issue.bounces``,
``issue.remind``, ``issue.turnout``, ``issue.postal_pdf``), prints aggregates only (never a
token, an address or a per-person "voted" flag) and raises ``omov.errors`` exceptions.
Mounted on ``omov issue`` by ``register_delivery(app)`` (one line in ``issue/cli.py``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omov.errors import ProblemsFound, UsageError

if TYPE_CHECKING:  # the sending modules are imported by the commands: fast `omov --help`
    from issue.send import Policy, SendReport
    from issue.smtp import SmtpSettings

Out = Annotated[Path, typer.Option("--out", help="The election's issue directory.")]
NoticeOpt = Annotated[
    Path | None,
    typer.Option("--notice", help="The election notice (omov.notice/1). Default: OUT/notice.json."),
]
Host = Annotated[str, typer.Option("--smtp-host", help="SMTP server host name.")]
Port = Annotated[int, typer.Option("--smtp-port", help="SMTP server port (587, 465, 25 …).")]
From = Annotated[str, typer.Option("--from", help="Sender, e.g. 'Scrutineer <ballots@x.org>'.")]
StartTls = Annotated[bool, typer.Option("--starttls", help="Upgrade the connection with STARTTLS.")]
Tls = Annotated[bool, typer.Option("--tls", help="Connect with TLS from the start (port 465).")]
Credentials = Annotated[
    Path | None,
    typer.Option(
        "--credentials",
        help="File (mode 0600): user name on line 1, password on line 2. Otherwise the "
        "environment's OMOV_SMTP_USER / OMOV_SMTP_PASSWORD, or no login.",
    ),
]
Rate = Annotated[
    float | None, typer.Option("--rate", help="At most N messages per second (default: no limit).")
]
Backoff = Annotated[
    float, typer.Option("--retry-backoff", help="Seconds before the first retry of a 4xx; doubles.")
]
Attempts = Annotated[int, typer.Option("--max-attempts", help="Tries per message per run.")]
Connections = Annotated[
    int,
    typer.Option(
        "--connections",
        help="SMTP connections in parallel (each sends windows of 100; a crash can send at most "
        "this many windows twice).",
    ),
]


def _policy(rate: float | None, backoff: float, attempts: int, connections: int) -> Policy:
    if connections < 1 or connections > 16:
        raise UsageError("--connections must be 1 to 16")
    if attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    if rate is not None and rate <= 0:
        raise UsageError("--rate must be positive")
    from issue.send import Policy

    return Policy(rate=rate, backoff=backoff, max_attempts=attempts, connections=connections)


def read_credentials(path: Path | None) -> tuple[str | None, str | None]:
    """(user, password) from a 0600 file, else the environment, else (None, None)."""
    if path is None:
        user = os.environ.get("OMOV_SMTP_USER")
        return (user, os.environ.get("OMOV_SMTP_PASSWORD", "")) if user else (None, None)
    try:
        mode = path.stat().st_mode
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"credentials file {path} cannot be read ({exc.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(
            f"credentials file {path} can be read by other users; refusing to use it",
            fix=f"chmod 600 {path}",
        )
    if len(lines) < 2 or not lines[0].strip():
        raise UsageError(f"credentials file {path}: user name on line 1, password on line 2")
    return lines[0].strip(), lines[1]


def smtp_settings(
    host: str, port: int, starttls: bool, tls: bool, credentials: Path | None
) -> SmtpSettings:
    if starttls and tls:
        raise UsageError("give --starttls or --tls, not both")
    from issue.smtp import Security, SmtpSettings

    security = Security.TLS if tls else Security.STARTTLS if starttls else Security.PLAIN
    user, password = read_credentials(credentials)
    if user is not None and security is Security.PLAIN and host not in ("127.0.0.1", "localhost"):
        raise UsageError(
            "refusing to send a password over an unencrypted connection",
            fix="add --starttls or --tls",
        )
    return SmtpSettings(host, port, security, user, password)


def echo_send_report(r: SendReport) -> None:
    typer.echo(
        f"{r.purpose}{f' round {r.round}' if r.round else ''}: selected {r.selected}, "
        f"sent {r.sent}, refused {r.refused} (of which invalid address {r.invalid_address}), "
        f"failed {r.failed}; already sent before this run {r.already_sent}"
    )
    typer.echo(
        f"possibly sent twice (in flight when a run was killed): {r.possible_duplicates}; "
        f"temporary failures retried: {r.temporary_retries} "
        f"(of which after a dropped connection mid-message: {r.maybe_delivered_retried}); "
        f"connections: {r.connections}; {r.rate:.0f} messages/s"
    )
    if r.reply_codes:
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(r.reply_codes.items()))
        typer.echo(f"server replies other than 2xx: {codes}")


def _finish(r: SendReport) -> None:
    echo_send_report(r)
    if r.refused or r.failed:
        raise ProblemsFound(
            f"{r.refused} refused and {r.failed} failed message(s)",
            fix="re-run to retry the failed ones; `omov issue bounces --out OUT --members …` "
            "moves refused members to post with the same token",
        )


def register_delivery(app: typer.Typer) -> None:
    """Add the delivery commands to ``omov issue``."""
    app.command("send")(send_cmd)
    app.command("print")(print_cmd)
    app.command("bounces")(bounces_cmd)
    app.command("remind")(remind_cmd)
    app.command("turnout")(turnout_cmd)


def send_cmd(
    out: Out,
    smtp_host: Host,
    smtp_port: Port,
    sender: From,
    starttls: StartTls = False,
    tls: Tls = False,
    credentials: Credentials = None,
    rate: Rate = None,
    notice: NoticeOpt = None,
    retry_backoff: Backoff = 2.0,
    max_attempts: Attempts = 5,
    connections: Connections = 2,
) -> None:
    """Email each member their ballot (text + HTML); resumable: a re-run sends only what is unsent.

    Reads OUT/dispatch_email.csv and the notice; records every message and the server's reply
    in OUT/sendlog.sqlite (0600). Exit 3 if some were refused or failed.

    Example: omov issue send --out out/issue --smtp-host smtp.example.org --smtp-port 587
    --starttls --from ballots@example.org --credentials smtp.cred --rate 20
    """
    from issue.mail import MessageBuilder, parse_sender
    from issue.notice import load_notice
    from issue.send import send_ballots

    settings = smtp_settings(smtp_host, smtp_port, starttls, tls, credentials)
    note = load_notice(notice or out / "notice.json")
    builder = MessageBuilder(note, parse_sender(sender))
    policy = _policy(rate, retry_backoff, max_attempts, connections)
    _finish(send_ballots(out, note, settings, builder, policy))


def print_cmd(
    out: Out,
    ballot: Annotated[
        Path, typer.Option("--ballot", help="ballot_definition.json from `candidates pack`.")
    ],
    notice: NoticeOpt = None,
) -> None:
    """Write one PDF of postal packs (letter for a DL window envelope + ballot paper) per batch.

    PDFs go to OUT/print/<batch>.pdf (0600: they hold tokens); unchanged batches are skipped.
    The QR code holds the voting page with the token in the URL fragment, never a query string.
    Exit 3 if a member could not be printed (listed in OUT/print/<batch>.problems.csv).

    Example: omov issue print --out out/issue --ballot out/candidates/ballot_definition.json
    """
    from issue.candidates_cli import read_ballot_definition
    from issue.notice import load_notice
    from issue.print_packs import print_all
    from omov.fileio import sha256_file

    note = load_notice(notice or out / "notice.json")
    definition = read_ballot_definition(ballot)
    report = print_all(out, note, definition, sha256_file(ballot))
    for b in report.batches:
        state = "unchanged, skipped" if b.skipped_unchanged else "written"
        extra = "".join(f", {k}: {v}" for k, v in sorted(b.problems.items()))
        typer.echo(f"{b.name}: {b.letters} packs, {b.pages} pages ({state}){extra}")
    if not report.batches:
        typer.echo("no postal batches to print")
    if report.problems:
        raise ProblemsFound(
            f"{report.problems} postal member(s) could not be printed",
            fix="see OUT/print/*.problems.csv: add an address (or fix the name), then re-run",
        )


def bounces_cmd(
    sources: Annotated[
        list[Path],
        typer.Argument(help="DSNs: mbox files, Maildir directories, or a provider's *.csv export."),
    ],
    out: Out,
    members: Annotated[
        Path, typer.Option("--members", help="members.parquet (for postal addresses).")
    ],
) -> None:
    """Mark bounced members undeliverable and move them to post with the same token.

    Also takes the send log's 5xx refusals. Writes OUT/postal/bounced-NNNN/dispatch_post.csv
    for `omov issue print`; a member is never moved twice. Exit 3 if a bounced member has no
    postal address.

    Example: omov issue bounces ~/Maildir/bounces bounces.csv --out out/issue --members m.parquet
    """
    from issue.bounces import process_bounces

    r = process_bounces(out, members, list(sources))
    read = ", ".join(f"{k} {v}" for k, v in sorted(r.read.items())) or "nothing"
    typer.echo(f"read: {read}")
    typer.echo(
        f"bounces not matching any member: {r.not_ours}; newly undeliverable: {r.marked} "
        f"(already known: {r.already_known})"
    )
    why = ", ".join(f"{k} {v}" for k, v in sorted(r.by_reason.items())) or "none"
    typer.echo(f"undeliverable by reason (all runs): {why}")
    typer.echo(
        f"moved to post now: {r.moved}"
        + (f" (batch {r.batch}; print it with `omov issue print`)" if r.batch else "")
    )
    if r.no_postal_address:
        raise ProblemsFound(
            f"{r.no_postal_address} undeliverable member(s) have no postal address",
            fix="find an address for them (members.parquet) and re-run",
        )


def remind_cmd(
    out: Out,
    smtp_host: Host,
    smtp_port: Port,
    sender: From,
    starttls: StartTls = False,
    tls: Tls = False,
    credentials: Credentials = None,
    rate: Rate = None,
    notice: NoticeOpt = None,
    min_interval_hours: Annotated[
        float,
        typer.Option("--min-interval-hours", help="Do not email anyone emailed this recently."),
    ] = 72.0,
    keys: Annotated[
        Path | None,
        typer.Option("--keys", help="Scrutineer key file. Default: OUT/keys/scrutineer.key."),
    ] = None,
    retry_backoff: Backoff = 2.0,
    max_attempts: Attempts = 5,
    connections: Connections = 2,
) -> None:
    """Email a reminder to members whose token is still unused (one round per run).

    The ledger and register are joined in memory on this machine; no per-person voted flag is
    written. A member emailed within --min-interval-hours is skipped. Each round goes into the
    audit log (how many, when). A round cut short is finished by the next run first.

    Example: omov issue remind --out out/issue --smtp-host smtp.example.org --smtp-port 587
        --starttls --from ballots@example.org --credentials smtp.cred --min-interval-hours 72
    """
    import datetime as dt

    from issue.mail import MessageBuilder, parse_sender
    from issue.notice import load_notice
    from issue.remind import remind

    if min_interval_hours < 0:
        raise UsageError("--min-interval-hours must not be negative")
    settings = smtp_settings(smtp_host, smtp_port, starttls, tls, credentials)
    note = load_notice(notice or out / "notice.json")
    builder = MessageBuilder(note, parse_sender(sender), reminder=True)
    policy = _policy(rate, retry_backoff, max_attempts, connections)
    interval = dt.timedelta(hours=min_interval_hours)
    plan, report = remind(out, note, settings, builder, policy, interval, keys=keys)
    typer.echo(
        f"reminder round {plan.round}{' (resumed)' if plan.resumed else ''}: "
        f"selected {plan.selected}; skipped: emailed within {min_interval_hours:g} h "
        f"{plan.skipped_recent}, token not unused {plan.skipped_used}, "
        f"undeliverable {plan.skipped_undeliverable}"
    )
    _finish(report)


def turnout_cmd(
    out: Out,
    members: Annotated[Path, typer.Option("--members", help="members.parquet (organisations).")],
    intake_report: Annotated[
        list[Path] | None,
        typer.Option("--intake-report", help="intake_report.json (repeatable): return channels."),
    ] = None,
    title: Annotated[str, typer.Option("--title", help="Page title.")] = "Ballot",
    keys: Annotated[
        Path | None,
        typer.Option("--keys", help="Scrutineer key file. Default: OUT/keys/scrutineer.key."),
    ] = None,
) -> None:
    """Turnout so far by organisation and channel: HTML with a chart + CSV, safe to share.

    No figure below 10 is shown. Writes OUT/turnout/turnout.html and turnout.csv.

    Example: omov issue turnout --out out/issue --members out/dedupe/members.parquet
        --intake-report out/intake/intake_report.json --title "NEC election 2027"
    """
    from issue.turnout import compute, write_outputs

    t = compute(out, members, list(intake_report or []), keys)
    write_outputs(out / "turnout", t, title)
    shown = t.total.shown()
    typer.echo(f"cast {shown['cast']} of {shown['issued']} ({shown['turnout_percent']} %)")
    typer.echo(f"written: {out / 'turnout' / 'turnout.html'}, {out / 'turnout' / 'turnout.csv'}")
