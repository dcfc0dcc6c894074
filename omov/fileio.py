"""Small file helpers shared by every stage: private atomic writes and SHA-256 digests.

Why: a report half-written by a crash must never look complete, and every input and output is
identified by its digest in summaries and in the audit log.

Why private: most of what omov writes holds personal data, tokens, token hashes, pseudonyms or
keys. Every file omov creates is 0600 and every folder it creates 0700, *whatever the umask*
(the ``omov`` command and ``make demo`` also set umask 077, for any file a library makes by
itself). Public outputs (result.html, the candidates' pack, the scrutineer's report)
are 0600 too: publishing is a deliberate copy, never an accident of a shared machine
(docs/formats.md, "Who may read which file"). A folder that already existed keeps its mode.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

_CHUNK = 1 << 20
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
PRIVATE_UMASK = 0o077


def make_private_dirs(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and its missing parents, each 0700 (existing folders keep their mode)."""
    target = Path(path)
    missing: list[Path] = []
    for folder in (target, *target.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # made meanwhile by another process: not ours to change
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is masked by the umask; chmod is not
    return target


def create_private_file(path: str | os.PathLike[str]) -> bool:
    """Create an empty 0600 file at ``path`` unless one exists (e.g. before SQLite opens it).

    Returns True if this call created it. SQLite gives its -wal, -shm and -journal files the
    database file's mode, so a database created this way stays private with all its companions.
    """
    make_private_dirs(Path(path).parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return True


@contextmanager
def private_umask() -> Iterator[None]:
    """Run a block with umask 077 (``make demo``); the old umask comes back afterwards."""
    old = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks so large files stay cheap."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


@contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "w",
    encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a temp file beside ``path``; rename it over ``path`` only if the block succeeds.

    The file is 0600 whatever the umask (a replaced file gets the new file's mode: 0600).
    """
    target = Path(path)
    make_private_dirs(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    binary = "b" in mode
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(
            fd, mode, encoding=None if binary else encoding, newline=None if binary else newline
        ) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename or link inside the folder ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new_file_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Create ``path`` (0600) holding ``data``, all or nothing; never replace an existing file.

    Temp file, fsync, then a hard link to the final name: the link is atomic and fails with
    ``FileExistsError`` if the name exists, so a crash leaves either no file or the whole file
    (never an empty or half-written one), and two processes racing cannot overwrite each other.
    """
    target = Path(path)
    make_private_dirs(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, target)
        fsync_dir(target.parent)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> str:
    """Write text atomically (UTF-8, ``\\n`` line ends); return its SHA-256."""
    data = text.encode("utf-8")
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return sha256_bytes(data)


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> str:
    """Write JSON with sorted keys and a final newline, so equal data gives equal bytes."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False)
    return write_text_atomic(path, text + "\n")
