"""The one shape of every rule module, and what they share.

Every rule is a class over :class:`RuleCount` — options, seats, ties, the guard/doom hook, the
stage records and the frozen result — with a ``run()`` that reads like its rule text; each module
exposes ``NAME``, ``TITLE``, ``DP`` and ``count(ballots, options) -> CountResult`` (no I/O). The
Gregory-family rules (ERS97, Scottish) share :class:`GregoryCount` (who is continuing, vote
totals, parcels); the Meek variants share ``count/rules/meek.py``'s ``MeekCount``.

Every stage of every rule is built by one pure function, :func:`make_stage`, from the candidates'
totals at the end of the stage; its total is :func:`stage_total`, checked against the valid vote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from count.ballots import Ballots
from count.constraints import Constraint, ConstraintHook
from count.engine import Parcel
from count.result import CountResult, Stage, stage_total
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


# ---- pure functions: a stage from totals ---------------------------------------------------


def make_stage(
    *,
    number: int,
    previous: Sequence[int],
    votes: Sequence[int],
    non_transferable: int,
    loss: int,
    quota: int,
    names: Sequence[str],
    action: str,
    subjects: Sequence[int],
    clause: str,
    description: str,
    elected: Sequence[int],
    excluded: Sequence[int] = (),
    transfer_values: Sequence[int] = (),
    extra: dict[str, str] | None = None,
) -> Stage:
    """One stage of the result sheet from the totals at its end and at the end of the previous
    stage (the transfers are the difference)."""
    return Stage(
        number=number,
        action=action,
        subjects=tuple(names[c] for c in subjects),
        clause=clause,
        description=description,
        votes=tuple(votes),
        transfers=tuple(v - o for v, o in zip(votes, previous, strict=True)),
        non_transferable=non_transferable,
        loss=loss,
        quota=quota,
        elected=tuple(names[c] for c in elected),
        excluded=tuple(names[c] for c in excluded),
        transfer_values=tuple(transfer_values),
        extra=dict(extra or {}),
    )


def with_final_note(
    stage: Stage,
    elected: Sequence[str],
    excluded: Sequence[str],
    note: str,
    sep: str = " ",
    clause: str = "",
) -> Stage:
    """The last stage with candidates elected (or left out) without a further transfer; with a
    ``clause``, its ``extra`` names those elected because only they were left for the places
    (TAB-separated) and the clause, so the result page can say why (``count.chart``)."""
    extra = dict(stage.extra)
    if clause and elected:
        extra["elected_remaining"] = "\t".join(elected)
        extra["elected_remaining_clause"] = clause
    return replace(
        stage,
        elected=stage.elected + tuple(elected),
        excluded=stage.excluded + tuple(excluded),
        description=(stage.description + sep + note).strip(),
        extra=extra,
    )


# ---- the shape every rule shares -----------------------------------------------------------


class RuleCount:
    """Base of every rule's count: seats, ties, guards and dooms, stage records, the result."""

    NAME = ""
    TITLE = ""
    DP = 0

    def __init__(self, ballots: Ballots, options: CountOptions, dp: int | None = None) -> None:
        self.ballots = ballots
        self.dp = self.DP if dp is None else dp
        self.scale = 10**self.dp
        self.seats = options.seats or ballots.seats
        self.ties = TieBreaker(
            ballots.candidates, seed=options.tie_seed, decisions=options.tie_decisions
        )
        self.hook = ConstraintHook(options.constraint, ballots.candidates)
        self.progress = options.progress
        self.elected: list[int] = []
        self.stages: list[Stage] = []
        self._last_votes: tuple[int, ...] = tuple([0] * ballots.n_candidates)

    @property
    def names(self) -> tuple[str, ...]:
        return self.ballots.candidates

    def run(self) -> CountResult:
        """Count, returning the frozen result."""
        raise NotImplementedError

    def record_stage(
        self,
        *,
        votes: Sequence[int],
        non_transferable: int,
        loss: int,
        quota: int,
        action: str,
        subjects: Sequence[int],
        clause: str,
        description: str,
        elected: Sequence[int],
        excluded: Sequence[int] = (),
        transfer_values: Sequence[int] = (),
        extra: dict[str, str] | None = None,
    ) -> Stage:
        """Close a stage (see :func:`make_stage`); its total must be the valid vote, exactly."""
        total = stage_total(votes, non_transferable, loss)
        if total != self.ballots.valid * self.scale:
            raise AssertionError(
                f"vote not conserved: {total} != {self.ballots.valid * self.scale}"
            )
        stage = make_stage(
            number=len(self.stages) + 1,
            previous=self._last_votes,
            votes=votes,
            non_transferable=non_transferable,
            loss=loss,
            quota=quota,
            names=self.names,
            action=action,
            subjects=subjects,
            clause=clause,
            description=description,
            elected=elected,
            excluded=excluded,
            transfer_values=transfer_values,
            extra=extra,
        )
        self.stages.append(stage)
        self._last_votes = tuple(votes)
        if self.progress is not None:
            self.progress(f"stage {stage.number}: {description}")
        return stage

    def finish_last_stage(
        self,
        elected: Sequence[int],
        note: str,
        excluded: Sequence[int] = (),
        sep: str = " ",
        clause: str = "",
    ) -> None:
        """Candidates elected (ERS97 5.5.1, Scottish r. 52, Meek's end) — and those a proposed
        exclusion left out, perhaps by lot — at the last stage, where it acted; a tie recorded
        for a stage that never happened is moved to it."""
        if not self.stages or not (elected or excluded):
            return
        last = self.stages[-1]
        self.stages[-1] = with_final_note(
            last,
            [self.names[c] for c in elected],
            [self.names[c] for c in excluded],
            note,
            sep,
            clause,
        )
        self.ties.restage_after(last.number)

    def result(self, *, quota: int, final_quota: int, options: dict[str, str]) -> CountResult:
        """Freeze the finished count into a :class:`CountResult`."""
        self.ties.finish()
        b = self.ballots
        return CountResult(
            rule=self.NAME,
            rule_title=self.TITLE,
            title=b.title,
            seats=self.seats,
            candidates=b.candidates,
            withdrawn=tuple(b.candidates[c] for c in sorted(b.withdrawn)),
            dp=self.dp,
            valid=b.valid,
            invalid=dict(b.invalid),
            truncated=dict(b.truncated),
            quota=quota,
            final_quota=final_quota,
            elected=tuple(b.candidates[c] for c in self.elected),
            stages=tuple(self.stages),
            ties=tuple(self.ties.records),
            tie_seed=self.ties.seed,
            options=dict(options),
            **self.hook.result_fields(),  # type: ignore[arg-type]
        )


