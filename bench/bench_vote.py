"""Bench (not a test): N distinct voters cast through the JSON API of a real ``omov vote serve``.

Target (issue 13): 20,000 voters at 100 concurrent connections on the 2-core machine:
>= 500 accepted ballots/s, p99 <= 200 ms, 0 errors, 0 double counts, and >= 0.6 x the floor —
the same client against a bare endpoint of the same framework (Starlette on uvicorn, same
settings) doing one durable SQLite insert (WAL, synchronous=FULL) per request.

    .venv/bin/python bench/bench_vote.py --n 20000 --concurrency 100 --work /tmp/omov-bench-vote

Loopback only; bounded by ``--n`` and ``--timeout`` (seconds per phase). The client is aiohttp's
ClientSession (100 workers on one event loop, one connection each), in this process; each server
runs in its own process, so its peak RSS (VmHWM) is its own. Why aiohttp and not httpx (which
the tests use): httpx spent ~6 ms of CPU per request, so on this shared machine the client,
not the server, set the pace; aiohttp needs ~0.2 ms. Setup (tokens, register, ballot
definition) is not timed. After the run: the box must hold exactly N ballots, the register
exactly N used tokens, and every voter exactly one 201. The machine is shared by several
engineers: the load average is recorded beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
NCAND = 16

FLOOR_APP = """
import sqlite3, sys, threading
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

path = sys.argv[1]
local = threading.local()
setup = sqlite3.connect(path)
setup.execute("PRAGMA journal_mode = WAL")
setup.execute("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, body TEXT NOT NULL)")
setup.commit()
setup.close()

def conn():
    c = getattr(local, "c", None)
    if c is None:
        c = local.c = sqlite3.connect(path, isolation_level=None, timeout=60)
        c.execute("PRAGMA synchronous = FULL")
        c.execute("PRAGMA busy_timeout = 60000")
    return c

def insert(body):
    c = conn()
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO t (body) VALUES (?)", (body,))
    c.execute("COMMIT")

async def ballots(request: Request):
    doc = await request.json()
    from starlette.concurrency import run_in_threadpool
    await run_in_threadpool(insert, str(doc.get("ranking")))
    return JSONResponse({"confirmation": "x"}, status_code=201)

async def health(request: Request):
    return JSONResponse({"status": "ok"})

app = Starlette(routes=[Route("/api/v1/ballots", ballots, methods=["POST"]),
                        Route("/api/v1/health", health)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=False,
            log_level="warning", server_header=False, date_header=False)
"""


def aiohttp_version() -> str:
    import aiohttp

    return str(aiohttp.__version__)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_election(work: Path, n: int) -> dict[str, Any]:
    """A register of n unused tokens, a vote key, a 16-candidate ballot definition and pack."""
    import secrets

    from issue import candidates as cands
    from issue.keys import VoteKey, write_vote_key
    from issue.register import Register
    from issue.tokens import new_tokens
    from omov.fileio import write_json_atomic

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    tokens = new_tokens(n)
    key = VoteKey("bench-vote", secrets.token_bytes(32))
    write_vote_key(work / "vote.key", key)
    with Register.open(work / "register.sqlite", key, create=True) as reg:
        reg.add_unused(key.token_hashes(tokens))
    ballot = cands.BallotDefinition(
        "bench-vote",
        9,
        "Bench election",
        "alphabetical",
        tuple(cands.BallotCandidate(i, f"Candidate {i}", "Org") for i in range(1, NCAND + 1)),
    )
    write_json_atomic(work / "ballot_definition.json", cands.ballot_definition_to_dict(ballot))
    (work / "candidates_pack.html").write_text("<!doctype html><title>pack</title>")
    return {"tokens": tokens, "work": work}


def rankings(n: int, seed: int = 13) -> list[list[int]]:
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        order = list(range(1, NCAND + 1))
        rng.shuffle(order)
        out.append(order[: rng.randint(1, NCAND)])
    return out


def start_omov(work: Path, port: int) -> subprocess.Popen[bytes]:
    now = dt.datetime.now(dt.UTC)
    argv = [
        sys.executable,
        "-m",
        "omov",
        "vote",
        "serve",
        "--register",
        str(work / "register.sqlite"),
        "--keys",
        str(work / "vote.key"),
        "--ballot-def",
        str(work / "ballot_definition.json"),
        "--box",
        str(work / "box"),
        "--opens",
        (now - dt.timedelta(minutes=1)).isoformat(),
        "--closes",
        (now + dt.timedelta(hours=2)).isoformat(),
        "--port",
        str(port),
    ]
    log = (work / "omov-server.log").open("wb")
    return subprocess.Popen(argv, stdout=log, stderr=log, cwd=ROOT)


def start_floor(work: Path, port: int) -> subprocess.Popen[bytes]:
    log = (work / "floor-server.log").open("wb")
    argv = [sys.executable, "-c", FLOOR_APP, str(work / "floor.sqlite"), str(port)]
    return subprocess.Popen(argv, stdout=log, stderr=log, cwd=ROOT)


def wait_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited {proc.returncode} before it was up")
        try:
            if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("server did not come up")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


async def load(
    base: str, bodies: list[dict[str, Any]], concurrency: int, timeout: float
) -> dict[str, Any]:
    """``concurrency`` workers, one connection each, post every body once; latencies in ms."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    statuses: list[int] = [0] * len(bodies)
    latencies: list[float] = []
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout_each = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        base_url=base, connector=connector, timeout=timeout_each
    ) as client:

        async def worker() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    async with client.post("/api/v1/ballots", json=bodies[i]) as r:
                        await r.read()
                        statuses[i] = r.status
                except (aiohttp.ClientError, TimeoutError):
                    statuses[i] = -1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(worker() for _ in range(concurrency))), timeout=timeout
        )
        wall = time.perf_counter() - started
    latencies.sort()
    accepted = statuses.count(201)

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {
        "requests": len(bodies),
        "accepted": accepted,
        "errors": len(bodies) - accepted,
        "statuses": dict(Counter(statuses)),
        "wall_s": round(wall, 2),
        "ballots_per_s": round(accepted / wall, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 1),
        "statuses_per_voter": statuses,
    }


