"""The Socket.IO server, with what clients send screened before python-socketio acts on it.

- A client event named `connect` or `disconnect` would be dispatched to the namespace's connect or
  disconnect handler (re-authenticating the socket with whatever the client sent, or forgetting its
  login while it stays open). It is answered `invalid` like any unknown event instead.
- An EVENT packet whose data is not `[name, ...arguments]` would fail inside the library with no
  answer; it is answered `invalid` too.
"""

from __future__ import annotations

from typing import Any

import socketio
from socketio import packet

from chatserver.transport.base import ContractNamespace

LIFECYCLE_EVENTS = frozenset({"connect", "disconnect"})


def _is_event(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and not (isinstance(data[0], str) and data[0] in LIFECYCLE_EVENTS)


class ContractServer(socketio.AsyncServer):
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
