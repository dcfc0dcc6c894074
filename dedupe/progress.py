"""How the pipeline reports progress, without knowing who is watching.

Why a protocol: the core stays free of printing; the CLI plugs in rich progress bars on
stderr, tests and benchmarks plug in nothing. Reading and cleaning report *rows* (read or
cleaned so far, of an estimated total that is corrected as each file is read), so a person
sees a rate and an ETA instead of a file counter; later phases are one bar each.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable


class RowStage(StrEnum):
    """The two row-by-row stages of loading."""

    READ = "reading rows"
    CLEAN = "cleaning rows"


class Progress(Protocol):
    """A sequence of phases, each with an optional number of steps."""

    def phase(self, name: str, total: int | None = None) -> None:
        """A new phase starts (the previous one is complete)."""

    def advance(self, steps: int = 1) -> None:
        """Steps of the current phase are done."""


@runtime_checkable
class RowProgress(Protocol):
    """Progress that can also show rows read and cleaned (``dedupe.loading`` uses it)."""

    def rows_expected(self, total: int) -> None:
        """Reading and cleaning start; ``total`` rows are expected (an estimate)."""

    def rows_total_changed(self, delta: int) -> None:
        """A file was read: the expected total was ``delta`` rows off."""

    def rows_done(self, stage: RowStage, n: int) -> None:
        """``n`` more rows went through ``stage``."""


class Silent:
    """Progress that goes nowhere."""

    def phase(self, name: str, total: int | None = None) -> None:
        return None

    def advance(self, steps: int = 1) -> None:
        return None
