"""Golden result files for small hand-made elections (tests/test_count/golden/<case>/).

Each case folder holds a ballot file, ``case.json`` (rule, options) and the expected
``result.json``, ``result.csv`` and ``result.txt``. A missing golden file fails; regenerate only on
purpose with ``OMOV_UPDATE_GOLDEN=1 pytest tests/test_count/test_golden_results.py`` and review
the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from count.ballot_files import load_ballots
from count.render import render_csv, render_json, render_txt
from count.result import CountResult, fmt
from count.rules import run_rule
from count.rules.base import CountOptions

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
UPDATE = os.environ.get("OMOV_UPDATE_GOLDEN") == "1"


def _count(case: str) -> CountResult:
    folder = GOLDEN / case
    spec = json.loads((folder / "case.json").read_text("utf-8"))
    ballots_file = next(p for p in folder.iterdir() if p.stem == "ballots")
    return run_rule(
        spec["rule"],
        load_ballots(ballots_file),
        CountOptions(tie_seed=spec.get("tie_seed"), extra=spec.get("extra", {})),
    )


@pytest.mark.parametrize("case", CASES)
def test_golden_outputs(case: str) -> None:
    result = _count(case)
    for name, render in (
        ("result.json", render_json),
        ("result.csv", render_csv),
        ("result.txt", render_txt),
    ):
        path = GOLDEN / case / name
        text = render(result)
        if UPDATE:
            path.write_text(text, encoding="utf-8")
        assert path.is_file(), f"missing golden file {path} (set OMOV_UPDATE_GOLDEN=1 to create)"
        assert path.read_text(encoding="utf-8") == text, f"{case}/{name} differs from golden"


def test_ers97_small_by_hand() -> None:
    """Worked by hand: 26 valid papers (one blank set aside), quota 26/3 = 8.666… → 8.67; Ada
    16 is elected with surplus 7.33 over 16 transferable papers: TV ⌊7.33/16⌋ = 0.45, so Ben
    gets 10 × 0.45 = 4.50, Cai 6 × 0.45 = 2.70, and 7.33 − 7.20 = 0.13 is non-transferable."""
    r = _count("ers97_small")
    assert r.valid == 26 and r.invalid == {"no_first_preference": 1}
    assert fmt(r.quota, 2) == "8.67"
    s2 = r.stages[1]
    assert s2.subjects == ("Ada",) and s2.transfer_values == (45,)
    assert dict(zip(r.candidates, (fmt(v, 2) for v in s2.votes), strict=True)) == {
        "Ada": "8.67",
        "Ben": "8.50",
        "Cai": "5.70",
        "Dee": "2.00",
        "Eli": "1.00",
    }
    assert fmt(s2.non_transferable, 2) == "0.13"
    assert r.elected[0] == "Ada"


def test_scottish_csv_by_hand() -> None:
    """Worked by hand: 25 valid papers (2 blank and 1 with two first preferences are invalid; one
    paper with two second preferences ends after Ada), quota ⌊25/3⌋ + 1 = 9. Ada has 13 and a
    surplus of 4: every one of her 13 papers moves at ⌊4 × 1 / 13⌋ to 5 places = 0.30769, so Ben
    (5) gets 9 × 0.30769 → 7.76921 and Cai (4) gets 3 × 0.30769 → 4.92307; the cut paper's
    0.30769 is non-transferable and 4 − 13 × 0.30769 = 0.00003 is the rounding loss."""
    r = _count("scottish_csv")
    assert r.valid == 25
    assert r.invalid == {"first_preference_uncertain": 1, "no_first_preference": 2}
    assert r.truncated == {"uncertain_or_missing_rank": 1}
    assert fmt(r.quota, 5) == "9.00000"
    s2 = r.stages[1]
    assert s2.transfer_values == (30769,)
    votes = dict(zip(r.candidates, (fmt(v, 5) for v in s2.votes), strict=True))
    assert votes == {"Ada": "9.00000", "Ben": "7.76921", "Cai": "4.92307", "Dee": "3.00000"}
    assert fmt(s2.non_transferable, 5) == "0.30769"
    assert fmt(s2.loss, 5) == "0.00003"
