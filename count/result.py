"""The result of a count: plain frozen data that renderers format and ``verify`` compares.

Every number is an exact integer in units of ``10**-dp`` (``dp`` is the rule's number of decimal
places: ERS97 2, Scottish 5, Meek 6 or 9). :func:`fmt` turns one into a decimal string; nothing here
ever holds a binary fraction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_VERSION = 1


def fmt(value: int, dp: int) -> str:
    """An exact decimal string for ``value × 10**-dp`` (e.g. ``fmt(204060, 2) == "2040.60"``)."""
    if dp == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**dp)
    return f"{sign}{whole}.{frac:0{dp}d}"


def stage_total(votes: Sequence[int], non_transferable: int, loss: int) -> int:
    """A stage's total: every candidate's votes plus non-transferable plus rounding loss. Every
    rule checks it equals the valid vote (scaled) at every stage; every format prints it."""
    return sum(votes) + non_transferable + loss


@dataclass(frozen=True)
class TieRecord:
    """One tie and how it was broken (every tie is reported, never hidden)."""

    stage: int
    kind: str  # "surplus order" | "exclusion" | "election" | "order of election"
    among: tuple[str, ...]
    chosen: tuple[str, ...]
    method: str  # "look-back (stage N)" | "lot (seed)" | "lot (decisions file)" | "none elected"
    clause: str


@dataclass(frozen=True)
class Stage:
    """One stage of the count, as a column pair (transfer, total) of the result sheet."""

    number: int
    action: str  # "first" | "surplus" | "exclusion" | "iteration" | "elect remaining"
    subjects: tuple[str, ...]  # whose surplus, or who is excluded
    clause: str
    description: str
    votes: tuple[int, ...]  # per candidate, in candidate order (scaled)
    transfers: tuple[int, ...]  # change since the previous stage (scaled)
    non_transferable: int  # cumulative, scaled
    loss: int  # cumulative rounding loss not credited to anyone (Scottish), scaled
    quota: int
    elected: tuple[str, ...] = ()  # deemed elected at the end of this stage, in order
    excluded: tuple[str, ...] = ()
    transfer_values: tuple[int, ...] = ()  # value(s) per paper moved at this stage (scaled)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """This stage's total (:func:`stage_total`)."""
        return stage_total(self.votes, self.non_transferable, self.loss)


@dataclass(frozen=True)
class CountResult:
    """Everything a scrutineer needs to re-check the count."""

    rule: str
    rule_title: str
    title: str
    seats: int
    candidates: tuple[str, ...]
    withdrawn: tuple[str, ...]
    dp: int
    valid: int
    invalid: dict[str, int]
    truncated: dict[str, int]
    quota: int  # initial quota (scaled)
    final_quota: int
    elected: tuple[str, ...]
    stages: tuple[Stage, ...]
    ties: tuple[TieRecord, ...]
    tie_seed: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    ballots_sha256: str | None = None
    source: str | None = None
    constraint: dict[str, Any] | None = None  # issue 8: guard/doom constraint, if any
    constraint_events: tuple[dict[str, Any], ...] = ()
    # Papers the intake that wrote the ballot file set aside (blank, invalid by ERS97 §6), by
    # class: they are not in the file, but the result must say how many there were.
    set_aside: dict[str, int] = field(default_factory=dict)

    @property
    def invalid_papers(self) -> int:
        """Every invalid paper: those in the ballot file and those set aside at intake."""
        return sum(self.invalid.values()) + sum(self.set_aside.values())

    @property
    def unfilled_seats(self) -> int:
        """Places the count left unfilled (0 in a normal count)."""
        return max(self.seats - len(self.elected), 0)

    def notes(self) -> tuple[str, ...]:
        """Sentences every result format shows: seats left unfilled, and why."""
        standing = len(self.candidates) - len(self.withdrawn)
        k = self.unfilled_seats
        if not k:
            return ()
        if self.seats > standing:
            return (
                f"{self.seats} seats but only {standing} candidate(s) standing: every candidate "
                f"is elected and {k} seat(s) are left unfilled.",
            )
        return (
            f"{k} of {self.seats} seats left unfilled: no continuing candidate could be elected "
            "under this rule (e.g. none had any vote).",
        )

    def ties_at(self, stage: int) -> tuple[TieRecord, ...]:
        """The ties that acted at one stage."""
        return tuple(t for t in self.ties if t.stage == stage)

    def to_dict(self) -> dict[str, Any]:
        """The ``result.json`` document: numbers as decimal strings, candidates by name."""
        d = self.dp
        names = self.candidates
        stages = []
        for s in self.stages:
            stages.append(
                {
                    "stage": s.number,
                    "action": s.action,
                    "subjects": list(s.subjects),
                    "clause": s.clause,
                    "description": s.description,
                    "votes": {n: fmt(v, d) for n, v in zip(names, s.votes, strict=True)},
                    "transfers": {
                        n: fmt(v, d) for n, v in zip(names, s.transfers, strict=True) if v
                    },
                    "non_transferable": fmt(s.non_transferable, d),
                    "rounding_loss": fmt(s.loss, d),
                    "quota": fmt(s.quota, d),
                    "elected": list(s.elected),
                    "excluded": list(s.excluded),
                    "transfer_values": [fmt(v, d) for v in s.transfer_values],
                    "ties": [
                        f"{t.kind}: {', '.join(t.among)} -> {', '.join(t.chosen) or 'none'} "
                        f"by {t.method}"
                        for t in self.ties_at(s.number)
                    ],
                    **({"extra": dict(s.extra)} if s.extra else {}),
                }
            )
        return {
            "format_version": FORMAT_VERSION,
            "rule": self.rule,
            "rule_title": self.rule_title,
            "title": self.title,
            "seats": self.seats,
            "candidates": list(names),
            "withdrawn": list(self.withdrawn),
            "decimal_places": d,
            "valid_votes": self.valid,
            "invalid_votes": self.invalid_papers,
            "invalid_by_class": dict(self.invalid),
            "truncated_by_class": dict(self.truncated),
            "quota": fmt(self.quota, d),
            "final_quota": fmt(self.final_quota, d),
            "elected": list(self.elected),
            "unfilled_seats": self.unfilled_seats,
            "notes": list(self.notes()),
            "stages": stages,
            "ties": [
                asdict(t) | {"among": list(t.among), "chosen": list(t.chosen)} for t in self.ties
            ],
            "tie_seed": self.tie_seed,
            "options": dict(self.options),
            "ballots_sha256": self.ballots_sha256,
            "ballots_file": self.source,
            **({"set_aside_at_intake": dict(self.set_aside)} if self.set_aside else {}),
            **(
                {
                    "constraint": self.constraint,
                    "constraint_events": [dict(e) for e in self.constraint_events],
                }
                if self.constraint is not None
                else {}
            ),
        }
