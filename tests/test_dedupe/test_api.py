"""``dedupe.run``: the entry point the CLI, tests and benchmarks share; the run date it records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd

import dedupe
from omov import cli

HEADER = "Membership Number,First Name,Last Name,Date of Birth,Email\n"


def _export(tmp_path: Path) -> Path:
    p = tmp_path / "branch.csv"
    p.write_text(
        HEADER
        + "1234567,Ann,Lee,03/04/15,ann.lee@example.org\n"
        + "1234567,Ann,Lee,03/04/15,ann.lee@example.org\n"
        + "7654321,Bob,Rees,21/09/70,bob@example.org\n",
        encoding="utf-8",
    )
    return p


def _dobs(out: Path) -> list[str]:
    members = pd.read_parquet(out / "members.parquet")
    return sorted(str(x) for x in members["date_of_birth"])


def test_today_decides_two_digit_years_and_is_recorded(tmp_path: Path) -> None:
    path = _export(tmp_path)
    early = dedupe.run([path], tmp_path / "a", options=dedupe.Options(today=date(2026, 11, 25)))
    late = dedupe.run([path], tmp_path / "b", options=dedupe.Options(today=date(2040, 1, 1)))
    assert early.summary is not None and late.summary is not None
    assert early.summary["options"]["today"] == "2026-11-25"  # type: ignore[index]
    assert late.summary["options"]["today"] == "2040-01-01"  # type: ignore[index]
    # '15' is 1915 while a 2015 birth would be younger than the youngest member; in 2040 it
    # is 2015 (25 years old).
    assert "1915-04-03" in _dobs(tmp_path / "a")
    assert "2015-04-03" in _dobs(tmp_path / "b")


def test_cli_today_option_reaches_the_summary(tmp_path: Path) -> None:
    path = _export(tmp_path)
    out = tmp_path / "cli"
    cli.run(["dedupe", "run", str(path), "--out", str(out), "--today", "2031-02-03", "-q"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["options"]["today"] == "2031-02-03"


def test_cli_and_library_write_the_same_clusters(tmp_path: Path) -> None:
    path = _export(tmp_path)
    cli.run(["dedupe", "run", str(path), "--out", str(tmp_path / "c"), "--today", "2026-11-25"])
    done = dedupe.run([("branch", path)], options=dedupe.Options(today=date(2026, 11, 25)))
    assert done.summary is None  # nothing written without ``out``
    on_disk = pd.read_csv(tmp_path / "c" / "clusters.csv", dtype={"row_id": int})
    assert on_disk["person_id"].tolist() == done.result.clusters["person_id"].tolist()
    assert on_disk["person_id"].nunique() == 2
