"""ERS97: Electoral Reform Society, *How to conduct an election by the Single Transferable Vote*,
3rd edition (1997), section 5 (the count) with the section 6 glossary.

All values are hundredths (two decimal places, 5.1.6 and 5.3.7), held as exact integers.

Implementer decisions, where the text leaves room (see docs/formats-count.md):

* Blank papers (no first preference) are invalid and set aside before the quota (5.1.2, 6.9):
  Wichmann's M135 header quotes 84.88 (= 679/8, blanks counted); we follow the rule text, as OpenSTV
  does: 84.63 (= 677/8).
* Tie look-back "at the first stage or at the earliest point in the count, after the transfer of a
  batch of papers" uses the totals after every batch (sub-stage), as the text says.
* Deferral 5.2.2(b) uses the same group 5.2.5 would exclude (ties kept together).
* 5.5.1: when a proposed exclusion would leave as many continuing candidates as places, they are
  deemed elected and the exclusion is not carried out.
"""

from __future__ import annotations

from count.ballots import Ballots
from count.engine import Parcel, concat, first_preferences, sort_papers
from count.result import CountResult, fmt
from count.rules.base import CONTINUING, EXCLUDED, CountOptions, GregoryCount, order_by_votes
from count.ties import break_tie, look_back

NAME = "ers97"
TITLE = "ERS97 (Electoral Reform Society, How to conduct an election by STV, 3rd ed. 1997)"
DP = 2
SCALE: int = 10**DP


