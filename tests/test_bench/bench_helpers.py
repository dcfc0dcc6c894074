"""Import the bench/ scripts (a folder of scripts, not a package) for tests."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"
ROOT = BENCH.parent


def bench_module(name: str) -> ModuleType:
    """``bench/<name>.py`` as a module (bench/ goes on sys.path, as when run as a script)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)
