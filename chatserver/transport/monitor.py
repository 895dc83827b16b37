"""Namespace /monitor: live snapshots for supervisors and admins."""

from __future__ import annotations

from typing import Any

from chatserver.domain.errors import Forbidden
from chatserver.services.container import Services
from chatserver.transport.base import Connection, ContractNamespace
from chatserver.transport.console_auth import console_user
from chatserver.transport.ratelimit import ConnectionLimits
from chatserver.transport.visibility import MONITOR_NS

MONITOR_ROOM = "monitors"


class MonitorNamespace(ContractNamespace):
    def __init__(self, services: Services, secret_key: str) -> None:
        super().__init__(MONITOR_NS)
        self.services = services
        self.secret_key = secret_key

    async def accept(self, sid: str, environ: dict, auth: Any) -> Connection:
        user = await console_user(environ, auth, self.services.auth, self.secret_key)
        if not user.is_supervisor:
            raise Forbidden("the queue monitor is for supervisors and admins")
        await self.enter_room(sid, MONITOR_ROOM)
        return Connection(sid, user, ConnectionLimits())

    async def opened(self, conn: Connection) -> None:
        await self.emit("monitor:snapshot", self.services.monitor.snapshot(), to=conn.sid)
