"""Bench (not a test): intake of N returned ballots against an N-token register.

Target (issue 7): 1M returned ballots, 1M-token register, <= 20 s and <= 1 GB peak RSS.

    .venv/bin/python bench/bench_intake.py --n 1000000 --work /tmp/omov-bench-intake

With ``--resume-at K`` it also times crash recovery: an intake SIGKILLed after its K-th register
transaction (``OMOV_TEST_KILL_AT=intake_after_consume_K``; 50,000 tokens each), then the re-run
that resumes it (every token the killed attempt used is reclaimed), on a fresh register copy.

Setup (tokens, register, returned-ballot file) is not timed. The intake runs in a child process
(``vote.intake_service.take_in``, exactly what ``omov vote intake`` does), so its peak RSS is the
child's alone. Then each phase is timed on its own over the same rows, for the split.
The machine is shared: timings are pessimistic when others are busy.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import json, sys, time
from pathlib import Path
import vote.intake as core
import vote.intake_register as ir
import vote.intake_service as ic

wall, cpu = {}, {}

def timed(name, fn):
    def wrapper(*a, **k):
        t, c = time.perf_counter(), time.process_time()
        try:
            return fn(*a, **k)
        finally:
            wall[name] = wall.get(name, 0) + time.perf_counter() - t
            cpu[name] = cpu.get(name, 0) + time.process_time() - c
    return wrapper

ic.normalise = timed("normalise_tokens", ic.normalise)
core.classify_paper = timed("classify_papers", core.classify_paper)
ir.RegisterAdapter.consume_many = timed("register_hmac_sort_consume",
                                        ir.RegisterAdapter.consume_many)
ic.write_outputs = timed("write_ballots_blt_csv_rejected", ic.write_outputs)
ic.write_report = timed("write_report", ic.write_report)
a = [Path(x) for x in sys.argv[1:6]]
t, c = time.perf_counter(), time.process_time()
run = timed("total", ic.take_in)
run(ic.IntakeRequest([a[0]], [], a[1], a[2], a[3], a[4], None))
rest = wall["total"] - sum(v for k, v in wall.items() if k != "total")
wall["read_rows_and_bookkeeping"] = rest
cpu["read_rows_and_bookkeeping"] = cpu["total"] - sum(v for k, v in cpu.items() if k != "total")
print(json.dumps({"wall": wall, "cpu": cpu}))
"""


