"""Tie-breaking: the rule's look-back first, then lot from a seed or a decisions file.

Why no ``random``: a recount must reproduce every decision. A lot is derived from the seed with
HMAC-SHA256 keyed by the seed over the tie's description, so anyone with the seed can redo it, and
the seed is echoed in the result. A decisions file (a list of names chosen, in the order ties
arise) is used exactly: a decision that does not fit, or one left unused, is an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from count.result import TieRecord
from omov.errors import UsageError

History = Sequence[Sequence[int]]


@dataclass
class TieDecision:
    """One recorded decision by lot: among these names, these were chosen (in order)."""

    among: tuple[str, ...]
    chosen: tuple[str, ...]


@dataclass
class TieBreaker:
    """Resolves ties that a rule's look-back cannot; records every tie for the result."""

    names: Sequence[str]
    seed: str | None = None
    decisions: list[TieDecision] | None = None
    records: list[TieRecord] = field(default_factory=list)
    _used: int = 0

    def lot(self, stage: int, kind: str, tied: Sequence[int], k: int = 1) -> list[int]:
        """Choose ``k`` of ``tied`` by lot (ordered list of candidate indices)."""
        among = tuple(sorted(self.names[c] for c in tied))
        if self.decisions is not None:
            if self._used >= len(self.decisions):
                raise UsageError(
                    f"stage {stage}: a tie ({kind}) among {', '.join(among)} needs a decision by "
                    "lot and the decisions file has none left",
                    fix="add a decision for this tie to the decisions file",
                )
            dec = self.decisions[self._used]
            if (
                tuple(sorted(dec.among)) != among
                or len(dec.chosen) < k
                or not set(dec.chosen) <= set(among)
            ):
                raise UsageError(
                    f"stage {stage}: decision {self._used + 1} in the decisions file is for "
                    f"{', '.join(dec.among)} but the tie is among {', '.join(among)}",
                    fix="the decisions file must list ties in the order the count meets them",
                )
            self._used += 1
            by_name = {self.names[c]: c for c in tied}
            return [by_name[n] for n in dec.chosen[:k]]
        if self.seed is None:
            raise UsageError(
                f"stage {stage}: a tie ({kind}) among {', '.join(among)} must be decided by lot",
                fix="re-run with --tie-seed TEXT (echoed in the result) or --tie-decisions FILE",
            )
        context = f"{stage}|{kind}|{'|'.join(among)}"

        def key(c: int) -> bytes:
            msg = f"{context}|{self.names[c]}".encode()
            return hmac.new(self.seed.encode(), msg, hashlib.sha256).digest()  # type: ignore[union-attr]

        return sorted(tied, key=key)[:k]

    def method(self) -> str:
        """How lots are drawn in this count (for the tie record)."""
        return "lot (decisions file)" if self.decisions is not None else "lot (seed)"

    def finish(self) -> None:
        """A decisions file must be used exactly: unused decisions are an error."""
        if self.decisions is not None and self._used != len(self.decisions):
            raise UsageError(
                f"the decisions file has {len(self.decisions) - self._used} unused decision(s)",
                fix="a decisions file must hold exactly the ties this count meets",
            )

    def restage_after(self, last: int) -> None:
        """Ties recorded for a stage after ``last`` that never happened acted at ``last``."""
        self.records[:] = [
            dataclasses.replace(t, stage=last) if t.stage > last else t for t in self.records
        ]

    def record(
        self,
        stage: int,
        kind: str,
        tied: Sequence[int],
        chosen: Sequence[int],
        method: str,
        clause: str,
    ) -> None:
        """Report one tie."""
        self.records.append(
            TieRecord(
                stage=stage,
                kind=kind,
                among=tuple(self.names[c] for c in sorted(tied)),
                chosen=tuple(self.names[c] for c in chosen),
                method=method,
                clause=clause,
            )
        )


def look_back(
    tied: Sequence[int], history: History, *, highest: bool, forward: bool
) -> tuple[list[int], int | None]:
    """Narrow a tie by earlier totals: ``forward`` = first/earliest point (ERS97), else the most
    recent preceding stage (Scottish rr. 49, 51). Returns the survivors and the history index that
    decided (``None`` when equal at every point)."""
    cands = list(tied)
    order = range(len(history)) if forward else range(len(history) - 1, -1, -1)
    for i in order:
        vals = [history[i][c] for c in cands]
        best = max(vals) if highest else min(vals)
        if any(v != best for v in vals):
            # ERS97 and Scottish both decide on the first point where the candidates are unequal.
            return [c for c, v in zip(cands, vals, strict=True) if v == best], i
    return cands, None


def break_tie(
    tb: TieBreaker,
    *,
    stage: int,
    kind: str,
    tied: Sequence[int],
    history: History,
    highest: bool,
    forward: bool,
    clause: str,
    label: Callable[[int], str] = lambda i: f"stage {i + 1}",
) -> int:
    """One candidate from a tie: look-back, then lot; the tie is recorded either way."""
    survivors, idx = look_back(tied, history, highest=highest, forward=forward)
    while len(survivors) > 1 and idx is not None:
        # Several still level after the first unequal point: look again among them.
        survivors, idx = look_back(survivors, history, highest=highest, forward=forward)
    if len(survivors) == 1:
        tb.record(stage, kind, tied, survivors, f"look-back ({label(idx or 0)})", clause)
        return survivors[0]
    chosen = tb.lot(stage, kind, survivors)[0]
    tb.record(stage, kind, tied, [chosen], tb.method(), clause)
    return chosen
