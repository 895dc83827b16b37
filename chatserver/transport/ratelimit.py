"""Token buckets: per connection for socket events, per address for logins and chat starts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: float


# Generous for people, tight for scripts.
SOCKET_LIMITS: dict[str, Rate] = {
    "message:send": Rate(5.0, 20),
    "typing": Rate(4.0, 10),
    "chat:start": Rate(0.2, 3),
    "complaint:submit": Rate(0.05, 3),
    "default": Rate(10.0, 30),
}
AGENT_MESSAGE_RATE = Rate(20.0, 60)


def per_minute(count: int) -> Rate:
    """`count` a minute, all of which may come at once."""
    return Rate(count / 60, max(1, count))


class Bucket:
    __slots__ = ("rate", "tokens", "stamp")

    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self.tokens = rate.burst
        self.stamp = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.rate.burst, self.tokens + (now - self.stamp) * self.rate.per_second)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class KeyedLimiter:
    """One bucket per key (an address, an e-mail), pruned when full again."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, Bucket] = {}

    def allow(self, key: str) -> bool:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            bucket = self._buckets[key] = Bucket(self.rate, now)
        return bucket.take(now)

    def _prune(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.stamp) * b.rate.per_second >= b.rate.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()


class ConnectionLimits:
    """The buckets of one socket connection."""

    __slots__ = ("_buckets", "_overrides")

    def __init__(self, overrides: dict[str, Rate] | None = None) -> None:
        self._buckets: dict[str, Bucket] = {}
        self._overrides = overrides or {}

    def allow(self, event: str) -> bool:
        now = time.monotonic()
        bucket = self._buckets.get(event)
        if bucket is None:
            rate = self._overrides.get(event) or SOCKET_LIMITS.get(event) or SOCKET_LIMITS["default"]
            bucket = self._buckets[event] = Bucket(rate, now)
        return bucket.take(now)
