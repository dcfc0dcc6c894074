"""What the result page draws: one bar per candidate per stage, against the quota, and why anyone
was elected below it.

Why bars per stage and not one line per candidate: with 20-30 candidates a line chart is a tangle
nobody can read on a phone. A panel per stage (the last one open) lists every candidate in ballot
order with a bar, the quota as a mark on every bar, and who is elected or excluded by then: it
reads top to bottom, at any width, and works with a screen reader because every bar carries its
number as text.

Pure: a ``CountResult`` in, plain dicts out; bar lengths are exact integer tenths of a percent.
"""

from __future__ import annotations

from typing import Any

from count.result import CountResult, Stage, fmt


def _tenths_of_percent(value: int, peak: int) -> str:
    """``value / peak`` as a CSS percentage with one decimal, truncated (no float)."""
    tenths = max(value, 0) * 1000 // max(peak, 1)
    return f"{tenths // 10}.{tenths % 10}%"


def _status_by_stage(result: CountResult) -> list[dict[str, str]]:
    """For each stage, candidate → 'elected' / 'excluded' as it stands at the end of that stage."""
    status: dict[str, str] = {}
    out: list[dict[str, str]] = []
    for s in result.stages:
        status.update({name: "excluded" for name in s.excluded})
        status.update({name: "elected" for name in s.elected})
        out.append(dict(status))
    return out


def stage_panels(result: CountResult) -> list[dict[str, Any]]:
    """One panel per stage: its heading, the quota mark, and a bar per candidate."""
    peak = max([max(s.votes, default=0) for s in result.stages] + [result.final_quota, 1])
    panels = []
    for s, status in zip(result.stages, _status_by_stage(result), strict=True):
        bars = [
            {
                "name": name,
                "votes": fmt(votes, result.dp),
                "width": _tenths_of_percent(votes, peak),
                "status": status.get(name, ""),
            }
            for name, votes in zip(result.candidates, s.votes, strict=True)
            if name not in result.withdrawn
        ]
        panels.append(
            {
                "number": s.number,
                "description": s.description,
                "clause": s.clause,
                "quota": fmt(s.quota, result.dp),
                "quota_at": _tenths_of_percent(s.quota, peak),
                "bars": bars,
            }
        )
    return panels


def _why_below_quota(result: CountResult, stage: Stage, name: str) -> str:
    """The rule's reason, from how the stage elected them (see ``count.rules``)."""
    remaining = stage.extra.get("elected_remaining", "").split("\t")
    if name in remaining:
        return (
            "only as many candidates were still in the count as places left to fill, so all of "
            f"them are elected ({stage.extra.get('elected_remaining_clause', stage.clause)})"
        )
    if result.rule == "ers97":
        return (
            "their vote reached the total active vote divided by one more than the number of "
            "places still to fill, a vote no other continuing candidate can overtake (ERS97 "
            "5.1.7(b))"
        )
    return f"elected under {stage.clause}: {stage.description}"


def below_quota_notes(result: CountResult) -> list[dict[str, str]]:
    """Everyone elected with fewer votes than the quota of the stage that elected them, and why."""
    index = {name: i for i, name in enumerate(result.candidates)}
    notes = []
    for s in result.stages:
        for name in s.elected:
            votes = s.votes[index[name]]
            if votes < s.quota:
                notes.append(
                    {
                        "name": name,
                        "stage": str(s.number),
                        "votes": fmt(votes, result.dp),
                        "quota": fmt(s.quota, result.dp),
                        "why": _why_below_quota(result, s, name),
                    }
                )
    return notes
