"""``omov issue …`` and ``omov audit …`` — thin typer commands over the issue core.

Each command parses options, calls one function of ``issue.issuer`` / ``issue.register`` /
``issue.audit``, and prints a short summary (aggregates only; never a token, never a key).
Errors are ``omov.errors`` exceptions; ``omov.cli`` maps them to exit codes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from issue import audit, issuer
from issue.dispatch import DEFAULT_VOTE_URL
from issue.register import Register
from omov.appfactory import new_app
from omov.errors import IntegrityError, UsageError

app = new_app("issue", "Issue one ballot token per eligible person; check and revoke tokens.")
audit_app = new_app("audit", "Verify the tamper-evident audit log and print its head hash.")

Out = Annotated[
    Path, typer.Option("--out", help="The election's issue directory (register, ledger, log).")
]
Keys = Annotated[
    Path | None,
    typer.Option(
        "--keys", help="Scrutineer key file (K_member + K_vote). Default: OUT/keys/scrutineer.key."
    ),
]
VoteUrl = Annotated[
    str, typer.Option("--vote-url", help="Voting link template; {token} becomes the token.")
]
Members = Annotated[Path, typer.Option("--members", help="members.parquet from `omov dedupe run`.")]
Reason = Annotated[str, typer.Option("--reason", help=f"One of: {', '.join(issuer.REASONS)}.")]
Log = Annotated[Path, typer.Argument(help="The audit log (audit.log).")]


def _say(text: str) -> None:
    typer.echo(text)


@app.command("run")
def run_cmd(
    members: Members,
    election: Annotated[str, typer.Option("--election", help="Election id, e.g. nec-2026.")],
    out: Out,
    keys: Keys = None,
    vote_url: VoteUrl = DEFAULT_VOTE_URL,
    on_roll_change: Annotated[
        str,
        typer.Option(
            "--on-roll-change",
            help="If persons holding a token vanished from the roll: 'refuse' (exit 3, report) or "
            "'revoke-vanished' (revoke their unused tokens in the same batch).",
        ),
    ] = "refuse",
) -> None:
    """Issue one token per eligible person who has none; idempotent and crash-safe.

    Writes OUT/register.sqlite and OUT/vote.key (for the counter), OUT/ledger.sqlite (scrutineer
    only), OUT/dispatch_email.csv, OUT/dispatch_post.csv, OUT/letter_preview.html, per-batch
    files under OUT/dispatch/, and appends to OUT/audit.log. Re-running issues only to new persons.

    Example: omov issue run --members out/dedupe/members.parquet --election nec-2026 --out out/issue
    """
    with Console(stderr=True).status("issuing tokens (register, ledger, dispatch files)…"):
        s = issuer.issue_run(
            members, election, out, keys=keys, vote_url=vote_url, on_roll_change=on_roll_change
        )
    for line in s.recovered:
        typer.echo(f"recovered: {line}", err=True)
    _say(f"election {s.election}: {s.persons} persons, {s.eligible} eligible")
    _say(
        f"tokens already held: {s.already_held}; issued now: {s.issued} "
        f"(email {s.by_channel['email']}, post {s.by_channel['post']})"
        + (f"; revoked (vanished from roll): {s.revoked_vanished}" if s.revoked_vanished else "")
    )
    if s.batch is not None:
        _say(
            f"dispatch: {out / 'dispatch_email.csv'}, {out / 'dispatch_post.csv'} "
            f"(this batch: {out / 'dispatch' / f'batch-{s.batch:04d}'})"
        )
    else:
        _say("nothing new to issue or dispatch")
    if s.no_contact:
        typer.echo(
            f"warning: {s.no_contact} person(s) have neither email nor postal address; "
            "their letters are in dispatch_post.csv without an address",
            err=True,
        )
    _say(f"audit head: {s.audit_head}")


@app.command("reissue")
def reissue_cmd(
    person_id: Annotated[str, typer.Argument(help="The person's person_id in members.parquet.")],
    reason: Reason,
    members: Members,
    out: Out,
    keys: Keys = None,
    vote_url: VoteUrl = DEFAULT_VOTE_URL,
) -> None:
    """Revoke a person's token and issue a new one in one step; exit 4 if it was already used.

    The new letter is in OUT/dispatch/batch-NNNN/ and the live dispatch files are updated.

    Example: omov issue reissue P0001234 --reason lost --members members.parquet --out out/issue
    """
    s = issuer.reissue(person_id, reason, members, out, keys=keys, vote_url=vote_url)
    _say(
        f"re-issued (batch {s.batch}, reason {s.reason}, channel {s.channel}); "
        f"new letter in {s.dispatch_dir}"
    )
    _say(f"audit head: {s.audit_head}")


@app.command("revoke")
def revoke_cmd(
    person_id: Annotated[str, typer.Argument(help="The person's person_id.")],
    reason: Reason,
    out: Out,
    keys: Keys = None,
) -> None:
    """Revoke a person's token without a replacement; exit 4 if it was already used.

    Example: omov issue revoke P0001234 --reason ineligible --out out/issue
    """
    s = issuer.revoke(person_id, reason, out, keys=keys)
    _say(f"revoked (batch {s.batch}, reason {s.reason})")
    _say(f"audit head: {s.audit_head}")


@app.command("status")
def status_cmd(
    out: Out,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Aggregates only: tokens issued, unused, used, revoked; persons by channel; batches.

    Never a per-person "voted" flag.

    Example: omov issue status --out out/issue
    """
    st = issuer.status(out)
    if as_json:
        _say(json.dumps(st, indent=2, sort_keys=True))
        return
    reg = st["register"]
    _say(f"election {st['election']}")
    _say(
        f"tokens issued {reg['issued']}: unused {reg['unused']}, used {reg['used']}, "
        f"revoked {reg['revoked']}"
    )
    if "ledger" in st:
        led = st["ledger"]
        chans = ", ".join(f"{k} {v}" for k, v in sorted(led["active_by_channel"].items()))
        _say(f"persons holding an active token: {led['persons_with_active_token']} ({chans})")
        _say("batches: " + ", ".join(f"{k} {v}" for k, v in sorted(led["batches"].items())))
    if "audit" in st:
        _say(f"audit log: {st['audit']['entries']} entries, head {st['audit']['head']}")


