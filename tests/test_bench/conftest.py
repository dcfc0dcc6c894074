"""Make ``bench_helpers`` and bench/ scripts importable (pytest uses --import-mode=importlib)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parents[1] / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
