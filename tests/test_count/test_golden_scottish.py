"""Scottish STV against official 2017 returning-officer results (../shared/refdata/stv/scottish).

12 curated wards plus 208 bulk wards: the elected set must agree in every ward, and every stage
value must agree to the last of its 5 places wherever the transcription is exact to 5 dp. An
official sheet may show one more (final) transfer than rule 52 needs: we compare the stages we
have and allow the official sheet exactly one extra.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from count.blt import read_blt
from count.result import CountResult, fmt
from count.rules import scottish
from count.rules.base import CountOptions


def _cases(refdata: Path) -> list[tuple[dict[str, Any], Path]]:
    root = refdata / "stv" / "scottish"
    if not root.is_dir():
        pytest.skip(f"Scottish reference data not found at {root}")
    cases = [
        (json.loads(p.read_text("utf-8")), p.with_name(p.name.replace(".expected.json", ".blt")))
        for p in sorted((root / "curated").glob("*.expected.json"))
    ]
    for line in (root / "bulk2017" / "expected.jsonl").read_text("utf-8").splitlines():
        d = json.loads(line)
        cases.append((d, root / "bulk2017" / "blt" / f"{d['id']}.blt"))
    return cases


def _stage_problem(result: CountResult, exp: dict[str, Any]) -> str | None:
    if result.quota != exp["quota"] * 10**5:
        return f"quota {fmt(result.quota, 5)} != {exp['quota']}"
    stages = exp["stages"]
    if len(stages) not in (len(result.stages), len(result.stages) + 1):
        return f"{len(result.stages)} stages, official {len(stages)}"
    for ours, theirs in zip(result.stages, stages, strict=False):
        for i, name in enumerate(result.candidates):
            want = Decimal(theirs["votes"][name])
            if Decimal(fmt(ours.votes[i], 5)) != want:
                return f"stage {ours.number} {name}: {fmt(ours.votes[i], 5)} != {want}"
    return None


def test_scottish_220_wards_elected_sets_and_exact_stages(refdata: Path) -> None:
    cases = _cases(refdata)
    assert len(cases) == 220
    wrong_set, wrong_stage, exact = [], [], 0
    for exp, blt in cases:
        result = scottish.count(read_blt(blt), CountOptions(tie_seed="golden"))
        if set(result.elected) != set(exp["elected_set"]):
            wrong_set.append(exp["id"])
        if exp.get("stage_values_exact_5dp"):
            problem = _stage_problem(result, exp)
            if problem:
                wrong_stage.append(f"{exp['id']}: {problem}")
            else:
                exact += 1
    assert wrong_set == []
    assert wrong_stage == []
    assert exact == 196  # 12 curated + 184 bulk wards transcribed exactly to 5 dp


def test_curated_order_of_election_matches(refdata: Path) -> None:
    for exp, blt in _cases(refdata)[:12]:
        result = scottish.count(read_blt(blt), CountOptions(tie_seed="golden"))
        assert list(result.elected) == exp["elected"], exp["id"]
