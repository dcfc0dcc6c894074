"""``take_in``: the whole intake of returned ballots, as one library call the CLI wraps.

Order, and why (docs/formats-intake.md §5):

1. Read and check **every** channel file (row shape, token format, repeats, each paper's marks)
   with no register write: a file-level problem (wrong header or delimiter, swapped columns, a
   preferences column no row parses, a hostile mark or line) is exit 2 naming file and line,
   and an implausible share of invalid papers stops the run (exit 2) unless accepted. Nothing
   has been written yet, not even the journal, so the corrected file can be taken in at once.
2. ``--dry-run`` stops here: the register is only read, and the would-be report is written.
3. Journal (sealed, with the run's secret) → consume (tokens marked used by the run's keyed id)
   → outputs → report → ``intake.finished`` → journal finished (``vote.intake_journal``), each
   durable before the next, so a run killed at any moment is finished by the same command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from issue.candidates import BallotDefinition
from issue.keys import VoteKey
from omov.errors import InputError, IntegrityError, UsageError
from omov.fileio import make_private_dirs, sha256_file
from vote import intake as core
from vote import intake_journal as journal
from vote import web_channel
from vote.intake_outputs import (
    DRY_RUN_NAMES,
    OUTPUT_NAMES,
    build_report,
    inputs_list,
    write_outputs,
    write_rejected,
    write_report,
)
from vote.intake_read import Channel, all_rows, check_headers, normalise, parse_channels
from vote.intake_register import DryRunRegister, RegisterAdapter, open_register

DEFAULT_MAX_INVALID_SHARE = Fraction(1, 5)


@dataclass(frozen=True)
class IntakeRequest:
    """Everything one intake needs; the paths are the ones the user named (never defaults)."""

    files: Sequence[Path]
    specs: Sequence[str]
    register: Path
    keys: Path
    ballot_def: Path
    out: Path
    audit_log: Path | None = None
    batch_size: int = 50_000
    consume_chunk: int = 50_000
    max_invalid_share: Fraction = DEFAULT_MAX_INVALID_SHARE
    accept_invalid: bool = False
    dry_run: bool = False
    progress: Callable[[int], None] | None = field(default=None, compare=False)
    web: Path | None = None  # a sealed ballot box (``omov vote close``): the ``web`` channel


@dataclass(frozen=True)
class IntakeOutcome:
    """The report (also written in ``out``) and the files written."""

    report: dict[str, Any]
    written: list[Path]
    dry_run: bool

    @property
    def rejected(self) -> int:
        return int(self.report["totals"]["rejected"])


def _audit(log: Path | None, event: str, **fields: Any) -> str | None:
    if log is None:
        return None
    from issue import audit

    return audit.append(log, event, **fields)


def refuse_existing(out: Path) -> None:
    """Never overwrite an earlier intake: its tokens are used, so its ballots exist only there.

    Outputs without a journal are a finished intake (or one from before journals existed).
    """
    existing = [n for n in OUTPUT_NAMES if (out / n).exists()]
    if existing:
        raise UsageError(
            f"{out} already holds an intake ({', '.join(existing)}); refusing to "
            "overwrite it (those ballots' tokens are used and could not be re-read)",
            fix="give a new --out directory for this intake",
        )


def load_key(keys: Path, ballot: BallotDefinition) -> VoteKey:
    """K_vote, refused (exit 4) if it belongs to another election than the ballot definition."""
    from issue.keys import load_vote_key

    key = load_vote_key(keys)
    if ballot.election_id and key.election != ballot.election_id:
        raise IntegrityError(
            f"the vote key is for election {key.election!r} but the ballot definition is "
            f"for {ballot.election_id!r}"
        )
    return key


def read_and_check(
    channels: Sequence[Channel], ncand: int, batch_size: int, progress: Any = None
) -> core.IntakeRun:
    """Step 1: every row of every file read and decided locally; file problems are exit 2."""
    paths = {c.name: str(c.path) for c in channels}
    run = core.IntakeRun(ncand, normalise)
    try:
        core.read_all(run, all_rows(channels), batch_size=batch_size, progress=progress)
    except core.RowError as exc:
        raise InputError(exc.message, path=paths[exc.channel], line=exc.line, fix=exc.fix) from None
    problems = run.file_problems()
    if problems:
        first, rest = problems[0], problems[1:]
        also = "".join(f"\n  also {paths[p.channel]}:{p.line}: {p.found}" for p in rest)
        raise InputError(
            first.found + also + "\n  nothing was consumed: every token is still unused",
            path=paths[first.channel],
            line=first.line,
            fix=first.fix,
        )
    return run


def check_invalid_share(preview: core.Preview, max_share: Fraction) -> None:
    """Stop (exit 2) before consuming when more than ``max_share`` of the rows would not count."""
    if not preview.exceeds(max_share):
        return
    share = f"{100 * preview.invalid / preview.received:.1f} %"
    classes = ", ".join(f"{c} {n:,}" for c, n in preview.not_counted.most_common())
    raise UsageError(
        f"{preview.invalid:,} of {preview.received:,} returned rows ({share}) would not count "
        f"({classes}), more than --max-invalid-share {float(max_share):.0%} allows: a file "
        "read wrongly would spend those voters' tokens. Nothing was consumed.",
        fix="look at the rows with --dry-run (it writes dry_run_rejected.csv and the would-be "
        "report without using a token); if the papers really are like this, re-run with "
        "--accept-invalid",
    )


def take_in(req: IntakeRequest) -> IntakeOutcome:
    """The whole intake (or the rest of one that was killed, or a dry run); see the module."""
    from issue.candidates_cli import read_ballot_definition

    channels = parse_channels(req.files, req.specs) if req.files or req.specs or not req.web else []
    ballot = read_ballot_definition(req.ballot_def)
    key = load_key(req.keys, ballot)
    check_headers(channels)
    box = web_channel.open_sealed(req.web, ballot, req.ballot_def) if req.web else None
    if box is not None and any(c.name == web_channel.CHANNEL for c in channels):
        raise UsageError("a channel file is named 'web'; --web takes that name: rename it")
    make_private_dirs(req.out)
    with journal.locked(req.out):
        digests = {c.name: sha256_file(c.path) for c in channels}
        if box is not None:
            digests[web_channel.CHANNEL] = box.sha256
        inputs = journal.RunInputs(
            ballot.election_id,
            sha256_file(req.ballot_def),
            journal.channel_digests(list(digests), digests),
        )
        doc = None if req.dry_run else journal.read(req.out, key)
        if doc is None and not req.dry_run:
            refuse_existing(req.out)
        elif doc is not None:
            journal.check_resumable(req.out, doc, inputs)
        run = read_and_check(channels, len(ballot.candidates), req.batch_size, req.progress)
        if req.dry_run:
            return _dry_run(req, run, ballot, channels, digests, box)
        if doc is None and not req.accept_invalid:
            check_invalid_share(run.preview(), req.max_invalid_share)
        return _consume_and_write(req, run, ballot, channels, digests, doc, inputs, key, box)


def _with_box(
    result: core.IntakeResult, box: web_channel.SealedBox | None, inputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The sealed box's ballots added to ``result`` (already token-checked: nothing consumed);
    the report's inputs with the box's entry."""
    if box is None:
        return inputs
    return [*inputs, web_channel.input_entry(box, web_channel.take_in(result, box))]


