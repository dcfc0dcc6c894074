"""The auditor's decisions: resolve them against this run's records, deterministically.

Why fingerprints: a decision must keep meaning the same two records when an organisation
re-exports its file in another order (row numbers change, content does not). A decision whose
records can no longer be found is *stale*: it is reported, never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from omov.errors import InputError


@dataclass
class Resolved:
    """Must-links and cannot-links (record indices) plus one status row per decision line."""

    must: list[tuple[int, int]] = field(default_factory=list)
    cannot: list[tuple[int, int]] = field(default_factory=list)
    log: list[dict[str, object]] = field(default_factory=list)
    decided_pairs: dict[tuple[int, int], str] = field(default_factory=dict)


class _Index:
    def __init__(self, records: pd.DataFrame) -> None:
        self.by_fp: dict[tuple[str, str], int] = {}
        self.by_row: dict[tuple[str, str], int] = {}
        for k, (org, row, fp) in enumerate(
            zip(records["source_org"], records["row_id"], records["fingerprint"], strict=True)
        ):
            self.by_fp.setdefault((str(org), str(fp)), k)
            self.by_row[(str(org), str(row))] = k

    def find(self, org: str, row: str, fp: str) -> tuple[int | None, str]:
        """Record index by fingerprint (preferred) or by row number; '' or why not found."""
        if fp:
            k = self.by_fp.get((org, fp))
            if k is None:
                return None, f"{org} record {fp} (row {row or '?'}) is no longer in the export"
            return k, ""
        k = self.by_row.get((org, row))
        if k is None:
            return None, f"{org} row {row} does not exist in this run"
        return k, ""


def _refs(row: pd.Series) -> list[tuple[str, str, str]]:
    """(org, row_id, fingerprint) of every record a decision line names."""
    refs = []
    if row["source_org_a"] or row["row_id_a"] or row["fingerprint_a"]:
        refs.append((row["source_org_a"], row["row_id_a"], row["fingerprint_a"]))
    if row["source_org_b"] or row["row_id_b"] or row["fingerprint_b"]:
        refs.append((row["source_org_b"], row["row_id_b"], row["fingerprint_b"]))
    for tok in filter(None, (t.strip() for t in str(row["records"]).split(";"))):
        org, _, rest = tok.rpartition(":")
        fp, row_id = (rest, "") if len(rest) == 16 and not rest.isdigit() else ("", rest)
        refs.append((org, row_id, fp))
    return refs


def resolve(
    decisions: pd.DataFrame, lines: list[int], records: pd.DataFrame, path: str
) -> Resolved:
    """Turn decision lines into must/cannot links; stale or conflicting lines are reported."""
    idx = _Index(records)
    out = Resolved()
    seen: dict[tuple[int, int], tuple[str, int]] = {}
    conflicts: list[str] = []
    for (_, row), line in zip(decisions.iterrows(), lines, strict=True):
        decision = str(row["decision"]).strip().lower()
        if not decision:
            continue
        entry = {
            "line": line,
            "item_id": row["item_id"],
            "decision": decision,
            "note": row["note"],
            "status": "applied",
            "detail": "",
            "row": {c: str(row[c]) for c in decisions.columns},  # as written, for the report
        }
        found: list[int] = []
        problems = []
        for org, rid, fp in _refs(row):
            k, why = idx.find(org, rid, fp)
            if k is None:
                problems.append(why)
            else:
                found.append(k)
        found = sorted(set(found))
        if problems or len(found) < 2:
            entry["status"] = "stale"
            entry["detail"] = "; ".join(problems) or "names fewer than two records"
            out.log.append(entry)
            continue
        pairs = (
            [(found[0], b) for b in found[1:]]
            if decision == "same"
            else [(a, b) for x, a in enumerate(found) for b in found[x + 1 :]]
        )
        for pr in pairs:
            if pr in seen and seen[pr][0] != decision:
                conflicts.append(
                    f"{path}:{line}: says {decision!r} but line {seen[pr][1]} says "
                    f"{seen[pr][0]!r} about the same two records"
                )
                continue
            seen[pr] = (decision, line)
            out.decided_pairs[pr] = decision
        (out.must if decision == "same" else out.cannot).extend(pairs)
        entry["_idx"] = found
        entry["records"] = ";".join(
            f"{records.at[k, 'source_org']}:{records.at[k, 'row_id']}" for k in found
        )
        out.log.append(entry)
    if conflicts:
        raise InputError(
            "\n    ".join([f"{len(conflicts)} conflicting decision(s):", *sorted(set(conflicts))]),
            fix="keep one line of each conflicting pair, then run again",
        )
    return out
