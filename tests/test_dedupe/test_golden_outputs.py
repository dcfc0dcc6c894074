"""Golden files for every output of ``omov dedupe run`` on the small hand-made world.

Why: the other dedupe tests assert properties (who is merged, what is queued); these files pin
the exact bytes an auditor, a data officer and the issue stage read, so a refactor that changes a
report, a column or a number shows up as a reviewable diff. Temporary paths are replaced by
``<dir>`` and the output digests in summary.json (which cover those paths) are checked against the
files themselves instead of the golden copy. members.parquet is compared as CSV.

A missing golden file fails; regenerate only on purpose with
``OMOV_UPDATE_GOLDEN=1 pytest tests/test_dedupe/test_golden_outputs.py`` and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from omov import cli
from omov.errors import ExitCode

from .data import OUTPUTS, write_world

GOLDEN = Path(__file__).parent / "golden" / "world"
UPDATE = os.environ.get("OMOV_UPDATE_GOLDEN") == "1"
TEXT_OUTPUTS = tuple(n for n in OUTPUTS if n not in ("members.parquet", "summary.json"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("golden")
    paths = write_world(base / "exports")
    out = str(base / "out")
    code = cli.run(["dedupe", "run", *map(str, paths), "--out", out, "--today", "2026-11-25", "-q"])
    assert code == ExitCode.PROBLEMS  # the world holds items for the auditor on purpose
    return base


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path} (set OMOV_UPDATE_GOLDEN=1 to create)"
    assert path.read_text(encoding="utf-8") == text, f"{name} differs from {path}"


@pytest.mark.parametrize("name", TEXT_OUTPUTS)
def test_text_output_matches_golden(run_dir: Path, name: str) -> None:
    text = (run_dir / "out" / name).read_text(encoding="utf-8")
    _check(name, text.replace(str(run_dir), "<dir>"))


def test_members_match_golden(run_dir: Path) -> None:
    members = pd.read_parquet(run_dir / "out" / "members.parquet")
    _check("members.csv", members.to_csv(index=False, lineterminator="\n"))


def test_summary_matches_golden_and_digests_match_files(run_dir: Path) -> None:
    out = run_dir / "out"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for name, digest in summary["outputs"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    summary["outputs"] = sorted(summary["outputs"])
    text = json.dumps(summary, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    _check("summary.json", text.replace(str(run_dir), "<dir>"))
