"""Namespace /monitor: live snapshots for supervisors and admins, and their actions on the floor."""

from __future__ import annotations

from typing import Any, Literal

from chatserver.domain.errors import Forbidden
from chatserver.services.auth import ConsoleUser
from chatserver.services.complaints import SeenAssignee
from chatserver.services.container import Services
from chatserver.transport.base import Connection, ContractNamespace
from chatserver.transport.console_auth import console_user, seconds_left
from chatserver.transport.ratelimit import LimitBook
from chatserver.transport.schemas import Id, Level, Payload, Text
from chatserver.transport.visibility import MONITOR_NS

MONITOR_ROOM = "monitors"
Reference = Text(32, 1)


class ChatAssign(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    agent_id: Id  # type: ignore[valid-type]
    force: bool = False


class ChatMove(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    to_agent_id: Id  # type: ignore[valid-type]
    force: bool = False
    from_agent_id: Id | None = None  # type: ignore[valid-type]  # the agent the supervisor saw it with


class ChatTakeover(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    force: bool = False
    # the agent the supervisor saw it with, null when they saw it waiting; absent: wherever it is
    from_agent_id: Id | None = None  # type: ignore[valid-type]


class AgentSetStatus(Payload):
    agent_id: Id  # type: ignore[valid-type]
    status: Literal["online", "away", "offline"]


class ComplaintEscalate(Payload):
    reference: Reference  # type: ignore[valid-type]
    reason: Text(1000, 1)  # type: ignore[valid-type]
    from_level: Level | None = None  # the level the supervisor saw


class ComplaintAssign(Payload):
    reference: Reference  # type: ignore[valid-type]
    assignee_id: Id | None  # type: ignore[valid-type]  # required; null lets go of the complaint
    from_assignee_id: Id | None = None  # type: ignore[valid-type]  # whom the supervisor saw it with; absent: unchecked


class RoutingExplain(Payload):
    conversation_id: Id  # type: ignore[valid-type]


def _supervisor(conn: Connection) -> ConsoleUser:
    user: ConsoleUser = conn.principal
    if not user.is_supervisor:  # the role was checked on connect; a role change closes the socket
        raise Forbidden("the queue monitor is for supervisors and admins")
    return user


class MonitorNamespace(ContractNamespace):
    def __init__(self, services: Services, secret_key: str) -> None:
        super().__init__(MONITOR_NS)
        self.services = services
        self.secret_key = secret_key
        self.limits = LimitBook()
        self.routes = {
            "chat:assign": (ChatAssign, self.chat_assign),
            "chat:move": (ChatMove, self.chat_move),
            "chat:takeover": (ChatTakeover, self.chat_takeover),
            "agent:set_status": (AgentSetStatus, self.agent_set_status),
            "complaint:escalate": (ComplaintEscalate, self.complaint_escalate),
            "complaint:assign": (ComplaintAssign, self.complaint_assign),
            "routing:explain": (RoutingExplain, self.routing_explain),
        }

    async def accept(self, sid: str, environ: dict, auth: Any) -> Connection:
        user = await console_user(environ, auth, self.services.auth, self.secret_key)
        if not user.is_supervisor:
            raise Forbidden("the queue monitor is for supervisors and admins")
        await self.enter_room(sid, MONITOR_ROOM)
        return Connection(sid, user, self.limits.limits_for(user.id), seconds_left(user, self.services.clock()))

    async def opened(self, conn: Connection) -> None:
        await self.emit("monitor:snapshot", await self.services.monitor.snapshot(), to=conn.sid)
        await self.emit("monitor:floor", await self.services.monitor.floor(), to=conn.sid)

    async def chat_assign(self, conn: Connection, p: ChatAssign) -> dict:
        supervision = self.services.supervision
        return {"conversation": await supervision.assign(_supervisor(conn), p.conversation_id, p.agent_id, force=p.force)}

    async def chat_move(self, conn: Connection, p: ChatMove) -> dict:
        supervision = self.services.supervision
        return {"conversation": await supervision.move(
            _supervisor(conn), p.conversation_id, p.to_agent_id, force=p.force, from_agent_id=p.from_agent_id
        )}

    async def chat_takeover(self, conn: Connection, p: ChatTakeover) -> dict:
        return {"conversation": await self.services.supervision.takeover(
            _supervisor(conn), p.conversation_id, force=p.force,
            seen=("from_agent_id" in p.model_fields_set), from_agent_id=p.from_agent_id,
        )}

    async def agent_set_status(self, conn: Connection, p: AgentSetStatus) -> dict:
        return {"agent": await self.services.supervision.set_agent_status(_supervisor(conn), p.agent_id, p.status)}

    async def complaint_escalate(self, conn: Connection, p: ComplaintEscalate) -> dict:
        return {"complaint": await self.services.supervision.escalate_complaint(_supervisor(conn), p.reference, p.reason, from_level=p.from_level)}

    async def complaint_assign(self, conn: Connection, p: ComplaintAssign) -> dict:
        seen = SeenAssignee(p.from_assignee_id) if "from_assignee_id" in p.model_fields_set else None
        return {"complaint": await self.services.supervision.assign_complaint(_supervisor(conn), p.reference, p.assignee_id, seen)}

    async def routing_explain(self, conn: Connection, p: RoutingExplain) -> dict:
        return await self.services.supervision.explain(_supervisor(conn), p.conversation_id)
