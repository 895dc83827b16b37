"""The dispatcher's in-memory view of open conversations and agents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatserver.domain.models import AgentState, QueueEntry, iso, parse_iso
from chatserver.store.db import Row


@dataclass(slots=True)
class LiveConversation:
    id: str
    customer_id: str
    status: str
    topic: str | None
    locale: str
    priority: int
    queued_at: datetime | None
    deadline: datetime | None
    agent_id: str | None
    assigned_at: datetime | None
    # whether the reasons it is waiting were recorded since it last entered the queue
    wait_explained: bool = False
    arrival: int = 0  # its place in the order of arrival: given when it first joins the queue, or at start-up
    # the client address it was started from (a limit key), in memory only: for the per-address cap
    # on waiting chats; chats rebuilt at start-up have none
    origin: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> "LiveConversation":
        return cls(
            id=row["id"],
            customer_id=row["customer_id"],
            status=row["status"],
            topic=row["topic"],
            locale=row["locale"],
            priority=row["priority"],
            queued_at=parse_iso(row["queued_at"]),
            deadline=parse_iso(row["wait_deadline"]),
            agent_id=row["agent_id"],
            assigned_at=parse_iso(row["assigned_at"]),
        )

    def entry(self) -> QueueEntry:
        assert self.queued_at is not None
        return QueueEntry(self.id, self.topic, self.locale, self.priority, self.queued_at, self.arrival)


@dataclass(slots=True)
class LiveAgent:
    id: str
    name: str
    role: str
    status: str
    status_since: datetime | None
    max_chats: int
    skills: frozenset[str]
    languages: frozenset[str]
    last_assigned_at: datetime | None
    sockets: int = 0
    chats: set[str] = field(default_factory=set)

    def update_profile(self, row: Row) -> None:
        """What an admin edits; presence, seats and connections stay as routing knows them."""
        changed = LiveAgent.from_row(row)
        self.name, self.role, self.max_chats = changed.name, changed.role, changed.max_chats
        self.skills, self.languages = changed.skills, changed.languages

    def state(self) -> AgentState:
        return AgentState(
            id=self.id,
            name=self.name,
            status=self.status,
            connected=self.sockets > 0,
            active_chats=len(self.chats),
            max_chats=self.max_chats,
            skills=self.skills,
            languages=self.languages,
            last_assigned_at=self.last_assigned_at,
        )

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "status": self.status,
            "connected": self.sockets > 0,
            "active": len(self.chats),
            "max_chats": self.max_chats,
            "status_since": iso(self.status_since),
            "last_assigned_at": iso(self.last_assigned_at),
        }

    @classmethod
    def from_row(cls, row: Row) -> "LiveAgent":
        return cls(
            id=row["id"],
            name=row["name"],
            role=row["role"],
            status=row["status"],
            status_since=parse_iso(row["status_since"]),
            max_chats=row["max_chats"],
            skills=frozenset(row["skills"]),
            languages=frozenset(row["languages"]),
            last_assigned_at=parse_iso(row["last_assigned_at"]),
        )
