"""Helpers for dedupe tests: write small hand-made exports in any encoding."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """write(name, text, encoding='utf-8') -> Path of a file in a temp folder."""

    def _write(name: str, text: str, encoding: str = "utf-8", raw: bytes | None = None) -> Path:
        p = tmp_path / name
        p.write_bytes(raw if raw is not None else text.encode(encoding))
        return p

    return _write
