"""omov/blt.py: the one BLT reader/writer, against the dialects other counters and publishers write
(issue 17). Fixtures are reconstructed in the shape of each dialect with made-up names."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omov.blt import (
    MAX_TOTAL_WEIGHT,
    UNCERTAIN,
    blt_lines,
    parse_blt,
    parse_name_line,
    quote,
)
from omov.errors import InputError

BALLOTS = "3 2\n4 1 2 0\n3 2 3 0\n2 3 0\n1 3 1 0\n0\n"

# Public Scottish ward files (one style): a party as a second quoted string on the name line.
SCOTTISH_PARTY = BALLOTS + (
    '"Eddie ANDERSEN" "Independent"\n'
    '"Mary HAMILL" "Independent"\n'
    '"Ruth KERR" "Scottish Family Party"\n'
    '"Example 2022 Ward 9"\n'
)
# Public Scottish ward files (another style): the party inside the name in doubled quotes, and a
# bare (unquoted) title.
SCOTTISH_DOUBLED = BALLOTS + (
    '"Neil ALEXANDRE ""Scottish Liberal Democrats"""\n'
    '"Amber DUNLOP ""Independent"""\n'
    '"Sandy KEITHLEY ""Independent"""\n'
    "Ward 6 - Example North\n"
)
# Older Scottish files: bare names and title, CRLF line ends.
SCOTTISH_BARE = (
    BALLOTS + "Stevie GRAHAM (Lab)\nRuth HOGGE (Con)\nTom JOHNS (SNP)\nWard 4\n"
).replace("\n", "\r\n")
# OpenSTV / ERS: one quoted name a line, quoted title, withdrawn line.
OPENSTV = '3 2\n-2\n4 1 2 0\n3 2 3 0\n2 3 0\n1 3 1 0\n0\n"Ann"\n"Ben"\n"Cy"\n"Club 2024"\n'
# Droop: comments, ballot ids, equal ranks, skipped ranks, backslash escapes.
DROOP = (
    "# a Droop-style file\n3 2  # header\n(a1) 4 1 2 0\n(a2) 3 2=3 1 0\n(a3) 2 3 - 1 0\n0\n"
    '"Ann \\"Red\\" Lee"  # the name\n"Ben"\n"Cy"\n"Droop test"\n'
)


def test_scottish_party_as_second_string_is_an_affiliation() -> None:
    f = parse_blt(SCOTTISH_PARTY.encode())
    assert f.names == ("Eddie ANDERSEN", "Mary HAMILL", "Ruth KERR")
    assert f.affiliations == ("Independent", "Independent", "Scottish Family Party")
    assert f.title == "Example 2022 Ward 9"


def test_scottish_doubled_quotes_and_bare_title() -> None:
    f = parse_blt(SCOTTISH_DOUBLED.encode())
    assert f.names[0] == 'Neil ALEXANDRE "Scottish Liberal Democrats"'
    assert f.names[1] == 'Amber DUNLOP "Independent"'
    assert f.title == "Ward 6 - Example North"
    assert f.affiliations == ("", "", "")


def test_bare_names_with_crlf() -> None:
    f = parse_blt(SCOTTISH_BARE.encode())
    assert f.names == ("Stevie GRAHAM (Lab)", "Ruth HOGGE (Con)", "Tom JOHNS (SNP)")
    assert f.title == "Ward 4"
    assert f.rankings() == Counter({(1, 2): 4, (2, 3): 3, (3,): 2, (3, 1): 1})


def test_every_dialect_gives_the_same_ballots() -> None:
    expect = Counter({(1, 2): 4, (2, 3): 3, (3,): 2, (3, 1): 1})
    for text in (SCOTTISH_PARTY, SCOTTISH_DOUBLED, SCOTTISH_BARE, OPENSTV):
        f = parse_blt(text.encode())
        assert (f.n_candidates, f.seats, f.rankings()) == (3, 2, expect)
    assert parse_blt(OPENSTV.encode()).withdrawn == (1,)


def test_droop_comments_ids_equal_and_skipped_ranks() -> None:
    f = parse_blt(DROOP.encode())
    assert f.names == ('Ann "Red" Lee', "Ben", "Cy")
    assert [r[:3] for r in f.prefs.tolist()] == [[0, 1, -1], [UNCERTAIN, 0, -1], [2, UNCERTAIN, 0]]
    assert f.weights.tolist() == [4, 3, 2]


