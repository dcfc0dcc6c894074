"""``omov dedupe …`` — thin typer commands over the dedupe core."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import dedupe
from dedupe.io import parse_org_args
from dedupe.members import Eligibility
from dedupe.pipeline import DEFAULT_STRONG, DEFAULT_THRESHOLD, Options
from omov.appfactory import new_app
from omov.bars import PhaseBars
from omov.errors import ProblemsFound

app = new_app("dedupe", "Merge the organisations' member exports into one record per person.")


Exports = Annotated[
    list[Path] | None,
    typer.Argument(help="Export CSV files, one per organisation (organisation name = file stem)."),
]
OutDir = Annotated[Path, typer.Option("--out", help="Directory for the outputs.")]
DecisionsOpt = Annotated[
    Path | None,
    typer.Option("--decisions", help="Auditor's decisions (an edited review_queue.csv)."),
]
MappingOpt = Annotated[
    Path | None, typer.Option("--mapping", help="CSV file,header,field for headers no alias knows.")
]
OrgOpt = Annotated[
    list[str] | None,
    typer.Option("--org", help="NAME=PATH: an export with an explicit organisation name."),
]
ThresholdOpt = Annotated[float, typer.Option(help="Match weight (bits) to accept a link.")]
WeakOpt = Annotated[
    float,
    typer.Option(help="Links below this weight that alone hold a person together are queued."),
]
LapsedOpt = Annotated[bool, typer.Option(help="Give a ballot to persons lapsed everywhere.")]
ConsentOpt = Annotated[bool, typer.Option(help="Ignore consent columns.")]
WorkersOpt = Annotated[
    int, typer.Option(help="Processes reading exports at once (0: one per core).", min=0)
]
TodayOpt = Annotated[
    datetime | None,
    typer.Option(
        formats=["%Y-%m-%d"],
        help="Run date (YYYY-MM-DD; default today): decides two-digit years and ages. "
        "summary.json records it; give the same date to reproduce a run.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]


@app.command("run")
def run_cmd(
    out: OutDir,
    exports: Exports = None,
    decisions: DecisionsOpt = None,
    mapping: MappingOpt = None,
    org: OrgOpt = None,
    threshold: ThresholdOpt = DEFAULT_THRESHOLD,
    weak: WeakOpt = DEFAULT_STRONG,
    include_lapsed: LapsedOpt = False,
    ignore_consent: ConsentOpt = False,
    workers: WorkersOpt = 0,
    today: TodayOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Dedupe member exports into one record per person; exit 3 if the auditor must review.

    Writes clusters.csv, members.parquet, rejected.csv, warnings.csv, review_queue.csv,
    excluded.csv, decisions_applied.csv, duplicate_report.html and summary.json into --out.

    Example: omov dedupe run exports/*.csv --out out/dedupe --decisions decisions.csv
    """
    err = Console(stderr=True, quiet=quiet)
    pairs = parse_org_args(list(exports or []), list(org or []))
    opts = Options(
        threshold=threshold,
        strong=weak,
        eligibility=Eligibility(include_lapsed=include_lapsed, ignore_consent=ignore_consent),
        today=today.date() if today is not None else date.today(),
    )
    with PhaseBars(err) as bars:
        done = dedupe.run(
            pairs,
            out,
            options=opts,
            mapping=mapping,
            decisions=decisions,
            workers=workers,
            progress=bars,
        )
        for exp in done.exports:
            bars.print(f"  {exp.org}: {exp.n_records:,} records from {exp.path} ({exp.encoding})")
    result = done.result
    s = result.stats
    stale = sum(1 for x in result.decisions.log if x["status"] == "stale")
    err.print(
        f"{s['records_in']:,} records → {s['persons']:,} persons "
        f"({s['eligible']:,} eligible), {s['records_rejected']:,} rejected, "
        f"{s['queue_items']:,} to review; outputs in {out}"
    )
    if s["queue_items"] or stale:
        raise ProblemsFound(
            f"{s['queue_items']} item(s) need the auditor and {stale} decision(s) are stale",
            fix=f"open {out / 'duplicate_report.html'}, fill 'decision' (same/different) and "
            f"'note' in {out / 'review_queue.csv'}, then re-run with --decisions FILE",
        )
