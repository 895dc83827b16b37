"""Namespace /agent: the operator console."""

from __future__ import annotations

from typing import Any

from chatserver.domain.errors import Forbidden
from chatserver.domain.models import iso
from chatserver.services.auth import ConsoleUser
from chatserver.services.container import Services
from chatserver.store import conversations as conversation_store
from chatserver.transport import schemas as s
from chatserver.transport.base import Connection, ContractNamespace
from chatserver.transport.console_auth import console_user, seconds_left
from chatserver.transport.ratelimit import AGENT_MESSAGE_RATE, LimitBook
from chatserver.transport.visibility import AGENT_NS, ALL_AGENTS, agent_room


class AgentNamespace(ContractNamespace):
    def __init__(self, services: Services, secret_key: str) -> None:
        super().__init__(AGENT_NS)
        self.services = services
        self.secret_key = secret_key
        self.max_body = services.settings.max_message_chars
        self.limits = LimitBook({"message:send": AGENT_MESSAGE_RATE})
        self.routes = {
            "presence:set": (s.PresenceSet, self.presence_set),
            "message:send": (s.AgentMessageSend, self.message_send),
            "history": (s.History, self.history),
            "typing": (s.Typing, self.typing),
            "chat:close": (s.ChatClose, self.chat_close),
            "chat:transfer": (s.ChatTransfer, self.chat_transfer),
            "chat:take": (s.ChatTake, self.chat_take),
            "canned:search": (s.KnowledgeSearch, self.canned_search),
            "faq:search": (s.KnowledgeSearch, self.faq_search),
            "customer:history": (s.CustomerHistory, self.customer_history),
        }

    async def accept(self, sid: str, environ: dict, auth: Any) -> Connection:
        user = await console_user(environ, auth, self.services.auth, self.secret_key)
        conn = Connection(sid, user, self.limits.limits_for(user.id), seconds_left(user, self.services.clock()))
        await self.enter_room(sid, agent_room(user.id))
        await self.enter_room(sid, ALL_AGENTS)
        return conn

    async def opened(self, conn: Connection) -> None:
        if conn.sid not in self.connections:
            return  # gone before it was counted: nothing to undo
        user: ConsoleUser = conn.principal
        conn.extra["counted"] = True
        try:
            agent = await self.services.dispatcher.agent_connected(user.id)
        except Forbidden:
            # deactivated between the login check and now: the sessions-ended notice may have gone
            # out before this socket could hear it
            conn.extra["counted"] = False
            await self.disconnect(conn.sid)
            return
        rows = [
            await conversation_store.get(self.services.db, cid) for cid in sorted(agent.chats)
        ]
        away = self.services.dispatcher.customer_away_since
        conversations = [
            dict(await self.services.chats.public_conversation(r), customer_away_since=iso(away(r["customer_id"]))) for r in rows if r
        ]
        await self.emit(
            "session",
            {
                "agent": agent.public(),
                "conversations": conversations,
                **self.services.monitor.console_queue(),
                "colleagues": [
                    {"id": a.id, "name": a.name, "status": a.status, "connected": a.sockets > 0}
                    for a in self.services.dispatcher.agents.values()
                    if a.id != user.id
                ],
            },
            to=conn.sid,
        )

    async def closed(self, conn: Connection, reason: Any) -> None:
        if conn.extra.get("counted"):
            await self.services.dispatcher.agent_disconnected(conn.principal.id)

    async def presence_set(self, conn: Connection, p: s.PresenceSet) -> dict:
        return {"agent": await self.services.dispatcher.set_presence(conn.principal.id, p.status)}

    async def message_send(self, conn: Connection, p: s.AgentMessageSend) -> dict:
        message = await self.services.chats.post_agent_message(conn.principal, p.conversation_id, p.client_id, p.body, p.internal)
        return {"message": message}

    async def history(self, conn: Connection, p: s.History) -> dict:
        return await self.services.chats.history(p.conversation_id, p.after_seq, user=conn.principal)

    async def typing(self, conn: Connection, p: s.Typing) -> None:
        await self.services.chats.typing(p.conversation_id, p.typing, user=conn.principal)

    async def chat_close(self, conn: Connection, p: s.ChatClose) -> dict:
        return await self.services.chats.close_by_agent(conn.principal, p.conversation_id, p.outcome, p.category, p.summary)

    async def chat_transfer(self, conn: Connection, p: s.ChatTransfer) -> dict:
        return {"conversation": await self.services.chats.transfer(conn.principal, p.conversation_id, p.to_agent_id)}

    async def chat_take(self, conn: Connection, p: s.ChatTake) -> dict:
        return {"conversation": await self.services.chats.take(conn.principal, p.conversation_id)}

    async def canned_search(self, conn: Connection, p: s.KnowledgeSearch) -> dict:
        return {"answers": await self.services.knowledge.canned(p.query, p.locale)}

    async def faq_search(self, conn: Connection, p: s.KnowledgeSearch) -> dict:
        return {"articles": await self.services.knowledge.faq(p.locale, p.query)}

    async def customer_history(self, conn: Connection, p: s.CustomerHistory) -> dict:
        return await self.services.chats.customer_history(conn.principal, p.conversation_id)

