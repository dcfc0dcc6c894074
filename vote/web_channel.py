"""The sealed ballot box as the intake's ``web`` channel (``omov vote intake … --web DIR``).

The box's ballots are already token-checked: each one exists only because the server won its
token's first use in the register (``vote.box``). So the intake does not consume anything for
them; it checks the seal, claims the box for its run, and reads each ballot's marks through the
same ERS97 classification as a postal paper (``vote.intake.classify_paper``).

Why a claim: a postal file taken in twice is harmless (its tokens are used the second time), but
a box has no tokens left to refuse it. ``taken_in.json`` (created once, ``O_EXCL``, fsynced)
records the intake run that took it; another run is refused (exit 4), the same run resuming
after a crash is not.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issue.candidates import BallotDefinition
from omov.errors import IntegrityError, UsageError
from omov.fileio import sha256_file
from omov.textio import read_json
from vote import box as boxes
from vote import intake as core
from vote.seal import check_sealed

CHANNEL = "web"
CLAIM = "taken_in.json"
CLAIM_FORMAT_VERSION = "omov.ballot-box-claim/1"


@dataclass(frozen=True)
class SealedBox:
    """A sealed box checked against its seal and the ballot definition."""

    dir: Path
    seal: dict[str, Any]

    @property
    def path(self) -> Path:
        return self.dir / boxes.SEALED

    @property
    def sha256(self) -> str:
        return str(self.seal["sealed_sha256"])


def open_sealed(box_dir: Path, ballot: BallotDefinition, ballot_def: Path) -> SealedBox:
    """The sealed box, or exit 2 (not sealed yet) / exit 4 (changed, or another ballot paper)."""
    if not boxes.is_sealed(box_dir):
        raise UsageError(
            f"ballot box {box_dir} is not sealed",
            fix=f"close it first: omov vote close --box {box_dir} --audit-log LOG",
        )
    seal: dict[str, Any] = read_json(box_dir / boxes.SEAL, "box seal")
    check_sealed(box_dir, seal)
    if ballot.election_id and seal.get("election") != ballot.election_id:
        raise IntegrityError(
            f"ballot box {box_dir} is for election {seal.get('election')!r}, not "
            f"{ballot.election_id!r}"
        )
    if seal.get("ballot_definition_sha256") != sha256_file(ballot_def):
        raise IntegrityError(
            f"ballot box {box_dir} was filled with another ballot definition (SHA-256 differs)",
            fix="pass the ballot_definition.json the server ran with",
        )
    return SealedBox(box_dir, seal)


def claim(box: SealedBox, run_id: str) -> None:
    """Record that intake run ``run_id`` takes this box; refuse if another run took it."""
    path = box.dir / CLAIM
    doc = {"format_version": CLAIM_FORMAT_VERSION, "run_id": run_id, "box_sha256": box.sha256}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        found = read_json(path, "box claim")
        if found.get("run_id") != run_id:
            raise IntegrityError(
                f"ballot box {box.dir} was already taken in by intake run "
                f"{found.get('run_id')}; taking it in again would count its ballots twice",
                fix="use that intake's output (or intake-merge it), never a second intake",
            ) from None
        return
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    dir_fd = os.open(box.dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def release(box_dir: Path, run_id: str) -> bool:
    """Undo ``claim`` for a voided intake run: the box may then be taken in again (its ballots
    were never counted). Only the run that took it can release it; returns whether it did."""
    path = box_dir / CLAIM
    if not path.is_file() or read_json(path, "box claim").get("run_id") != run_id:
        return False
    path.unlink()
    dir_fd = os.open(box_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


def marks(box: SealedBox) -> Iterator[str]:
    """Every ballot's positional marks, in the box's (random key) order."""
    conn = sqlite3.connect(f"file:{box.path}?mode=ro&immutable=1", uri=True)
    try:
        for (m,) in conn.execute("SELECT marks FROM ballots ORDER BY k"):
            yield str(m)
    finally:
        conn.close()


def take_in(result: core.IntakeResult, box: SealedBox) -> int:
    """Add the box's ballots to ``result`` as the ``web`` channel; returns how many.

    Each is a paper whose token already won: it is classified (ERS97 §6) and counted or
    rejected by its marks alone, exactly as ``IntakeRun`` settles a consumed postal paper.
    """
    tally = result.tally(CHANNEL)
    n = 0
    for n, m in enumerate(marks(box), start=1):
        tally.received += 1
        paper = core.classify_paper(m, result.ncand)
        if paper.status != core.VALID:
            tally.rejected[paper.status] += 1
            result.rejections.append(core.Rejection(CHANNEL, n, paper.status, "box row"))
            continue
        tally.valid += 1
        tally.notes.update(paper.notes)
        result.rankings[paper.ranking] += 1
    if n != int(box.seal["ballots"]):
        raise IntegrityError(
            f"ballot box {box.dir}: {n} ballots read, the seal says a different number"
        )
    return n


def input_entry(box: SealedBox, rows: int) -> dict[str, Any]:
    """The intake report's ``inputs`` entry for the box."""
    return {"channel": CHANNEL, "file": str(box.path), "sha256": box.sha256, "rows": rows}
