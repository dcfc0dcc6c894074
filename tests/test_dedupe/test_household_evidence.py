# ruff: noqa: E501  (CSV fixtures are clearer on one line each)
"""Evidence that tells one person's mistyped records from a household's: numbers a few digits
apart (Number.NEAR), a shared mailbox in someone else's name (Email.SHARED) or in both
records' (names_both), and a 1 January put in for an unknown birthday (Dob.STAND_IN).

Each level is pinned where it is made (``number_level``, ``numbers_far``, ``mailbox_evidence``,
``dob_level``, ``dob_compatible_one``) and where it decides (``pair_rules``, the clustering).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import DamerauLevenshtein

import dedupe
from dedupe.cluster import constrained_clusters
from dedupe.compare import (
    ADJACENT_SPAN,
    compare,
    consecutive_numbers,
    dob_compatible_one,
    number_level,
    numbers_far,
    record_arrays,
)
from dedupe.levels import (
    Dob,
    Email,
    Field,
    FirstName,
    LastName,
    Number,
    Phone,
    Postcode,
)
from dedupe.pipeline import Result
from dedupe.reasons import Override, Refusal
from dedupe.rules import pair_rules
from dedupe.strings import near_one

from .data import level_row, population

TODAY = date(2026, 11, 25)
HEADER = "Member ID,Labour Membership No,First Name,Last Name,Date of Birth,Email,Phone,Address Line 1,Town,Postcode\n"

#: Other members (no shared address, number or email with anyone): enough Junes, Madhavs,
#: Robins and Sydneys that those spellings are given names of the data, as in any real export.
POPULATION = population(
    [
        ("June", "Abbott"),
        ("June", "Baines"),
        ("June", "Carver"),
        ("Madhav", "Dunn"),
        ("Madhav", "Ellis"),
        ("Madhav", "Finch"),
        ("Robin", "Gough"),
        ("Robin", "Hale"),
        ("Robin", "Irwin"),
        ("Sydney", "Jarvis"),
        ("Sydney", "Kemp"),
        ("Sydney", "Lowe"),
    ]
)


def _run(tmp_path: Path, files: dict[str, str]) -> Result:
    paths = []
    for name, body in files.items():
        p = tmp_path / f"{name}.csv"
        p.write_text(HEADER + body, encoding="utf-8")
        paths.append(p)
    return dedupe.run(paths, options=dedupe.Options(today=TODAY), workers=1).result


def _record(res: Result, key: tuple[str, int]) -> int:
    r = res.prep.records
    hit = np.flatnonzero(
        (r["source_org"] == key[0]).to_numpy() & (r["row_id"] == key[1]).to_numpy()
    )
    assert len(hit) == 1, key
    return int(hit[0])


def _pair_row(res: Result, x: tuple[str, int], y: tuple[str, int]) -> int:
    a, b = _record(res, x), _record(res, y)
    i, j = res.pairs["i"], res.pairs["j"]
    hit = np.flatnonzero(((i == a) & (j == b)) | ((i == b) & (j == a)))
    assert len(hit) == 1, f"{x} and {y} are not a candidate pair"
    return int(hit[0])


def _pairlevel_row(res: Result, x: tuple[str, int], y: tuple[str, int]) -> np.ndarray:
    out: np.ndarray = res.pairs["levels"][_pair_row(res, x, y)]
    return out


def _names_both(res: Result, x: tuple[str, int], y: tuple[str, int]) -> tuple[int, bool]:
    """(email level, the mailbox names both records) of one candidate pair, from the run's
    records through ``mailbox_evidence`` itself."""
    from dedupe.mailbox import given_names, mailbox_evidence

    A = record_arrays(res.prep.records)
    i, j = res.pairs["i"], res.pairs["j"]
    levels = compare(A, i, j)
    both = mailbox_evidence(A, i, j, levels, given_names(A))
    k = _pair_row(res, x, y)
    return int(levels[k, Field.EMAIL]), bool(both[k])


# --- Membership numbers: 2-3 edits apart is one number mistyped, 4+ is another number. ---


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """One normalised record, copied to make records that differ only in their number."""
    path = tmp_path_factory.mktemp("template") / "north.csv"
    path.write_text(HEADER + "N1,1000001,Ann,Abbott,01/02/1970,,,,,\n", encoding="utf-8")
    records: pd.DataFrame = dedupe.run([path], workers=1).result.prep.records
    return records


def _number_level(template: pd.DataFrame, a: str, b: str) -> int:
    r = pd.concat([template, template], ignore_index=True)
    r["number"] = [a, b]
    return int(number_level(record_arrays(r), np.array([0]), np.array([1]))[0])


@pytest.mark.parametrize(
    ("a", "b", "level", "far"),
    [
        ("1234567", "1234567", "EXACT", False),
        ("1234567", "1234576", "ONE_EDIT", False),  # swapped digits
        ("1234567", "1294587", "NEAR", False),  # two digits wrong
        ("1234567", "1294581", "NEAR", False),  # three digits wrong
        ("7941011", "77914011", "NEAR", False),  # an inserted digit and a swap
        ("1234567", "12834557", "NEAR", False),  # an inserted digit and a wrong one
        ("0012345", "1234500", "NEAR", False),  # 4 edits, 2 once the padding zeros go
        ("1234567", "9294581", "DIFFERENT", True),  # four digits wrong
        ("1234567", "7654321", "DIFFERENT", True),
        ("4000002", "4000013", "NEAR", False),  # sequential-ish: never a veto
    ],
)
def test_number_level_and_numbers_far_agree_on_near_and_different(
    template: pd.DataFrame, a: str, b: str, level: str, far: bool
) -> None:
    assert _number_level(template, a, b) == _number_level(template, b, a) == Number[level]
    assert numbers_far(a, b) is far and numbers_far(b, a) is far


_DIGITS = st.text(alphabet="0123456789", min_size=7, max_size=8)


@st.composite
def _mistyped(draw: st.DrawFn) -> tuple[str, str]:
    """A number and a copy with a few digits changed, lost or added."""
    a = draw(_DIGITS)
    b = list(a)
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(["sub", "del", "ins", "swap"]))
        k = draw(st.integers(0, max(len(b) - 1, 0)))
        d = draw(st.sampled_from("0123456789"))
        if op == "sub" and b:
            b[k] = d
        elif op == "del" and len(b) > 1:
            del b[k]
        elif op == "ins":
            b.insert(k, d)
        elif op == "swap" and k + 1 < len(b):
            b[k], b[k + 1] = b[k + 1], b[k]
    return a, "".join(b)


@settings(max_examples=300, deadline=None)
@given(pair=_mistyped())
@example(pair=("0000000", "00000"))  # the same once the padding goes: 2 edits raw, 0 unpadded
@example(pair=("00012345", "012345"))
@example(pair=("0012345", "1234500"))
def test_near_iff_two_to_three_edits_apart(template: pd.DataFrame, pair: tuple[str, str]) -> None:
    a, b = pair
    raw = DamerauLevenshtein.distance(a, b)
    unpadded = DamerauLevenshtein.distance(a.lstrip("0"), b.lstrip("0"))
    edits = min(raw, unpadded)
    level = _number_level(template, a, b)
    if a == b:
        assert level == Number.EXACT
    elif edits <= 1 and consecutive_numbers(a, b, ADJACENT_SPAN):
        assert level == Number.ADJACENT  # the next member of a family, or a typo
    elif edits <= 1:
        assert level == Number.ONE_EDIT
    elif not near_one(a, b, 3) and not near_one(a.lstrip("0"), b.lstrip("0"), 3):
        # the shapes a mistyped number shows (strings.within_edits); a digit moved inside
        # the number with another slip counts as another number, the cautious reading
        assert level == Number.DIFFERENT
    elif consecutive_numbers(a, b):
        assert level == Number.DIFFERENT  # a family's numbers issued together
    else:
        assert edits <= 3 and level == Number.NEAR
    assert numbers_far(a, b) == (level == Number.DIFFERENT)


@settings(max_examples=500, deadline=None)
@given(pair=_mistyped())
def test_near_one_is_never_nearer_than_the_distance_and_exact_for_typing_slips(
    pair: tuple[str, str],
) -> None:
    a, b = pair
    dist = DamerauLevenshtein.distance(a, b)
    assert not near_one(a, b, 3) or dist <= 3
    hamming = sum(x != y for x, y in zip(a, b, strict=False))
    if len(a) == len(b) and hamming <= 3:
        assert near_one(a, b, 3)  # substitutions only: always found


@pytest.mark.parametrize(("a", "b"), [("1234567", "2345678"), ("2101010", "1210101")])
def test_a_shifted_number_is_near(template: pd.DataFrame, a: str, b: str) -> None:
    assert DamerauLevenshtein.distance(a, b) == 2 and not numbers_far(a, b)
    assert _number_level(template, a, b) == Number.NEAR


def test_near_numbers_are_no_veto_but_different_ones_are() -> None:
    same_person = dict(
        first_name=FirstName.EXACT,
        last_name=LastName.EXACT,
        date_of_birth=Dob.EXACT,
        postcode=Postcode.EXACT,
    )
    assert pair_rules(level_row(number=Number.NEAR, **same_person))[0][0] == ""
    assert (
        pair_rules(level_row(number=Number.DIFFERENT, **same_person))[0][0] == Refusal.NUMBERS_FAR
    )
    # Overwhelming evidence (the same full name, birthday and home, a shared email) still
    # outweighs numbers 4+ edits apart, and the merge is queued as an override.
    reasons, override = pair_rules(
        level_row(number=Number.DIFFERENT, email=Email.EXACT, **same_person)
    )
    assert (reasons[0], override[0]) == ("", Override.NUMBER)


def test_clustering_joins_near_numbers_and_refuses_far_ones() -> None:
    """The clustering's own number constraint (``numbers_far``) follows the pair level."""
    lv = np.repeat(
        level_row(first_name=FirstName.EXACT, last_name=LastName.EXACT, date_of_birth=Dob.EXACT),
        2,
        axis=0,
    )
    lv[0, Field.NUMBER] = Number.NEAR
    lv[1, Field.NUMBER] = Number.DIFFERENT
    out = constrained_clusters(
        4,
        np.array([0, 2]),
        np.array([1, 3]),
        np.array([40.0, 40.0]),
        lv,
        ["1234567", "1294587", "1234567", "9294581"],
        np.full(4, 19700201, np.int64),
        ["", "", "", ""],
        20.0,
    )
    assert out.labels[0] == out.labels[1]
    assert out.labels[2] != out.labels[3]


