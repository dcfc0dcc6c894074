"""The order of the anonymised ballot files intake writes: a uniform shuffle of the grouped
rankings (the files themselves are written by ``omov.blt`` and ``omov.ballotcsv``, the project's
one BLT writer and ballot-grid writer, which the count reads back).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

Ranking = tuple[int, ...]  # 1-based ballot numbers in order of preference
MAX_NUMBER_DIGITS = 18  # a weight or candidate number in our own BLT fits in int64


def shuffled_groups(
    rankings: Counter[Ranking], random_bytes: Callable[[int], bytes]
) -> list[tuple[Ranking, int]]:
    """Groups in an order fixed by fresh random sort keys (``secrets.token_bytes`` in use).

    Sorting by 16 random bytes per item is a uniform shuffle (ties have probability ~2^-128) and
    needs one call for all keys instead of one ``randbelow`` per item.
    """
    items = list(rankings.items())
    keys = random_bytes(16 * len(items))
    order = sorted(range(len(items)), key=lambda i: keys[16 * i : 16 * i + 16])
    return [items[i] for i in order]
