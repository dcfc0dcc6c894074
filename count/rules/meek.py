"""Meek STV in exact fixed-point integers: the shared :class:`MeekCount` and the OpaVote/OpenSTV
variant (``meek``); the PR Foundation reference rule (``meek-prf``) is in ``meek_prf.py``.

* ``meek`` — OpaVote / OpenSTV "Meek STV" (the rule that produced the Stack Exchange moderator
  election results): precision 6, Droop dynamic threshold (fractional, or whole as an option),
  delayed surplus transfer while "sure losers" can be excluded, backward look-back ties. Each
  *round* of the published result is one stage here.

Both variants re-walk every ballot at every iteration. Why a prefix tree: ballots sharing a prefix
of non-excluded candidates up to their first hopeful candidate receive identical treatment, so the
walk is done once per tree *node* (OpenSTV's tree, built here as numpy arrays level by level) with
the node's total weight (count/rules/meek_tree.py) — exact, and far fewer operations on real data.
"""

from __future__ import annotations

import numpy as np

from count.ballots import Ballots
from count.result import CountResult, fmt
from count.rules.base import CountOptions, RuleCount
from count.rules.meek_tree import Level, build_tree, distribute
from count.ties import break_tie

NAME = "meek"
TITLE = "Meek STV (OpaVote/OpenSTV 'Meek STV', precision 6, Droop dynamic threshold)"

HOPEFUL, ELECTED, DEFEATED = "hopeful", "elected", "defeated"


class MeekCount(RuleCount):
    """State shared by the Meek variants: statuses, keep factors, the ballot tree, stages."""

    def __init__(self, ballots: Ballots, options: CountOptions, dp: int) -> None:
        super().__init__(ballots, options, dp)
        self.p = self.scale
        n = ballots.n_candidates
        self.status = [DEFEATED if c in ballots.withdrawn else HOPEFUL for c in range(n)]
        self.kf = [0 if c in ballots.withdrawn else self.p for c in range(n)]
        self.history: list[list[int]] = []
        self.total = ballots.valid * self.p
        # Products r·kf·n reach p²·N: numpy object ints (exact) once they could pass 2^62.
        self.big = self.p * self.p * max(ballots.valid, 1) >= 2**62
        self._tree_key: tuple[str, ...] | None = None
        self._levels: list[Level] = []

    def hopeful(self) -> list[int]:
        return [c for c, s in enumerate(self.status) if s == HOPEFUL]

    def vacancies(self) -> int:
        return self.seats - len(self.elected)

    def doomed(self) -> list[int]:
        """Hopefuls the constraint dooms now (reported)."""
        stage = len(self.stages) + 1
        return self.hook.doomed(self.elected, self.hopeful(), self.vacancies(), stage)

    def guarded(self) -> set[int]:
        """Hopefuls the constraint guards now (never defeated; reported)."""
        stage = len(self.stages) + 1
        return self.hook.guarded(self.elected, self.hopeful(), self.vacancies(), stage)

    def may_exclude(self, group: list[int]) -> bool:
        """False if defeating all of ``group`` at once would make the constraint impossible."""
        return self.hook.may_exclude(group, self.elected, self.hopeful(), self.vacancies())

    def may_elect(self, c: int) -> bool:
        """False if electing ``c`` now would break the constraint."""
        return not self.hook.would_doom(c, self.elected, self.hopeful(), self.vacancies())

    def excludable_prefix(self, cands: list[int]) -> list[int]:
        """The longest prefix of ``cands`` that may be defeated together (constrained count)."""
        out: list[int] = []
        for c in cands:
            if not self.may_exclude([*out, c]):
                break
            out.append(c)
        return out

    def elect(self, c: int) -> None:
        self.status[c] = ELECTED
        self.elected.append(c)

    def defeat(self, c: int) -> None:
        self.status[c] = DEFEATED
        self.kf[c] = 0

    def tree(self) -> list[Level]:
        key = tuple(self.status)
        if key != self._tree_key:
            excluded = np.array([s == DEFEATED for s in self.status])
            hopeful = np.array([s == HOPEFUL for s in self.status])
            self._levels = build_tree(self.ballots, excluded, hopeful, self.big)
            self._tree_key = key
        return self._levels

    def distribute(self, *, round_up: bool) -> list[int]:
        """Every candidate's vote for the current keep factors (one pass over the tree)."""
        n = self.ballots.n_candidates
        return distribute(self.tree(), self.kf, self.p, n, round_up=round_up, big=self.big)

    def record(
        self,
        *,
        action: str,
        subjects: list[int],
        clause: str,
        description: str,
        votes: list[int],
        quota: int,
        elected: list[int],
        excluded: list[int],
        extra: dict[str, str],
    ) -> None:
        """Close a stage: what is not with a candidate is non-transferable (excess)."""
        self.record_stage(
            votes=votes,
            non_transferable=self.total - sum(votes),
            loss=0,
            quota=quota,
            action=action,
            subjects=subjects,
            clause=clause,
            description=description,
            elected=elected,
            excluded=excluded,
            extra=extra,
        )
        self.history.append(votes)


