"""Run every ``bench/bench_*.py`` in turn (``make bench``) and print where each wrote its figures.

Why a runner: speed and memory targets live here, never in timed tests; each stage's benchmark
is its own script so it can be run alone, and this runs them all the same way.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    """Run the named benchmarks (default: all), stop at the first failure."""
    wanted = set(argv)
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not wanted or p.stem in wanted)
    if not scripts:
        print("no benchmarks found", file=sys.stderr)
        return 2
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], check=False)
        elapsed = time.perf_counter() - started
        print(f"== {script.name}: exit {proc.returncode} after {elapsed:.1f} s")
        if proc.returncode != 0:
            return proc.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
