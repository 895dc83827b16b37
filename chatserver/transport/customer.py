"""Namespace /customer: the widget."""

from __future__ import annotations

from typing import Any

from chatserver.domain.errors import RateLimited
from chatserver.services.clock import now_iso
from chatserver.services.container import Services
from chatserver.transport.base import Connection, ContractNamespace
from chatserver.transport.forwarding import client_of_environ
from chatserver.transport.ratelimit import KeyedLimiter, LimitBook, Rate, per_hour, per_minute
from chatserver.transport import schemas as s
from chatserver.transport.visibility import CUSTOMER_NS, customer_room


# each write lands in the complaint's thread and may e-mail staff: people, not scripts
COMPLAINT_LIMITS = {"complaint:reply": Rate(0.5, 10), "complaint:rate": Rate(0.2, 5)}


class CustomerNamespace(ContractNamespace):
    def __init__(self, services: Services) -> None:
        super().__init__(CUSTOMER_NS)
        self.services = services
        self.max_body = services.settings.max_message_chars
        self.starts_per_address = KeyedLimiter(per_minute(services.settings.chat_starts_per_minute))
        # a visitor is free to become a new customer, with fresh buckets, at every connect: the
        # address is what a flood cannot renew (staff are limited per person, which no one can mint)
        self.events_per_address = KeyedLimiter(per_minute(services.settings.customer_events_per_address_per_minute))
        self.complaints_per_address = KeyedLimiter(per_hour(services.settings.complaints_per_address_per_hour))
        self.limits = LimitBook(COMPLAINT_LIMITS)
        services.retention.connected_customers = self.connected_customers  # never removed while their widget is open
        self.routes = {
            "chat:start": (s.ChatStart, self.chat_start),
            "message:send": (s.MessageSend, self.message_send),
            "history": (s.History, self.history),
            "typing": (s.Typing, self.typing),
            "chat:end": (s.ChatEnd, self.chat_end),
            "rating": (s.Rating, self.rating),
            "complaint:submit": (s.ComplaintSubmit, self.complaint_submit),
            "complaint:list": (s.Empty, self.complaint_list),
            "complaint:get": (s.ComplaintGet, self.complaint_get),
            "complaint:reply": (s.ComplaintReply, self.complaint_reply),
            "complaint:rate": (s.ComplaintRate, self.complaint_rate),
        }

    async def accept(self, sid: str, environ: dict, auth: Any) -> Connection:
        payload = s.parse(s.CustomerAuth, (auth,))
        assert isinstance(payload, s.CustomerAuth)
        customer, new_token = await self.services.auth.resolve_customer(
            token=payload.token,
            locale=payload.locale,
            identity=payload.identity.model_dump() if payload.identity else None,
        )
        conn = Connection(sid, customer, self.limits.limits_for(customer["id"]))
        conn.extra["token"] = new_token or payload.token
        conn.extra["address"] = client_of_environ(environ).limit_key
        await self.enter_room(sid, customer_room(customer["id"]))
        return conn

    def connected_customers(self) -> set[str]:
        return {conn.principal["id"] for conn in self.connections.values()}

    def check_limits(self, conn: Connection, event: str) -> None:
        super().check_limits(conn, event)
        if not self.events_per_address.allow(conn.extra["address"]):
            raise RateLimited("too many requests from this address; slow down")

    async def opened(self, conn: Connection) -> None:
        if conn.sid not in self.connections:
            return  # gone before it was counted: nothing to undo
        customer = conn.principal
        conn.extra["counted"] = True
        await self.services.dispatcher.customer_connected(customer["id"])
        conversation = await self.services.chats.open_conversation_for(customer["id"])
        session: dict[str, Any] = {
            "customer_id": customer["id"],
            "token": conn.extra["token"],
            "locale": customer["locale"],
            "conversation": conversation,
            "last_seq": conversation["last_seq"] if conversation else 0,
            "queue": self.services.dispatcher.queue_info(conversation["id"]) if conversation else None,
            # the widget measures deadlines against this, not the visitor's own clock, which may be off
            "server_time": now_iso(self.services.clock),
        }
        await self.emit("session", session, to=conn.sid)

    async def closed(self, conn: Connection, reason: Any) -> None:
        if conn.extra.get("counted"):
            await self.services.dispatcher.customer_disconnected(conn.principal["id"])

    async def chat_start(self, conn: Connection, p: s.ChatStart) -> dict:
        if not self.starts_per_address.allow(conn.extra["address"]):
            raise RateLimited("too many chats started from this address; wait a moment")
        result = await self.services.chats.start(
            conn.principal, topic=p.topic, body=p.body, name=p.name, email=p.email or None, address=conn.extra["address"],
        )
        if p.name or p.email:
            conn.principal = await self.services.auth.customer(conn.principal["id"])
        return result

    async def message_send(self, conn: Connection, p: s.MessageSend) -> dict:
        message = await self.services.chats.post_customer_message(conn.principal, p.conversation_id, p.client_id, p.body)
        return {"message": message}

    async def history(self, conn: Connection, p: s.History) -> dict:
        return await self.services.chats.history(p.conversation_id, p.after_seq, customer_id=conn.principal["id"])

    async def typing(self, conn: Connection, p: s.Typing) -> None:
        await self.services.chats.typing(p.conversation_id, p.typing, customer=conn.principal)

    def check_complaint_limit(self, conn: Connection) -> None:
        if not self.complaints_per_address.allow(conn.extra["address"]):
            raise RateLimited("too many complaints from this address; try again later")

    async def chat_end(self, conn: Connection, p: s.ChatEnd) -> dict:
        if p.resolved is False:  # the chat becomes a complaint
            self.check_complaint_limit(conn)
        return await self.services.chats.end_by_customer(conn.principal, p.conversation_id, p.resolved)

    async def rating(self, conn: Connection, p: s.Rating) -> dict:
        await self.services.chats.rate(conn.principal, p.conversation_id, p.score, p.comment)
        return {}

    async def complaint_submit(self, conn: Connection, p: s.ComplaintSubmit) -> dict:
        complaint = await self.services.complaints.submit_form(
            customer=conn.principal, category=p.category, subject=p.subject, body=p.body, email=p.email or None,
            client_id=p.client_id, admit=lambda: self.check_complaint_limit(conn),
        )
        return {"complaint": complaint}

    async def complaint_list(self, conn: Connection, p: s.Empty) -> dict:
        return {"complaints": await self.services.complaints.list_for_customer(conn.principal["id"])}

    async def complaint_get(self, conn: Connection, p: s.ComplaintGet) -> dict:
        return {"complaint": await self.services.complaints.customer_detail(conn.principal, p.reference)}

    async def complaint_reply(self, conn: Connection, p: s.ComplaintReply) -> dict:
        complaint = await self.services.complaints.customer_reply(conn.principal, p.reference, p.body, p.decision)
        return {"complaint": complaint}

    async def complaint_rate(self, conn: Connection, p: s.ComplaintRate) -> dict:
        complaint = await self.services.complaints.customer_rate(conn.principal, p.reference, p.score, p.comment)
        return {"complaint": complaint}
