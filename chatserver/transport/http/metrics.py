"""GET /metrics for Prometheus, and what feeds it: a request middleware (counts, durations, request
ids), the socket ack counters, the bus observer, the webhook worker's results and the loop-lag probe.

Who may read it: with `metrics_token` set, a request carrying `Authorization: Bearer <token>`;
without one, only requests from this host that came through no proxy (a reverse proxy on the same
host would otherwise make every visitor look local): any proxy header, trusted or not, refuses.
Everyone else gets 403.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from typing import AsyncIterator, Awaitable, Callable

import socketio
from aiohttp import web
from prometheus_client.exposition import choose_encoder

from chatserver import keys
from chatserver.domain.errors import Unavailable
from chatserver.domain.same_secret import same_secret
from chatserver.observability.access_log import CLIENT_ADDRESS_KEY, REQUEST_ID_KEY
from chatserver.observability.logging import request_id
from chatserver.observability.loop_lag import LoopLagProbe
from chatserver.observability.metrics import NAMESPACES, Metrics
from chatserver.services.container import Services
from chatserver.store import outbox
from chatserver.store import webhooks as webhook_store
from chatserver.transport.base import ContractNamespace
from chatserver.transport.forwarding import came_through_a_proxy, client_of
from chatserver.transport.http.security import NO_STORE
from chatserver.transport.send_queue import BoundedEngineServer

log = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "::1"})
REQUEST_ID_HEADER = "X-Request-Id"
# an id a proxy in front already gave the request is kept, if it looks like one
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
SOCKETIO_ROUTE = "/socket.io/"  # long-lived WebSocket "requests": counted, never timed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def may_read(request: web.Request) -> bool:
    token = request.app[keys.SETTINGS].metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        return same_secret(f"Bearer {token}", given)
    return client_of(request).address in LOOPBACK and not came_through_a_proxy(request)


async def refresh(metrics: Metrics, services: Services, sio: socketio.AsyncServer) -> None:
    """Set the gauges that describe the present from the live state."""
    dispatcher = services.dispatcher
    now = services.clock()
    queue = dispatcher.queue_order()
    metrics.queue_length.set(len(queue))
    metrics.queue_longest_wait.set(
        max((max(0.0, (now - live.queued_at).total_seconds()) for live in queue if live.queued_at), default=0.0)
    )
    online = [a for a in dispatcher.agents.values() if a.status == "online" and a.sockets > 0]
    metrics.agents_online.set(len(online))
    metrics.seats_free.set(sum(max(0, a.max_chats - len(a.chats)) for a in online))
    metrics.chats_active.set(sum(1 for live in dispatcher.conversations.values() if live.status == "active"))
    if isinstance(sio.eio, BoundedEngineServer):
        waiting, largest = sio.eio.waiting_bytes()
        metrics.send_queue_bytes.set(waiting)
        metrics.send_queue_largest.set(largest)
    for namespace in NAMESPACES:
        connections = getattr(sio.namespace_handlers.get(namespace), "connections", {})
        metrics.sockets.labels(namespace).set(len(connections))
        metrics.people.labels(namespace).set(len({_principal_id(conn.principal) for conn in connections.values()}))
    metrics.storage_writable.set(1 if (await services.db.health()).ok else 0)
    try:
        metrics.mail_pending.set(await outbox.pending_count(services.db))
        counts = await webhook_store.counts(services.db)
    except Unavailable:
        return  # the storage gauges keep their last values; the rest is still worth reading
    metrics.webhooks_pending.set(counts["pending"])
    metrics.webhooks_failed.set(counts["failed"])


def _principal_id(principal: object) -> object:
    return principal.get("id") if isinstance(principal, dict) else getattr(principal, "id", principal)


def metrics_handler(sio: socketio.AsyncServer) -> Handler:
    async def metrics_get(request: web.Request) -> web.StreamResponse:
        if not may_read(request):
            raise web.HTTPForbidden(
                text="Metrics are for operators: send Authorization: Bearer <metrics token>, or ask from this host.",
                headers=NO_STORE,
            )
        metrics = request.app[keys.METRICS]
        await refresh(metrics, request.app[keys.SERVICES], sio)
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encoder(metrics.registry), headers={"Content-Type": content_type, **NO_STORE})

    return metrics_get


def route_of(request: web.Request) -> str:
    """The route pattern (`/track/{reference}`), never the raw path: labels must stay a small set."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def request_middleware(metrics: Metrics) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def observe_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _GIVEN_ID.match(given) else secrets.token_hex(8)
        request[REQUEST_ID_KEY] = rid
        request[CLIENT_ADDRESS_KEY] = client_of(request).address
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            if not response.prepared:
                response.headers[REQUEST_ID_HEADER] = rid
            return response
        except web.HTTPException as exc:
            status = exc.status
            exc.headers[REQUEST_ID_HEADER] = rid
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away first
            raise
        finally:
            request_id.reset(token)
            route = route_of(request)
            metrics.http_request(route, request.method, status, None if route == SOCKETIO_ROUTE else time.perf_counter() - started)

    return observe_requests


def setup_metrics(app: web.Application, sio: socketio.AsyncServer) -> None:
    """Call after the services' cleanup context is added: this one needs them running."""
    metrics = Metrics()
    app[keys.METRICS] = metrics
    app.middlewares.insert(0, request_middleware(metrics))  # outermost: it sees the final status
    app.router.add_get("/metrics", metrics_handler(sio))

    async def observing(app: web.Application) -> AsyncIterator[None]:
        services = app[keys.SERVICES]
        stop_observing = services.bus.observe(metrics.observe_event)
        for namespace in NAMESPACES:
            handler = sio.namespace_handlers.get(namespace)
            if isinstance(handler, ContractNamespace):
                handler.count_ack = metrics.ack_counter(namespace, handler.routes)
        services.webhook_worker.on_attempt = metrics.webhook_attempt
        if isinstance(sio.eio, BoundedEngineServer):
            sio.eio.on_drop = metrics.slow_connections_dropped.inc
        probe = LoopLagProbe(metrics.loop_lag.observe)
        probe.start()
        yield
        await probe.stop()
        stop_observing()

    app.cleanup_ctx.append(observing)
