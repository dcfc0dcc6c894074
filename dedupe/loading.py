"""Read and normalise the exports, one worker process per file at a time.

Why processes: reading, decoding and normalising a file depends on that file alone and is
pure-Python-heavy (the GIL keeps threads to one core), so on the 2-core machine two files
are cleaned at once. Only the normalised records come back; the raw cells die with the
worker, which also keeps them out of the main process's peak memory.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path

from dedupe.io import Export, read_export
from dedupe.progress import Progress, Silent
from dedupe.records import Prepared, PreparedExport, combine, prepare_export

#: Below this many bytes of exports in all, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 8_000_000

Mapping = list[tuple[str, str, str]]


def read_and_prepare(
    org: str, path: Path, mapping: Mapping, today: date
) -> tuple[Export, PreparedExport]:
    """One export read and normalised; the returned Export keeps its metadata, not its cells."""
    exp = read_export(path, org, mapping)
    part = prepare_export(exp, today)
    exp.data = exp.data.iloc[0:0]
    return exp, part


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def load_exports(
    pairs: list[tuple[str, Path]],
    mapping: Mapping,
    today: date,
    workers: int = 0,
    progress: Progress | None = None,
) -> tuple[list[Export], Prepared]:
    """Read and normalise every (organisation, path); the result is the same for any ``workers``.

    ``workers`` 0 means one per core; small inputs are done in this process. When several
    files are bad, the error raised is the first file's in argument order, as in a serial run.
    """
    bar = progress or Silent()
    bar.phase("reading and normalising exports", total=len(pairs))
    n = min(workers or default_workers(), len(pairs))
    if n <= 1 or _total_bytes(pairs) < PARALLEL_MIN_BYTES:
        results = []
        for org, path in pairs:
            results.append(read_and_prepare(org, path, mapping, today))
            bar.advance()
    else:
        results = _in_workers(pairs, mapping, today, n, bar)
    exports = [exp for exp, _ in results]
    return exports, combine([part for _, part in results])


def _total_bytes(pairs: list[tuple[str, Path]]) -> int:
    total = 0
    for _, path in pairs:
        try:
            total += path.stat().st_size
        except OSError:
            return 0  # let the serial path raise the readable error
    return total


def _in_workers(
    pairs: list[tuple[str, Path]], mapping: Mapping, today: date, n: int, bar: Progress
) -> list[tuple[Export, PreparedExport]]:
    """Largest files first (best packing); results and errors reported in argument order."""
    order = sorted(range(len(pairs)), key=lambda k: -pairs[k][1].stat().st_size)
    # spawn, not fork: the parent may run a progress thread, and forking a threaded
    # process can deadlock the child on a lock that thread held.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
        futures: dict[Future[tuple[Export, PreparedExport]], int] = {
            pool.submit(read_and_prepare, pairs[k][0], pairs[k][1], mapping, today): k
            for k in order
        }
        for fut in as_completed(futures):
            if fut.exception() is None:
                bar.advance()
        done = sorted(futures.items(), key=lambda item: item[1])
        return [fut.result() for fut, _ in done]