class GregoryCount(RuleCount):
    """State of a Gregory-family count (ERS97, Scottish): statuses, totals, parcels held."""

    def __init__(self, ballots: Ballots, options: CountOptions) -> None:
        super().__init__(ballots, options)
        n = ballots.n_candidates
        self.status = [WITHDRAWN if c in ballots.withdrawn else CONTINUING for c in range(n)]
        self.votes = [0] * n
        self.holdings: list[list[Parcel]] = [[] for _ in range(n)]
        self.non_transferable = 0
        self.loss = 0
        self.history: list[tuple[int, ...]] = []  # totals after each stage

    def continuing(self) -> list[int]:
        """Continuing candidates (ERS97 6.3), in candidate order."""
        return [c for c, s in enumerate(self.status) if s == CONTINUING]

    def continuing_mask(self) -> npt.NDArray[np.bool_]:
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
    ) -> None:
        """Close a stage from the current totals (and keep them for the look-back)."""
        self.record_stage(
            votes=self.votes,
            non_transferable=self.non_transferable,
            loss=self.loss,
            quota=quota,
            action=action,
            subjects=subjects,
            clause=clause,
            description=description,
            elected=elected,
            excluded=excluded or (),
            transfer_values=transfer_values or (),
            extra=extra,
        )
        self.history.append(tuple(self.votes))

    def elect_remaining(
        self, cands: list[int], note: str, clause: str, not_elected: Sequence[int] = ()
    ) -> None:
        """Deem ``cands`` elected at the last stage under ``clause``, in the order given;
        ``not_elected`` are excluded there (ERS97 5.5.1 after a proposed exclusion, perhaps by
        lot)."""
        for c in cands:
            self.elect(c)
        for c in not_elected:
            self.exclude(c)
        self.finish_last_stage(cands, note, not_elected, clause=clause)


def order_by_votes(
    state: GregoryCount,
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
