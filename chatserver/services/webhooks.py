"""Outbound webhooks as the services see them: receivers (admins only, audited) and, for every chat
or complaint event, one delivery row per receiver subscribed to it.

The rows are written in the transaction of the change they announce (the event is staged there, see
`services.events`): they commit with it or not at all, so a crash right after a commit, or storage
refusing the next write, loses no notification. The commit wakes the worker in
`chatserver.webhooks.worker`, which delivers the rows.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from chatserver.domain import complaint_lifecycle as lifecycle
from chatserver.domain.errors import Conflict, Forbidden, Invalid, NotFound
from chatserver.domain.models import iso
from chatserver.services import events as ev
from chatserver.services import presenters
from chatserver.services.auth import ConsoleUser, ensure_admin
from chatserver.services.clock import Clock
from chatserver.services.events import Event
from chatserver.store import audit
from chatserver.store import webhooks as store
from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id
from chatserver.webhooks import addresses, signing

log = logging.getLogger(__name__)

# The public names receivers subscribe to, and what each means. A contract, like socket event names.
PUBLIC_EVENTS: dict[str, str] = {
    "chat.started": "a customer started a chat; it waits in the queue",
    "chat.assigned": "an agent got a chat: by routing, by hand or by a transfer",
    "chat.closed": "a chat ended: resolved, as a complaint, or abandoned",
    "complaint.created": "a complaint was filed: from a chat, the form, or by staff",
    "complaint.updated": "a complaint changed: status, public reply, assignment, level, compensation",
    "complaint.sla_warning": "a complaint's due time is near",
    "complaint.sla_breach": "a complaint's due time passed; it went up a level",
}
TEST_EVENT = "ping"  # sent by "send test" only, whatever the receiver subscribed to
# the bus events that can become webhooks; the others never reach this service
BUS_EVENTS = frozenset(
    {ev.CONVERSATION_STARTED, ev.CONVERSATION_ASSIGNED, ev.CONVERSATION_CLOSED, ev.COMPLAINT_CREATED, ev.COMPLAINT_UPDATED, ev.COMPLAINT_SLA}
)
_CONVERSATION_KEYS = ("id", "status", "topic", "locale", "created_at", "agent", "outcome", "complaint_reference", "last_seq")
MAX_DESCRIPTION = 200


class InvalidEndpoint(Invalid):
    """The receiver form has mistakes; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def public_event(event: Event) -> tuple[str, dict[str, Any]] | None:
    """A bus event as receivers see it: the public name and the data. Public views only: no internal
    note, no staff-only entry, no tracking key, no message history."""
    d = event.data
    if event.name == ev.CONVERSATION_STARTED:
        row = d["conversation"]
        return "chat.started", {"conversation": presenters.conversation(row), "customer_id": row["customer_id"]}
    if event.name == ev.CONVERSATION_ASSIGNED:
        row, agent = d["conversation"], d.get("agent") or {}
        return "chat.assigned", {
            "conversation": presenters.conversation(row, agent.get("name")),
            "customer_id": row["customer_id"],
            "agent": {"id": agent.get("id"), "name": agent.get("name")},
        }
    if event.name == ev.CONVERSATION_CLOSED:
        conversation = {key: d["conversation"].get(key) for key in _CONVERSATION_KEYS}
        complaint = presenters.complaint(d["complaint"]) if d.get("complaint") else None
        return "chat.closed", {
            "conversation": conversation, "customer_id": d.get("customer_id"), "complaint": complaint, "closed_by": d.get("closed_by"),
        }
    if event.name == ev.COMPLAINT_CREATED:
        return "complaint.created", {"complaint": presenters.complaint(d["complaint"]), "customer_id": d.get("customer_id")}
    if event.name == ev.COMPLAINT_UPDATED:
        row, entry, compensation = d["complaint"], d.get("entry"), d.get("compensation")
        public = d.get("public") is True
        data: dict[str, Any] = {
            "complaint": presenters.complaint(row), "customer_id": row.get("customer_id"), "action": d["action"],
            "public": public, "entry": None, "compensation": None,
        }
        if public and entry is not None and lifecycle.is_public_entry(entry["kind"]):
            data["entry"] = presenters.complaint_entry(entry, for_customer=True)
        if public and compensation is not None and compensation.get("status") == "approved":
            data["compensation"] = presenters.compensation(compensation, for_customer=True)
        return "complaint.updated", data
    if event.name == ev.COMPLAINT_SLA:
        name = {"warning": "complaint.sla_warning", "breach": "complaint.sla_breach"}.get(d["kind"])
        if name is None:
            return None
        return name, {"complaint": presenters.complaint(d["complaint"]), "target": d["target"], "due_at": d["due_at"], "level": d["level"]}
    return None


def body(delivery_id: str, event: str, created_at: str, data: dict[str, Any]) -> str:
    return json.dumps({"id": delivery_id, "event": event, "created_at": created_at, "data": data}, ensure_ascii=False, separators=(",", ":"))


def check_form(url: str, events: list[str], description: str, *, allow_private: bool) -> tuple[str, dict[str, str]]:
    """The URL as it will be stored, and a message for every field that is wrong."""
    errors: dict[str, str] = {}
    try:
        url = addresses.check_url(url, allow_private=allow_private)
    except addresses.BadTarget as exc:
        errors["url"] = str(exc)
    if not events:
        errors["events"] = "Choose at least one event."
    elif unknown := sorted(set(events) - set(PUBLIC_EVENTS)):
        errors["events"] = "Unknown events: " + ", ".join(unknown) + "."
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Keep the description to {MAX_DESCRIPTION} characters or fewer."
    return url, errors


