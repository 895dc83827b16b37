"""Transport tuning that python-socketio and python-engineio have no option for.

permessage-deflate: aiohttp's WebSocketResponse accepts it whenever a client offers it (browsers
and socket.io-client always do), and python-engineio's aiohttp driver builds that response with
aiohttp's default `compress=True`. Each negotiated socket then holds its own zlib streams, about
90 KB of server memory, and every frame costs compression CPU; chat frames are a few hundred bytes,
so little is saved on the wire. Measured in docs/benchmarks.md; the setting is
`websocket_compression` (off by default).
"""

from __future__ import annotations

import socketio
from aiohttp.web import WebSocketResponse
from engineio.async_drivers import aiohttp as engineio_aiohttp


class _PlainWebSocket(engineio_aiohttp.WebSocket):  # type: ignore[misc]
    """engineio's aiohttp WebSocket wrapper, with the deflate extension declined."""

    async def __call__(self, environ: dict) -> WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock


def set_websocket_compression(sio: socketio.AsyncServer, enabled: bool) -> None:
    """Accept (True, aiohttp's default) or decline (False) permessage-deflate on this server only.

    engineio keeps its driver table in a module-level dict shared by every server in the
    process, so this server gets its own copy instead of a patched global.
    """
    eio = sio.eio
    if eio.async_mode != "aiohttp":
        raise ValueError(f"websocket compression can only be set for async_mode 'aiohttp', not {eio.async_mode!r}")
    websocket = engineio_aiohttp.WebSocket if enabled else _PlainWebSocket
    eio._async = {**eio._async, "websocket": websocket}
