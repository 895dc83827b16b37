"""Turns service events into Socket.IO emits, and keeps monitors and consoles' queue views fresh."""

from __future__ import annotations

import asyncio
import logging

import socketio

from chatserver.services import events as ev
from chatserver.services.container import Services
from chatserver.services.events import Event
from chatserver.transport.base import origin_sid
from chatserver.transport.monitor import MONITOR_ROOM
from chatserver.transport.visibility import AGENT_NS, ALL_AGENTS, MONITOR_NS, emits_for

log = logging.getLogger(__name__)

SNAPSHOT_INTERVAL = 0.25  # at most four monitor snapshots a second, however busy the floor
# how often to ask whether the monitor's database figures are due; the monitor service decides
# (it recomputes them at most every few seconds, and only while someone watches)
FLOOR_CHECK_INTERVAL = 1.0


class Fanout:
    def __init__(self, sio: socketio.AsyncServer, services: Services) -> None:
        self.sio = sio
        self.services = services
        self._snapshot_pending = False
        self._consoles_due = False  # consoles' queue:snapshot only follows queue and presence changes
        self._task: asyncio.Task | None = None
        self._floor_task: asyncio.Task | None = None
        self.session_sockets: dict[str, set[str]] = {}

    def attach(self) -> None:
        self.services.bus.subscribe(self.on_event)
        self._floor_task = asyncio.ensure_future(self._watch_floor())

    async def on_event(self, event: Event) -> None:
        origin = origin_sid.get()
        for emit in emits_for(event):
            skip = origin if emit.skip_origin else None
            await self.sio.emit(emit.event, emit.payload, room=emit.room, namespace=emit.namespace, skip_sid=skip)
        if event.name == ev.USER_SESSIONS_ENDED:
            await self._end_sessions(event.data.get("session_id"), event.data.get("user_id"), event.data.get("api_token_id"))
        if event.name in (
            ev.QUEUE_POSITIONS, ev.AGENT_CHANGED, ev.CONVERSATION_ASSIGNED, ev.CONVERSATION_CLOSED, ev.CONVERSATION_UNASSIGNED,
            ev.CUSTOMER_PRESENCE,
        ):
            self._schedule_snapshot(consoles=True)
        elif event.name == ev.MESSAGE_POSTED and event.data["message"]["sender"] == "agent" and self._monitors_watching():
            self._schedule_snapshot(consoles=False)  # an agent's message ends their idle time on the monitor

    def _schedule_snapshot(self, *, consoles: bool) -> None:
        self._consoles_due = self._consoles_due or consoles
        if self._snapshot_pending:
            return
        self._snapshot_pending = True
        self._task = asyncio.ensure_future(self._send_snapshots())

    def _monitors_watching(self) -> bool:
        handler = self.sio.namespace_handlers.get(MONITOR_NS)
        return bool(getattr(handler, "connections", None))

    async def _send_snapshots(self) -> None:
        await asyncio.sleep(SNAPSHOT_INTERVAL)
        self._snapshot_pending = False
        consoles, self._consoles_due = self._consoles_due, False
        monitor = self.services.monitor
        try:
            if consoles:
                agents = sorted(self.services.dispatcher.agents.values(), key=lambda a: a.name)
                colleagues = [{"id": a.id, "name": a.name, "status": a.status, "connected": a.sockets > 0} for a in agents]
                await self.sio.emit(
                    "queue:snapshot", {**monitor.console_queue(), "colleagues": colleagues}, room=ALL_AGENTS, namespace=AGENT_NS
                )
            if self._monitors_watching():  # nobody watching: nothing to build
                await self.sio.emit("monitor:snapshot", await monitor.snapshot(), room=MONITOR_ROOM, namespace=MONITOR_NS)
        except Exception:
            log.exception("snapshot failed")

    async def _watch_floor(self) -> None:
        """Push the monitor's database figures when they were recomputed and changed."""
        monitor = self.services.monitor
        while True:
            await asyncio.sleep(FLOOR_CHECK_INTERVAL)
            if not self._monitors_watching() or not monitor.floor_due():
                continue
            try:
                fresh = await monitor.refresh_floor()
                if fresh is not None:
                    await self.sio.emit("monitor:floor", fresh, room=MONITOR_ROOM, namespace=MONITOR_NS)
            except Exception:
                log.exception("monitor figures failed")

    async def _end_sessions(self, session_id: str | None, user_id: str | None, api_token_id: str | None) -> None:
        """Logout, deactivation, password or role change, a revoked API token: the sockets they opened close now."""
        for namespace in (AGENT_NS, MONITOR_NS):
            handler = self.sio.namespace_handlers.get(namespace)
            if handler is None:
                continue
            for sid, conn in list(handler.connections.items()):
                principal = conn.principal
                if (
                    (session_id and principal.session_id == session_id)
                    or (user_id and principal.id == user_id)
                    or (api_token_id and principal.api_token_id == api_token_id)
                ):
                    await self.sio.disconnect(sid, namespace=namespace)

    def stop(self) -> None:
        for task in (self._task, self._floor_task):
            if task:
                task.cancel()
