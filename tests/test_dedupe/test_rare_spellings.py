# ruff: noqa: E501  (CSV fixtures are clearer on one line each)
"""A keyboard slip on a common name recurs as an export grows: it is still a slip.

``spelling_slips`` decides which first-name spellings are likely typos (the name rules then
read two of them as one name). A fixed "seen at most twice" made "Emiky" a real name once
five members' Emily had been mistyped that way, and two typos of one Emily (Emilly, Emiky)
two different people.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

import dedupe
from dedupe.compare_names import RARE_BESIDE_SHARE, spelling_slips
from dedupe.levels import Field, FirstName

from .data import population


def _slips(table: dict[str, tuple[int, bool]]) -> dict[str, tuple[bool, str]]:
    """Per spelling: (a likely typo, the spelling it is a slip of or '')."""
    names = np.array(list(table), dtype=object)
    counts = np.array([c for c, _ in table.values()])
    known = np.array([k for _, k in table.values()])
    rare, meant = spelling_slips(names, counts, known)
    of = [str(names[m]) if m >= 0 else "" for m in meant.tolist()]
    return dict(zip(table, zip(rare.tolist(), of, strict=True), strict=True))


def test_a_recurring_slip_beside_a_common_name_is_a_slip_of_that_name() -> None:
    got = _slips({"emily": (2000, True), "emiky": (5, False), "emilly": (12, False)})
    assert got == {"emily": (False, ""), "emiky": (False, "emily"), "emilly": (False, "emily")}


def test_a_name_the_table_knows_is_never_a_typo() -> None:
    got = _slips({"john": (3000, True), "jon": (1, True)})
    assert got == {"john": (False, ""), "jon": (False, "")}


def test_an_unknown_name_common_in_its_own_right_is_not_a_slip() -> None:
    """Kristy beside Kirsty: a name people are given, not a slip, once it is this common."""
    share = int(500 * RARE_BESIDE_SHARE) + 1
    got = _slips({"kirsty": (500, True), "kristy": (share, False), "eunan": (3, False)})
    assert got == {"kirsty": (False, ""), "kristy": (False, ""), "eunan": (False, "")}


def test_seen_at_most_twice_and_unknown_is_a_likely_typo_on_its_own() -> None:
    got = _slips({"xqvy": (2, False), "xqvz": (3, False)})
    assert got == {"xqvy": (True, ""), "xqvz": (False, "")}


def test_only_spellings_one_edit_away_count() -> None:
    """Only a common spelling one edit away makes a slip: Emma is two edits from "emkiy"."""
    assert _slips({"emma": (5000, True), "emkiy": (5, False)})["emkiy"] == (False, "")


def test_a_slip_names_the_spelling_it_was_meant_to_be() -> None:
    names = np.array(["nigel", "niegl", "ngel", "nigella", "xqvy"], dtype=object)
    counts = np.array([400, 2, 1, 30, 1])
    known = np.array([True, False, False, True, False])
    rare, meant = spelling_slips(names, counts, known)
    assert rare.tolist() == [False, True, True, False, True]  # seen at most twice
    assert meant.tolist() == [-1, 0, 0, -1, -1]  # xqvy: rare, but a slip of nothing known


TODAY = date(2026, 11, 25)
HEADER = "Member ID,Labour Membership No,First Name,Last Name,Date of Birth,Email,Phone,Address Line 1,Town,Postcode\n"
SURNAMES = [
    "Abbott",
    "Baines",
    "Carver",
    "Dunn",
    "Ellis",
    "Finch",
    "Gough",
    "Hale",
    "Irwin",
    "Jones",
]
#: 250 Emilys, and Emily mistyped as Emiky and Emilly by three members each, elsewhere.
POPULATION = population(
    [("Emily", f"{s}{t.lower()}") for s in SURNAMES for t in SURNAMES[:5] for _ in range(5)]
    + [("Emiky", "Moss"), ("Emiky", "Nash"), ("Emiky", "Oakes")]
    + [("Emilly", "Pike"), ("Emilly", "Quinn"), ("Emilly", "Reed")]
    + [("Emilia", "Stone")] * 3
    + [("Nigel", f"{s}{t.lower()}") for s in SURNAMES for t in SURNAMES[:6]]
    + [("Marie", f"{s}{t.lower()}") for s in SURNAMES for t in SURNAMES[:5] for _ in range(5)]
    + [("Mary", f"{s}{t.lower()}") for s in SURNAMES for t in SURNAMES[:6]]
    + [("Maire", "Walsh"), ("Maire", "Quigley"), ("Maire", "Doyle")]
)


def _pair_levels(tmp_path: Path, a: tuple[str, int], b: tuple[str, int]) -> np.ndarray:
    """The level row of the candidate pair of records a and b in a run of tmp_path's CSVs."""
    res = dedupe.run(sorted(tmp_path.glob("*.csv")), options=dedupe.Options(today=TODAY), workers=1)
    rec = res.result.prep.records
    where = {
        (o, int(r)): k
        for k, (o, r) in enumerate(zip(rec["source_org"], rec["row_id"], strict=True))
    }
    x, y = sorted((where[a], where[b]))
    p = res.result.pairs
    k = np.flatnonzero((p["i"] == x) & (p["j"] == y))
    assert len(k) == 1, "the two records were not compared"
    levels: np.ndarray = p["levels"][k[0]]
    return levels


