"""How the pipeline reports progress, without knowing who is watching.

Why a protocol: the core stays free of printing; the CLI plugs in rich progress bars on
stderr, tests and benchmarks plug in nothing.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """A sequence of phases, each with an optional number of steps."""

    def phase(self, name: str, total: int | None = None) -> None:
        """A new phase starts (the previous one is complete)."""

    def advance(self, steps: int = 1) -> None:
        """Steps of the current phase are done."""


class Silent:
    """Progress that goes nowhere."""

    def phase(self, name: str, total: int | None = None) -> None:
        return None

    def advance(self, steps: int = 1) -> None:
        return None
