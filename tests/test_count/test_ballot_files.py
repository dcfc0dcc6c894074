"""Ballot files in: BLT (fast and fallback readers) and omov's CSV ballot file; ERS97 §6 classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from count.ballot_files import format_csv_ballots, load_ballots, read_csv_ballots
from count.ballots import UNCERTAIN, build_ballots
from count.blt import format_blt, parse_blt
from omov.errors import InputError

BLT = b"""4 2
-4
3 1 2 0
2 2 1 3 0
1 3 0
1 0
2 1 2 0
0
"Alice Smith"
"Bob"
"Carol \\"CJ\\" Jones"
"Dev"
"Branch committee 2026"
"""


def test_blt_weights_withdrawn_quoted_names_title_and_grouping() -> None:
    b = parse_blt(BLT, "t.blt")
    assert b.candidates == ("Alice Smith", "Bob", 'Carol "CJ" Jones', "Dev")
    assert b.title == "Branch committee 2026"
    assert b.seats == 2
    assert b.withdrawn == frozenset({3})
    assert b.valid == 8  # the blank paper (weight 1) is invalid
    assert b.invalid == {"no_first_preference": 1}
    assert sorted(b.rankings()) == [((0, 1), 5), ((1, 0, 2), 2), ((2,), 1)]


def test_withdrawn_candidates_are_passed_over() -> None:
    b = parse_blt(b'3 1\n-1\n2 1 2 0\n1 1 0\n0\n"A"\n"B"\n"C"\n"t"\n')
    assert b.rankings() == [((1,), 2)]
    assert b.invalid == {"no_first_preference": 1}


def test_equal_ranks_end_the_paper_and_repeats_are_dropped() -> None:
    text = b'3 1\n1 1=2 3 0\n1 2 1=3 0\n1 3 3 1 0\n0\n"A"\n"B"\n"C"\n"t"\n'
    b = parse_blt(text)
    assert b.invalid == {"first_preference_uncertain": 1}
    assert b.truncated == {"uncertain_or_missing_rank": 1, "repeated_candidate_dropped": 1}
    assert sorted(b.rankings()) == [((1,), 1), ((2, 0), 1)]


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        (b'3 1\n1 1 2\n0\n"A"\n"B"\n"C"\n', 2, "end with 0"),
        (b'3 1\n1 1 0\n2 4 0\n0\n"A"\n"B"\n"C"\n', 3, "out of range"),
        (b'3 1\n1 1 0\n2 x 0\n0\n"A"\n"B"\n"C"\n', 3, "bad candidate"),
        (b"3\n", 1, "first line"),
        (b'3 1\n1 1 0\n0\n"A"\n', 4, "3 name lines and a title line"),
    ],
)
def test_bad_blt_names_the_line(text: bytes, line: int, what: str) -> None:
    with pytest.raises(InputError) as err:
        parse_blt(text, "bad.blt")
    assert err.value.line == line
    assert what in err.value.message


rankings = st.lists(st.lists(st.integers(0, 5), min_size=0, max_size=7), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(rows=rankings.filter(any), weights=st.lists(st.integers(1, 5), min_size=40, max_size=40))
def test_fast_reader_equals_fallback_reader_and_csv(
    rows: list[list[int]], weights: list[int]
) -> None:
    w = weights[: len(rows)]
    names = [f"C{i}" for i in range(6)]
    text = format_blt(names, 2, rows, w, title="t")
    fast = parse_blt(text.encode())
    slow = parse_blt(text.replace("\n1 ", "\n(x) 1 ").encode())  # an id forces the fallback
    assert sorted(fast.rankings()) == sorted(slow.rankings())
    assert fast.invalid == slow.invalid
    assert fast.truncated == slow.truncated


def test_csv_ballot_file_classes(tmp_path: Path) -> None:
    p = tmp_path / "b.csv"
    p.write_text(
        '#omov-ballots format_version=1 seats=2 title="Branch committee"\n'
        "#withdrawn=Dev\n"
        "weight,Alice,Bob,Carol,Dev\n"
        "3,1,2,,\n"
        "1,2,,1,3\n"
        "2,,,,\n"  # blank: no first preference (invalid)
        "1,1,1,2,\n"  # two firsts: void for uncertainty (invalid)
        "1,1,3,,\n"  # rank 2 missing: ends after Alice
        "1,1,2,2,\n"  # two seconds: ends after Alice
        "4,2,,,\n"  # no '1': no first preference (invalid)
        "1,,,,1\n",  # only the withdrawn candidate: no valid first preference (invalid)
        encoding="utf-8",
    )
    b = read_csv_ballots(p)
    assert b.title == "Branch committee" and b.seats == 2 and b.withdrawn == frozenset({3})
    assert b.invalid == {"first_preference_uncertain": 1, "no_first_preference": 7}
    assert b.truncated == {"uncertain_or_missing_rank": 2}
    assert sorted(b.rankings()) == [((0,), 2), ((0, 1), 3), ((2, 0), 1)]
    assert b.valid == 6


def test_csv_round_trip_and_bad_cell(tmp_path: Path) -> None:
    rows, w = [[0, 2], [1], [2, 1, 0]], [2, 1, 4]
    p = tmp_path / "r.csv"
    p.write_text(format_csv_ballots(["A", "B", "C"], 1, rows, w, title="x, y"), encoding="utf-8")
    b = load_ballots(p)
    assert sorted(b.rankings()) == sorted(build_ballots(["A", "B", "C"], 1, rows, w).rankings())
    assert b.title == "x, y"
    p.write_text("#seats=1\nweight,A,B\n1,1,2\n1,one,\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_ballots(p)
    assert err.value.line == 4


def test_build_ballots_in_memory() -> None:
    b = build_ballots(["A", "B", "C"], 1, [[0, 1], [2], [1, UNCERTAIN, 0], [0, 1]])
    assert sorted(b.rankings()) == [((0, 1), 2), ((1,), 1), ((2,), 1)]
    assert b.truncated == {"uncertain_or_missing_rank": 1}
    assert b.prefs.dtype == np.int32 and b.prefs[:, -1].max() == -1


@settings(max_examples=60, deadline=None)
@given(
    n_cand=st.integers(2, 300),
    width=st.integers(1, 24),
    n_rows=st.integers(1, 200),
    seed=st.integers(0, 2**32 - 1),
)
def test_grouping_is_exact(n_cand: int, width: int, n_rows: int, seed: int) -> None:
    """Packed multi-word keys group exactly like a dict of tuples (many rows share prefixes)."""
    from count.ballots import group_rankings

    rng = np.random.default_rng(seed)
    base = rng.integers(-1, n_cand, size=(max(n_rows // 3, 1), width + 1)).astype(np.int32)
    prefs = base[rng.integers(0, base.shape[0], size=n_rows)].copy()
    prefs[rng.random(n_rows) < 0.3, -1] = rng.integers(-1, n_cand)  # near-duplicates
    weights = rng.integers(1, 5, size=n_rows).astype(np.int64)
    got_p, got_w = group_rankings(prefs, weights)
    want: dict[tuple[int, ...], int] = {}
    for row, w in zip(prefs.tolist(), weights.tolist(), strict=True):
        want[tuple(row)] = want.get(tuple(row), 0) + w
    assert {tuple(r): int(w) for r, w in zip(got_p.tolist(), got_w.tolist(), strict=True)} == want
    assert len(got_w) == len(want)
