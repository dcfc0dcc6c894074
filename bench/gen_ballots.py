"""Seeded synthetic STV ballots for the count benchmark (numpy only, never ``random``).

The model matches the peer benchmark in ../shared/refdata/stv/peer_runs: each voter ranks 1-15 of
30 candidates, drawn without replacement with Zipf-like popularity (weight ∝ 1/rank^0.8); about
80 % of rankings are distinct. Sampling without replacement uses the Gumbel-top-k trick, vectorised
in chunks so 1M ballots take a couple of seconds and little memory.

Usage: python bench/gen_ballots.py --ballots 1000000 --seed 2026 --out bench/data/count/b1m.blt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt


def generate(
    n_ballots: int,
    *,
    n_candidates: int = 30,
    max_ranks: int = 15,
    alpha: float = 0.8,
    seed: int = 2026,
    chunk: int = 200_000,
) -> npt.NDArray[np.int32]:
    """An (n_ballots, max_ranks) int32 array of 0-based candidates, -1 padded."""
    rng = np.random.default_rng(seed)
    logp = -alpha * np.log(np.arange(1, n_candidates + 1))
    perm = rng.permutation(n_candidates)  # popularity is not ballot-paper order
    out = np.full((n_ballots, max_ranks), -1, dtype=np.int32)
    for start in range(0, n_ballots, chunk):
        m = min(chunk, n_ballots - start)
        keys = logp[None, :] + rng.gumbel(size=(m, n_candidates))
        top = np.argsort(-keys, axis=1)[:, :max_ranks]
        lengths = rng.integers(1, max_ranks + 1, size=m)
        ranked = perm[top].astype(np.int32)
        ranked[np.arange(max_ranks)[None, :] >= lengths[:, None]] = -1
        out[start : start + m] = ranked
    return out


def blt_text(prefs: npt.NDArray[np.int32], seats: int, n_candidates: int, title: str) -> str:
    """BLT text, one line per ballot (weight 1), quoted names C1..Cn and a title."""
    lines = [f"{n_candidates} {seats}"]
    for row in (prefs + 1).tolist():
        lines.append("1 " + " ".join(str(c) for c in row if c > 0) + " 0")
    lines.append("0")
    lines += [f'"C{i + 1}"' for i in range(n_candidates)]
    lines.append(f'"{title}"')
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ballots", type=int, default=1_000_000)
    ap.add_argument("--candidates", type=int, default=30)
    ap.add_argument("--seats", type=int, default=9)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    prefs = generate(a.ballots, n_candidates=a.candidates, seed=a.seed)
    distinct = np.unique(prefs, axis=0).shape[0]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(
        blt_text(prefs, a.seats, a.candidates, f"synthetic {a.ballots} ballots seed {a.seed}"),
        encoding="utf-8",
    )
    print(f"{a.out}: {a.ballots} ballots, {distinct} distinct ({100 * distinct // a.ballots} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
