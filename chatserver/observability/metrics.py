"""The server's Prometheus metrics, in a registry of its own per application.

Not the library's global default registry: tests run several applications in one process, and two
servers must never count into each other's numbers.

Counters move on service events through `observe_event`, a synchronous bus observer: on the message
path that is one increment of a child bound at start-up, nothing built per message. Gauges that
describe the present (connections, the queue, backlogs) are set when /metrics is read, from the live
state, so they cost nothing between scrapes.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from chatserver.domain.models import parse_iso
from chatserver.services import events as ev
from chatserver.services.events import Event

NAMESPACES = ("/customer", "/agent", "/monitor")
SENDERS = ("customer", "agent", "system")
# anything else a client sends as a method is counted as "other": labels must stay a small set
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
LAG_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

AckCounter = Callable[[Any, str], None]


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()

        # -- the present, set at scrape time ------------------------------------------------------
        self.sockets = Gauge("chatserver_sockets_connected", "Open Socket.IO connections, by namespace", ["namespace"], registry=r)
        self.people = Gauge(
            "chatserver_people_connected",
            "Distinct customers (/customer) or staff users (/agent, /monitor) with at least one open connection",
            ["namespace"], registry=r,
        )
        self.agents_online = Gauge("chatserver_agents_online", "Staff set to online with a console open: they can take chats", registry=r)
        self.seats_free = Gauge("chatserver_seats_free", "Chats that online agents could still take (capacity minus load)", registry=r)
        self.chats_active = Gauge("chatserver_chats_active", "Chats assigned to an agent and not yet closed", registry=r)
        self.queue_length = Gauge("chatserver_queue_length", "Chats waiting for an agent", registry=r)
        self.storage_writable = Gauge(
            "chatserver_storage_writable", "1 while the database takes writes (what /healthz checks), 0 during a storage fault",
            registry=r,
        )
        self.queue_longest_wait = Gauge("chatserver_queue_longest_wait_seconds", "How long the longest-waiting chat has waited so far", registry=r)
        self.mail_pending = Gauge("chatserver_mail_outbox_pending", "E-mail notices not yet delivered (retries included)", registry=r)
        self.webhooks_pending = Gauge("chatserver_webhook_deliveries_pending", "Webhook deliveries not yet delivered (retries included)", registry=r)
        self.send_queue_bytes = Gauge(
            "chatserver_socket_send_queue_bytes", "Bytes of frames waiting to be sent, over all connections", registry=r
        )
        self.send_queue_largest = Gauge(
            "chatserver_socket_send_queue_largest_bytes", "Bytes of frames waiting for the connection furthest behind", registry=r
        )
        self.webhooks_failed = Gauge("chatserver_webhook_deliveries_failed", "Webhook deliveries that gave up after the last retry, still in the log", registry=r)

        # -- what happened, counted as it happens --------------------------------------------------
        self.queue_wait = Histogram(
            "chatserver_queue_wait_seconds", "Time a chat waited in the queue before an agent got it", buckets=WAIT_BUCKETS, registry=r
        )
        self.messages = Counter("chatserver_messages", "Messages stored, by sender", ["sender"], registry=r)
        self.chats_started = Counter("chatserver_chats_started", "Chats customers started", registry=r)
        self.chats_closed = Counter(
            "chatserver_chats_closed",
            "Chats closed, by outcome (a chat closed as resolved that the customer then turns into a complaint counts again)",
            ["outcome"], registry=r,
        )
        self.complaints_created = Counter("chatserver_complaints_created", "Complaints created, by source", ["source"], registry=r)
        self.sla = Counter(
            "chatserver_complaint_sla", "SLA warnings and breaches, by kind (warning, breach) and target (response, resolution)",
            ["kind", "target"], registry=r,
        )
        self.socket_acks = Counter(
            "chatserver_socket_acks", "Socket.IO events answered, by namespace, event and code (ok, or the error ack's code)",
            ["namespace", "event", "code"], registry=r,
        )
        self.http_requests = Counter(
            "chatserver_http_requests", "HTTP requests, by route pattern, method and status", ["route", "method", "status"], registry=r
        )
        self.http_duration = Histogram(
            "chatserver_http_request_duration_seconds", "Time to answer an HTTP request, by route pattern (Socket.IO excluded)",
            ["route"], buckets=HTTP_BUCKETS, registry=r,
        )
        self.webhook_attempts = Counter(
            "chatserver_webhook_attempts", "Webhook delivery attempts, by result (delivered, retry, failed)", ["result"], registry=r
        )
        self.slow_connections_dropped = Counter(
            "chatserver_slow_connections_dropped",
            "Connections dropped because more than socket_send_queue_bytes waited to be sent to them",
            registry=r,
        )
        self.loop_lag = Histogram(
            "chatserver_event_loop_lag_seconds", "How late a 100 ms timer fired: time the event loop could run nothing else",
            buckets=LAG_BUCKETS, registry=r,
        )
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)

        # bound once, so counting a message is an increment and nothing else
        self._by_sender = {sender: self.messages.labels(sender) for sender in SENDERS}
        self._waits = _Waits()
        for namespace in NAMESPACES:  # series exist (at 0) before anyone connects
            self.sockets.labels(namespace)
            self.people.labels(namespace)
        for result in ("delivered", "retry", "failed"):
            self.webhook_attempts.labels(result)
        # an alert on increase() sees nothing when a series first appears at 1
        for kind in ("warning", "breach"):
            for target in ("response", "resolution"):
                self.sla.labels(kind, target)

    # -- bus observer ------------------------------------------------------------------------------

    def observe_event(self, event: Event) -> None:
        name, data = event.name, event.data
        if name == ev.MESSAGE_POSTED:
            counter = self._by_sender.get(data["message"]["sender"])
            if counter is not None:
                counter.inc()
        elif name == ev.CONVERSATION_STARTED:
            self.chats_started.inc()
            if data.get("message") is not None:  # the customer's first words, stored with the chat
                self._by_sender["customer"].inc()
        elif name == ev.CONVERSATION_ASSIGNED:
            waited = self._waits.assigned(data["conversation"])
            if waited is not None:
                self.queue_wait.observe(waited)
        elif name == ev.CONVERSATION_UNASSIGNED:
            self._waits.unassigned(data["conversation_id"], data.get("reason"))
            if data.get("message") is not None:  # the system line telling the customer
                self._by_sender["system"].inc()
        elif name == ev.CONVERSATION_CLOSED:
            conversation = data["conversation"]
            self._waits.forget(conversation["id"])
            self.chats_closed.labels(conversation.get("outcome") or "unknown").inc()
        elif name == ev.COMPLAINT_CREATED:
            self.complaints_created.labels(data["complaint"]["source"]).inc()
        elif name == ev.COMPLAINT_SLA:
            self.sla.labels(data["kind"], data["target"]).inc()

    # -- hooks for the transport and the workers ---------------------------------------------------

    def ack_counter(self, namespace: str, events: Any) -> AckCounter:
        """`count(event, code)` for one namespace. Successful acks of its known events use children
        bound here; an event name a client made up is counted as "unknown", never as itself."""
        known = frozenset(events)
        ok = {event: self.socket_acks.labels(namespace, event, "ok") for event in known}
        unknown_ok = self.socket_acks.labels(namespace, "unknown", "ok")

        def count(event: Any, code: str) -> None:
            # a client may send any JSON value as the event name, even an unhashable one
            if code == "ok":
                (ok.get(event, unknown_ok) if isinstance(event, str) else unknown_ok).inc()
            else:
                name = event if isinstance(event, str) and event in known else "unknown"
                self.socket_acks.labels(namespace, name, code).inc()

        return count

    def webhook_attempt(self, result: str) -> None:
        self.webhook_attempts.labels(result).inc()

    def http_request(self, route: str, method: str, status: int, seconds: float | None) -> None:
        self.http_requests.labels(route, method if method in HTTP_METHODS else "other", str(status)).inc()
        if seconds is not None:
            self.http_duration.labels(route).observe(seconds)


class _Waits:
    """Which assignments end a wait, and since when. A transfer moves an active chat (no wait); a chat
    put back in the queue waits again from that moment, not from when it first arrived."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._transferring: set[str] = set()
        self._requeued: dict[str, float] = {}

    def unassigned(self, conversation_id: str, reason: str | None) -> None:
        if reason == "transferred":
            self._transferring.add(conversation_id)  # the assignment to the colleague follows at once
        else:
            self._requeued[conversation_id] = self._clock()

    def assigned(self, row: dict[str, Any]) -> float | None:
        conversation_id = row["id"]
        if conversation_id in self._transferring:
            self._transferring.discard(conversation_id)
            return None
        since = self._requeued.pop(conversation_id, None)
        if since is not None:
            return max(0.0, self._clock() - since)
        start, end = parse_iso(row.get("queued_at") or row.get("created_at")), parse_iso(row.get("assigned_at"))
        if start is None or end is None:
            return None
        return max(0.0, (end - start).total_seconds())

    def forget(self, conversation_id: str) -> None:
        self._transferring.discard(conversation_id)
        self._requeued.pop(conversation_id, None)
