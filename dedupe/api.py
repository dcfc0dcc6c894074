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

from dedupe.csvfile import load_mapping
from dedupe.decisions_file import load_decisions
from dedupe.headers import Notice
from dedupe.io import Export
from dedupe.loading import load_exports, refuse_repeated_files, unused_mapping_lines
from dedupe.outputs import refuse_overwriting_inputs, write_all
from dedupe.pipeline import Options, Result, run_prepared
from dedupe.progress import Progress, Silent


@dataclass
class Run:
    """What ``run`` produced: the result tables, the exports as read, warnings about mapping
    lines that matched no header, and the summary that was written (None when nothing was)."""

    result: Result
    exports: list[Export]
    summary: dict[str, object] | None
    mapping_notes: list[Notice]


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
    ``decisions``: the auditor's decisions file (kept outside ``out``; every problem in it is
    reported at once). ``workers``: processes reading exports at once (0: one per core; the
    result is the same). Refused before anything is read or written (exit 2): an input that
    is one of the files the run writes, a file given twice, two files with the same bytes.

    Example: dedupe.run([Path("a.csv"), Path("b.csv")], Path("out"), options=Options())
    """
    opts = options or Options()
    bar = progress or Silent()
    pairs = [(p.stem, p) if isinstance(p, Path) else (p[0], p[1]) for p in exports]
    extra = {"decisions": decisions} if decisions is not None else {}
    if mapping is not None:
        extra["mapping"] = mapping
    if out is not None:
        refuse_overwriting_inputs(out, [p for _, p in pairs] + list(extra.values()))
    refuse_repeated_files(pairs)
    maps = load_mapping(mapping)
    dec = None
    if decisions is not None:
        table, lines = load_decisions(decisions)
        dec = (table, lines, str(decisions))
    t0 = time.perf_counter()
    loaded, prep = load_exports(pairs, maps, opts.today, workers, bar)
    mapping_notes = unused_mapping_lines(maps, loaded)
    timings = {"ingest_and_cleaning": time.perf_counter() - t0}
    result = run_prepared(prep, loaded, opts, dec, bar, timings)
    summary = None
    if out is not None:
        bar.phase("writing outputs")
        t = time.perf_counter()
        summary = write_all(result, loaded, out, opts, extra)
        result.timings["reports_and_writing"] = time.perf_counter() - t
    return Run(result, loaded, summary, mapping_notes)