# --- Whose mailbox a shared email is. --------------------------------------------------


def test_a_mailbox_naming_someone_else_is_household_evidence(tmp_path: Path) -> None:
    """junes@: the mother's, on father Chris and son Christopher; madhav.fosu@: Madhav's,
    on L and Larisa Fosu. Neither record can be the one the mailbox names."""
    north = (
        "N1,L4100001,Chris,Savage,12/03/1953,junes@gmail.com,,9 Mill Lane,York,YO1 7HH\n"
        "N2,L4100002,L,Fosu,,madhav.fosu@example.com,,3 Park Road,Bath,BA1 2AB\n"
    )
    union = (
        "U1,,Christopher,Savage,,junes@gmail.com,,9 Mill Lane,York,YO1 7HH\n"
        "U2,,Larisa,Fosu,,madhav.fosu@example.com,,3 Park Road,Bath,BA1 2AB\n"
    )
    res = _run(tmp_path, {"north": north + POPULATION, "union": union})
    for x, y in ((("north", 1), ("union", 1)), (("north", 2), ("union", 2))):
        assert _pairlevel_row(res, x, y)[Field.EMAIL] == Email.SHARED
        assert _names_both(res, x, y) == (Email.SHARED, False)


def test_a_mailbox_naming_both_records_corroborates_an_initial(tmp_path: Path) -> None:
    north = (
        "N1,L4200001,O,Atkinson,,oliver.atkinson509@example.com,,4 Ash Row,Ely,PE34 4NQ\n"
        "N2,L4200002,S,Hinney,,sydney59@example.com,,5 Oak Road,Hull,HU1 1AA\n"
        "N3,L4200003,F,Derstock,,fderstock@example.com,,6 Elm Walk,Bury,BL9 0AA\n"
    )
    union = (
        "U1,,Oliver,Atkinson,,oliver.atkinson509@example.com,,4 Ash Row,Ely,PE34 4NQ\n"
        "U2,,S,Hinney,,sydney59@example.com,,5 Oak Road,Hull,HU1 1AA\n"
        "U3,,F,Derstock,,fderstock@example.com,,6 Elm Walk,Bury,BL9 0AA\n"
    )
    res = _run(tmp_path, {"north": north + POPULATION, "union": union})
    for row in (1, 2, 3):
        x, y = ("north", row), ("union", row)
        assert _names_both(res, x, y) == (Email.EXACT, True), row
        assert _pairlevel_row(res, x, y)[Field.EMAIL] == Email.EXACT
    # "O" and "Oliver": nothing else personal agrees, yet the initial is not left alone.
    o_oliver = _pair_row(res, ("north", 1), ("union", 1))
    assert res.pairs["levels"][o_oliver][Field.FIRST_NAME] == FirstName.INITIAL
    assert res.pairs["reasons"][o_oliver] == ""


