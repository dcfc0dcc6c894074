"""One module per STV rule over the shared engine; :data:`RULES` maps a rule name to its counter.

Every counter has the signature ``count(ballots, options) -> CountResult`` and does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from count.ballots import Ballots, require_valid
from count.result import CountResult
from count.rules import ers97, meek, meek_prf, scottish
from count.rules.base import CountOptions

Counter = Callable[[Ballots, CountOptions | None], CountResult]

RULES: dict[str, Counter] = {
    ers97.NAME: ers97.count,
    scottish.NAME: scottish.count,
    meek.NAME: meek.count,
    meek_prf.NAME: meek_prf.count,
}


def run_rule(rule: str, ballots: Ballots, options: CountOptions | None = None) -> CountResult:
    """Count ``ballots`` under the named rule (``ers97``, ``scottish``, ``meek``, ``meek-prf``)."""
    try:
        counter = RULES[rule]
    except KeyError:
        from omov.errors import UsageError

        raise UsageError(f"unknown rule {rule!r}", fix=f"use one of: {', '.join(RULES)}") from None
    return counter(require_valid(ballots), options)
