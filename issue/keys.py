"""Key files: the scrutineer's (K_member + K_vote) and the counter's vote key (K_vote only).

Why two files (issuing-notes §3.2, "split the roll from the ballots"):

* ``scrutineer.key`` holds ``K_member`` (pseudonymises persons in the issuance ledger) and
  ``K_vote`` (hashes tokens in the register). Only the scrutineer holds it.
* ``vote.key`` holds ``K_vote`` alone. The counter / ballot intake gets ``register.sqlite`` and
  ``vote.key`` and nothing else: it can check and consume tokens but cannot compute any person's
  pseudonym, so even with the ledger it could not link a token hash to a member.

Both are JSON files created on first use with mode 0600 (``O_EXCL``, fsynced) and refused if group-
or world-readable. Secrets are ``repr=False`` so no traceback, log or ``print`` shows them; the
register and ledger store only a *key check value* (an HMAC of a fixed label) to detect the wrong
key, never the key.

Token hash: ``HMAC-SHA256(K_vote, "omov/v1" 0x1F election 0x1F canonical_token)``; person pseudonym:
``HMAC-SHA256(K_member, "omov/v1/person" 0x1F election 0x1F person_id)``. The 0x1F separators make
the concatenation unambiguous, and the election id binds both to one election.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from omov.errors import IntegrityError, UsageError
from omov.fileio import write_new_file_atomic

FORMAT_VERSION = "omov.keys/1"
_ELECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SEP = b"\x1f"


def check_election_id(election: str) -> str:
    """Election ids are short and plain so they can sit in file names and HMAC inputs."""
    if not _ELECTION.match(election):
        raise UsageError(
            f"election id {election!r} is not allowed",
            fix="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return election


def hmac_many(key: bytes, prefix: bytes, messages: list[bytes]) -> list[bytes]:
    """``[HMAC-SHA256(key, prefix + m) for m in messages]``, about twice as fast as a loop of
    ``hmac.digest``: the inner (ipad + prefix) and outer (opad) SHA-256 states are computed once
    and copied per message (RFC 2104's own construction; tests check it equals ``hmac.digest``).
    """
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(64, b"\0")
    inner0 = hashlib.sha256(bytes(b ^ 0x36 for b in padded) + prefix)
    outer0 = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
    out: list[bytes] = []
    append = out.append
    for m in messages:
        inner = inner0.copy()
        inner.update(m)
        outer = outer0.copy()
        outer.update(inner.digest())
        append(outer.digest())
    return out


@dataclass(frozen=True)
class VoteKey:
    """K_vote bound to one election: hashes tokens for the register."""

    election: str
    secret: bytes = field(repr=False)

    @property
    def prefix(self) -> bytes:
        return b"omov/v1" + _SEP + self.election.encode("ascii") + _SEP

    def token_hash(self, canonical: str) -> bytes:
        """The 32-byte register key of a canonical token."""
        return hmac.digest(self.secret, self.prefix + canonical.encode("ascii"), "sha256")

    def token_hashes(self, canonical: list[str]) -> list[bytes]:
        """``token_hash`` over a list (hot path: ~1 µs each)."""
        return hmac_many(self.secret, self.prefix, [t.encode("ascii") for t in canonical])

    @property
    def check_value(self) -> str:
        """Public fingerprint proving which key a register was made with (not the key)."""
        return hmac.new(self.secret, b"omov/v1/key-check/vote", hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class MemberKey:
    """K_member bound to one election: pseudonymises person ids for the ledger."""

    election: str
    secret: bytes = field(repr=False)

    def pseudonyms(self, person_ids: list[str]) -> list[bytes]:
        """32-byte keyed pseudonyms of person ids (an unkeyed hash would be reversible)."""
        prefix = b"omov/v1/person" + _SEP + self.election.encode("ascii") + _SEP
        return hmac_many(self.secret, prefix, [p.encode("utf-8") for p in person_ids])

    @property
    def check_value(self) -> str:
        return hmac.new(self.secret, b"omov/v1/key-check/member", hashlib.sha256).hexdigest()[:32]


def _write_new_key_file(path: Path, doc: dict[str, str]) -> None:
    """Create the key file atomically (0600); FileExistsError if it exists (never overwritten)."""
    write_new_file_atomic(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())


def _read_key_file(path: Path, kind: str) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise UsageError(f"key file {path} does not exist") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(
            f"key file {path} can be read by other users; refusing to use it",
            fix=f"chmod 600 {path}",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        raise UsageError(f"key file {path} cannot be read as an omov key file") from None
    try:
        doc = json.loads(text)
    except ValueError:
        what = "empty" if not text.strip() else "incomplete or damaged (not valid JSON)"
        raise IntegrityError(
            f"key file {path} is {what}; omov writes key files all at once, so it was cut "
            "short outside omov (an older omov killed while writing it, a full disk, an edit)",
            fix="restore it from the scrutineer's backup; if no token was ever issued with it "
            "(no register.sqlite beside it), delete it and run again",
        ) from None
    if not isinstance(doc, dict) or doc.get("format_version") != FORMAT_VERSION:
        raise UsageError(f"key file {path} is not an {FORMAT_VERSION} file")
    if doc.get("kind") not in (kind, "scrutineer"):
        raise UsageError(f"key file {path} is a {doc.get('kind')!r} key, expected {kind!r}")
    return {str(k): str(v) for k, v in doc.items()}


def _secret(doc: dict[str, str], name: str, path: Path) -> bytes:
    try:
        raw = bytes.fromhex(doc[name])
    except (KeyError, ValueError):
        raise UsageError(f"key file {path} has no valid {name}") from None
    if len(raw) != 32:
        raise UsageError(f"key file {path}: {name} must be 32 bytes")
    return raw


def _check_election(doc: dict[str, str], election: str | None, path: Path) -> str:
    found = doc.get("election", "")
    if election is not None and found != election:
        raise IntegrityError(
            f"key file {path} belongs to election {found!r}, not {election!r}",
            fix="use the key file made for this election, or a new --out directory",
        )
    return check_election_id(found)


def load_or_create_scrutineer_keys(path: Path, election: str) -> tuple[MemberKey, VoteKey, bool]:
    """The scrutineer's keys for ``election``, created (0600) if the file does not exist yet.

    Returns ``(member_key, vote_key, created)``; the caller logs "key_created" (never the key).
    """
    created = False
    if not path.exists():
        doc = {
            "format_version": FORMAT_VERSION,
            "kind": "scrutineer",
            "election": check_election_id(election),
            "k_member": secrets.token_hex(32),
            "k_vote": secrets.token_hex(32),
        }
        try:
            _write_new_key_file(path, doc)
            created = True
        except FileExistsError:
            pass  # another process made it first: read theirs
    doc = _read_key_file(path, "scrutineer")
    if doc.get("kind") != "scrutineer":
        raise UsageError(f"key file {path} is a vote-only key; issuing needs the scrutineer key")
    _check_election(doc, election, path)
    return (
        MemberKey(election, _secret(doc, "k_member", path)),
        VoteKey(election, _secret(doc, "k_vote", path)),
        created,
    )


def write_vote_key(path: Path, key: VoteKey) -> bool:
    """Export K_vote alone for the counter (0600); True if written, False if already there."""
    if path.exists():
        existing = load_vote_key(path, key.election)
        if existing.check_value != key.check_value:
            raise IntegrityError(f"vote key {path} does not match the scrutineer key file")
        return False
    doc = {
        "format_version": FORMAT_VERSION,
        "kind": "vote",
        "election": key.election,
        "k_vote": key.secret.hex(),
    }
    try:
        _write_new_key_file(path, doc)
    except FileExistsError:
        return False
    return True


def load_vote_key(path: Path, election: str | None = None) -> VoteKey:
    """K_vote from a vote key file (or from the scrutineer's file, which also holds it)."""
    doc = _read_key_file(path, "vote")
    found = _check_election(doc, election, path)
    return VoteKey(found, _secret(doc, "k_vote", path))
