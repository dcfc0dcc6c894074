"""Ties: look-back first, then lot from a seed (reproducible, echoed) or a decisions file used
exactly; never hidden randomness."""

from __future__ import annotations

import pytest

from count.ballots import build_ballots
from count.rules import run_rule
from count.rules.base import CountOptions
from count.ties import TieDecision
from omov.errors import UsageError

# Ann and Ben tie at every stage for the last exclusion: only a lot can separate them.
TIED = build_ballots(["Ann", "Ben", "Cat"], 1, [[0], [1], [2], [2]])
# ERS97: Cat is elected at once (quota 1.67), her surplus is non-transferable, and Ann and Ben
# are level at every point for the last place (5.6.2 elects neither; 5.2.5 excludes one by lot).
TIED_ERS = build_ballots(["Ann", "Ben", "Cat"], 2, [[0], [1], [2], [2], [2]])


def _tied(rule: str):  # type: ignore[no-untyped-def]
    return TIED_ERS if rule == "ers97" else TIED


@pytest.mark.parametrize("rule", ["scottish", "ers97", "meek"])
def test_lot_needs_a_seed_or_decisions(rule: str) -> None:
    with pytest.raises(UsageError) as err:
        run_rule(rule, _tied(rule))
    assert "--tie-seed" in (err.value.fix or "")


@pytest.mark.parametrize("rule", ["scottish", "ers97", "meek"])
def test_seed_is_reproducible_echoed_and_reported(rule: str) -> None:
    a = run_rule(rule, _tied(rule), CountOptions(tie_seed="2026-05-01"))
    b = run_rule(rule, _tied(rule), CountOptions(tie_seed="2026-05-01"))
    assert a == b
    assert a.tie_seed == "2026-05-01"
    lots = [t for t in a.ties if t.method.startswith("lot")]
    assert lots and lots[0].among == ("Ann", "Ben")
    seeds = {
        next(
            t.chosen
            for t in run_rule(rule, _tied(rule), CountOptions(tie_seed=str(s))).ties
            if t.method.startswith("lot")
        )
        for s in range(20)
    }
    assert seeds == {("Ann",), ("Ben",)}  # the seed really decides


def test_decisions_file_is_used_exactly() -> None:
    for loser in ("Ann", "Ben"):
        dec = [TieDecision(("Ann", "Ben"), (loser,))]
        r = run_rule("scottish", TIED, CountOptions(tie_decisions=dec))
        assert r.stages[1].excluded == (loser,)
        assert r.ties[0].method == "lot (decisions file)"
    with pytest.raises(UsageError, match="unused"):
        run_rule(
            "scottish",
            TIED,
            CountOptions(
                tie_decisions=[
                    TieDecision(("Ann", "Ben"), ("Ann",)),
                    TieDecision(("Ann", "Cat"), ("Ann",)),
                ]
            ),
        )
    with pytest.raises(UsageError, match="is for"):
        run_rule(
            "scottish", TIED, CountOptions(tie_decisions=[TieDecision(("Ann", "Cat"), ("Ann",))])
        )


def test_scottish_look_back_uses_most_recent_stage_ers97_the_earliest() -> None:
    # Stage 1: A 6, B 5, C 4, D 4 (D's papers go to B), E 1 -> E excluded; E's paper goes to A.
    # Scottish r. 51 excludes the lowest at the most recent stage where the two differ.
    rows = [[0, 2]] * 6 + [[1]] * 5 + [[2, 0]] * 4 + [[3, 1]] * 4 + [[4, 3]]
    b = build_ballots(list("ABCDE"), 2, rows)
    r = run_rule("scottish", b, CountOptions())
    assert r.stages[1].excluded == ("E",)
    assert r.stages[2].excluded == ("C",)  # C 4 < D 5 after E's transfer
    assert [t for t in r.ties if t.method.startswith("lot")] == []
