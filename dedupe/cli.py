"""``omov dedupe …`` — thin typer commands over the dedupe core."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from dedupe.io import load_decisions, load_mapping, parse_org_args, read_export
from dedupe.members import Eligibility
from dedupe.outputs import write_all
from dedupe.pipeline import DEFAULT_STRONG, DEFAULT_THRESHOLD, Options, run
from omov.appfactory import new_app
from omov.errors import ProblemsFound

app = new_app("dedupe", "Merge the organisations' member exports into one record per person.")


@app.command("run")
def run_cmd(
    exports: list[Path] = typer.Argument(None, help="Export CSV files, one per organisation "
                                         "(organisation name = file stem)."),
    out: Path = typer.Option(..., "--out", help="Directory for the outputs."),
    decisions: Path | None = typer.Option(None, "--decisions",
                                          help="Auditor's decisions (an edited review_queue.csv)."),
    mapping: Path | None = typer.Option(None, "--mapping",
                                        help="CSV file,header,field for headers no alias knows."),
    org: list[str] = typer.Option([], "--org", help="NAME=PATH: an export with an explicit "
                                  "organisation name (repeatable)."),
    threshold: float = typer.Option(DEFAULT_THRESHOLD, help="Match weight (bits) to accept a link."),
    weak: float = typer.Option(DEFAULT_STRONG, help="Links below this weight that alone hold a "
                               "person together are queued for review."),
    include_lapsed: bool = typer.Option(False, help="Give a ballot to persons lapsed everywhere."),
    ignore_consent: bool = typer.Option(False, help="Ignore consent columns."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress or summary on stderr."),
) -> None:
    """Dedupe member exports into one record per person; exit 3 if the auditor must review.

    Writes clusters.csv, members.parquet, rejected.csv, warnings.csv, review_queue.csv,
    excluded.csv, decisions_applied.csv, duplicate_report.html and summary.json into --out.

    Example: omov dedupe run exports/*.csv --out out/dedupe --decisions decisions.csv
    """
    err = Console(stderr=True, quiet=quiet)
    pairs = parse_org_args(list(exports or []), org)
    maps = load_mapping(mapping)
    opts = Options(threshold=threshold, strong=weak,
                   eligibility=Eligibility(include_lapsed=include_lapsed,
                                           ignore_consent=ignore_consent))
    with err.status("reading exports") as status:
        loaded = []
        for name, path in pairs:
            exp = read_export(path, name, maps)
            err.print(f"  {name}: {exp.n_records:,} records from {path} ({exp.encoding})")
            loaded.append(exp)
        dec = None
        if decisions is not None:
            table, lines = load_decisions(decisions)
            dec = (table, lines, str(decisions))
        result = run(loaded, opts, dec, progress=lambda s: status.update(s), release_raw=True)
        status.update("writing outputs")
        extra = {"decisions": decisions} if decisions is not None else {}
        if mapping is not None:
            extra["mapping"] = mapping
        write_all(result, loaded, out, opts, extra)
    s = result.stats
    stale = sum(1 for x in result.decisions.log if x["status"] == "stale")
    err.print(f"{s['records_in']:,} records → {s['persons']:,} persons "
              f"({s['eligible']:,} eligible), {s['records_rejected']:,} rejected, "
              f"{s['queue_items']:,} to review; outputs in {out}")
    if s["queue_items"] or stale:
        raise ProblemsFound(
            f"{s['queue_items']} item(s) need the auditor and {stale} decision(s) are stale",
            fix=f"open {out / 'duplicate_report.html'}, fill 'decision' (same/different) and "
                f"'note' in {out / 'review_queue.csv'}, then re-run with --decisions FILE")
