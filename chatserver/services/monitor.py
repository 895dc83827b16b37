"""Live snapshots of the queue and the agents for supervisors."""

from __future__ import annotations

from typing import Any

from chatserver.services.clock import Clock
from chatserver.services.dispatch import Dispatcher


class MonitorService:
    def __init__(self, dispatcher: Dispatcher, clock: Clock) -> None:
        self.dispatcher = dispatcher
        self.clock = clock

    def queue(self) -> list[dict[str, Any]]:
        now = self.clock()
        out = []
        for position, live in enumerate(self.dispatcher.queue_order(), start=1):
            waited = (now - live.queued_at).total_seconds() if live.queued_at else 0.0
            out.append(
                {
                    "conversation_id": live.id,
                    "position": position,
                    "topic": live.topic,
                    "locale": live.locale,
                    "priority": live.priority,
                    "waiting_seconds": int(waited),
                }
            )
        return out

    def snapshot(self) -> dict[str, Any]:
        queue = self.queue()
        agents = [agent.public() for agent in self.dispatcher.agents.values()]
        online = [a for a in agents if a["status"] == "online" and a["connected"]]
        return {
            "queue": queue,
            "agents": sorted(agents, key=lambda a: a["name"]),
            "stats": {
                "queued": len(queue),
                "longest_wait_seconds": max((q["waiting_seconds"] for q in queue), default=0),
                "agents_online": len(online),
                "active_chats": sum(a["active"] for a in agents),
                "free_seats": sum(max(0, a["max_chats"] - a["active"]) for a in online),
            },
        }
