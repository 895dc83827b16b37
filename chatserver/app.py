"""create_app(settings) -> aiohttp Application: wires everything, nothing else."""

from __future__ import annotations

from typing import AsyncIterator

import socketio
from aiohttp import web

from chatserver import keys
from chatserver.config import Settings, resolve_secret_key
from chatserver.mail.render import load_templates
from chatserver.observability.logging import quiet_client_mistakes
from chatserver.services.clock import Clock, system_clock
from chatserver.services.container import build_services, close_services
from chatserver.templating import STATIC_ROOT, page_templates
from chatserver.transport.agent import AgentNamespace
from chatserver.transport.connect_limits import ConnectLimits
from chatserver.transport.customer import CustomerNamespace
from chatserver.transport.fanout import Fanout
from chatserver.transport.forwarding import TrustedProxies, engineio_origin_allowed
from chatserver.transport.http.admin import setup_admin_routes
from chatserver.transport.http.admin_webhooks import setup_admin_webhook_routes
from chatserver.transport.http.api import api_app
from chatserver.transport.http.error_pages import browser_error_pages
from chatserver.transport.http.metrics import setup_metrics
from chatserver.transport.http.pages import setup_routes
from chatserver.transport.http.reports import setup_report_routes
from chatserver.transport.http.security import security_headers
from chatserver.transport.http.tracking import setup_tracking_routes
from chatserver.transport.http.unavailable import storage_unavailable
from chatserver.transport.http.widget import setup_widget_routes
from chatserver.transport.monitor import MonitorNamespace
from chatserver.transport.ratelimit import KeyedLimiter, LimitBook, per_minute
from chatserver.transport.server import ContractServer
from chatserver.transport.tuning import DirectManager, JsonPacket, set_websocket_compression

SIO = web.AppKey("sio", socketio.AsyncServer)
# Frames above this are refused by the transport before any handler sees them.
MAX_FRAME_BYTES = 64 * 1024


def create_app(settings: Settings, clock: Clock = system_clock) -> web.Application:
    quiet_client_mistakes()
    connect_limits = ConnectLimits(settings.socket_connects_per_minute, settings.socket_sessions_per_address)
    app = web.Application(middlewares=[security_headers, browser_error_pages, connect_limits.middleware(), storage_unavailable], client_max_size=256 * 1024)
    app[keys.SETTINGS] = settings
    app[keys.TRUSTED_PROXIES] = TrustedProxies(settings.trusted_proxies)
    app[keys.SECRET_KEY] = resolve_secret_key(settings)
    app[keys.LOGIN_LIMITER] = KeyedLimiter(per_minute(settings.logins_per_minute))
    app[keys.API_LIMITS] = LimitBook({
        "write": per_minute(settings.api_writes_per_minute), "complaint:log": per_minute(settings.api_complaints_per_minute),
    })
    app[keys.TEMPLATES] = page_templates()
    load_templates()  # the e-mail notices', compiled now too
    fast = settings.socketio_fast_path
    sio = ContractServer(
        send_queue_limit=settings.socket_send_queue_bytes,
        open_sessions=connect_limits.open_sessions,
        async_mode="aiohttp",
        serializer=JsonPacket if fast else "default",
        client_manager=DirectManager() if fast else None,
        max_http_buffer_size=MAX_FRAME_BYTES,
        # browsers may connect only from this server's own origin (the widget runs in an iframe
        # served from here), as the client reached it; never '*'
        cors_allowed_origins=engineio_origin_allowed,
    )
    set_websocket_compression(sio, settings.websocket_compression)
    sio.attach(app)
    app[SIO] = sio

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        services = await build_services(settings, app[keys.SECRET_KEY], clock)
        app[keys.SERVICES] = services
        services.mail.start()
        services.webhook_worker.start()
        # sweeps at once (what fell due while the server was down), then every sla_sweep_seconds
        await services.sweeper.start()
        for namespace in (
            CustomerNamespace(services), AgentNamespace(services, app[keys.SECRET_KEY]), MonitorNamespace(services, app[keys.SECRET_KEY]),
        ):
            namespace.admit = connect_limits.admit
            sio.register_namespace(namespace)
        fanout = Fanout(sio, services)
        fanout.attach()
        yield
        fanout.stop()
        await close_services(services)

    async def close_sockets(app: web.Application) -> None:
        # mail and webhooks start no new delivery while requests drain; cleanup waits for the rest
        app[keys.SERVICES].mail.begin_stop()
        app[keys.SERVICES].webhook_worker.begin_stop()
        app[keys.SERVICES].dispatcher.stop()
        await app[keys.SERVICES].sweeper.stop()
        for namespace in ("/customer", "/agent", "/monitor"):
            handler = sio.namespace_handlers.get(namespace)
            for sid in list(getattr(handler, "connections", {})):
                await sio.disconnect(sid, namespace=namespace)

    app.cleanup_ctx.append(services_ctx)
    setup_metrics(app, sio)  # after services_ctx: it hooks into the running services
    app.on_shutdown.append(close_sockets)
    setup_routes(app)
    setup_widget_routes(app)
    setup_tracking_routes(app)
    setup_report_routes(app)
    setup_admin_routes(app)
    setup_admin_webhook_routes(app)
    app.add_subapp("/api", api_app())
    app.router.add_static("/static", STATIC_ROOT)
    return app
