"""Per-address limits on Socket.IO connections: new Engine.IO sessions and namespace connects.

A script that reconnects in a loop would otherwise get a connection (and, without a token, a new
customer) as often as it likes. Both steps are counted per client address (`forwarding.client_of`),
apart from each other: namespace connects at `socket_connects_per_minute`, refused with the contract's
`rate_limited`; new sessions at twice that, so that a client reconnecting in full hears that answer
first, and the HTTP 429 only stops sessions opened for their own sake. A page load costs one of each,
so people reloading pages, or many people behind one NAT, stay far below either.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Mapping

from aiohttp import web

from chatserver.transport.forwarding import client_of, client_of_environ
from chatserver.transport.ratelimit import KeyedLimiter, per_minute

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SOCKETIO_PATH = "/socket.io/"


class ConnectLimits:
    def __init__(self, connects_per_minute: int) -> None:
        self.sessions = KeyedLimiter(per_minute(2 * connects_per_minute))
        self.connects = KeyedLimiter(per_minute(connects_per_minute))

    def admit(self, environ: Mapping[str, object]) -> bool:
        """A namespace connect from this client may go ahead (it is counted)."""
        return self.connects.allow(client_of_environ(environ).limit_key)

    def middleware(self) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
        @web.middleware
        async def limit_new_sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
            # a request without `sid` opens a new Engine.IO session; the rest belong to one
            if request.path == SOCKETIO_PATH and "sid" not in request.query:
                if not self.sessions.allow(client_of(request).limit_key):
                    return web.json_response(
                        {"code": "rate_limited", "message": "too many connections from this address; wait a moment"},
                        status=429, headers={"Retry-After": "5"},
                    )
            return await handler(request)

        return limit_new_sessions
