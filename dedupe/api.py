"""``dedupe.run``: the one entry point the CLI, the tests and the benchmarks call.

Exports in (paths, or organisation-named paths), one record per person out: read and
normalise (in worker processes when the files are big), block, compare, weigh, cluster,
build members and the review queue, and — when ``out`` is given — write every output.
The run date (``Options.today``) decides two-digit years and ages; it is recorded in
summary.json so a re-run on another day can be given the same date.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dedupe.io import Export, load_decisions, load_mapping
from dedupe.loading import load_exports
from dedupe.outputs import write_all
from dedupe.pipeline import Options, Result, run_prepared
from dedupe.progress import Progress, Silent


@dataclass
class Run:
    """What ``run`` produced: the result tables, the exports as read, and the summary that
    was written (None when nothing was written)."""

    result: Result
    exports: list[Export]
    summary: dict[str, object] | None


def run(
    exports: Sequence[Path | tuple[str, Path]],
    out: Path | None = None,
    *,
    options: Options | None = None,
    mapping: Path | None = None,
    decisions: Path | None = None,
    workers: int = 0,
    progress: Progress | None = None,
) -> Run:
    """Dedupe member exports; write the outputs into ``out`` if given.

    ``exports``: paths (organisation = file stem) or (organisation, path) pairs.
    ``decisions``: the auditor's edited review_queue.csv from an earlier run.
    ``workers``: processes reading exports at once (0: one per core; the result is the same).

    Example: dedupe.run([Path("a.csv"), Path("b.csv")], Path("out"), options=Options())
    """
    opts = options or Options()
    bar = progress or Silent()
    pairs = [(p.stem, p) if isinstance(p, Path) else (p[0], p[1]) for p in exports]
    maps = load_mapping(mapping)
    dec = None
    if decisions is not None:
        table, lines = load_decisions(decisions)
        dec = (table, lines, str(decisions))
    t0 = time.perf_counter()
    loaded, prep = load_exports(pairs, maps, opts.today, workers, bar)
    timings = {"ingest_and_cleaning": time.perf_counter() - t0}
    result = run_prepared(prep, loaded, opts, dec, bar, timings)
    summary = None
    if out is not None:
        bar.phase("writing outputs")
        extra = {"decisions": decisions} if decisions is not None else {}
        if mapping is not None:
            extra["mapping"] = mapping
        t = time.perf_counter()
        summary = write_all(result, loaded, out, opts, extra)
        result.timings["reports_and_writing"] = time.perf_counter() - t
    return Run(result, loaded, summary)
