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

from issue import audit, destroy, reasons
from issue.lookup_field import Field
from omov.appfactory import new_app
from omov.errors import IntegrityError, ProblemsFound, UsageError

# The issuer, dispatch, lookup and register modules (pyarrow, rapidfuzz, cryptography) are
# imported inside the commands so `omov --help` starts fast. These equal theirs
# (tests/test_omov/test_startup.py checks).
DEFAULT_VOTE_URL = "https://vote.example.invalid/#{token}"

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
    str,
    typer.Option(
        "--vote-url",
        help="Voting link: the web ballot's address with #{token} (the token rides in the "
        "fragment, which browsers never send to a server; a query string is refused).",
    ),
]
Members = Annotated[Path, typer.Option("--members", help="members.parquet from `omov dedupe run`.")]
Reason = Annotated[str, typer.Option("--reason", help=reasons.help_text())]
Log = Annotated[Path, typer.Argument(help="The audit log (audit.log).")]
LOOKUP_SHOWN = 50  # candidates printed per kind (exact, near); --save writes them all


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
    from rich.console import Console

    from issue import issuer

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
    if s.withheld:
        _say(
            f"not issued: {s.withheld} person(s) whose token was revoked for a reason that ends "
            "the right to a ballot (`omov issue reissue … --reason reinstated` overrides)"
        )
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

    The new letter is in OUT/dispatch/batch-NNNN/ and the live dispatch files are updated. A
    person revoked earlier and holding no token gets one: with --reason reinstated this lifts a
    revocation that ended the right to a ballot (ineligible, deceased, withdrawn, duplicate).
    Find the person id with `omov issue lookup`.

    Example: omov issue reissue P0001234 --reason lost --members members.parquet --out out/issue
    """
    from issue import changes

    s = changes.reissue(person_id, reason, members, out, keys=keys, vote_url=vote_url)
    if s.reinstated_from:
        _say(f"revocation lifted (was: {s.reinstated_from})")
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

    The reason decides what follows: ineligible, deceased, withdrawn or duplicate end the right
    to a ballot (`issue run` will not issue one again; `reissue` overrides); lost, spoilt,
    not-received, stolen or compromised leave the person owed a new token (`reissue`, or the
    next `issue run`).

    Example: omov issue revoke P0001234 --reason ineligible --out out/issue
    """
    from issue import changes

    s = changes.revoke(person_id, reason, out, keys=keys)
    _say(f"revoked (batch {s.batch}, reason {s.reason})")
    if s.keeps_ballot:
        _say("the person is still owed a ballot: `omov issue run` (or `reissue`) sends a new one")
    else:
        _say("the person will not be issued a ballot again unless `omov issue reissue` says so")
    _say(f"audit head: {s.audit_head}")


@app.command("lookup")
def lookup_cmd(
    query: Annotated[str, typer.Argument(help="A name, an email or a membership number.")],
    members: Members,
    by: Annotated[
        Field, typer.Option("--by", help="What the query is (default: guessed).")
    ] = Field.AUTO,
    save: Annotated[
        Path | None,
        typer.Option("--save", help="Also write the candidates to this CSV (created 0600)."),
    ] = None,
) -> None:
    """Find a person's person_id for `reissue`/`revoke`: every exact and near match, never a
    guess. Exit 0 for exactly one exact match, 3 when a person must choose (several, only near
    ones, or none). Shows personal data: for the scrutineer's screen only.

    Example: omov issue lookup "Jo Bloggs" --members out/dedupe/members.parquet
    """
    from issue import lookup
    from omov.textio import write_csv

    found = lookup.lookup(members, query, by)
    rows = found.all_rows()
    shown = [c for c in lookup.SHOWN if rows and c in rows[0]]
    _say(f"{query!r} looked up by {found.by}: {len(found.exact)} exact, {len(found.near)} near")
    for how, cands in (("exact", found.exact), ("near", found.near)):
        for c in cands[:LOOKUP_SHOWN]:
            label = how if how == "exact" else f"near ({c.score:.0f})"
            _say(f"{label}: " + "; ".join(f"{k} {c.row[k] or '-'}" for k in shown))
        if len(cands) > LOOKUP_SHOWN:
            _say(f"… and {len(cands) - LOOKUP_SHOWN} more {how} match(es): narrow the search")
    if save is not None:
        saved = [{"match": "exact", **c.row} for c in found.exact]
        saved += [{"match": f"near {c.score:.0f}", **c.row} for c in found.near]
        write_csv(save, ["match", *shown], saved)
        save.chmod(0o600)
        _say(f"saved: {save} (0600; holds personal data)")
    if not found.unique:
        why = (
            "no person matches"
            if not (found.exact or found.near)
            else f"{len(found.exact)} exact and {len(found.near)} near match(es)"
        )
        raise ProblemsFound(
            f"{why}: choose the person yourself (ask for a second detail: email, postcode, "
            "membership number)",
            fix="look up by another detail, e.g. --by email or --by number",
        )