def _dry_run(
    req: IntakeRequest,
    run: core.IntakeRun,
    ballot: BallotDefinition,
    channels: Sequence[Channel],
    digests: dict[str, str],
    box: web_channel.SealedBox | None,
) -> IntakeOutcome:
    """Classify against the register's states as they are now, write the would-be report."""
    preview = run.preview()
    with open_register(req.register, req.keys, ballot, req.audit_log) as register:
        result = run.finish(DryRunRegister(register))
        counts = register.counts()
    inputs = _with_box(result, box, inputs_list(channels, result, digests))
    rejected = write_rejected(req.out / DRY_RUN_NAMES[0], result, channels)
    report = build_report(
        result,
        ballot,
        req.ballot_def,
        inputs,
        {DRY_RUN_NAMES[0]: rejected},
        counts,
        {
            "dry_run": True,
            "would_stop": preview.exceeds(req.max_invalid_share) and not req.accept_invalid,
            "not_counted_before_register": preview.invalid,
        },
    )
    write_report(req.out, report, dry_run=True)
    return IntakeOutcome(report, [req.out / n for n in DRY_RUN_NAMES], dry_run=True)


def _consume_and_write(
    req: IntakeRequest,
    run: core.IntakeRun,
    ballot: BallotDefinition,
    channels: Sequence[Channel],
    digests: dict[str, str],
    doc: dict[str, Any] | None,
    inputs: journal.RunInputs,
    key: VoteKey,
    box: web_channel.SealedBox | None,
) -> IntakeOutcome:
    """Steps 3 on: journal, consume, outputs, report, log, journal finished."""
    from issue.crashpoints import kill_point

    register = open_register(req.register, req.keys, ballot, req.audit_log)
    with register:
        doc = _start_or_resume(req.out, doc, inputs, req.audit_log, key)
        kill_point("intake_journal_written")
        if box is not None:
            web_channel.claim(box, doc["run_id"])
        adapter = RegisterAdapter(register, req.consume_chunk, journal.run_key(doc))
        result = run.finish(adapter)
        report_inputs = _with_box(result, box, inputs_list(channels, result, digests))
        outputs = write_outputs(req.out, result, ballot, channels)
        run_info = {"id": doc["run_id"], "attempt": doc["attempt"]}
        run_info["tokens_reclaimed"] = adapter.reclaimed
        report = build_report(
            result,
            ballot,
            req.ballot_def,
            report_inputs,
            outputs,
            register.counts(),
            run_info,
        )
    write_report(req.out, report)
    kill_point("intake_report_written")
    _audit(
        req.audit_log,
        "intake.finished",
        election=ballot.election_id,
        inputs=digests,
        run_id=doc["run_id"],
        attempt=doc["attempt"],
        tokens_reclaimed=adapter.reclaimed,
        totals=report["totals"],
        outputs=report["outputs"],
    )
    kill_point("intake_finished_logged")
    journal.write(req.out, journal.finished(doc, report["outputs"]), key)
    return IntakeOutcome(report, [req.out / n for n in OUTPUT_NAMES], dry_run=False)


def _start_or_resume(
    out: Path,
    doc: dict[str, Any] | None,
    inputs: journal.RunInputs,
    audit_log: Path | None,
    key: VoteKey,
) -> dict[str, Any]:
    """A new run (secret from ``secrets``, journalled before any consume) or the next attempt of
    the open run in ``doc``; the audit log gets ``intake.started`` or ``intake.resumed``."""
    digests = dict(inputs.channels)
    common = {
        "election": inputs.election_id,
        "ballot_definition_sha256": inputs.ballot_definition_sha256,
        "inputs": digests,
    }
    if doc is None:
        doc = journal.new(inputs, key)
        # Logged before the journal: a crash between the two leaves a started run that never
        # consumed a token (the next run gets a new id); never a consume the log does not know.
        _audit(audit_log, "intake.started", **common, run_id=doc["run_id"])
    else:
        doc = {**doc, "attempt": int(doc.get("attempt", 1)) + 1}
        _audit(audit_log, "intake.resumed", **common, run_id=doc["run_id"], attempt=doc["attempt"])
    return journal.write(out, doc, key)
