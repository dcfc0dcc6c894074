"""``omov vote serve | status | close``: the online ballot's thin commands.

Each parses its options, calls one library function (``vote.web.app.serve``,
``vote.box.status``, ``vote.seal.close_box``) and prints what a person needs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from omov.errors import UsageError
from vote.ballot import Period, parse_time

Register = Annotated[Path, typer.Option("--register", help="register.sqlite from `issue run`.")]
Keys = Annotated[Path, typer.Option("--keys", help="vote.key (K_vote only) from `issue run`.")]
Box = Annotated[Path, typer.Option("--box", help="The ballot box directory.")]


def serve(
    register: Register,
    keys: Keys,
    ballot_def: Annotated[
        Path,
        typer.Option("--ballot-def", help="ballot_definition.json from `issue candidates pack`."),
    ],
    box: Box,
    opens: Annotated[str, typer.Option("--opens", help="Opening time, ISO 8601 with a zone.")],
    closes: Annotated[str, typer.Option("--closes", help="Closing time, ISO 8601 with a zone.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8000,
    election_name: Annotated[
        str, typer.Option("--election-name", help="Shown on every page (default: the title).")
    ] = "",
    contact: Annotated[
        str, typer.Option("--contact", help="Who members contact for help (shown on pages).")
    ] = "",
    pack: Annotated[
        Path | None,
        typer.Option(
            "--pack",
            help="candidates_pack.html for the statement links (default: beside --ballot-def).",
        ),
    ] = None,
    client_failures: Annotated[
        int, typer.Option("--client-failures", min=1, help="Failed codes per client in a burst.")
    ] = 20,
    global_failures: Annotated[
        int, typer.Option("--global-failures", min=1, help="Failed codes per burst, all clients.")
    ] = 600,
) -> None:
    """Serve the web ballot: members enter their code, rank, review and cast (first use wins).

    Run it behind a TLS reverse proxy for the public; it listens on 127.0.0.1 by default.
    Stop it with Ctrl-C (queued ballots are finished first), then `omov vote close`.

    Example: omov vote serve --register out/issue/register.sqlite --keys out/issue/vote.key --ballot-def out/pack/ballot_definition.json --box out/box --opens 2026-05-01T09:00:00+01:00 --closes 2026-05-15T17:00:00+01:00
    """  # noqa: E501
    from vote.web.app import ServeOptions
    from vote.web.app import serve as run_server
    from vote.web.limits import Limits

    period = Period(parse_time(opens, "--opens"), parse_time(closes, "--closes"))
    pack_path = pack if pack is not None else ballot_def.parent / "candidates_pack.html"
    if not pack_path.is_file():
        raise UsageError(
            f"candidates' pack {pack_path} not found (the ballot links to each statement)",
            fix="pass --pack, the candidates_pack.html written by `omov issue candidates pack`",
        )
    opts = ServeOptions(
        register,
        keys,
        ballot_def,
        box,
        period,
        election_name,
        contact,
        pack_path,
        Limits(client_burst=client_failures, global_burst=global_failures),
    )

    def ready(handle: object) -> None:
        typer.echo(f"omov vote: serving on http://{host}:{port}/ (box {box})", err=True)

    done = run_server(opts, host, port, ready)
    typer.echo(
        f"omov vote: stopped; {done['ballots']} ballots taken to the register in "
        f"{done['batches']} batches this run",
        err=True,
    )


def status(
    box: Box,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    register: Annotated[
        Path | None, typer.Option("--register", help="Also: tokens used, web vs other channels.")
    ] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="vote.key, with --register.")] = None,
    audit_log: Annotated[
        Path | None, typer.Option("--audit-log", help="Also: the audit log's head (verified).")
    ] = None,
) -> None:
    """Aggregates only: ballots in the box, tokens used by channel, the audit head.

    Example: omov vote status --box out/box --register out/issue/register.sqlite --keys out/issue/vote.key --audit-log out/issue/audit.log --json
    """  # noqa: E501
    from vote.status import status as vote_status

    if (register is None) != (keys is None):
        raise UsageError("--register and --keys go together")
    doc = vote_status(box, register, keys, audit_log)
    if as_json:
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    state = "sealed" if doc["sealed"] else "open (live)"
    typer.echo(f"ballot box {box}: {state}; {doc['ballots']} ballots recorded")
    if doc.get("pending"):
        typer.echo(f"  {doc['pending']} in flight")
    if "used_by_channel" in doc:
        used = doc["used_by_channel"]
        typer.echo(f"  tokens used: web {used['web']}, other channels {used['other_channels']}")
    if "audit_head" in doc:
        typer.echo(f"  audit head: #{doc['audit_head']['seq']} {doc['audit_head']['hash']}")


def close(
    box: Box,
    audit_log: Annotated[
        Path, typer.Option("--audit-log", help="The election's audit log (vote.closed is added).")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Close before the closing time (recorded).")
    ] = False,
    register: Annotated[
        Path | None,
        typer.Option("--register", help="Needed only if a crash left ballots half-recorded."),
    ] = None,
) -> None:
    """Seal the ballot box after the close: sealed.sqlite, its SHA-256, the confirmation codes.

    Refused before the closing time unless --force, and while a server still runs on the box.

    Example: omov vote close --box out/box --audit-log out/issue/audit.log
    """
    from vote.seal import close_box

    seal = close_box(box, audit_log, now=dt.datetime.now(dt.UTC), force=force, register=register)
    typer.echo(f"sealed: {seal['ballots']} ballots, SHA-256 {seal['sealed_sha256']}")
    for name in ("sealed.sqlite", "seal.json", "confirmations.csv"):
        typer.echo(f"  {box / name}")


def register_web(app: typer.Typer) -> None:
    """Add ``serve``, ``status`` and ``close`` to the vote app."""
    app.command("serve")(serve)
    app.command("status")(status)
    app.command("close")(close)