def test_erbs_notes_after_the_title_need_consent() -> None:
    text = BALLOTS + '"A"\n"B"\n"C"\n"M1: Gen"\n"Author line"\nFirst Prefs\n 4 3 3\n'
    with pytest.raises(InputError, match="more name lines") as err:
        parse_blt(text.encode(), "m.blt")
    assert err.value.line == 11
    assert parse_blt(text.encode(), notes_after_title=True).title == "M1: Gen"


@pytest.mark.parametrize(
    ("tail", "line", "what"),
    [
        ('"A"\n"B"\n"T"\n', 9, "is a name or the title missing"),  # a name missing: refused
        ('"A"\n"B"\n', 8, "found 2 line"),
        ('"A"\n"B"\n"C"\n"D"\n"T"\n', 11, "more name lines"),
        ('"A"\n"A"\n"C"\n"T"\n', 7, "appears twice"),
        ('"A" "x" "y"\n"B"\n"C"\n"T"\n', 7, "at most one affiliation"),
        ('"A\n"B"\n"C"\n"T"\n', 7, "not closed"),
        ('"A" x\n"B"\n"C"\n"T"\n', 7, "unexpected text"),
    ],
)
def test_bad_name_sections_name_the_line(tail: str, line: int, what: str) -> None:
    with pytest.raises(InputError, match=what) as err:
        parse_blt((BALLOTS + tail).encode(), "n.blt")
    assert err.value.line == line and err.value.fix


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("3 0\n1 1 0\n0\n", 1, "0 seats"),
        ("0 1\n0\n", 1, "0 candidates"),
        ("2 1\n1 1 0\n-3 1 0\n0\n", 3, "not a whole number"),
        ("2 1\n1 1 0\n1.5 1 0\n0\n", 3, "not a whole number"),
        ("2 1\n1 1 0\n(x) -1 2 0\n0\n", 3, "not a whole number"),
        ("2 1\n99999999999999999999 1 0\n0\n", 2, "bound"),  # saturates int64 in numpy
        (f"2 1\n(x) {MAX_TOTAL_WEIGHT + 1} 1 0\n0\n", 2, "bound"),
        (f"2 1\n{MAX_TOTAL_WEIGHT} 1 0\n{MAX_TOTAL_WEIGHT} 2 0\n0\n", 2, "bound"),
    ],
)
def test_bad_numbers_are_refused_with_the_line(text: str, line: int, what: str) -> None:
    with pytest.raises(InputError, match=what) as err:
        parse_blt((text + '"A"\n"B"\n"C"\n"T"\n').encode(), "w.blt")
    assert err.value.line == line


@pytest.mark.parametrize(
    ("line", "name", "party"),
    [
        ('"Ann ""Red"" Smith"', 'Ann "Red" Smith', ""),
        ('"Ann \\"Red\\" Smith"', 'Ann "Red" Smith', ""),
        ('"C:\\\\x\\y"', "C:\\x\\y", ""),
        ('  "Eddie" "Ind"  # comment', "Eddie", "Ind"),
        ('"Eddie""Ind"', 'Eddie"Ind', ""),  # adjacent: a doubled quote, not two strings
        ("Bare Name", "Bare Name", ""),
        ("Ward #4 - North", "Ward #4 - North", ""),  # a bare line is never cut at '#'
    ],
)
def test_name_line_forms(line: str, name: str, party: str) -> None:
    assert parse_name_line(line, "p", 1) == (name, party)


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12
)


@settings(max_examples=300, deadline=None)
@given(
    cands=st.lists(names, min_size=1, max_size=5, unique=True),
    parties=st.lists(st.one_of(st.just(""), names), min_size=5, max_size=5),
    title=names,
    rows=st.lists(
        st.tuples(st.lists(st.integers(1, 5), max_size=5), st.integers(0, 10**6)), max_size=8
    ),
)
def test_writer_round_trips_through_the_reader(cands, parties, title, rows) -> None:  # type: ignore[no-untyped-def]
    n = len(cands)
    groups = [([c for c in r if c <= n], w) for r, w in rows]
    text = "".join(blt_lines(groups, cands, 1, title, affiliations=parties[:n]))
    f = parse_blt(text.encode())
    assert f.names == tuple(cands)
    assert f.affiliations == tuple(parties[:n])
    assert f.title == title
    expect: Counter[tuple[int, ...]] = Counter()
    for r, w in groups:
        expect[tuple(r)] += w
    assert +f.rankings() == +expect


def test_quote_flattens_line_breaks_and_escapes() -> None:
    assert quote('a "b"\nc\\') == '"a ""b"" c\\\\"'