@app.command("status")
def status_cmd(
    out: Out,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Aggregates only: tokens issued, unused, used, revoked; persons by channel; batches.

    Never a per-person "voted" flag.

    Example: omov issue status --out out/issue
    """
    from issue import consistency

    st = consistency.status(out)
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
        if led["revoked_by_reason"]:
            by = sorted(led["revoked_by_reason"].items())
            _say("revoked tokens by reason: " + ", ".join(f"{k} {v}" for k, v in by))
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
    from issue.register import Register

    with Register.open(register, key_path) as reg:
        _say(reg.check(token))


@app.command("verify")
def verify_cmd(
    members: Members,
    out: Out,
    keys: Keys = None,
) -> None:
    """Check the invariants: one active token per eligible person, all in the register, and
    every dispatch row's token in the register. Exit 4 if any fails. Persons revoked for a
    reason that ends the right to a ballot are expected to hold none; persons revoked for a
    reason that keeps it and not yet re-issued make it exit 3 (run `omov issue run`).

    Example: omov issue verify --members out/dedupe/members.parquet --out out/issue
    """
    from issue import consistency

    report = consistency.verify_report(out, members, keys=keys)
    if report.problems:
        raise IntegrityError("issue state is inconsistent:\n  " + "\n  ".join(report.problems))
    if report.barred:
        _say(f"{report.barred} person(s) revoked for a reason that ends the right to a ballot")
    if report.awaiting:
        raise ProblemsFound(
            f"{report.awaiting} person(s) whose token was revoked are still owed a new one",
            fix="run `omov issue run` (or `omov issue reissue`) to issue it",
        )
    _say("ok: one active token per eligible person; register and dispatch files agree")


@app.command("destroy-dispatch")
def destroy_dispatch_cmd(
    out: Out,
    keys: Keys = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: every letter and email has gone out.")
    ] = False,
) -> None:
    """Destroy the dispatch files (the only plaintext tokens) once every letter has gone out.

    Checks each file is exactly what omov wrote (else exit 4, nothing destroyed), records its
    SHA-256 in the audit log, then deletes it and overwrites its bytes with zeros. `omov issue
    verify` then checks against that record. On SSDs and journaling or copy-on-write file
    systems an overwrite is not a guarantee: keep OUT on an encrypted volume
    (docs/formats-issue.md). Without --yes it only lists the files (exit 2).

    Example: omov issue destroy-dispatch --out out/issue --yes
    """
    destroy.require_confirmation(out, yes)
    from issue import consistency

    s = consistency.destroy_dispatch(out, keys=keys)
    if not s.destroyed:
        _say("no dispatch files to destroy")
        return
    _say(f"destroyed {len(s.destroyed)} dispatch file(s), letters of batches 1–{s.through_batch}")
    if s.audit_head:
        _say(f"audit head: {s.audit_head}")


@audit_app.command("verify")
def audit_verify_cmd(
    log: Log,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="A head hash published earlier (or its first 8+ hex digits): it must still be "
            "in the log.",
        ),
    ] = None,
    store: Annotated[
        list[Path] | None,
        typer.Option(
            "--store",
            help="A register.sqlite or ledger.sqlite holding the log's anchor (repeatable). "
            "Default: those beside the log.",
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option("--public-key", help="The scrutineer's published signing key (hex)."),
    ] = None,
) -> None:
    """Recompute the hash chain and check it against its anchors; exit 4 naming the first bad
    entry, or a log cut short, emptied, or edited and re-chained.

    The anchors are the log's length and head kept in the register and ledger after every
    append, and the head signed with the scrutineer's Ed25519 key after every issue command.

    Example: omov audit verify out/issue/audit.log --head 3f5a9c01
    """
    h = audit.verify(log, expected_head=head, stores=store, public_key=public_key)
    _say(f"ok: {h.entries} entries, head {h.hash}")
    a = h.anchors
    if a is None or not a.stores:
        typer.echo(
            "warning: no register or ledger holds this log's anchor, so a log cut short after "
            "its last entry cannot be told from a whole one: give --store, or --head with a "
            "published head",
            err=True,
        )
        return
    _say(f"anchored: entry {a.anchored_seq} recorded in " + ", ".join(p.name for p in a.stores))
    if a.signed_seq is not None:
        _say(f"signed checkpoint: entry {a.signed_seq}, scrutineer key {a.public_key}")


@audit_app.command("head")
def audit_head_cmd(log: Log) -> None:
    """Verify the log and print its head hash (the value to publish at each milestone).

    Publish the scrutineer's signing key once too (`omov audit verify` prints it).

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
