"""kill -9 at any moment of `omov issue run` / `reissue`, then a re-run: every eligible person holds
exactly one active token, and no dispatch row points at a token the register lacks."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from issue_fixtures import roll

from issue import consistency

ROOT = Path(__file__).resolve().parents[2]
KILL_POINTS = [
    "batch_start",
    "before_register_commit",
    "after_register",
    "after_commit",
    "live_email_written",
    "live_post_written",
    "after_dispatch",
]


def _omov(args: list[str], kill_at: str | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop("OMOV_TEST_KILL_AT", None)
    if kill_at:
        env["OMOV_TEST_KILL_AT"] = kill_at
    return subprocess.Popen(
        [sys.executable, "-m", "omov", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_args(members: Path, out: Path, *extra: str) -> list[str]:
    return [
        "issue",
        "run",
        "--members",
        str(members),
        "--election",
        "e1",
        "--out",
        str(out),
        *extra,
    ]


def _finish(args: list[str], kill_at: str | None = None) -> int:
    proc = _omov(args, kill_at)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, -signal.SIGKILL), err
    return proc.returncode


def _rerun(args: list[str]) -> int:
    """The re-run after a crash, in-process (saves an interpreter start per test)."""
    from omov.cli import run

    assert os.environ.get("OMOV_TEST_KILL_AT") is None
    return run(args)


def _assert_consistent(members: Path, out: Path, eligible: int) -> None:
    assert consistency.verify_consistency(out, members) == []
    assert not list((out / "dispatch").glob(".batch-*"))
    rows = 0
    for ch in ("email", "post"):
        with open(out / f"dispatch_{ch}.csv", newline="") as fh:
            rows += sum(1 for _ in csv.DictReader(fh))
    assert rows == eligible


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_at_each_step_of_a_first_run(tmp_path: Path, point: str) -> None:
    members = roll(tmp_path / "m.parquet", range(1, 301))
    out = tmp_path / "out"
    assert _finish(_run_args(members, out), point) == -signal.SIGKILL
    assert _rerun(_run_args(members, out)) == 0
    _assert_consistent(members, out, 300)


@pytest.mark.parametrize(
    "point", ["before_register_commit", "after_register", "live_email_written"]
)
def test_kill_during_a_roll_change_run_and_a_reissue(tmp_path: Path, point: str) -> None:
    out = tmp_path / "out"
    first = roll(tmp_path / "m1.parquet", range(1, 101))
    assert _rerun(_run_args(first, out)) == 0
    second = roll(tmp_path / "m2.parquet", range(3, 121))  # P1, P2 vanish; P101..P120 new
    args = _run_args(second, out, "--on-roll-change", "revoke-vanished")
    assert _finish(args, point) == -signal.SIGKILL
    assert _rerun(args) == 0
    _assert_consistent(second, out, 118)
    reissue = [
        "issue",
        "reissue",
        "P0000050",
        "--reason",
        "lost",
        "--members",
        str(second),
        "--out",
        str(out),
    ]
    assert _finish(reissue, point) == -signal.SIGKILL
    assert _rerun(_run_args(second, out)) == 0  # any writing command recovers first
    _assert_consistent(second, out, 118)


def _pending(out: Path) -> bool:
    return any((out / "dispatch").glob(".batch-*.pending"))


def _wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


MOMENTS = {
    "writing_dispatch": _pending,
    "filling_ledger": lambda out: _wal_bytes(out / "ledger.sqlite") > 200_000,
    "filling_register": lambda out: _wal_bytes(out / "register.sqlite") > 200_000,
    "batch_published": lambda out: (out / "dispatch" / "batch-0001").exists(),
    "live_file_written": lambda out: (out / "dispatch_email.csv").exists(),
}


@pytest.mark.slow
@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_kill_from_outside_at_an_observed_moment(tmp_path: Path, moment: str) -> None:
    """A plain external ``kill -9`` the instant a file shows the run reached ``moment``."""
    members = roll(tmp_path / "m.parquet", range(1, 40_001))
    out = tmp_path / "out"
    proc = _omov(_run_args(members, out))
    reached = MOMENTS[moment]
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if reached(out):
                break
        except OSError:  # a file vanished while we looked (renamed into place)
            pass
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=120)
    assert _rerun(_run_args(members, out)) == 0
    _assert_consistent(members, out, 40_000)
