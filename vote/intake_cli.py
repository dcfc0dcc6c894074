"""``omov vote intake``, ``intake-merge`` and ``void``: thin typer commands.

Each parses its options, calls one library function (``vote.intake_service.take_in``,
``vote.intake_merge.merge_intakes``, ``vote.intake_void.void_run``), renders the outcome, and
leaves errors (``omov.errors``) to ``omov.cli``. Mount them with ``register_intake(app)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from omov.errors import ProblemsFound, UsageError

# The intake modules (numpy, the BLT reader) are imported inside the commands so `omov --help`
# starts fast.
__all__ = ["register_intake"]


def register_intake(app: typer.Typer) -> None:
    """Add the ``intake``, ``intake-merge`` and ``void`` commands to ``app`` (the vote app)."""
    app.command("intake")(intake)
    app.command("intake-merge")(intake_merge)
    app.command("void")(void)


def _say(text: str) -> None:
    typer.echo(text, err=True)


@contextmanager
def _progress() -> Iterator[Callable[[int], None]]:
    """A live count of rows read on a terminal (nothing otherwise)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("intake: {task.completed:,} rows read"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("intake", total=None)
        yield lambda n: bar.advance(task, n)


def _share(text: str) -> Fraction:
    try:
        share = Fraction(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"--max-invalid-share {text!r}: give e.g. 0.2 or 20%") from None
    if not 0 <= share <= 1:
        raise UsageError("--max-invalid-share must be between 0 and 1 (or 0% and 100%)")
    return share


def intake(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Returned-ballot CSV files (token,preferences); channel = file stem."),
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(
            "--channel", help="NAME=PATH: a channel file with an explicit name (repeatable)."
        ),
    ] = None,
    register: Annotated[
        Path, typer.Option("--register", help="register.sqlite from `omov issue run` (required).")
    ] = ...,  # type: ignore[assignment]
    keys: Annotated[
        Path, typer.Option("--keys", help="vote.key (K_vote only) from issue (required).")
    ] = ...,  # type: ignore[assignment]
    ballot_def: Annotated[
        Path,
        typer.Option(
            "--ballot-def", help="ballot_definition.json from `issue candidates pack` (required)."
        ),
    ] = ...,  # type: ignore[assignment]
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="New output directory (or that of an interrupted intake of the same files, "
            "to finish it).",
        ),
    ] = ...,  # type: ignore[assignment]
    audit_log: Annotated[
        Path | None,
        typer.Option(
            "--audit-log",
            help="The scrutineer's current audit.log: the register must be as new as it says "
            "(a stale copy is exit 4), and intake events are appended to it. Default: audit.log "
            "beside the register, checked only.",
        ),
    ] = None,
    max_invalid_share: Annotated[
        str,
        typer.Option(
            "--max-invalid-share",
            help="Stop before using any token if more rows than this would not count "
            "(unreadable rows, blank and invalid papers): 0.2 or 20%.",
        ),
    ] = "0.2",
    accept_invalid: Annotated[
        bool,
        typer.Option("--accept-invalid", help="Take the files in even above that share."),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Classify every row against the register without using a token; write "
            "dry_run_report.json/.html and dry_run_rejected.csv.",
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows read and checked at a time.")
    ] = 50_000,
    web: Annotated[
        Path | None,
        typer.Option("--web", help="A sealed ballot box (`omov vote close`): the web channel."),
    ] = None,
) -> None:
    """Check returned ballots against the register (first use wins) and write ballots.blt.

    Every row is counted once: valid + rejected = received, per channel, or nothing is written.
    Every file is read and checked before the first token is used. Exit 3 if any row was
    rejected (see rejected.csv); exit 2, with no token used, for a file it cannot read.

    Interrupted (killed, power cut)? Run the same command again, same files and --out: it finishes the run and no ballot is lost.

    Example: omov vote intake online.csv --channel postal=keyed.csv --register out/issue/register.sqlite --keys out/issue/vote.key --ballot-def out/pack/ballot_definition.json --out out/intake
    """  # noqa: E501
    from vote.intake_service import IntakeRequest, take_in

    _say(f"using register {register}, vote key {keys}, ballot definition {ballot_def}")
    with _progress() as progress:
        outcome = take_in(
            IntakeRequest(
                files or [],
                channel or [],
                register,
                keys,
                ballot_def,
                out,
                audit_log,
                batch_size=batch_size,
                max_invalid_share=_share(max_invalid_share),
                accept_invalid=accept_invalid,
                dry_run=dry_run,
                progress=progress,
                web=web,
            )
        )
    t = outcome.report["totals"]
    what = "dry run (no token used): would receive" if outcome.dry_run else "received"
    typer.echo(f"{what} {t['received']:,}: valid {t['valid']:,}, rejected {t['rejected']:,}")
    if not outcome.dry_run:
        typer.echo(f"intake run {outcome.report['run']['id']}")
    elif outcome.report["run"]["would_stop"]:
        typer.echo("a real run would stop: more rows would not count than --max-invalid-share")
    for path in outcome.written:
        typer.echo(f"  {path}")
    if outcome.rejected:
        raise ProblemsFound(
            f"{outcome.rejected:,} returned rows were rejected"
            + (" (fewer valid papers than rejected ones)" if outcome.report["warning"] else ""),
            fix=f"read {outcome.written[0].parent}/"
            f"{'dry_run_rejected.csv' if outcome.dry_run else 'rejected.csv'} "
            "(file, line and reason of each)",
        )


