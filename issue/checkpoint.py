"""Signed audit checkpoints: the scrutineer's Ed25519 key signs the log's head.

Library: ``cryptography`` (the Python Cryptographic Authority's package, OpenSSL underneath,
the one most Python projects use for Ed25519). PyNaCl would do the same; ``cryptography`` was
chosen because it is the more widely packaged and maintained of the two (Debian, every wheel
platform) and already the de facto standard.

The key lives in ``audit_signing.key`` beside the scrutineer's key file (``--keys``; default
``OUT/keys/``), written 0600 through a temp file and a rename, so only the scrutineer holds it;
the counter, the vote server and the auditor never need it. Its public key is announced in the
log (event ``audit_key_created``) when it is made, printed by ``omov audit head`` for
publishing with the head, and stored with every checkpoint.

A checkpoint signs ``{"election", "hash", "purpose", "seq"}`` as canonical JSON (sorted keys,
no spaces), ``purpose`` = ``omov.audit-checkpoint/1`` so the signature means nothing elsewhere.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from issue import anchor, audit
from omov.errors import IntegrityError, UsageError
from omov.fileio import atomic_open

KEY_FORMAT = "omov.audit-signing-key/1"
KEY_FILE_NAME = "audit_signing.key"


def key_path(scrutineer_keys: Path) -> Path:
    """Where the signing key lives: beside the scrutineer's key file."""
    return scrutineer_keys.parent / KEY_FILE_NAME


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _read_key(path: Path) -> Ed25519PrivateKey:
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(
            f"audit signing key {path} can be read by other users; refusing to use it",
            fix=f"chmod 600 {path}",
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format_version") != KEY_FORMAT:
            raise ValueError("format_version")
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(doc["private_key"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"audit signing key {path} is unreadable ({type(exc).__name__})",
            fix="restore it from the scrutineer's backup; never make a new one mid-election",
        ) from None


def load_or_create(path: Path, log: Path, election: str) -> Ed25519PrivateKey:
    """The signing key at ``path``, made (0600, atomically) if absent, and announced in ``log``.

    The key file is written before its announcement; a crash between the two leaves a key no
    entry announces, so an unannounced key is announced on the next use. A key *other* than the
    one the log already announced is refused (exit 4): the key file was replaced.
    """
    if path.exists():
        key = _read_key(path)
    else:
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes_raw().hex()
        doc = {"format_version": KEY_FORMAT, "election": election, "private_key": raw}
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with atomic_open(path, "w") as fh:  # mkstemp: 0600 whatever the umask
            os.fchmod(fh.fileno(), 0o600)
            fh.write(json.dumps(doc, sort_keys=True) + "\n")
    mine = public_hex(key)
    announced = announced_key(log) if log.is_file() else None
    if announced is None:
        audit.append(log, "audit_key_created", election=election, public_key=mine)
    elif announced != mine:
        raise IntegrityError(
            f"audit signing key {path} is not the key the audit log announced "
            f"({announced[:16]}…): the key file was replaced",
            fix="restore the scrutineer's original audit_signing.key from backup",
        )
    return key


def _message(election: str, seq: int, head: str) -> bytes:
    body = {"election": election, "hash": head, "purpose": anchor.CHECKPOINT_PURPOSE, "seq": seq}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_head(key: Ed25519PrivateKey, log: Path, election: str) -> dict[str, Any]:
    """Verify the log, sign its head, store the checkpoint in the register and ledger."""
    h = audit.head(log)
    cp = {
        "election": election,
        "hash": h.hash,
        "public_key": public_hex(key),
        "seq": h.seq,
        "signature": key.sign(_message(election, h.seq, h.hash)).hex(),
    }
    anchor.store_checkpoint(log, cp)
    return cp


def verify_signature(cp: dict[str, Any]) -> bool:
    """True iff the checkpoint's signature is valid for its own public key and fields."""
    try:
        pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(cp["public_key"])))
        msg = _message(str(cp["election"]), int(cp["seq"]), str(cp["hash"]))
        pub.verify(bytes.fromhex(str(cp["signature"])), msg)
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    return True


def announced_key(log: Path) -> str | None:
    """The public key the log announced (the first ``audit_key_created``), if any."""
    for e in audit.read_entries(log):
        if e.get("event") == "audit_key_created":
            return str(e["public_key"])
    return None


def require_key(cp_key: str | None, pinned: str | None) -> None:
    """Used by the CLI: a pinned key with no signed checkpoint to check is itself a failure."""
    if pinned is not None and cp_key is None:
        raise IntegrityError("no signed audit checkpoint found to check against --public-key")
