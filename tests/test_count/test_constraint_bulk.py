"""Issue 17 (1): guard/doom under bulk exclusion (ERS97 5.2.5, Meek sure losers) and deferred
surpluses; every seat filled whenever a feasible slate exists, under every rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from count.ballots import build_ballots
from count.blt import read_blt
from count.constraints import Constraint, Limit, check_feasible
from count.result import CountResult, fmt
from count.rules import RULES, run_rule
from count.rules.base import CountOptions
from omov import cli
from omov.errors import UsageError

DUNDEE = "stv/scottish/curated/dundee_2017_ward2.blt"
WOMEN = {
    "Leah GANLEY (TUSC)",
    "Lynn HUTCHISON (LD)",
    "Kirsty Anne MCKENZIE (LD)",
    "Roisin SMITH (SNP)",
}


def _dundee(refdata: Path) -> Path:
    path = refdata / DUNDEE
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


def _women(result: CountResult) -> int:
    return sum(1 for n in result.elected if n in WOMEN)


def _excluded(result: CountResult) -> list[str]:
    return [n for s in result.stages for n in s.excluded]


def test_dundee_ward2_unconstrained_ers97_bulk_exclusion_by_hand(refdata: Path) -> None:
    """Worked by hand from the stage-2 sheet (hundredths): Kirsty 32.55 + Lynn 91.62 + Leah 104.17
    + Matheson 137.58 = 365.92, plus Roisin's deferred surplus 1269.98 − 1160.40 = 109.58, is
    475.50 ≤ Ferguson's 574.61: 5.2.5 excludes all four in stage 3, three of them women."""
    r = run_rule("ers97", read_blt(_dundee(refdata)), CountOptions())
    s2 = dict(zip(r.candidates, (fmt(v, 2) for v in r.stages[1].votes), strict=True))
    assert (s2["Kirsty Anne MCKENZIE (LD)"], s2["Lynn HUTCHISON (LD)"]) == ("32.55", "91.62")
    assert (s2["Leah GANLEY (TUSC)"], s2["Gordon William MATHESON (Grn)"]) == ("104.17", "137.58")
    assert (s2["Roisin SMITH (SNP)"], s2["Tom FERGUSON (Ind)"]) == ("1269.98", "574.61")
    assert set(r.stages[2].excluded) == WOMEN - {"Roisin SMITH (SNP)"} | {
        "Gordon William MATHESON (Grn)"
    }
    assert _women(r) == 1


def test_dundee_ward2_women_at_least_2_under_ers97_by_hand(refdata: Path) -> None:
    """With woman ≥ 2 and Roisin elected at stage 2, one more of Leah, Lynn, Kirsty is needed, so
    the four-candidate group of stage 3 may not be excluded as a whole. The largest group that
    may: {Kirsty, Lynn} — but 32.55 + 91.62 + 109.58 = 233.75 > Leah's 104.17, and {Kirsty}:
    32.55 + 109.58 = 142.13 > Lynn's 91.62; so no group, the surplus is not deferred (5.2.2) and
    stage 3 transfers Roisin's surplus. Kirsty, Lynn are then excluded one at a time; Leah is
    guarded (the last woman) and never excluded; once a man (Malone) takes the third seat every
    remaining man is doomed, and Leah fills the fourth: 4 elected, 2 women."""
    r = run_rule(
        "ers97", read_blt(_dundee(refdata)), CountOptions(constraint=_dundee_constraint(refdata))
    )
    assert r.stages[2].action == "surplus" and r.stages[2].subjects == ("Roisin SMITH (SNP)",)
    assert r.stages[3].excluded == ("Kirsty Anne MCKENZIE (LD)",)
    assert r.stages[4].excluded == ("Lynn HUTCHISON (LD)",)
    assert "Leah GANLEY (TUSC)" not in _excluded(r)
    assert ("guard", "Leah GANLEY (TUSC)") in {
        (e["event"], e["candidate"]) for e in r.constraint_events
    }
    assert set(r.elected) == {
        "Alan ROSS (SNP)",
        "Roisin SMITH (SNP)",
        "Charlie MALONE (Lab)",
        "Leah GANLEY (TUSC)",
    }


