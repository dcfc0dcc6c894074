"""Scrutineer's report: golden-ish checks of the JSON after a real intake and an ERS97 count."""

from __future__ import annotations

import json
from pathlib import Path

from intake_helpers import build_election, invoke

from count import report as core
from issue import audit

NAMES = ["Ann Able", "Bob Baker", "Cat Cole", "Dan Dale"]


def _report_args(e: dict[str, Path]) -> list[str]:
    return [
        "report",
        "--intake",
        str(e["intake"]),
        "--result",
        str(e["count"]),
        "--register",
        str(e["db"]),
        "--keys",
        str(e["key"]),
        "--audit-log",
        str(e["log"]),
        "--ballot-def",
        str(e["bdef"]),
        "--scrutineer",
        "A. Scrutineer",
        "--out",
        str(e["out"]),
    ]


def test_report_json_shape_and_figures(tmp_path: Path) -> None:
    e = build_election(tmp_path)
    head_before = audit.head(e["log"]).hash
    code, out, err = invoke(_report_args(e))
    assert code == 0, err
    r = json.loads((e["out"] / "scrutineer_report.json").read_text())
    assert r["format_version"] == core.REPORT_FORMAT_VERSION
    p = r["papers"]
    assert p["distributed"] == {
        "issued": 28,
        "revoked_and_replaced": 2,
        "valid_papers_distributed": 26,
    }
    assert p["returned"] == 27
    assert p["valid"] == 22
    assert p["not_counted"] == 5
    assert {k: v for k, v in p["not_counted_by_reason"].items() if v} == {
        "blank": 1,
        "invalid_no_first_preference": 1,
        "token_malformed": 1,
        "token_revoked": 1,
        "token_repeated": 1,
    }
    assert p["returned_by_members"] == 24  # valid + blank + invalid paper on a first-used token
    assert p["turnout_percent"] == "92.30"  # 24 / 26, truncated
    assert p["by_channel"]["online"] == {"received": 16, "valid": 14, "rejected": 2}
    c = r["count"]
    assert c["rule"] == "ers97" and c["seats"] == 2 and len(c["elected"]) == 2
    assert c["candidates"] == NAMES
    assert all(len(s["votes"]) == 4 for s in c["stages"])
    assert r["all_checks_pass"] is True
    assert "count's invalid papers are the intake's" in {c["name"] for c in r["checks"]}
    result = json.loads((e["count"] / "result.json").read_text())
    assert result["invalid_votes"] == 2  # the blank and the invalid paper the intake set aside
    assert r["audit_log"]["head_hash"] == head_before
    assert audit.verify(e["log"]).hash != head_before  # report.written appended after
    assert [s["answer"] for s in r["statements"]] == [None] * 5
    roles = {f["role"] for f in r["files"]}
    assert {"ballot definition", "intake 1 output", "count output"} <= roles
    # the terminal asks to publish exactly the head the report shows
    assert f"publish this audit-log head hash (the one in the report): {head_before}" in out
    assert [s["label"] for s in r["statements"]] == [
        "s.52(2)(a)",
        "s.52(2)(b)",
        "s.52(2)(c)",
        "s.52(2A)",
        "s.52(1)(e)",
    ]
    html = (e["out"] / "scrutineer_report.html").read_text()
    assert "<strong>s.52(2)(a)</strong>" in html and "s52_2_a</strong>" not in html
    assert "`" not in html  # no Markdown left in a page for people
    assert head_before in html


def test_report_detects_a_changed_ballot_file(tmp_path: Path) -> None:
    e = build_election(tmp_path)
    with (e["intake"] / "ballots.blt").open("a") as fh:
        fh.write("\n")
    code, _, err = invoke(_report_args(e))
    assert code == 4
    assert "ballots.blt unchanged" in err
    r = json.loads((e["out"] / "scrutineer_report.json").read_text())
    assert r["all_checks_pass"] is False


def test_percent_is_exact() -> None:
    assert core._percent(1, 3) == "33.33"
    assert core._percent(2, 3) == "66.66"
    assert core._percent(0, 0) == "0.00"
