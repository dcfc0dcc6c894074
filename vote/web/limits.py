"""Failed-token limits: token buckets per client and for the whole server (HTTP 429).

Why: tokens carry 100 random bits, so guessing one is hopeless anyway; the limits stop
enumeration noise from filling the logs and the one SQLite writer, and make a typo storm from a
single client slow down instead of hammering the register. Only *failed* attempts (malformed or
unknown tokens) spend from a bucket; a member with a good token behind a busy shared address is
refused only while that address is over its limit.

A bucket holds ``burst`` attempts and refills ``rate`` per second. Time comes from the caller
(``now``), so the rule is tested without sleeping. Memory is bounded: a client whose bucket has
refilled is forgotten, and at most ``max_clients`` are tracked (the oldest are forgotten first).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Bucket:
    level: float
    at: float


@dataclass(frozen=True)
class Limits:
    """Per-client and global burst sizes and refill rates (attempts per second)."""

    client_burst: int = 20
    client_rate: float = 1 / 30
    global_burst: int = 600
    global_rate: float = 10.0
    max_clients: int = 100_000


class FailureLimiter:
    """``blocked(client, now)`` before checking a token; ``fail(client, now)`` after a failure."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._clients: OrderedDict[str, _Bucket] = OrderedDict()
        self._global = _Bucket(float(self.limits.global_burst), 0.0)

    @staticmethod
    def _refill(bucket: _Bucket, now: float, burst: int, rate: float) -> None:
        bucket.level = min(float(burst), bucket.level + max(0.0, now - bucket.at) * rate)
        bucket.at = now

    def blocked(self, client: str, now: float) -> bool:
        """True if this client, or the server as a whole, has no failed attempts left."""
        lim = self.limits
        self._refill(self._global, now, lim.global_burst, lim.global_rate)
        if self._global.level < 1:
            return True
        bucket = self._clients.get(client)
        if bucket is None:
            return False
        self._refill(bucket, now, lim.client_burst, lim.client_rate)
        if bucket.level >= lim.client_burst:
            del self._clients[client]  # full again: nothing to remember
            return False
        return bucket.level < 1

    def fail(self, client: str, now: float) -> None:
        """Spend one failed attempt from the client's bucket and the global one."""
        lim = self.limits
        self._refill(self._global, now, lim.global_burst, lim.global_rate)
        self._global.level = max(0.0, self._global.level - 1)
        bucket = self._clients.pop(client, None)
        if bucket is None:
            bucket = _Bucket(float(lim.client_burst), now)
        self._refill(bucket, now, lim.client_burst, lim.client_rate)
        bucket.level = max(0.0, bucket.level - 1)
        self._clients[client] = bucket  # most recent last
        while len(self._clients) > lim.max_clients:
            self._clients.popitem(last=False)

    def retry_after(self, client: str) -> int:
        """Whole seconds until one more attempt is allowed (for the Retry-After header)."""
        lim = self.limits
        waits = [0.0]
        if self._global.level < 1:
            waits.append((1 - self._global.level) / lim.global_rate)
        bucket = self._clients.get(client)
        if bucket is not None and bucket.level < 1:
            waits.append((1 - bucket.level) / lim.client_rate)
        return max(1, int(max(waits)) + 1)
