"""bench/dedupe_errors.py: its totals are the truth's splits and merges, every error is shown."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from bench_helpers import bench_module

generate = bench_module("generate")
gen_profile = bench_module("gen_profile")
dedupe_errors = bench_module("dedupe_errors")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("errors")
    prof = gen_profile.load_profile("heldout2")
    generate.generate(3000, 8, out, orgs=6, quiet=True, profile=prof)
    return out


def test_totals_match_the_truth_and_each_case_has_its_best_pair(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dedupe_errors.main([str(data), "--workers", "1", "--examples", "1000"]) == 0
    out = capsys.readouterr().out
    e = dedupe_errors.Errors(data, 1)
    both = pd.DataFrame({"t": e.true, "f": e.found})
    spares = int((both.groupby("t")["f"].nunique() - 1).sum())
    merged = int((both.groupby("f")["t"].nunique() - 1).sum())
    assert spares + merged > 0  # the set is hard enough to show something
    head = re.search(r"## Wrong merges .*?: (\d+) in (\d+) cases", out)
    split = re.search(r"## Splits .*?: (\d+) in (\d+) cases", out)
    assert head and split
    assert (int(head.group(1)), int(split.group(1))) == (merged, spares)
    cases = int(head.group(2)) + int(split.group(2))
    assert out.count("best cross pair:") == cases  # every case printed (examples >= cases)


def test_refuses_a_folder_without_truth(tmp_path: Path) -> None:
    assert dedupe_errors.main([str(tmp_path)]) == 2