def test_the_surname_is_taken_out_before_looking_for_names(tmp_path: Path) -> None:
    """robinsonb68@ names nobody (not Robin, a given name of this data): it stays the
    record's own (initial with surname), not a household's."""
    north = "N1,L4300001,B,Robinson,,robinsonb68@example.com,,7 Fen Lane,Ely,PE34 4NA\n"
    union = "U1,,Ben,Robinson,,robinsonb68@example.com,,7 Fen Lane,Ely,PE34 4NA\n"
    res = _run(tmp_path, {"north": north + POPULATION, "union": union})
    assert _names_both(res, ("north", 1), ("union", 1)) == (Email.EXACT, True)


def test_a_record_without_a_first_name_never_makes_a_mailbox_shared(tmp_path: Path) -> None:
    north = (
        "N1,L4400001,,Fosu,,madhav.fosu@example.com,,3 Park Road,Bath,BA1 2AB\n"
        "N2,L4400002,,Okoro,,madhav.okoro@example.com,,8 Hill Road,Bath,BA1 2AD\n"
    )
    union = (
        "U1,,Madhav,Fosu,,madhav.fosu@example.com,,3 Park Road,Bath,BA1 2AB\n"
        "U2,,,Okoro,,madhav.okoro@example.com,,8 Hill Road,Bath,BA1 2AD\n"
    )
    res = _run(tmp_path, {"north": north + POPULATION, "union": union})
    for row in (1, 2):
        level, both = _names_both(res, ("north", row), ("union", row))
        assert level == Email.EXACT and not both, row


