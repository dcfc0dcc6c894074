# ruff: noqa: E501  (CSV fixtures are clearer on one line each)
"""Households and one person's mistyped records, end to end through ``dedupe.run``.

Each case is a family the new evidence must keep apart (a mailbox in the mother's name, a
father and son called Chris and Christopher, a brother and sister Paul and Paula, names that
share only a short form) or one member whose number was mistyped in two digits. Each says who
is who; the test fails when the dedupe merges two people or splits one.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import dedupe

from .data import population

TODAY = date(2026, 11, 25)
HEADER = "Member ID,Labour Membership No,First Name,Last Name,Date of Birth,Email,Phone,Address Line 1,Town,Postcode\n"

Key = tuple[str, int]

#: Other members at other addresses: enough Junes, Pauls and Paulas that those spellings are
#: given names of the data, as in any real export of a few hundred members or more.
POPULATION = population(
    [
        ("June", "Abbott"),
        ("June", "Baines"),
        ("June", "Carver"),
        ("Paul", "Dunn"),
        ("Paul", "Ellis"),
        ("Paul", "Finch"),
        ("Paula", "Gough"),
        ("Paula", "Hale"),
        ("Paula", "Irwin"),
    ]
)


def _partition(tmp_path: Path, files: dict[str, str]) -> set[frozenset[Key]]:
    """The persons found, each as the set of (export, row) it holds (population left out)."""
    paths = []
    for name, body in files.items():
        p = tmp_path / f"{name}.csv"
        p.write_text(HEADER + body, encoding="utf-8")
        paths.append(p)
    c = dedupe.run(paths, options=dedupe.Options(today=TODAY), workers=1).result.clusters
    groups: dict[str, set[Key]] = {}
    for org, row, pid in zip(c["source_org"], c["row_id"], c["person_id"], strict=True):
        if org != "population":
            groups.setdefault(pid, set()).add((org, int(row)))
    return {frozenset(g) for g in groups.values()}


def _people(*groups: tuple[Key, ...]) -> set[frozenset[Key]]:
    return {frozenset(g) for g in groups}


def _savages(son_number: str) -> dict[str, str]:
    home = "junes@gmail.com,,9 Mill Lane,York,YO1 7HH"
    north = (
        f"N1,L5100019,Chris,Savage,12/03/1953,{home}\nN2,L5100002,June,Savage,30/08/1955,{home}\n"
    )
    union = f"U1,{son_number},Christopher,Savage,,{home}\n"
    return {"north": north, "union": union, "population": POPULATION}


def test_father_chris_and_son_christopher_sharing_the_mothers_mailbox_stay_two(
    tmp_path: Path,
) -> None:
    """junes@ is June's (the mother's): household evidence, not the father's or the son's.
    The son's record has no date of birth; Chris may be short for Christopher; their
    numbers are far apart."""
    got = _partition(tmp_path, _savages("5987654"))
    assert got == _people((("north", 1),), (("north", 2),), (("union", 1),))


def test_father_and_son_who_joined_together_stay_two(tmp_path: Path) -> None:
    got = _partition(tmp_path, _savages("5100020"))
    assert got == _people((("north", 1),), (("north", 2),), (("union", 1),))


def test_initials_with_a_number_mistyped_in_two_digits_are_one_person(tmp_path: Path) -> None:
    """77914011 is 7941011 with a digit doubled and two swapped (2 edits): one number."""
    home = "nicholas.walters@example.com,,22 Kings Road,Reading,RG1 3AA"
    initials = f"I1,77914011,N S,Walters,04/09/1981,{home}\n"
    full = f"F1,L7941011,Nicholas Samuel,Walters,04/09/1981,{home}\n"
    got = _partition(tmp_path, {"initials": initials, "full": full})
    assert got == _people((("initials", 1), ("full", 1)))


def test_household_of_four_sharing_a_landline_and_the_mothers_mailbox_is_four_persons(
    tmp_path: Path,
) -> None:
    """Nicholas and Nicola (Nicky for either), Danielle and her brother Daniel, known to the
    union only as "D Okafor": one landline, one mailbox in the mother's name, no number or
    date of birth on the union's records. Four people; no record joins another."""
    home = "nicola.okafor@example.com,0113 496 0555,41 Elm Grove,Leeds,LS6 2AB"
    north = (
        f"N1,L6100001,Nicholas,Okafor,14/02/1961,{home}\n"
        f"N2,L6500932,Danielle,Okafor,09/11/1993,{home}\n"
    )
    union = f"U1,,Nicola,Okafor,,{home}\nU2,,D,Okafor,,{home}\n"
    got = _partition(tmp_path, {"north": north, "union": union, "population": POPULATION})
    assert got == _people((("north", 1),), (("north", 2),), (("union", 1),), (("union", 2),))


