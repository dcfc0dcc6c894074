"""Scottish STV: The Scottish Local Government Elections Order 2007 (SSI 2007/42), Sch. 1 rr. 45-52.

The same counting rules were re-enacted for the 2012, 2017 and 2022 polls (SSI 2011/399). Values
are decimals with five places, remainders ignored (truncated): every figure is an integer number
of hundred-thousandths here, so the count is exact and matches the returning officers' sheets.

Clause numbering: every citation here, in stage records and in the docs uses the 2007 Order's rule
numbers (r. 46 first stage and quota … r. 52 last vacancies); the 2011 re-enactment numbers the
same rules one higher (its exclusion rule is r. 51), and is never cited, so the two never mix.
"""

from __future__ import annotations

from count.ballots import Ballots
from count.engine import Parcel, concat, first_preferences, sort_papers
from count.result import CountResult
from count.rules.base import CountOptions, GregoryCount, order_by_votes
from count.ties import break_tie

NAME = "scottish"
TITLE = "Scottish STV (SSI 2007/42 Sch. 1 rr. 45-52)"
DP = 5
SCALE: int = 10**DP


def quota_for(valid: int, seats: int) -> int:
    """r. 46(2)-(3): votes ÷ (councillors + 1), plus one, any fraction disregarded."""
    return (valid // (seats + 1) + 1) * SCALE


class ScottishCount(GregoryCount):
    """One Scottish STV count: the rules' steps as methods named after them."""

    NAME, TITLE, DP = NAME, TITLE, DP

    def __init__(self, ballots: Ballots, options: CountOptions) -> None:
        super().__init__(ballots, options)
        self.quota = quota_for(ballots.valid, self.seats)

    def run(self) -> CountResult:
        """Every stage as the official sheet shows it."""
        st, ballots, quota = self, self.ballots, self.quota
        # r. 46(1): sort the papers by first preference; each paper has the value one.
        st.holdings = first_preferences(ballots, SCALE)
        for c in range(ballots.n_candidates):
            st.votes[c] = sum(p.total for p in st.holdings[c])
        new = self.deem_elected(stage=1)
        st.record(
            action="first",
            subjects=[],
            clause="r. 46",
            quota=quota,
            elected=new,
            description="First preferences",
        )
        pending: list[int] = list(new)  # elected candidates whose surplus is not yet transferred
        while st.vacancies() > 0:
            stage = len(st.stages) + 1
            doomed = st.doomed()  # constrained count only (count.constraints): excluded at once
            if doomed:
                for c in doomed:
                    st.exclude(c)
                for c in doomed:
                    self.exclude_one(c, stage)
                new = self.deem_elected(stage)
                pending += new
                names = "+".join(st.names[c] for c in doomed)
                st.record(
                    action="exclusion",
                    subjects=doomed,
                    clause="doom (Hill 1998); r. 50",
                    quota=quota,
                    elected=new,
                    excluded=doomed,
                    description=f"Exclusion of doomed {names}",
                )
                continue
            if self.fill_last_vacancies():  # r. 52
                break
            with_surplus = [c for c in pending if st.votes[c] > quota]
            if with_surplus:
                c = self.highest_surplus(with_surplus, stage)
                pending.remove(c)
                tvs = self.transfer_surplus(c, stage)
                new = self.deem_elected(stage)
                pending += new
                st.record(
                    action="surplus",
                    subjects=[c],
                    clause="rr. 48, 49",
                    quota=quota,
                    elected=new,
                    transfer_values=tvs,
                    description=f"Surplus of {st.names[c]}",
                )
            else:
                pending = [c for c in pending if st.votes[c] > quota]
                c = self.lowest(stage)
                self.exclude_one(c, stage)
                new = self.deem_elected(stage)
                pending += new
                st.record(
                    action="exclusion",
                    subjects=[c],
                    clause="rr. 50, 51",
                    quota=quota,
                    elected=new,
                    excluded=[c],
                    description=f"Exclusion of {st.names[c]}",
                )
        return self.result(quota=quota, final_quota=quota, options={})

    def deem_elected(self, stage: int) -> list[int]:
        """r. 47: every continuing candidate whose votes equal or exceed the quota is deemed
        elected, taken in order of votes (r. 49's order of surpluses) so the order of election is
        meaningful."""
        st, quota = self, self.quota
        over = [c for c in st.continuing() if st.votes[c] >= quota]
        over = order_by_votes(st, over, stage=stage, clause="rr. 47, 49", forward=False)
        new = []
        for c in over:
            if st.vacancies() > 0 and st.may_elect(c):  # a doomed candidate is excluded instead
                st.elect(c)
                new.append(c)
        return new

    def highest_surplus(self, cands: list[int], stage: int) -> int:
        """r. 49(1): the highest surplus first; (2) equal surpluses: the candidate with the highest
        votes at the most recent preceding stage where they were unequal, else by lot."""
        st = self
        top = max(st.votes[c] for c in cands)
        tied = [c for c in cands if st.votes[c] == top]
        if len(tied) == 1:
            return tied[0]
        return break_tie(
            st.ties,
            stage=stage,
            kind="surplus order",
            tied=tied,
            history=st.history,
            highest=True,
            forward=False,
            clause="r. 49(2)",
        )

    def lowest(self, stage: int) -> int:
        """r. 50(1) / r. 51: the continuing candidate with the fewest votes; equal: the one lowest
        at the most recent preceding stage where they were unequal, else by lot."""
        st = self
        guarded = st.guarded()  # constrained count: guarded candidates are never excluded
        cont = [c for c in st.continuing() if c not in guarded]
        low = min(st.votes[c] for c in cont)
        tied = [c for c in cont if st.votes[c] == low]
        if len(tied) == 1:
            return tied[0]
        return break_tie(
            st.ties,
            stage=stage,
            kind="exclusion",
            tied=tied,
            history=st.history,
            highest=False,
            forward=False,
            clause="r. 51",
        )

    def transfer_surplus(self, c: int, stage: int) -> list[int]:
        """r. 48: examine *all* the candidate's papers; each transferable paper goes to its next
        available preference at ``surplus × value when received ÷ candidate's total``, to 5
        places, remainder ignored (r. 48(3)). Papers received at one value form one sub-parcel,
        so the value is computed once per parcel and multiplied by the number of papers."""
        st, quota = self, self.quota
        total = st.votes[c]
        surplus = total - quota
        cont = st.continuing_mask()
        moved = 0
        tvs: list[int] = []
        for parcel in st.holdings[c]:
            # scaled: (S/k)(v/k)/(T/k) * k = S*v/T; floor = "ignoring the remainder".
            tv = surplus * parcel.value // total
            split = sort_papers(st.ballots, parcel.groups, parcel.pos, cont)
            if tv not in tvs:
                tvs.append(tv)
            for d, (g, p, papers) in split.parcels.items():
                st.holdings[d].append(Parcel(g, p, papers, tv, stage))
                st.votes[d] += papers * tv
                moved += papers * tv
            st.non_transferable += split.exhausted_papers * tv
            moved += split.exhausted_papers * tv
        st.holdings[c] = []
        st.votes[c] = quota
        st.loss += surplus - moved  # the neglected remainders: counted, never credited
        return tvs

    def exclude_one(self, c: int, stage: int) -> None:
        """r. 50: exclude the candidate and transfer every paper at the value it was received by
        them, all in one stage."""
        st = self
        st.exclude(c)
        cont = st.continuing_mask()
        by_value: dict[int, list[Parcel]] = {}
        for parcel in st.holdings[c]:
            by_value.setdefault(parcel.value, []).append(parcel)
        for value, parcels in sorted(by_value.items(), reverse=True):
            groups, pos = concat(parcels)
            split = sort_papers(st.ballots, groups, pos, cont)
            for d, (g, p, papers) in split.parcels.items():
                st.holdings[d].append(Parcel(g, p, papers, value, stage))
                st.votes[d] += papers * value
            st.non_transferable += split.exhausted_papers * value
        st.holdings[c] = []
        st.votes[c] = 0

    def fill_last_vacancies(self) -> bool:
        """r. 52: when the number of continuing candidates equals the number of vacancies remaining
        unfilled, they are deemed elected, and no further transfer is made."""
        st = self
        cont = st.continuing()
        if len(cont) <= st.vacancies():
            order = order_by_votes(st, cont, stage=len(st.stages), clause="r. 52(1)", forward=False)
            st.elect_remaining(
                order, "Remaining continuing candidates deemed elected (r. 52(1)).", "r. 52(1)"
            )
            return True
        return False


def count(ballots: Ballots, options: CountOptions | None = None) -> CountResult:
    """Count ``ballots`` under Scottish STV; returns every stage as the official sheet shows it."""
    return ScottishCount(ballots, options or CountOptions()).run()
