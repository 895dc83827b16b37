"""Transport tuning that python-socketio and python-engineio have no option for.

permessage-deflate: aiohttp's WebSocketResponse accepts it whenever a client offers it (browsers
and socket.io-client always do), and python-engineio's aiohttp driver builds that response with
aiohttp's default `compress=True`. Each negotiated socket then holds its own zlib streams, about
90 KB of server memory, and every frame costs compression CPU; chat frames are a few hundred bytes,
so little is saved on the wire. Measured in docs/benchmarks.md; the setting is
`websocket_compression` (off by default).

Per-message CPU: a JSON-only packet class and a manager that sends without a task per recipient
(measured in docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import socketio
from engineio import json as engineio_json
from engineio import packet as eio_packet

from chatserver.transport.server import ScreenedWebSocket

log = logging.getLogger(__name__)


class _PlainWebSocket(ScreenedWebSocket):
    """The server's WebSocket wrapper, with the deflate extension declined."""

    compress = False


def set_websocket_compression(sio: socketio.AsyncServer, enabled: bool) -> None:
    """Accept (True, aiohttp's default) or decline (False) permessage-deflate on this server only.

    engineio keeps its driver table in a module-level dict shared by every server in the
    process, so this server gets its own copy instead of a patched global.
    """
    eio = sio.eio
    if eio.async_mode != "aiohttp":
        raise ValueError(f"websocket compression can only be set for async_mode 'aiohttp', not {eio.async_mode!r}")
    eio._async = {**eio._async, "websocket": ScreenedWebSocket if enabled else _PlainWebSocket}


class _OrjsonCodec:
    """orjson behind the two functions python-socketio calls on its `json` module.

    About three times faster than the standard library on our payloads. What orjson refuses but
    JSON allows (an escaped lone surrogate, an integer beyond 64 bits) goes to engineio's guarded
    standard parser, so the payload still reaches validation and its sender gets an error ack.
    """

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        try:
            return orjson.dumps(obj).decode()
        except orjson.JSONEncodeError:  # a lone surrogate in a string: JSON can escape it
            return engineio_json.dumps(obj, separators=(",", ":"))

    @staticmethod
    def loads(text: str | bytes, **_: Any) -> Any:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return engineio_json.loads(text)


class JsonPacket(socketio.packet.Packet):
    """Socket.IO packets for a JSON-only contract.

    The stock packet walks every outgoing payload looking for bytes to send as binary attachments;
    nothing in the contract is binary, and that walk was a tenth of the hub's CPU per message.
    A client that sends a binary event still gets an error ack from payload validation.
    """

    uses_binary_events = False
    json = _OrjsonCodec


class DirectManager(socketio.AsyncManager):
    """The stock manager, minus a task per recipient for every emit.

    An emit only queues a frame on each recipient's engineio socket (putting never blocks; a
    connection too far behind is dropped by send_queue.py), which needs no task of its own; and a room whose only member is the sender (a customer's
    own message echoed to their single tab) costs nothing at all instead of one encode.
    """

    async def emit(self, event: str, data: Any, namespace: str, room: Any = None, skip_sid: Any = None,
                   callback: Any = None, to: Any = None, **kwargs: Any) -> None:
        if callback is not None:
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs)
        room = to or room
        if namespace not in self.rooms:
            return
        skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        recipients = [eio_sid for sid, eio_sid in self.get_participants(namespace, room) if sid not in skipped]
        if not recipients:
            return
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        encoded = self.server.packet_class(socketio.packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        frames = [eio_packet.Packet(eio_packet.MESSAGE, part) for part in (encoded if isinstance(encoded, list) else [encoded])]
        for eio_sid in recipients:
            for frame in frames:
                try:
                    await self.server._send_eio_packet(eio_sid, frame)
                except Exception:  # one broken socket must not keep the frame from the others
                    log.debug("emit to %s failed", eio_sid, exc_info=True)
