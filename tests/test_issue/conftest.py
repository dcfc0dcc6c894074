"""Make ``issue_fixtures`` importable (pytest runs with --import-mode=importlib), and
``intake_helpers`` from tests/test_vote (the candidates' tests share its roll writer and runner)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (str(HERE), str(HERE.parent / "test_vote")):
    if folder not in sys.path:
        sys.path.insert(0, folder)