def count_box(work: Path, tokens: list[str]) -> dict[str, int]:
    from issue.register import Register

    conn = sqlite3.connect(work / "box" / "box.sqlite")
    ballots = int(conn.execute("SELECT count(*) FROM ballots").fetchone()[0])
    conn.close()
    with Register.open(work / "register.sqlite", work / "vote.key") as reg:
        used = reg.counts()["used"]
    return {"box_ballots": ballots, "register_used": used, "voters": len(tokens)}


def run_phase(
    name: str, start: Any, work: Path, bodies: list[dict[str, Any]], args: Any
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(work, port)
    try:
        wait_up(base, proc)
        cpu0, client0 = cpu_s(proc.pid), time.process_time()
        result = asyncio.run(load(base, bodies, args.concurrency, args.timeout))
        result["server_cpu_s"] = round(cpu_s(proc.pid) - cpu0, 2)
        result["client_cpu_s"] = round(time.process_time() - client0, 2)
        result["server_peak_rss_mib"] = peak_rss_mib(proc.pid)
    finally:
        result_exit = stop(proc)
    result["server_exit"] = result_exit
    print(
        f"{name}: {result['ballots_per_s']} ballots/s, p50 {result['p50_ms']} ms, p99 "
        f"{result['p99_ms']} ms, errors {result['errors']}, "
        f"RSS {result['server_peak_rss_mib']} MiB",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per phase")
    parser.add_argument("--work", type=Path, default=Path("/tmp/omov-bench-vote"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "vote.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    election = setup_election(args.work, args.n)
    tokens: list[str] = election["tokens"]
    ranks = rankings(args.n)
    bodies = [{"token": t, "ranking": r} for t, r in zip(tokens, ranks, strict=True)]
    floor = run_phase(
        "floor (bare Starlette + 1 durable insert)", start_floor, args.work, bodies, args
    )
    omov = run_phase("omov vote serve", start_omov, args.work, bodies, args)
    books = count_box(args.work, tokens)
    per_voter = omov.pop("statuses_per_voter")
    floor.pop("statuses_per_voter")
    double = books["box_ballots"] - per_voter.count(201)
    ratio = omov["ballots_per_s"] / floor["ballots_per_s"] if floor["ballots_per_s"] else 0.0
    doc = {
        "n": args.n,
        "concurrency": args.concurrency,
        "client": f"aiohttp {aiohttp_version()} ClientSession, {args.concurrency} workers",
        "omov": omov,
        "floor": floor,
        "ratio_to_floor": round(ratio, 2),
        "books": books,
        "double_counts": max(0, double),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "targets": {
            "ballots_per_s>=500": omov["ballots_per_s"] >= 500,
            "p99_ms<=200": omov["p99_ms"] <= 200,
            "errors==0": omov["errors"] == 0,
            "double_counts==0": double == 0
            and books["box_ballots"] == books["register_used"] == args.n,
            "ratio_to_floor>=0.6": ratio >= 0.6,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps({k: v for k, v in doc.items() if k not in ("omov", "floor")}, indent=2))
    print(f"wrote {args.out}")
    return 0 if all(doc["targets"].values()) else 3


if __name__ == "__main__":
    sys.exit(main())
