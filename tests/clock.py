"""A clock the tests move by hand: services take `clock`, so time is a test's to decide."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **parts: float) -> None:
        """advance(timedelta(minutes=5)) or advance(minutes=5)."""
        self.now += (delta or timedelta()) + timedelta(**parts)
