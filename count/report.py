"""The scrutineer's report, in the shape of TULRCA 1992 s.52 (issuing-notes §2.1).

Why this shape: s.52 is the UK benchmark for what an independent scrutineer tells members — papers
distributed (a), returned (b), valid votes for each candidate (c), spoilt or otherwise invalid
papers (d) — plus statements of satisfaction only a person can make. For an STV count the older
ERBS certificate (SI 1992/2159) adds the quota and the votes at every stage; and so anyone can
re-check, omov adds every tie decision, the SHA-256 of every file and the audit-log head hash.

Pure core: dicts in (the intake reports, ``result.json``, register aggregates, digests), one dict
out, plus the cross-checks whose failure the CLI turns into exit 4. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vote.intake import PAPER_REJECTS

REPORT_FORMAT_VERSION = "omov.scrutineer-report/1"

#: s.52(2)-(3) statements (id, the subsection as printed, question): the scrutineer answers them;
#: omov never answers for a person.
STATEMENTS: tuple[tuple[str, str, str], ...] = (
    (
        "s52_2_a",
        "s.52(2)(a)",
        "Are you satisfied that there are no reasonable grounds for believing that there "
        "was any contravention of a requirement imposed by or under any enactment in "
        "relation to the election?",
    ),
    (
        "s52_2_b",
        "s.52(2)(b)",
        "Are you satisfied that the arrangements made with respect to the production, "
        "storage, distribution, return or other handling of the voting papers, and the "
        "arrangements for the counting of the votes, included all such security "
        "arrangements as were reasonably practicable for the purpose of minimising the "
        "risk that any unfairness or malpractice might occur?",
    ),
    (
        "s52_2_c",
        "s.52(2)(c)",
        "Have you been able to carry out your functions without any interference that "
        "would make it reasonable for any person to call your independence in question?",
    ),
    (
        "s52_2A",
        "s.52(2A)",
        "Was the register of members inspected? If so, on whose request, and did the "
        "inspection reveal any matter to draw to members' attention?",
    ),
    (
        "s52_1_e",
        "s.52(1)(e)",
        "Was any independent person appointed for storage, distribution or counting of "
        "voting papers? If so, name them.",
    ),
)


@dataclass(frozen=True)
class Check:
    """One cross-check between the stages' figures; a failure is an integrity problem."""

    name: str
    ok: bool
    detail: str


def _sum_class(intakes: Sequence[Mapping[str, Any]], key: str) -> int:
    return sum(int(r["totals"]["by_class"].get(key, 0)) for r in intakes)


def papers(intakes: Sequence[Mapping[str, Any]], register: Mapping[str, int]) -> dict[str, Any]:
    """s.52(1)(a), (b) and (d): distributed, returned, valid and not-counted papers by reason."""
    issued = sum(int(v) for v in register.values())
    revoked = int(register.get("revoked", 0))
    received = sum(int(r["totals"]["received"]) for r in intakes)
    valid = sum(int(r["totals"]["valid"]) for r in intakes)
    classes = list(intakes[0]["totals"]["by_class"]) if intakes else []
    not_counted = {c: _sum_class(intakes, c) for c in classes if c != "valid"}
    # s.297A: a member who returns a spoilt or blank paper has voted; a paper on an unknown,
    # revoked, repeated or malformed token is not a member's (first) paper.
    members_voted = valid + sum(
        n for c, n in not_counted.items() if not c.startswith(("token_", "malformed_"))
    )
    channels: dict[str, dict[str, int]] = {}
    for r in intakes:
        for name, t in r["channels"].items():
            ch = channels.setdefault(name, {"received": 0, "valid": 0, "rejected": 0})
            for k in ch:
                ch[k] += int(t[k])
    return {
        "distributed": {
            "issued": issued,
            "revoked_and_replaced": revoked,
            "valid_papers_distributed": issued - revoked,
        },
        "returned": received,
        "valid": valid,
        "not_counted": sum(not_counted.values()),
        "not_counted_by_reason": not_counted,
        "by_channel": channels,
        "register_after_intake": dict(register),
        "returned_by_members": members_voted,
        "turnout_percent": _percent(members_voted, issued - revoked),
    }


