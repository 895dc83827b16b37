"""The Socket.IO server, with what clients send screened before python-socketio acts on it.

- A client event named `connect` or `disconnect` would be dispatched to the namespace's connect or
  disconnect handler (re-authenticating the socket with whatever the client sent, or forgetting its
  login while it stays open). It is answered `invalid` like any unknown event instead.
- An EVENT packet whose data is not `[name, ...arguments]` would fail inside the library with no
  answer; it is answered `invalid` too.
- A packet that cannot be decoded, of an unknown type, or announcing more binary attachments than
  anyone needs, closes that one connection. It is logged as a warning without a traceback: it is the
  client's fault, and nothing on the server failed.
- A WebSocket text frame that is not an Engine.IO packet ends its connection as a dropped one would.
  engineio decodes frames outside its error handling: aiohttp would log a traceback for each.
- A long-polling POST that is not an Engine.IO payload closes its session the same way.
- Closing a client never waits for it to read the close packet (see ScreenedEngineIO.disconnect); a
  connection closed for breaking the protocol is cut at the TCP level too, and frames it had already
  sent are dropped, so a client that ignores the close packet leaves nothing behind.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import engineio
from aiohttp.web import Request
from engineio import payload as eio_payload
from engineio.async_drivers import aiohttp as engineio_aiohttp
from socketio import packet

from chatserver.transport.base import ContractNamespace
from chatserver.transport.connect_limits import TOO_MANY_OPEN, OpenSessions
from chatserver.transport.forwarding import client_of_environ
from chatserver.transport.send_queue import BoundedEngineServer, BoundedSocketServer, TrackedWebSocket, cut_transport

log = logging.getLogger(__name__)

LIFECYCLE_EVENTS = frozenset({"connect", "disconnect"})
# The contract is JSON; a binary event still gets its `invalid` ack from validation. The count is the
# client's word, and every frame that follows is held as an attachment until it is reached.
MAX_ATTACHMENTS = 4
# open, close, ping, pong, message, upgrade, noop; base64 ("b...") is for long-polling only
ENGINEIO_PACKET_TYPES = frozenset("0123456")


class MalformedPacket(Exception):
    pass


class ScreenedWebSocket(TrackedWebSocket):
    """The server's WebSocket wrapper, ending the connection on a text frame that is not a packet."""

    async def wait(self) -> str | bytes:
        data = await super().wait()
        if isinstance(data, str) and (not data or data[0] not in ENGINEIO_PACKET_TYPES):
            # cut, not closed: engineio's close would wait up to 10 s for a client that is not
            # speaking the protocol to answer the close handshake, holding the session meanwhile
            transport = self.environ["aiohttp.request"].transport
            if transport is not None:
                transport.abort()
            raise OSError("not an Engine.IO packet")  # what engineio expects from a connection that is gone
        return data


def _is_event(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and not (isinstance(data[0], str) and data[0] in LIFECYCLE_EVENTS)


def is_polling_payload(body: bytes, max_packets: int = eio_payload.Payload.max_decode_packets) -> bool:
    """A long-polling POST body: Engine.IO packets separated by \\x1e, text or base64 ("b...")."""
    if not body:
        return True  # nothing to decode; engineio takes it as no packets
    try:
        packets = body.decode("utf-8").split("\x1e")
    except UnicodeDecodeError:
        return False
    if len(packets) > max_packets:
        return False
    for pkt in packets:
        if pkt[:1] == "b":
            try:
                base64.b64decode(pkt[1:], validate=True)
            except ValueError:  # binascii.Error, or text that is not ASCII ("bé"), which raises before decoding
                return False
        elif pkt[:1] not in ENGINEIO_PACKET_TYPES:
            return False
    return True


class _Body:
    """A request body already read, handed to engineio as its `wsgi.input`."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self, length: int = -1) -> bytes:
        return self.data if length < 0 else self.data[:length]


class ScreenedEngineIO(BoundedEngineServer):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # engineio keeps its driver table in a module-level dict shared by every server: this one gets a copy
        self._async = {**self._async, "websocket": ScreenedWebSocket, "translate_request": self._translate_request}

    async def _translate_request(self, request: Request) -> dict:
        """The request as engineio sees it. A long-polling POST that is not an Engine.IO payload closes
        its session first, so engineio answers 400 for an unknown session; it would otherwise fail
        decoding it and log a traceback for each."""
        environ = engineio_aiohttp.translate_request(request)
        if request.method != "POST" or (request.content_length or 0) > self.max_http_buffer_size:
            return environ  # engineio refuses what is too large before reading it
        body = await request.read()
        environ["wsgi.input"] = _Body(body)
        sid = request.query.get("sid")
        if sid in self.sockets and not is_polling_payload(body):
            log.warning("closing a long-polling session that sent a malformed payload")
            await self.cut(sid)
        return environ

    async def disconnect(self, sid: str | None = None) -> None:
        """Close one client without waiting until it has read the close packet. engineio would wait,
        and over long-polling the client reads only after the POST that caused the close (a malformed
        packet) has been answered: that request would hang for good."""
        if sid is None:
            return await super().disconnect()
        socket = self.sockets.get(sid)
        if socket is not None:
            await socket.close(wait=False, reason=self.reason.SERVER_DISCONNECT)
            self.sockets.pop(sid, None)

    async def cut(self, sid: str) -> None:
        """End a connection that broke the protocol, its TCP connection included: a client that ignored
        the close packet could otherwise go on sending, and engineio would go on reading its frames for
        a session that no longer exists."""
        socket = self.sockets.get(sid)
        if socket is not None:
            cut_transport(socket)
        await self.disconnect(sid)


class ContractServer(BoundedSocketServer):
    def __init__(self, *, open_sessions: OpenSessions | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.open_sessions = open_sessions

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return ScreenedEngineIO

    async def _handle_eio_connect(self, eio_sid: str, environ: dict) -> Any:
        # the HTTP middleware turns most of these away first; this counts, and refuses handshakes
        # from one address that passed it together
        if self.open_sessions is not None and not self.open_sessions.opened(eio_sid, client_of_environ(environ).limit_key):
            return {"code": "rate_limited", "message": TOO_MANY_OPEN}
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        try:
            await super()._handle_eio_disconnect(eio_sid, reason)
        finally:
            if self.open_sessions is not None:
                self.open_sessions.closed(eio_sid)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if eio_sid not in self.environ:
            # frames that were already read when the connection was closed: the session is gone, and
            # acting on them would leave namespace entries that nothing removes
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
            pending = self._binary_packet.get(eio_sid)
            if pending is not None and pending.attachment_count > MAX_ATTACHMENTS:
                raise MalformedPacket(f"{pending.attachment_count} binary attachments announced")
        except Exception as exc:  # decoding happens inside the library; handlers run in their own tasks
            self._binary_packet.pop(eio_sid, None)
            log.warning("closing a connection that sent a malformed packet: %s: %s", type(exc).__name__, str(exc)[:200])
            await self.eio.cut(eio_sid)

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        if _is_event(data):
            return await super()._handle_event(eio_sid, namespace, id, data)
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        handler = self.namespace_handlers.get(namespace)
        if sid is None or not self.manager.is_connected(sid, namespace) or not isinstance(handler, ContractNamespace):
            return
        event, args = (data[0], tuple(data[1:])) if isinstance(data, list) and data else (data, ())
        # the namespace's own answer for an event no route knows: `invalid`, counted as unknown
        answer = await handler._answer(event, sid, args)
        if id is not None:
            await self._send_packet(eio_sid, self.packet_class(packet.ACK, namespace=namespace, id=id, data=[answer]))
