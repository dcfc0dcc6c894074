"""Read-only views of an election's issue state: aggregates (``status``) and the invariants
(``verify_report``; ``verify_consistency`` returns only its integrity problems).

A person whose token was revoked for a reason that ends the right to a ballot
(``issue.reasons.NO_BALLOT``) is *expected* to hold no token: ``verify`` accepts it and says how
many. A person revoked for a reason that keeps the ballot and not yet given a new one is not an
integrity failure either, but someone must act (``omov issue run``): ``awaiting``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from issue import audit, destroy, dispatch, freshness, reasons
from issue.issuer import Paths, _Session, _session
from issue.schema import read_roll
from issue.tokens import normalise_token
from omov.errors import UsageError


@dataclass(frozen=True)
class VerifyReport:
    """``problems``: integrity failures (exit 4). ``awaiting``: persons owed a replacement token
    (exit 3 until ``issue run``). ``barred``: persons revoked for a no-ballot reason (fine)."""

    problems: list[str] = field(default_factory=list)
    awaiting: int = 0
    barred: int = 0


def _ro(path: Path) -> Any:
    import sqlite3

    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def status(out: Path) -> dict[str, Any]:
    """Aggregates only: tokens by register state, persons by channel, batches by kind."""
    paths = Paths.of(out)
    if not paths.register.exists():
        raise UsageError(f"no register in {out}", fix="run `omov issue run` first")
    result: dict[str, Any] = {}
    conn = _ro(paths.register)
    try:
        result["register"] = {"unused": 0, "used": 0, "revoked": 0} | {
            str(k): int(v) for k, v in conn.execute("SELECT state, count(*) FROM tokens GROUP BY 1")
        }
        result["election"] = conn.execute(
            "SELECT value FROM meta WHERE key = 'election'"
        ).fetchone()[0]
    finally:
        conn.close()
    result["register"]["issued"] = sum(result["register"].values())
    if paths.ledger.exists():
        conn = _ro(paths.ledger)
        try:
            done = "batch IN (SELECT batch FROM batches WHERE state IN ('committed','dispatched'))"
            result["ledger"] = {
                "persons_with_active_token": conn.execute(
                    f"SELECT count(*) FROM issuance WHERE status='active' AND {done}"  # noqa: S608
                ).fetchone()[0],
                "active_by_channel": {
                    str(k): int(v)
                    for k, v in conn.execute(
                        f"SELECT channel, count(*) FROM issuance WHERE status='active' AND {done} "  # noqa: S608
                        "GROUP BY 1"
                    )
                },
                "revoked": conn.execute(
                    "SELECT count(*) FROM issuance WHERE status='revoked'"
                ).fetchone()[0],
                "revoked_by_reason": {
                    str(k): int(v)
                    for k, v in conn.execute(
                        "SELECT revoked_reason, count(*) FROM issuance WHERE status='revoked' "
                        "GROUP BY 1"
                    )
                },
                "batches": {
                    f"{k}/{st}": int(v)
                    for k, st, v in conn.execute(
                        "SELECT kind, state, count(*) FROM batches GROUP BY 1, 2"
                    )
                },
            }
        finally:
            conn.close()
    if paths.audit.exists():
        h = audit.head(paths.audit)
        result["audit"] = {"entries": h.entries, "head": h.hash}
    return result


def verify_consistency(out: Path, members: Path, *, keys: Path | None = None) -> list[str]:
    """The integrity problems of ``verify_report`` (empty = good)."""
    return verify_report(out, members, keys=keys).problems


def verify_report(out: Path, members: Path, *, keys: Path | None = None) -> VerifyReport:
    """Check the invariants (read-only apart from recovery); return the problems found.

    * every eligible person in ``members`` holds exactly one active token (ledger), and nobody
      else does;
    * every active token is in the register, unused or used;
    * the live dispatch files list each active token exactly once, and every dispatch row's
      token (in every batch file of a committed batch) is in the register.
    """
    paths = Paths.of(out, keys)
    roll = read_roll(members)
    problems: list[str] = []
    with _session(paths, None, create=False) as s:
        pids = set(s.member_key.pseudonyms(roll.table.column("person_id").to_pylist()))
        active = s.ledger.active()
        barred = set(s.ledger.barred(reasons.NO_BALLOT)) & pids
        revoked_pids = {
            bytes(p)
            for (p,) in s.ledger.conn.execute("SELECT pid FROM issuance WHERE status='revoked'")
        }
        owed = pids - barred
        awaiting = (owed - set(active)) & revoked_pids
        missing = owed - set(active) - awaiting
        if missing or set(active) - pids or barred & set(active):
            problems.append(
                f"{len(missing)} eligible person(s) without an active token, "
                f"{len(set(active) - pids)} active token(s) for persons not eligible"
            )
        (dupes,) = s.ledger.conn.execute(
            "SELECT count(*) FROM (SELECT pid FROM issuance WHERE status='active' "
            "GROUP BY pid HAVING count(*) > 1)"
        ).fetchone()
        if dupes:
            problems.append(f"{dupes} person(s) hold more than one active token")
        entries = audit.read_entries(paths.audit) if paths.audit.is_file() else []
        problems += freshness.intake_runs_elsewhere(s.register, entries)
        (issued,) = s.ledger.conn.execute("SELECT count(*) FROM issuance").fetchone()
        in_register = sum(s.register.counts().values())
        if in_register != issued:
            # Whoever holds vote.key can compute a made-up token's hash: a register row the
            # ledger never issued is a ballot someone could stuff.
            problems.append(
                f"the register holds {in_register} token(s) but the ledger issued {issued}: "
                f"{in_register - issued} token(s) were added to the register outside omov issue"
            )
        states = s.register.states(list(active.values()))
        bad = sum(1 for a in active.values() if states.get(a) not in ("unused", "used"))
        if bad:
            problems.append(f"{bad} active token(s) missing from the register or revoked there")
        problems += destroy.check_destruction(out, entries)
        active_h = _expected_in_live_files(s, active, destroy.destroyed_through(entries))
        live: list[bytes] = []
        for channel in dispatch.CHANNELS:
            f = out / f"dispatch_{channel}.csv"
            if f.exists():
                t = pacsv.read_csv(
                    f, convert_options=pacsv.ConvertOptions(column_types={"token": pa.string()})
                )
                live += s.vote_key.token_hashes(
                    [normalise_token(x) for x in t.column("token").to_pylist()]
                )
        if len(live) != len(set(live)) or set(live) != active_h:
            problems.append(
                f"live dispatch files list {len(live)} row(s) ({len(set(live))} distinct) for "
                f"{len(active_h)} active token(s), {len(set(live) - active_h)} not active"
            )
        for b in s.ledger.batches(["committed", "dispatched"]):
            d = paths.batch_dir(b.batch)
            for channel in dispatch.CHANNELS:
                f = d / f"dispatch_{channel}.csv"
                if not f.exists():
                    continue
                t = pacsv.read_csv(
                    f, convert_options=pacsv.ConvertOptions(column_types={"token": pa.string()})
                )
                hs = s.vote_key.token_hashes(
                    [normalise_token(x) for x in t.column("token").to_pylist()]
                )
                st = s.register.states(hs)
                if len(st) != len(set(hs)):
                    problems.append(
                        f"batch {b.batch}: {len(set(hs)) - len(st)} dispatch row(s) "
                        "carry a token the register lacks"
                    )
    return VerifyReport(problems, len(awaiting), len(barred))


def _expected_in_live_files(s: _Session, active: dict[bytes, bytes], through: int) -> set[bytes]:
    """Active token hashes the live dispatch files must list: those of batches after the last
    destruction (``issue.destroy``; all of them if the files were never destroyed)."""
    if not through:
        return set(active.values())
    rows = s.ledger.conn.execute(
        "SELECT h FROM issuance WHERE status = 'active' AND batch > ?", (through,)
    )
    return {bytes(h) for (h,) in rows}


def destroy_dispatch(out: Path, *, keys: Path | None = None) -> destroy.DestroySummary:
    """Destroy the dispatch files (after recovery, under the issue lock); see ``issue.destroy``."""
    paths = Paths.of(out, keys)
    with _session(paths, None, create=False) as s:
        batches = [b.batch for b in s.ledger.batches(["dispatched"])]
        return destroy.destroy_dispatch(out, paths.audit, max(batches, default=0))
