"""Closing the ballot: seal the box so the count takes exactly what was recorded.

``close_box`` (``omov vote close``), under the box's lock (so never while a server runs on it):

1. refuse before the closing time the server ran with, unless forced (exit 2);
2. finish any batch a crash left pending (``BallotBox.recover``), check that every recorded
   ballot has its confirmation code (else exit 4), drop the ``pending`` table;
3. ``VACUUM INTO`` a fresh ``sealed.sqlite``: the ballots rewritten in key order, no free pages,
   no WAL, nothing of the live file's history; fsynced, then renamed into place;
4. ``confirmations.csv`` (sorted codes: publishable) and ``seal.json`` (SHA-256 of the sealed
   box, ballot count, election) — ``seal.json`` is written last: it *is* the seal;
5. ``vote.closed`` appended to the audit log with the SHA-256 and the count;
6. the live box files deleted.

Re-running a close that was interrupted after step 4 only finishes steps 5 and 6 (the audit log
is checked for an entry with this SHA-256 first, so it is never logged twice).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from omov.errors import IntegrityError, UsageError
from omov.fileio import sha256_file, write_json_atomic
from omov.textio import read_json, write_csv
from vote import box as boxes
from vote.ballot import parse_time

SEAL_FORMAT_VERSION = "omov.ballot-box-seal/1"
CODES_FORMAT_VERSION = "omov.confirmations/1"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_time(meta: dict[str, str], now: dt.datetime, force: bool) -> None:
    closes = meta.get("closes")
    if not closes:
        if not force:
            raise UsageError(
                "this box has no closing time recorded (no server ever ran on it)",
                fix="pass --force to close it anyway",
            )
        return
    if now < parse_time(closes, "the box's closing time") and not force:
        raise UsageError(
            f"the ballot closes at {closes}; it is still open",
            fix="wait for the closing time, or pass --force (recorded in the audit log)",
        )


def _seal_live(box_dir: Path, register: Path | None) -> dict[str, Any]:
    """Steps 2-4; returns the seal document."""
    box = boxes.BallotBox.open(box_dir)
    try:
        meta = dict(box.meta)
        if box.counts()["pending"]:
            if register is None:
                raise UsageError(
                    "the box holds ballots a crash left half-recorded; closing needs the "
                    "register to finish them",
                    fix="pass --register (and --keys is not needed: it is only read)",
                )
            box.recover(register)
        counts = box.counts()
        if counts["ballots"] != counts["confirmations"]:
            raise IntegrityError(
                f"ballot box {box_dir}: {counts['ballots']} ballots but "
                f"{counts['confirmations']} confirmation codes"
            )
        conn = box.connection()
        conn.execute("DROP TABLE pending")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        codes = [str(c) for (c,) in conn.execute("SELECT code FROM confirmations ORDER BY code")]
        tmp = box_dir / f".{boxes.SEALED}.tmp"
        tmp.unlink(missing_ok=True)
        conn.execute("VACUUM INTO ?", (str(tmp),))
    finally:
        box.close()
    os.chmod(tmp, 0o600)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, box_dir / boxes.SEALED)
    _fsync_dir(box_dir)
    codes_sha = write_csv(
        box_dir / boxes.CODES,
        ("format_version", "confirmation"),
        ({"format_version": CODES_FORMAT_VERSION, "confirmation": c} for c in codes),
    )
    seal = {
        "format_version": SEAL_FORMAT_VERSION,
        "election": meta.get("election", ""),
        "ballot_definition_sha256": meta.get("ballot_definition_sha256", ""),
        "candidates": int(meta.get("candidates", "0")),
        "opens": meta.get("opens", ""),
        "closes": meta.get("closes", ""),
        "ballots": counts["ballots"],
        "sealed_sha256": sha256_file(box_dir / boxes.SEALED),
        "confirmations_sha256": codes_sha,
    }
    write_json_atomic(box_dir / boxes.SEAL, seal)
    return seal


def _logged(log: Path, sha: str) -> bool:
    from issue import audit

    if not log.exists():
        return False
    return any(
        e.get("event") == "vote.closed" and e.get("box_sha256") == sha
        for e in audit.read_entries(log)
    )


def close_box(
    box_dir: Path,
    audit_log: Path,
    *,
    now: dt.datetime,
    force: bool = False,
    register: Path | None = None,
) -> dict[str, Any]:
    """Seal ``box_dir`` (see the module docstring); returns the seal document."""
    from issue import audit

    if not box_dir.is_dir():
        raise UsageError(f"ballot box {box_dir} does not exist")
    with boxes.owned(box_dir):
        if boxes.is_sealed(box_dir):
            seal: dict[str, Any] = read_json(box_dir / boxes.SEAL, "box seal")
            check_sealed(box_dir, seal)
            forced = False
        else:
            live = boxes.BallotBox.open(box_dir)
            meta = dict(live.meta)
            live.close()
            _check_time(meta, now, force)
            closes = meta.get("closes")
            forced = bool(force and closes and now < parse_time(closes, "closing time"))
            seal = _seal_live(box_dir, register)
        if not _logged(audit_log, seal["sealed_sha256"]):
            audit.append(
                audit_log,
                "vote.closed",
                election=seal["election"],
                box_sha256=seal["sealed_sha256"],
                ballots=seal["ballots"],
                confirmations_sha256=seal["confirmations_sha256"],
                forced=forced,
            )
        for name in (boxes.LIVE, f"{boxes.LIVE}-wal", f"{boxes.LIVE}-shm"):
            (box_dir / name).unlink(missing_ok=True)
        _fsync_dir(box_dir)
    return seal


def check_sealed(box_dir: Path, seal: dict[str, Any]) -> None:
    """The sealed box and the code list still match the seal (else exit 4)."""
    if seal.get("format_version") != SEAL_FORMAT_VERSION:
        raise UsageError(f"{box_dir / boxes.SEAL} is not an {SEAL_FORMAT_VERSION} file")
    for name, key in ((boxes.SEALED, "sealed_sha256"), (boxes.CODES, "confirmations_sha256")):
        path = box_dir / name
        if not path.is_file():
            raise IntegrityError(f"{path} is missing from a sealed box")
        if sha256_file(path) != seal.get(key):
            raise IntegrityError(f"{path} changed after the box was sealed (SHA-256 differs)")
