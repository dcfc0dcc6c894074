"""Casting: one writer thread turns concurrent ballots into durable batches (group commit).

Why threads and batches: every durable SQLite commit waits for an fsync (~3 ms here, far more
on a busy disk), and a ballot needs two (box, then register: ``vote.box``). One commit per
ballot would cap the server near a few hundred ballots a second; a writer that takes every
ballot waiting in the queue as one batch pays the fsyncs once per batch, so throughput grows
with load while each member still gets an answer only after their ballot is on disk. Two
threads overlap one batch's box fsync with the previous batch's register fsync.

The event loop never blocks on a write: ``cast`` puts the ballot on a queue and awaits a
future the writer completes after ``settle`` has committed.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from issue.crashpoints import kill_point
from vote.ballot import Outcome
from vote.box import BallotBox, Staged

_log = logging.getLogger("omov.vote")
_REGISTER_OUTCOME = {
    "won": Outcome.CAST,
    "used": Outcome.USED,
    "revoked": Outcome.REVOKED,
    "unknown": Outcome.UNKNOWN,
}
MAX_BATCH = 512


@dataclass(frozen=True)
class Cast:
    """The answer to one ballot: its outcome and, if it was recorded, its confirmation code."""

    outcome: Outcome
    confirmation: str = ""


@dataclass
class _Job:
    token_hash: bytes
    marks: str
    future: Future[Cast]


class CastingError(RuntimeError):
    """The batch could not be written; the box was recovered and the member may try again."""


@dataclass
class _Staged:
    batch: bytes
    jobs: Sequence[_Job]
    staged: Sequence[Staged]


class Caster:
    """The box's only writer: two threads in a pipeline. ``start()``; ``cast()``; ``stop()``.

    The *stager* takes every ballot waiting as one batch and commits it to the box (fsync);
    the *committer* takes staged batches in order, consumes their tokens in the register
    (fsync), settles them and answers. So one batch's box fsync overlaps the previous batch's
    register fsync. At most one staged batch waits for the committer; meanwhile new ballots
    gather in the queue for the next. ``register`` is used by the committer thread alone.
    """

    def __init__(self, box: BallotBox, register: Any, max_batch: int = MAX_BATCH) -> None:
        self._box = box
        self._register = register
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._handoff: queue.Queue[_Staged | None] = queue.Queue(maxsize=1)
        self._threads = (
            threading.Thread(target=self._stage_loop, name="omov-stager", daemon=True),
            threading.Thread(target=self._commit_loop, name="omov-committer", daemon=True),
        )
        self.batches = 0
        self.cast_jobs = 0  #: ballots that went through a batch (won or not)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish every queued ballot, then stop both threads."""
        if self._threads[0].is_alive():
            self._queue.put(None)
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    async def cast(self, token_hash: bytes, marks: str) -> Cast:
        """Record ``marks`` if this token wins first use; returns after the box has committed."""
        future: Future[Cast] = Future()
        self._queue.put(_Job(token_hash, marks, future))
        return await asyncio.wrap_future(future)

    def _next_batch(self) -> tuple[list[_Job], bool]:
        """Every job waiting (at least one, at most ``max_batch``), and whether to stop after."""
        first = self._queue.get()
        if first is None:
            return [], True
        jobs = [first]
        while len(jobs) < self._max_batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def _stage_loop(self) -> None:
        from issue.register import new_run_id

        stopping = False
        while not stopping:
            jobs, stopping = self._next_batch()
            if not jobs:
                break
            batch = new_run_id()
            try:
                staged = self._box.stage(batch, [(j.token_hash, j.marks) for j in jobs])
            except Exception as exc:  # nothing was written: the transaction rolled back
                _log.error("casting: staging %d failed (%s)", len(jobs), type(exc).__name__)
                _fail(jobs)
                continue
            kill_point("web_staged")
            self._handoff.put(_Staged(batch, jobs, staged))
        self._handoff.put(None)

    def _commit_loop(self) -> None:
        while True:
            item = self._handoff.get()
            if item is None:
                return
            self._commit(item)

    def _commit(self, item: _Staged) -> None:
        batch, jobs, staged = item.batch, item.jobs, item.staged
        try:
            states = self._register.consume_many_hashes([j.token_hash for j in jobs], run_id=batch)
            kill_point("web_consumed")
            winners = [s.key for s, state in zip(staged, states, strict=True) if state == "won"]
            self._box.settle(batch, winners)
            kill_point("web_settled")
        except Exception as exc:
            # Never the exception's text: it could quote a value. The box is made whole again
            # from the register's record; the members are told to try again.
            _log.error(
                "casting: a batch of %d failed (%s); recovering", len(jobs), type(exc).__name__
            )
            self._recover(batch)
            _fail(jobs)
            return
        self.batches += 1
        self.cast_jobs += len(jobs)
        for job, stage, state in zip(jobs, staged, states, strict=True):
            outcome = _REGISTER_OUTCOME.get(state, Outcome.USED)
            job.future.set_result(Cast(outcome, stage.code if outcome is Outcome.CAST else ""))

    def _recover(self, batch: bytes) -> None:
        try:
            self._box.recover(self._register.path, only=batch)
        except Exception as exc:  # the next start recovers; nothing was confirmed
            _log.error("casting: recovery failed (%s)", type(exc).__name__)


def _fail(jobs: Sequence[_Job]) -> None:
    for job in jobs:
        job.future.set_exception(CastingError("the ballot could not be recorded"))
