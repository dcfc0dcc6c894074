"""Delivery at scale: emails to a local SMTP server, and postal packs to PDF.

    .venv/bin/python bench/bench_delivery.py --emails 100000 --packs 10000
    .venv/bin/python bench/bench_delivery.py --compare-pdf 2000      # fpdf2 vs reportlab

Email: an aiosmtpd server in its own process on 127.0.0.1 that accepts and discards every
message (it counts them); first its *bare* rate with a minimal client (one connection, one
pre-built message, ``smtplib.sendmail`` in a loop), then ``omov issue send`` (a subprocess, so
its peak RSS is its own) on a synthetic issue directory of N email members. Post: ``omov issue
print`` on one batch of N postal members with a 15-candidate ballot. Each figure is printed with
the 1-minute load average before and after (the machine is shared). Targets (issue 14):
≥ 300 messages/s; 10,000 packs in ≤ 60 s and ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from multiprocessing import Event, Process, Value
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from issue.tokens import format_token, new_tokens  # noqa: E402
from omov.textio import write_csv  # noqa: E402

NOTICE = {
    "format_version": "omov.notice/1",
    "title": "NEC election 2027",
    "organisations": ["Labour Party", "Momentum", "Unite"],
    "closes": "12:00 noon on Friday 29 January 2027",
    "return_by": "first post on Thursday 28 January 2027",
    "scrutineer": {
        "name": "Independent Scrutineer Ltd",
        "email": "scrutineer@example.org",
        "phone": "020 7946 0000",
        "address": ["1 Counting House", "London", "EC1A 1AA"],
    },
    "return_address": ["Freepost OMOV BALLOT", "London", "EC1A 1BB"],
    "pack_url": "https://vote.example.org/candidates_pack.html",
    "vote_page": "https://vote.example.org/ballot",
}


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def _serve(port: int, ready: Any, count: Any) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 2.0.0 Ok"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(10**6))
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare_rate(port: int, n: int, connections: int = 1) -> float:
    """A minimal client: a pre-built 3 KB message, ``sendmail`` in a loop on each connection."""
    import threading

    msg = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\n\r\n"
    msg += (b"x" * 70 + b"\r\n") * 40
    per = n // connections

    def loop() -> None:
        client = smtplib.SMTP("127.0.0.1", port)
        for _ in range(per):
            client.sendmail("a@example.org", ["b@example.org"], msg)
        client.quit()

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return per * connections / (time.perf_counter() - t)


def issue_dir(tmp: Path, emails: int, posts: int) -> Path:
    out = tmp / "issue"
    (out / "dispatch" / "batch-0001").mkdir(parents=True)
    (out / "notice.json").write_text(json.dumps(NOTICE))
    tokens = [format_token(t) for t in new_tokens(emails + posts)]
    cols = ("format_version", "batch", "person_id", "token", "full_name", "first_name")
    mail = [
        dict(
            zip(cols, ("omov.dispatch/1", "1", f"P{i:07d}", tokens[i], f"A M{i}", "A"), strict=True)
        )
        | {"email": f"alex{i}@example.org", "vote_link": f"https://v.example.org/b#{tokens[i]}"}
        for i in range(emails)
    ]
    write_csv(out / "dispatch_email.csv", (*cols, "email", "vote_link"), mail)
    post = [
        dict(
            zip(
                cols,
                ("omov.dispatch/1", "1", f"Q{i:07d}", tokens[emails + i], f"Sam Postal{i}", "Sam"),
                strict=True,
            )
        )
        | {
            "address": f"{i} Long Street Name, Flat {i % 40}",
            "town": "Leeds",
            "postcode": "LS1 1AA",
            "vote_link": "",
        }
        for i in range(posts)
    ]
    write_csv(
        out / "dispatch" / "batch-0001" / "dispatch_post.csv",
        (*cols, "address", "town", "postcode", "vote_link"),
        post,
    )
    cands = [
        {
            "ballot_number": i,
            "name": f"Candidate Name{i:02d} Surname",
            "organisation": ["Labour Party", "Momentum", "Unite"][i % 3],
        }
        for i in range(1, 16)
    ]
    (tmp / "ballot.json").write_text(
        json.dumps(
            {
                "format_version": "omov.ballot-definition/1",
                "election_id": "nec-2027",
                "title": "NEC election 2027",
                "seats": 9,
                "order": "alphabetical",
                "candidates": cands,
            }
        )
    )
    return out


def run_omov(args: list[str]) -> tuple[float, float, str]:
    """Run omov in a child; (seconds, child peak RSS in MB, output)."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "omov", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"omov {' '.join(args[:2])} failed:\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output


def bench_email(n: int, tmp: Path, connections: int) -> None:
    port = free_port()
    ready, count = Event(), Value("l", 0)
    server = Process(target=_serve, args=(port, ready, count), daemon=True)
    server.start()
    ready.wait(30)
    try:
        before = load()
        for k in sorted({1, connections}):
            bare = bare_rate(port, min(n, 20_000), k)
            print(
                f"smtp server bare rate (minimal client, {k} connection(s), {min(n, 20_000)} "
                f"msgs): {bare:.0f} msg/s [load {before} -> {load()}]"
            )
            before = load()
        out = issue_dir(tmp, n, 0)
        count.value = 0
        before = load()
        secs, rss, output = run_omov(
            [
                "issue",
                "send",
                "--out",
                str(out),
                "--smtp-host",
                "127.0.0.1",
                "--smtp-port",
                str(port),
                "--from",
                "Scrutineer <ballots@example.org>",
                "--connections",
                str(connections),
            ]
        )
        print(
            f"omov issue send: {n} emails in {secs:.1f} s = {n / secs:.0f} msg/s (server "
            f"counted {count.value}); peak RSS {rss:.0f} MB [load {before} -> {load()}]"
        )
        print("  " + output.strip().replace("\n", "\n  "))
    finally:
        server.terminate()


def bench_post(n: int, tmp: Path) -> None:
    out = issue_dir(tmp, 0, n)
    before = load()
    secs, rss, _ = run_omov(
        ["issue", "print", "--out", str(out), "--ballot", str(tmp / "ballot.json")]
    )
    pages = 2 * n
    pdf = out / "print" / "batch-0001.pdf"
    size = pdf.stat().st_size / 2**20
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
    shown = next((x for x in info.stdout.splitlines() if x.startswith("Pages:")), "no pdfinfo")
    print(f"pdfinfo: {' '.join(shown.split())}; stderr: {info.stderr.strip() or 'none'}")
    print(
        f"omov issue print: {n} packs = {pages} pages in {secs:.1f} s = {pages / secs:.0f} "
        f"pages/s; peak RSS {rss:.0f} MB; PDF {size:.0f} MB [load {before} -> {load()}]"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emails", type=int, default=0)
    ap.add_argument("--packs", type=int, default=0)
    ap.add_argument("--compare-pdf", type=int, default=0)
    ap.add_argument("--connections", type=int, default=2)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        if a.emails:
            bench_email(a.emails, Path(d) / "mail", a.connections)
        if a.packs:
            bench_post(a.packs, Path(d) / "post")
    if a.compare_pdf:
        from bench_pdf_compare import compare

        compare(a.compare_pdf)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this driver: {rss:.0f} MB")


if __name__ == "__main__":
    main()
