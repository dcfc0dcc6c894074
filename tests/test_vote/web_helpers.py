"""Builders for the web ballot tests: a small election on disk, an app, a real server process."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from intake_helpers import make_register

NAMES = ["Ann Able", "Bob Baker", "Cat Cole", "Dan Dale", "Eve Etta", "Fay Fox"]
ORGS = ["Momentum", "Unison", "Unite", "GMB", "CWU", "ASLEF"]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class WebElection:
    """Paths of a small election, and its tokens by state (canonical form)."""

    root: Path
    register: Path
    keys: Path
    ballot_def: Path
    pack: Path
    box: Path
    log: Path
    unused: list[str]
    revoked: list[str]
    used: list[str]
    extra: dict[str, Path] = field(default_factory=dict)


def write_ballot_def(path: Path, election: str = "e1", seats: int = 2) -> Path:
    from issue import candidates as cands
    from omov.fileio import write_json_atomic

    ballot = cands.BallotDefinition(
        election_id=election,
        seats=seats,
        title="Test NEC election",
        order="alphabetical",
        candidates=tuple(
            cands.BallotCandidate(i, n, o)
            for i, (n, o) in enumerate(zip(NAMES, ORGS, strict=True), 1)
        ),
    )
    write_json_atomic(path, cands.ballot_definition_to_dict(ballot))
    return path


def write_pack(path: Path) -> Path:
    """A minimal candidates' pack with the anchors the real one has (#candidate-N)."""
    items = "".join(
        f'<article class="candidate" id="candidate-{i}"><h2>{n}</h2><p>Statement.</p></article>'
        for i, n in enumerate(NAMES, 1)
    )
    path.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Candidates</title>'
        f"<style>body{{font-family:serif}}</style></head><body><main><h1>Candidates</h1>{items}"
        "</main></body></html>",
        encoding="utf-8",
    )
    return path


def build(tmp: Path, n_unused: int = 40, n_revoked: int = 3, n_used: int = 3) -> WebElection:
    from issue.tokens import new_tokens

    toks = new_tokens(n_unused + n_revoked + n_used)
    unused, revoked = toks[:n_unused], toks[n_unused : n_unused + n_revoked]
    used = toks[n_unused + n_revoked :]
    (tmp / "issue").mkdir(parents=True, exist_ok=True)
    db, key = make_register(tmp / "issue", unused=unused, revoked=revoked, used=used)
    pack_dir = tmp / "pack"
    pack_dir.mkdir(parents=True, exist_ok=True)
    bdef = write_ballot_def(pack_dir / "ballot_definition.json")
    pack = write_pack(pack_dir / "candidates_pack.html")
    return WebElection(
        tmp, db, key, bdef, pack, tmp / "box", tmp / "issue" / "audit.log", unused, revoked, used
    )


def iso(delta_hours: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=delta_hours)).isoformat()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_argv(e: WebElection, port: int, opens: str = "", closes: str = "") -> list[str]:
    return [
        sys.executable,
        "-m",
        "omov",
        "vote",
        "serve",
        "--register",
        str(e.register),
        "--keys",
        str(e.keys),
        "--ballot-def",
        str(e.ballot_def),
        "--box",
        str(e.box),
        "--opens",
        opens or iso(-1),
        "--closes",
        closes or iso(2),
        "--port",
        str(port),
        "--election-name",
        "Test Party NEC ballot",
        "--contact",
        "scrutineer@example.org",
        "--client-failures",
        "1000",
        "--global-failures",
        "100000",
    ]


@contextlib.contextmanager
def server(e: WebElection, **kw: str) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """A real `omov vote serve` process; yields (base URL, process, its stderr file)."""
    port = free_port()
    errlog = e.root / f"server-{port}.log"
    with errlog.open("wb") as err:
        proc = subprocess.Popen(
            serve_argv(e, port, **kw), stdout=err, stderr=err, cwd=ROOT, env=dict(os.environ)
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, proc, errlog)
        yield base, proc, errlog
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_up(base: str, proc: subprocess.Popen[bytes], errlog: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}: {errlog.read_text()}")
        try:
            if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("server did not come up")


def box_marks(box: Path) -> list[str]:
    """The marks in a live or sealed box (tests only: reads the file directly)."""
    import sqlite3

    name = "sealed.sqlite" if (box / "sealed.sqlite").exists() else "box.sqlite"
    conn = sqlite3.connect(box / name)
    try:
        return [m for (m,) in conn.execute("SELECT marks FROM ballots")]
    finally:
        conn.close()


def register_states(e: WebElection, tokens: list[str]) -> dict[str, str]:
    from issue.register import Register

    with Register.open(e.register, e.keys) as reg:
        return {t: reg.check(t) for t in tokens}
