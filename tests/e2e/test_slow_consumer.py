"""A client that stops reading is dropped, the server's memory stays bounded, everyone else is served.

The real server runs as a subprocess with a small send queue limit (64 KB) and large messages, so
that the frames meant for a stalled console exceed the limit within seconds. The stalled console is
a raw WebSocket that completed the Engine.IO and Socket.IO handshakes as agent Bob and then reads
nothing (tests/stalled.py); it keeps answering the heartbeat blindly, so only the send queue limit
can end it. Everyone else is a real python-socketio client whose every call has a timeout.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from chatserver import keys
from chatserver.app import SIO, create_app
from chatserver.transport.send_queue import TRANSPORT

from tests import peers
from tests import conftest
from tests.conftest import eventually
from tests.peers import CAST_PASSWORD, Peer, client_id
from tests.procs import ServerProcess, ServerProcesses, create_users
from tests.stalled import StalledClient

pytestmark = pytest.mark.slow

LIMIT = 64 * 1024  # CHATSERVER_SOCKET_SEND_QUEUE_BYTES for these tests
BODY_CHARS = 60_000  # each message:new frame for Bob is ~60 KB (a frame may be up to 64 KB)
BOBS_CUSTOMERS = 6
CAROLS_CUSTOMERS = 3
MESSAGES_EACH = 40  # per customer of Bob's: 6 x 40 x 60 KB = 14 MB meant for the stalled console
SEND_INTERVAL = 0.22  # under the widget's 5 messages a second per connection
# the server's memory may grow this much while 14 MB are meant for the stalled console (it grew 4.6 MB);
# without the limit it grows by all that does not fit in the kernel's socket buffers (15 MB)
RSS_GROWTH_BOUND = 8 * 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


async def scrape(url: str) -> dict[str, float]:
    """Unlabelled samples of GET /metrics (asked from this host, which needs no token)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/metrics") as response:
            assert response.status == 200
            text = await response.text()
    return {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples if not s.labels}


class Customer:
    """A widget in a chat that sends numbered messages and keeps every ack."""

    def __init__(self, peer: Peer, conversation_id: str, body: str) -> None:
        self.peer = peer
        self.conversation_id = conversation_id
        self.body = body
        self.acked: dict[str, dict] = {}

    async def stream(self, count: int) -> None:
        for n in range(count):
            cid = client_id()
            # a functional timeout only: the server must keep answering while Bob's console is stuck
            ack = await self.peer.call(
                "message:send", {"conversation_id": self.conversation_id, "client_id": cid, "body": f"{n} {self.body}"}, timeout=10
            )
            assert ack["ok"], ack
            self.acked[cid] = ack["message"]
            await asyncio.sleep(SEND_INTERVAL)


async def start_chats(url: str, count: int, body: str, closing: list[Any]) -> list[Customer]:
    out = []
    for _ in range(count):
        peer = await peers.customer(url)
        closing.append(peer)
        started = await peer.call("chat:start", {"body": "hello"})
        assert started["ok"] and started["conversation"]["status"] == "active", started
        out.append(Customer(peer, started["conversation"]["id"], body))
    return out


async def watch(server: ServerProcess, baseline: int, stop: asyncio.Event, seen: dict[str, float]) -> None:
    """Sample the server's memory and its send queues until `stop`."""
    while not stop.is_set():
        figures = await scrape(server.url)
        seen["rss_growth"] = max(seen.get("rss_growth", 0), rss_bytes(server.pid) - baseline)
        seen["largest_queue"] = max(seen.get("largest_queue", 0), figures["chatserver_socket_send_queue_largest_bytes"])
        seen["dropped"] = figures["chatserver_slow_connections_dropped_total"]
        if seen["dropped"] and "dropped_at" not in seen:
            seen["dropped_at"] = time.monotonic()
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except asyncio.TimeoutError:
            pass


