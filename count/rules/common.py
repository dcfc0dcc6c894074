"""State shared by the rule modules: who is continuing, the vote totals, the stage records.

A rule module drives a :class:`CountState`; the state keeps the bookkeeping identical across rules
(stage records, conservation, tie records) so each rule module reads like its rule text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from count.ballots import Ballots
from count.constraints import Constraint
from count.engine import Parcel
from count.result import CountResult, Stage
from count.ties import TieBreaker, TieDecision

CONTINUING, ELECTED, EXCLUDED, WITHDRAWN = "continuing", "elected", "excluded", "withdrawn"


@dataclass
class CountOptions:
    """Options every rule accepts (seats override, tie seed or decisions)."""

    seats: int | None = None
    tie_seed: str | None = None
    tie_decisions: list[TieDecision] | None = None
    extra: dict[str, str] = field(default_factory=dict)
    constraint: Constraint | None = None  # guard/doom constrained STV (issue 8)
    progress: Callable[[str], None] | None = None  # told "stage N: …" (the CLI shows a status)


class ConstraintHook:
    """Guards and dooms for any rule: the rule asks who is doomed/guarded and reports events.

    Without a constraint every question answers "nobody", so unconstrained counts are unchanged.
    """

    def __init__(self, constraint: Constraint | None, names: tuple[str, ...]) -> None:
        self.constraint = constraint
        self.names = names
        self.events: list[dict[str, object]] = []
        self._guarded: set[int] = set()

    def doomed(
        self, elected: list[int], continuing: list[int], vacancies: int, stage: int
    ) -> list[int]:
        """Continuing candidates to exclude at once (each reported once)."""
        if self.constraint is None:
            return []
        out = self.constraint.doomed(elected, continuing, vacancies)
        for c in out:
            self.events.append(
                {
                    "stage": stage,
                    "event": "doom",
                    "candidate": self.names[c],
                    "reason": self.constraint.reason(c, "doom"),
                }
            )
        return out

    def would_doom(self, c: int, elected: list[int], continuing: list[int], vacancies: int) -> bool:
        """Whether electing ``c`` now would break the constraint (checked one at a time)."""
        return self.constraint is not None and c in self.constraint.doomed(
            elected, continuing, vacancies
        )

    def may_exclude(
        self, group: list[int], elected: list[int], continuing: list[int], vacancies: int
    ) -> bool:
        """Whether excluding every one of ``group`` at once keeps the constraint satisfiable.

        A bulk exclusion (ERS97 5.2.5, Meek sure losers) must be checked as a whole: each of its
        members may be excludable alone while the group together is not (three of the four women
        in one stage)."""
        if self.constraint is None:
            return True
        rest = [c for c in continuing if c not in group]
        if len(rest) < min(vacancies, len(continuing)):  # a constrained count fills every seat
            return False
        return self.constraint.feasible(elected, rest, vacancies)

    def guarded(
        self, elected: list[int], continuing: list[int], vacancies: int, stage: int
    ) -> set[int]:
        """Continuing candidates who may not be excluded (new guards reported)."""
        if self.constraint is None:
            return set()
        g = set(self.constraint.guarded(elected, continuing, vacancies))
        for c in sorted(g - self._guarded):
            self.events.append(
                {
                    "stage": stage,
                    "event": "guard",
                    "candidate": self.names[c],
                    "reason": self.constraint.reason(c, "guard"),
                }
            )
        self._guarded |= g
        return g

    def result_fields(self) -> dict[str, object]:
        """The constraint and its events for CountResult (nothing when unconstrained)."""
        if self.constraint is None:
            return {}
        return {
            "constraint": self.constraint.to_dict(self.names),
            "constraint_events": tuple(self.events),
        }


@dataclass
class CountState:
    """Mutable state of one Gregory-family count."""

    ballots: Ballots
    seats: int
    scale: int
    ties: TieBreaker
    status: list[str] = field(default_factory=list)
    votes: list[int] = field(default_factory=list)
    holdings: list[list[Parcel]] = field(default_factory=list)
    non_transferable: int = 0
    loss: int = 0
    elected: list[int] = field(default_factory=list)
    history: list[tuple[int, ...]] = field(default_factory=list)  # totals after each stage
    stages: list[Stage] = field(default_factory=list)
    constraint: Constraint | None = None
    progress: Callable[[str], None] | None = None
    _last_votes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        self.hook = ConstraintHook(self.constraint, self.ballots.candidates)
        n = self.ballots.n_candidates
        self.status = [WITHDRAWN if c in self.ballots.withdrawn else CONTINUING for c in range(n)]
        self.votes = [0] * n
        self._last_votes = tuple([0] * n)

    @property
    def names(self) -> tuple[str, ...]:
        return self.ballots.candidates

    def continuing(self) -> list[int]:
        """Continuing candidates (ERS97 6.3), in candidate order."""
        return [c for c, s in enumerate(self.status) if s == CONTINUING]

    def continuing_mask(self) -> np.ndarray:
        """Boolean array: which candidates may receive papers now."""
        return np.array([s == CONTINUING for s in self.status], dtype=bool)

    def vacancies(self) -> int:
        """Places not yet filled."""
        return self.seats - len(self.elected)

    def doomed(self) -> list[int]:
        """Continuing candidates the constraint dooms now (reported)."""
        return self.hook.doomed(
            self.elected, self.continuing(), self.vacancies(), len(self.stages) + 1
        )

    def guarded(self) -> set[int]:
        """Continuing candidates the constraint guards now (reported)."""
        return self.hook.guarded(
            self.elected, self.continuing(), self.vacancies(), len(self.stages) + 1
        )

    def may_exclude(self, group: list[int]) -> bool:
        """False if excluding all of ``group`` now would make the constraint impossible."""
        return self.hook.may_exclude(group, self.elected, self.continuing(), self.vacancies())

    def may_elect(self, c: int) -> bool:
        """False if electing ``c`` now would break the constraint (then ``c`` will be doomed)."""
        return not self.hook.would_doom(c, self.elected, self.continuing(), self.vacancies())

    def elect(self, c: int) -> None:
        """Deem ``c`` elected."""
        self.status[c] = ELECTED
        self.elected.append(c)

    def exclude(self, c: int) -> None:
        """Exclude ``c``."""
        self.status[c] = EXCLUDED

    def check_conservation(self) -> None:
        """Candidates + non-transferable + loss = valid vote, exactly (else a bug)."""
        total = sum(self.votes) + self.non_transferable + self.loss
        if total != self.ballots.valid * self.scale:
            raise AssertionError(
                f"vote not conserved: {total} != {self.ballots.valid * self.scale}"
            )

    def record(
        self,
        *,
        action: str,
        subjects: list[int],
        clause: str,
        description: str,
        quota: int,
        elected: list[int],
        excluded: list[int] | None = None,
        transfer_values: list[int] | None = None,
        extra: dict[str, str] | None = None,
        history: bool = True,
    ) -> None:
        """Close a stage: snapshot the totals, the changes and what happened."""
        self.check_conservation()
        votes = tuple(self.votes)
        transfers = tuple(v - o for v, o in zip(votes, self._last_votes, strict=True))
        self.stages.append(
            Stage(
                number=len(self.stages) + 1,
                action=action,
                subjects=tuple(self.names[c] for c in subjects),
                clause=clause,
                description=description,
                votes=votes,
                transfers=transfers,
                non_transferable=self.non_transferable,
                loss=self.loss,
                quota=quota,
                elected=tuple(self.names[c] for c in elected),
                excluded=tuple(self.names[c] for c in (excluded or [])),
                transfer_values=tuple(transfer_values or ()),
                extra=dict(extra or {}),
            )
        )
        self._last_votes = votes
        if self.progress is not None:
            self.progress(f"stage {len(self.stages)}: {description}")
        if history:
            self.history.append(votes)

    def add_elected_to_last_stage(
        self, cands: list[int], note: str, not_elected: list[int] | None = None
    ) -> None:
        """Mark candidates elected without a transfer (ERS97 5.5.1, Scottish r. 52).

        ``not_elected``: the candidates a proposed exclusion chose (perhaps by lot) that are
        therefore not elected; they are shown as excluded at this stage, and any tie decided for
        the stage that was not carried out is recorded at this one, where it acted."""
        last = self.stages[-1]
        self.stages[-1] = Stage(
            **{
                **last.__dict__,
                "elected": last.elected + tuple(self.names[c] for c in cands),
                "excluded": last.excluded + tuple(self.names[c] for c in not_elected or ()),
                "description": (last.description + " " + note).strip(),
            }
        )
        for c in not_elected or ():
            self.exclude(c)
        self.ties.restage_after(last.number)


def result_from_state(
    state: CountState,
    *,
    rule: str,
    rule_title: str,
    dp: int,
    quota: int,
    final_quota: int,
    options: dict[str, str] | None = None,
) -> CountResult:
    """Freeze a finished count into a :class:`CountResult`."""
    state.ties.finish()
    b = state.ballots
    return CountResult(
        rule=rule,
        rule_title=rule_title,
        title=b.title,
        seats=state.seats,
        candidates=b.candidates,
        withdrawn=tuple(b.candidates[c] for c in sorted(b.withdrawn)),
        dp=dp,
        valid=b.valid,
        invalid=dict(b.invalid),
        truncated=dict(b.truncated),
        quota=quota,
        final_quota=final_quota,
        elected=tuple(b.candidates[c] for c in state.elected),
        stages=tuple(state.stages),
        ties=tuple(state.ties.records),
        tie_seed=state.ties.seed,
        options=dict(options or {}),
        **state.hook.result_fields(),  # type: ignore[arg-type]
    )


def order_by_votes(
    state: CountState,
    cands: list[int],
    *,
    stage: int,
    clause: str,
    forward: bool,
    history: list[tuple[int, ...]] | None = None,
) -> list[int]:
    """Candidates in descending order of votes, equal votes ordered by the rule's look-back.

    Only the *order of election* depends on this (who is elected does not), so candidates equal at
    every point keep ballot-paper order instead of drawing a lot; the tie is still reported.
    """
    from count.ties import look_back

    hist = state.history if history is None else history
    remaining = list(cands)
    out: list[int] = []
    while remaining:
        top = max(state.votes[c] for c in remaining)
        tied = [c for c in remaining if state.votes[c] == top]
        if len(tied) > 1:
            survivors, idx = look_back(tied, hist, highest=True, forward=forward)
            while len(survivors) > 1 and idx is not None:
                survivors, idx = look_back(survivors, hist, highest=True, forward=forward)
            how = (
                "ballot-paper order (equal at every point; order only)"
                if idx is None
                else "look-back"
            )
            state.ties.record(stage, "order of election", tied, [survivors[0]], how, clause)
            tied = [survivors[0]]
        out.append(tied[0])
        remaining.remove(tied[0])
    return out
