"""One register of truth: refuse a register that is older (or newer) than the audit log says.

Every issuer batch (issue, re-issue, revoke) adds one to the register's *generation* in the
same SQLite transaction that changes its tokens (``Register.add_unused``), and the batch's audit
entry records it (``register_generation``). A copy of the register taken before a re-issue or
revoke is therefore at an older generation than the log's latest: taking returns in against it
would count the revoked (perhaps stolen) token and reject the replacement as unknown.

``open_current(db, key, audit_log)`` is how intake — and the vote server — open the register:

* the log's chain and anchors are verified (``issue.audit.verify``), and the register's own
  anchor must be in the log (a log cut short or older than this register is refused);
* register generation < the log's latest → ``IntegrityError`` (exit 4) naming both: a stale copy;
* register generation > the log's latest → exit 4: the log is a stale copy (or the issuer
  crashed between the two: any ``omov issue`` command, e.g. ``verify``, recovers it);
* a register written by ``omov issue`` (generation ≥ 1) opened without an audit log → exit 2:
  without the log nothing can show the copy is current. ``audit_log=None`` looks for
  ``audit.log`` beside the register first (the issue directory's layout).

What it cannot see: a register *and* log copied together before the re-issue (both stale, and
consistent). The counter must be given the scrutineer's live log (or run intake on the
scrutineer's machine); the scrutineer's ``audit verify`` of the live log shows no intake run on
a copy — see docs/threat-model.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from issue import anchor, audit
from issue.keys import VoteKey
from issue.register import Register
from omov.errors import IntegrityError, UsageError


def log_generation(entries: Iterable[dict[str, Any]]) -> int:
    """The latest register generation the log records (0 if none)."""
    gens = [int(e["register_generation"]) for e in entries if "register_generation" in e]
    return max(gens, default=0)


def check_current(register: Register, log: Path) -> int:
    """Refuse ``register`` unless its generation is the log's latest; return the generation."""
    audit.verify(log)
    entries = audit.read_entries(log)
    anchor.check(log, entries, [register.path])
    have, want = register.generation(), log_generation(entries)
    if have < want:
        raise IntegrityError(
            f"register {register.path} is generation {have}, but the audit log {log} records "
            f"generation {want}: it is a stale copy from before a re-issue or revoke, and would "
            "count revoked tokens and reject their replacements",
            fix="use the scrutineer's current register.sqlite (one register: never a copy "
            "taken earlier)",
        )
    if have > want:
        raise IntegrityError(
            f"register {register.path} is generation {have}, but the audit log {log} records "
            f"only generation {want}: the log is an older copy (or an issue command was "
            "interrupted)",
            fix="use the scrutineer's current audit.log; after an interruption run "
            "`omov issue verify` first, which finishes the interrupted batch",
        )
    return have


def _consumed(totals: dict[str, Any]) -> int:
    """Tokens an intake run used: every paper it classified (valid, blank or invalid_*); the
    token and row rejections (unknown, used, revoked, malformed, repeated) used none."""
    by_class = totals.get("by_class") or {}
    return sum(
        int(n) for c, n in by_class.items() if c in ("valid", "blank") or c.startswith("invalid_")
    )


def intake_runs_elsewhere(register: Register, entries: Iterable[dict[str, Any]]) -> list[str]:
    """Intake runs the log records as finished whose used tokens this register does not hold.

    Each token an intake wins is marked ``used_by`` its run id in the same UPDATE, so the
    scrutineer's register must show every finished run's tokens. Fewer means that run took
    returns in against another register file (a copy): its voters look unused here, and a
    re-issue would let them vote twice. A run voided later (an entry naming it whose event says
    ``void``) is skipped.
    """
    runs: dict[str, int] = {}
    for e in entries:
        run = e.get("run_id")
        if not isinstance(run, str):
            continue
        if "void" in str(e.get("event", "")):
            runs.pop(run, None)
        elif e.get("event") == "intake.finished":
            runs[run] = _consumed(e.get("totals") or {})
    if not runs:
        return []
    held = register.used_per_run()
    return [
        f"intake run {run[:8]}… used {n} token(s), but register {register.path} shows "
        f"{held.get(run, 0)}: it took returns in against another copy of the register"
        for run, n in runs.items()
        if held.get(run, 0) < n
    ]


def refuse_if_intake_elsewhere(register: Register, log: Path) -> None:
    """Before a re-issue or revoke: exit 4 if an intake ran against a copy (see above)."""
    problems = intake_runs_elsewhere(register, audit.read_entries(log)) if log.is_file() else []
    if problems:
        raise IntegrityError(
            "; ".join(problems),
            fix="bring the counter's register back and reconcile it with this one before any "
            "re-issue or revoke; from now on intake uses this register file only",
        )


def resolve_log(db: Path, audit_log: Path | None) -> Path | None:
    """The log to check against: the one given, else ``audit.log`` beside the register."""
    if audit_log is not None:
        return audit_log
    beside = db.parent / "audit.log"
    return beside if beside.is_file() else None


def open_current(db: Path, key: VoteKey | Path, audit_log: Path | None) -> Register:
    """Open the register for intake or serving, refusing a stale copy (module docstring)."""
    register = Register.open(db, key)
    try:
        log = resolve_log(db, audit_log)
        if log is not None and log.is_file():
            check_current(register, log)
        elif register.generation() > 0:
            raise UsageError(
                f"register {db} was written by `omov issue`, and "
                + (f"the audit log {log} does not exist" if log else "no audit log was given")
                + ": nothing shows it is the current register (not a copy from before a "
                "re-issue or revoke)",
                fix="give --audit-log with the scrutineer's current audit.log",
            )
    except BaseException:
        register.close()
        raise
    return register
