"""Fellegi–Sunter weights estimated from the data itself (no labels needed).

* u (chance agreement) comes from random record pairs: almost all are different people, so
  the level frequencies among them are what chance produces.
* m (agreement among true matches) comes from EM over the candidate pairs' comparison
  patterns, with u held fixed (Splink's recipe); identical patterns are aggregated first, so EM
  costs microseconds whatever the row count.
* A level's weight is log2(m/u); level 0 (missing) weighs 0. A pair's match weight is the
  prior log-odds among candidates plus the sum of its field weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dedupe.compare import compare
from dedupe.levels import COMPARISONS, pack_levels, unpack_levels

PSEUDO = 1.0  # pseudo-count per level: no level is ever impossible


@dataclass(frozen=True)
class Model:
    """Estimated m and u per comparison level, and the weights they imply."""

    m: tuple[tuple[float, ...], ...]
    u: tuple[tuple[float, ...], ...]
    prior: float  # proportion of matches among candidate pairs
    em_iterations: int
    u_sample: int

    @property
    def weights(self) -> np.ndarray:
        """weights[k, level] = log2(m/u); 0 for the missing level; padded with 0."""
        width = max(len(c.levels) for c in COMPARISONS)
        w = np.zeros((len(COMPARISONS), width))
        for k, (mk, uk) in enumerate(zip(self.m, self.u, strict=True)):
            for lvl in range(1, len(mk)):
                w[k, lvl] = np.log2(mk[lvl] / uk[lvl])
        return w

    @property
    def prior_weight(self) -> float:
        return float(np.log2(self.prior / (1 - self.prior)))

    def as_dict(self) -> dict[str, object]:
        """For summary.json: every level's m, u and weight, rounded."""
        w = self.weights
        return {
            "prior_match_share": round(self.prior, 6),
            "prior_weight": round(self.prior_weight, 4),
            "em_iterations": self.em_iterations,
            "u_random_pairs": self.u_sample,
            "comparisons": {
                c.name: {
                    lvl: {
                        "m": round(self.m[k][x], 6),
                        "u": round(self.u[k][x], 6),
                        "weight": round(float(w[k, x]), 4),
                    }
                    for x, lvl in enumerate(c.levels)
                    if x > 0
                }
                for k, c in enumerate(COMPARISONS)
            },
        }


def _level_freqs(
    levels: np.ndarray,
    weights: np.ndarray | None = None,
    prior: dict[str, tuple[float, ...]] | None = None,
    strength: float = 0.0,
) -> list[np.ndarray]:
    """Per comparison: share of each non-missing level (pseudo-counted, prior-smoothed)."""
    out = []
    for k, c in enumerate(COMPARISONS):
        n = len(c.levels)
        cnt = np.bincount(levels[:, k], weights=weights, minlength=n).astype(float)[:n]
        cnt[1:] += PSEUDO
        if prior is not None:
            cnt[1:] += strength * np.asarray(prior[c.name][1:], float)
        cnt[0] = 0.0
        out.append(cnt / cnt[1:].sum())
    return out


