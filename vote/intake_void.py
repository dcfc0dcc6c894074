"""``void_run``: undo a mistaken intake run before the count (``omov vote void RUN_ID``).

What it does, in this order (each step durable before the next; a re-run after a crash finishes):

1. Checks the run: the intake directory's sealed journal must name ``RUN_ID``, and the register
   must hold exactly the tokens its report says it used (valid + blank + invalid papers); an
   interrupted (open) run is voided with whatever it had used.
2. Refuses (exit 4) once a count or a merge has used the run's ballot file. How that is seen:
   ``omov count run`` records the SHA-256 of the ballot file it counted in ``result.json``
   (``ballots_sha256``) and ``intake-merge`` records each input's in ``merge_report.json`` and in
   the audit log (``intake.merged``). Void looks in every directory given with ``--count``, in
   every directory beside the intake directory (``out/count`` beside ``out/intake``), and in the
   audit log, for the SHA-256 of this run's ``ballots.blt`` or ``ballots.csv``.
3. Journal ``voiding`` → the register restores every token the run used to ``unused`` in one
   transaction (``Register.unuse_run``) → ``ballots.blt`` and ``ballots.csv`` are deleted and
   ``voided.json`` written → ``intake.voided`` is appended to the audit log → journal ``voided``.
   The reports and rejected.csv stay, as the record of what was voided.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from issue.keys import load_vote_key
from omov.errors import IntegrityError, UsageError
from omov.fileio import sha256_file, write_json_atomic
from vote import intake as core
from vote import intake_journal as journal
from vote import web_channel

VOID_FORMAT_VERSION = "omov.intake-void/1"
BALLOT_FILES = ("ballots.blt", "ballots.csv")


def _papers_used(intake: Path) -> int | None:
    """Tokens a finished run used: valid + blank + invalid papers (from its report), on every
    channel but the sealed web box, whose tokens the web server used, not this run."""
    path = intake / "intake_report.json"
    if not path.is_file():
        return None
    channels = json.loads(path.read_text(encoding="utf-8"))["channels"]
    return sum(
        int(t["by_class"][core.VALID]) + sum(int(t["by_class"][c]) for c in core.PAPER_REJECTS)
        for name, t in channels.items()
        if name != web_channel.CHANNEL
    )


def _release_box(intake: Path, run_id: str) -> str | None:
    """Give back the sealed box this run took in (if any), so a corrected intake can take it."""
    path = intake / "intake_report.json"
    if not path.is_file():
        return None
    inputs = json.loads(path.read_text(encoding="utf-8")).get("inputs", [])
    for entry in inputs:
        if entry.get("channel") == web_channel.CHANNEL:
            box = Path(entry["file"]).parent
            return str(box) if web_channel.release(box, run_id) else None
    return None


def _ballot_digests(intake: Path, doc: dict[str, Any]) -> set[str]:
    """SHA-256 of the run's ballot files: as recorded when finished, and as on disk now."""
    found = {str(doc.get("outputs", {}).get(n)) for n in BALLOT_FILES} - {"None"}
    found |= {sha256_file(intake / n) for n in BALLOT_FILES if (intake / n).is_file()}
    return found


def _places(intake: Path, counts: Sequence[Path]) -> Iterator[Path]:
    """Directories that may hold a count or a merge of this intake."""
    yield from counts
    for d in counts:
        if d.is_dir():
            yield from (p for p in d.iterdir() if p.is_dir())
    parent = intake.resolve().parent
    yield from (p for p in parent.iterdir() if p.is_dir() and p != intake.resolve())


def _json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def find_uses(
    intake: Path, digests: set[str], counts: Sequence[Path], audit_log: Path
) -> list[str]:
    """Every count or merge found that used one of ``digests`` (a ballot file of this run)."""
    from issue.audit import read_entries

    uses: list[str] = []
    for d in _places(intake, counts):
        if _json(d / "result.json").get("ballots_sha256") in digests:
            uses.append(f"the count in {d} (result.json records its SHA-256)")
        merged = _json(d / "merge_report.json")
        if {str(i.get("ballots_sha256")) for i in merged.get("inputs", [])} & digests:
            uses.append(f"the merge in {d} (merge_report.json)")
    for entry in read_entries(audit_log):
        if entry.get("event") == "intake.merged" and set(entry.get("inputs", [])) & digests:
            uses.append(f"a merge logged as audit entry {entry.get('seq')} (intake.merged)")
    return uses


