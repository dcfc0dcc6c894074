"""Constrained STV by guards and dooms (e.g. "at least 5 women among 9").

Method: the Gray–Fitzgerald guard/doom rules as described by I. D. Hill, "Constrained STV",
*Voting matters* 9 (1998), and in the ERS booklet's notes on constraints (used by the Church of
England and for the House of Commons Deputy Speakers). The constraint is applied *during* the count,
never by replacing candidates afterwards (which ignores transfers):

* a continuing candidate is **doomed** when electing them would make the constraint impossible to
  meet (e.g. their group's maximum is already elected): they are excluded at once and their papers
  transferred as in an exclusion;
* a continuing candidate is **guarded** when excluding them would make it impossible (their group's
  continuing candidates are exactly the number it still needs): they are never excluded, and are
  elected when the rule elects the remaining continuing candidates.

All constraints are on one attribute (e.g. ``gender``) that puts every candidate in exactly one
group; each group may have a minimum and a maximum. Feasibility of such a partition constraint is a
simple counting condition (see :meth:`Constraint.feasible`), so guard and doom are exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from omov.errors import UsageError

_SPEC = re.compile(r"^\s*([^:]+?)\s*:\s*(.+?)\s*(>=|<=|=)\s*(\d+)\s*$")


@dataclass(frozen=True)
class Limit:
    """One ``attribute:value>=n`` / ``<=n`` / ``=n`` term, as the user wrote it."""

    value: str
    op: str
    n: int

    def __str__(self) -> str:
        return f"{self.value}{self.op}{self.n}"


@dataclass(frozen=True)
class ConstraintEvent:
    """A guard or doom, with the stage it happened at and why."""

    stage: int
    event: str  # "guard" | "doom"
    candidate: str
    reason: str


@dataclass(frozen=True)
class Constraint:
    """Minimum/maximum numbers elected per group of one attribute."""

    attribute: str
    groups: tuple[str, ...]  # group of each candidate, in candidate order
    limits: tuple[Limit, ...]
    minimum: dict[str, int] = field(default_factory=dict)
    maximum: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, attribute: str, groups: Sequence[str], limits: Iterable[Limit]) -> Constraint:
        """Combine the limits into per-group minimum and maximum."""
        lims = tuple(limits)
        lo: dict[str, int] = {}
        hi: dict[str, int] = {}
        for lim in lims:
            if lim.op in (">=", "="):
                lo[lim.value] = max(lo.get(lim.value, 0), lim.n)
            if lim.op in ("<=", "="):
                hi[lim.value] = min(hi.get(lim.value, lim.n), lim.n)
        return cls(attribute, tuple(groups), lims, lo, hi)

    def describe(self) -> str:
        """``gender: woman>=5`` for headers."""
        return f"{self.attribute}: " + ", ".join(str(lim) for lim in self.limits)

    def _bounds(
        self, elected: Iterable[int], continuing: Iterable[int]
    ) -> dict[str, tuple[int, int]]:
        e: dict[str, int] = {}
        c: dict[str, int] = {}
        for x in elected:
            e[self.groups[x]] = e.get(self.groups[x], 0) + 1
        for x in continuing:
            c[self.groups[x]] = c.get(self.groups[x], 0) + 1
        out = {}
        for g in set(self.groups) | set(self.minimum):
            lo = max(self.minimum.get(g, 0) - e.get(g, 0), 0)
            hi = min(self.maximum.get(g, 10**9) - e.get(g, 0), c.get(g, 0))
            out[g] = (lo, hi)
        return out

    def feasible(self, elected: Iterable[int], continuing: Iterable[int], vacancies: int) -> bool:
        """Can ``vacancies`` more seats be filled from ``continuing`` meeting every limit?

        With one attribute the groups are disjoint, so it is feasible iff every group can take
        between ``lo = max(min − elected, 0)`` and ``hi = min(max − elected, continuing)`` more,
        ``lo ≤ hi``, and ``Σ lo ≤ vacancies ≤ Σ hi``.
        """
        continuing = list(continuing)
        vacancies = min(vacancies, len(continuing))  # more seats than candidates: fill what can be
        b = self._bounds(elected, continuing)
        if any(lo > hi for lo, hi in b.values()):
            return False
        return sum(lo for lo, _ in b.values()) <= vacancies <= sum(hi for _, hi in b.values())

    def doomed(
        self, elected: Sequence[int], continuing: Sequence[int], vacancies: int
    ) -> list[int]:
        """Continuing candidates whose election would make the constraint impossible."""
        if vacancies <= 0:
            return []
        return [
            c
            for c in continuing
            if not self.feasible([*elected, c], [x for x in continuing if x != c], vacancies - 1)
        ]

    def guarded(
        self, elected: Sequence[int], continuing: Sequence[int], vacancies: int
    ) -> list[int]:
        """Continuing candidates whose exclusion would make the constraint impossible."""
        return [
            c
            for c in continuing
            if not self.feasible(elected, [x for x in continuing if x != c], vacancies)
        ]

    def reason(self, c: int, event: str) -> str:
        """Why a candidate was guarded/doomed, in words."""
        g = self.groups[c]
        if event == "doom":
            return f"electing another '{g}' would break {self.describe()}"
        return f"every continuing '{g}' candidate is needed for {self.describe()}"

    def to_dict(self, names: Sequence[str]) -> dict[str, object]:
        """For result.json (and for ``verify`` to rebuild it without the candidates file)."""
        return {
            "attribute": self.attribute,
            "limits": [str(x) for x in self.limits],
            "groups": dict(zip(names, self.groups, strict=True)),
        }


def parse_limits(specs: Sequence[str]) -> tuple[str, list[Limit]]:
    """``["gender:woman>=5", "gender:man<=4"]`` → ("gender", limits); one attribute only."""
    attrs: set[str] = set()
    limits = []
    for spec in specs:
        m = _SPEC.match(spec)
        if not m:
            raise UsageError(
                f"bad --constraint {spec!r}",
                fix="write ATTRIBUTE:VALUE>=N, …<=N or …=N (e.g. gender:woman>=5)",
            )
        attrs.add(m.group(1))
        limits.append(Limit(m.group(2), m.group(3), int(m.group(4))))
    if len(attrs) != 1:
        raise UsageError("all --constraint terms must be on one attribute (e.g. gender)")
    return attrs.pop(), limits


def check_feasible(con: Constraint, candidates: Sequence[int], seats: int) -> None:
    """Stop before the count if the constraint cannot be met (exit 2)."""
    if not con.feasible([], list(candidates), min(seats, len(candidates))):
        counts = {g: sum(1 for c in candidates if con.groups[c] == g) for g in set(con.groups)}
        raise UsageError(
            f"the constraint {con.describe()} cannot be met with {seats} seats and these "
            f"candidates ({', '.join(f'{g}: {n}' for g, n in sorted(counts.items()))})",
            fix="check the candidates file's groups and the --constraint numbers; if the column "
            "holds self-descriptions, map them to groups with --group-map FILE",
        )


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
