"""The tamper-evident audit log: append-only JSON lines, each chained to the one before.

Public API (stable; the intake and count stages append to the same log):

* ``append(log_path, event, **fields) -> str`` — append one entry, return its hash (hex SHA-256).
* ``verify(log_path, expected_head=None) -> AuditHead`` — recompute the chain; raise
  ``omov.errors.IntegrityError`` naming the first bad entry (changed, removed, re-ordered or
  inserted), then check it against its **anchors** (``issue.anchor``): the log's length and head
  kept in the register and ledger after every append, and the last checkpoint signed with the
  scrutineer's Ed25519 key (``issue.checkpoint``). So a log cut short, emptied, or edited and
  re-chained fails even without an off-machine head. With ``expected_head`` (a hash published
  earlier, or a unique prefix of it of at least 8 hex digits) it also fails if that entry is no
  longer in the log — the one check that survives the log, register and ledger being replaced
  together.
* ``head(log_path) -> AuditHead`` — verify, then return ``(seq, hash, entries)`` of the last entry:
  the hash to publish at each milestone.
* ``read_entries(log_path) -> list[dict]`` — the parsed entries (for reports and tests).

Entry layout (one line, canonical JSON: sorted keys, no spaces, UTF-8)::

    {"event": "...", "format_version": "omov.audit/1", "hash": H_i, "prev": H_{i-1},
     "seq": i, "ts": "2026-05-01T12:00:00Z", ...fields}

``hash`` is the SHA-256 of the canonical JSON of the entry *without* ``hash``; ``prev`` is the
previous entry's ``hash`` (64 zeros for entry 1); ``seq`` counts from 1. So a changed byte breaks
that entry's own hash (or its JSON), a removed, inserted or swapped line breaks ``seq`` and
``prev`` at that point, and a published head pins the end. This follows the Belenios event chain
and ElectionGuard's ballot chaining (issuing-notes §3.5).

Why no personal data: the log is shared with auditors and candidates. Fields must be JSON scalars,
lists or objects of pseudonymous ids, counts and digests; ``append`` refuses any string that looks
like a ballot token, as a last line of defence. Appends take an exclusive ``flock`` on the log so
two processes (issue and intake) can append at once without forking the chain, and are fsynced.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from issue import anchor
from omov.errors import IntegrityError, UsageError
from omov.fileio import PRIVATE_FILE, make_private_dirs

FORMAT_VERSION = "omov.audit/1"
GENESIS = "0" * 64
HEAD_PREFIX_MIN = 8  # hex digits of a published head that --head accepts
_RESERVED = frozenset({"event", "format_version", "hash", "prev", "seq", "ts"})
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
# A token in canonical (21 symbols) or grouped form, in any case; see issue.tokens.
_SYM = "[0-9A-HJKMNP-TV-Z]"
_TOKENISH = re.compile(
    rf"(?<![0-9A-Z])(?:{_SYM}{{21}}|(?:{_SYM}{{4}}-){{5}}{_SYM})(?![0-9A-Z])", re.IGNORECASE
)


@dataclass(frozen=True)
class AuditHead:
    """The last entry of a verified log: publish ``hash``; ``seq`` is its 1-based number."""

    seq: int
    hash: str
    entries: int
    #: What the register/ledger anchors and the signed checkpoint confirmed (``issue.anchor``).
    anchors: anchor.AnchorCheck | None = field(default=None, compare=False)


def canonical_json(obj: dict[str, Any]) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: equal entries always give equal bytes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``entry`` without its own ``hash`` key."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _check_no_tokens(value: Any, where: str) -> None:
    """Refuse anything that looks like a ballot token (hex digests are 64 chars: not matched)."""
    if isinstance(value, str):
        if _TOKENISH.search(value):
            raise UsageError(f"audit log: field {where!r} looks like a ballot token; refused")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_no_tokens(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for v in value:
            _check_no_tokens(v, where)


def _last_line(fh: Any) -> bytes | None:
    """The last non-empty line of an open binary file, read backwards from the end."""
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    if end == 0:
        return None
    block = 4096
    data = b""
    pos = end
    while pos > 0:
        step = min(block, pos)
        pos -= step
        fh.seek(pos)
        data = fh.read(step) + data
        stripped = data.rstrip(b"\n")
        if b"\n" in stripped:
            return bytes(stripped.rsplit(b"\n", 1)[1])
    stripped = data.rstrip(b"\n")
    return bytes(stripped) or None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def append(log_path: str | os.PathLike[str], event: str, **fields: Any) -> str:
    """Append one entry for ``event`` with ``fields``; return the new entry's hash.

    Appending continues from the file's last line without re-verifying the whole log (that is
    ``verify``'s job, and the intake appends often); a last line that is not a valid entry stops
    the append with IntegrityError rather than chaining onto garbage.
    """
    if not _EVENT_NAME.match(event):
        raise UsageError(f"audit log: bad event name {event!r}")
    clash = _RESERVED & fields.keys()
    if clash:
        raise UsageError(f"audit log: field name(s) {sorted(clash)} are reserved")
    _check_no_tokens(fields, "fields")
    path = Path(log_path)
    make_private_dirs(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    with os.fdopen(fd, "r+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            last = _last_line(fh)
            if last is None:
                seq, prev = 1, GENESIS
            else:
                try:
                    tail = json.loads(last)
                    seq, prev = int(tail["seq"]) + 1, str(tail["hash"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise IntegrityError(
                        f"audit log {path}: the last line is not a valid entry; not appending",
                        fix=f"run `omov audit verify {path}` and investigate before going on",
                    ) from exc
            entry: dict[str, Any] = {
                **fields,
                "event": event,
                "format_version": FORMAT_VERSION,
                "prev": prev,
                "seq": seq,
                "ts": _now(),
            }
            entry["hash"] = entry_hash(entry)
            fh.write(canonical_json(entry).encode("utf-8") + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
            anchor.record(path, seq, str(entry["hash"]))  # still under the lock: in order
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return str(entry["hash"])


def _bad(path: Path, lineno: int, why: str) -> IntegrityError:
    return IntegrityError(
        f"audit log {path}: entry {lineno} (line {lineno}) is bad: {why}",
        fix="the log was changed, cut, re-ordered or had lines inserted at or before this entry; "
        "compare with a published head hash and a backup copy",
    )


def _parse_line(path: Path, lineno: int, raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
        entry = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(path, lineno, "not valid UTF-8 JSON") from exc
    if not isinstance(entry, dict):
        raise _bad(path, lineno, "not a JSON object")
    if canonical_json(entry) != text:
        raise _bad(path, lineno, "not in canonical form (bytes were changed)")
    return entry


def read_entries(log_path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every entry, parsed, after checking the whole chain (see ``verify``)."""
    path = Path(log_path)
    entries: list[dict[str, Any]] = []
    _walk(path, entries.append)
    return entries


