"""Meek: OpaVote's official Stack Exchange results (meek) and Droop's PR Foundation reference
reports (meek-prf), from ../shared/refdata/stv/meek."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from count.blt import read_blt
from count.result import fmt
from count.rules import meek, meek_prf
from count.rules.base import CountOptions

TOL = Decimal("0.000001")


def _root(refdata: Path) -> Path:
    root = refdata / "stv" / "meek"
    if not root.is_dir():
        pytest.skip(f"Meek reference data not found at {root}")
    return root


def test_opavote_seven_elections_winners_and_every_round(refdata: Path) -> None:
    files = sorted(_root(refdata).glob("*.expected.json"))
    assert len(files) == 7
    for f in files:
        exp = json.loads(f.read_text("utf-8"))
        whole = "'thresholdFormula': 'Droop'" in exp["rule"] and "'Whole'" in exp["rule"]
        result = meek.count(
            read_blt(f.with_name(f.name.replace(".expected.json", ".blt")), notes_after_title=True),
            CountOptions(
                tie_seed="golden", extra={"threshold": "whole" if whole else "fractional"}
            ),
        )
        assert set(result.elected) == set(exp["elected"]), exp["id"]
        assert len(result.stages) == len(exp["rounds"]), exp["id"]
        for ours, theirs in zip(result.stages, exp["rounds"], strict=True):
            for i, name in enumerate(result.candidates):
                got = Decimal(fmt(ours.votes[i], 6))
                assert abs(got - Decimal(theirs["votes"][name])) <= TOL, (exp["id"], name)
            assert Decimal(fmt(ours.quota, 6)) == Decimal(theirs["threshold"])
            assert Decimal(fmt(ours.non_transferable, 6)) == Decimal(theirs["exhausted"])
            assert Decimal(ours.extra["surplus"]) == Decimal(theirs["surplus"])


def _droop_blocks(text: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for line in text.splitlines():
        if line.startswith("Action:"):
            blocks.append({"action": line[8:], "votes": {}})
        elif blocks and line.startswith("\t"):
            m = re.match(r"\t(Elected|Hopeful|Defeated):\s+(.*) \(([-0-9.]+)\)$", line)
            if m:
                for name in m.group(2).split(", "):
                    blocks[-1]["votes"][name] = m.group(3)
            m = re.match(r"\t(Quota|Surplus): ([0-9.]+)", line)
            if m:
                blocks[-1][m.group(1)] = m.group(2)
    return blocks


def test_meek_prf_matches_droop_reference_reports(refdata: Path) -> None:
    root = _root(refdata) / "droop_reference"
    reports = sorted(root.glob("*-meek-prf-o6-fixed-p9-d9.txt"))
    assert len(reports) == 4
    for rep in reports:
        name = rep.name.split("-meek-prf")[0]
        result = meek_prf.count(read_blt(root / f"{name}.blt", notes_after_title=True))
        blocks = _droop_blocks(rep.read_text("utf-8"))
        winners = {
            w.strip()
            for b in blocks
            if b["action"].startswith("Elect")
            for w in b["action"].split(":", 1)[1].split(",")
        }
        assert set(result.elected) == winners, name
        checked = 0
        for b in blocks:
            m = re.match(r"(Elect|Defeat \(.*\)): (.*)$", b["action"])
            if not m or "remaining" in b["action"]:
                continue
            stage = next(s for s in result.stages if m.group(2) in s.subjects)
            for i, cand in enumerate(result.candidates):
                if cand in b["votes"]:
                    assert fmt(stage.votes[i], 9) == b["votes"][cand], (name, b["action"], cand)
            assert fmt(stage.quota, 9) == b["Quota"]
            if b["action"].startswith("Defeat"):
                assert stage.extra["surplus"] == b["Surplus"]
            checked += 1
        assert checked > 0