def test_one_records_own_mailbox_on_anothers_record_is_household_evidence(
    tmp_path: Path,
) -> None:
    """anthonythomas71@ is Tony's (Anthony's), and Katarzyna's only as his household's: the
    pair does not share a mailbox of its own."""
    north = "N1,L4600019,Tony,Thomas,17/04/1971,anthonythomas71@example.com,,12 Birch Road,Salford,M6 5AA\n"
    union = "U1,,Katarzyna,Thomas,,anthonythomas71@example.com,,12 Birch Road,Salford,M6 5AA\n"
    anthony = "P93,7399993,Anthony,Upton,01/04/1970,au@example.net,,93 Low Street,Hull,HU1 9ZX\n"
    res = _run(tmp_path, {"north": north + POPULATION + anthony, "union": union})
    assert _names_both(res, ("north", 1), ("union", 1)) == (Email.SHARED, False)


#: Chris and Christine as given names elsewhere in the data (so both are in its vocabulary).
CHRISES = (
    "P91,7399991,Chris,Zeal,01/02/1970,cz@example.net,,91 Low Street,Hull,HU1 9ZZ\n"
    "P92,7399992,Christine,Yates,01/03/1970,cy@example.net,,92 Low Street,Hull,HU1 9ZY\n"
)


def test_a_mailbox_in_the_mothers_full_name_is_not_her_sons(tmp_path: Path) -> None:
    north = "N1,L4700001,Christopher,Okafor,14/02/1991,christine.okafor@example.com,,41 Elm Grove,Leeds,LS6 2AB\n"
    union = "U1,,C,Okafor,,christine.okafor@example.com,,41 Elm Grove,Leeds,LS6 2AB\n"
    res = _run(tmp_path, {"north": north + POPULATION + CHRISES, "union": union})
    # 'christine.okafor' names Christine (the longest name at that end), not also Chris: not
    # Christopher's own mailbox, so for this pair it is the household's.
    assert _names_both(res, ("north", 1), ("union", 1)) == (Email.SHARED, False)


