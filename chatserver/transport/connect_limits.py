"""Per-address limits on Socket.IO connections: new Engine.IO sessions, namespace connects, and
sessions open at once.

A script that reconnects in a loop would otherwise get a connection (and, without a token, a new
customer) as often as it likes. Both steps are counted per client address (`forwarding.client_of`),
apart from each other: namespace connects at `socket_connects_per_minute`, refused with the contract's
`rate_limited`; new sessions at twice that, so that a client reconnecting in full hears that answer
first, and the HTTP 429 only stops sessions opened for their own sake. A page load costs one of each,
so people reloading pages, or many people behind one NAT, stay far below either.

A rate alone does not bound what one address holds: a script opening a few sessions a second and
keeping each alive with pings would hold thousands within the hour, each with its buffers and tasks.
`OpenSessions` counts the sessions open per address and refuses new ones past
`socket_sessions_per_address`; a session counts from engineio's connect to its disconnect, the same
two moments python-socketio keeps its own per-session state between.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Mapping

from aiohttp import web

from chatserver.transport.forwarding import client_of, client_of_environ
from chatserver.transport.ratelimit import KeyedLimiter, per_minute

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SOCKETIO_PATH = "/socket.io/"


TOO_MANY_OPEN = "too many open connections from this address; close some or wait a moment"


class OpenSessions:
    """Engine.IO sessions open at once, per client address."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._count: dict[str, int] = {}
        self._key_of: dict[str, str] = {}

    def full(self, key: str) -> bool:
        return self._count.get(key, 0) >= self.limit

    def opened(self, sid: str, key: str) -> bool:
        """Count a new session; False (and nothing counted) when its address already holds the limit."""
        if self.full(key):
            return False
        self._key_of[sid] = key
        self._count[key] = self._count.get(key, 0) + 1
        return True

    def closed(self, sid: str) -> None:
        key = self._key_of.pop(sid, None)
        if key is None:
            return
        left = self._count[key] - 1
        if left:
            self._count[key] = left
        else:
            del self._count[key]  # an address with nothing open costs no memory

    def open_from(self, key: str) -> int:
        return self._count.get(key, 0)

    def __len__(self) -> int:
        return len(self._key_of)


class ConnectLimits:
    def __init__(self, connects_per_minute: int, sessions_per_address: int) -> None:
        self.sessions = KeyedLimiter(per_minute(2 * connects_per_minute))
        self.connects = KeyedLimiter(per_minute(connects_per_minute))
        self.open_sessions = OpenSessions(sessions_per_address)

    def admit(self, environ: Mapping[str, object]) -> bool:
        """A namespace connect from this client may go ahead (it is counted)."""
        return self.connects.allow(client_of_environ(environ).limit_key)

    def middleware(self) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
        @web.middleware
        async def limit_new_sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
            # a request without `sid` opens a new Engine.IO session; the rest belong to one
            if request.path == SOCKETIO_PATH and "sid" not in request.query:
                key = client_of(request).limit_key
                if self.open_sessions.full(key):
                    return too_many(TOO_MANY_OPEN)
                if not self.sessions.allow(key):
                    return too_many("too many connections from this address; wait a moment")
            return await handler(request)

        return limit_new_sessions


def too_many(message: str) -> web.Response:
    return web.json_response({"code": "rate_limited", "message": message}, status=429, headers={"Retry-After": "5"})
