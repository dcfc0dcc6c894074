"""Rich progress on stderr for ``omov dedupe run``: rows with rate and ETA, then a bar per phase.

Why in dedupe: only dedupe reports rows (reading and cleaning a million-row export takes most
of a minute); the other stages show a spinner while they work.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from dedupe.progress import RowStage


class _Count(ProgressColumn):
    """ "37,245/200,000 rows" for row tasks; "n/m" for a phase of known size; else nothing."""

    def render(self, task: Task) -> Text:
        if task.total is None or not (task.fields.get("rows") or task.fields.get("sized")):
            return Text("")
        unit = " rows" if task.fields.get("rows") else ""
        return Text(f"{task.completed:,.0f}/{task.total:,.0f}{unit}", style="progress.download")


class _RateAndEta(ProgressColumn):
    """Rows per second and the time left, for row tasks still running."""

    def render(self, task: Task) -> Text:
        if not task.fields.get("rows") or not task.speed or task.finished:
            return Text("")
        left = task.time_remaining
        eta = f", {int(left) // 60}:{int(left) % 60:02d} left" if left is not None else ""
        return Text(f"{task.speed:,.0f} rows/s{eta}", style="progress.data.speed")


class RowBars:
    """``Progress`` and ``RowProgress`` drawn with rich on the given console."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            _Count(),
            _RateAndEta(),
            TimeElapsedColumn(),
            console=console,
            disable=console.quiet,
        )
        self._task: TaskID | None = None
        self._rows: dict[RowStage, TaskID] = {}
        self._phases = 0

    def __enter__(self) -> RowBars:
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

    def rows_expected(self, total: int) -> None:
        self._finish()
        for stage in RowStage:
            self._rows[stage] = self._progress.add_task(stage.value, total=total, rows=True)

    def rows_total_changed(self, delta: int) -> None:
        for task_id in self._rows.values():
            task = self._progress.tasks[task_id]
            self._progress.update(task_id, total=max(0, (task.total or 0) + delta))

    def rows_done(self, stage: RowStage, n: int) -> None:
        if stage in self._rows:
            self._progress.advance(self._rows[stage], n)

    def phase(self, name: str, total: int | None = None) -> None:
        """A later phase: one bar each (pulsing while its size is unknown), ticked when done."""
        self._finish()
        self._phases += 1
        self._task = self._progress.add_task(name, total=total, sized=total is not None)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)

    def print(self, text: str) -> None:
        """Lines above the bars (e.g. how each file was read)."""
        self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def _finish(self) -> None:
        for task_id in self._rows.values():
            task = self._progress.tasks[task_id]
            self._progress.update(task_id, total=task.completed)
        self._rows = {}
        if self._task is None:
            return
        task = self._progress.tasks[self._task]
        total = task.total if task.total is not None else max(task.completed, 1)
        self._progress.update(self._task, total=total, completed=total)
        self._task = None
