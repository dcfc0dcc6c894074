# ruff: noqa: E501  (CSV fixtures are clearer on one line each)
"""Links a rule accepts below the threshold: the member's own number, email or mobile and the
same first name (``rules.sure_links``), never a first-name handle ("abbie77@") any Abbie may
own, never a pair a rule refuses.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

import dedupe
from dedupe.levels import (
    Dob,
    Email,
    FirstName,
    LastName,
    Number,
    Phone,
    Postcode,
)
from dedupe.reasons import BY_RULE, Refusal
from dedupe.rules import pair_rules, sure_links

from .data import level_row, population

MOVED = dict(last_name=LastName.DIFFERENT, postcode=Postcode.DIFFERENT, email=Email.DIFFERENT)


def _sure(named: dict[str, int], handle: bool = False) -> bool:
    lv = level_row(**named)
    return bool(sure_links(lv, pair_rules(lv)[0], np.array([handle]))[0])


@pytest.mark.parametrize(
    "own",
    [dict(number=Number.EXACT), dict(phone=Phone.EXACT), dict(email=Email.EXACT)],
)
@pytest.mark.parametrize("first", [FirstName.EXACT, FirstName.NICKNAME])
def test_own_identifier_and_first_name_is_sure(own: dict[str, int], first: int) -> None:
    assert _sure({**MOVED, "first_name": first, **own})


@pytest.mark.parametrize(
    ("named", "why"),
    [
        (dict(number=Number.ONE_EDIT, first_name=FirstName.EXACT), "a number one slip away"),
        (dict(number=Number.ADJACENT, first_name=FirstName.EXACT), "a family's next number"),
        (dict(phone=Phone.LANDLINE, first_name=FirstName.EXACT), "a household's landline"),
        (dict(email=Email.SHARED, first_name=FirstName.EXACT), "another person's mailbox"),
        (dict(number=Number.EXACT, first_name=FirstName.INITIAL), "an initial"),
        (dict(number=Number.EXACT, first_name=FirstName.TYPO), "a first name mistyped"),
    ],
)
def test_weaker_evidence_is_not_sure(named: dict[str, int], why: str) -> None:
    assert not _sure({**MOVED, **named}), why


def test_a_first_name_handle_is_not_the_members_own_email() -> None:
    assert not _sure({**MOVED, "first_name": FirstName.EXACT, "email": Email.EXACT}, handle=True)


def test_a_refused_pair_is_never_sure() -> None:
    lv = level_row(number=Number.EXACT, first_name=FirstName.EXACT, date_of_birth=Dob.DIFFERENT)
    reasons = pair_rules(lv)[0]
    assert reasons[0] == Refusal.DOB_INCOMPATIBLE
    assert not sure_links(lv, reasons)[0]


TODAY = date(2026, 11, 25)
HEADER = "Member ID,Labour Membership No,First Name,Last Name,Date of Birth,Email,Phone,Address Line 1,Town,Postcode\n"
POPULATION = population(
    [(f, s) for f in ("Joan", "Abbie", "Philip") for s in ("Abbott", "Baines", "Carver", "Dunn")]
)


def _run(
    tmp_path: Path, files: dict[str, str]
) -> tuple[list[set[tuple[str, int]]], dict[str, object]]:
    paths = []
    for name, body in {**files, "population": POPULATION}.items():
        p = tmp_path / f"{name}.csv"
        p.write_text(HEADER + body, encoding="utf-8")
        paths.append(p)
    res = dedupe.run(paths, options=dedupe.Options(today=TODAY), workers=1).result
    c = res.clusters
    groups: dict[str, set[tuple[str, int]]] = {}
    for org, row, pid in zip(c["source_org"], c["row_id"], c["person_id"], strict=True):
        if org != "population":
            groups.setdefault(pid, set()).add((org, int(row)))
    return sorted(groups.values(), key=sorted), res.stats


def test_a_member_who_married_and_moved_is_one_person_by_her_number(tmp_path: Path) -> None:
    """Joan Potts, now Joan Chaber at another address with another email: one number."""
    north = (
        "N1,L2672987,Joan,Potts,,joan.potts@example.com,,49 Coronation Street,Brighton,BN7 1RA\n"
    )
    union = "U1,2672987,Joan,Chaber,,joanchaber@example.org,,12 Mill Road,Bristol,BS14 0RE\n"
    persons, stats = _run(tmp_path, {"north": north, "union": union})
    assert persons == [{("north", 1), ("union", 1)}]
    assert stats["links_below_threshold_by_rule"] == 1
    despite = stats["links_merged_despite_conflict"]
    assert isinstance(despite, dict) and BY_RULE not in despite


def test_two_members_of_one_first_name_sharing_a_first_name_handle_stay_two(
    tmp_path: Path,
) -> None:
    """Abbie Burton and Abbie Holmes both wrote abbie77@: any Abbie's, so neither's proof."""
    north = "N1,L2935505,Abbie,Burton,02/02/1939,abbie77@gmail.com,07571 738540,131 Marshall Mews,Blackpool,FY16 5AY\n"
    union = "U1,,Abbie,Holmes,,abbie77@gmail.com,07513 971168,,Kirkcaldy,KY20 6TX\n"
    persons, _ = _run(tmp_path, {"north": north, "union": union})
    assert persons == [{("north", 1)}, {("union", 1)}]


def test_the_same_handle_and_a_new_surname_with_the_mobile_is_one_person(tmp_path: Path) -> None:
    north = "N1,,Philip,Taylor,,philip77@gmail.com,07759 359726,4 Broad Street,Glasgow,G20 6QS\n"
    union = "U1,,Philip,Nowak,,philip77@gmail.com,07759 359726,,Edinburgh,EH8 6GY\n"
    persons, _ = _run(tmp_path, {"north": north, "union": union})
    assert persons == [{("north", 1), ("union", 1)}]