def endpoint_view(row: Row) -> dict[str, Any]:
    """A receiver for the admin page: the secret never again, only a hint of it."""
    view = {k: v for k, v in row.items() if k != "secret"}
    view["secret_hint"] = row["secret"][: len(signing.SECRET_PREFIX) + 4] + "…"
    return view


class WebhookService:
    def __init__(self, db: Database, clock: Clock, *, allow_private: bool, notify: Callable[[], None]) -> None:
        self.db = db
        self.clock = clock
        self.allow_private = allow_private
        self.notify = notify
        # enabled receivers and their events, so that an event nobody wants costs no query
        self._active: list[tuple[str, frozenset[str]]] = []

    async def load(self) -> None:
        self._active = [(row["id"], frozenset(row["events"])) for row in await store.active_endpoints(self.db)]

    # -- the bus ------------------------------------------------------------------------------------

    async def write_in(self, tx: Tx, event: Event) -> None:
        """An in-transaction subscriber (for BUS_EVENTS only): one delivery per interested receiver,
        committed with the change the event announces."""
        if not self._active:
            return
        try:
            mapped = public_event(event)
        except Exception:
            # a fault of ours in the receivers' view: the change matters more than its notice (a
            # storage fault writing the rows below still refuses the change: nothing half-written)
            log.exception("no webhook for %s: its public view failed", event.name)
            return
        if mapped is None:
            return
        name, data = mapped
        now: str = iso(self.clock())  # type: ignore[assignment]
        targets = [endpoint_id for endpoint_id, events in self._active if name in events]
        for endpoint_id in targets:
            await _write(tx, endpoint_id, name, data, now)
        if targets:
            tx.after_commit(self.notify)

    # -- admins -------------------------------------------------------------------------------------

    async def register(self, actor: ConsoleUser, *, url: str, events: list[str], description: str = "") -> tuple[dict[str, Any], str]:
        """A new receiver and its signing secret: the only time the secret is handed out."""
        _check_admin(actor)
        description = description.strip()
        url, errors = check_form(url, events, description, allow_private=self.allow_private)
        if errors:
            raise InvalidEndpoint(errors)
        secret = signing.new_secret()
        now: str = iso(self.clock())  # type: ignore[assignment]
        ordered = [name for name in PUBLIC_EVENTS if name in set(events)]
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor.id)
            row = await store.create_endpoint(
                tx, url=url, events=ordered, secret=secret, description=description, now=now, created_by=actor.id,
            )
            await audit.record(
                tx, actor=actor.id, action="webhook.created", subject=row["id"], now=now,
                details={"url": url, "events": ordered},
            )
        await self.load()
        return endpoint_view(row), secret

    async def set_active(self, actor: ConsoleUser, endpoint_id: str, active: bool) -> dict[str, Any]:
        _check_admin(actor)
        now: str = iso(self.clock())  # type: ignore[assignment]
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor.id)
            row = await store.get_endpoint(tx, endpoint_id)
            if row is None:
                raise NotFound("no such webhook")
            if await store.set_active(tx, endpoint_id, active=active, now=now):
                await audit.record(
                    tx, actor=actor.id, action="webhook.enabled" if active else "webhook.disabled", subject=endpoint_id,
                    now=now, details={"url": row["url"]},
                )
            row = await store.get_endpoint(tx, endpoint_id)
        await self.load()
        if active:
            self.notify()  # its waiting deliveries may go now
        return endpoint_view(row)  # type: ignore[arg-type]

    async def send_test(self, actor: ConsoleUser, endpoint_id: str) -> str:
        """Queue a `ping` to one enabled receiver; returns the delivery id."""
        _check_admin(actor)
        row = await store.get_endpoint(self.db, endpoint_id)
        if row is None:
            raise NotFound("no such webhook")
        if not row["active"]:
            raise Conflict("enable the webhook before sending a test")
        data = {"endpoint_id": endpoint_id, "message": "A test delivery from Chatserver: verify its signature like any other."}
        now: str = iso(self.clock())  # type: ignore[assignment]
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor.id)
            delivery_id = await _write(tx, endpoint_id, TEST_EVENT, data, now)
            await audit.record(
                tx, actor=actor.id, action="webhook.test", subject=endpoint_id, now=now, details={"delivery_id": delivery_id},
            )
        self.notify()
        return delivery_id

    async def endpoints(self) -> list[dict[str, Any]]:
        return [endpoint_view(row) for row in await store.list_endpoints(self.db)]

    async def endpoint(self, endpoint_id: str) -> dict[str, Any]:
        row = await store.get_endpoint(self.db, endpoint_id)
        if row is None:
            raise NotFound("no such webhook")
        return endpoint_view(row)

    async def deliveries(self, endpoint_id: str | None = None, limit: int = 50) -> list[Row]:
        return await store.deliveries(self.db, endpoint_id=endpoint_id, limit=limit)


async def _write(tx: Tx, endpoint_id: str, name: str, data: dict[str, Any], now: str) -> str:
    delivery_id = new_id("dl")
    await store.enqueue(tx, delivery_id=delivery_id, endpoint_id=endpoint_id, event=name, payload=body(delivery_id, name, now, data), now=now)
    return delivery_id


def _check_admin(actor: ConsoleUser) -> None:
    if actor.role != "admin":
        raise Forbidden("only admins manage webhooks")
