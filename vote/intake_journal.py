"""The intake journal: what makes ``omov vote intake`` safe to kill at any moment.

The danger it removes: intake consumes tokens in the register (50,000 per transaction) and only
then writes ballots.blt. Killed in between, the ballots of the tokens already used existed only
in the dead process's memory, and a re-run saw those tokens as ``token_used``: voters silently
disenfranchised.

The protocol (every step durable before the next; see docs/formats-intake.md §5):

1. Under an exclusive ``flock`` on the ``--out`` directory (two intakes never write one
   directory), read ``OUT/.intake-journal.json``.
2. No journal: a new run. Its id is 128 bits from ``secrets``; the journal (run id, election,
   the ballot definition's and every channel file's SHA-256, ``state: "open"``) is written
   atomically and fsynced, file and directory, **before the first token is consumed**.
3. The register marks each token it gives this run ``used_by = run id`` in the same UPDATE that
   wins it (``issue.register``), so after a crash the register itself says which used tokens
   are this run's.
4. An open journal and the *same* inputs (same channel names in the same order, same SHA-256,
   same ballot definition): the run resumes under its old id. Every row is read and decided
   again; a token whose ``used_by`` is this run is "reclaimed" and counts exactly as "won" did,
   so the outputs are those an uninterrupted run would have written (the line order is a fresh
   shuffle, as it is on every run). Outputs an earlier attempt left half-way are rewritten.
5. Outputs written (each atomically), ``intake.finished`` appended to the audit log, then the
   journal is rewritten with ``state: "finished"`` and the outputs' SHA-256. From then on the
   directory is refused like any finished intake, so a finished run's id is never resumed.

An open journal with *other* inputs is refused (exit 2): its tokens are used and its ballots
exist nowhere yet, so it must be finished with its own files first. Why digests and not paths:
a file copied elsewhere is the same input; a file edited after a crash is not, and resuming
with it would count a different paper for a token the crashed run had already classified.

Why a journal file in OUT and not a table in the register: the counter's register copy may be
read-only or shared by several intakes; the journal belongs to one output directory, the thing
that is "finished" or not. The register holds only the random run id (never a path, a time or a
person). The id is not secret: resuming also needs K_vote, write access to the register and the
journal. A copied journal could let two directories resume one run; ``intake-merge`` refuses to
merge two intakes with the same run id.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omov.errors import InputError, UsageError
from omov.fileio import write_json_atomic

JOURNAL_NAME = ".intake-journal.json"
JOURNAL_FORMAT_VERSION = "omov.intake-journal/1"
OPEN, FINISHED = "open", "finished"


@dataclass(frozen=True)
class RunInputs:
    """What must be identical for a resume: election, ballot definition and channel files."""

    election_id: str
    ballot_definition_sha256: str
    channels: tuple[tuple[str, str], ...]  #: (channel name, SHA-256) in the order given

    def as_json(self) -> dict[str, Any]:
        return {
            "election_id": self.election_id,
            "ballot_definition_sha256": self.ballot_definition_sha256,
            "inputs": [{"channel": c, "sha256": h} for c, h in self.channels],
        }

    @classmethod
    def from_journal(cls, doc: Mapping[str, Any]) -> RunInputs:
        return cls(
            str(doc.get("election_id", "")),
            str(doc.get("ballot_definition_sha256", "")),
            tuple((str(i.get("channel")), str(i.get("sha256"))) for i in doc.get("inputs", [])),
        )


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold an exclusive flock on the directory ``out`` (never blocks: exit 2 if taken)."""
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"another `omov vote intake` is writing into {out} right now",
                fix="wait for it to finish, or give a new --out",
            ) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def read(out: Path) -> dict[str, Any] | None:
    """The journal in ``out``, or None if there is none."""
    path = out / JOURNAL_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InputError(
            f"the intake journal is not valid JSON ({exc})",
            path=str(path),
            fix="it is written atomically, so it was changed by hand: restore it from a backup",
        ) from exc
    if not isinstance(doc, dict) or doc.get("format_version") != JOURNAL_FORMAT_VERSION:
        raise InputError(f"not an {JOURNAL_FORMAT_VERSION} journal", path=str(path))
    return doc


def write(out: Path, doc: Mapping[str, Any]) -> None:
    """Write the journal atomically, then fsync the directory so the rename itself is durable.

    Why the directory too: ``write_json_atomic`` fsyncs the file, but after a power cut the
    rename could be lost, and a journal that vanished would let the next run start a new id.
    The last write (``finished``) also makes durable the renames of the outputs written into the
    same directory before it, so a finished journal never outlives its outputs.
    """
    write_json_atomic(out / JOURNAL_NAME, dict(doc))
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new(run_id: str, inputs: RunInputs) -> dict[str, Any]:
    """The journal of a run about to consume its first token."""
    return {
        "format_version": JOURNAL_FORMAT_VERSION,
        "run_id": run_id,
        "state": OPEN,
        "attempt": 1,
        **inputs.as_json(),
    }


def describe(doc: Mapping[str, Any]) -> str:
    """One line naming a journal's run and files (for refusals)."""
    files = ", ".join(
        f"{i.get('channel')} (SHA-256 {str(i.get('sha256'))[:12]}…)" for i in doc.get("inputs", [])
    )
    return f"run {doc.get('run_id')} of election {doc.get('election_id')!r} on {files}"


def check_resumable(out: Path, doc: Mapping[str, Any], inputs: RunInputs) -> None:
    """Refuse (exit 2) unless ``doc`` is an open journal of exactly ``inputs``."""
    if doc.get("state") != OPEN:
        raise UsageError(
            f"{out} already holds an intake (finished: {describe(doc)}); refusing to "
            "overwrite it (those ballots' tokens are used and could not be re-read)",
            fix="give a new --out directory for this intake",
        )
    theirs = RunInputs.from_journal(doc)
    if theirs == inputs:
        return
    why = (
        "another ballot definition"
        if theirs.ballot_definition_sha256 != inputs.ballot_definition_sha256
        else "another election"
        if theirs.election_id != inputs.election_id
        else "other channel files (names, order or contents differ)"
    )
    raise UsageError(
        f"{out} holds an unfinished intake with {why}: {describe(doc)}. Its tokens are already "
        "used in the register and its ballots are written nowhere yet",
        fix=f"first finish that intake: re-run `omov vote intake` with exactly those files "
        f"(same channel names, order and contents; see {out / JOURNAL_NAME}) and --out "
        f"{out}; then take these files with a new --out",
    )


def channel_digests(
    names: Sequence[str], digests: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """(name, SHA-256) pairs in the order the channels were given."""
    return tuple((n, digests[n]) for n in names)
