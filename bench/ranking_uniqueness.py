"""How identifying is a published full ranking? The share of ballots whose ranking is unique.

A voter told "rank these 16 candidates in exactly this order" can be checked against the
published ``ballots.blt``: if that ranking appears once, the coercer sees it was cast. This
measures the share of valid papers whose ranking is unique in the election, for the full
rankings omov publishes and for the mitigations in docs/threat-model.md (publishing rankings
cut to their first k preferences).

Input: a ``ballots.blt`` (what omov publishes) or the returns CSVs from
``bench/simulate_returns.py`` (``token,preferences``, positional marks; read as a paper: the
candidates marked 1, 2, 3, … in order, stopping at a gap or a repeated mark).

Example:
    python bench/simulate_returns.py --ballots-only 54000 --candidates 16 --seed 1 --out /tmp/r
    python bench/ranking_uniqueness.py /tmp/r/online.csv /tmp/r/postal.csv
    python bench/ranking_uniqueness.py out/demo/intake/ballots.blt
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

DEPTHS = (1, 2, 3, 4, 5)


def paper_ranking(marks: str) -> tuple[int, ...]:
    """Candidates (1-based) in preference order, as a paper reads: stop at a gap or repeat."""
    by_mark: dict[int, list[int]] = {}
    for cand, cell in enumerate(marks.split(";"), start=1):
        cell = cell.strip()
        if cell.isdigit():
            by_mark.setdefault(int(cell), []).append(cand)
    ranking: list[int] = []
    k = 1
    while len(by_mark.get(k, [])) == 1:
        ranking.append(by_mark[k][0])
        k += 1
    return tuple(ranking)


def rankings_from_csv(paths: list[Path]) -> Counter[tuple[int, ...]]:
    found: Counter[tuple[int, ...]] = Counter()
    for path in paths:
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                r = paper_ranking(row.get("preferences") or "")
                if r:
                    found[r] += 1
    return found


def rankings_from_blt(path: Path) -> Counter[tuple[int, ...]]:
    from count.ballot_files import load_ballots

    b = load_ballots(path)
    found: Counter[tuple[int, ...]] = Counter()
    for row, w in zip(b.prefs.tolist(), b.weights.tolist(), strict=True):
        found[tuple(c + 1 for c in row if 0 <= c < len(b.candidates))] += int(w)
    return found


def uniqueness(found: Counter[tuple[int, ...]]) -> dict[str, object]:
    papers = sum(found.values())
    out: dict[str, object] = {"papers": papers, "distinct_rankings": len(found)}

    def share(counter: Counter[tuple[int, ...]]) -> float:
        unique = sum(w for w in counter.values() if w == 1)
        return round(100 * unique / papers, 2) if papers else 0.0

    out["unique_full_ranking_pct"] = share(found)
    for k in DEPTHS:
        cut: Counter[tuple[int, ...]] = Counter()
        for r, w in found.items():
            cut[r[:k]] += w
        out[f"unique_first_{k}_pct"] = share(cut)
    out["papers_in_groups_under_10_pct"] = (
        round(100 * sum(w for w in found.values() if w < 10) / papers, 2) if papers else 0.0
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path, help="ballots.blt, or returns CSV files")
    args = ap.parse_args(argv)
    files: list[Path] = args.files
    if len(files) == 1 and files[0].suffix.lower() != ".csv":
        found = rankings_from_blt(files[0])
    else:
        found = rankings_from_csv(files)
    json.dump(uniqueness(found), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
