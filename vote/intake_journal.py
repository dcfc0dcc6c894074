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

**Bound to its register and run (format /2).** Resuming gives a run the power to count again
every token the register says it used, so a journal must be impossible to forge or replay:

* The journal is sealed with ``mac = HMAC-SHA256(K_vote, "omov/v1/intake-journal" ‖ election
  ‖ canonical JSON of the rest)``: a hand-written or edited journal (a ``finished`` one set back
  to ``open``, other inputs, another run id) is refused with exit 4. K_vote is the register's
  own key, so a journal from another election's register fails too.
* The run has a **secret** (128 bits from ``secrets``) kept only in the open journal. The register
  records ``used_by = HMAC(K_vote, "omov/v1/intake-run" ‖ election ‖ secret)[:16]``, and that is
  also the run's *public* id (reports, audit log, ``omov vote void``). Knowing a finished run's
  public id therefore gives nothing: reclaiming its tokens needs the secret, and the journal
  forgets the secret when the run is finished. (Format /1 used the public id itself to reclaim:
  a hand-written journal reusing a finished run's id counted its 1,000 tokens a second time.)

Why a journal file in OUT and not a table in the register: the counter's register copy may be
read-only or shared by several intakes; the journal belongs to one output directory, the thing
that is "finished" or not. The register holds only the keyed run id (never a path, a time or a
person). A journal copied while open could let two directories finish the same run on the same
files (the same papers, never new ones: the inputs' digests are sealed); ``intake-merge``
refuses to merge two intakes with the same run id.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issue.keys import VoteKey
from omov.errors import IntegrityError, UsageError
from omov.fileio import write_json_atomic

JOURNAL_NAME = ".intake-journal.json"
JOURNAL_FORMAT_VERSION = "omov.intake-journal/2"
OPEN, FINISHED, VOIDING, VOIDED = "open", "finished", "voiding", "voided"
RUN_SECRET_BYTES = 16
MAX_JOURNAL_BYTES = 1 << 20  # a journal is a few hundred bytes; never read a huge file whole
_SEP = b"\x1f"


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


def run_id_for(key: VoteKey, secret: bytes) -> bytes:
    """The run's public id and the register's ``used_by``: keyed and one-way, from its secret."""
    label = b"omov/v1/intake-run" + _SEP + key.election.encode("ascii") + _SEP
    return hmac.digest(key.secret, label + secret, "sha256")[:RUN_SECRET_BYTES]


def _mac(key: VoteKey, doc: Mapping[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "mac"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    label = b"omov/v1/intake-journal" + _SEP + key.election.encode("ascii") + _SEP
    return hmac.new(key.secret, label + text.encode("utf-8"), hashlib.sha256).hexdigest()


def _forged(path: Path, why: str, fix: str = "") -> IntegrityError:
    return IntegrityError(
        f"{path}: the intake journal {why}: it was not written by omov with this register's "
        "vote key, or it was changed since; refusing to resume a run from it",
        fix=fix
        or "restore the journal omov wrote (or give a new --out); never edit a journal by hand",
    )


def read(out: Path, key: VoteKey) -> dict[str, Any] | None:
    """The journal in ``out`` after checking its seal, or None if there is none.

    IntegrityError (exit 4) for a journal that is not JSON, of another format, unsealed, sealed
    with another key, changed since it was sealed, or whose run id does not follow from its secret.
    """
    path = out / JOURNAL_NAME
    try:
        if path.stat().st_size > MAX_JOURNAL_BYTES:
            raise _forged(path, f"is larger than {MAX_JOURNAL_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise _forged(path, "is not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise _forged(path, "is not valid JSON") from None
    if isinstance(doc, dict) and doc.get("format_version") == "omov.intake-journal/1":
        raise _forged(
            path,
            "is an unsealed omov.intake-journal/1 journal (older omov, whose run ids anyone "
            "could reuse)",
            "an unfinished /1 run is finished with the omov version that started it; "
            "a new intake needs a new --out",
        )
    if not isinstance(doc, dict) or doc.get("format_version") != JOURNAL_FORMAT_VERSION:
        raise _forged(path, f"is not an {JOURNAL_FORMAT_VERSION} journal")
    mac = doc.get("mac")
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(key, doc)):
        raise _forged(path, "has no valid seal")
    secret = doc.get("run_secret")
    if doc.get("state") == OPEN and (
        not isinstance(secret, str)
        or run_id_for(key, bytes.fromhex(secret)).hex() != doc.get("run_id")
    ):
        raise _forged(path, "names a run its secret does not give")
    return doc


def write(out: Path, doc: Mapping[str, Any], key: VoteKey) -> dict[str, Any]:
    """Seal and write the journal atomically, then fsync the directory; returns what was written.

    Why the directory too: ``write_json_atomic`` fsyncs the file, but after a power cut the
    rename could be lost, and a journal that vanished would let the next run start a new id.
    The last write (``finished``) also makes durable the renames of the outputs written into the
    same directory before it, so a finished journal never outlives its outputs.
    """
    sealed = {**{k: v for k, v in doc.items() if k != "mac"}}
    sealed["mac"] = _mac(key, sealed)
    write_json_atomic(out / JOURNAL_NAME, sealed)
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return sealed


def new(inputs: RunInputs, key: VoteKey) -> dict[str, Any]:
    """The journal of a run about to consume its first token: a fresh secret and its run id."""
    secret = secrets.token_bytes(RUN_SECRET_BYTES)
    return {
        "format_version": JOURNAL_FORMAT_VERSION,
        "run_id": run_id_for(key, secret).hex(),
        "run_secret": secret.hex(),
        "state": OPEN,
        "attempt": 1,
        **inputs.as_json(),
    }


def finished(doc: Mapping[str, Any], outputs: Mapping[str, str]) -> dict[str, Any]:
    """The finished journal: outputs recorded, the run's secret forgotten (never resumable)."""
    done = {k: v for k, v in doc.items() if k not in ("run_secret", "mac")}
    return {**done, "state": FINISHED, "outputs": dict(outputs)}


def run_key(doc: Mapping[str, Any]) -> bytes:
    """The register's ``used_by`` for this run (the public id as bytes)."""
    return bytes.fromhex(str(doc["run_id"]))


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
            f"{out} already holds an intake ({doc.get('state')}: {describe(doc)}); refusing to "
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