def test_household_of_four_with_short_forms_and_an_initial_joins_each_to_its_owner(
    tmp_path: Path,
) -> None:
    """Nicholas and Nicola (Nicky for either), Daniel and Danielle (Dani for either): one
    landline, one mailbox in the mother's name. Daniel's union record has his initial only,
    Danielle's her short form; each carries its owner's number."""
    home = "nicola.okafor@example.com,0113 496 0555,41 Elm Grove,Leeds,LS6 2AB"
    north = (
        f"N1,L6100001,Nicholas,Okafor,14/02/1961,{home}\n"
        f"N2,L6100002,Nicola,Okafor,03/07/1963,{home}\n"
        f"N3,L6300417,Daniel,Okafor,21/05/1990,{home}\n"
        f"N4,L6500932,Danielle,Okafor,09/11/1993,{home}\n"
    )
    union = (
        f"U1,6100002,Nicola,Okafor,,{home}\n"
        f"U2,6300417,D,Okafor,21/05/1990,{home}\n"
        f"U3,6500932,Dani,Okafor,,{home}\n"
        f"U4,,Nicky,Okafor,,{home}\n"  # Nicholas or Nicola: nobody can tell
    )
    got = _partition(tmp_path, {"north": north, "union": union, "population": POPULATION})
    for person in got:  # none of the four is merged with another
        assert len({row for org, row in person if org == "north"}) <= 1, person
    assert (
        _people(
            (("north", 2), ("union", 1)), (("north", 3), ("union", 2)), (("north", 4), ("union", 3))
        )
        <= got
    )
    assert frozenset({("north", 1)}) in got or frozenset({("north", 1), ("union", 4)}) in got


def test_brother_paul_and_sister_paula_at_one_home_stay_two(tmp_path: Path) -> None:
    home = "hughesfamily@example.org,01632 960333,7 Park Road,Bath,BA1 2AB"
    north = f"N1,L7100001,Paul,Hughes,,{home}\n"
    union = f"U1,,Paula,Hughes,,{home}\n"
    got = _partition(tmp_path, {"north": north, "union": union, "population": POPULATION})
    assert got == _people((("north", 1),), (("union", 1),))


def test_brother_paul_and_sister_paula_stay_two_in_a_small_export(tmp_path: Path) -> None:
    home = "hughesfamily@example.org,01632 960333,7 Park Road,Bath,BA1 2AB"
    north = f"N1,L7100001,Paul,Hughes,,{home}\n"
    union = f"U1,,Paula,Hughes,,{home}\n"
    got = _partition(tmp_path, {"north": north, "union": union})
    assert got == _people((("north", 1),), (("union", 1),))


def test_an_initial_is_not_given_to_the_son_by_his_mothers_mailbox(tmp_path: Path) -> None:
    home = "christine.okafor@example.com,0113 496 0555,41 Elm Grove,Leeds,LS6 2AB"
    north = f"N1,L6100001,Christopher,Okafor,14/02/1991,{home}\n"
    union = f"U1,,C,Okafor,,{home}\n"  # Christopher? Christine? nobody can tell
    others = (
        "P91,7399991,Chris,Zeal,01/02/1970,cz@example.net,,91 Low Street,Hull,HU1 9ZZ\n"
        "P92,7399992,Christine,Yates,01/03/1970,cy@example.net,,92 Low Street,Hull,HU1 9ZY\n"
    )
    got = _partition(tmp_path, {"north": north, "union": union, "population": POPULATION + others})
    assert got == _people((("north", 1),), (("union", 1),))


@pytest.mark.parametrize("her_number", ["5938271", "5200021"])  # far; 2 edits from his
def test_tony_and_katarzyna_sharing_anthonys_mailbox_stay_two(
    tmp_path: Path, her_number: str
) -> None:
    home = "anthonythomas71@example.com,0161 496 0777,12 Birch Road,Salford,M6 5AA"
    north = f"N1,L5200019,Tony,Thomas,17/04/1971,{home}\n"
    union = f"U1,{her_number},Katarzyna,Thomas,,{home}\n"
    got = _partition(tmp_path, {"north": north, "union": union})
    assert got == _people((("north", 1),), (("union", 1),))
