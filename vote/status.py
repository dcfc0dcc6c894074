"""``omov vote status``: aggregates only — ballots in the box, tokens used by channel, audit head.

What it may show: counts and digests. What it never shows: a token, a ballot, a time per
ballot, or anything per person. "By channel": the box counts the web ballots; the register
counts every used token; the difference is the tokens used by other channels (the intakes of
returned papers) — plus, while a server runs, ballots in flight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vote import box as boxes


def status(
    box_dir: Path,
    register: Path | None = None,
    keys: Path | None = None,
    audit_log: Path | None = None,
) -> dict[str, Any]:
    """The box's aggregates, and with ``register``+``keys`` / ``audit_log`` the rest."""
    doc: dict[str, Any] = dict(boxes.status(box_dir))
    if register is not None and keys is not None:
        from issue.register import Register

        with Register.open(register, keys) as reg:
            counts = reg.counts()
        web = int(doc["ballots"])
        doc["register"] = counts
        doc["used_by_channel"] = {
            "web": web,
            "other_channels": max(0, counts["used"] - web - int(doc.get("pending", 0))),
        }
    if audit_log is not None:
        from issue import audit

        head = audit.head(audit_log)
        doc["audit_head"] = {"seq": head.seq, "hash": head.hash}
    return doc