def estimate_u(
    A: dict[str, np.ndarray], n: int, sample: int = 100_000, seed: int = 20261125
) -> tuple[list[np.ndarray], int]:
    """u from random pairs (fixed seed over the canonical record order: reproducible)."""
    rng = np.random.default_rng(seed)
    size = min(sample, max(1, n * (n - 1) // 2))
    i = rng.integers(0, n, size)
    j = rng.integers(0, n, size)
    keep = i != j
    i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    return _level_freqs(compare(A, i, j), prior=PRIOR_U, strength=PRIOR_U_PAIRS), len(i)


_M_START = {  # a neutral starting point for EM: agreement levels likely among matches
    "number": (0, 0.85, 0.06, 0.05, 0.02, 0.02),
    "first_name": (0, 0.8, 0.05, 0.08, 0.04, 0.03),
    "last_name": (0, 0.85, 0.06, 0.03, 0.06),
    "date_of_birth": (0, 0.9, 0.05, 0.02, 0.025, 0.005),
    "email": (0, 0.6, 0.05, 0.33, 0.02),
    "phone": (0, 0.6, 0.1, 0.3),
    "postcode": (0, 0.75, 0.03, 0.04, 0.18),
    "address": (0, 0.7, 0.1, 0.03, 0.17),
    "town": (0, 0.8, 0.2),
    "suffix": (0, 0.5, 0.4, 0.1),
}

#: Prior m and u (estimated on the project's 10k synthetic UK exports). They act as
#: pseudo-counts (PRIOR_M_PAIRS, PRIOR_U_PAIRS): a run on a few dozen rows leans on them, a
#: run on 100k rows is driven by its own data.
PRIOR_M = {
    "number": (0.0, 0.7694, 0.02176, 0.18884, 0.01, 0.01),  # near, adjacent: estimates
    "first_name": (0.0, 0.78641, 0.05749, 0.02717, 0.03525, 0.09368),
    "last_name": (0.0, 0.86062, 0.03728, 0.00657, 0.09553),
    "date_of_birth": (0.0, 0.78878, 0.00908, 0.00222, 0.19792, 0.002),  # 1 Jan: estimate
    "email": (0.0, 0.7423, 0.00621, 0.23149, 0.02),  # another's name: an estimate
    "phone": (0.0, 0.6, 0.11518, 0.28482),  # mobile / landline split: an estimate
    "postcode": (0.0, 0.81513, 0.01268, 0.01222, 0.15997),
    "address": (0.0, 0.93728, 0.0165, 0.0003, 0.04593),
    "town": (0.0, 0.84002, 0.15998),
    "suffix": (0.0, 0.21968, 0.76342, 0.0169),
}
PRIOR_U = {
    "number": (0.0, 0.00016, 1.6e-05, 0.995818, 0.004, 6e-06),
    "first_name": (0.0, 0.001881, 0.001631, 0.001761, 0.002731, 0.991997),
    "last_name": (0.0, 0.00293, 0.000995, 0.00025, 0.995825),
    "date_of_birth": (0.0, 0.000176, 0.001083, 0.012052, 0.980689, 0.006),
    "email": (0.0, 0.000156, 1.1e-05, 0.999832, 1e-06),
    "phone": (0.0, 0.000184, 0.00005, 0.999766),
    "postcode": (0.0, 0.000387, 6.3e-05, 0.000376, 0.999175),
    "address": (0.0, 0.004125, 0.002578, 0.092987, 0.900309),
    "town": (0.0, 0.033468, 0.966532),
    "suffix": (0.0, 0.001805, 0.997292, 0.000903),
}
PRIOR_M_PAIRS = 200.0
PRIOR_U_PAIRS = 2000.0


def estimate_m(
    levels: np.ndarray, u: list[np.ndarray], max_iter: int = 100, tol: float = 1e-7
) -> tuple[list[np.ndarray], float, int]:
    """EM over aggregated comparison patterns with u fixed: returns m, match share, iterations."""
    if len(levels) == 0:  # no candidate pairs: nothing to learn, keep the priors
        return [np.array(PRIOR_M[c.name], float) for c in COMPARISONS], 0.5, 0
    # One integer per pair: a 1-D unique is far cheaper than a row-wise one.
    keys, counts = _sorted_counts(pack_levels(levels))
    patterns = unpack_levels(keys)
    counts = counts.astype(float)
    m = [np.array(_M_START[c.name], float) for c in COMPARISONS]
    lam = 0.3
    it = 0
    logu = np.zeros(len(patterns))
    for k in range(len(COMPARISONS)):
        col = patterns[:, k]
        logu += np.where(col > 0, np.log(u[k][col] + 1e-300), 0.0)
    for it in range(1, max_iter + 1):  # noqa: B007
        logm = np.zeros(len(patterns))
        for k in range(len(COMPARISONS)):
            col = patterns[:, k]
            logm += np.where(col > 0, np.log(m[k][col] + 1e-300), 0.0)
        a = np.log(lam) + logm
        b = np.log(1 - lam) + logu
        p = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        w = counts * p
        new_m = _level_freqs(patterns, w, prior=PRIOR_M, strength=PRIOR_M_PAIRS)
        new_lam = float(np.clip(w.sum() / counts.sum(), 1e-6, 1 - 1e-6))
        delta = max(float(np.abs(x - y).max()) for x, y in zip(new_m, m, strict=True))
        m, lam = new_m, new_lam
        if delta < tol:
            break
    return m, lam, it


def _sorted_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_counts=True)`` for many values with few distinct ones.

    Why: a hash table finds the few thousand distinct patterns without sorting millions of
    values; only the distinct ones are sorted (EM sums over them in this order).
    """
    codes, uniques = pd.factorize(values)
    counts = np.bincount(codes, minlength=len(uniques))
    order = np.argsort(uniques)
    return uniques[order], counts[order]


def fit(A: dict[str, np.ndarray], levels: np.ndarray, n: int) -> Model:
    """Estimate u from random pairs and m by EM over the candidate pairs."""
    u, n_u = estimate_u(A, n)
    m, lam, it = estimate_m(levels, u)
    return Model(
        tuple(tuple(float(x) for x in mk) for mk in m),
        tuple(tuple(float(x) for x in uk) for uk in u),
        lam,
        it,
        n_u,
    )


#: Largest shift (bits) a name's frequency may apply to its exact-agreement weight.
TF_CAP = 4.0
#: A name must occur this often before its frequency adjusts anything.
TF_MIN_COUNT = 20


def tf_adjustment(
    model: Model, levels: np.ndarray, codes: np.ndarray, i: np.ndarray, k: int
) -> np.ndarray:
    """Term-frequency shift for exact agreement on comparison ``k`` (Splink's TF adjustment):
    first names, surnames and dates of birth.

    Agreeing on "Smith" is weaker evidence than agreeing on "Abeywickrama": the u of an exact
    match on value v is v's share of the records, not the average. Shift = log2(u_avg / tf(v)),
    applied only downwards (common names lose weight; rare names gain none: a rare spelling is
    as often a typo as a rarity),
    capped at TF_CAP bits.
    """
    out = np.zeros(len(levels))
    exact = levels[:, k] == 1
    if not exact.any():
        return out
    valid = codes >= 0
    counts = np.bincount(codes[valid], minlength=int(codes.max(initial=-1)) + 1)
    seen = counts[codes[i[exact]]]
    tf = seen / max(1, int(valid.sum()))
    u_avg = model.u[k][1]
    shift = np.clip(np.log2(u_avg / np.maximum(tf, 1e-9)), -TF_CAP, 0.0)
    # A frequency is only known once the name has been seen often (not in a 20-row file).
    out[exact] = np.where(seen >= TF_MIN_COUNT, shift, 0.0)
    return out


def pair_weights(model: Model, levels: np.ndarray) -> np.ndarray:
    """Match weight of each pair: prior log-odds + sum of field weights (float64)."""
    w = model.weights
    total = np.full(len(levels), model.prior_weight)
    for k in range(levels.shape[1]):
        total += w[k, levels[:, k]]
    return total
