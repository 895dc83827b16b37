"""A Socket.IO namespace whose events are validated, rate limited and answered with contract acks.

A handler raises a ChatError for a clear error ack; anything else becomes `internal` and is logged.
Unknown events and malformed payloads get an error ack; the socket stays open.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any, Awaitable, Callable

import socketio

from chatserver.domain.errors import ChatError, Invalid, RateLimited, Unauthorized
from chatserver.transport.ratelimit import ConnectionLimits
from chatserver.transport.schemas import Payload, body_bound_by_settings, parse

log = logging.getLogger(__name__)

Handler = Callable[[Any, Payload], Awaitable[dict[str, Any] | None]]

# The socket whose event is being handled; emits it caused can skip it (its ack carries the result).
origin_sid: ContextVar[str | None] = ContextVar("origin_sid", default=None)


def _not_counted(event: Any, code: str) -> None:
    """Until the metrics replace it (a namespace built alone, in tests)."""


UNKNOWN_EVENT = "unknown"  # the rate-limit bucket of every event no route knows


def _admit_all(environ: dict) -> bool:
    """Until the app's per-address connect limit replaces it (a namespace built alone, in tests)."""
    return True


def ok(result: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"ok": True, **(result or {})}


def error(exc: ChatError) -> dict[str, Any]:
    return {"ok": False, "error": exc.as_payload()}


def refuse(exc: ChatError) -> socketio.exceptions.ConnectionRefusedError:
    """A refused connection carries the contract's error object as its data (`err.data` in the
    browser client; with a single argument python-socketio would send only its text)."""
    return socketio.exceptions.ConnectionRefusedError(exc.message, exc.as_payload())


class Connection:
    """What one socket is: who it belongs to and its rate limits."""

    __slots__ = ("sid", "principal", "limits", "extra", "ends_in", "_end_timer")

    def __init__(self, sid: str, principal: Any, limits: ConnectionLimits, ends_in: float | None = None) -> None:
        self.sid = sid
        self.principal = principal
        self.limits = limits
        self.extra: dict[str, Any] = {}
        self.ends_in = ends_in  # seconds until the server closes it (its sign-in ends); None: no end
        self._end_timer: asyncio.TimerHandle | None = None


class ContractNamespace(socketio.AsyncNamespace):
    """Subclasses fill `routes` with event -> (schema, handler) and implement `accept`."""

    max_body: int | None = None

    def __init__(self, namespace: str) -> None:
        super().__init__(namespace)
        self.connections: dict[str, Connection] = {}
        self.routes: dict[str, tuple[type[Payload], Handler]] = {}
        self.errors_answered = 0
        # count_ack(event, "ok" | error code): the app's metrics set it at start-up
        self.count_ack: Callable[[Any, str], None] = _not_counted
        # admit(environ): whether this client may connect once more; the app sets it at start-up
        self.admit: Callable[[dict], bool] = _admit_all

    async def accept(self, sid: str, environ: dict, auth: Any) -> Connection:
        raise NotImplementedError

    def check_limits(self, conn: Connection, event: str) -> None:
        """Raises RateLimited when this event is over its budget."""
        if not conn.limits.allow(event):
            raise RateLimited("too many requests; slow down")

    async def opened(self, conn: Connection) -> None:
        """Runs right after the connection is accepted (send the session here)."""

    async def closed(self, conn: Connection, reason: Any) -> None:
        """Runs after the socket went away."""

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event == "connect":
            sid, environ = args[0], args[1]
            auth = args[2] if len(args) > 2 else None
            # counted before any credential is looked at: guessing tokens costs connects too
            if not self.admit(environ):
                raise refuse(RateLimited("too many connections from this address; wait a moment"))
            try:
                conn = await self.accept(sid, environ, auth)
            except ChatError as exc:
                raise refuse(exc) from None
            except Exception:
                log.exception("connect handler failed")
                raise refuse(ChatError("the server could not accept the connection")) from None
            self.connections[sid] = conn
            if conn.ends_in is not None:
                conn._end_timer = asyncio.get_running_loop().call_later(
                    conn.ends_in, lambda: self.server.start_background_task(self.disconnect, sid)
                )
            self.server.start_background_task(self._after_open, conn)
            return True
        if event == "disconnect":
            conn = self.connections.pop(args[0], None)
            if conn is not None:
                if conn._end_timer is not None:
                    conn._end_timer.cancel()
                try:
                    await self.closed(conn, args[1] if len(args) > 1 else None)
                except Exception:
                    log.exception("disconnect handler failed")
            return None
        return await self._answer(event, args[0], args[1:])

    async def _after_open(self, conn: Connection) -> None:
        try:
            await self.opened(conn)
        except Exception:
            log.exception("session handler failed")

    async def _answer(self, event: str, sid: str, args: tuple) -> dict[str, Any]:
        try:
            conn = self.connections.get(sid)
            if conn is None:
                raise Unauthorized("this connection is not authenticated")
            route = self.routes.get(event) if isinstance(event, str) else None
            if route is None:
                # charged like any event, under one name: a stream of made-up names costs a sender
                # its budget like a stream of real ones, and adds no bucket per name
                self.check_limits(conn, UNKNOWN_EVENT)
                raise Invalid(f"unknown event {str(event)[:64]!r}")
            self.check_limits(conn, event)
            schema, handler = route
            payload = parse(schema, args, self.max_body if body_bound_by_settings(schema) else None)
            token = origin_sid.set(sid)
            try:
                answer = ok(await handler(conn, payload))
            finally:
                origin_sid.reset(token)
            self.count_ack(event, "ok")
            return answer
        except ChatError as exc:
            self.errors_answered += 1
            self.count_ack(event, exc.code)
            return error(exc)
        except Exception:
            log.exception("handler for %s failed", event)
            self.errors_answered += 1
            self.count_ack(event, "internal")
            return error(ChatError("something went wrong on the server; nothing was lost, try again"))
