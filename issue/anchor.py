"""Anchors: the audit log's length and head kept where cutting the log cannot reach them.

A hash chain alone cannot tell a log cut short (or emptied, or edited and re-chained from the
edit on) from an honest one: every prefix of a valid chain is valid. So omov keeps the log's
position in two other files as well, the **stores**: ``register.sqlite`` and ``ledger.sqlite``
in the log's own folder (the election's issue directory; a store that is absent is skipped).

* After every append, ``record`` writes ``audit_seq`` and ``audit_head`` (the new entry's number
  and hash) into each store's ``meta`` table, under the log's lock, and only forwards (a smaller
  ``seq`` never overwrites a larger one). A crash between the append and ``record`` leaves the log
  one entry *ahead* of its anchors, which ``check`` accepts; a log *behind* them is not.
* At the end of each issuing command the scrutineer's Ed25519 key signs the head
  (``issue.checkpoint``); the signed checkpoint is stored beside the anchor as
  ``audit_checkpoint`` (JSON: seq, hash, public key, signature). Someone who rewrites the log
  and the anchors together cannot sign the new head without the scrutineer's key.

``check`` (called by ``audit.verify``) refuses, with ``IntegrityError`` (exit 4):
a log with fewer entries than a store recorded (cut, emptied or an old copy); an entry whose hash
differs from the one recorded (edited and re-chained); a checkpoint whose signature does not
verify, or whose key is not the key the log announced (``audit_key_created``), or not the key
the caller pinned. What it cannot see: a log, register *and* ledger all replaced by copies from
the same earlier moment (only a head published off the machine catches that: ``--head``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omov.errors import IntegrityError

STORE_NAMES = ("register.sqlite", "ledger.sqlite")
CHECKPOINT_PURPOSE = "omov.audit-checkpoint/1"
_BUSY_S = 60.0


def stores_of(log_path: Path) -> list[Path]:
    """The register and ledger beside the log (those that exist)."""
    return [p for p in (log_path.parent / n for n in STORE_NAMES) if p.is_file()]


def _write_meta(store: Path, seq: int, values: dict[str, str]) -> None:
    """Upsert ``values`` into ``meta`` in one transaction, unless ``key_seq`` is already ahead."""
    conn = sqlite3.connect(store, isolation_level=None, timeout=_BUSY_S)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_S * 1000)}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            key_seq = next(iter(values))
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key_seq,)).fetchone()
            if row is None or _seq_of(row[0]) < seq:
                conn.executemany(
                    "INSERT INTO meta VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    list(values.items()),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


def _seq_of(value: str) -> int:
    """``audit_seq`` is a number; ``audit_checkpoint`` is JSON with a ``seq``."""
    if value.isdigit():
        return int(value)
    return int(json.loads(value)["seq"])


def record(log_path: Path, seq: int, head: str) -> None:
    """After an append: store (seq, head) in each store beside the log (forwards only)."""
    for store in stores_of(log_path):
        _write_meta(store, seq, {"audit_seq": str(seq), "audit_head": head})


def store_checkpoint(log_path: Path, checkpoint: dict[str, Any]) -> None:
    """Store a signed checkpoint (``issue.checkpoint.sign``) in each store beside the log."""
    text = json.dumps(checkpoint, sort_keys=True, separators=(",", ":"))
    for store in stores_of(log_path):
        _write_meta(store, int(checkpoint["seq"]), {"audit_checkpoint": text})


@dataclass(frozen=True)
class Anchor:
    """What one store says about the log."""

    store: Path
    seq: int | None
    head: str | None
    checkpoint: dict[str, Any] | None


def read_anchor(store: Path) -> Anchor:
    """The anchor and checkpoint a store holds (read-only; a store without them gives Nones)."""
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=_BUSY_S)
        try:
            meta = dict(
                conn.execute(
                    "SELECT key, value FROM meta WHERE key IN "
                    "('audit_seq', 'audit_head', 'audit_checkpoint')"
                ).fetchall()
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise IntegrityError(f"{store}: cannot read its audit anchor ({exc})") from None
    seq = meta.get("audit_seq")
    cp = meta.get("audit_checkpoint")
    return Anchor(
        store,
        int(seq) if seq is not None else None,
        meta.get("audit_head"),
        json.loads(cp) if cp is not None else None,
    )


@dataclass(frozen=True)
class AnchorCheck:
    """What ``check`` confirmed: the stores consulted, the furthest anchored entry, and the
    latest signed checkpoint (entry number, key) if any."""

    stores: tuple[Path, ...]
    anchored_seq: int
    signed_seq: int | None
    public_key: str | None


def _cut(log: Path, entries: int, anchor_seq: int, store: Path) -> IntegrityError:
    return IntegrityError(
        f"audit log {log} has {entries} entries but {store.name} recorded entry {anchor_seq}: "
        "the log was cut short, emptied or replaced by an older copy",
        fix="restore the log from a backup that reaches that entry; compare with the published "
        "head hash",
    )


def _rewritten(log: Path, seq: int, store: Path) -> IntegrityError:
    return IntegrityError(
        f"audit log {log}: entry {seq} is not the entry {store.name} recorded (its hash "
        "differs): the log was edited and its chain recomputed",
        fix="restore the log from a backup; compare with the published head hash",
    )


def _announced_keys(entries: Sequence[dict[str, Any]]) -> set[str]:
    return {str(e["public_key"]) for e in entries if e.get("event") == "audit_key_created"}


def check(
    log: Path,
    entries: Sequence[dict[str, Any]],
    stores: Sequence[Path],
    *,
    public_key: str | None = None,
) -> AnchorCheck:
    """Check a verified chain (``entries``, in order) against the anchors in ``stores``."""
    hashes = [str(e["hash"]) for e in entries]
    announced = _announced_keys(entries)
    anchored, signed, key = 0, None, None
    for store in stores:
        a = read_anchor(store)
        points = [(a.seq, a.head)] if a.seq is not None else []
        if a.checkpoint is not None:
            points.append((int(a.checkpoint["seq"]), str(a.checkpoint["hash"])))
        for seq, head in points:
            if seq is None or seq < 1:
                continue
            if len(hashes) < seq:
                raise _cut(log, len(hashes), seq, store)
            if hashes[seq - 1] != head:
                raise _rewritten(log, seq, store)
            anchored = max(anchored, seq)
        if a.checkpoint is not None:
            cp_key = _check_signature(store, a.checkpoint, announced, public_key)
            if signed is None or int(a.checkpoint["seq"]) > signed:
                signed, key = int(a.checkpoint["seq"]), cp_key
    return AnchorCheck(tuple(stores), anchored, signed, key)


def _check_signature(
    store: Path, cp: dict[str, Any], announced: set[str], pinned: str | None
) -> str:
    from issue.checkpoint import verify_signature

    key = str(cp.get("public_key", ""))
    if pinned is not None and key.lower() != pinned.lower():
        raise IntegrityError(
            f"{store.name}: the audit checkpoint is signed by key {key[:16]}…, not by the "
            f"scrutineer's published key {pinned[:16]}…"
        )
    if key not in announced:
        raise IntegrityError(
            f"{store.name}: the audit checkpoint's key {key[:16]}… was never announced in the "
            "log (audit_key_created): the log or the store was replaced"
        )
    if not verify_signature(cp):
        raise IntegrityError(
            f"{store.name}: the signature on audit checkpoint {cp.get('seq')} does not verify: "
            "the checkpoint or the log was forged"
        )
    return key
