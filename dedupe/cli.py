"""``omov dedupe …`` — thin typer commands over the dedupe core."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omov.appfactory import new_app
from omov.errors import InputError, ProblemsFound

if TYPE_CHECKING:
    from rich.console import Console

    from dedupe.headers import Column, Notice
    from dedupe.io import Export
    from dedupe.survey import FileSurvey

# The dedupe core (pandas, pyarrow, rapidfuzz) is imported inside the commands so `omov --help`
# starts fast. These equal dedupe.pipeline's defaults (tests/test_omov/test_startup.py checks).
DEFAULT_THRESHOLD = 20.0
DEFAULT_STRONG = 26.0

app = new_app("dedupe", "Merge the organisations' member exports into one record per person.")


Exports = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Exports, one per organisation (organisation name = file stem): CSV, or a "
        "spreadsheet .xlsx/.xls/.ods (every sheet with data, or one: FILE.xlsx:SHEET)."
    ),
]
OutDir = Annotated[Path, typer.Option("--out", help="Directory for the outputs.")]
DecisionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--decisions",
        help="The auditor's decisions file (kept outside --out; grow it with "
        "'omov dedupe decisions add'). omov never writes it.",
    ),
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


#: Rejected rows listed on screen before "… and N more in rejected.csv".
SHOWN_REJECTED = 20


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
    """Dedupe member exports into one record per person; exit 3 if a person must act.

    Writes clusters.csv, members.parquet, rejected.csv, warnings.csv, review_queue.csv,
    excluded.csv, decisions_applied.csv, duplicate_report.html and summary.json into --out.
    Exit 3 when the auditor has items to decide, a decision is stale, a row was rejected, or
    a column or mapping line needs a look.

    Example: omov dedupe run exports/*.csv --out out/dedupe --decisions decisions.csv
    """
    from rich.console import Console

    import dedupe
    from dedupe.headers import Level
    from dedupe.io import parse_org_args
    from dedupe.members import Eligibility
    from dedupe.pipeline import Options
    from dedupe.progress_bars import RowBars

    err = Console(stderr=True, quiet=quiet)
    pairs = parse_org_args(list(exports or []), list(org or []))
    opts = Options(
        threshold=threshold,
        strong=weak,
        eligibility=Eligibility(include_lapsed=include_lapsed, ignore_consent=ignore_consent),
        today=today.date() if today is not None else date.today(),
    )
    with RowBars(err) as bars:
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
            bars.print(_describe_export(exp))
        for note in done.mapping_notes:
            bars.print(_notice_line(note))
    result, loaded, mapping_notes = done.result, done.exports, done.mapping_notes
    s = result.stats
    stale = sum(1 for x in result.decisions.log if x["status"] == "stale")
    _print_rejected(err, result.prep.rejected, out)
    err.print(
        f"{s['records_in']:,} records → {s['persons']:,} persons "
        f"({s['eligible']:,} eligible), {s['records_rejected']:,} rejected, "
        f"{s['queue_items']:,} to review; outputs in {out}",
        soft_wrap=True,
    )
    column_warnings = sum(1 for e in loaded for n in e.notices if n.level is Level.WARN)
    problems = _problems(
        s["queue_items"], stale, s["records_rejected"], column_warnings + len(mapping_notes)
    )
    if problems:
        to_fix = bool(s["records_rejected"] or column_warnings or mapping_notes)
        raise ProblemsFound(
            "; ".join(problems), fix=_advice(out, decisions, s["queue_items"], to_fix)
        )


def _problems(queue: object, stale: int, rejected: object, warnings: int) -> list[str]:
    out = []
    if queue:
        out.append(f"{queue} item(s) need the auditor")
    if stale:
        out.append(f"{stale} decision(s) are stale (see decisions_applied.csv)")
    if rejected:
        out.append(f"{rejected} member row(s) were rejected (listed above, and in rejected.csv)")
    if warnings:
        out.append(f"{warnings} column or mapping warning(s) (listed above)")
    return out


def _advice(out: Path, decisions: Path | None, queue: object, to_fix: bool) -> str:
    """What to do next; the decisions file always lives outside --out."""
    ledger = decisions or Path("decisions.csv")
    steps = []
    if queue:
        steps.append(
            f"open {out / 'duplicate_report.html'}, decide each item there and press 'Download "
            f"decisions'; then add the download to your decisions file: omov dedupe decisions "
            f"add DOWNLOADED.csv --to {ledger}, and re-run with --decisions {ledger}"
        )
    if to_fix:
        steps.append("fix the rows and columns listed above in the exports (or --mapping), re-run")
    if not steps:
        steps.append("see decisions_applied.csv: re-decide the stale decisions in the report")
    return "\n  ".join(steps)


def _print_rejected(err: Console, rejected: list[dict[str, object]], out: Path) -> None:
    for r in rejected[:SHOWN_REJECTED]:
        err.print(
            f"  rejected: {r['file']}:{r['line']}: {r['reason']} — {r['fix']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if len(rejected) > SHOWN_REJECTED:
        more = len(rejected) - SHOWN_REJECTED
        err.print(f"  … and {more:,} more rejected row(s) in {out / 'rejected.csv'}")


def _columns_text(columns: list[Column]) -> str:
    read = [f"{c.header!r} → {c.field}" for c in columns if c.field]
    skipped = [repr(c.header) for c in columns if not c.field and c.header.strip()]
    text = "    headers: " + ", ".join(read)
    return text + ("; not read: " + ", ".join(skipped) if skipped else "")


def _notice_line(note: Notice) -> str:
    from dedupe.headers import Level

    mark = "WARNING" if note.level is Level.WARN else "note"
    return f"    {mark}: {note.text}"


def _layout(encoding: str, delimiter: str) -> str:
    """ "utf-8, delimiter comma" for a text file; "xlsx workbook, sheet Members" for a sheet."""
    if delimiter.startswith("sheet "):
        return f"{encoding} workbook, {delimiter}"
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    return f"encoding {encoding}, delimiter {names.get(delimiter, repr(delimiter))}"


def _describe_export(exp: Export) -> str:
    lines = [
        f"  {exp.org}: {exp.n_records:,} records from {exp.path} "
        f"({_layout(exp.encoding, exp.delimiter)})",
        _columns_text(exp.columns),
        *(_notice_line(n) for n in exp.notices),
    ]
    return "\n".join(lines)


@app.command("inspect")
def inspect_cmd(
    exports: Exports = None,
    mapping: MappingOpt = None,
    org: OrgOpt = None,
) -> None:
    """Show how each export would be read, without matching: exit 2/3 if a person must act.

    Per file: encoding, delimiter (or sheet), which header is taken as which field, rows,
    rows that would be rejected and what would be warned about.

    Example: omov dedupe inspect exports/*.csv exports/unison.xlsx --mapping headers.csv
    """
    from rich.console import Console

    from dedupe.csvfile import load_mapping
    from dedupe.io import parse_org_args
    from dedupe.survey import survey_exports

    out = Console()
    pairs = parse_org_args(list(exports or []), list(org or []))
    survey = survey_exports(pairs, load_mapping(mapping), date.today())
    for f in survey.files:
        out.print(_survey_text(f), markup=False, highlight=False, soft_wrap=True)
    for note in survey.mapping:
        out.print(_notice_line(note), markup=False, highlight=False, soft_wrap=True)
    if survey.any_error:
        raise InputError(
            f"{sum(1 for f in survey.files if f.error)} file(s) cannot be read (above)",
            fix="fix each file as its message says, then inspect again",
        )
    if survey.must_act:
        raise ProblemsFound(
            "the run would report rejected rows or warnings (above)",
            fix="fix the exports or the mapping, or accept them knowingly",
        )


def _survey_text(f: FileSurvey) -> str:
    if f.error:
        return f"{f.org}: {f.path}\n    CANNOT READ: {f.error}"
    lines = [
        f"{f.org}: {f.path}",
        f"    {_layout(f.encoding, f.delimiter)}, {f.rows:,} rows, "
        f"{len(f.rejected):,} would be rejected",
        _columns_text(f.columns),
        *(_notice_line(n) for n in f.notices),
        *(f"    would reject line {r['line']}: {r['reason']}" for r in f.rejected[:SHOWN_REJECTED]),
    ]
    if f.cell_warnings:
        lines.append(
            "    cell warnings: " + ", ".join(f"{fld} {n:,}" for fld, n in f.cell_warnings.items())
        )
    return "\n".join(lines)


decisions_app = new_app("decisions", "Keep the auditor's decisions in a file of their own.")
app.add_typer(decisions_app, name="decisions")


@decisions_app.command("add")
def decisions_add_cmd(
    answers: Annotated[
        list[Path],
        typer.Argument(
            help="New answers: the report's download or a filled copy of review_queue.csv."
        ),
    ],
    to: Annotated[Path, typer.Option("--to", help="The decisions file (created if missing).")],
) -> None:
    """Add new answers to the decisions file; earlier lines are kept byte for byte.

    Lines already there are skipped; an answer that contradicts an earlier line stops with
    both line numbers (edit the decisions file to change a decision). Every problem in every
    file is listed at once.

    Example: omov dedupe decisions add ~/Downloads/omov-decisions.csv --to decisions.csv
    """
    from rich.console import Console

    from dedupe.decisions_file import add_decisions

    done = add_decisions(answers, to)
    Console(stderr=True).print(
        f"{done.added} decision(s) added to {done.path}; {done.already} were already there. "
        f"Next: omov dedupe run … --decisions {done.path}",
        markup=False,
        highlight=False,
    )