def _percent(part: int, whole: int) -> str:
    """Exact to 2 dp, truncated, as a string (no float in count/)."""
    if whole <= 0:
        return "0.00"
    hundredths = part * 10000 // whole
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def count_section(result: Mapping[str, Any]) -> dict[str, Any]:
    """s.52(1)(c) for STV: the rule, quota, elected, the votes at every stage, every tie."""
    names = list(result["candidates"])
    stages = [
        {
            "stage": s["stage"],
            "action": s["action"],
            "subjects": list(s.get("subjects", [])),
            "clause": s.get("clause", ""),
            "votes": [s["votes"][n] for n in names],
            "non_transferable": s.get("non_transferable", ""),
            "rounding_loss": s.get("rounding_loss", ""),
            "elected": list(s.get("elected", [])),
            "excluded": list(s.get("excluded", [])),
        }
        for s in result["stages"]
    ]
    return {
        "rule": result["rule"],
        "rule_title": result.get("rule_title", result["rule"]),
        "seats": result["seats"],
        "candidates": names,
        "valid_votes": result.get("valid_votes"),
        "invalid_votes": result.get("invalid_votes"),
        "quota": result.get("quota"),
        "final_quota": result.get("final_quota"),
        "elected": list(result["elected"]),
        "first_preferences": dict(zip(names, stages[0]["votes"], strict=True)) if stages else {},
        "stages": stages,
        "ties": list(result.get("ties", [])),
        "tie_seed": result.get("tie_seed"),
    }


def cross_checks(
    intakes: Sequence[Mapping[str, Any]],
    result: Mapping[str, Any] | None,
    digests: Mapping[str, str],
) -> list[Check]:
    """Figures that must agree between intake, count and the files on disk."""
    checks = [
        Check(
            f"intake {i + 1} balances",
            bool(r.get("balanced")),
            "valid + rejected = received on every channel",
        )
        for i, r in enumerate(intakes)
    ]
    for i, r in enumerate(intakes):
        for name, expected in r.get("outputs", {}).items():
            actual = digests.get(f"intake{i + 1}/{name}")
            checks.append(
                Check(
                    f"intake {i + 1} {name} unchanged",
                    actual == expected,
                    f"SHA-256 recorded by intake {expected[:16]}…, now "
                    f"{(actual or 'missing')[:16]}…",
                )
            )
    if result is not None:
        valid = sum(int(r["totals"]["valid"]) for r in intakes)
        set_aside = dict(result.get("set_aside_at_intake") or {})
        # invalid_votes counts the file's own invalid papers and those set aside at intake.
        in_file = int(result.get("invalid_votes") or 0) - sum(int(v) for v in set_aside.values())
        counted = int(result.get("valid_votes") or 0) + in_file
        checks.append(
            Check(
                "count used every valid intake paper",
                counted == valid,
                f"intake valid {valid}, count papers {counted}",
            )
        )
        if set_aside:
            invalid = {
                c: _sum_class(intakes, c)
                for c in (intakes[0]["totals"]["by_class"] if intakes else {})
                if c in PAPER_REJECTS and _sum_class(intakes, c)
            }
            checks.append(
                Check(
                    "count's invalid papers are the intake's",
                    {k: int(v) for k, v in set_aside.items()} == invalid,
                    f"intake {sum(invalid.values())}, result {sum(set_aside.values())}",
                )
            )
        recorded = result.get("ballots_sha256")
        blts = {v for k, v in digests.items() if k.endswith("/ballots.blt")}
        if recorded:
            checks.append(
                Check(
                    "count read the intake's ballots",
                    recorded in blts,
                    "result.json ballots_sha256 is an intake ballots.blt",
                )
            )
    return checks


def build_report(
    *,
    election_id: str,
    title: str,
    scrutineer: str,
    intakes: Sequence[Mapping[str, Any]],
    result: Mapping[str, Any] | None,
    register: Mapping[str, int],
    files: Sequence[Mapping[str, str]],
    audit: Mapping[str, Any] | None,
    checks: Sequence[Check],
) -> dict[str, Any]:
    """The report document (JSON) the HTML renders."""
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "election_id": election_id,
        "title": title,
        "scrutineer": scrutineer,
        "papers": papers(intakes, register),
        "count": count_section(result) if result is not None else None,
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        "all_checks_pass": all(c.ok for c in checks),
        "files": [dict(f) for f in files],
        "audit_log": dict(audit) if audit is not None else None,
        "statements": [
            {"id": k, "label": label, "question": q, "answer": None} for k, label, q in STATEMENTS
        ],
        "publication": "Publish this report with the anonymised ballots.blt; anyone can recount "
        "it with omov (omov count run, then omov count verify) or any STV counter that reads BLT.",
    }
