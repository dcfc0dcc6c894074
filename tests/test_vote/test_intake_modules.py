"""The intake code stays readable: every vote/ module under 500 lines, and the CLI module thin.

Before: vote/intake_cli.py held reading, token normalising, the register adapter, outputs,
report, journal steps, merge and the commands in 726 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

VOTE = Path(__file__).resolve().parents[2] / "vote"


def test_every_vote_module_is_under_500_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in VOTE.glob("*.py")}
    assert sizes and all(n < 500 for n in sizes.values()), sizes


def test_the_cli_module_only_parses_calls_and_renders() -> None:
    """Each command calls one library function; no file, register or journal work in the CLI."""
    tree = ast.parse((VOTE / "intake_cli.py").read_text(encoding="utf-8"))
    imported = {
        n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module is not None
    }
    assert not imported & {"issue.register", "vote.intake_journal", "omov.fileio", "csv"}
    assert len((VOTE / "intake_cli.py").read_text().splitlines()) < 300
