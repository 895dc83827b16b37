"""Many widgets and consoles that survive a server crash by themselves, and a driver that keeps them busy.

Each `Talker` is one python-socketio `AsyncClient` with reconnection on, behaving as the widget and the
console do: a message gets its `client_id` before the first try and stays unacknowledged until an `ok`
ack arrives; on every (re)connect (the `session` event) the talker resends every unacknowledged message
with its own `client_id` and asks `history` for each of its conversations after the highest `seq` up to
which it has everything; a `message:new` whose `seq` jumps past what it has makes it ask `history` too.

Nothing here asserts inside a callback: what goes wrong is kept in `problems` for the test to assert.
`Load` sends at a target aggregate rate from whichever talkers are connected (open loop: it never waits
for acks), and `Acks` timestamps every acknowledgement so that a test can tell the rate it achieved.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
import uuid
from collections import defaultdict
from functools import partial
from typing import Any, Callable

import socketio


class Acks:
    """When each acknowledgement arrived, for the achieved rate."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def add(self) -> None:
        self.times.append(time.monotonic())

    def rate(self, start: float, end: float) -> float:
        count = bisect.bisect_left(self.times, end) - bisect.bisect_left(self.times, start)
        return count / (end - start)


class Talker:
    def __init__(self, url: str, namespace: str, name: str, acks: Acks, auth: dict[str, Any] | None = None) -> None:
        self.url = url
        self.namespace = namespace
        self.name = name
        self.acks = acks
        self.token: str | None = None
        self._auth = auth
        self.sio = socketio.AsyncClient(
            reconnection=True, reconnection_attempts=0, reconnection_delay=0.25, reconnection_delay_max=1.0,
            randomization_factor=0.2,
        )
        self.conversations: dict[str, str] = {}  # id -> status as last heard
        self.seen: dict[str, dict[int, dict]] = defaultdict(dict)  # conversation -> seq -> message
        self.pending: dict[str, tuple[str, str]] = {}  # client_id -> (conversation, body): not yet acknowledged
        self.acked: dict[str, dict] = {}  # client_id -> the stored message its first ok ack carried
        self.sessions: list[dict] = []
        self.session_times: list[float] = []  # time.time() each session arrived
        self.resynced = 0  # sessions whose resend and catch-up finished
        self.problems: list[str] = []
        self.refused: dict[str, int] = defaultdict(int)  # error ack codes (rate_limited is expected)
        self._catching_up: dict[str, bool] = {}  # conversation -> another pass wanted
        self._turn = itertools.count()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._session_seen = asyncio.Event()
        ns = namespace
        self.sio.on("session", self._on_session, namespace=ns)
        self.sio.on("message:new", self._on_message, namespace=ns)
        self.sio.on("chat:assigned", self._on_assigned, namespace=ns)
        self.sio.on("chat:closed", self._on_closed, namespace=ns)

    # -- connection --------------------------------------------------------------------------------

    def _credentials(self) -> dict[str, Any]:
        """Evaluated on every (re)connect: a customer comes back with the token its first session gave it."""
        if self._auth is not None:
            return self._auth
        return {"token": self.token} if self.token else {}

    async def connect(self, timeout: float = 10) -> "Talker":
        await self.sio.connect(self.url, namespaces=[self.namespace], auth=self._credentials, transports=["websocket"], wait_timeout=timeout)
        await asyncio.wait_for(self._session_seen.wait(), timeout)
        return self

    @property
    def connected(self) -> bool:
        return self.namespace in self.sio.namespaces

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.sio.disconnect()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def call(self, event: str, data: Any, timeout: float = 10) -> Any:
        return await self.sio.call(event, data, namespace=self.namespace, timeout=timeout)

    # -- what the server sends ---------------------------------------------------------------------

    async def _on_session(self, session: dict) -> None:
        self.sessions.append(session)
        self.session_times.append(time.time())
        if "token" in session:
            self.token = session["token"]
            if session.get("conversation"):
                self.conversations[session["conversation"]["id"]] = session["conversation"]["status"]
        for conversation in session.get("conversations", []):
            self.conversations[conversation["id"]] = conversation["status"]
        self._session_seen.set()
        self._spawn(self._resync())

    async def _resync(self) -> None:
        for cid in list(self.pending):
            await self._emit(cid)
        await asyncio.gather(*(self.catch_up(c) for c in list(self.conversations)))
        self.resynced += 1

    async def _on_message(self, message: dict) -> None:
        if self._add(message):
            self._spawn(self.catch_up(message["conversation_id"]))

    async def _on_assigned(self, data: dict) -> None:
        # a console gets the conversation, the widget its id and the agent's name
        conversation_id = data["conversation"]["id"] if "conversation" in data else data["conversation_id"]
        self.conversations[conversation_id] = "active"
        self._spawn(self.catch_up(conversation_id))

    async def _on_closed(self, data: dict) -> None:
        self.conversations[data["conversation_id"]] = "closed"

    # -- the transcript ----------------------------------------------------------------------------

    def contiguous(self, conversation_id: str) -> int:
        """The highest seq up to which nothing is missing."""
        seen = self.seen[conversation_id]
        seq = 0
        while seq + 1 in seen:
            seq += 1
        return seq

    def _add(self, message: dict) -> bool:
        """Keep a stored message; True when it shows that something before it is missing."""
        seen = self.seen[message["conversation_id"]]
        earlier = seen.get(message["seq"])
        if earlier is not None and earlier["id"] != message["id"]:
            self.problems.append(f"{self.name}: seq {message['seq']} was {earlier['id']} and now {message['id']}")
        gap = message["seq"] > self.contiguous(message["conversation_id"]) + 1
        seen[message["seq"]] = message
        return gap

    async def catch_up(self, conversation_id: str) -> None:
        """`history` after what we have, until nothing is missing; one pass at a time per conversation."""
        if conversation_id in self._catching_up:
            self._catching_up[conversation_id] = True  # the running pass goes round once more
            return
        self._catching_up[conversation_id] = True
        try:
            while self._catching_up[conversation_id]:
                self._catching_up[conversation_id] = False
                while True:
                    try:
                        answer = await self.call("history", {"conversation_id": conversation_id, "after_seq": self.contiguous(conversation_id)})
                    except (socketio.exceptions.SocketIOError, asyncio.TimeoutError):
                        return  # the connection went away: the next session catches up
                    if not answer.get("ok"):
                        self.problems.append(f"{self.name}: history refused {answer}")
                        return
                    for message in answer["messages"]:
                        self._add(message)
                    if not answer["more"]:  # a page is bounded in count and in bytes
                        break
        finally:
            del self._catching_up[conversation_id]

    # -- sending -----------------------------------------------------------------------------------

    def active(self) -> list[str]:
        return [c for c, status in self.conversations.items() if status == "active"]

    async def send(self, conversation_id: str) -> None:
        cid = str(uuid.uuid4())
        self.pending[cid] = (conversation_id, f"{self.name} #{next(self._turn)} ({cid[:8]})")
        await self._emit(cid)

    async def _emit(self, cid: str) -> None:
        if cid not in self.pending or not self.connected:
            return  # resent with the next session
        conversation_id, body = self.pending[cid]
        try:
            await self.sio.emit(
                "message:send", {"conversation_id": conversation_id, "client_id": cid, "body": body},
                namespace=self.namespace, callback=partial(self._on_ack, cid),
            )
        except socketio.exceptions.SocketIOError:
            pass  # not connected after all: resent with the next session

    def _on_ack(self, cid: str, ack: dict) -> None:
        if ack.get("ok"):
            message = ack["message"]
            expected = self.pending.get(cid)
            if message["client_id"] != cid or (expected is not None and message["body"] != expected[1]):
                self.problems.append(f"{self.name}: the ack for {cid} carries another message: {message}")
            earlier = self.acked.get(cid)
            if earlier is not None and (earlier["id"], earlier["seq"]) != (message["id"], message["seq"]):
                self.problems.append(f"{self.name}: {cid} acknowledged as {earlier['seq']} and again as {message['seq']}")
            if earlier is None:
                self.acked[cid] = message
                self.acks.add()
            self.pending.pop(cid, None)
            self._add(message)
            return
        code = ack.get("error", {}).get("code", "?")
        self.refused[code] += 1
        if code == "rate_limited":
            asyncio.get_running_loop().call_later(0.5, lambda: self._spawn(self._emit(cid)))
        else:
            self.problems.append(f"{self.name}: {cid} refused: {ack}")


