"""Small file helpers shared by every stage: atomic writes and SHA-256 digests.

Why: a report half-written by a crash must never look complete, and every input and output is
identified by its digest in summaries and in the audit log.
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
    """Open a temp file beside ``path``; rename it over ``path`` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    binary = "b" in mode
    try:
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