class OpenStvMeekCount(MeekCount):
    """OpaVote / OpenSTV Meek STV (options.extra: ``precision``, ``threshold``)."""

    NAME, TITLE = NAME, TITLE

    def __init__(self, ballots: Ballots, options: CountOptions) -> None:
        super().__init__(ballots, options, int(options.extra.get("precision", "6")))
        self.whole = options.extra.get("threshold", "fractional") == "whole"
        self.surplus_hist: list[int] = []
        self.kf_hist: list[list[int]] = []

    def threshold(self, votes: list[int]) -> int:
        """Droop, dynamic: (p·N − exhausted) ÷ (seats+1); fractional adds one unit of the last
        place, whole rounds down to a whole vote and adds one vote."""
        num, p = sum(votes), self.p
        return num // (self.seats + 1) // p * p + p if self.whole else num // (self.seats + 1) + 1

    def surplus_of(self, votes: list[int], thr: int) -> int:
        active = (HOPEFUL, ELECTED)
        return sum(v - thr for c, v in enumerate(votes) if self.status[c] in active and v > thr)

    def sure_losers(self, votes: list[int], surplus: int) -> list[int]:
        """Candidates who cannot win even with every surplus (strict '<', OpenSTV "Losers"); a
        constrained count never includes a guarded candidate nor a group it may not lose."""
        hop = self.hopeful()
        max_out = len(hop) + len(self.elected) - self.seats
        guarded = self.guarded()
        if sum(votes[c] for c in hop) == 0 and surplus == 0:
            return self.excludable_prefix([c for c in hop if c not in guarded])
        hop.sort(key=lambda c: votes[c])
        clusters: list[list[int]] = []
        for c in hop:
            if clusters and votes[clusters[-1][0]] == votes[c]:
                clusters[-1].append(c)
            else:
                clusters.append([c])
        s, group, best = surplus, list[int](), list[int]()
        for i, cl in enumerate(clusters[:-1]):
            if guarded & set(cl) or not self.may_exclude(group + cl):
                break
            s += len(cl) * votes[cl[0]]
            group = group + cl
            if s < votes[clusters[i + 1][0]] and len(group) <= max_out:
                best = list(group)
        return best

    def lowest(self, votes: list[int], cands: list[int], stage: int) -> int:
        guarded = self.guarded()
        cands = [c for c in cands if c not in guarded] or cands
        low = min(votes[c] for c in cands)
        tied = [c for c in cands if votes[c] == low]
        if len(tied) == 1:
            return tied[0]
        return break_tie(
            self.ties,
            stage=stage,
            kind="exclusion",
            tied=tied,
            history=self.history,
            highest=False,
            forward=False,
            clause="weak tie: backward look-back",
            label=lambda i: f"round {i + 1}",
        )

    def finish_round(
        self, action: str, subjects: list[int], desc: str, excluded: list[int]
    ) -> tuple[list[int], int, int]:
        """Distribute, elect every hopeful at the threshold, record the round."""
        votes = self.distribute(round_up=False)
        thr = self.threshold(votes)
        over_thr = sorted(
            [c for c in self.hopeful() if votes[c] >= thr], key=lambda c: (-votes[c], c)
        )
        new = []
        for c in over_thr:
            if self.may_elect(c):  # constrained count: a doomed candidate is defeated next round
                self.elect(c)
                new.append(c)
        sur = self.surplus_of(votes, thr)
        dp = self.dp
        self.record(
            action=action,
            subjects=subjects,
            clause="OpenSTV Meek STV round",
            description=desc,
            votes=votes,
            quota=thr,
            elected=new,
            excluded=excluded,
            extra={"surplus": fmt(sur, dp), "keep_factors": " ".join(fmt(k, dp) for k in self.kf)},
        )
        self.surplus_hist.append(sur)
        self.kf_hist.append(list(self.kf))
        return votes, thr, sur

    def over(self) -> bool:
        return (
            len(self.elected) >= self.seats or len(self.hopeful()) + len(self.elected) <= self.seats
        )

    def run(self) -> CountResult:
        names = self.names
        votes, thr, sur = self.finish_round("first", [], "Count of first choices", [])
        quota0 = thr
        first_elim = True
        while not self.over():
            stage = len(self.stages) + 1
            doomed = self.doomed()  # constrained count (count.constraints): defeated at once
            if doomed:
                for c in doomed:
                    self.defeat(c)
                who = ", ".join(names[c] for c in doomed)
                votes, thr, sur = self.finish_round(
                    "exclusion", doomed, f"Count after eliminating doomed {who}", doomed
                )
                continue
            stuck = len(self.kf_hist) > 1 and self.kf_hist[-1] == self.kf_hist[-2]
            losers = self.sure_losers(votes, sur)
            if sur >= 1 and not losers and not stuck:
                # Surplus round: every elected candidate over the threshold: kf ← ⌈kf·thr/v⌉.
                for c in list(self.elected):
                    if votes[c] > thr:
                        self.kf[c] = -(-(self.kf[c] * thr) // votes[c])
                votes, thr, sur = self.finish_round(
                    "surplus", [], "Count after transferring surplus votes", []
                )
                continue
            elim = self._to_eliminate(votes, sur, losers, stuck, first_elim, stage)
            first_elim = False
            for c in elim:
                self.defeat(c)
            who = ", ".join(names[c] for c in elim)
            votes, thr, sur = self.finish_round(
                "exclusion", elim, f"Count after eliminating {who}", elim
            )
        self._elect_remaining(votes)
        options = {"precision": str(self.dp), "threshold": "whole" if self.whole else "fractional"}
        return self.result(quota=quota0, final_quota=thr, options=options)

    def _to_eliminate(
        self,
        votes: list[int],
        sur: int,
        losers: list[int],
        stuck: bool,
        first_elim: bool,
        stage: int,
    ) -> list[int]:
        """Who is eliminated this round: the lowest hopeful if the count is stuck, otherwise the
        sure losers (at the first elimination with no surplus, plus the lowest if they have no
        votes), otherwise the lowest."""
        if stuck:
            return [self.lowest(votes, self.hopeful(), stage)]
        elim = list(losers)
        if first_elim and sur == 0:
            rest = [c for c in self.hopeful() if c not in elim]
            if len(rest) + len(self.elected) > self.seats and sum(votes[c] for c in elim) == 0:
                extra = self.lowest(votes, rest, stage)
                if self.may_exclude([*elim, extra]):
                    elim.append(extra)
        if not elim:
            elim = [self.lowest(votes, self.hopeful(), stage)]
        return sorted(elim)

    def _elect_remaining(self, votes: list[int]) -> None:
        """End: seats full -> the rest are defeated; otherwise the remaining hopefuls with votes
        (all of them in a constrained count, which must fill every seat) are elected."""
        if len(self.elected) >= self.seats:
            return
        rest = sorted(self.hopeful(), key=lambda c: (-votes[c], c))
        guarded = self.guarded()
        if self.hook.constraint is None:  # OpenSTV: nobody is elected on no votes
            rest = [c for c in rest if votes[c] > 0 or c in guarded]
        out: list[int] = []
        if len(rest) + len(self.elected) > self.seats:
            out = [self.lowest(votes, rest, len(self.stages))]
            rest.remove(out[0])
            self.defeat(out[0])
        for c in rest:
            self.elect(c)
        self.finish_last_stage(
            rest, "Remaining candidates elected.", out, sep=". ", clause="as many left as seats"
        )


def count(ballots: Ballots, options: CountOptions | None = None) -> CountResult:
    """Count under OpaVote/OpenSTV Meek STV (options.extra: ``precision``, ``threshold``)."""
    return OpenStvMeekCount(ballots, options or CountOptions()).run()
