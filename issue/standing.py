"""Whose token is still unused: the join of the ledger with the register, in memory only.

This is the one place that links a person to whether their token was used. It runs only on the
scrutineer's machine (it needs the scrutineer key, the ledger and the register) and returns a
dict that callers use and drop: reminders pick the unused, turnout counts the used. Nothing here
writes a per-person "voted" flag anywhere (issuing-notes §3.4: the organisations see aggregates
only). It opens the stores through ``issue.issuer``'s session, so a crashed ``omov issue``
batch is recovered first and the join never sees a half-written batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from issue import issuer
from issue.register import UNKNOWN


def token_states(out: Path, person_ids: Sequence[str], keys: Path | None = None) -> dict[str, str]:
    """person_id → state of their active token ("unused", "used", "revoked"), or "unknown" for
    a person who holds no active token (not issued, or revoked without a replacement)."""
    with issuer._session(issuer.Paths.of(out, keys), None, create=False) as s:
        pids = s.member_key.pseudonyms(list(person_ids))
        active = s.ledger.active()
        hashes = [active.get(p) for p in pids]
        states = s.register.states([h for h in hashes if h is not None])
    return {
        person: (states.get(h, UNKNOWN) if h is not None else UNKNOWN)
        for person, h in zip(person_ids, hashes, strict=True)
    }