@pytest.mark.parametrize("fast_path", ["1", "0"], ids=["fast-path", "stock-manager"])
async def test_a_client_that_stops_reading_is_dropped_and_resyncs(
    fast_path: str, procs: ServerProcesses, closing: list[Any]
) -> None:
    server = procs.server(env={
        "CHATSERVER_SECRET_KEY": "slow-consumer-kkkkkkkkkkkkkkkkkkkkkkkkkk", "CHATSERVER_SOCKET_SEND_QUEUE_BYTES": str(LIMIT),
        "CHATSERVER_MAX_MESSAGE_CHARS": str(BODY_CHARS + 10), "CHATSERVER_AGENT_GRACE": "120",
        "CHATSERVER_SOCKETIO_FAST_PATH": fast_path,
    })
    await create_users(server.db, [("bob@example.test", "Bob", "agent", BOBS_CUSTOMERS), ("carol@example.test", "Carol", "agent", 4)], CAST_PASSWORD)
    await server.start()

    # Bob's console completes the handshake, goes online and gets six chats; then it stops reading
    bob_cookie = await peers.login_cookie(server.url, "bob@example.test")
    stalled = await StalledClient(server.url, "/agent").connect(headers={"Cookie": bob_cookie})
    closing.append(stalled)
    await stalled.wait_for("session")
    assert (await stalled.call("presence:set", {"status": "online"}))["ok"]
    bobs = await start_chats(server.url, BOBS_CUSTOMERS, "x" * BODY_CHARS, closing)
    carol = await peers.agent(server.url, "carol@example.test")
    closing.append(carol)
    carols = await start_chats(server.url, CAROLS_CUSTOMERS, "small talk", closing)
    stalled.stall()

    baseline = rss_bytes(server.pid)
    seen: dict[str, float] = {}
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(watch(server, baseline, stop, seen))
    started = time.monotonic()
    try:
        # Carol answers her customers throughout: her acks and deliveries must keep coming
        async def carol_answers() -> dict[str, set[str]]:
            sent: dict[str, set[str]] = {c.conversation_id: set() for c in carols}
            while not stop.is_set():
                for conversation_id, cids in sent.items():
                    cid = client_id()
                    ack = await carol.call("message:send", {"conversation_id": conversation_id, "client_id": cid, "body": "on it"}, timeout=10)
                    assert ack["ok"], ack
                    cids.add(cid)
                await asyncio.sleep(0.5)
            return sent

        answering = asyncio.ensure_future(carol_answers())
        await asyncio.gather(*(c.stream(MESSAGES_EACH) for c in bobs), *(c.stream(MESSAGES_EACH // 2) for c in carols))
        stop.set()
        carol_sent = await answering
    finally:
        stop.set()
        await watcher
    streamed = sum(len(c.acked) for c in bobs) * BODY_CHARS

    # dropped by the limit, not by the heartbeat (it answered pongs), while the stream went on
    assert seen["dropped"] == 1, f"the stalled console was not dropped ({seen}); server log:\n{server.output()}"
    assert seen["dropped_at"] - started < 0.6 * (time.monotonic() - started), seen
    assert await stalled.dropped(timeout=10), "the server did not close the stalled console's connection"
    assert "dropping connection" in server.stderr()
    # what waited for any one connection stayed near the limit, and the process did not grow with the stream
    assert seen["largest_queue"] <= LIMIT + BODY_CHARS + 1024, seen
    assert seen["rss_growth"] < RSS_GROWTH_BOUND, (
        f"server RSS grew by {seen['rss_growth'] / 2**20:.1f} MB while {streamed / 2**20:.1f} MB were meant for the stalled console"
    )
    print(f"\n[{fast_path=}] {streamed / 2**20:.1f} MB meant for the stalled console, limit {LIMIT // 1024} KB: dropped after "
          f"{seen['dropped_at'] - started:.1f} s, largest queue {seen['largest_queue'] / 1024:.0f} KB, "
          f"server RSS growth at most {seen['rss_growth'] / 2**20:.1f} MB")

    # Carol's side was served throughout: every one of her answers reached its customer
    for customer in carols:
        expected = carol_sent[customer.conversation_id]
        assert expected, "Carol sent nothing"
        await eventually(lambda: expected <= {m["client_id"] for m in customer.peer.received("message:new")}, timeout=10)

    # Bob comes back (within the grace period he keeps his chats) and catches up through history
    bob = await Peer(server.url, "/agent").connect(headers={"Cookie": bob_cookie})
    closing.append(bob)
    session = await bob.wait_for("session")
    assert sorted(c["id"] for c in session["conversations"]) == sorted(c.conversation_id for c in bobs), session
    for customer in bobs:
        messages: list[dict] = []
        more = True
        while more:  # a page holds 256 KiB of bodies, four of these messages: pages as the console does
            after_seq = messages[-1]["seq"] if messages else 0
            history = await bob.call("history", {"conversation_id": customer.conversation_id, "after_seq": after_seq}, timeout=10)
            if history.get("error", {}).get("code") == "rate_limited":
                await asyncio.sleep(1)
                continue
            assert history["ok"], history
            messages += history["messages"]
            more = history["more"]
        assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
        assert {m["client_id"] for m in messages if m["client_id"]} == set(customer.acked)
        assert len(messages) == 1 + len(customer.acked)  # the first words of chat:start, then the stream


async def test_a_stalled_client_whose_heartbeat_stops_is_cut_off_and_freed(tmp_path: Path, closing: list[Any]) -> None:
    """A frozen tab answers nothing, not even the heartbeat. engineio closes such a connection after
    its ping timeout, but its writer stays blocked on the full TCP connection, holding every frame
    that waited, for as long as the peer's kernel keeps the connection: the server must cut it.

    In-process, with a heartbeat of a few seconds (engineio's own settings, 25 s + 20 s in production)
    and a send queue limit too high to matter, so that only the heartbeat can end the connection."""
    settings = conftest.test_settings(tmp_path, socket_send_queue_bytes=256 * 2**20, max_message_chars=BODY_CHARS + 10)
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        eio = server.app[SIO].eio
        eio.ping_interval, eio.ping_timeout = 4, 2
        await conftest.seed_cast(server.app[keys.SERVICES], [("bob@example.test", "Bob", "agent", BOBS_CUSTOMERS)])
        url = str(server.make_url("")).rstrip("/")
        stalled = await StalledClient(url, "/agent").connect(headers={"Cookie": await peers.login_cookie(url, "bob@example.test")})
        closing.append(stalled)
        await stalled.wait_for("session")
        [socket] = eio.sockets.values()  # the stalled console's engineio socket
        transport = getattr(socket, TRANSPORT)
        assert (await stalled.call("presence:set", {"status": "online"}))["ok"]
        customers = await start_chats(url, BOBS_CUSTOMERS, "x" * BODY_CHARS, closing)
        stalled.stall(pong_every=None)
        backlog = 0  # the most that waited for the stalled console in the server's own buffers

        async def sample() -> None:
            nonlocal backlog
            while not socket.closed:
                backlog = max(backlog, socket.queue.waiting_bytes + transport.get_write_buffer_size())
                await asyncio.sleep(0.05)

        sampling = asyncio.ensure_future(sample())
        # 10 MB: enough to fill the kernel's buffers and block the connection's writer before the heartbeat ends
        await asyncio.gather(*(c.stream(30) for c in customers))
        await asyncio.wait_for(sampling, 15)
        assert backlog > 1024 * 1024, f"the stalled console's writer was never blocked ({backlog} bytes waited)"

        # without reading anything (reading would unblock the writer): the heartbeat ends the connection,
        # its TCP connection is cut, and nothing waits for it any more
        def freed() -> bool:
            return socket.closed and transport.is_closing() and socket.queue.waiting_bytes == 0

        await eventually(freed, timeout=15)
        assert await stalled.dropped(timeout=5)
    finally:
        await server.close()


async def test_a_client_that_stopped_reading_does_not_hold_up_a_stop(procs: ServerProcesses, closing: list[Any]) -> None:
    """A deploy stops the server with SIGTERM: a console frozen mid-stream (its writer blocked, under the
    send-queue bound, still answering the heartbeat) is closed hard once `shutdown_timeout` has passed,
    instead of holding the stop for a minute; what was acknowledged is kept."""
    shutdown_timeout = 2
    server = procs.server(env={
        "CHATSERVER_SECRET_KEY": "stop-while-stalled-kkkkkkkkkkkkkkkkkkkkk", "CHATSERVER_MAX_MESSAGE_CHARS": str(BODY_CHARS + 10),
        "CHATSERVER_AGENT_GRACE": "120", "CHATSERVER_SHUTDOWN_TIMEOUT": str(shutdown_timeout),
    })
    await create_users(server.db, [("bob@example.test", "Bob", "agent", BOBS_CUSTOMERS)], CAST_PASSWORD)
    await server.start()
    stalled = await StalledClient(server.url, "/agent").connect(headers={"Cookie": await peers.login_cookie(server.url, "bob@example.test")})
    closing.append(stalled)
    await stalled.wait_for("session")
    assert (await stalled.call("presence:set", {"status": "online"}))["ok"]
    customers = await start_chats(server.url, BOBS_CUSTOMERS, "x" * BODY_CHARS, closing)
    stalled.stall()
    # about 4 MB for Bob: more than the kernel's buffers hold, less than the send-queue bound drops
    await asyncio.gather(*(c.stream(12) for c in customers))
    figures = await scrape(server.url)
    assert figures["chatserver_slow_connections_dropped_total"] == 0, "the stalled console was dropped before the stop"
    assert figures["chatserver_socket_send_queue_largest_bytes"] > 0, "nothing waited for the stalled console"

    # a minute (aiohttp's own default) would fail this; the bound is generous for a busy machine
    assert await server.stop(signal.SIGTERM, timeout=shutdown_timeout + 10) == 0
    with sqlite3.connect(f"file:{server.db}?mode=ro", uri=True) as db:
        stored = db.execute("SELECT COUNT(*) FROM messages WHERE sender = 'customer' AND length(body) > ?", (BODY_CHARS,)).fetchone()[0]
    assert stored == sum(len(c.acked) for c in customers) == BOBS_CUSTOMERS * 12
