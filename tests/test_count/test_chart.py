"""The result page's stage bars and its notes on candidates elected below the quota."""

from __future__ import annotations

from pathlib import Path

from count.chart import below_quota_notes, stage_panels
from count.outputs import count_file


def _count(tmp_path: Path, blt: str, rule: str = "ers97") -> object:
    path = tmp_path / "b.blt"
    path.write_text(blt)
    return count_file(path, rule, tie_seed="s")


def test_active_vote_election_below_quota_is_explained(tmp_path: Path) -> None:
    # 2 seats, 21 votes, quota 7: A is elected; B (6) then reaches the active vote / 2 = 5.5.
    result = _count(tmp_path, '3 2\n10 1 0\n6 2 0\n5 3 0\n0\n"A"\n"B"\n"C"\n"t"\n')
    assert result.elected == ("A", "B")  # type: ignore[attr-defined]
    notes = below_quota_notes(result)  # type: ignore[arg-type]
    assert [(n["name"], n["votes"], n["quota"]) for n in notes] == [("B", "6.00", "7.00")]
    assert "5.1.7(b)" in notes[0]["why"]


def test_remaining_candidates_elected_are_explained(tmp_path: Path) -> None:
    # Scottish, 2 seats, quota 5: nobody reaches it; C and D are excluded, then A and B are the
    # only candidates left for the two places (r. 52(1)).
    blt = '4 2\n4 1 0\n4 2 0\n3 3 0\n3 4 0\n0\n"A"\n"B"\n"C"\n"D"\n"t"\n'
    result = _count(tmp_path, blt, "scottish")
    notes = below_quota_notes(result)  # type: ignore[arg-type]
    assert {n["name"] for n in notes} == {"A", "B"}
    assert all("places left" in n["why"] and "r. 52(1)" in n["why"] for n in notes)


def test_panels_one_per_stage_with_exact_widths(tmp_path: Path) -> None:
    result = _count(tmp_path, '3 2\n10 1 0\n6 2 0\n5 3 0\n0\n"A"\n"B"\n"C"\n"t"\n')
    panels = stage_panels(result)  # type: ignore[arg-type]
    assert len(panels) == len(result.stages)  # type: ignore[attr-defined]
    first = panels[0]
    assert [b["width"] for b in first["bars"]] == ["100.0%", "60.0%", "50.0%"]
    assert first["quota_at"] == "70.0%"
    assert first["bars"][0]["status"] == "elected"


def test_the_result_counts_the_papers_intake_set_aside(tmp_path: Path) -> None:
    """A ballot file written by intake: the result's invalid papers are the intake's (blank and
    invalid by ERS97 §6), read from the intake report beside it if it recorded this very file."""
    import hashlib
    import json

    blt = tmp_path / "ballots.blt"
    blt.write_text('3 2\n10 1 0\n6 2 0\n5 3 0\n0\n"A"\n"B"\n"C"\n"t"\n')
    digest = hashlib.sha256(blt.read_bytes()).hexdigest()
    by_class = {"valid": 21, "blank": 2, "invalid_no_first_preference": 3, "token_unknown": 4}
    report = {"outputs": {"ballots.blt": digest}, "totals": {"by_class": by_class}}
    (tmp_path / "intake_report.json").write_text(json.dumps(report))
    result = count_file(blt, "ers97", tie_seed="s")
    assert result.set_aside == {"blank": 2, "invalid_no_first_preference": 3}
    assert result.invalid_papers == 5 and result.to_dict()["invalid_votes"] == 5
    # A report about another file says nothing about this one.
    report["outputs"]["ballots.blt"] = "0" * 64
    (tmp_path / "intake_report.json").write_text(json.dumps(report))
    assert count_file(blt, "ers97", tie_seed="s").set_aside == {}


def test_a_merged_intake_reports_what_its_intakes_set_aside(tmp_path: Path) -> None:
    import hashlib
    import json

    blt = tmp_path / "ballots.blt"
    blt.write_text('3 2\n10 1 0\n6 2 0\n5 3 0\n0\n"A"\n"B"\n"C"\n"t"\n')
    digest = hashlib.sha256(blt.read_bytes()).hexdigest()
    merge = {
        "outputs": {"ballots.blt": digest},
        "set_aside": {"blank": 3, "invalid_no_first_preference": 1},
    }
    (tmp_path / "merge_report.json").write_text(json.dumps(merge))
    assert count_file(blt, "ers97", tie_seed="s").set_aside == {
        "blank": 3,
        "invalid_no_first_preference": 1,
    }


def test_an_altered_report_is_refused_and_a_lone_copy_recounts_the_same(tmp_path: Path) -> None:
    """A report naming this file with a negative count is an integrity failure (exit 4), not a
    smaller invalid figure; and `count verify --ballots` on a copy of the file alone (no intake
    report beside it) recounts the same result, the set-aside papers carried from result.json."""
    import hashlib
    import json
    import shutil

    import pytest

    from count.outputs import verify_dir, write_result
    from omov.errors import IntegrityError

    blt = tmp_path / "ballots.blt"
    blt.write_text('3 2\n10 1 0\n6 2 0\n5 3 0\n0\n"A"\n"B"\n"C"\n"t"\n')
    digest = hashlib.sha256(blt.read_bytes()).hexdigest()
    report = {"outputs": {"ballots.blt": digest}, "totals": {"by_class": {"blank": -2}}}
    (tmp_path / "intake_report.json").write_text(json.dumps(report))
    with pytest.raises(IntegrityError, match="altered"):
        count_file(blt, "ers97", tie_seed="s")
    report["totals"]["by_class"] = {"blank": 2}
    (tmp_path / "intake_report.json").write_text(json.dumps(report))
    write_result(count_file(blt, "ers97", tie_seed="s"), tmp_path / "out")
    alone = tmp_path / "copy" / "ballots.blt"
    alone.parent.mkdir()
    shutil.copy(blt, alone)
    verify_dir(tmp_path / "out", alone)  # raises IntegrityError on any difference