def intake_merge(
    dirs: Annotated[
        list[Path],
        typer.Argument(help="Two or more `omov vote intake` --out directories of one election."),
    ],
    out: Annotated[Path, typer.Option("--out", help="New output directory.")],
    audit_log: Annotated[
        Path | None, typer.Option("--audit-log", help="Append 'intake.merged' to this audit log.")
    ] = None,
) -> None:
    """Merge the ballots of several intakes (e.g. two run at once) into one ballots.blt/.csv.

    Each intake's ballots.blt must still match the SHA-256 its report recorded (else exit 4).

    Example: omov vote intake-merge out/intake-online out/intake-postal --out out/intake-all
    """
    from vote.intake_merge import merge_intakes

    doc = merge_intakes(dirs, out, audit_log)
    typer.echo(f"merged {len(dirs)} intakes: {doc['valid']:,} valid ballots")
    for name in ("ballots.blt", "ballots.csv", "merge_report.json"):
        typer.echo(f"  {out / name}")


def void(
    run_id: Annotated[str, typer.Argument(help="The intake run id (intake_report.json run.id).")],
    intake_dir: Annotated[Path, typer.Option("--intake", help="That intake's --out directory.")],
    register: Annotated[Path, typer.Option("--register", help="register.sqlite (required).")],
    keys: Annotated[Path, typer.Option("--keys", help="vote.key (required).")],
    audit_log: Annotated[
        Path, typer.Option("--audit-log", help="The election's audit log (records the void).")
    ],
    count: Annotated[
        list[Path] | None,
        typer.Option(
            "--count",
            help="A count (or merge) directory to check, besides those beside the intake "
            "(repeatable).",
        ),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the log).")] = "",
) -> None:
    """Undo a mistaken intake run before the count: its tokens become unused again.

    Refused (exit 4) once a count or merge has used the run's ballot file.

    Example: omov vote void 3f2a… --intake out/intake --register out/issue/register.sqlite --keys out/issue/vote.key --audit-log out/issue/audit.log --reason "wrong file"
    """  # noqa: E501
    from vote.intake_void import void_run

    record = void_run(run_id, intake_dir, register, keys, audit_log, count or [], reason)
    typer.echo(
        f"voided intake run {record['run_id']}: {record['tokens_restored']:,} tokens unused "
        f"again; removed {', '.join(record['removed']) or 'no ballot files'}"
    )
    typer.echo(f"  {intake_dir / 'voided.json'}")
