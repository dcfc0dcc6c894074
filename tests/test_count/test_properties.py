"""Hypothesis properties of every rule: conservation at every stage, seats filled, and the result
independent of ballot order (and of how identical papers are split into lines)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from count.ballots import build_ballots
from count.render import RENDERERS, render_json
from count.rules import RULES, run_rule
from count.rules.base import CountOptions
from omov.errors import InputError

NAMES = ["Ann", "Ben", "Cat", "Dan", "Eve", "Fay", "Gus"]

elections = st.tuples(
    st.integers(3, 7),  # candidates
    st.integers(1, 4),  # seats
    st.lists(
        st.tuples(st.lists(st.integers(0, 6), min_size=0, max_size=7), st.integers(1, 30)),
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)


def _build(n: int, seats: int, rows: list[tuple[list[int], int]]):  # type: ignore[no-untyped-def]
    rankings = [[c % n for c in r] for r, _ in rows]
    return build_ballots(NAMES[:n], seats, rankings, [w for _, w in rows])


@settings(max_examples=60, deadline=None)
@given(elections)
def test_conservation_and_seats_filled(e) -> None:  # type: ignore[no-untyped-def]
    n, seats, rows, _ = e
    ballots = _build(n, seats, rows)
    if ballots.valid == 0:  # issue 17: refused (exit 2), never counted
        for rule in RULES:
            with pytest.raises(InputError, match="no valid ballot"):
                run_rule(rule, ballots, CountOptions(tie_seed="prop"))
        return
    for rule in RULES:
        result = run_rule(rule, ballots, CountOptions(tie_seed="prop"))
        scale = 10**result.dp
        for s in result.stages:
            # candidates + non-transferable + rounding loss = valid votes, exactly.
            assert sum(s.votes) + s.non_transferable + s.loss == ballots.valid * scale, rule
            assert s.non_transferable >= 0 and s.loss >= 0
            assert min(s.votes) >= 0
        assert len(set(result.elected)) == len(result.elected)
        assert result.stages and result.stages[0].action == "first"
        for render in RENDERERS.values():
            assert render(result)
        if rule == "meek":
            # OpenSTV's Meek leaves a seat empty rather than elect a candidate with no vote.
            assert len(result.elected) <= min(seats, n)
        else:
            assert len(result.elected) == min(seats, n), rule
        _assert_unfilled_reported(result)


def _assert_unfilled_reported(result) -> None:  # type: ignore[no-untyped-def]
    """A seat left unfilled is said in every result format (issue 17)."""
    k = result.seats - len(result.elected)
    assert result.unfilled_seats == k
    assert json.loads(RENDERERS["result.json"](result))["unfilled_seats"] == k
    assert f"Seats left unfilled,{k}" in RENDERERS["result.csv"](result)
    txt, html = RENDERERS["result.txt"](result), RENDERERS["result.html"](result)
    if k:
        assert f"Seats left unfilled: {k}" in txt
        assert f"<dt>Seats left unfilled</dt><dd>{k}</dd>" in html
        assert result.notes() and all(n in txt for n in result.notes())
    else:
        assert "unfilled" not in txt and "unfilled" not in html


@settings(max_examples=60, deadline=None)
@given(elections)
def test_result_independent_of_ballot_order(e) -> None:  # type: ignore[no-untyped-def]
    n, seats, rows, rnd = e
    if _build(n, seats, rows).valid == 0:
        return  # refused (test_conservation_and_seats_filled)
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    split = [(r, 1) for r, w in shuffled for _ in range(w)]  # one line per paper
    for rule in RULES:
        a = run_rule(rule, _build(n, seats, rows), CountOptions(tie_seed="order"))
        b = run_rule(rule, _build(n, seats, split), CountOptions(tie_seed="order"))
        assert render_json(a) == render_json(dataclasses.replace(b)), rule


def test_degenerate_elections_count_and_render() -> None:
    with pytest.raises(InputError, match="no valid ballot"):  # every paper blank: refused
        run_rule("ers97", build_ballots(list("ABC"), 1, [[]], [5]))
    cases = [
        build_ballots(list("AB"), 3, [[0], [1, 0]]),  # more seats than candidates
        build_ballots(list("ABCD"), 2, [[2, 1]]),  # one paper
        build_ballots(list("ABC"), 1, [[0, 1, 2]], withdrawn=[0, 1]),  # one candidate left
        build_ballots(["A"], 1, [[0]]),
    ]
    for ballots in cases:
        for rule in RULES:
            result = run_rule(rule, ballots, CountOptions(tie_seed="edge"))
            assert result.stages, rule
            assert len(result.elected) <= ballots.seats
            for render in RENDERERS.values():
                assert render(result)
            _assert_unfilled_reported(result)
