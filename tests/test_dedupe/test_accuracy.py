"""Accuracy on the labelled synthetic UK exports (uk10k), scored by the shared scorer."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import dedupe


def _scorer(refdata: Path):  # type: ignore[no-untyped-def]
    path = refdata.parent / "tools" / "score_clusters.py"
    spec = importlib.util.spec_from_file_location("score_clusters", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
@pytest.mark.refdata
def test_uk10k_accuracy(refdata: Path) -> None:
    folder = refdata / "dedupe" / "uk_members" / "uk10k_seed1"
    paths = sorted((folder / "exports").glob("*.csv"))
    res = dedupe.run(paths, options=dedupe.Options(today=date(2026, 11, 25)), workers=1).result
    cand = res.clusters.rename(columns={"person_id": "cluster_id"})
    scorer = _scorer(refdata)
    truth = pd.read_csv(folder / "truth" / "truth.csv", dtype=str, keep_default_na=False)
    m, info = scorer.align(truth, cand.astype(str), strict=True)
    score = scorer.score(m)
    ballots, pairwise = score["ballots"], score["pairwise"]
    assert info["rows_missing_from_candidate"] == 0
    assert pairwise["f1"] >= 0.998, pairwise
    assert ballots["disenfranchised"] <= 3, ballots
    assert ballots["extra_ballots"] <= 15, ballots
    assert res.stats["queue_items"] <= 0.01 * res.stats["persons"]
