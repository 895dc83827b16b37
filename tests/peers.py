"""Real Socket.IO peers for end-to-end tests: a customer widget and an agent console, as python clients."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any, Callable

import aiohttp
import socketio

CAST_PASSWORD = "correct-horse-battery"


class Peer:
    """One Socket.IO connection to one namespace that records every event it receives."""

    def __init__(self, base_url: str, namespace: str) -> None:
        self.base_url = base_url
        self.namespace = namespace
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        self.refusal: Any = None
        self.sio.on("*", self._record, namespace=namespace)
        self.sio.on("connect_error", self._refused, namespace=namespace)

    async def _refused(self, data: Any = None) -> None:
        self.refusal = data

    async def _record(self, event: str, *args: Any) -> None:
        self.events.append((event, args[0] if args else None))
        self._changed.set()

    async def connect(self, *, auth: Any = None, headers: dict[str, str] | None = None) -> "Peer":
        """Connect; a refusal raises ConnectionError carrying the server's error object."""
        try:
            await self.sio.connect(
                self.base_url, namespaces=[self.namespace], auth=auth, headers=headers or {},
                transports=["websocket"], wait_timeout=5,
            )
        except socketio.exceptions.ConnectionError as exc:
            await self.sio.disconnect()
            raise socketio.exceptions.ConnectionError(f"{exc}: {self.refusal}") from None
        return self

    async def call(self, event: str, data: Any = None, timeout: float = 5) -> Any:
        return await self.sio.call(event, data, namespace=self.namespace, timeout=timeout)

    async def emit(self, event: str, data: Any = None) -> None:
        await self.sio.emit(event, data, namespace=self.namespace)

    def received(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    async def wait_for(self, event: str, where: Callable[[Any], bool] = lambda _: True, timeout: float = 5) -> Any:
        """The first `event` (seen or future) whose payload satisfies `where`."""
        seen = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for name, data in self.events[seen:]:
                if name == event and where(data):
                    return data
            seen = len(self.events)
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} within {timeout}s; got {[n for n, _ in self.events]}")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def customer(base_url: str, **auth: Any) -> Peer:
    peer = await Peer(base_url, "/customer").connect(auth=auth or None)
    await peer.wait_for("session")
    return peer


async def login_cookie(base_url: str, email: str, password: str = CAST_PASSWORD) -> str:
    """Log in through the real form (CSRF token included) and return the Cookie header."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{base_url}/login") as page:
            html = await page.text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        async with http.post(
            f"{base_url}/login", data={"email": email, "password": password, "csrf_token": token, "next": "/console"},
            allow_redirects=False,
        ) as response:
            assert response.status == 303, await response.text()
        session = [c for c in jar if c.key == "cs_session"][0]
        return f"cs_session={session.value}"


async def agent(base_url: str, email: str, *, online: bool = True, namespace: str = "/agent") -> Peer:
    cookie = await login_cookie(base_url, email)
    peer = await Peer(base_url, namespace).connect(headers={"Cookie": cookie})
    if namespace == "/agent":
        await peer.wait_for("session")
        if online:
            ack = await peer.call("presence:set", {"status": "online"})
            assert ack["ok"], ack
    return peer


async def sign_out(base_url: str, cookie: str) -> int:
    """The console's sign-out button: the form's CSRF token from the console page, then POST /logout."""
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        async with http.get(f"{base_url}/console") as page:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)  # type: ignore[union-attr]
        async with http.post(f"{base_url}/logout", data={"csrf_token": csrf}, allow_redirects=False) as done:
            return done.status


def client_id() -> str:
    return str(uuid.uuid4())


async def active_chat(base_url: str, agent_email: str = "bob@example.test", body: str = "hi", **start: Any) -> tuple[Peer, Peer, str]:
    """An agent online and a customer whose chat the agent has received: (agent, customer, conversation id)."""
    agent_peer = await agent(base_url, agent_email)
    customer_peer = await customer(base_url)
    started = await customer_peer.call("chat:start", {"body": body, **start})
    assert started["ok"], started
    await agent_peer.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == started["conversation"]["id"])
    return agent_peer, customer_peer, started["conversation"]["id"]


class RawSocket:
    """One Engine.IO session over a WebSocket, sending Socket.IO packets by hand."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def packet(self, prefix: str, timeout: float = 5) -> str:
        """The next packet starting with `prefix`; pings are answered, other packets skipped."""
        async with asyncio.timeout(timeout):
            while True:
                text = await self.ws.receive_str()
                if text == "2":
                    await self.ws.send_str("3")
                elif text.startswith(prefix):
                    return text

    async def connect(self, namespace: str, auth: dict[str, Any] | None = None) -> dict[str, Any]:
        """CONNECT to a namespace: the server's answer, {"sid"} or the refusal's {"message", "data"}."""
        await self.ws.send_str(f"40{namespace}," + json.dumps(auth or {}))
        answer = await self.packet("4")
        while not (answer.startswith(f"40{namespace},") or answer.startswith(f"44{namespace},")):
            answer = await self.packet("4")
        return json.loads(answer.split(",", 1)[1])

    async def leave(self, namespace: str) -> None:
        await self.ws.send_str(f"41{namespace},")


async def raw_session(http: aiohttp.ClientSession, base_url: str) -> tuple[aiohttp.ClientWebSocketResponse, RawSocket]:
    ws = await http.ws_connect(f"{base_url}/socket.io/?EIO=4&transport=websocket")
    socket = RawSocket(ws)
    assert (await socket.packet("0")).startswith("0{")  # Engine.IO OPEN
    return ws, socket


class Canary:
    """A chat between another customer and carol that must keep working whatever the others send."""

    def __init__(self, agent: Peer, customer: Peer, conversation_id: str) -> None:
        self.agent, self.customer, self.conversation_id = agent, customer, conversation_id
        self.rounds = 0

    @classmethod
    async def start(cls, base_url: str) -> "Canary":
        return cls(*await active_chat(base_url, "carol@example.test", body="canary"))

    async def round_trip(self) -> None:
        self.rounds += 1
        text = f"canary {self.rounds}"
        ack = await self.customer.call("message:send", {"conversation_id": self.conversation_id, "client_id": client_id(), "body": text})
        assert ack["ok"], ack
        await self.agent.wait_for("message:new", lambda m: m["body"] == text)
        ack = await self.agent.call("message:send", {"conversation_id": self.conversation_id, "client_id": client_id(), "body": f"re {text}"})
        assert ack["ok"], ack
        await self.customer.wait_for("message:new", lambda m: m["body"] == f"re {text}")

    async def close(self) -> None:
        await self.customer.close()
        await self.agent.close()
