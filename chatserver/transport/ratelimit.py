"""Token buckets: per principal for socket events, per address for connects, logins and chat starts."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar


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


def per_hour(count: int) -> Rate:
    """`count` an hour, all of which may come at once."""
    return Rate(count / 3600, max(1, count))


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


V = TypeVar("V")


class RecentlyUsed(Generic[V]):
    """At most `max_keys` entries; making room drops the ones untouched for longest.

    Never everything at once: a flood of fresh keys (addresses, e-mails) would otherwise reset the
    bucket of the very key under attack, which is touched on every attempt and so is dropped last."""

    def __init__(self, max_keys: int, make: Callable[[], V]) -> None:
        self.max_keys = max_keys
        self._make = make
        self._entries: OrderedDict[str, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> V:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry
        if len(self._entries) >= self.max_keys:
            # a tenth at a time, so a steady flood costs O(1) per new key
            for _ in range(max(1, self.max_keys // 10)):
                self._entries.popitem(last=False)
        entry = self._entries[key] = self._make()
        return entry


class KeyedLimiter:
    """One bucket per key (an address, an e-mail)."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.clock = clock
        self._buckets: RecentlyUsed[Bucket] = RecentlyUsed(max_keys, lambda: Bucket(self.rate, self.clock()))

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, key: str) -> bool:
        return self._buckets.get(key).take(self.clock())


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


class LimitBook:
    """Event buckets by principal (a customer, a console user) that outlive its sockets: a reconnect
    resumes them as they were left instead of starting full, and two tabs share them."""

    def __init__(
        self, overrides: dict[str, Rate] | None = None, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.overrides = overrides or {}
        self.clock = clock
        self._limits: RecentlyUsed[ConnectionLimits] = RecentlyUsed(max_keys, lambda: ConnectionLimits(self.overrides, self.clock))

    def __len__(self) -> int:
        return len(self._limits)

    def limits_for(self, key: str) -> ConnectionLimits:
        return self._limits.get(key)
