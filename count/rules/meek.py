"""Meek STV, two published variants, in exact fixed-point integers.

* ``meek`` — OpaVote / OpenSTV "Meek STV" (the rule that produced the Stack Exchange moderator
  election results): precision 6, Droop dynamic threshold (fractional, or whole as an option),
  delayed surplus transfer while "sure losers" can be excluded, backward look-back ties. Each
  *round* of the published result is one stage here.
* ``meek-prf`` — the PR Foundation *Reference Meek Rule* (9-decimal fixed point, rounding up,
  omega = 10**-6, no batch defeats): steps A, B.1-B.4, C, T are cited below. One stage per action
  (elect / defeat), as Droop's reference reports show them.

Both rules re-walk every ballot at every iteration. Why a prefix tree: ballots sharing a prefix of
non-excluded candidates up to their first hopeful candidate receive identical treatment, so the walk
is done once per tree *node* (OpenSTV's tree, built here as numpy arrays level by level) with the
node's total weight (count/rules/meek_tree.py) — exact, and far fewer operations on real data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from count.ballots import Ballots
from count.result import CountResult, Stage
from count.rules.common import ConstraintHook, CountOptions
from count.rules.meek_tree import Level, build_tree, distribute
from count.ties import TieBreaker, break_tie

IntArray = npt.NDArray[np.int64]

NAME, NAME_PRF = "meek", "meek-prf"
TITLE = "Meek STV (OpaVote/OpenSTV 'Meek STV', precision 6, Droop dynamic threshold)"
TITLE_PRF = "Meek STV (PR Foundation Reference Meek Rule, 9-place fixed point)"

HOPEFUL, ELECTED, DEFEATED = "hopeful", "elected", "defeated"


class _Meek:
    """Shared state of a Meek count (statuses, keep factors, stage records)."""

    def __init__(self, ballots: Ballots, options: CountOptions, dp: int) -> None:
        self.b = ballots
        self.seats = options.seats or ballots.seats
        self.p = 10**dp
        self.dp = dp
        n = ballots.n_candidates
        self.status = [DEFEATED if c in ballots.withdrawn else HOPEFUL for c in range(n)]
        self.kf = [0 if c in ballots.withdrawn else self.p for c in range(n)]
        self.ties = TieBreaker(
            ballots.candidates, seed=options.tie_seed, decisions=options.tie_decisions
        )
        self.elected: list[int] = []
        self.stages: list[Stage] = []
        self.history: list[list[int]] = []
        self.total = ballots.valid * self.p
        self.big = self.p * self.p * max(ballots.valid, 1) >= 2**62
        self._tree_key: tuple[str, ...] | None = None
        self._levels: list[Level] = []
        self._last = [0] * n
        self.hook = ConstraintHook(options.constraint, ballots.candidates)
        self.progress = options.progress

    def doomed(self) -> list[int]:
        """Hopefuls the constraint dooms now (reported; issue 8)."""
        return self.hook.doomed(
            self.elected, self.hopeful(), self.seats - len(self.elected), len(self.stages) + 1
        )

    def guarded(self) -> set[int]:
        """Hopefuls the constraint guards now (never defeated; reported)."""
        return self.hook.guarded(
            self.elected, self.hopeful(), self.seats - len(self.elected), len(self.stages) + 1
        )

    def may_exclude(self, group: list[int]) -> bool:
        """False if defeating all of ``group`` at once would make the constraint impossible."""
        return self.hook.may_exclude(
            group, self.elected, self.hopeful(), self.seats - len(self.elected)
        )

    def may_elect(self, c: int) -> bool:
        """False if electing ``c`` now would break the constraint."""
        return not self.hook.would_doom(
            c, self.elected, self.hopeful(), self.seats - len(self.elected)
        )

    def tree(self) -> list[Level]:
        key = tuple(self.status)
        if key != self._tree_key:
            excluded = np.array([s == DEFEATED for s in self.status])
            hopeful = np.array([s == HOPEFUL for s in self.status])
            self._levels = build_tree(self.b, excluded, hopeful, self.big)
            self._tree_key = key
        return self._levels

    def hopeful(self) -> list[int]:
        return [c for c, s in enumerate(self.status) if s == HOPEFUL]

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
        nt = self.total - sum(votes)
        names = self.b.candidates
        self.stages.append(
            Stage(
                number=len(self.stages) + 1,
                action=action,
                subjects=tuple(names[c] for c in subjects),
                clause=clause,
                description=description,
                votes=tuple(votes),
                transfers=tuple(v - o for v, o in zip(votes, self._last, strict=True)),
                non_transferable=nt,
                loss=0,
                quota=quota,
                elected=tuple(names[c] for c in elected),
                excluded=tuple(names[c] for c in excluded),
                extra=extra,
            )
        )
        self._last = list(votes)
        if self.progress is not None:
            self.progress(f"stage {len(self.stages)}: {description}")

    def result(
        self, rule: str, title: str, quota0: int, quota: int, options: dict[str, str]
    ) -> CountResult:
        self.ties.finish()
        b = self.b
        return CountResult(
            rule=rule,
            rule_title=title,
            title=b.title,
            seats=self.seats,
            candidates=b.candidates,
            withdrawn=tuple(b.candidates[c] for c in sorted(b.withdrawn)),
            dp=self.dp,
            valid=b.valid,
            invalid=dict(b.invalid),
            truncated=dict(b.truncated),
            quota=quota0,
            final_quota=quota,
            elected=tuple(b.candidates[c] for c in self.elected),
            stages=tuple(self.stages),
            ties=tuple(self.ties.records),
            tie_seed=self.ties.seed,
            options=options,
            **self.hook.result_fields(),  # type: ignore[arg-type]
        )


# --------------------------------------------------------------------------------------------
# meek: OpaVote / OpenSTV "Meek STV"
# --------------------------------------------------------------------------------------------


def count(ballots: Ballots, options: CountOptions | None = None) -> CountResult:
    """Count under OpaVote/OpenSTV Meek STV (options.extra: ``precision``, ``threshold``)."""
    opts = options or CountOptions()
    dp = int(opts.extra.get("precision", "6"))
    whole = opts.extra.get("threshold", "fractional") == "whole"
    m = _Meek(ballots, opts, dp)
    p, seats = m.p, m.seats
    n = ballots.n_candidates
    surplus_hist: list[int] = []
    kf_hist: list[list[int]] = []
    first_elim = True

    def threshold(votes: list[int]) -> int:
        # Droop, dynamic: (p·N − exhausted) ÷ (seats+1); fractional adds one unit of the last
        # place, whole rounds down to a whole vote and adds one vote.
        num = sum(votes)
        return num // (seats + 1) // p * p + p if whole else num // (seats + 1) + 1

    def surplus_of(votes: list[int], thr: int) -> int:
        return sum(
            votes[c] - thr for c in range(n) if m.status[c] in (HOPEFUL, ELECTED) and votes[c] > thr
        )

    def sure_losers(votes: list[int], surplus: int) -> list[int]:
        # Candidates who cannot win even with every surplus (strict '<', OpenSTV "Losers").
        hop = m.hopeful()
        max_out = len(hop) + len(m.elected) - seats
        guarded = m.guarded()  # constrained count: never among the losers
        if sum(votes[c] for c in hop) == 0 and surplus == 0:
            return _excludable_prefix(m, [c for c in hop if c not in guarded])
        hop.sort(key=lambda c: votes[c])
        clusters: list[list[int]] = []
        for c in hop:
            if clusters and votes[clusters[-1][0]] == votes[c]:
                clusters[-1].append(c)
            else:
                clusters.append([c])
        s, group, best = surplus, list[int](), list[int]()
        for i, cl in enumerate(clusters[:-1]):
            if guarded & set(cl) or not m.may_exclude(group + cl):
                break
            s += len(cl) * votes[cl[0]]
            group = group + cl
            if s < votes[clusters[i + 1][0]] and len(group) <= max_out:
                best = list(group)
        return best

    def lowest(votes: list[int], cands: list[int], stage: int) -> int:
        guarded = m.guarded()
        cands = [c for c in cands if c not in guarded] or cands
        low = min(votes[c] for c in cands)
        tied = [c for c in cands if votes[c] == low]
        if len(tied) == 1:
            return tied[0]
        return break_tie(
            m.ties,
            stage=stage,
            kind="exclusion",
            tied=tied,
            history=m.history,
            highest=False,
            forward=False,
            clause="weak tie: backward look-back",
            label=lambda i: f"round {i + 1}",
        )

    def finish_round(
        action: str, subjects: list[int], desc: str, excluded: list[int]
    ) -> tuple[list[int], int, int]:
        votes = distribute(m.tree(), m.kf, p, n, round_up=False, big=m.big)
        thr = threshold(votes)
        sur = surplus_of(votes, thr)
        over_thr = sorted([c for c in m.hopeful() if votes[c] >= thr], key=lambda c: (-votes[c], c))
        new = []
        for c in over_thr:
            if m.may_elect(c):  # constrained count: a doomed candidate is defeated next round
                m.status[c] = ELECTED
                m.elected.append(c)
                new.append(c)
        sur = surplus_of(votes, thr)
        m.record(
            action=action,
            subjects=subjects,
            clause="OpenSTV Meek STV round",
            description=desc,
            votes=votes,
            quota=thr,
            elected=new,
            excluded=excluded,
            extra={"surplus": _fmt(sur, dp), "keep_factors": " ".join(_fmt(k, dp) for k in m.kf)},
        )
        m.history.append(votes)
        surplus_hist.append(sur)
        kf_hist.append(list(m.kf))
        return votes, thr, sur

    votes, thr, sur = finish_round("first", [], "Count of first choices", [])
    quota0 = thr

    def over() -> bool:
        return len(m.elected) >= seats or len(m.hopeful()) + len(m.elected) <= seats

    while not over():
        stage = len(m.stages) + 1
        doomed = m.doomed()  # constrained count (count.constraints): defeated at once
        if doomed:
            for c in doomed:
                m.status[c] = DEFEATED
                m.kf[c] = 0
            names = ", ".join(ballots.candidates[c] for c in doomed)
            votes, thr, sur = finish_round(
                "exclusion", doomed, f"Count after eliminating doomed {names}", doomed
            )
            continue
        stuck = len(kf_hist) > 1 and kf_hist[-1] == kf_hist[-2]
        losers = sure_losers(votes, sur)
        if sur >= 1 and not losers and not stuck:
            # Surplus round: every elected candidate over the threshold gets kf ← ⌈kf·thr/v⌉.
            for c in list(m.elected):
                if votes[c] > thr:
                    m.kf[c] = -(-(m.kf[c] * thr) // votes[c])
            votes, thr, sur = finish_round(
                "surplus", [], "Count after transferring surplus votes", []
            )
            continue
        if stuck:
            elim = [lowest(votes, m.hopeful(), stage)]
        else:
            elim = list(losers)
            if first_elim and sur == 0:
                rest = [c for c in m.hopeful() if c not in elim]
                if len(rest) + len(m.elected) > seats and sum(votes[c] for c in elim) == 0:
                    extra = lowest(votes, rest, stage)
                    if m.may_exclude([*elim, extra]):
                        elim.append(extra)
            if not elim:
                elim = [lowest(votes, m.hopeful(), stage)]
        first_elim = False
        for c in elim:
            m.status[c] = DEFEATED
            m.kf[c] = 0
        names = ", ".join(ballots.candidates[c] for c in sorted(elim))
        votes, thr, sur = finish_round(
            "exclusion", sorted(elim), f"Count after eliminating {names}", sorted(elim)
        )
    # End: seats full -> the rest are defeated; otherwise the remaining hopefuls are elected.
    if len(m.elected) < seats:
        hop = m.hopeful()
        rest = sorted(hop, key=lambda c: (-votes[c], c))
        zero = [c for c in rest if votes[c] == 0]
        guarded = m.guarded()
        if m.hook.constraint is None:  # OpenSTV: nobody is elected on no votes
            rest = [c for c in rest if votes[c] > 0 or c in guarded]
        out: list[int] = []
        if len(rest) + len(m.elected) > seats:
            out = [lowest(votes, rest, len(m.stages))]
            rest.remove(out[0])
            m.status[out[0]] = DEFEATED
        for c in rest:
            m.status[c] = ELECTED
            m.elected.append(c)
        _mark_last(m, rest, "Remaining candidates elected.", out)
        del zero
    return m.result(
        NAME,
        TITLE,
        quota0,
        thr,
        {"precision": str(dp), "threshold": "whole" if whole else "fractional"},
    )


def _excludable_prefix(m: _Meek, cands: list[int]) -> list[int]:
    """The longest prefix of ``cands`` that may be defeated together (constrained count)."""
    out: list[int] = []
    for c in cands:
        if not m.may_exclude([*out, c]):
            break
        out.append(c)
    return out


def _mark_last(m: _Meek, cands: list[int], note: str, excluded: list[int] | None = None) -> None:
    if not (cands or excluded) or not m.stages:
        return
    last = m.stages[-1]
    m.stages[-1] = Stage(
        **{
            **last.__dict__,
            "elected": last.elected + tuple(m.b.candidates[c] for c in cands),
            "excluded": last.excluded + tuple(m.b.candidates[c] for c in excluded or ()),
            "description": (last.description + ". " + note).strip(),
        }
    )
    m.ties.restage_after(last.number)


def _fmt(v: int, dp: int) -> str:
    from count.result import fmt

    return fmt(v, dp)


# --------------------------------------------------------------------------------------------
# meek-prf: PR Foundation Reference Meek Rule
# --------------------------------------------------------------------------------------------


def count_prf(ballots: Ballots, options: CountOptions | None = None) -> CountResult:
    """Count under the PR Foundation Reference Meek Rule (9 places, omega 10**-6)."""
    opts = options or CountOptions()
    m = _Meek(ballots, opts, 9)
    p, seats, n = m.p, m.seats, ballots.n_candidates
    # Rounding up per ballot needs r·kf ≤ p² and keep·n ≤ p·N in 64 bits (object ints otherwise).
    m.big = max(p * p, p * max(ballots.valid, 1)) >= 2**62
    omega = 10**3  # A: omega = 0.000001 in units of 10**-9
    eps = 1
    quota = ballots.valid * p // (seats + 1) + eps
    quota0 = quota
    votes = distribute(m.tree(), m.kf, p, n, round_up=True, big=m.big)  # first preferences
    m.record(
        action="first",
        subjects=[],
        clause="PRF A",
        description="First preferences",
        votes=votes,
        quota=quota,
        elected=[],
        excluded=[],
        extra=_prf_extra(m, 0, 0, 0),
    )
    m.history.append(votes)
    round_no = 0
    # B.1: continue while hopeful candidates outnumber the seats left to fill (and seats remain).
    while len(m.hopeful()) > seats - len(m.elected) > 0:
        doomed = m.doomed()  # constrained count (count.constraints): defeated at once
        if doomed:
            for c in doomed:
                m.status[c] = DEFEATED
                m.kf[c] = 0
            m.record(
                action="defeat",
                subjects=doomed,
                clause="doom (Hill 1998)",
                description="Defeat doomed: " + ", ".join(ballots.candidates[c] for c in doomed),
                votes=votes,
                quota=quota,
                elected=[],
                excluded=doomed,
                extra=_prf_extra(m, 0, round_no, 0),
            )
            m.history.append(votes)
            continue
        round_no += 1
        status = "iterate"
        last_surplus = ballots.valid * p
        iterations = 0
        while True:
            iterations += 1
            # B.2.a distribute votes (each ballot keeps ⌈w·kf⌉ at each candidate, rounded up).
            votes = distribute(m.tree(), m.kf, p, n, round_up=True, big=m.big)
            # B.2.b quota: total vote ÷ (seats+1), truncated to 9 places, plus 10**-9.
            quota = sum(votes) // (seats + 1) + eps
            # B.2.c elect every hopeful candidate with vote >= quota.
            new = []
            for c in sorted(
                (c for c in m.hopeful() if votes[c] >= quota), key=lambda c: (-votes[c], c)
            ):
                if m.may_elect(c):  # constrained count: a doomed candidate is defeated instead
                    m.status[c] = ELECTED
                    m.elected.append(c)
                    new.append(c)
            # B.2.d total surplus of elected candidates (not below 0).
            surplus = max(sum(votes[c] - quota for c in m.elected), 0)
            if new:
                status = "elected"
                m.record(
                    action="elect",
                    subjects=new,
                    clause="PRF B.2.c",
                    description="Elect: " + ", ".join(ballots.candidates[c] for c in new),
                    votes=votes,
                    quota=quota,
                    elected=new,
                    excluded=[],
                    extra=_prf_extra(m, surplus, round_no, iterations),
                )
                m.history.append(votes)
                break
            # B.2.e iteration finished when surplus < omega, or not decreasing.
            if surplus < omega:
                status = "omega"
                break
            if surplus >= last_surplus:
                status = "stable"
                break
            last_surplus = surplus
            # B.2.f kf ← ⌈⌈kf·q⌉ / v⌉ for each elected candidate.
            for c in m.elected:
                m.kf[c] = -(-(-(-(m.kf[c] * quota) // p) * p) // votes[c])
        if status == "elected":
            continue
        # B.3 defeat the lowest hopeful; candidates within the total surplus of the lowest are
        # tied (T: the tie order drawn before the count — the ballot file's candidate order —
        # unless a seed or decisions file is given).
        guarded = m.guarded()
        hop = [c for c in m.hopeful() if c not in guarded] or m.hopeful()
        low = min(votes[c] for c in hop)
        tied = [c for c in hop if votes[c] <= low + surplus]
        loser = tied[0] if len(tied) == 1 else _prf_tie(m, tied, len(m.stages) + 1)
        m.status[loser] = DEFEATED
        m.kf[loser] = 0
        m.record(
            action="defeat",
            subjects=[loser],
            clause=f"PRF B.3 ({status})",
            description=f"Defeat ({status}): {ballots.candidates[loser]}",
            votes=votes,
            quota=quota,
            elected=[],
            excluded=[loser],
            extra=_prf_extra(m, surplus, round_no, iterations),
        )
        m.history.append(votes)
    # C.1 elect remaining hopefuls if seats are unfilled; C.2 otherwise defeat them.
    hop = m.hopeful()
    if hop and len(m.elected) < seats:
        for c in hop:
            m.status[c] = ELECTED
            m.elected.append(c)
        _mark_last(m, hop, "Elect remaining (PRF C.1).")
    return m.result(NAME_PRF, TITLE_PRF, quota0, quota, {"precision": "9", "omega": "0.000001"})


def _prf_extra(m: _Meek, surplus: int, round_no: int, iterations: int) -> dict[str, str]:
    return {
        "surplus": _fmt(surplus, 9),
        "round": str(round_no),
        "iterations": str(iterations),
        "keep_factors": " ".join(_fmt(k, 9) for k in m.kf),
    }


def _prf_tie(m: _Meek, tied: list[int], stage: int) -> int:
    """PRF T: with a seed or decisions file, by lot; otherwise the pre-drawn tie order, which is
    the candidate order of the ballot file (as in Droop's reference runs). Always reported."""
    if m.ties.seed is not None or m.ties.decisions is not None:
        pick = m.ties.lot(stage, "defeat", tied)[0]
        m.ties.record(stage, "defeat", tied, [pick], m.ties.method(), "PRF T")
        return pick
    pick = min(tied)
    m.ties.record(stage, "defeat", tied, [pick], "tie order (ballot-file candidate order)", "PRF T")
    return pick
