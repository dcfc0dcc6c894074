"""`make demo` end to end: every stage runs on sample_data/ and the audit chain verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omov import demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert demo.main(["--sample", str(ROOT / "sample_data"), "--out", str(out)]) == 0
    for path in (
        "dedupe/duplicate_report.html",
        "issue/letter_preview.html",
        "candidates/candidates_pack.html",
        "intake/intake_report.html",
        "count/result.html",
        "report/scrutineer_report.html",
    ):
        assert (out / path).is_file(), path
    result = json.loads((out / "count" / "result.json").read_text(encoding="utf-8"))
    assert result["rule"] == "ers97" and len(result["elected"]) == result["seats"] == 9
    # The online returns went through a real `omov vote serve`, into a sealed box, into intake.
    cast = json.loads((out / "web" / "cast_summary.json").read_text(encoding="utf-8"))
    seal = json.loads((out / "box" / "seal.json").read_text(encoding="utf-8"))
    assert cast["ok"] and cast["statuses"]["201"] == seal["ballots"] > 0
    report = json.loads((out / "intake" / "intake_report.json").read_text(encoding="utf-8"))
    assert report["channels"]["web"]["received"] == seal["ballots"]
    assert set(report["channels"]) == {"web", "postal"}


def test_demo_refuses_to_delete_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(SystemExit):
        demo.prepare_out(tmp_path)
    assert (tmp_path / "precious.txt").exists()
