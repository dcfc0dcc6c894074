"""What intake writes: the shuffled ballot files, rejected.csv and the intake report (JSON, HTML).

Every file is written atomically through ``omov.fileio`` / ``omov.textio`` and identified by its
SHA-256 in the report, the journal and the audit log. A ``--dry-run`` writes only the report and
the rejections, under names no real intake uses (``DRY_RUN_NAMES``), and never a ballot file.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from issue.candidates import BallotDefinition
from omov.fileio import atomic_open, sha256_file, write_json_atomic, write_text_atomic
from omov.textio import render_html, write_csv
from vote import intake as core
from vote import intake_ballots as ballots
from vote.intake_read import Channel

REPORT_FORMAT_VERSION = "omov.intake-report/1"
REJECTED_FORMAT_VERSION = "omov.intake-rejected/1"
REJECTED_COLUMNS = ("format_version", "channel", "file", "line", "reason", "detail")
OUTPUT_NAMES = (
    "ballots.blt",
    "ballots.csv",
    "rejected.csv",
    "intake_report.json",
    "intake_report.html",
)
#: A dry run's files: the would-be report and rejections, never a ballot file.
DRY_RUN_NAMES = ("dry_run_rejected.csv", "dry_run_report.json", "dry_run_report.html")

CLASS_HELP: dict[str, str] = {
    core.VALID: "counted (ERS97 §6: a clear first preference)",
    core.BLANK: "blank paper: no mark at all (the member voted; not counted)",
    core.INVALID_NO_FIRST: "no first preference (ERS97 5.1.2, 6.9)",
    core.INVALID_FIRST_UNCERTAIN: "first preference void for uncertainty: '1' given to "
    "more than one candidate (ERS97 6.9)",
    core.INVALID_EXTRA_MARKS: "a mark beyond the last candidate on the ballot paper",
    core.MALFORMED_ROW: "the row cannot be read (not exactly token,preferences)",
    core.TOKEN_MALFORMED: "token has the wrong length, a foreign symbol or a wrong check symbol",
    core.TOKEN_REPEATED: "token already returned earlier in this intake run",
    core.TOKEN_UNKNOWN: "token not in the register (never issued)",
    core.TOKEN_REVOKED: "token was revoked (a replacement was issued)",
    core.TOKEN_USED: "token already used (an earlier intake run or a concurrent one)",
}


def write_rejected(path: Path, result: core.IntakeResult, channels: Sequence[Channel]) -> str:
    """rejected.csv in file order: where each rejected row is and why, never token or marks."""
    files = {c.name: str(c.path) for c in channels}
    rank = {c.name: i for i, c in enumerate(channels)}
    result.rejections.sort(key=lambda r: (rank.get(r.channel, 0), r.line))
    rows = (
        {
            "format_version": REJECTED_FORMAT_VERSION,
            "channel": r.channel,
            "file": files.get(r.channel, ""),
            "line": r.line,
            "reason": r.reason,
            "detail": r.detail,
        }
        for r in result.rejections
    )
    return write_csv(path, REJECTED_COLUMNS, rows)


def write_ballots(out: Path, result: core.IntakeResult, ballot: BallotDefinition) -> dict[str, str]:
    """ballots.blt and ballots.csv in one shuffled order (from ``secrets``); name → SHA-256.

    Both are written by the project's one BLT writer and ballot-grid writer (``omov.blt``,
    ``omov.ballotcsv``), which the count reads back.
    """
    from issue.crashpoints import kill_point
    from omov.ballotcsv import csv_grid_lines
    from omov.blt import blt_lines

    groups = ballots.shuffled_groups(result.rankings, secrets.token_bytes)
    names = ballot.names()
    with atomic_open(out / "ballots.blt", "w") as fh:
        fh.writelines(blt_lines(groups, names, ballot.seats, ballot.title))
    kill_point("intake_blt_written")
    with atomic_open(out / "ballots.csv", "w") as fh:
        fh.writelines(csv_grid_lines(groups, names, ballot.seats, ballot.title))
    return {
        "ballots.blt": sha256_file(out / "ballots.blt"),
        "ballots.csv": sha256_file(out / "ballots.csv"),
    }


def write_outputs(
    out: Path, result: core.IntakeResult, ballot: BallotDefinition, channels: Sequence[Channel]
) -> dict[str, str]:
    """The ballot files and rejected.csv; returns name → SHA-256."""
    digests = write_ballots(out, result, ballot)
    digests["rejected.csv"] = write_rejected(out / "rejected.csv", result, channels)
    return digests


def _tally_dict(t: core.IntakeResult | core.ChannelTally) -> dict[str, Any]:
    tally = t.totals() if isinstance(t, core.IntakeResult) else t
    return {
        "received": tally.received,
        "valid": tally.valid,
        "rejected": sum(tally.rejected.values()),
        "by_class": {
            c: (tally.valid if c == core.VALID else tally.rejected.get(c, 0))
            for c in core.ALL_CLASSES
        },
        "valid_notes": {n: tally.notes.get(n, 0) for n in core.NOTES},
    }


def inputs_list(
    channels: Sequence[Channel], result: core.IntakeResult, digests: dict[str, str]
) -> list[dict[str, Any]]:
    """Each channel file with its SHA-256 and the rows read from it."""
    return [
        {
            "channel": c.name,
            "file": str(c.path),
            "sha256": digests[c.name],
            "rows": result.channels.get(c.name, core.ChannelTally()).received,
        }
        for c in channels
    ]


def build_report(
    result: core.IntakeResult,
    ballot: BallotDefinition,
    ballot_def: Path,
    inputs: list[dict[str, Any]],
    outputs: dict[str, str],
    register_counts: dict[str, int],
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The intake report (JSON): per channel and class, valid + rejected = received.

    ``run``: the intake run's public id, attempt number and tokens reclaimed from earlier
    attempts (or ``{"dry_run": true}``). ``warning`` is set when fewer papers are valid than
    rejected: the HTML then shows a warning, not a reassuring summary.
    """
    totals = _tally_dict(result)
    return {
        **({"run": run} if run is not None else {}),
        "format_version": REPORT_FORMAT_VERSION,
        "election_id": ballot.election_id,
        "title": ballot.title,
        "seats": ballot.seats,
        "candidates": ballot.names(),
        "ballot_definition": {"file": str(ballot_def), "sha256": sha256_file(ballot_def)},
        "inputs": inputs,
        "channels": {name: _tally_dict(t) for name, t in sorted(result.channels.items())},
        "totals": totals,
        "balanced": result.balanced(),
        "warning": totals["valid"] < totals["rejected"],
        "distinct_rankings": len(result.rankings),
        "classes": CLASS_HELP,
        "register_after": register_counts,
        "outputs": outputs,
    }


def report_html(
    report: dict[str, Any], *, dry_run: bool = False, voided: dict[str, Any] | None = None
) -> str:
    """The report page; ``voided`` (``omov vote void``'s record) puts a VOIDED banner on top."""
    return render_html(
        "vote",
        "intake_report.html.j2",
        r=report,
        classes=core.ALL_CLASSES,
        notes=core.NOTES,
        format_version=REPORT_FORMAT_VERSION,
        dry_run=dry_run,
        voided=voided,
    )


def write_report(out: Path, report: dict[str, Any], *, dry_run: bool = False) -> None:
    """The report as JSON then HTML (the HTML shows the JSON's figures)."""
    stem = "dry_run_report" if dry_run else "intake_report"
    write_json_atomic(out / f"{stem}.json", report)
    write_text_atomic(out / f"{stem}.html", report_html(report, dry_run=dry_run))
