"""Token buckets: per principal for socket events, per address for connects, logins and chat starts."""

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

    def full(self, now: float) -> bool:
        return self.tokens + (now - self.stamp) * self.rate.per_second >= self.rate.burst


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
        for key in [k for k, b in self._buckets.items() if b.full(now)]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()


class ConnectionLimits:
    """The event buckets of one principal's sockets."""

    __slots__ = ("_buckets", "_overrides", "_clock")

    def __init__(self, overrides: dict[str, Rate] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[str, Bucket] = {}
        self._overrides = overrides or {}
        self._clock = clock

    def allow(self, event: str) -> bool:
        now = self._clock()
        bucket = self._buckets.get(event)
        if bucket is None:
            rate = self._overrides.get(event) or SOCKET_LIMITS.get(event) or SOCKET_LIMITS["default"]
            bucket = self._buckets[event] = Bucket(rate, now)
        return bucket.take(now)

    def full(self, now: float) -> bool:
        return all(bucket.full(now) for bucket in self._buckets.values())


class LimitBook:
    """Event buckets by principal (a customer, a console user) that outlive its sockets: a reconnect
    resumes them as they were left instead of starting full, and two tabs share them."""

    def __init__(
        self, overrides: dict[str, Rate] | None = None, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.overrides = overrides or {}
        self.clock = clock
        self.max_keys = max_keys
        self._limits: dict[str, ConnectionLimits] = {}

    def limits_for(self, key: str) -> ConnectionLimits:
        limits = self._limits.get(key)
        if limits is None:
            if len(self._limits) >= self.max_keys:
                self._prune(self.clock())
            limits = self._limits[key] = ConnectionLimits(self.overrides, self.clock)
        return limits

    def _prune(self, now: float) -> None:
        # a principal whose buckets have all refilled loses nothing by starting afresh
        for key in [k for k, limits in self._limits.items() if limits.full(now)]:
            del self._limits[key]
        if len(self._limits) >= self.max_keys:
            self._limits.clear()