def _persons(tmp_path: Path, north: str, pipe: str) -> list[set[tuple[str, int]]]:
    paths = []
    for name, body in {"north": north, "pipe": pipe, "population": POPULATION}.items():
        p = tmp_path / f"{name}.csv"
        p.write_text(HEADER + body, encoding="utf-8")
        paths.append(p)
    c = dedupe.run(paths, options=dedupe.Options(today=TODAY), workers=1).result.clusters
    groups: dict[str, set[tuple[str, int]]] = {}
    for org, row, pid in zip(c["source_org"], c["row_id"], c["person_id"], strict=True):
        if org != "population":
            groups.setdefault(pid, set()).add((org, int(row)))
    return sorted(groups.values(), key=sorted)


HOME = "emilywright@yahoo.co.uk,,276 St Mary's Street,Belfast,BT6 4EJ"


def test_two_typos_of_one_emily_with_her_birthday_mailbox_and_home_are_one_person(
    tmp_path: Path,
) -> None:
    north = f"N1,L9328789,Emilly,Wright,02/10/1992,{HOME}\n"
    pipe = f"F1,,Emiky,Wright,02/10/1992,{HOME}\n"
    assert _persons(tmp_path, north, pipe) == [{("north", 1), ("pipe", 1)}]


def test_two_different_slips_of_one_nigel_at_his_home_are_one_person(tmp_path: Path) -> None:
    """Niegl and Ngel are each one edit from Nigel and two from each other."""
    home = "nigel.jackson@example.com,,4 Park Row,Leeds,LS1 5HD"
    north = f"N1,,Niegl,Jackson,27/04/1966,{home}\n"
    pipe = f"F1,,Ngel,Jackson,27/04/1966,{home}\n"
    assert _persons(tmp_path, north, pipe) == [{("north", 1), ("pipe", 1)}]


def test_twins_mary_and_maire_stay_two(tmp_path: Path) -> None:
    """Maire (a real name, a slip of Marie by its spelling) is not Mary: one birthday and one
    home, two numbers and two mobiles. The numbers' conflict yields to nothing short of the
    same first name as written."""
    north = "N1,L8335012,Mary,James,11/06/1996,mary.james85@example.com,07364 722704,24 Ash Lane,Rochester,ME2 1UZ\n"
    pipe = "F1,8883935,Maire,James,11/06/1996,mjames349@example.org,07861 740671,24 Ash Lane,Rochester,ME2 1UZ\n"
    assert _persons(tmp_path, north, pipe) == [{("north", 1)}, {("pipe", 1)}]
    levels = _pair_levels(tmp_path, ("north", 1), ("pipe", 1))
    assert levels[Field.FIRST_NAME] == FirstName.DIFFERENT  # a slip of Marie, not of Mary


@pytest.mark.parametrize("twin", ["Emilia", "Emma"])
def test_twins_with_real_names_at_one_home_stay_two(tmp_path: Path, twin: str) -> None:
    """Emily and Emilia (or Emma) Wright: one birthday, one home, one family mailbox."""
    north = f"N1,L9328789,Emily,Wright,02/10/1992,{HOME}\n"
    pipe = f"F1,,{twin},Wright,02/10/1992,{HOME}\n"
    assert _persons(tmp_path, north, pipe) == [{("north", 1)}, {("pipe", 1)}]
