"""ERS97 against OpenSTV 1.7's ERS97 sheets (../shared/refdata/stv/ers97; a second opinion, not
official): elected sets, the initial and final (5.4.8) quota, and every stage total."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from count.blt import read_blt
from count.result import fmt
from count.rules import ers97
from count.rules.base import CountOptions


def _files(refdata: Path) -> list[Path]:
    root = refdata / "stv" / "ers97"
    if not root.is_dir():
        pytest.skip(f"ERS97 reference data not found at {root}")
    return sorted(root.glob("*.expected.json"))


def test_ers97_six_sets_quotas_and_every_stage(refdata: Path) -> None:
    files = _files(refdata)
    assert len(files) == 6
    for f in files:
        exp = json.loads(f.read_text("utf-8"))
        result = ers97.count(
            read_blt(f.with_name(f.name.replace(".expected.json", ".blt")), notes_after_title=True),
            CountOptions(tie_seed="golden"),
        )
        assert set(result.elected) == set(exp["elected_set"]), exp["id"]
        assert fmt(result.quota, 2) == exp["quota_initial"], exp["id"]
        assert fmt(result.final_quota, 2) == exp["quota_final"], exp["id"]
        assert len(result.stages) == len(exp["stages"]), exp["id"]
        for ours, theirs in zip(result.stages, exp["stages"], strict=True):
            for i, name in enumerate(result.candidates):
                want = theirs["votes"][name]
                if want != "-":
                    assert Decimal(fmt(ours.votes[i], 2)) == Decimal(want), (
                        exp["id"],
                        ours.number,
                        name,
                    )
            assert Decimal(fmt(ours.non_transferable, 2)) == Decimal(theirs["non_transferable"])
            subjects = theirs["action"].split(" of ", 1)[-1].split("+")
            if ours.number > 1:
                assert sorted(ours.subjects) == sorted(subjects), (exp["id"], ours.number)


def test_wichmann_m135_blank_papers_are_invalid_so_quota_is_84_63(refdata: Path) -> None:
    """Decision (docs/formats-count.md): ERS97 5.1.2 sets invalid papers aside before 5.1.6, so
    M135's 2 blank papers are not in the total valid vote: 677/8 → 84.63, not the file header's
    84.88 (= 679/8)."""
    blt = refdata / "stv" / "ers97" / "wichmann_m135.blt"
    if not blt.is_file():
        pytest.skip(f"{blt} not found")
    ballots = read_blt(blt, notes_after_title=True)  # M135 ends with ERBS notes
    assert ballots.invalid == {"no_first_preference": 2}
    result = ers97.count(ballots, CountOptions(tie_seed="golden"))
    assert result.valid == 677
    assert fmt(result.quota, 2) == "84.63"
