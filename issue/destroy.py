"""Destroy the dispatch files after mailing; record it in the audit log; verify against the record.

Why: ``dispatch_*.csv`` are the only files that hold plaintext tokens beside names and addresses.
Once the letters and emails are out, keeping them only helps whoever steals them vote in the
members' place. ``omov issue destroy-dispatch --out OUT --yes``:

1. finds every dispatch CSV (the live files and every batch's files) and any temp file a killed
   writer left beside them;
2. checks each is byte for byte what omov wrote: its SHA-256 must equal the last digest the
   audit log's ``dispatch_written`` entries recorded for it — otherwise exit 4 and nothing is
   destroyed (a changed file is evidence, not rubbish);
3. appends ``dispatch_destroyed`` to the audit log *before* destroying anything: each file's
   name and SHA-256, ``through_batch`` (the last batch whose letters these were) and the method;
4. unlinks each file (every hard link of it: the first batch's files are also the live files),
   fsyncs the folders, then overwrites its bytes with zeros through the still-open handle and
   fsyncs them.

A crash between 3 and 4 leaves files whose digests the log already records as destroyed: the
same command finishes the job (without a second entry). Batches issued later (late joiners,
re-issues) get new dispatch files as usual and can be destroyed by a later run.

Honest limit: overwrite-then-unlink removes the data from the file system's view, but on SSDs
(wear levelling), copy-on-write or journaling file systems (btrfs, ZFS, ext4 ``data=journal``),
snapshots and backups, old blocks can survive. Keep the issue folder on an encrypted volume and
destroy its key (or the disk) for certainty (docs/formats-issue.md).

``issue verify`` after destruction checks against the record: the live files must list exactly
the active tokens of batches after ``through_batch``, a destroyed file's recorded digest must be
the digest omov recorded when it wrote it, and no file recorded as destroyed may still exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issue import audit
from omov.errors import IntegrityError, UsageError
from omov.fileio import fsync_dir, sha256_file

EVENT = "dispatch_destroyed"
METHOD = "unlink+overwrite-with-zeros+fsync"
_DISPATCH_NAMES = ("dispatch_email.csv", "dispatch_post.csv")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class DestroySummary:
    """What ``destroy_dispatch`` did: file names (relative to OUT) and the batch it covers."""

    destroyed: list[str]
    through_batch: int
    audit_head: str | None


def dispatch_files(out: Path) -> dict[str, Path]:
    """Every dispatch CSV under ``out`` (and stray temp files), by the name the log uses.

    Live files are named as in ``dispatch_written`` (``dispatch_email.csv``), batch files as
    ``batch-NNNN/dispatch_email.csv``; stray temp files by their path relative to ``out``.
    """
    found: dict[str, Path] = {}
    for name in _DISPATCH_NAMES:
        if (out / name).is_file():
            found[name] = out / name
    dispatch = out / "dispatch"
    if dispatch.is_dir():
        for batch_dir in sorted(dispatch.glob("batch-*")):
            for name in _DISPATCH_NAMES:
                if (batch_dir / name).is_file():
                    found[f"{batch_dir.name}/{name}"] = batch_dir / name
    for folder in (out, *sorted(dispatch.glob("batch-*"))):
        for stray in sorted(folder.glob(".dispatch_*")):
            if stray.is_file():
                found[stray.relative_to(out).as_posix()] = stray
    return found


def _is_stray(name: str) -> bool:
    return name.rsplit("/", 1)[-1].startswith(".")


def _path_of(out: Path, name: str) -> Path:
    """Inverse of ``dispatch_files``' naming."""
    return out / name if name in _DISPATCH_NAMES or _is_stray(name) else out / "dispatch" / name