@app.command("check")
def check_cmd(
    token: Annotated[str, typer.Argument(help="The token as typed, or '-' to read stdin.")],
    register: Annotated[Path, typer.Option("--register", help="The register database.")],
    vote_key: Annotated[
        Path | None,
        typer.Option("--vote-key", help="K_vote file. Default: vote.key beside the register."),
    ] = None,
) -> None:
    """Check a token against the register alone: unused, used, revoked or unknown.

    Needs only the register and the vote key (no ledger, no member data). A mistyped token
    (wrong length, symbol or check symbol) exits 2 with the reason.

    Example: omov issue check ABCD-EFGH-JKMN-PQRS-TVWX-Y --register out/issue/register.sqlite
    """
    if token == "-":  # noqa: S105 (not a password: the "read stdin" marker)
        token = sys.stdin.readline()
    key_path = vote_key if vote_key is not None else register.parent / "vote.key"
    if not key_path.exists():
        raise UsageError(f"vote key {key_path} not found", fix="give --vote-key")
    with Register.open(register, key_path) as reg:
        _say(reg.check(token))


@app.command("verify")
def verify_cmd(
    members: Members,
    out: Out,
    keys: Keys = None,
) -> None:
    """Check the invariants: one active token per eligible person, all in the register, and
    every dispatch row's token in the register. Exit 4 if any fails.

    Example: omov issue verify --members out/dedupe/members.parquet --out out/issue
    """
    problems = issuer.verify_consistency(out, members, keys=keys)
    if problems:
        raise IntegrityError("issue state is inconsistent:\n  " + "\n  ".join(problems))
    _say("ok: one active token per eligible person; register and dispatch files agree")


@audit_app.command("verify")
def audit_verify_cmd(
    log: Log,
    head: Annotated[
        str | None,
        typer.Option("--head", help="A head hash published earlier: it must still be in the log."),
    ] = None,
) -> None:
    """Recompute the hash chain; exit 4 naming the first bad entry.

    Example: omov audit verify out/issue/audit.log --head 3f5a…
    """
    h = audit.verify(log, expected_head=head)
    _say(f"ok: {h.entries} entries, head {h.hash}")


@audit_app.command("head")
def audit_head_cmd(log: Log) -> None:
    """Verify the log and print its head hash (the value to publish at each milestone).

    Example: omov audit head out/issue/audit.log
    """
    _say(audit.head(log).hash)


def _mount_candidates() -> None:
    """Candidates are part of what is issued: their pack goes out with the ballot, and the ballot
    definition it writes is what the vote and the count read. Mounted as `omov issue candidates`."""
    from issue.candidates_cli import candidates_app

    app.add_typer(candidates_app, name="candidates")


_mount_candidates()


from issue.delivery_cli import register_delivery  # noqa: E402 (send, bounces, remind, turnout, print)

register_delivery(app)
