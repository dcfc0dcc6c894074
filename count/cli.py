"""``omov count …`` — thin typer commands over the count core.

Each command parses options, calls the core (``count.outputs``), and reports on stderr; errors are
``omov.errors`` exceptions that ``omov.cli`` maps to exit codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omov.appfactory import new_app
from omov.errors import UsageError

# The count's core (numpy, pandas, jinja2) is imported inside the commands, so `omov --help` and
# `omov count run --help` start fast (issue 17).
RULE_NAMES = ("ers97", "scottish", "meek", "meek-prf")  # count.rules.RULES (a test checks)

app = new_app("count", "Count the ballots exactly by STV; verify a count; the scrutineer's report.")


@app.command("run")
def run_cmd(
    ballots: Annotated[Path, typer.Argument(help="Ballot file: BLT, or omov's CSV (.csv).")],
    rule: Annotated[str, typer.Option("--rule", help="ers97 | scottish | meek | meek-prf")],
    out: Annotated[Path, typer.Option("--out", help="Directory for result.json/.csv/.txt/.html.")],
    seats: Annotated[
        int | None,
        typer.Option("--seats", min=1, help="Places to fill (default: from the ballot file)."),
    ] = None,
    tie_seed: Annotated[
        str | None,
        typer.Option("--tie-seed", help="Seed for ties decided by lot (echoed in the result)."),
    ] = None,
    tie_decisions: Annotated[
        Path | None,
        typer.Option("--tie-decisions", help="JSON file of lots already drawn, in order."),
    ] = None,
    threshold: Annotated[
        str, typer.Option("--threshold", help="meek only: Droop threshold 'fractional' or 'whole'.")
    ] = "fractional",
    precision: Annotated[
        int,
        typer.Option("--precision", min=1, max=12, help="meek only: decimal places (OpaVote: 6)."),
    ] = 6,
    constraint: Annotated[
        list[str] | None,
        typer.Option(
            "--constraint", help="Guard/doom constraint, e.g. 'gender:woman>=5' (repeatable)."
        ),
    ] = None,
    candidates: Annotated[
        Path | None,
        typer.Option(
            "--candidates", help="Candidates CSV with 'name' and the constraint's column."
        ),
    ] = None,
    group_map: Annotated[
        Path | None,
        typer.Option(
            "--group-map",
            help="CSV of self-description,group (e.g. 'female (she/her)',woman): the group of "
            "each candidate's description in the constraint's column.",
        ),
    ] = None,
) -> None:
    """Count a ballot file by an STV rule and write the result files.

    Example: omov count run ballots.blt --rule scottish --out out/count --tie-seed "2026-05-01"

    Gender-balanced slate (guard/doom, Hill 1998): add
    --constraint "gender:woman>=5" --candidates candidates.csv --group-map gender_groups.csv
    """
    from rich.console import Console

    from count.outputs import count_file, read_constraint, read_tie_decisions, write_result

    if rule not in RULE_NAMES:
        raise UsageError(f"unknown rule {rule!r}", fix=f"use one of: {', '.join(RULE_NAMES)}")
    if tie_seed is not None and tie_decisions is not None:
        raise UsageError("give --tie-seed or --tie-decisions, not both")
    if threshold not in ("fractional", "whole"):
        raise UsageError("--threshold must be 'fractional' or 'whole'")
    extra = {"threshold": threshold, "precision": str(precision)} if rule == "meek" else {}
    decisions = read_tie_decisions(tie_decisions) if tie_decisions else None
    if group_map is not None and not constraint:
        raise UsageError("--group-map is for a --constraint")
    con = None
    if constraint:
        if candidates is None:
            raise UsageError("--constraint needs --candidates FILE (the groups of the candidates)")
        con = read_constraint(constraint, candidates, group_map)
    with Console(stderr=True).status("reading ballots") as status:
        result = count_file(
            ballots,
            rule,
            seats=seats,
            tie_seed=tie_seed,
            tie_decisions=decisions,
            extra=extra,
            constraint=con,
            progress=status.update,
        )
        status.update("writing results")
        write_result(result, out)
    typer.echo(f"elected: {', '.join(result.elected)}", err=True)
    typer.echo(f"wrote {out}/result.json, result.csv, result.txt, result.html", err=True)


@app.command("verify")
def verify_cmd(
    out_dir: Annotated[Path, typer.Argument(help="A directory written by `omov count run`.")],
    ballots: Annotated[
        Path | None,
        typer.Option("--ballots", help="Ballot file (default: the one named in result.json)."),
    ] = None,
) -> None:
    """Recount from the ballots and check every result file; exit 4 on any difference.

    Example: omov count verify out/count
    """
    from rich.console import Console

    from count.outputs import verify_dir

    with Console(stderr=True).status("recounting"):
        verify_dir(out_dir, ballots)
    typer.echo(f"verified: {out_dir} matches a recount of the ballots", err=True)


def _mount_colleague_commands() -> None:
    """The scrutineer's report lives in its own module (with a pure core); it is mounted here so
    `omov count` lists it."""
    from count.report_cli import register_report

    register_report(app)


_mount_colleague_commands()