def quota_for(valid_scaled: int, seats: int) -> int:
    """5.1.6: total valid vote ÷ (places + 1) to two decimal places; if not exact, ignore the
    remainder and add 0.01 — i.e. round *up* to the hundredth."""
    return -(-valid_scaled // (seats + 1))


class Ers97Count(GregoryCount):
    """One ERS97 count: the rule's steps as methods named after the paragraphs."""

    NAME, TITLE, DP = NAME, TITLE, DP

    def __init__(self, ballots: Ballots, options: CountOptions) -> None:
        super().__init__(ballots, options)
        self.quota = quota_for(ballots.valid * SCALE, self.seats)
        self.initial_quota = self.quota
        self.points: list[tuple[int, ...]] = []  # totals after stage 1 and after every batch
        self.elected_at: dict[int, int] = {}
        self.doomed_waiting: list[int] = []  # doomed between batches: receive nothing more
        self.batch_totals: dict[str, str] = {}

    # -- helpers -------------------------------------------------------------------------------
    def _mark_point(self) -> None:
        self.points.append(tuple(self.votes))

    def _active_vote(self) -> int:
        """6.20: votes of continuing candidates plus any votes awaiting transfer (surpluses, and
        papers of excluded candidates not yet transferred)."""
        st = self
        total = sum(
            st.votes[c] for c in range(len(st.status)) if st.status[c] in (CONTINUING, EXCLUDED)
        )
        total += sum(max(st.votes[c] - self.quota, 0) for c in st.elected)
        return total

    def _tie(self, tied: list[int], *, kind: str, highest: bool, clause: str) -> int:
        return break_tie(
            self.ties,
            stage=len(self.stages) + 1,
            kind=kind,
            tied=tied,
            history=self.points,
            highest=highest,
            forward=True,
            clause=clause,
            label=lambda i: "first stage" if i == 0 else f"point {i + 1}",
        )

    # -- 5.1.7 / 5.3.13 / 5.4.9 ----------------------------------------------------------------
    def deem_elected(self, clause: str) -> list[int]:
        """Consider continuing candidates in descending order of votes; deem elected those whose
        vote equals or exceeds (a) the quota or (b) the total active vote ÷ (places not yet
        filled + 1), up to the places left, subject to 5.6.2 (a tie for the last places is
        decided by look-back; if equal at every point, none of them is elected now)."""
        st = self
        new: list[int] = []
        skip: set[int] = set()  # constrained count: doomed, excluded at the next step instead
        while st.vacancies() > 0:
            active_share = -(-self._active_vote() // (st.vacancies() + 1))  # hundredths, exact
            threshold = max(min(self.quota, active_share), 1)
            over = [c for c in st.continuing() if st.votes[c] >= threshold and c not in skip]
            if not over:
                break
            top = max(st.votes[c] for c in over)
            tied = [c for c in over if st.votes[c] == top]
            if len(tied) > 1 and len(over) > st.vacancies():
                survivors, idx = look_back(tied, self.points, highest=True, forward=True)
                if idx is None:  # 5.6.2: equal at all points -> none elected at this stage
                    st.ties.record(
                        len(st.stages) + 1, "election", tied, [], "none elected", "5.6.2"
                    )
                    break
                while len(survivors) > 1 and idx is not None:
                    survivors, idx = look_back(survivors, self.points, highest=True, forward=True)
                if len(survivors) > 1:
                    st.ties.record(
                        len(st.stages) + 1, "election", tied, [], "none elected", "5.6.2"
                    )
                    break
                st.ties.record(
                    len(st.stages) + 1, "election", tied, survivors, "look-back", "5.6.2"
                )
                pick = survivors[0]
            elif len(tied) > 1:
                pick = order_by_votes(
                    st,
                    tied,
                    stage=len(st.stages) + 1,
                    clause=clause,
                    forward=True,
                    history=self.points,
                )[0]
            else:
                pick = tied[0]
            if not st.may_elect(pick):
                skip.add(pick)
                continue
            st.elect(pick)
            self.elected_at[pick] = len(st.stages) + 1
            new.append(pick)
        return new

    # -- 5.2.2 / 5.2.5 ---------------------------------------------------------------------------
    def excludable_group(self, deferred: int) -> list[int]:
        """5.2.5: the largest group of lowest candidates (equal votes kept together) such that
        (a) enough candidates remain to fill the places and (b) their total votes plus any
        deferred surpluses do not exceed the vote of the candidate next above."""
        st = self
        guarded = st.guarded()  # constrained count: a group never includes a guarded candidate
        cont = sorted(st.continuing(), key=lambda c: st.votes[c])
        max_out = len(cont) - st.vacancies()
        clusters: list[list[int]] = []
        for c in cont:
            if clusters and st.votes[clusters[-1][0]] == st.votes[c]:
                clusters[-1].append(c)
            else:
                clusters.append([c])
        best: list[int] = []
        group: list[int] = []
        total = deferred
        for i, cl in enumerate(clusters[:-1]):
            # Constrained count: the group stops below a guarded candidate, and must be
            # excludable *as a whole* (each member alone may be, the group not).
            if guarded & set(cl) or not st.may_exclude(group + cl):
                break
            group = group + cl
            total += sum(st.votes[c] for c in cl)
            if total <= st.votes[clusters[i + 1][0]] and len(group) <= max_out:
                best = list(group)
        return best

    def surplus_deferred(self, surplus_total: int) -> bool:
        """5.2.2: defer if the total of surpluses does not exceed (a) the difference between the
        two lowest candidates or (b) the difference between a 5.2.5 group and the candidate next
        above — both are 'a group of lowest candidates could be excluded with the surpluses'."""
        return bool(self.excludable_group(surplus_total))

    # -- 5.3 -----------------------------------------------------------------------------------
    def transfer_surplus(self, c: int, stage: int) -> list[int]:
        """5.3.1-5.3.12 for candidate ``c``; returns the transfer value used."""
        st = self
        surplus = st.votes[c] - self.quota
        # 5.3.1 first-stage surplus: all papers (one parcel); 5.3.2 later: the last batch received.
        parcel = st.holdings[c][-1]
        split = sort_papers(st.ballots, parcel.groups, parcel.pos, st.continuing_mask())  # 5.3.3
        n = split.transferable_papers  # 5.3.5
        # 5.3.7: if the transferable papers' value exceeds the surplus, TV = surplus ÷ papers to
        # two places, remainder ignored; otherwise each paper keeps its present value.
        tv = surplus // n if n and n * parcel.value > surplus else parcel.value
        credited = 0
        for d, (g, p, papers) in split.parcels.items():
            st.holdings[d].append(Parcel(g, p, papers, tv, stage))
            st.votes[d] += papers * tv  # 5.3.8
            credited += papers * tv
        # 5.3.9-5.3.10: the non-transferable difference (and the value of non-transferable
        # papers) is added to the non-transferable vote; the elected candidate keeps a quota.
        st.non_transferable += surplus - credited
        st.holdings[c].pop()
        st.votes[c] = self.quota
        self._mark_point()
        return [tv]

    # -- 5.4 -----------------------------------------------------------------------------------
    def exclude_group(self, group: list[int], stage: int) -> tuple[list[int], list[int]]:
        """5.4.1-5.4.15: pool the excluded candidates' papers in batches by value, highest first;
        after each batch deem elected anyone now at the quota (5.4.9) — they receive no more
        papers (5.4.10) — and, while nobody is elected, lower the quota for papers that became
        non-transferable (5.4.8)."""
        st = self
        for c in group:
            st.exclude(c)
        by_value: dict[int, list[tuple[int, Parcel]]] = {}
        for c in group:
            for parcel in st.holdings[c]:
                by_value.setdefault(parcel.value, []).append((c, parcel))
        new: list[int] = []
        values = sorted(by_value, reverse=True)
        self.batch_totals = {}
        for value in values:
            groups, pos = concat([parcel for _, parcel in by_value[value]])
            split = sort_papers(st.ballots, groups, pos, st.continuing_mask())  # 5.4.2
            for d, (g, p, papers) in split.parcels.items():
                st.holdings[d].append(Parcel(g, p, papers, value, stage))
                st.votes[d] += papers * value
            st.non_transferable += split.exhausted_papers * value
            for c, parcel in by_value[value]:
                st.votes[c] -= parcel.total
            if not st.elected and st.non_transferable:  # 5.4.8
                self.quota = quota_for(st.ballots.valid * SCALE - st.non_transferable, st.seats)
            new += self.deem_elected("5.4.9")
            for c in st.doomed():  # constrained count: doomed now -> excluded at once (5.4.10)
                st.exclude(c)
                self.doomed_waiting.append(c)
            self._mark_point()
            # Each batch is a column of the ERS exclusion form: keep the totals after it.
            self.batch_totals[f"after batch at {fmt(value, DP)}"] = " ".join(
                fmt(v, DP) for v in st.votes
            )
            if st.vacancies() == 0:  # 5.5.2: no further transfers once every place is filled
                break
        # 5.5.2: batches not transferred because every place is filled stay where they are (the
        # result sheet shows them against the excluded candidate, as OpenSTV/eSTV do).
        for c in group:
            st.holdings[c] = []
        return new, values

    # -- the count -----------------------------------------------------------------------------
    def run(self) -> CountResult:
        st = self
        st.holdings = first_preferences(st.ballots, SCALE)  # 5.1.2-5.1.5
        for c in range(st.ballots.n_candidates):
            st.votes[c] = sum(p.total for p in st.holdings[c])
        self._mark_point()
        new = self.deem_elected("5.1.7")
        st.record(
            action="first",
            subjects=[],
            clause="5.1",
            quota=self.quota,
            elected=new,
            description="First preferences",
        )
        pending = list(new)
        while st.vacancies() > 0:  # 5.5.2
            stage = len(st.stages) + 1
            doomed = self.doomed_waiting + st.doomed()  # constrained count: excluded at once
            self.doomed_waiting = []
            if doomed:
                new, values = self.exclude_group(doomed, stage)
                pending += new
                names = "+".join(st.names[c] for c in doomed)
                st.record(
                    action="exclusion",
                    subjects=doomed,
                    clause="doom (Hill 1998); 5.4",
                    quota=self.quota,
                    elected=new,
                    excluded=doomed,
                    transfer_values=values,
                    description=f"Exclusion of doomed {names}",
                )
                continue
            cont = st.continuing()
            if len(cont) <= st.vacancies():
                self._elect_remaining(cont, "5.5.1")
                break
            surpluses = {c: st.votes[c] - self.quota for c in pending if st.votes[c] > self.quota}
            total_surplus = sum(surpluses.values())
            if total_surplus and not self.surplus_deferred(total_surplus):
                # 5.2.3: the largest surplus; equal: greatest vote at the earliest point unequal.
                top = max(surpluses.values())
                tied = [c for c, s in surpluses.items() if s == top]
                c = (
                    tied[0]
                    if len(tied) == 1
                    else self._tie(tied, kind="surplus order", highest=True, clause="5.2.3")
                )
                pending.remove(c)
                tvs = self.transfer_surplus(c, stage)
                new = self.deem_elected("5.3.13")
                pending += new
                st.record(
                    action="surplus",
                    subjects=[c],
                    clause="5.3",
                    quota=self.quota,
                    elected=new,
                    transfer_values=tvs,
                    description=f"Surplus of {st.names[c]}",
                )
                continue
            deferred = total_surplus
            group = self.excludable_group(deferred)
            if not group:
                guarded = st.guarded()
                open_ = [c for c in cont if c not in guarded]
                low = min(st.votes[c] for c in open_)
                tied = [c for c in open_ if st.votes[c] == low]
                group = [
                    tied[0]
                    if len(tied) == 1
                    else self._tie(tied, kind="exclusion", highest=False, clause="5.2.5")
                ]
            if len(cont) - len(group) <= st.vacancies():
                # 5.5.1: the proposed exclusion would leave only as many continuing candidates as
                # places: they are all deemed elected (no transfer).
                self._elect_remaining([c for c in cont if c not in group], "5.5.1", group)
                break
            group = sorted(group, key=lambda c: (st.votes[c], c))
            new, values = self.exclude_group(group, stage)
            pending += new
            names = "+".join(st.names[c] for c in group)
            st.record(
                action="exclusion",
                subjects=group,
                clause="5.2.5, 5.4",
                quota=self.quota,
                elected=new,
                excluded=group,
                transfer_values=values,
                description=f"Exclusion of {names}",
                extra=self.batch_totals if len(values) > 1 else None,
            )
        return self.result(quota=self.initial_quota, final_quota=self.quota, options={})

    def _elect_remaining(
        self, cands: list[int], clause: str, not_elected: list[int] | None = None
    ) -> None:
        order = sorted(cands, key=lambda c: -self.votes[c])
        note = f"Remaining continuing candidates deemed elected ({clause})."
        self.elect_remaining(order, note, clause, not_elected or ())


def count(ballots: Ballots, options: CountOptions | None = None) -> CountResult:
    """Count ``ballots`` under ERS97."""
    return Ers97Count(ballots, options or CountOptions()).run()