def _recorded(entries: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """(last digest written per name, last digest destroyed per name) from the log."""
    written: dict[str, str] = {}
    destroyed: dict[str, str] = {}
    for e in entries:
        if e.get("event") == "dispatch_written":
            written.update({str(k): str(v) for k, v in (e.get("files") or {}).items()})
        elif e.get("event") == EVENT:
            destroyed.update({str(k): str(v) for k, v in (e.get("files") or {}).items()})
    return written, destroyed


def _overwrite_and_unlink(paths: list[Path]) -> None:
    """Unlink every name of one file (hard links share its bytes), then zero the bytes.

    Names first: a crash can never leave a name whose content is half zeros (the first batch's
    files and the live files are hard links of each other), only bytes no name reaches.
    """
    with open(paths[0], "r+b") as fh:
        for path in paths:
            path.unlink()
        for folder in {p.parent for p in paths}:
            fsync_dir(folder)
        left = os.fstat(fh.fileno()).st_size
        zeros = bytes(min(left, _CHUNK))
        while left > 0:
            left -= fh.write(zeros[: min(left, _CHUNK)])
        fh.flush()
        os.fsync(fh.fileno())


def _by_inode(paths: list[Path]) -> list[list[Path]]:
    groups: dict[tuple[int, int], list[Path]] = {}
    for path in paths:
        st = path.stat()
        groups.setdefault((st.st_dev, st.st_ino), []).append(path)
    return list(groups.values())


def destroy_dispatch(out: Path, log: Path, through_batch: int) -> DestroySummary:
    """Steps 1–4 of the module docstring (the caller holds the issue lock and ran recovery)."""
    files = dispatch_files(out)
    if not files:
        return DestroySummary([], through_batch, None)
    entries = audit.read_entries(log) if log.is_file() else []
    written, destroyed = _recorded(entries)
    digests = {name: sha256_file(path) for name, path in files.items()}
    new: dict[str, str] = {}
    for name, digest in digests.items():
        if destroyed.get(name) == digest:
            continue  # logged as destroyed by a run that was cut short: finish it
        if not _is_stray(name) and written.get(name) != digest:
            raise IntegrityError(
                f"{files[name]} is not the file omov wrote (its SHA-256 {digest[:16]}… differs "
                f"from the audit log's {str(written.get(name, 'none'))[:16]}…); nothing was "
                "destroyed",
                fix="find out who changed it and why; keep it as evidence",
            )
        new[name] = digest
    head = None
    if new:
        head = audit.append(
            log, EVENT, files=dict(sorted(new.items())), through_batch=through_batch, method=METHOD
        )
    for names in _by_inode(list(files.values())):
        _overwrite_and_unlink(names)
    return DestroySummary(sorted(files), through_batch, head)


def destroyed_through(entries: list[dict[str, Any]]) -> int:
    """The last batch whose dispatch files were destroyed (0 if none ever were)."""
    done = [int(e.get("through_batch", 0)) for e in entries if e.get("event") == EVENT]
    return max(done, default=0)


def check_destruction(out: Path, entries: list[dict[str, Any]]) -> list[str]:
    """Problems with recorded destructions (empty = every record is consistent)."""
    problems: list[str] = []
    written: dict[str, str] = {}
    for e in entries:
        if e.get("event") == "dispatch_written":
            written.update({str(k): str(v) for k, v in (e.get("files") or {}).items()})
        if e.get("event") != EVENT:
            continue
        for name, digest in (e.get("files") or {}).items():
            path = _path_of(out, name)
            if not _is_stray(name) and written.get(name) != digest:
                problems.append(
                    f"audit entry {e.get('seq')}: {name} was destroyed with a SHA-256 other "
                    "than the one recorded when omov wrote it"
                )
            if path.is_file() and sha256_file(path) == digest:
                problems.append(
                    f"{path} is recorded as destroyed (audit entry {e.get('seq')}) but still "
                    "exists: run `omov issue destroy-dispatch` again"
                )
    return problems


def require_confirmation(out: Path, confirmed: bool) -> None:
    """Destruction is irreversible: without ``--yes`` say what would go, and stop (exit 2)."""
    if confirmed:
        return
    names = sorted(dispatch_files(out))
    raise UsageError(
        f"this would destroy {len(names)} dispatch file(s) in {out} for good "
        f"({', '.join(names[:4])}{', …' if len(names) > 4 else ''}); nothing was done",
        fix="only after every letter and email has gone out: add --yes",
    )