def _mark_report(intake: Path, record: dict[str, Any]) -> None:
    """Re-render intake_report.html with a VOIDED banner (the JSON report stays as written)."""
    from omov.fileio import write_text_atomic
    from vote.intake_outputs import report_html

    path = intake / "intake_report.json"
    if path.is_file():
        report = json.loads(path.read_text(encoding="utf-8"))
        write_text_atomic(intake / "intake_report.html", report_html(report, voided=record))


def _check_arguments(reason: str, counts: Sequence[Path]) -> None:
    """Before anything changes: a reason the audit log will take, and count dirs that exist."""
    from vote.intake_read import normalise_one

    if len(reason) > 500 or any(normalise_one(w)[0] for w in reason.split()):
        raise UsageError(
            "--reason must be under 500 characters and hold no ballot token",
            fix="say why in words (the audit log is shared with auditors and candidates)",
        )
    for d in counts:
        if not d.is_dir():
            raise UsageError(f"--count {d}: no such directory")


def void_run(
    run_id: str,
    intake: Path,
    register_path: Path,
    keys: Path,
    audit_log: Path,
    counts: Sequence[Path] = (),
    reason: str = "",
) -> dict[str, Any]:
    """Void the intake run ``run_id`` written into ``intake`` (see the module); the record."""
    from issue.register import Register

    _check_arguments(reason, counts)
    if not intake.is_dir():
        raise UsageError(f"{intake} is not a directory", fix="give the intake's --out directory")
    key = load_vote_key(keys)
    with journal.locked(intake):
        doc = journal.read(intake, key)
        if doc is None:
            raise UsageError(f"{intake} holds no intake journal", fix="give the intake's --out")
        if run_id.strip().lower() != doc["run_id"]:
            raise UsageError(
                f"{intake} holds intake run {doc['run_id']}, not {run_id}",
                fix="give the run id printed by the intake (intake_report.json, run.id)",
            )
        if doc["state"] == journal.VOIDED:
            raise UsageError(f"intake run {run_id} is already voided")
        uses = find_uses(intake, _ballot_digests(intake, doc), counts, audit_log)
        if uses:
            raise IntegrityError(
                f"intake run {doc['run_id']} cannot be voided: its ballot file was used by "
                + "; ".join(uses),
                fix="a counted intake stays; correct it through the scrutineer's report",
            )
        with Register.open(register_path, key) as register:
            run = journal.run_key(doc)
            resuming = doc["state"] == journal.VOIDING
            expected = None if resuming else _papers_used(intake)
            if doc["state"] == journal.OPEN:
                expected = None  # an interrupted run: whatever it had used
            restored = register.used_by_run(run) if not resuming else doc.get("restored", 0)
            if expected is not None and restored != expected:
                raise IntegrityError(
                    f"the register holds {restored} tokens used by run {doc['run_id']}, but "
                    f"its report says {expected}: nothing was voided",
                    fix="check the register and the intake report before going on",
                )
            doc = journal.write(
                intake, {**doc, "state": journal.VOIDING, "restored": restored}, key
            )
            register.unuse_run(run, expected=None if resuming else restored)
            counts_after = register.counts()
        removed = {n: sha256_file(intake / n) for n in BALLOT_FILES if (intake / n).is_file()}
        for name in removed:
            (intake / name).unlink()
        record = {
            "format_version": VOID_FORMAT_VERSION,
            "run_id": doc["run_id"],
            "tokens_restored": restored,
            "reason": reason,
            "removed": removed,
            "register_after": counts_after,
            "box_released": _release_box(intake, doc["run_id"]),
        }
        write_json_atomic(intake / "voided.json", record)
        _mark_report(intake, record)
        from issue import audit

        audit.append(
            audit_log,
            "intake.voided",
            election=key.election,
            run_id=doc["run_id"],
            tokens_restored=restored,
            reason=reason,
            removed=removed,
            box_released=record["box_released"],
        )
        journal.write(intake, {**doc, "state": journal.VOIDED}, key)
    return record
