"""The array rounds for fact-free components give exactly what the sequential loop gives."""

from __future__ import annotations

import numpy as np
import pytest

from dedupe import cluster
from dedupe.cluster import Clustering, constrained_clusters
from dedupe.rules import pair_rules

NUMBERS = ["", "1234567", "1234568", "7654321"]
DOBS = [0, 19800102, 19800201, 19751231]
SUFFIXES = ["", "", "", "jr", "sr"]
FIRSTS = ["", "benjamin", "ben", "kirsty"]  # a nickname pair and a name neither can be


def _random_case(seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    m = int(rng.integers(1, 4 * n))
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    i, j = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    pairs = np.unique(np.c_[i, j], axis=0)
    i, j = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    levels = rng.integers(0, 5, (len(i), 10)).astype(np.int8)
    levels[rng.random(len(i)) < 0.7] = 1  # mostly agreeing pairs, so clusters grow
    weight = np.round(rng.normal(25, 8, len(i)), 1)  # ties in weight happen
    uniform = rng.random() < 0.5  # half the cases: few distinct facts, many fact-free parts
    pick = (lambda xs: xs[:2]) if uniform else (lambda xs: xs)
    numbers = [str(x) for x in rng.choice(pick(NUMBERS), n)]
    dobs = np.asarray(rng.choice(pick(DOBS), n), np.int64)
    suffix = [str(x) for x in rng.choice(pick(SUFFIXES), n)]
    firsts = [str(x) for x in rng.choice(pick(FIRSTS), n)]
    must, cannot = _links(rng, n), _links(rng, n)
    return {
        "n": n,
        "i": i,
        "j": j,
        "weight": weight,
        "levels": levels,
        "numbers": numbers,
        "dobs": dobs,
        "suffix": suffix,
        "threshold": 20.0,
        "must": must,
        "cannot": cannot,
        "firsts": firsts,
    }


def _links(rng: np.random.Generator, n: int) -> list[tuple[int, int]]:
    """0–2 auditor decisions between random records."""
    ends = rng.integers(0, n, (int(rng.integers(0, 3)), 2)).tolist()
    return [(x, y) for x, y in ends if x != y]


def _partition(labels: np.ndarray) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for k, x in enumerate(labels.tolist()):
        groups.setdefault(x, []).append(k)
    return sorted(groups.values())


def _run(case: dict[str, object]) -> Clustering:
    return constrained_clusters(**case, rules=pair_rules(case["levels"]))  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(200))
def test_rounds_match_the_sequential_loop(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _random_case(seed)
    fast = _run(case)
    with monkeypatch.context() as m:
        # Every component through the Python loop: the reference behaviour.
        m.setattr(cluster, "fact_free", lambda comp, *a: np.zeros(len(comp), bool))
        slow = _run(case)
    assert fast.merges == slow.merges
    assert fast.refused == slow.refused
    assert fast.forced == slow.forced
    assert np.array_equal(fast.labels, slow.labels)
    assert _partition(fast.labels) == _partition(slow.labels)
