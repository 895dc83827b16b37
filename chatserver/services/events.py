"""The port through which services say what happened, after it is committed.

Transport subscribes and turns events into Socket.IO emits; tests may subscribe too.
Event names live here and nowhere else.

What must never be lost with a change (a webhook delivery) is written in the change's own
transaction: the service stages the event there, and the in-transaction subscribers write their rows
with it; a crash after the commit then loses nothing, and a refused write refuses the change too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable

if TYPE_CHECKING:
    from chatserver.store.db import Tx

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    data: dict[str, Any] = field(default_factory=dict)


# Every event the services publish.
CONVERSATION_STARTED = "conversation.started"  # conversation (row), customer_id, message (the first one, or None)
CONVERSATION_ASSIGNED = "conversation.assigned"  # conversation, customer, agent_id, messages (the first page), more
CONVERSATION_UNASSIGNED = "conversation.unassigned"  # conversation, agent_id, reason
CONVERSATION_UPDATED = "conversation.updated"  # conversation, agent_id
CONVERSATION_CLOSED = "conversation.closed"  # conversation, agent_id, complaint, closed_by ({side, id, name})
MESSAGE_POSTED = "message.posted"  # message, conversation (customer_id, agent_id)
TYPING = "typing"  # conversation_id, customer_id, agent_id, from, author, typing
QUEUE_POSITIONS = "queue.positions"  # updates: [{conversation_id, customer_id, position, eta_seconds, deadline_at}]
AGENT_CHANGED = "agent.changed"  # agent
# conversation_id, customer_id, agent_id, away_since (None: the customer is on the page again)
CUSTOMER_PRESENCE = "customer.presence"
COMPLAINT_CREATED = "complaint.created"  # complaint, customer_id
# every change: complaint (row), customer_id, action, entry (row|None), public (customers may see it),
# compensation (row|None, compensation actions only)
COMPLAINT_UPDATED = "complaint.updated"
COMPLAINT_SLA = "complaint.sla"  # complaint (row), kind (warning|breach), target (response|resolution), due_at, level
# session_id | user_id | api_token_id: whichever is set, the sockets it opened close
USER_SESSIONS_ENDED = "user.sessions_ended"

ALL_EVENTS = frozenset(
    {
        CONVERSATION_STARTED,
        CONVERSATION_ASSIGNED,
        CONVERSATION_UNASSIGNED,
        CONVERSATION_UPDATED,
        CONVERSATION_CLOSED,
        MESSAGE_POSTED,
        TYPING,
        QUEUE_POSITIONS,
        AGENT_CHANGED,
        CUSTOMER_PRESENCE,
        COMPLAINT_CREATED,
        COMPLAINT_UPDATED,
        COMPLAINT_SLA,
        USER_SESSIONS_ENDED,
    }
)

Subscriber = Callable[[Event], Awaitable[None]]
Observer = Callable[[Event], None]
InTransaction = Callable[["Tx", Event], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[Subscriber, frozenset[str] | None]] = []
        self._observers: list[Observer] = []
        self._in_transaction: list[tuple[InTransaction, frozenset[str]]] = []

    def subscribe(self, subscriber: Subscriber, names: Iterable[str] | None = None) -> Callable[[], None]:
        """With `names`, other events cost this subscriber nothing, not even a coroutine (the message path is hot)."""
        entry = (subscriber, None if names is None else frozenset(names))
        self._subscribers.append(entry)
        return lambda: self._subscribers.remove(entry)

    def observe(self, observer: Observer) -> Callable[[], None]:
        """A plain function called on every event before the subscribers: for counters, which must stay cheap."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def subscribe_in_transaction(self, subscriber: InTransaction, names: Iterable[str]) -> Callable[[], None]:
        """`subscriber` writes, in the transaction that makes an event true, what must commit with it."""
        entry = (subscriber, frozenset(names))
        self._in_transaction.append(entry)
        return lambda: self._in_transaction.remove(entry)

    async def stage(self, tx: "Tx", name: str, **data: Any) -> Event:
        """Inside the transaction of the change: the in-transaction subscribers write with it (their
        failure fails the change: nothing half-written). Publish the event once it has committed."""
        assert name in ALL_EVENTS, f"unregistered event {name}"
        event = Event(name, data)
        for subscriber, names in self._in_transaction:
            if name in names:
                await subscriber(tx, event)
        return event

    async def publish_event(self, event: Event) -> None:
        await self.publish(event.name, **event.data)

    async def publish(self, name: str, **data: Any) -> None:
        assert name in ALL_EVENTS, f"unregistered event {name}"
        event = Event(name, data)
        for observer in self._observers:
            try:
                observer(event)
            except Exception:
                log.exception("observer failed on %s", name)
        for subscriber, names in list(self._subscribers):
            if names is not None and name not in names:
                continue
            try:
                await subscriber(event)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("subscriber failed on %s", name)