def _dundee_constraint(refdata: Path) -> Constraint:
    b = read_blt(_dundee(refdata))
    groups = ["woman" if n in WOMEN else "man" for n in b.candidates]
    return Constraint.build("gender", groups, [Limit("woman", ">=", 2)])


@pytest.mark.parametrize("rule", list(RULES))
def test_dundee_ward2_cli_every_rule_fills_4_seats_with_2_women(
    rule: str, refdata: Path, tmp_path: Path
) -> None:
    path = _dundee(refdata)
    names = read_blt(path).candidates
    cands = tmp_path / "candidates.csv"
    cands.write_text(
        "name,gender\n" + "".join(f'"{n}",{"woman" if n in WOMEN else "man"}\n' for n in names),
        "utf-8",
    )
    out = tmp_path / "o"
    argv = ["count", "run", str(path), "--rule", rule, "--out", str(out)]
    argv += ["--constraint", "gender:woman>=2", "--candidates", str(cands), "--tie-seed", "t"]
    assert cli.run(argv) == 0
    doc = json.loads((out / "result.json").read_text("utf-8"))
    assert len(doc["elected"]) == 4
    assert sum(1 for n in doc["elected"] if n in WOMEN) == 2
    guarded = {e["candidate"] for e in doc["constraint_events"] if e["event"] == "guard"}
    for s in doc["stages"]:
        assert not guarded & set(s["excluded"]) - {
            e["candidate"] for e in doc["constraint_events"] if e["event"] == "doom"
        }
    assert cli.run(["count", "verify", str(out)]) == 0


GROUPS = "abc"


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(2, 7),
    seats=st.integers(1, 5),
    rows=st.lists(
        st.tuples(st.lists(st.integers(0, 6), min_size=0, max_size=6), st.integers(1, 40)),
        min_size=1,
        max_size=25,
    ),
    groups=st.lists(st.sampled_from(GROUPS), min_size=7, max_size=7),
    limits=st.lists(
        st.tuples(st.sampled_from(GROUPS), st.sampled_from([">=", "<=", "="]), st.integers(0, 4)),
        min_size=1,
        max_size=3,
    ),
)
def test_constraint_holds_and_seats_fill_whenever_feasible(  # type: ignore[no-untyped-def]
    n: int, seats: int, rows, groups, limits
) -> None:
    """Random small elections and constraints: under every rule a feasible constraint is met,
    every seat (up to the number of candidates) is filled, and no candidate guarded at a stage
    is excluded later unless doomed; an infeasible one stops before the count (exit 2)."""
    names = [f"C{i}" for i in range(n)]
    b = build_ballots(names, seats, [[c % n for c in r] for r, _ in rows], [w for _, w in rows])
    assume(b.valid > 0)  # no valid ballot is refused before any rule runs (test_input_limits)
    con = Constraint.build("g", groups[:n], [Limit(g, op, k) for g, op, k in limits])
    try:
        check_feasible(con, list(range(n)), seats)
    except UsageError:
        assert not con.feasible([], list(range(n)), min(seats, n))
        return
    for rule in RULES:
        r = run_rule(rule, b, CountOptions(tie_seed="h", constraint=con))
        won = [groups[names.index(x)] for x in r.elected]
        assert len(r.elected) == min(seats, n), (rule, r.elected)
        for g in GROUPS:
            k = won.count(g)
            assert con.minimum.get(g, 0) <= k <= con.maximum.get(g, 99), (rule, g, won)
        doomed = {e["candidate"] for e in r.constraint_events if e["event"] == "doom"}
        guarded: set[str] = set()
        for s in r.stages:
            guarded |= {
                e["candidate"]
                for e in r.constraint_events
                if e["event"] == "guard" and e["stage"] <= s.number
            }
            assert not (guarded & set(s.excluded)) - doomed, (rule, s.number)
