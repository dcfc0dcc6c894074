"""``omov dedupe …`` — thin typer commands over the dedupe core."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from omov.appfactory import new_app
from omov.errors import ProblemsFound

# The dedupe core (pandas, pyarrow, rapidfuzz) is imported inside the command so `omov --help`
# starts fast. These equal dedupe.pipeline's defaults (tests/test_omov/test_startup.py checks).
DEFAULT_THRESHOLD = 20.0
DEFAULT_STRONG = 26.0

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
    quiet: QuietOpt = False,
) -> None:
    """Dedupe member exports into one record per person; exit 3 if the auditor must review.

    Writes clusters.csv, members.parquet, rejected.csv, warnings.csv, review_queue.csv,
    excluded.csv, decisions_applied.csv, duplicate_report.html and summary.json into --out.

    Example: omov dedupe run exports/*.csv --out out/dedupe --decisions decisions.csv
    """
    from rich.console import Console

    from dedupe.io import load_decisions, load_mapping, parse_org_args
    from dedupe.loading import load_exports
    from dedupe.members import Eligibility
    from dedupe.outputs import write_all
    from dedupe.pipeline import Options, run_prepared
    from omov.bars import PhaseBars

    err = Console(stderr=True, quiet=quiet)
    pairs = parse_org_args(list(exports or []), list(org or []))
    maps = load_mapping(mapping)
    opts = Options(
        threshold=threshold,
        strong=weak,
        eligibility=Eligibility(include_lapsed=include_lapsed, ignore_consent=ignore_consent),
    )
    dec = None
    if decisions is not None:
        table, lines = load_decisions(decisions)
        dec = (table, lines, str(decisions))
    with PhaseBars(err) as bars:
        t0 = time.perf_counter()
        loaded, prep = load_exports(pairs, maps, opts.today, workers, bars)
        for exp in loaded:
            bars.print(f"  {exp.org}: {exp.n_records:,} records from {exp.path} ({exp.encoding})")
        timings = {"ingest_and_cleaning": time.perf_counter() - t0}
        result = run_prepared(prep, loaded, opts, dec, bars, timings)
        bars.phase("writing outputs")
        extra = {"decisions": decisions} if decisions is not None else {}
        if mapping is not None:
            extra["mapping"] = mapping
        write_all(result, loaded, out, opts, extra)
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
