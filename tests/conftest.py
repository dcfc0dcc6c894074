"""Shared fixtures: where the reference data lives, and an in-process runner for ``omov``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("OMOV_SHARED", ROOT.parent / "shared"))  # beside the repo
REFDATA = Path(os.environ.get("OMOV_REFDATA") or SHARED / "refdata")  # a worktree sets either


@pytest.fixture(scope="session")
def refdata() -> Path:
    """../shared/refdata, or skip: it is read in place and never copied into the project."""
    if not REFDATA.is_dir():
        pytest.skip(f"reference data not found at {REFDATA} (it lives beside the repo in shared/)")
    return REFDATA
