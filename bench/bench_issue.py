"""Benchmark ``omov issue run``: 1M persons → register, ledger, dispatch files and audit log.

Target (issue 5): ≤ 10 s and ≤ 1 GB peak RSS for 1M persons. The roll is synthetic (numpy, a
fixed seed; no ``random``), written once to bench/data/. The issue run itself happens in a fresh
child process so its peak RSS (``ru_maxrss`` of the child) excludes the generator.

    .venv/bin/python bench/bench_issue.py [--persons 1000000] [--consume 0]

Prints a JSON line with the phase split (from the audit log's timestamps is too coarse, so the
child times each phase itself through ``issue.issuer``'s public functions) and writes it to
bench/results/issue.json. ``--consume N`` also times ``Register.consume_many`` over N tokens
read back from the dispatch files (the intake's hot path; target 1M in ≤ 20 s).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import functools, json, resource, sys, time
from pathlib import Path
import pyarrow as pa, pyarrow.csv as pacsv
t0 = time.perf_counter()
from issue import dispatch, issuer, keys, ledger, register
members, out, consume = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
PHASES = {}

def timed(owner, name, label):
    f = getattr(owner, name)
    @functools.wraps(f)
    def g(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            PHASES[label] = round(PHASES.get(label, 0) + time.perf_counter() - t, 2)
    setattr(owner, name, g)

# Phases on the main thread, plus the two threads (ledger, dispatch) that overlap the register.
for owner, name, label in [
    (issuer, "read_roll", "read+validate roll"), (keys.MemberKey, "pseudonyms", "pseudonyms"),
    (issuer, "new_tokens", "generate tokens"), (keys.VoteKey, "token_hashes", "token HMACs"),
    (register.Register, "add_unused", "register insert (waits for threads)"),
    (ledger.Ledger, "begin_batch", "[thread] ledger insert"),
    (dispatch, "write_batch", "[thread] dispatch batch files"),
    (issuer, "_finalise_dispatch", "publish + live files + digests"),
]:
    timed(owner, name, label)
t_import = time.perf_counter()
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
s = issuer.issue_run(members, "bench-1", out)
t_run = time.perf_counter()
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
res = {"issued": s.issued, "email": s.by_channel["email"], "post": s.by_channel["post"],
       "import_s": round(t_import - t0, 2), "issue_run_s": round(t_run - t_import, 2),
       "issue_run_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
       "phases_s": PHASES}
res["rss_after_run_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
if consume:
    from issue.register import Register
    t = pacsv.read_csv(out / "dispatch_email.csv",
                       convert_options=pacsv.ConvertOptions(column_types={"token": pa.string()}))
    tokens = t.column("token").to_pylist()
    t2 = pacsv.read_csv(out / "dispatch_post.csv",
                        convert_options=pacsv.ConvertOptions(column_types={"token": pa.string()}))
    tokens = (tokens + t2.column("token").to_pylist())[:consume]
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        c0 = time.perf_counter()
        outcomes = reg.consume_many(tokens)
        res["consume_many_n"] = len(tokens)
        res["consume_many_s"] = round(time.perf_counter() - c0, 2)
        res["consume_won"] = outcomes.count("won")
res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(res))
"""

PHASES = r"""
import cProfile, pstats, sys
from pathlib import Path
from issue import issuer
cProfile.run('issuer.issue_run(Path(sys.argv[1]), "bench-1", Path(sys.argv[2]))', sys.argv[3])
"""


def make_members(path: Path, n: int, eligible_share: float = 1.0, seed: int = 2026) -> None:
    """A synthetic members.parquet in dedupe's contract: 2/3 with email, ``eligible_share``
    eligible (1.0 by default, so ``--persons 1000000`` issues exactly 1M tokens)."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("P", np.char.zfill(np.arange(n).astype(str), 8))
    first = np.array(["Alex", "Sam", "Jo", "Priya", "Kwame", "Siobhan", "Tomasz", "Aisha"])
    last = np.array(["Smith", "Jones", "Khan", "O'Neill", "Nowak", "Okafor", "Evans", "Patel"])
    f = first[rng.integers(0, len(first), n)]
    ln = last[rng.integers(0, len(last), n)]
    has_email = rng.random(n) < 0.67
    emails = np.char.add(np.char.add(np.char.lower(f), np.arange(n).astype(str)), "@example.org")
    numbers = np.char.zfill(rng.integers(0, 10_000_000, n).astype(str), 7)
    eligible = rng.random(n) < eligible_share
    table = pa.table(
        {
            "person_id": pa.array(ids),
            "full_name": pa.array(np.char.add(np.char.add(f, " "), ln)),
            "first_name": pa.array(f),
            "last_name": pa.array(ln),
            "email": pa.array(emails, mask=~has_email),
            "phone": pa.nulls(n, pa.string()),
            "address": pa.array(np.char.add(rng.integers(1, 400, n).astype(str), " High Street")),
            "town": pa.array(np.full(n, "Leeds")),
            "postcode": pa.array(np.full(n, "LS1 1AA")),
            "organisations": pa.array(np.full(n, "Labour;Momentum")),
            "membership_number": pa.array(numbers),
            "eligible": pa.array(eligible),
            "ineligible_reason": pa.array(np.where(eligible, "", "lapsed"), mask=eligible),
        }
    )
    table = table.replace_schema_metadata({"format_version": "omov.members/1"})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--consume", type=int, default=0)
    ap.add_argument("--eligible", type=float, default=1.0, help="share of persons eligible")
    ap.add_argument("--profile", action="store_true", help="also write a cProfile of the run")
    args = ap.parse_args(argv)
    data = HERE / "data" / "issue"
    members = data / f"members-{args.persons}-{args.eligible:g}.parquet"
    if not members.exists():
        t = time.perf_counter()
        make_members(members, args.persons, args.eligible)
        print(f"generated {members} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    out = data / "out"
    subprocess.run(["rm", "-rf", str(out)], check=True)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(members), str(out), str(args.consume)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    res.update(
        {
            "persons": args.persons,
            "child_wall_s": round(wall, 2),
            "loadavg": load,
            "child_peak_rss_mb": round(child_rss, 1),
            "targets": {"issue_run_s": 10, "peak_rss_mb": 1024, "consume_1M_s": 20},
        }
    )
    print(json.dumps(res))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "issue.json").write_text(json.dumps(res, indent=2) + "\n")
    if args.profile:
        subprocess.run(["rm", "-rf", str(out)], check=True)
        prof = data / "issue.prof"
        subprocess.run(
            [sys.executable, "-c", PHASES, str(members), str(out), str(prof)], cwd=ROOT, check=True
        )
        import pstats

        pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
