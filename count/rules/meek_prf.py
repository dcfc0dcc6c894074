"""``meek-prf``: the PR Foundation *Reference Meek Rule* in exact 9-place fixed point.

Rounding up, omega = 10**-6, no batch defeats; steps A, B.1-B.4, C, T are cited below. One stage
per action (elect / defeat), as Droop's reference reports show them. The state, the ballot tree
and the stage records are :class:`count.rules.meek.MeekCount`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from count.ballots import Ballots
from count.result import CountResult, fmt
from count.rules.base import CountOptions
from count.rules.meek import MeekCount

NAME = "meek-prf"
TITLE = "Meek STV (PR Foundation Reference Meek Rule, 9-place fixed point)"
DP = 9
OMEGA = 10**3  # A: omega = 0.000001 in units of 10**-9
EPS = 1  # 10**-9 added to the quota (B.2.b)


@dataclass
class Round:
    """The outcome of one round of B.2 iterations."""

    status: str  # "elected" | "omega" | "stable"
    votes: list[int]
    quota: int
    surplus: int
    iterations: int


class PrfMeekCount(MeekCount):
    """One count under the PR Foundation Reference Meek Rule."""

    NAME, TITLE, DP = NAME, TITLE, DP

    def __init__(self, ballots: Ballots, options: CountOptions) -> None:
        super().__init__(ballots, options, DP)
        p = self.p
        # Rounding up per ballot needs r·kf ≤ p² and keep·n ≤ p·N in 64 bits (else object ints).
        self.big = max(p * p, p * max(ballots.valid, 1)) >= 2**62
        self.round_no = 0

    def stage_extra(self, surplus: int, iterations: int) -> dict[str, str]:
        return {
            "surplus": fmt(surplus, DP),
            "round": str(self.round_no),
            "iterations": str(iterations),
            "keep_factors": " ".join(fmt(k, DP) for k in self.kf),
        }

    def run(self) -> CountResult:
        names = self.names
        quota = self.ballots.valid * self.p // (self.seats + 1) + EPS
        quota0 = quota
        votes = self.distribute(round_up=True)  # A: first preferences
        self.record(
            action="first",
            subjects=[],
            clause="PRF A",
            description="First preferences",
            votes=votes,
            quota=quota,
            elected=[],
            excluded=[],
            extra=self.stage_extra(0, 0),
        )
        # B.1: continue while hopeful candidates outnumber the seats left (and seats remain).
        while len(self.hopeful()) > self.vacancies() > 0:
            doomed = self.doomed()  # constrained count (count.constraints): defeated at once
            if doomed:
                for c in doomed:
                    self.defeat(c)
                self.record(
                    action="defeat",
                    subjects=doomed,
                    clause="doom (Hill 1998)",
                    description="Defeat doomed: " + ", ".join(names[c] for c in doomed),
                    votes=votes,
                    quota=quota,
                    elected=[],
                    excluded=doomed,
                    extra=self.stage_extra(0, 0),
                )
                continue
            self.round_no += 1
            r = self.iterate()
            votes, quota = r.votes, r.quota
            if r.status != "elected":
                self.defeat_lowest(r)
        # C.1 elect remaining hopefuls if seats are unfilled; C.2 otherwise defeat them.
        hop = self.hopeful()
        if hop and len(self.elected) < self.seats:
            for c in hop:
                self.elect(c)
            self.finish_last_stage(hop, "Elect remaining (PRF C.1).", sep=". ", clause="PRF C.1")
        return self.result(
            quota=quota0, final_quota=quota, options={"precision": "9", "omega": "0.000001"}
        )

    def iterate(self) -> Round:
        """B.2: distribute, recompute the quota, elect, and update keep factors until someone is
        elected or the surplus is below omega or stops decreasing."""
        p, last_surplus, iterations = self.p, self.ballots.valid * self.p, 0
        while True:
            iterations += 1
            # B.2.a distribute votes (each ballot keeps ⌈w·kf⌉ at each candidate, rounded up).
            votes = self.distribute(round_up=True)
            # B.2.b quota: total vote ÷ (seats+1), truncated to 9 places, plus 10**-9.
            quota = sum(votes) // (self.seats + 1) + EPS
            # B.2.c elect every hopeful candidate with vote >= quota.
            new = []
            reached = (c for c in self.hopeful() if votes[c] >= quota)
            for c in sorted(reached, key=lambda c: (-votes[c], c)):
                if self.may_elect(c):  # constrained count: a doomed candidate is defeated instead
                    self.elect(c)
                    new.append(c)
            # B.2.d total surplus of elected candidates (not below 0).
            surplus = max(sum(votes[c] - quota for c in self.elected), 0)
            if new:
                self.record(
                    action="elect",
                    subjects=new,
                    clause="PRF B.2.c",
                    description="Elect: " + ", ".join(self.names[c] for c in new),
                    votes=votes,
                    quota=quota,
                    elected=new,
                    excluded=[],
                    extra=self.stage_extra(surplus, iterations),
                )
                return Round("elected", votes, quota, surplus, iterations)
            # B.2.e iteration finished when surplus < omega, or not decreasing.
            if surplus < OMEGA:
                return Round("omega", votes, quota, surplus, iterations)
            if surplus >= last_surplus:
                return Round("stable", votes, quota, surplus, iterations)
            last_surplus = surplus
            # B.2.f kf ← ⌈⌈kf·q⌉ / v⌉ for each elected candidate.
            for c in self.elected:
                self.kf[c] = -(-(-(-(self.kf[c] * quota) // p) * p) // votes[c])

    def defeat_lowest(self, r: Round) -> None:
        """B.3: defeat the lowest hopeful; candidates within the total surplus of the lowest are
        tied (T: the tie order drawn before the count — the ballot file's candidate order — unless
        a seed or decisions file is given). A guarded candidate is never defeated."""
        guarded = self.guarded()
        hop = [c for c in self.hopeful() if c not in guarded] or self.hopeful()
        low = min(r.votes[c] for c in hop)
        tied = [c for c in hop if r.votes[c] <= low + r.surplus]
        loser = tied[0] if len(tied) == 1 else self.tie(tied, len(self.stages) + 1)
        self.defeat(loser)
        self.record(
            action="defeat",
            subjects=[loser],
            clause=f"PRF B.3 ({r.status})",
            description=f"Defeat ({r.status}): {self.names[loser]}",
            votes=r.votes,
            quota=r.quota,
            elected=[],
            excluded=[loser],
            extra=self.stage_extra(r.surplus, r.iterations),
        )

    def tie(self, tied: list[int], stage: int) -> int:
        """PRF T: with a seed or decisions file, by lot; otherwise the pre-drawn tie order, which
        is the candidate order of the ballot file (as in Droop's reference runs). Reported."""
        if self.ties.seed is not None or self.ties.decisions is not None:
            pick = self.ties.lot(stage, "defeat", tied)[0]
            self.ties.record(stage, "defeat", tied, [pick], self.ties.method(), "PRF T")
            return pick
        pick = min(tied)
        how = "tie order (ballot-file candidate order)"
        self.ties.record(stage, "defeat", tied, [pick], how, "PRF T")
        return pick


def count(ballots: Ballots, options: CountOptions | None = None) -> CountResult:
    """Count under the PR Foundation Reference Meek Rule (9 places, omega 10**-6)."""
    return PrfMeekCount(ballots, options or CountOptions()).run()
