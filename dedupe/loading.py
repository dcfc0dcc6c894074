"""Read and normalise the exports, one worker process per file at a time.

Why processes: reading, decoding and normalising a file depends on that file alone and is
pure-Python-heavy (the GIL keeps threads to one core), so on the 2-core machine two files
are cleaned at once. Only the normalised records come back; the raw cells die with the
worker, which also keeps them out of the main process's peak memory.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from datetime import date
from functools import partial
from pathlib import Path
from queue import Empty, Queue

from dedupe.csvfile import Mapping, MappingLine, OnRows
from dedupe.headers import Level, Notice, applies_to
from dedupe.io import Export, read_export
from dedupe.progress import Progress, RowProgress, RowStage, Silent
from dedupe.records import Prepared, PreparedExport, combine, prepare_export
from dedupe.schema import header_key
from dedupe.sheets import is_workbook, split_sheet
from omov.errors import InputError
from omov.fileio import sha256_file

#: Below this many bytes of exports in all, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 8_000_000


def read_and_prepare(
    org: str, path: Path, mapping: Mapping, today: date, on_rows: OnRows | None = None
) -> tuple[Export, PreparedExport]:
    """One export read and normalised; the returned Export keeps its metadata, not its cells.

    File-level warnings (a membership-number column left unread) are also rows of
    warnings.csv (row_id 0, the header's line), so they outlive the screen.
    """
    with _collector_paused():
        exp = read_export(path, org, mapping, on_rows)
        part = prepare_export(exp, today)
    part.warnings[:0] = [
        {"source_org": org, "row_id": 0, "line": 1, "field": n.field, "warning": n.text}
        for n in exp.notices
        if n.level is Level.WARN
    ]
    exp.data = exp.data.iloc[0:0].copy()  # a view would keep every cell alive
    return exp, part


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while one export is read and normalised.

    Why: reading builds a list per row (a million containers at 1M rows) that live until the
    file is done; the collector's full passes walk all of them again and again (~10 % of the
    CPU of reading a 300k-row file). Nothing read here needs it: what cycles there are wait
    for the next collection once it is back on.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def refuse_repeated_files(pairs: list[tuple[str, Path]]) -> None:
    """Stop (exit 2) when one file is given twice, or two files hold the same bytes.

    Why: the same members loaded twice would each look like two records of one person in two
    organisations; the overlap matrix and every count would be wrong.
    """
    seen: dict[tuple[Path, str | None], str] = {}
    by_size: dict[int, list[tuple[str, Path]]] = {}
    for org, path in pairs:
        file, sheet = split_sheet(path)
        key = (file.resolve(), sheet)
        if key in seen:
            raise InputError(
                f"the same export is given twice (as {seen[key]!r} and {org!r})",
                path=str(path),
                fix="name each organisation's export once",
            )
        seen[key] = org
        if sheet is None and file.is_file():
            by_size.setdefault(file.stat().st_size, []).append((org, file))
    for group in by_size.values():
        digests: dict[str, str] = {}
        for org, file in group if len(group) > 1 else []:
            digest = sha256_file(file)
            if digest in digests:
                raise InputError(
                    f"this file has exactly the same bytes as the export of {digests[digest]!r}: "
                    "it is the same export under another name",
                    path=str(file),
                    fix=f"leave out the copy and ask {org!r} for its own export",
                )
            digests[digest] = org


def unused_mapping_lines(mapping: Mapping, exports: list[Export]) -> list[Notice]:
    """A warning for each mapping line whose header is in none of the exports it applies to."""
    out = []
    for m in mapping:
        if not isinstance(m, MappingLine):
            continue
        key = header_key(m.header)
        hit = any(
            (not m.file or applies_to(m.file, e.path, e.org))
            and any(header_key(h) == key for h in e.header_map)
            for e in exports
        )
        if not hit:
            where = f" of {m.file!r}" if m.file else ""
            out.append(
                Notice(
                    Level.WARN,
                    f"mapping line {m.line}: no column{where} is headed {m.header!r}, so it "
                    f"mapped nothing to {m.field} (a typo in the header or the file name?)",
                    "mapping",
                )
            )
    return out


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
    Progress is reported in rows read and rows cleaned when ``progress`` can show rows.
    """
    bar = progress or Silent()
    rows = bar if isinstance(bar, RowProgress) else None
    # Counting lines reads every file once more (~0.1 s at 1M rows): only for a row display.
    expected = {path: _expected_rows(path) if rows is not None else 0 for _, path in pairs}
    if rows is not None:
        rows.rows_expected(sum(expected.values()))
    else:
        bar.phase("reading and normalising exports", total=len(pairs))
    n = min(workers or default_workers(), len(pairs))
    if n <= 1 or _total_bytes(pairs) < PARALLEL_MIN_BYTES:
        results = []
        for org, path in pairs:
            tick = None if rows is None else partial(rows.rows_done, RowStage.READ)
            results.append(read_and_prepare(org, path, mapping, today, tick))
            _file_done(bar, rows, results[-1][0].n_records, expected[path])
    else:
        results = _in_workers(pairs, mapping, today, n, bar, rows, expected)
    exports = [exp for exp, _ in results]
    return exports, combine([part for _, part in results])


def _file_done(bar: Progress, rows: RowProgress | None, n_records: int, expected: int) -> None:
    if rows is None:
        bar.advance()
    else:
        rows.rows_total_changed(n_records - expected)
        rows.rows_done(RowStage.CLEAN, n_records)


def _expected_rows(path: Path) -> int:
    """Data rows a file probably holds: its line count (a workbook's: counted when read)."""
    file, _ = split_sheet(path)
    try:
        raw = file.read_bytes() if not is_workbook(file) else b""
    except OSError:
        return 0
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return max(0, raw.count("\n".encode("utf-16-le")) - 1)
    return max(0, raw.count(b"\n") - 1)


def _total_bytes(pairs: list[tuple[str, Path]]) -> int:
    total = 0
    for _, path in pairs:
        try:
            total += split_sheet(path)[0].stat().st_size
        except OSError:
            return 0  # let the serial path raise the readable error
    return total


def _in_workers(
    pairs: list[tuple[str, Path]],
    mapping: Mapping,
    today: date,
    n: int,
    bar: Progress,
    rows: RowProgress | None,
    expected: dict[Path, int],
) -> list[tuple[Export, PreparedExport]]:
    """Largest files first (best packing); results and errors reported in argument order.

    Workers report rows read through a managed queue, drained here while they work.
    """
    order = sorted(range(len(pairs)), key=lambda k: -split_sheet(pairs[k][1])[0].stat().st_size)
    # spawn, not fork: the parent may run a progress thread, and forking a threaded
    # process can deadlock the child on a lock that thread held.
    ctx = multiprocessing.get_context("spawn")
    # A manager process carries the workers' row counts, only when someone is watching.
    manager = ctx.Manager() if rows is not None else nullcontext(None)
    with manager as shared, ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
        ticks = shared.Queue() if shared is not None else None
        futures: dict[Future[tuple[Export, PreparedExport]], int] = {
            pool.submit(_worker, pairs[k][0], pairs[k][1], mapping, today, ticks): k for k in order
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            _drain(ticks, rows)
            for fut in done:
                if fut.exception() is None:
                    _file_done(
                        bar, rows, fut.result()[0].n_records, expected[pairs[futures[fut]][1]]
                    )
        _drain(ticks, rows)
        ordered = sorted(futures.items(), key=lambda item: item[1])
        return [fut.result() for fut, _ in ordered]


def _worker(
    org: str, path: Path, mapping: Mapping, today: date, ticks: Queue[int] | None
) -> tuple[Export, PreparedExport]:
    tick = None if ticks is None else ticks.put
    return read_and_prepare(org, path, mapping, today, tick)


def _drain(ticks: Queue[int] | None, rows: RowProgress | None) -> None:
    if ticks is None or rows is None:
        return
    total = 0
    try:
        while True:
            total += ticks.get_nowait()
    except Empty:
        pass
    if total:
        rows.rows_done(RowStage.READ, total)
