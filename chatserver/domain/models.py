"""Plain values the rules work on. Times are timezone-aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

ROLES = ("agent", "supervisor", "admin")
PRESENCE = ("online", "away", "offline")
LOCALES = ("en", "ru", "pl")
CONVERSATION_STATUSES = ("queued", "active", "closed")
OUTCOMES = ("resolved", "complaint", "abandoned")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a trailing Z, as the contract says."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class AgentState:
    """What routing needs to know about one agent at one instant."""

    id: str
    name: str
    status: str  # online | away | offline
    connected: bool
    active_chats: int
    max_chats: int
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    last_assigned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class QueueEntry:
    conversation_id: str
    topic: str | None
    locale: str | None
    priority: int
    queued_at: datetime
    # the order this process took it in: a wall clock stepped back must not put a newcomer first
    arrival: int = 0


@dataclass(frozen=True, slots=True)
class BusySeat:
    """An occupied seat: which topic it serves and since when."""

    topic: str | None
    since: datetime


@dataclass(frozen=True, slots=True)
class SeatPool:
    """Online agents' seats as the wait estimate sees them."""

    free: int
    busy: tuple[BusySeat, ...] = field(default_factory=tuple)
