"""Issue 17 (2-4): BLT files as other tools write them, arithmetic that cannot wrap, inputs refused
with file + line + fix, unfilled seats and ties by lot said in every result format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from count.ballots import build_ballots
from count.blt import parse_blt, read_blt
from count.render import RENDERERS
from count.result import CountResult
from count.rules import RULES, run_rule
from count.rules.base import CountOptions
from omov import cli
from omov.blt import MAX_TOTAL_WEIGHT
from omov.errors import ExitCode

NAMES = '"A"\n"B"\n"C"\n"T"\n'


def _run(tmp_path: Path, text: str, *args: str) -> tuple[int, Path]:
    path = tmp_path / "b.blt"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = cli.run(["count", "run", str(path), "--out", str(out), *args])
    return code, out


# ---- real ward files in the dialects they are published in -------------------------------------


def _rewrite_names(text: str, style: str) -> str:
    """The canonical ward file with its name lines as another publisher writes them."""
    head, _, tail = text.partition("\n0\n")
    lines = [ln for ln in tail.splitlines() if ln.strip()]
    out = []
    for ln in lines[:-1]:
        name = ln.strip().strip('"')
        m = re.match(r"^(.*) \((\w+)\)$", name)
        person, party = (m.group(1), m.group(2)) if m else (name, "")
        if style == "party":  # "Eddie ANDERSON" "Independent"
            out.append(f'"{person}" "{party}"')
        else:  # bare name line
            out.append(name)
    return head + "\n0\n" + "\n".join(out) + "\n" + lines[-1].strip('"') + "\n"


@pytest.mark.parametrize("style", ["party", "bare"])
def test_curated_wards_elect_the_official_names_in_every_dialect(refdata: Path, style: str) -> None:
    """A party as a second quoted string (or bare name lines) must not shift the names: every
    curated 2017 ward elects the official people, the party kept as the affiliation."""
    folder = refdata / "stv" / "scottish" / "curated"
    files = sorted(folder.glob("*.blt"))
    if not files:
        pytest.skip("no curated wards")
    for path in files:
        expect = json.loads(path.with_suffix(".expected.json").read_text("utf-8"))
        text = _rewrite_names(path.read_text("utf-8"), style)
        b = parse_blt(text.encode(), path.name)
        r = run_rule("scottish", b, CountOptions(tie_seed="g"))
        official = {re.sub(r" \(\w+\)$", "", n) for n in expect["elected_set"]}
        if style == "party":
            assert set(r.elected) == official, path.name
            assert all(b.affiliations), path.name
        else:
            assert set(r.elected) == set(expect["elected_set"]), path.name


# ---- arithmetic that cannot wrap -------------------------------------------------------------


@pytest.mark.parametrize("rule", list(RULES))
def test_weights_near_the_bound_count_exactly(rule: str) -> None:
    """Weights totalling 10^15 (past 2^63 once scaled by 10^5 or 10^9) give the same result as
    the same election scaled down: no wrap anywhere."""
    rows = [[0, 1], [1, 2], [2], [2, 0], [1]]
    small = [40, 30, 15, 10, 5]
    k = MAX_TOTAL_WEIGHT // sum(small)
    a = run_rule(rule, build_ballots(list("ABC"), 2, rows, small), CountOptions(tie_seed="w"))
    b = run_rule(
        rule,
        build_ballots(list("ABC"), 2, rows, [w * k for w in small]),
        CountOptions(tie_seed="w"),
    )
    assert a.elected == b.elected
    for s in b.stages:
        assert min(s.votes) >= 0
        assert sum(s.votes) + s.non_transferable + s.loss == b.valid * 10**b.dp


@pytest.mark.parametrize(
    ("ballots", "line", "what"),
    [
        ("9223372036854775807 1 0\n9223372036854775807 2 0\n", 2, "bound"),  # 2 × (2^63 − 1)
        ("18446744073709551616 1 0\n", 2, "bound"),  # 2^64: wraps to 0 in 64 bits
        ("1 1 0\n-5 2 0\n", 3, "whole number"),
        ("1 1 0\n2.5 2 0\n", 3, "whole number"),
        ("1 0\n2 0\n", 2, "no valid ballot"),
    ],
)
def test_bad_weights_and_no_valid_ballot_exit_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ballots: str, line: int, what: str
) -> None:
    code, out = _run(tmp_path, "3 1\n" + ballots + "0\n" + NAMES, "--rule", "ers97")
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"b.blt:{line}:" in err and what in err and "fix:" in err
    assert not out.exists()


def test_seats_zero_in_the_header_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _run(tmp_path, "3 0\n1 1 0\n0\n" + NAMES, "--rule", "scottish")
    assert code == ExitCode.USAGE
    assert "b.blt:1:" in capsys.readouterr().err


def test_fewer_name_lines_never_elect_the_title(tmp_path: Path) -> None:
    code, _ = _run(tmp_path, '3 1\n5 3 0\n1 1 0\n0\n"A"\n"B"\n"Title"\n', "--rule", "ers97")
    assert code == ExitCode.USAGE


# ---- seats unfilled and ties by lot, in every format -----------------------------------------


def _formats(r: CountResult) -> dict[str, str]:
    return {name: render(r) for name, render in RENDERERS.items()}


@pytest.mark.parametrize("rule", list(RULES))
def test_more_seats_than_candidates_elects_all_with_a_note(rule: str) -> None:
    r = run_rule(rule, build_ballots(list("AB"), 3, [[0], [1, 0], [0, 1]]), CountOptions())
    assert set(r.elected) == {"A", "B"} and r.unfilled_seats == 1
    note = r.notes()[0]
    assert "only 2 candidate(s)" in note
    out = _formats(r)
    assert json.loads(out["result.json"])["notes"] == [note]
    for name in ("result.csv", "result.txt"):
        assert note in out[name], name
    assert "only 2 candidate(s) standing" in out["result.html"]


def test_meek_seat_left_unfilled_is_said_everywhere() -> None:
    """OpenSTV Meek elects nobody on no votes: B and C have none, so 1 of 2 seats stays empty."""
    r = run_rule("meek", build_ballots(list("ABC"), 2, [[0]] * 3), CountOptions(tie_seed="u"))
    assert r.elected == ("A",) and r.unfilled_seats == 1
    out = _formats(r)
    assert json.loads(out["result.json"])["unfilled_seats"] == 1
    assert "Seats left unfilled,1" in out["result.csv"]
    assert "Seats left unfilled: 1" in out["result.txt"]
    assert "<dt>Seats left unfilled</dt><dd>1</dd>" in out["result.html"]


def test_ers97_lot_exclusion_just_before_5_5_1_is_shown_where_it_acted() -> None:
    """A 5, B 2, C 2 (9 papers, 2 seats, quota 3.00). Stage 1: A elected; stage 2: A's surplus is
    non-transferable. B and C are equal at every point, so the exclusion is by lot; excluding one
    leaves as many continuing as places, so 5.5.1 elects the other at once — no stage 3 exists.
    The loser must appear as excluded at stage 2, with the lot recorded at stage 2. (At stage 2
    B and C also both reach the active-vote share 4.00 ÷ 2 of 5.1.7(b) for one place: a 5.6.2
    tie, none elected, recorded too.)"""
    b = build_ballots(list("ABC"), 2, [[0]] * 5 + [[1]] * 2 + [[2]] * 2)
    r = run_rule("ers97", b, CountOptions(tie_seed="lot"))
    assert len(r.stages) == 2
    last = r.stages[-1]
    (loser,) = last.excluded
    (winner,) = {"B", "C"} - {loser}
    assert r.elected == ("A", winner)
    lots = [(t.stage, t.kind, t.chosen) for t in r.ties if t.method == "lot (seed)"]
    assert lots == [(2, "exclusion", (loser,))]
    out = _formats(r)
    doc = json.loads(out["result.json"])
    assert doc["stages"][1]["excluded"] == [loser] and doc["stages"][1]["ties"]
    assert f'2,exclusion,"B, C",{loser},lot (seed)' in out["result.csv"]
    block = out["result.txt"].split("Stage 2:")[1].split("\n\n")[0]
    assert f"Excluded: {loser}" in block and "Tie: exclusion among B, C" in block
    html_stage = out["result.html"].split("<h2>Stages</h2>")[1].split("</li>")[1]
    assert f"excluded: {loser}" in html_stage
    assert f"Tie, exclusion: B, C → {loser} by lot (seed) (5.2.5)" in html_stage


@pytest.mark.parametrize("rule", list(RULES))
def test_every_lot_is_recorded_at_an_existing_stage(rule: str) -> None:
    b = build_ballots(list("ABCD"), 2, [[0]] * 4 + [[1]] * 2 + [[2]] * 2 + [[3]] * 2)
    r = run_rule(rule, b, CountOptions(tie_seed="s"))
    assert r.ties
    for t in r.ties:
        assert 1 <= t.stage <= len(r.stages)
    text = RENDERERS["result.txt"](r)
    assert text.count("  Tie: ") == len(r.ties)


def test_read_blt_keeps_affiliations(tmp_path: Path) -> None:
    p = tmp_path / "w.blt"
    p.write_text('2 1\n3 1 0\n1 2 0\n0\n"Eddie" "Independent"\n"Ann ""Red"" Lee" "Lab"\n"W"\n')
    b = read_blt(p)
    assert b.candidates == ("Eddie", 'Ann "Red" Lee')
    assert b.affiliations == ("Independent", "Lab")
