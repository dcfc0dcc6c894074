"""Issue 8: guard/doom constrained STV (Hill, Voting matters 9, 1998) under every rule."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from count.ballots import build_ballots
from count.blt import read_blt
from count.constraints import Constraint, Limit, check_feasible, parse_limits
from count.result import CountResult, fmt
from count.rules import RULES, run_rule
from count.rules.base import CountOptions
from omov import cli
from omov.errors import ExitCode, UsageError

# A, B, E, F are men, C is the only woman; 3 seats, at least one woman.
GUARD = build_ballots(
    list("ABCEF"), 3, [[0]] * 10 + [[1, 0]] * 6 + [[2, 1]] * 2 + [[3, 1]] * 4 + [[4, 3]] * 3
)
GUARD_CON = Constraint.build("gender", ["m", "m", "w", "m", "m"], [Limit("w", ">=", 1)])


def test_scottish_guard_and_doom_by_hand() -> None:
    """Worked by hand. 25 papers, quota ⌊25/4⌋ + 1 = 7. Stage 1: A (10) elected. Stage 2: A's
    surplus of 3 is non-transferable. Unconstrained, C (2) would go next; but C is the only
    woman, so she is *guarded* and F (3) is excluded instead (stage 3): E reaches 7 and is elected.
    Now one seat is left and it must go to a woman, so B is *doomed* and excluded (stage 4); C
    is then the only continuing candidate for the last seat (r. 52)."""
    r = run_rule("scottish", GUARD, CountOptions(constraint=GUARD_CON))
    assert r.elected == ("A", "E", "C")
    assert [(s.action, s.excluded) for s in r.stages[1:]] == [
        ("surplus", ()),
        ("exclusion", ("F",)),
        ("exclusion", ("B",)),
    ]
    assert [(e["stage"], e["event"], e["candidate"]) for e in r.constraint_events] == [
        (3, "guard", "C"),
        (4, "doom", "B"),
    ]
    assert fmt(r.stages[2].votes[3], 5) == "7.00000"
    unconstrained = run_rule("scottish", GUARD, CountOptions())
    assert unconstrained.elected == ("A", "B", "E")


@pytest.mark.parametrize("rule", list(RULES))
def test_doom_under_every_rule(rule: str) -> None:
    """2 seats, at least one woman (C, D): once A is elected every man is doomed at once."""
    b = build_ballots(
        list("ABCDE"), 2, [[0, 1]] * 10 + [[1, 0]] * 6 + [[2, 1]] * 3 + [[3, 1]] * 2 + [[4, 1]] * 4
    )
    con = Constraint.build("gender", ["m", "m", "w", "w", "m"], [Limit("w", ">=", 1)])
    r = run_rule(rule, b, CountOptions(constraint=con, tie_seed="t"))
    assert r.elected == ("A", "C")
    assert {(e["event"], e["candidate"]) for e in r.constraint_events} == {
        ("doom", "B"),
        ("doom", "E"),
    }
    assert run_rule(rule, b, CountOptions(tie_seed="t")).elected == ("A", "B")


@pytest.mark.parametrize("rule", list(RULES))
def test_guard_under_every_rule(rule: str) -> None:
    r = run_rule(rule, GUARD, CountOptions(constraint=GUARD_CON, tie_seed="t"))
    assert "C" in r.elected and len(r.elected) == 3
    assert any(e["event"] in ("guard", "doom") for e in r.constraint_events)


def _non_binding(result: CountResult, groups: list[str]) -> Constraint:
    k = sum(1 for n in result.elected if groups[result.candidates.index(n)] == "a")
    return Constraint.build("g", groups, [Limit("a", ">=", max(k - 1, 0)), Limit("a", "<=", k + 1)])


def _strip(result: CountResult) -> CountResult:
    return dataclasses.replace(result, constraint=None, constraint_events=())


def test_non_binding_constraint_gives_the_same_count_stage_for_stage(refdata: Path) -> None:
    root = refdata / "stv"
    if not root.is_dir():
        pytest.skip(f"reference data not found at {root}")
    files = [(p, "scottish") for p in sorted((root / "scottish" / "curated").glob("*.blt"))]
    files += [(p, "ers97") for p in sorted((root / "ers97").glob("*.blt"))]
    files += [(p, "meek") for p in sorted((root / "meek").glob("so_20*.blt"))]
    files += [(p, "meek-prf") for p in sorted((root / "meek" / "droop_reference").glob("*.blt"))]
    for path, rule in files:
        b = read_blt(path, notes_after_title=True)  # M135 ends with ERBS notes
        groups = ["a" if i % 2 else "b" for i in range(b.n_candidates)]
        plain = run_rule(rule, b, CountOptions(tie_seed="nb"))
        con = _non_binding(plain, groups)
        constrained = run_rule(rule, b, CountOptions(tie_seed="nb", constraint=con))
        assert constrained.constraint_events == (), path.name
        assert _strip(constrained) == plain, path.name


def test_infeasible_constraint_stops_before_the_count() -> None:
    con = Constraint.build("gender", ["m", "m", "w", "m", "m"], [Limit("w", ">=", 2)])
    with pytest.raises(UsageError, match="cannot be met"):
        check_feasible(con, [0, 1, 2, 3, 4], 3)
    with pytest.raises(UsageError):
        parse_limits(["gender:woman>=2", "age:young<=1"])
    with pytest.raises(UsageError):
        parse_limits(["woman at least 2"])


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(3, 7),
    seats=st.integers(1, 4),
    rows=st.lists(
        st.tuples(st.lists(st.integers(0, 6), min_size=1, max_size=6), st.integers(1, 20)),
        min_size=1,
        max_size=25,
    ),
    groups=st.lists(st.sampled_from("ab"), min_size=7, max_size=7),
    lo=st.integers(0, 3),
    hi=st.integers(0, 4),
)
def test_constrained_results_satisfy_the_constraint(
    n: int,
    seats: int,
    rows,
    groups,  # type: ignore[no-untyped-def]
    lo: int,
    hi: int,
) -> None:
    names = [f"C{i}" for i in range(n)]
    b = build_ballots(names, seats, [[c % n for c in r] for r, _ in rows], [w for _, w in rows])
    con = Constraint.build("g", groups[:n], [Limit("a", ">=", lo), Limit("a", "<=", hi)])
    try:
        check_feasible(con, list(range(n)), seats)
    except UsageError:
        return
    for rule in RULES:
        r = run_rule(rule, b, CountOptions(tie_seed="h", constraint=con))
        a = sum(1 for x in r.elected if groups[names.index(x)] == "a")
        assert a <= hi, rule
        assert len(r.elected) == min(seats, n), rule  # issue 17: meek too, when constrained
        assert a >= lo, rule
        for s in r.stages:
            assert sum(s.votes) + s.non_transferable + s.loss == b.valid * 10**r.dp


def test_cli_constraint_run_and_verify(tmp_path: Path) -> None:
    ballots = tmp_path / "b.blt"
    ballots.write_text(
        "5 3\n10 1 0\n6 2 1 0\n2 3 2 0\n4 4 2 0\n3 5 4 0\n0\n"
        '"A"\n"B"\n"C"\n"E"\n"F"\n"constrained"\n',
        "utf-8",
    )
    cands = tmp_path / "candidates.csv"
    cands.write_text("name,gender\nA,man\nB,man\nC,woman\nE,man\nF,man\n", "utf-8")
    out = tmp_path / "o"
    assert (
        cli.run(
            [
                "count",
                "run",
                str(ballots),
                "--rule",
                "scottish",
                "--out",
                str(out),
                "--constraint",
                "gender:woman>=1",
                "--candidates",
                str(cands),
            ]
        )
        == 0
    )
    doc = json.loads((out / "result.json").read_text("utf-8"))
    assert doc["elected"] == ["A", "E", "C"]
    assert doc["constraint"]["limits"] == ["woman>=1"]
    assert [e["event"] for e in doc["constraint_events"]] == ["guard", "doom"]
    assert "Guards and dooms" in (out / "result.html").read_text("utf-8")
    assert "Constraint,gender: woman>=1" in (out / "result.csv").read_text("utf-8")
    assert cli.run(["count", "verify", str(out)]) == 0
    assert (
        cli.run(
            [
                "count",
                "run",
                str(ballots),
                "--rule",
                "scottish",
                "--out",
                str(out),
                "--constraint",
                "gender:woman>=2",
                "--candidates",
                str(cands),
            ]
        )
        == ExitCode.USAGE
    )