def _walk(path: Path, sink: Any = None) -> AuditHead:
    if not path.is_file():
        raise UsageError(f"audit log {path}: no such file")
    prev, seq, last_hash = GENESIS, 0, GENESIS
    with open(path, "rb") as fh:
        data = fh.read()
    if data and not data.endswith(b"\n"):
        raise _bad(path, data.count(b"\n") + 1, "the last line is incomplete (no newline)")
    for lineno, raw in enumerate(data.split(b"\n")[:-1] if data else [], start=1):
        entry = _parse_line(path, lineno, raw)
        if entry.get("seq") != lineno:
            raise _bad(path, lineno, f"sequence number is {entry.get('seq')!r}, expected {lineno}")
        if entry.get("prev") != prev:
            raise _bad(path, lineno, "its prev hash does not match the entry before it")
        if entry.get("hash") != entry_hash(entry):
            raise _bad(path, lineno, "its content does not match its hash")
        prev = last_hash = str(entry["hash"])
        seq = lineno
        if sink is not None:
            sink(entry)
    return AuditHead(seq=seq, hash=last_hash, entries=seq)


def _find_head(path: Path, prefix: str, seen: set[str], entries: int) -> str:
    """The one entry hash starting with ``prefix`` (at least 8 hex digits)."""
    want = prefix.strip().lower()
    if len(want) < HEAD_PREFIX_MIN or not all(c in "0123456789abcdef" for c in want):
        raise UsageError(
            f"--head {prefix!r}: give the published head hash, or at least its first "
            f"{HEAD_PREFIX_MIN} hex digits"
        )
    found = [h for h in seen if h.startswith(want)]
    if len(found) > 1:
        raise UsageError(f"--head {prefix!r} matches {len(found)} entries: give more digits")
    if not found:
        raise IntegrityError(
            f"audit log {path}: the published head {prefix} is not in the log "
            f"({entries} entries): entries after entry {entries} were removed, "
            "or the log was replaced",
            fix="restore the log from a backup that contains the published head",
        )
    return found[0]


def verify(
    log_path: str | os.PathLike[str],
    expected_head: str | None = None,
    *,
    stores: list[Path] | None = None,
    public_key: str | None = None,
) -> AuditHead:
    """Recompute the whole chain and check it against its anchors; IntegrityError names the
    first bad entry, or the store whose anchor the log no longer reaches.

    ``expected_head``: a head hash published earlier (or a unique prefix of at least 8 hex
    digits); it must still be some entry's hash. ``stores``: register/ledger files holding
    anchors (default: those beside the log, ``issue.anchor``). ``public_key``: the scrutineer's
    published signing key (hex); the signed checkpoint must be by it. A log with no entries is
    never valid (every election's first command writes one).
    """
    path = Path(log_path)
    entries: list[dict[str, Any]] = []
    last = _walk(path, entries.append)
    if last.entries == 0:
        raise IntegrityError(
            f"audit log {path} has no entries: it was emptied or replaced",
            fix="restore the log from a backup; compare with the published head hash",
        )
    if expected_head:
        _find_head(path, expected_head, {str(e["hash"]) for e in entries}, last.entries)
    found = anchor.check(
        path,
        entries,
        anchor.stores_of(path) if stores is None else stores,
        public_key=public_key,
    )
    if public_key is not None and found.signed_seq is None:
        raise IntegrityError(
            f"audit log {path}: no signed checkpoint found to check against the published key",
            fix="give the register or ledger of this election (--register/--ledger)",
        )
    return AuditHead(last.seq, last.hash, last.entries, found)


def head(log_path: str | os.PathLike[str]) -> AuditHead:
    """Verify the log, then return its last entry's number and hash (the value to publish)."""
    return verify(log_path)