class Load:
    """Sends at `rate` messages a second in all, `agent_share` of them from consoles, round robin over
    the connected talkers that have an active conversation. Sends that find nobody connected (the
    server is down) are skipped, not saved up: people do not type faster after an outage."""

    TICK = 0.01

    def __init__(self, customers: list[Talker], agents: list[Talker], rate: float, agent_share: float) -> None:
        self.customers = customers
        self.agents = agents
        self.rate = rate
        self.agent_share = agent_share
        self.issued = 0
        self.skipped = 0
        self._from_agents = 0
        self._next = {"customer": itertools.cycle(customers), "agent": itertools.cycle(agents)}
        self._chat_turn: dict[str, itertools.count[int]] = defaultdict(itertools.count)

    def _pick(self, role: str, pool: list[Talker]) -> tuple[Talker, str] | None:
        for _ in range(len(pool)):
            talker = next(self._next[role])
            chats = talker.active() if talker.connected else []
            if chats:
                return talker, chats[next(self._chat_turn[talker.name]) % len(chats)]
        return None

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        began, issued = loop.time(), 0
        while not stop.is_set():
            due = int((loop.time() - began) * self.rate)
            while issued < due:
                issued += 1
                from_agent = self._from_agents < round((self.issued + issued) * self.agent_share)
                picked = self._pick("agent", self.agents) if from_agent else self._pick("customer", self.customers)
                if picked is None:
                    self.skipped += 1
                    continue
                if from_agent:
                    self._from_agents += 1
                talker, conversation_id = picked
                await talker.send(conversation_id)
            try:
                await asyncio.wait_for(stop.wait(), self.TICK)
            except asyncio.TimeoutError:
                pass
        self.issued += issued


async def gather_bounded(factories: list[Callable[[], Any]], concurrency: int) -> list[Any]:
    """Run coroutine factories with at most `concurrency` at once; results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(factory: Callable[[], Any]) -> Any:
        async with gate:
            return await factory()

    return await asyncio.gather(*(one(f) for f in factories))
