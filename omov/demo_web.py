"""``make demo``'s online channel: a real ``omov vote serve`` on a free local port, fed by the
simulated members' online returns through the JSON API.

Each simulated online return (``returns/online.csv``: the token as the member typed it, and the
marks they meant) becomes one ``POST /api/v1/ballots``. Marks that the web ballot's review page
would refuse (no first preference, two first preferences, marks beyond the ballot) are not cast:
online, that member is asked to change the ballot, and in the demo they give up. The answers are
tallied by HTTP status, so the summary shows the server refusing re-used, revoked, unknown and
mistyped tokens exactly as the intake refuses them on paper.

The client is the standard library (``urllib``) in a few threads: the demo needs no extra
package. The server's failed-token limit is raised because every simulated member shares
127.0.0.1.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from vote import intake

WORKERS = 8


@dataclass(frozen=True)
class WebPaths:
    register: Path
    keys: Path
    ballot_def: Path
    pack: Path
    box: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(paths: WebPaths, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``omov vote serve`` in its own process, open from a minute ago for an hour."""
    now = dt.datetime.now(dt.UTC)
    argv = [
        sys.executable,
        "-m",
        "omov",
        "vote",
        "serve",
        "--register",
        str(paths.register),
        "--keys",
        str(paths.keys),
        "--ballot-def",
        str(paths.ballot_def),
        "--pack",
        str(paths.pack),
        "--box",
        str(paths.box),
        "--opens",
        (now - dt.timedelta(minutes=1)).isoformat(),
        "--closes",
        (now + dt.timedelta(hours=1)).isoformat(),
        "--port",
        str(port),
        "--election-name",
        "omov demo ballot",
        "--client-failures",
        "100000",
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as fh:
        return subprocess.Popen(argv, stdout=fh, stderr=fh)  # noqa: S603 (our own command)


def wait_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def stop_server(proc: subprocess.Popen[bytes]) -> int:
    """SIGINT: the server finishes queued ballots, then exits."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return int(proc.returncode or 0)


def _post(base: str, token: str, ranking: list[int]) -> int:
    body = json.dumps({"token": token, "ranking": ranking}).encode()
    req = urllib.request.Request(  # noqa: S310 (loopback URL we built)
        base + "/api/v1/ballots",
        data=body,
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def online_ballots(online_csv: Path, ncand: int) -> tuple[list[tuple[str, list[int]]], int]:
    """(token as typed, ranking) for each return the web ballot accepts; how many it refuses."""
    ballots: list[tuple[str, list[int]]] = []
    refused = 0
    with online_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            paper = intake.classify_paper(row.get("preferences") or "", ncand)
            if paper.status == intake.VALID:
                ballots.append((row.get("token") or "", list(paper.ranking)))
            elif paper.status == intake.BLANK:
                ballots.append((row.get("token") or "", []))
            else:
                refused += 1
    return ballots, refused


def cast_all(base: str, ballots: list[tuple[str, list[int]]]) -> Counter[int]:
    """POST every ballot (a few at a time); returns how many got each HTTP status."""
    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = pool.map(lambda b: _post(base, b[0], b[1]), ballots)
        return Counter(statuses)


def run_online_channel(
    paths: WebPaths, online_csv: Path, ncand: int, log: Path
) -> dict[str, object]:
    """Serve, cast, stop; returns a summary (statuses, refused papers, server exit code)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(paths, port, log)
    try:
        if not wait_up(base, proc):
            return {"ok": False, "why": f"the server did not start (see {log})"}
        ballots, refused = online_ballots(online_csv, ncand)
        started = time.perf_counter()
        statuses = cast_all(base, ballots)
        seconds = time.perf_counter() - started
    finally:
        code = stop_server(proc)
    ok = code == 0 and 0 not in statuses and 500 not in statuses and 503 not in statuses
    return {
        "ok": ok,
        "url": base,
        "posted": len(ballots),
        "refused_by_review": refused,
        "statuses": dict(sorted(statuses.items())),
        "seconds": round(seconds, 2),
        "server_exit": code,
    }
