"""What the queue monitor shows.

Two parts with two costs. The live part (queue, agents, load) comes from the dispatcher's memory and
is cheap enough to send after every change. The floor part (today's counters, the day's queue
chart, complaints at risk, complaints by week) comes from SQLite: it is cached and recomputed at
most every FLOOR_MIN_INTERVAL seconds, and only when something it depends on changed or it is
FLOOR_MAX_AGE old.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any, Callable

from chatserver.domain import floor
from chatserver.domain.models import iso, parse_iso
from chatserver.services import events as ev
from chatserver.services.clock import Clock
from chatserver.services.dispatch import Dispatcher
from chatserver.services.events import Event
from chatserver.store import complaints as complaint_store
from chatserver.store import floor_stats
from chatserver.store.db import Database, Row

FLOOR_MIN_INTERVAL = 5.0  # seconds: the database figures are never recomputed more often
FLOOR_MAX_AGE = 30.0  # seconds: ... and never left older while someone watches (ratings publish nothing)
LIST_LIMIT = 50  # complaints listed per group; the counts by level cover all of them
# Waiting chats listed, from the front; the counts cover all of them. An outage can queue thousands,
# and a list of all of them in every push (four a second) grew with the queue and helped no one.
CONSOLE_QUEUE_SHOWN = 100
MONITOR_QUEUE_SHOWN = 200

# events after which the floor figures may differ
_FLOOR_EVENTS = frozenset(
    {
        ev.QUEUE_POSITIONS, ev.CONVERSATION_ASSIGNED, ev.CONVERSATION_CLOSED, ev.CONVERSATION_UNASSIGNED,
        ev.COMPLAINT_CREATED, ev.COMPLAINT_UPDATED, ev.COMPLAINT_SLA,
    }
)


class MonitorService:
    def __init__(
        self,
        db: Database,
        dispatcher: Dispatcher,
        clock: Clock,
        *,
        warn_before: timedelta,
        queue_timeout: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.clock = clock
        self.warn_before = warn_before
        # a chat that queued before midnight may still be waiting after it
        self.lookback = timedelta(seconds=max(queue_timeout, 3600))
        self.monotonic = monotonic
        self._names: dict[str, str | None] = {}
        self._last_message: dict[str, datetime] = {}
        self._answered: set[str] = set()  # open chats with an agent's public message seen
        self._seeded = False
        self._floor: dict[str, Any] | None = None
        self._floor_at: float | None = None
        self._floor_dirty = True
        self._floor_lock = asyncio.Lock()

    # -- events ---------------------------------------------------------------------------------

    async def on_event(self, event: Event) -> None:
        if event.name == ev.MESSAGE_POSTED:
            message = event.data["message"]
            if message["sender"] == "agent" and message.get("author_id"):
                at = parse_iso(message["created_at"])
                if at is not None:
                    self._last_message[message["author_id"]] = at
                if not message["internal"] and message["conversation_id"] not in self._answered:
                    self._answered.add(message["conversation_id"])
                    self._floor_dirty = True  # a first answer moves today's counters
        elif event.name in _FLOOR_EVENTS:
            self._floor_dirty = True
            if event.name == ev.CONVERSATION_CLOSED:
                self._answered.discard(event.data["conversation"]["id"])

    # -- the live part ----------------------------------------------------------------------------

    def console_queue(self) -> dict[str, Any]:
        """The queue as consoles see it: the front of it, and how many wait in all."""
        return {"queue": self.queue(CONSOLE_QUEUE_SHOWN), "queued": self.dispatcher.queued()}

    def queue(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` waiting chats."""
        now = self.clock()
        out = []
        for position, live in enumerate(self.dispatcher.queue_head(limit), start=1):
            # never below nothing, should the wall clock step back while it waits
            waited = max(0.0, (now - live.queued_at).total_seconds()) if live.queued_at else 0.0
            out.append(
                {
                    "conversation_id": live.id,
                    "position": position,
                    "topic": live.topic,
                    "locale": live.locale,
                    "priority": live.priority,
                    "waiting_seconds": int(waited),
                    "customer_away_since": iso(self.dispatcher.customer_away_since(live.customer_id)),
                }
            )
        return out

    async def snapshot(self) -> dict[str, Any]:
        """Queue, agents and load, from memory (the database only for names of chats not seen before)."""
        await self._learn()
        now = self.clock()
        queue = [
            dict(entry, queued_at=iso(self.dispatcher.conversations[entry["conversation_id"]].queued_at),
                 customer_name=self._names.get(entry["conversation_id"]))
            for entry in self.queue(MONITOR_QUEUE_SHOWN)
        ]
        # returned chats go first, so the longest wait may be further back than the list reaches
        oldest = min((live.queued_at for live in self.dispatcher.queue_order() if live.queued_at), default=None)
        agents = [self._agent(agent_id, now) for agent_id in self.dispatcher.agents]
        online = [a for a in agents if a["status"] == "online" and a["connected"]]
        return {
            "at": iso(now),
            "queue": queue,
            "agents": sorted(agents, key=lambda a: a["name"]),
            "stats": {
                "queued": self.dispatcher.queued(),
                "longest_wait_seconds": int(max(0.0, (now - oldest).total_seconds())) if oldest else 0,
                "agents_online": len(online),
                "agents_away": sum(1 for a in agents if a["status"] == "away" and a["connected"]),
                "active_chats": sum(a["active"] for a in agents),
                "seats": sum(a["max_chats"] for a in online),
                "free_seats": sum(max(0, a["max_chats"] - a["active"]) for a in online),
            },
        }

    def _agent(self, agent_id: str, now: datetime) -> dict[str, Any]:
        agent = self.dispatcher.agents[agent_id]
        idle_from = floor.idle_since(agent.last_assigned_at, self._last_message.get(agent_id))
        chats = []
        held = [self.dispatcher.conversations.get(cid) for cid in agent.chats]
        for live in sorted((c for c in held if c is not None), key=lambda c: (iso(c.assigned_at) or "", c.id)):
            chats.append(
                {
                    "conversation_id": live.id, "topic": live.topic, "locale": live.locale,
                    "customer_name": self._names.get(live.id), "assigned_at": iso(live.assigned_at),
                    "customer_away_since": iso(self.dispatcher.customer_away_since(live.customer_id)),
                }
            )
        return dict(
            agent.public(),
            last_activity_at=iso(idle_from),
            idle_seconds=floor.seconds_between(idle_from, now),
            status_seconds=floor.seconds_between(agent.status_since, now),
            chats=chats,
        )

    async def _learn(self) -> None:
        """Customer names for chats the monitor has not shown yet; once, the agents' last messages."""
        open_ids = set(self.dispatcher.conversations)
        for gone in set(self._names) - open_ids:
            del self._names[gone]
        self._answered &= open_ids
        missing = open_ids - set(self._names)
        if missing:
            found = await floor_stats.customer_names(self.db, missing)
            self._names.update({cid: found.get(cid) for cid in missing})
        if not self._seeded:
            # after a restart the last messages in open chats stand in for the ones seen live
            self._seeded = True
            for author_id, at in (await floor_stats.last_agent_messages(self.db, open_ids)).items():
                moment = parse_iso(at)
                if moment is not None and (author_id not in self._last_message or self._last_message[author_id] < moment):
                    self._last_message[author_id] = moment

    # -- the floor part ---------------------------------------------------------------------------

    def floor_due(self) -> bool:
        """Whether the figures may and should be recomputed now."""
        if self._floor_at is None:
            return True
        age = self.monotonic() - self._floor_at
        return age >= FLOOR_MAX_AGE or (self._floor_dirty and age >= FLOOR_MIN_INTERVAL)

    async def floor(self) -> dict[str, Any]:
        """The latest figures, computed now only if there are none yet."""
        if self._floor is None:
            await self.refresh_floor()
        assert self._floor is not None
        return self._floor

    async def refresh_floor(self) -> dict[str, Any] | None:
        """Recompute when due; the new figures if they differ from the last ones, else None."""
        async with self._floor_lock:
            if not self.floor_due():
                return None
            self._floor_dirty = False
            self._floor_at = self.monotonic()
            try:
                fresh = await self._compute_floor(self.clock())
            except Exception:
                self._floor_dirty = True  # try again after the interval, not at once
                raise
            previous, self._floor = self._floor, fresh
        if previous is not None and _same(previous, fresh):
            return None
        return fresh

    async def _compute_floor(self, now: datetime) -> dict[str, Any]:
        start = floor.day_start(now)
        first_week = floor.week_start(start.date()) - timedelta(weeks=floor.WEEKS - 1)
        horizon = iso(now + self.warn_before)
        assert horizon is not None
        chats = await floor_stats.chats_since(self.db, iso(start - self.lookback))  # type: ignore[arg-type]
        per_day = await floor_stats.complaints_per_day(self.db, f"{first_week.isoformat()}T00:00:00")
        dues = await floor_stats.owing_dues(self.db, horizon)
        # each list on its own: the breached are always the soonest due, and could fill a shared one
        stamp: str = iso(now)  # type: ignore[assignment]
        listed = await floor_stats.owing(self.db, stamp, LIST_LIMIT)
        listed += await floor_stats.owing(self.db, horizon, LIST_LIMIT, after=stamp)
        categories = await complaint_store.categories(self.db, active_only=False)
        # the arithmetic runs off the event loop: a busy day is thousands of rows
        return await asyncio.to_thread(self._figures, now, start, chats, per_day, dues, listed, categories)

    def _figures(
        self, now: datetime, start: datetime, chat_rows: list[Row], per_day: list[Row], dues: list[Row],
        listed: list[Row], categories: list[Row],
    ) -> dict[str, Any]:
        chats = [floor.ChatTimes.from_row(row) for row in chat_rows]
        today = start.date().isoformat()
        created_today = sum(row["n"] for row in per_day if row["day"] == today)
        weekly = floor.weekly_by_category(((r["category"], r["day"], r["n"]) for r in per_day), now)
        names = {row["slug"]: row["name_en"] for row in categories}
        order = {row["slug"]: i for i, row in enumerate(categories)}
        series = sorted(weekly["series"].items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
        groups: dict[str, list[dict[str, Any]]] = {floor.AT_RISK: [], floor.BREACHED: []}
        for row in listed:
            response_due, resolution_due = parse_iso(row["response_due"]), parse_iso(row["resolution_due"])
            risk = floor.sla_risk(row["status"], response_due, resolution_due, now, self.warn_before)
            if risk is not None and len(groups[risk]) < LIST_LIMIT:
                groups[risk].append(_complaint_item(row, risk, response_due, resolution_due, names))
        by_level = floor.risk_by_level(dues, now, self.warn_before)
        return {
            "computed_at": iso(now),
            "day_start": iso(start),
            "today": floor.today_counters(chats, start, complaints_created=created_today),
            "timeline": floor.queue_timeline(chats, start, now),
            "complaints": {
                "warning_hours": self.warn_before.total_seconds() / 3600,
                "at_risk_total": sum(level[floor.AT_RISK] for level in by_level.values()),
                "breached_total": sum(level[floor.BREACHED] for level in by_level.values()),
                "by_level": by_level,
                "at_risk": groups[floor.AT_RISK],
                "breached": groups[floor.BREACHED],
            },
            "weekly": {
                "weeks": weekly["weeks"],
                "categories": [{"slug": slug, "name": names.get(slug, slug), "counts": counts} for slug, counts in series],
            },
            "category_names": names,
        }


def _complaint_item(
    row: Row, risk: str, response_due: datetime | None, resolution_due: datetime | None, names: dict[str, str]
) -> dict[str, Any]:
    due = floor.next_due(response_due, resolution_due)
    return {
        "reference": row["reference"],
        "subject": row["subject"],
        "category": row["category"],
        "category_name": names.get(row["category"], row["category"]),
        "status": row["status"],
        "level": row["level"],
        "owner_group": row["owner_group"],
        "assignee": {"id": row["assignee_id"], "name": row["assignee_name"]} if row["assignee_id"] else None,
        "customer_name": row["customer_name"],
        "risk": risk,
        "due_at": iso(due),
        "due_target": "response" if due is not None and due == response_due else "resolution",
    }


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal figures apart from when they were computed."""
    return {k: v for k, v in a.items() if k != "computed_at"} == {k: v for k, v in b.items() if k != "computed_at"}