def setup(n: int, ncand: int, work: Path, seed: int) -> dict[str, Path]:
    """Register with n tokens (1 % revoked), and n returned rows of mixed kinds."""
    sys.path.insert(0, str(ROOT))
    from issue import candidates as cands
    from issue.keys import VoteKey, write_vote_key
    from issue.register import Register
    from issue.tokens import new_tokens
    from omov.fileio import write_json_atomic

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    tokens = new_tokens(n)
    key = VoteKey("bench", bytes(rng.integers(0, 256, 32, dtype=np.uint8)))
    write_vote_key(work / "vote.key", key)
    db = work / "register.sqlite"
    revoked = tokens[: n // 100]
    with Register.open(db, key, create=True) as reg:
        reg.add_unused(key.token_hashes(tokens))
        reg.add_unused([], revoke=key.token_hashes(revoked))
    ballot = cands.BallotDefinition(
        "bench",
        9,
        "Bench",
        "alphabetical",
        tuple(cands.BallotCandidate(i, f"Candidate {i:02d}", "Org") for i in range(1, ncand + 1)),
    )
    write_json_atomic(work / "ballot.json", cands.ballot_definition_to_dict(ballot))
    returns = work / "online.csv"
    _write_returns(returns, tokens, n, ncand, rng)
    return {"returns": returns, "db": db, "key": work / "vote.key", "ballot": work / "ballot.json"}


def _marks(rng: np.random.Generator, ncand: int) -> str:
    k = int(rng.integers(1, 16))
    who = rng.permutation(ncand)[:k]
    marks = [""] * ncand
    for rank, c in enumerate(who, start=1):
        marks[int(c)] = str(rank)
    return ";".join(marks)


def _write_returns(
    path: Path, tokens: list[str], n: int, ncand: int, rng: np.random.Generator
) -> None:
    """~95 % first use, 1 % each re-used, revoked, unknown, malformed, blank."""
    from issue.tokens import format_token, new_tokens

    pool = [_marks(rng, ncand) for _ in range(min(n, 200_000))]  # ~80 % distinct at 1M
    kinds = rng.integers(0, 100, n)
    unknown = iter(new_tokens(n // 50 + 10))
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["token", "preferences"])
        nxt = n // 100  # tokens before this are revoked
        for i in range(n):
            kind = int(kinds[i])
            prefs = pool[int(rng.integers(0, len(pool)))] if i % 5 else _marks(rng, ncand)
            if kind == 0 and i > 0:
                tok = tokens[max(n // 100, nxt - 1)]  # re-used
            elif kind == 1:
                tok = tokens[i % (n // 100)]  # revoked
            elif kind == 2:
                tok = next(unknown)
            elif kind == 3:
                tok = "BAD-" + str(i)
            else:
                tok = tokens[nxt] if nxt < n else next(unknown)
                nxt += 1
            if kind == 4:
                prefs = ""
            w.writerow([format_token(tok) if i % 2 and len(tok) == 21 else tok, prefs])


def run_child(
    paths: dict[str, Path], out: Path, kill_at: str | None = None
) -> tuple[float, dict[str, Any], int, float]:
    """Wall time, in-process split, peak RSS (KiB) and CPU seconds of one intake (a child).

    With ``kill_at`` the child SIGKILLs itself there (no split then). CPU seconds are this
    child's alone; peak RSS is the largest of all children so far (getrusage's rule).
    """
    env = {k: v for k, v in os.environ.items() if k != "OMOV_TEST_KILL_AT"}
    if kill_at:
        env["OMOV_TEST_KILL_AT"] = kill_at
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(paths["returns"]),
            str(paths["db"]),
            str(paths["key"]),
            str(paths["ballot"]),
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=not kill_at,
        env=env,
    )
    wall = time.perf_counter() - t
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime + usage.ru_stime) - (before.ru_utime + before.ru_stime)
    if kill_at:
        if proc.returncode != -9:
            raise RuntimeError(f"the intake was not killed at {kill_at}: {proc.stderr[-2000:]}")
        return wall, {}, usage.ru_maxrss, cpu
    split = json.loads(proc.stdout.strip().splitlines()[-1])
    return wall, split, usage.ru_maxrss, cpu


def resume(paths: dict[str, Path], work: Path, k: int) -> dict[str, Any]:
    """Kill an intake after its k-th consume transaction, then time the run that resumes it."""
    shutil.copy(work / "pristine.sqlite", paths["db"])
    out = work / "out-resumed"
    shutil.rmtree(out, ignore_errors=True)
    killed_wall, _, _, killed_cpu = run_child(paths, out, f"intake_after_consume_{k}")
    wall, _, rss, cpu = run_child(paths, out)
    report = json.loads((out / "intake_report.json").read_text())
    return {
        "killed_after_transaction": k,
        "killed_run_wall_s": round(killed_wall, 2),
        "killed_run_cpu_s": round(killed_cpu, 2),
        "resume_wall_s": round(wall, 2),
        "resume_cpu_s": round(cpu, 2),
        "peak_rss_mib_any_run": round(rss / 1024, 1),
        "run": report["run"],
        "totals": {k: v for k, v in report["totals"]["by_class"].items() if v},
    }


def phases(paths: dict[str, Path], work: Path) -> dict[str, float]:
    """Each phase alone over the same file (on a fresh copy of the register)."""
    from issue.register import Register
    from vote import intake as core
    from vote.intake_read import Channel, normalise, read_rows
    from vote.intake_register import RegisterAdapter

    split: dict[str, float] = {}
    t = time.perf_counter()
    rows = list(read_rows(Channel("online", paths["returns"])))
    split["read_csv"] = time.perf_counter() - t
    t = time.perf_counter()
    canon = [c for c, _ in normalise([r.token for r in rows])]
    split["normalise_tokens"] = time.perf_counter() - t
    good = [c for c in canon if c is not None]
    shutil.copy(paths["db"], work / "copy.sqlite")
    with Register.open(work / "copy.sqlite", paths["key"]) as reg:
        t = time.perf_counter()
        hashes = reg.key.token_hashes(good)
        split["hmac"] = time.perf_counter() - t
        del hashes
        t = time.perf_counter()
        RegisterAdapter(reg).consume_many(list(dict.fromkeys(good)))
        split["register_consume_incl_hmac_and_sort"] = time.perf_counter() - t
    t = time.perf_counter()
    cache: dict[str, core.Paper] = {}
    for r in rows:
        if r.preferences not in cache:
            cache[r.preferences] = core.classify_paper(r.preferences, 30)
    split["classify_papers"] = time.perf_counter() - t
    return split


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--cands", type=int, default=30)
    ap.add_argument("--work", type=Path, default=Path("/tmp/omov-bench-intake"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--phases", action="store_true", help="also time each phase alone")
    ap.add_argument(
        "--resume-at",
        type=int,
        default=0,
        metavar="K",
        help="also kill an intake after its K-th consume transaction and time the "
        "re-run that resumes it",
    )
    ap.add_argument(
        "--json-out",
        type=Path,
        default=ROOT / "bench" / "results" / "intake.json",
        help="where the figures are written (JSON)",
    )
    args = ap.parse_args()
    t = time.perf_counter()
    paths = setup(args.n, args.cands, args.work, args.seed)
    print(f"setup (not timed): {time.perf_counter() - t:.1f} s", flush=True)
    shutil.copy(paths["db"], args.work / "pristine.sqlite")
    wall, split, rss, cpu = run_child(paths, args.work / "out")
    report = json.loads((args.work / "out" / "intake_report.json").read_text())
    result = {
        "n": args.n,
        "candidates": args.cands,
        "process_wall_s": round(wall, 2),
        "process_cpu_s": round(cpu, 2),
        "peak_rss_mib": round(rss / 1024, 1),
        "split_wall_s": {k: round(v, 2) for k, v in split["wall"].items()},
        "split_cpu_s": {k: round(v, 2) for k, v in split["cpu"].items()},
        "load_average_1min": round(os.getloadavg()[0], 2),
        "totals": {k: v for k, v in report["totals"]["by_class"].items() if v},
    }
    result["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["targets"] = {"wall_s": 20, "peak_rss_mib": 1024}
    result["target_met"] = wall <= 20 and rss / 1024 <= 1024
    if args.resume_at:
        result["resume"] = resume(paths, args.work, args.resume_at)
        result["resume"]["same_totals_as_uninterrupted"] = (
            result["resume"]["totals"] == result["totals"]
        )
    result["note"] = (
        "2-core machine shared with other work: wall times are pessimistic; "
        "setup (register, returns file) is not timed"
    )
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2), flush=True)
    if args.phases:
        shutil.copy(args.work / "pristine.sqlite", paths["db"])
        alone = {k: round(v, 2) for k, v in phases(paths, args.work).items()}
        print(json.dumps({"phases_alone_s": alone}, indent=2))
    ok = wall <= 20 and rss / 1024 <= 1024
    print(
        f"target <= 20 s wall and <= 1024 MiB: {'met' if ok else 'NOT met'} (wall {wall:.1f} s, "
        f"CPU {cpu:.1f} s: on a shared machine CPU time is the better guide)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
