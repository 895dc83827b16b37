"""A bound on what waits to be sent to each Socket.IO connection.

python-engineio queues every outgoing frame on an unbounded queue per connection, and the connection's
writer takes frames off it only as fast as the client reads. A client that stops reading (a frozen tab,
an agent on a dying link) grows the server's memory by every frame meant for it. Even its heartbeat
timeout does not free that memory: engineio then marks the socket closed, but the writer stays blocked
on the full TCP connection, holding the queue, for as long as the client's machine keeps the connection.

Every frame the server sends goes through `AsyncServer.send_packet` (emits from either manager, acks,
connect and disconnect packets), so the bound sits there. When more than `send_queue_limit` bytes
already wait for a connection, it is dropped: its TCP connection is aborted, which frees what waited
and unblocks the writer, and engineio's disconnect runs as for any lost connection. The client sees a
closed transport, reconnects by itself and catches up through `history` and the snapshots, as after
any network drop. A single frame larger than the limit still goes out when little waits before it.
Snapshots (the monitor's and the consoles' whole-state frames) never pile up below the limit either:
a newer one takes the place of an older one still waiting.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

import engineio
import socketio
from aiohttp.web import WebSocketResponse
from engineio.async_drivers import aiohttp as engineio_aiohttp

from chatserver.transport.visibility import AGENT_NS, MONITOR_NS

log = logging.getLogger(__name__)

# What one queued frame costs besides its text: the engineio Packet, its attribute dict, the string
# header and the queue's slot (about 150 bytes on CPython 3.11), so that many tiny frames count as
# the memory they take.
FRAME_OVERHEAD = 160


def frame_cost(pkt: Any) -> int:
    if pkt is None:  # engineio's "stop writing" marker
        return 0
    data = getattr(pkt, "data", None)
    return FRAME_OVERHEAD + (len(data) if isinstance(data, (str, bytes)) else 0)


# Frames that carry a whole state, each replacing the one before on the client: once a newer one is
# queued, an older one still waiting would only be drawn and thrown away (Socket.IO EVENT frames as
# encoded: type 2, the namespace, then the JSON array that starts with the event's name)
SUPERSEDING = tuple(
    f'2{namespace},["{event}",'
    for namespace, event in ((MONITOR_NS, "monitor:snapshot"), (MONITOR_NS, "monitor:floor"), (AGENT_NS, "queue:snapshot"))
)


def superseding_kind(pkt: Any) -> str | None:
    """Which whole-state frame this is, or None for any other frame."""
    data = getattr(pkt, "data", None)
    if not isinstance(data, str) or not data.startswith(SUPERSEDING):
        return None
    return next(prefix for prefix in SUPERSEDING if data.startswith(prefix))


class FrameQueue(asyncio.Queue):  # type: ignore[type-arg]
    """engineio's per-connection queue, knowing how many bytes wait in it. A whole-state frame (a
    snapshot) takes the place of an older one of its kind still waiting, so that a monitor or console
    that reads slowly gets the newest state when it catches up, and its queue holds one of each."""

    waiting_bytes: int

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)  # type: ignore[misc]
        self.waiting_bytes = 0

    def _put(self, item: Any) -> None:
        kind = superseding_kind(item) if self._queue else None  # type: ignore[attr-defined]
        if kind is not None:
            for stale in [old for old in self._queue if superseding_kind(old) == kind]:  # type: ignore[attr-defined]
                self._queue.remove(stale)  # type: ignore[attr-defined]
                self.waiting_bytes -= frame_cost(stale)
                self.task_done()  # it will never be taken: a close that waits for the queue must not wait for it
        super()._put(item)  # type: ignore[misc]
        self.waiting_bytes += frame_cost(item)

    def _get(self) -> Any:
        item = super()._get()  # type: ignore[misc]
        self.waiting_bytes -= frame_cost(item)
        return item


# the attribute of an engineio socket that holds its TCP transport, set when its WebSocket opens
TRANSPORT = "tcp_transport"


class TrackedWebSocket(engineio_aiohttp.WebSocket):  # type: ignore[misc]
    """engineio's aiohttp WebSocket, remembering the connection's TCP transport so that a connection
    too far behind can be cut, with permessage-deflate chosen per class (`tuning.set_websocket_compression`)."""

    compress = True  # aiohttp's default, as engineio's own driver leaves it

    async def __call__(self, environ: dict) -> WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=self.compress)
        await self._sock.prepare(request)
        self.environ = environ
        owner = getattr(self.handler, "__self__", None)  # the engineio socket this WebSocket serves
        if owner is not None:
            setattr(owner, TRANSPORT, request.transport)
        await self.handler(self)
        return self._sock


class BoundedEngineServer(engineio.AsyncServer):  # type: ignore[misc]
    """engineio's server with `send_queue_limit` bytes at most waiting for any one connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.send_queue_limit: int | None = None  # None: unbounded, as engineio itself
        self.on_drop: Callable[[], None] | None = None  # the metrics count drops
        self._async = {**self._async, "websocket": TrackedWebSocket}  # a copy: the driver table is shared
        self._dropping: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def create_queue(self, *args: Any, **kwargs: Any) -> FrameQueue:
        return FrameQueue(*args, **kwargs)

    def waiting_bytes(self) -> tuple[int, int]:
        """(total, largest) bytes waiting over all connections."""
        sizes = [getattr(s.queue, "waiting_bytes", 0) for s in list(self.sockets.values())]
        return sum(sizes), max(sizes, default=0)

    async def send_packet(self, sid: str, pkt: Any) -> None:
        socket = self.sockets.get(sid)
        if socket is not None and self.send_queue_limit is not None:
            if sid in self._dropping:
                return  # already being dropped: nothing more piles up
            if getattr(socket.queue, "waiting_bytes", 0) > self.send_queue_limit:
                self._drop(socket)
                return
        await super().send_packet(sid, pkt)

    def _drop(self, socket: Any) -> None:
        if socket.closed:
            return
        queue = socket.queue
        log.warning(
            "dropping connection %s: %d bytes in %d frames wait to be sent to it (limit %d); it will reconnect and catch up",
            socket.sid, queue.waiting_bytes, queue.qsize(), self.send_queue_limit,
        )
        self._dropping.add(socket.sid)
        cut_transport(socket)
        if self.on_drop is not None:
            self.on_drop()
        # engineio's disconnect (and the application's handlers) run outside the emit that found the
        # connection behind, so that emit goes on to its other recipients first
        task = asyncio.ensure_future(self._close(socket))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "disconnect" and len(args) > 1 and args[1] == self.reason.PING_TIMEOUT:
            # engineio closes a connection whose heartbeat stopped, but a writer blocked on a full TCP
            # buffer would keep it (and what waits for it) as long as the peer's kernel keeps the
            # connection open, which for a frozen tab is forever
            socket = self.sockets.get(args[0])
            if socket is not None:
                cut_transport(socket)
        return await super()._trigger_event(event, *args, **kwargs)

    async def _close(self, socket: Any) -> None:
        try:
            await socket.close(wait=False, abort=True, reason=self.reason.SERVER_DISCONNECT)
        except Exception:
            log.exception("closing dropped connection %s failed", socket.sid)
        finally:
            self._dropping.discard(socket.sid)


def cut_transport(socket: Any) -> None:
    """Abort the connection's TCP transport and free what waits to be sent on it."""
    transport = getattr(socket, TRANSPORT, None)
    if transport is not None:
        transport.abort()  # ends the reader and the blocked writer; the kernel frees its buffers
    queue = socket.queue
    while True:  # free what waited now, not when the writer notices
        try:
            queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        queue.task_done()


class BoundedSocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server on a `BoundedEngineServer`."""

    def __init__(self, *, send_queue_limit: int | None, **options: Any) -> None:
        super().__init__(**options)
        self.eio.send_queue_limit = send_queue_limit

    def _engineio_server_class(self) -> type[BoundedEngineServer]:
        return BoundedEngineServer
