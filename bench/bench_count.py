"""Benchmark ``omov count run``: 1M synthetic ballots, 30 candidates, 9 seats, every rule.

Targets (issue 6): parse + count + write ≤ 5 s and ≤ 1 GB peak RSS for ERS97 and Scottish
(stretch 2 s); Meek ≤ 30 s. The ballots come from bench/gen_ballots.py (numpy, fixed seed, ~80 %
distinct rankings), written once to bench/data/count/.

For each rule two fresh processes run under ``/usr/bin/time -v``:

* a child that imports omov and times each phase itself (parse, count, write), and
* the real command ``omov count run FILE --rule R --out DIR`` end to end (interpreter start and
  imports included),

so each figure's peak RSS is that process's own. Results: bench/results/count.json.

    .venv/bin/python bench/bench_count.py [--ballots 1000000] [--rules ers97,scottish,meek]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from count.ballot_files import load_ballots
from count.outputs import write_result
from count.rules import run_rule
from count.rules.base import CountOptions
t1 = time.perf_counter()
path, rule, out = sys.argv[1], sys.argv[2], sys.argv[3]
ballots = load_ballots(path)
t2 = time.perf_counter()
result = run_rule(rule, ballots, CountOptions(tie_seed="bench"))
t3 = time.perf_counter()
write_result(result, out)
t4 = time.perf_counter()
print(json.dumps({"import_s": round(t1 - t0, 3), "parse_s": round(t2 - t1, 3),
                  "count_s": round(t3 - t2, 3), "write_s": round(t4 - t3, 3),
                  "parse_count_write_s": round(t4 - t1, 3), "groups": ballots.n_groups,
                  "stages": len(result.stages), "elected": list(result.elected)}))
"""


def _timed(cmd: list[str]) -> tuple[str, float, float]:
    """Run under /usr/bin/time -v; (stdout, wall seconds, peak RSS MB)."""
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr)
    parts = [float(x) for x in wall.group(1).split(":")]
    seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    return proc.stdout, round(seconds, 2), round(rss / 1024, 1)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ballots", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--rules", default="ers97,scottish,meek,meek-prf")
    a = ap.parse_args(argv)
    data = HERE / "data" / "count" / f"b{a.ballots}_s{a.seed}.blt"
    if not data.is_file():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_ballots.py"),
                "--ballots",
                str(a.ballots),
                "--seed",
                str(a.seed),
                "--out",
                str(data),
            ],
            check=True,
        )
    out_root = HERE / "data" / "count" / "out"
    report: dict[str, object] = {
        "ballots": a.ballots,
        "candidates": 30,
        "seats": 9,
        "file": str(data.relative_to(ROOT)),
        "file_mb": round(data.stat().st_size / 2**20, 1),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "targets": {"ers97_s": 5, "scottish_s": 5, "meek_s": 30, "peak_rss_mb": 1024},
        "rules": {},
    }
    rules: dict[str, object] = {}
    for rule in a.rules.split(","):
        out, wall, rss = _timed(
            [sys.executable, "-c", CHILD, str(data), rule, str(out_root / f"{rule}-child")]
        )
        split = json.loads(out.strip().splitlines()[-1])
        _, cli_wall, cli_rss = _timed(
            [
                str(VENV_BIN / "omov"),
                "count",
                "run",
                str(data),
                "--rule",
                rule,
                "--out",
                str(out_root / rule),
                "--tie-seed",
                "bench",
            ]
        )
        rules[rule] = {
            **split,
            "child_wall_s": wall,
            "child_peak_rss_mb": rss,
            "cli_wall_s": cli_wall,
            "cli_peak_rss_mb": cli_rss,
        }
        print(json.dumps({rule: rules[rule]}), flush=True)
    report["rules"] = rules
    dest = HERE / "results" / "count.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {dest.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