# --- A 1 January that disagrees: a stand-in date, no veto and no agreement. -------------


def test_a_disagreeing_1_january_is_a_stand_in(tmp_path: Path) -> None:
    north = (
        "N1,L4500001,Ann,Abbott,01/01/1960,,,1 Oak Road,Hull,HU1 1AB\n"
        "N2,L4500002,Bea,Baines,10/01/1960,,,2 Oak Road,Hull,HU1 1AC\n"
        "N3,L4500003,Cal,Carver,01/01/1960,,,3 Oak Road,Hull,HU1 1AD\n"
        "N4,L4500004,Dot,Dunn,14/06/1961,,,4 Oak Road,Hull,HU1 1AE\n"
    )
    union = (
        "U1,4500001,Ann,Abbott,14/06/1960,,,1 Oak Road,Hull,HU1 1AB\n"
        "U2,4500002,Bea,Baines,01/01/1960,,,2 Oak Road,Hull,HU1 1AC\n"
        "U3,4500003,Cal,Carver,01/01/1960,,,3 Oak Road,Hull,HU1 1AD\n"
        "U4,4500004,Dot,Dunn,15/07/1963,,,4 Oak Road,Hull,HU1 1AE\n"
    )
    res = _run(tmp_path, {"north": north, "union": union})
    dob = [
        int(_pairlevel_row(res, ("north", k), ("union", k))[Field.DATE_OF_BIRTH])
        for k in (1, 2, 3, 4)
    ]
    # Another date; one digit from 1 January (a typo wins); the same 1 January; no 1 January.
    assert dob == [Dob.STAND_IN, Dob.TYPO, Dob.EXACT, Dob.DIFFERENT]


@pytest.mark.parametrize(
    ("a", "b"), [(19600101, 19600614), (19531207, 19530101), (19600101, 19900715)]
)
def test_a_stand_in_1_january_is_compatible_with_any_date_when_clustering(a: int, b: int) -> None:
    assert dob_compatible_one(a, b) and dob_compatible_one(b, a)


def test_two_real_dates_stay_incompatible_when_clustering() -> None:
    assert not dob_compatible_one(19600614, 19630715)
    assert not dob_compatible_one(19600102, 19630715)  # 2 January is a real birthday


def test_a_stand_in_dob_vetoes_nothing() -> None:
    one = dict(first_name=FirstName.EXACT, last_name=LastName.EXACT, email=Email.EXACT)
    assert (
        pair_rules(level_row(date_of_birth=Dob.DIFFERENT, **one))[0][0] == Refusal.DOB_INCOMPATIBLE
    )
    assert pair_rules(level_row(date_of_birth=Dob.STAND_IN, **one))[0][0] == ""


def test_a_stand_in_dob_is_no_agreement_for_different_first_names() -> None:
    """Two first names, one number, one home: with no DOB the number decides; a 1 January
    against another date is not 'no DOB', and the first names still differ."""
    household = dict(
        number=Number.EXACT,
        first_name=FirstName.DIFFERENT,
        last_name=LastName.EXACT,
        email=Email.EXACT,
        phone=Phone.LANDLINE,
        postcode=Postcode.EXACT,
    )
    assert pair_rules(level_row(date_of_birth=Dob.MISSING, **household))[0][0] == ""
    refused = pair_rules(level_row(date_of_birth=Dob.STAND_IN, **household))[0][0]
    assert refused == Refusal.FIRST_NAMES_DIFFER


def test_clustering_joins_a_stand_in_dob() -> None:
    lv = level_row(
        number=Number.EXACT,
        first_name=FirstName.EXACT,
        last_name=LastName.EXACT,
        date_of_birth=Dob.STAND_IN,
    )
    out = constrained_clusters(
        2,
        np.array([0]),
        np.array([1]),
        np.array([40.0]),
        lv,
        ["1234567", "1234567"],
        np.array([19600101, 19600614], np.int64),
        ["", ""],
        20.0,
    )
    assert out.labels[0] == out.labels[1] and out.refused == []
