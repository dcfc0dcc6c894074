"""``merge_intakes``: one ballot file from several intakes of one election.

Each intake's ``ballots.blt`` must still have the SHA-256 its report recorded (else exit 4), all
must share the election and ballot definition, and one intake run may appear only once (a copied
directory would count its ballots twice). The BLT is read back as a stream, every number bounded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from issue.candidates import BallotCandidate, BallotDefinition
from omov.blt import read_blt
from omov.errors import InputError, IntegrityError, UsageError
from omov.fileio import make_private_dirs, sha256_file, write_json_atomic
from omov.textio import read_json
from vote import intake as core
from vote.intake_outputs import write_ballots
from vote.intake_service import refuse_existing

MERGE_FORMAT_VERSION = "omov.intake-merge/1"
MAX_REPORT_BYTES = 16 << 20  # a report holds tallies, not rows: never read a huge file whole


def load_intake_dir(d: Path) -> tuple[dict[str, Any], Counter[core.Ranking]]:
    """An intake's report and its grouped ballots, after checking ballots.blt is unchanged."""
    path = d / "intake_report.json"
    if path.is_file() and path.stat().st_size > MAX_REPORT_BYTES:
        raise InputError(
            f"larger than {MAX_REPORT_BYTES:,} bytes: not an intake report", path=str(path)
        )
    report = read_json(path, "intake report")
    blt = d / "ballots.blt"
    if not blt.is_file():
        raise InputError("no ballots.blt here (a voided intake has none)", path=str(d))
    if sha256_file(blt) != report.get("outputs", {}).get("ballots.blt"):
        raise IntegrityError(f"{blt} changed since intake wrote it (SHA-256 differs)")
    parsed = read_blt(blt)  # the project's one reader: bounded, InputError names file and line
    if parsed.n_candidates != len(report.get("candidates", [])):
        raise IntegrityError(
            f"{blt} has {parsed.n_candidates} candidates, its report lists another"
        )
    return report, parsed.rankings()


def _set_aside(reports: Sequence[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in reports:
        for cls, n in r["totals"]["by_class"].items():
            if cls in core.PAPER_REJECTS and int(n):
                out[cls] = out.get(cls, 0) + int(n)
    return dict(sorted(out.items()))


def merge_intakes(dirs: Sequence[Path], out: Path, audit_log: Path | None = None) -> dict[str, Any]:
    """One ballot file from several intakes of one election (e.g. two concurrent processes);
    with ``audit_log``, ``intake.merged`` records each input's ballots SHA-256 (``void`` reads
    it to refuse voiding a merged run)."""
    if len(dirs) < 2:
        raise UsageError("give at least two intake directories to merge")
    loaded = [load_intake_dir(d) for d in dirs]
    first = loaded[0][0]
    for (report, _), d in zip(loaded, dirs, strict=True):
        if (report["election_id"], report["ballot_definition"]["sha256"]) != (
            first["election_id"],
            first["ballot_definition"]["sha256"],
        ):
            raise IntegrityError(f"{d} is an intake of another election or ballot definition")
    runs = [str(r.get("run", {}).get("id")) for r, _ in loaded if r.get("run")]
    if len(runs) != len(set(runs)):
        raise IntegrityError(
            "two of these directories hold the same intake run (one was "
            "copied or resumed in two places): merging would count its "
            "ballots twice",
            fix="merge each intake run once",
        )
    refuse_existing(out)
    total: Counter[core.Ranking] = Counter()
    for _, rankings in loaded:
        total.update(rankings)
    result = core.IntakeResult(len(first["candidates"]), rankings=total)
    ballot = BallotDefinition(
        first["election_id"],
        int(first["seats"]),
        str(first["title"]),
        "",
        tuple(BallotCandidate(i, n, "") for i, n in enumerate(first["candidates"], start=1)),
    )
    make_private_dirs(out)
    outputs = write_ballots(out, result, ballot)  # rejections stay in each intake's own list
    doc = {
        "format_version": MERGE_FORMAT_VERSION,
        "election_id": first["election_id"],
        "valid": sum(total.values()),
        # the blank and invalid papers each intake set aside, by class (the count reports them)
        "set_aside": _set_aside([r for r, _ in loaded]),
        "inputs": [
            {
                "dir": str(d),
                "intake_report_sha256": sha256_file(d / "intake_report.json"),
                "ballots_sha256": r["outputs"]["ballots.blt"],
                "valid": r["totals"]["valid"],
            }
            for (r, _), d in zip(loaded, dirs, strict=True)
        ],
        "outputs": outputs,
    }
    write_json_atomic(out / "merge_report.json", doc)
    if audit_log is not None:
        from issue import audit

        audit.append(
            audit_log,
            "intake.merged",
            election=doc["election_id"],
            valid=doc["valid"],
            inputs=[i["ballots_sha256"] for i in doc["inputs"]],
            outputs=doc["outputs"],
        )
    return doc
