"""Rich progress bars on stderr for long work, one line per phase.

Why shared: every stage's CLI shows long work the same way (phase name, bar when the size
is known, count, elapsed time), and the cores stay free of printing.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class PhaseBars:
    """A ``dedupe.progress.Progress`` drawn with rich; a phase ends when the next starts."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=console.quiet,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> PhaseBars:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self._finish()
        self._progress.stop()

    def phase(self, name: str, total: int | None = None) -> None:
        self._finish()
        self._task = self._progress.add_task(name, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)

    def print(self, text: str) -> None:
        """A line above the bars (e.g. what was read from each file)."""
        self._progress.console.print(text)

    def _finish(self) -> None:
        if self._task is None:
            return
        task = self._progress.tasks[-1]
        total = task.total if task.total is not None else max(task.completed, 1)
        self._progress.update(self._task, total=total, completed=total)
