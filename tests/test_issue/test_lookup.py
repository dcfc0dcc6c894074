"""`omov issue lookup`: person id by name, email or membership number; candidates, never a guess."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from issue_fixtures import person, write_members

from issue import lookup
from omov.cli import run


@pytest.fixture()
def members(tmp_path: Path) -> Path:
    rows = [person(i) for i in range(1, 21)]
    rows[4] |= {"full_name": "Zoë O'Brien-Smith", "email": "zoe.obrien@example.org"}
    rows[5] |= {"full_name": "Jo Bloggs", "membership_number": "0012345"}
    rows[6] |= {"full_name": "Jo Bloggs", "membership_number": "0054321"}  # a namesake
    rows[7] |= {"full_name": "Joe Blogs", "membership_number": "0012346"}
    rows.append(person(30, eligible=False) | {"full_name": "Lapsed Person"})
    return write_members(tmp_path / "members.parquet", rows)


def _lookup(members: Path, *args: str) -> int:
    return run(["issue", "lookup", *args, "--members", str(members)])


def test_a_unique_exact_name_is_exit_0(members: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _lookup(members, "zoe o'brien smith") == 0
    assert "P0000005" in capsys.readouterr().out
    found = lookup.lookup(members, "O'Brien-Smith, Zoë")  # surname first, accents, punctuation
    assert [c.row["person_id"] for c in found.exact] == ["P0000005"]


def test_namesakes_are_all_listed_and_exit_3(
    members: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _lookup(members, "Jo Bloggs") == 3
    said = capsys.readouterr()
    assert "P0000006" in said.out and "P0000007" in said.out
    assert "P0000008" in said.out  # "Joe Blogs" as a near match
    assert "choose" in said.err


def test_a_misspelt_name_gives_near_candidates_only(members: Path) -> None:
    found = lookup.lookup(members, "Zoe OBrian Smith")
    assert found.exact == [] and not found.unique
    assert found.near[0].row["person_id"] == "P0000005"


def test_by_email_and_number(members: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _lookup(members, "ZOE.OBRIEN@example.org") == 0
    assert "P0000005" in capsys.readouterr().out
    assert _lookup(members, "12345") == 0  # leading zeros do not matter
    out = capsys.readouterr().out
    assert "P0000006" in out and "near" in out  # 0012346 is one edit away: listed, not chosen
    assert _lookup(members, "9999999") == 3


def test_ineligible_persons_are_shown_and_marked(members: Path) -> None:
    found = lookup.lookup(members, "Lapsed Person")
    assert found.exact[0].row["eligible"] == "False"


def test_saved_candidates_are_0600_whatever_the_umask(members: Path, tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        assert _lookup(members, "Jo Bloggs", "--save", str(tmp_path / "c.csv")) == 3
    finally:
        os.umask(old)
    saved = tmp_path / "c.csv"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert saved.read_text().count("P00000") == 3


def test_person_id_and_forced_field(members: Path) -> None:
    assert lookup.lookup(members, "p0000003").unique
    assert lookup.lookup(members, "0012345", lookup.Field.NAME).exact == []
