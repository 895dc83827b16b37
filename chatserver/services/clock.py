"""Time as the services see it: injectable so tests can move it."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from chatserver.domain.models import iso, utc_now

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return utc_now()


def now_iso(clock: Clock) -> str:
    return iso(clock())  # type: ignore[return-value]
