"""The web ballot as an ASGI app (Starlette), and ``serve`` to run it under uvicorn.

``build_app(service)`` wires the routes; ``open_service(...)`` opens the register (twice: one
connection reads on the event loop, the writer thread owns the other), the box (recovering any
batch a crash left half-done) and the ballot definition. ``serve`` holds the box's lock for the
server's whole life, so a second server or a close cannot touch the box meanwhile.

Logging: uvicorn's access log is off (it would record who connected when), and this app logs
exception *types* only; the token appears in no URL, so no proxy log holds it either.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from omov.errors import IntegrityError, UsageError
from omov.fileio import sha256_file
from vote import box as boxes
from vote.ballot import Period
from vote.casting import Caster
from vote.web import api, pages
from vote.web.limits import FailureLimiter, Limits
from vote.web.security import BodyLimit, SafeErrors, SecurityHeaders
from vote.web.service import Election, VotingService

_log = logging.getLogger("omov.vote")


def build_app(service: VotingService) -> ASGIApp:
    """The ASGI app: pages, the JSON API, static files, security headers, safe errors."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.caster.start()
        try:
            yield
        finally:
            service.caster.stop()

    routes = [
        Route("/", pages.entry, methods=["GET"]),
        Route("/ballot", pages.ballot, methods=["POST"]),
        Route("/review", pages.review, methods=["POST"]),
        Route("/submit", pages.submit, methods=["POST"]),
        Route("/candidates", pages.candidates_pack, methods=["GET"]),
        Route("/api/v1/ballots", api.post_ballot, methods=["POST"]),
        Route("/api/v1/health", api.health, methods=["GET"]),
        Mount("/static", StaticFiles(packages=[("vote", "static")]), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: pages.not_found},
    )
    app.state.service = service
    return SafeErrors(BodyLimit(SecurityHeaders(app)))


@dataclass
class Opened:
    """What ``open_service`` opened; ``close()`` closes it (after the app has stopped)."""

    service: VotingService
    box: boxes.BallotBox
    registers: tuple[Any, Any]

    def close(self) -> None:
        self.box.close()
        for reg in self.registers:
            reg.close()


@dataclass(frozen=True)
class ServeOptions:
    """The command line of ``omov vote serve``, parsed."""

    register: Path
    keys: Path
    ballot_def: Path
    box: Path
    period: Period
    election_name: str = ""
    contact: str = ""
    pack: Path | None = None
    limits: Limits | None = None


def open_service(opts: ServeOptions) -> Opened:
    """Register ×2, ballot definition, box (recovered); refuses a mismatched election."""
    from issue.candidates_cli import read_ballot_definition
    from issue.register import Register

    ballot = read_ballot_definition(opts.ballot_def)
    if not opts.register.is_file():
        raise UsageError(f"register {opts.register} does not exist")
    reader = Register.open(opts.register, opts.keys)
    writer = Register.open(opts.register, opts.keys)
    registers = (reader, writer)
    try:
        if ballot.election_id and reader.key.election != ballot.election_id:
            raise IntegrityError(
                f"the register is for election {reader.key.election!r} but the ballot "
                f"definition is for {ballot.election_id!r}"
            )
        writer.migrate()
        box = boxes.BallotBox.open(
            opts.box,
            {
                "election": reader.key.election,
                "ballot_definition_sha256": sha256_file(opts.ballot_def),
                "candidates": str(len(ballot.candidates)),
            },
        )
    except BaseException:
        for reg in registers:
            reg.close()
        raise
    box.set_period(opts.period.opens.isoformat(), opts.period.closes.isoformat())
    kept, dropped = box.recover(opts.register)
    if kept or dropped:
        _log.warning("box recovered after a crash: %d ballots kept, %d dropped", kept, dropped)
    election = Election(
        ballot,
        opts.period,
        opts.election_name or ballot.title,
        opts.contact,
        opts.pack,
    )
    service = VotingService(election, reader, Caster(box, writer), FailureLimiter(opts.limits))
    return Opened(service, box, registers)


@contextlib.contextmanager
def opened(opts: ServeOptions) -> Iterator[Opened]:
    """The box locked and the service open for the block's duration."""
    with boxes.owned(opts.box):
        handle = open_service(opts)
        try:
            yield handle
        finally:
            handle.close()


def serve(opts: ServeOptions, host: str, port: int, ready: Any = None) -> dict[str, int]:
    """Run the server until interrupted (SIGINT/SIGTERM finish the queued ballots first).

    Returns what this run cast: ``{"ballots": n, "batches": m}`` (aggregates only).
    """
    import uvicorn

    with opened(opts) as handle:
        config = uvicorn.Config(
            build_app(handle.service),
            host=host,
            port=port,
            access_log=False,
            log_level="warning",
            server_header=False,
            date_header=False,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        if ready is not None:
            ready(handle)
        # Everything loaded so far (the CLI's stages import pandas, pyarrow…) lives for the
        # whole run: keep it out of the garbage collector's full passes, which would otherwise
        # pause every request in flight to walk it.
        gc.collect()
        gc.freeze()
        _run_until_signalled(server)
        caster = handle.service.caster
        return {"ballots": caster.cast_jobs, "batches": caster.batches}


class _Stopped(Exception):
    """SIGINT or SIGTERM arrived: uvicorn has shut down gracefully and re-raised the signal."""


def _stopped(signum: int, frame: object) -> None:
    raise _Stopped


def _run_until_signalled(server: Any) -> None:
    """Serve until SIGINT/SIGTERM; a signalled stop is a normal end (exit 0), not an error.

    uvicorn finishes in-flight requests (so the caster finishes every queued ballot), then
    re-raises the signal it caught to the handler that was installed before it: ours.
    """
    import asyncio
    import signal

    previous = {s: signal.signal(s, _stopped) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(server.serve())
    except (_Stopped, KeyboardInterrupt):
        pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
