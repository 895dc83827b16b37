"""A Socket.IO client that stops reading: a console on bad Wi-Fi or a frozen tab, over a real socket.

It completes the Engine.IO and Socket.IO handshake on a real WebSocket (aiohttp's client), can make a
few calls, and then reads nothing more. Its socket asks the kernel for a small receive buffer and
aiohttp stops reading once its own buffer (about 128 KB) is full; after the server's kernel send
buffer (up to 4 MB on loopback) is full too, frames pile up in the server's own memory.
While stalled it may keep answering the heartbeat blindly (an engine.io PONG every few seconds), so
that only a bound on what the server queues can end the connection, not the ping timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

import aiohttp

RECEIVE_BUFFER = 4096  # bytes: the kernel doubles it and never goes below its own minimum


def _small_buffer_socket(addr_info: Any) -> socket.socket:
    family, type_, proto, _, _ = addr_info
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)  # before connect: it sets the window
    return sock


class StalledClient:
    def __init__(self, base_url: str, namespace: str) -> None:
        self.base_url = base_url
        self.namespace = namespace
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ack_id = 0
        self._pongs: asyncio.Task[None] | None = None
        self.events: list[tuple[str, Any]] = []

    async def connect(self, *, auth: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> "StalledClient":
        connector = aiohttp.TCPConnector(socket_factory=_small_buffer_socket)
        self._http = aiohttp.ClientSession(connector=connector, read_bufsize=RECEIVE_BUFFER)
        self._ws = await self._http.ws_connect(
            f"{self.base_url}/socket.io/?EIO=4&transport=websocket", headers=headers or {},
            max_msg_size=0, autoping=False, timeout=aiohttp.ClientWSTimeout(ws_close=1),
        )
        opened = await self._frame(timeout=5)
        assert opened.startswith("0{"), opened
        await self._ws.send_str(f"40{self.namespace}," + json.dumps(auth or {}))
        connected = await self._until(lambda f: f.startswith(f"40{self.namespace},") or f.startswith(f"44{self.namespace},"))
        assert connected.startswith(f"40{self.namespace},"), f"refused: {connected}"
        return self

    async def _frame(self, timeout: float) -> str:
        assert self._ws is not None
        message = await self._ws.receive(timeout=timeout)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        return str(message.data)

    async def _until(self, wanted: Any, timeout: float = 5.0) -> str:
        """Read frames (answering pings, keeping events) until one satisfies `wanted`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        prefix = f"42{self.namespace},"
        while True:
            frame = await self._frame(timeout=max(0.01, deadline - loop.time()))
            if frame == "2":
                assert self._ws is not None
                await self._ws.send_str("3")
            elif frame.startswith(prefix):
                name, *args = json.loads(frame[len(prefix):])
                self.events.append((name, args[0] if args else None))
            if wanted(frame):
                return frame

    async def wait_for(self, event: str, timeout: float = 5.0) -> Any:
        for name, data in self.events:
            if name == event:
                return data
        frame = await self._until(lambda f: f.startswith(f'42{self.namespace},["{event}"'), timeout)
        return json.loads(frame[len(f"42{self.namespace},"):])[1]

    async def call(self, event: str, data: Any, timeout: float = 5.0) -> Any:
        assert self._ws is not None
        self._ack_id += 1
        ack = f"43{self.namespace},{self._ack_id}["
        await self._ws.send_str(f"42{self.namespace},{self._ack_id}" + json.dumps([event, data]))
        frame = await self._until(lambda f: f.startswith(ack), timeout)
        return json.loads(frame[len(ack) - 1:])[0]

    async def keep_reading(self) -> None:
        """The healthy twin of a stalled client: read and discard every frame, answering the heartbeat,
        until the connection ends (a console that keeps up, to compare a stalled one with)."""
        assert self._ws is not None
        with contextlib.suppress(asyncio.TimeoutError, AssertionError, ConnectionError, RuntimeError):
            while True:
                if await self._frame(timeout=120) == "2":
                    await self._ws.send_str("3")

    def stall(self, pong_every: float | None = 5.0) -> None:
        """Read nothing from now on; with `pong_every`, keep answering the heartbeat blindly."""
        if pong_every is not None:
            self._pongs = asyncio.ensure_future(self._blind_pongs(pong_every))

    async def _blind_pongs(self, every: float) -> None:
        assert self._ws is not None
        while not self._ws.closed:
            await asyncio.sleep(every)
            try:
                await self._ws.send_str("3")
            except (ConnectionError, RuntimeError):
                return

    async def dropped(self, timeout: float) -> bool:
        """Whether the server ended the connection within `timeout` (reading again to find out)."""
        assert self._ws is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                message = await self._ws.receive(timeout=max(0.01, deadline - loop.time()))
            except asyncio.TimeoutError:
                return False
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                return True
        return False

    async def close(self) -> None:
        if self._pongs is not None:
            self._pongs.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pongs
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 2)
        if self._http is not None:
            await self._http.close()
