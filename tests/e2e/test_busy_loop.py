"""Reports, a large CSV export and the queue monitor do not hold up the chat: proven by what happens, not by
timing (the lag itself is measured by `make bench`, bench/busy.py).

The real server runs as a subprocess on a file with six weeks of history (bench/seed_history.py: 40,000
complaints). Customers and their agent keep chatting, a supervisor watches the monitor and reads reports,
and a month of complaints is exported. The export is read through a socket with a small receive buffer
and left unread after its first bytes: the server, with most of the export still to write, must wait for
the reader, and meanwhile it has to go on answering everyone else, its database reads included (history,
the reports' summary), so the export holds neither the event loop nor a connection others need. Then the
export is read to the end: it came in many chunks, a page of rows at a time, not as one body built first.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from bench import seed_history
from chatserver.services.reports import EXPORT_PAGE
from chatserver.transport.ratelimit import AGENT_MESSAGE_RATE
from tests import peers
from tests.peers import CAST_PASSWORD, Peer, client_id
from tests.procs import ServerProcesses, create_users

pytestmark = pytest.mark.slow

CUSTOMERS = 4
HISTORY = seed_history.Size(complaints=40_000, chats=8_000, customers=5_000, agents=6, supervisors=2, days=42)
# more than the kernel's socket buffers hold on loopback (4 MB sending, a few KB receiving), so the
# server cannot have written the export ahead of its reader
LARGER_THAN_BUFFERS = 5 * 1024 * 1024
PAUSE = 1.5 * CUSTOMERS / AGENT_MESSAGE_RATE.per_second  # between one chat's round trips
TIMEOUT = 10  # functional: an answer that takes this long means the server is stuck


def _small_receive_buffer(addr_info: Any) -> socket.socket:
    family, type_, proto, _, _ = addr_info
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


class Chat:
    """Customers and their agent writing to each other until stopped; every ack and delivery is checked."""

    def __init__(self, agent: Peer, customers: list[tuple[Peer, str]]) -> None:
        self.agent = agent
        self.customers = customers
        self.round_trips = 0  # a customer's message acknowledged and delivered to the agent, then answered
        self.stop = asyncio.Event()

    async def run(self, customer: Peer, conversation_id: str) -> None:
        while not self.stop.is_set():
            cid = client_id()
            ack = await customer.call("message:send", {"conversation_id": conversation_id, "client_id": cid, "body": "still there?"}, timeout=TIMEOUT)
            assert ack["ok"], ack
            await self.agent.wait_for("message:new", lambda m, cid=cid: m["client_id"] == cid, timeout=TIMEOUT)
            answer = client_id()
            ack = await self.agent.call("message:send", {"conversation_id": conversation_id, "client_id": answer, "body": "yes"}, timeout=TIMEOUT)
            assert ack["ok"], ack
            await customer.wait_for("message:new", lambda m, answer=answer: m["client_id"] == answer, timeout=TIMEOUT)
            self.round_trips += 1
            # people's pace, inside the message limits however fast the machine: the agent's 20/s is
            # shared by all the chats, a customer's is 5/s
            await asyncio.sleep(PAUSE)

    async def more_round_trips(self, count: int) -> None:
        target = self.round_trips + count
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while self.round_trips < target:
            assert loop.time() < deadline, f"only {self.round_trips - target + count} of {count} chat round trips"
            await asyncio.sleep(0.01)


async def test_chat_reports_and_the_monitor_are_served_while_a_large_export_streams(procs: ServerProcesses, closing: list[Any]) -> None:
    server = procs.server(env={"CHATSERVER_SECRET_KEY": "busy-loop-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", "CHATSERVER_LOGINS_PER_MINUTE": "100"})
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    await seed_history.seed_history_async(server.db, size=HISTORY, end=today)
    await create_users(server.db, [("bob@example.test", "Bob", "agent", CUSTOMERS), ("sam@example.test", "Sam", "supervisor", 2)], CAST_PASSWORD)
    await server.start()

    bob = await peers.agent(server.url, "bob@example.test")
    closing.append(bob)
    customers = []
    for _ in range(CUSTOMERS):
        peer = await peers.customer(server.url)
        closing.append(peer)
        started = await peer.call("chat:start", {"body": "hello"})
        assert started["ok"] and started["conversation"]["status"] == "active", started
        customers.append((peer, started["conversation"]["id"]))
    sam_cookie = await peers.login_cookie(server.url, "sam@example.test")
    monitor = await Peer(server.url, "/monitor").connect(headers={"Cookie": sam_cookie})
    closing.append(monitor)
    await monitor.wait_for("monitor:snapshot")

    chat = Chat(bob, customers)
    chatting = [asyncio.ensure_future(chat.run(peer, cid)) for peer, cid in customers]
    first, last = (today - timedelta(days=30)).date(), (today - timedelta(days=1)).date()
    query = f"from={first}&to={last}"
    headers = {"Cookie": sam_cookie}
    try:
        await chat.more_round_trips(CUSTOMERS)
        connector = aiohttp.TCPConnector(socket_factory=_small_receive_buffer)
        async with aiohttp.ClientSession(connector=connector, read_bufsize=4096) as exporter, aiohttp.ClientSession() as http:
            async with exporter.get(f"{server.url}/reports/export/complaints.csv?{query}", headers=headers) as export:
                assert export.status == 200, await export.text()
                chunks = [await export.content.readany()]  # the header line and the first rows

                # the export is parked mid-way, waiting for its reader; everyone else is served meanwhile
                snapshots = len(monitor.received("monitor:snapshot"))
                await chat.more_round_trips(3 * CUSTOMERS)
                history = await bob.call("history", {"conversation_id": customers[0][1], "after_seq": 0}, timeout=TIMEOUT)
                assert history["ok"] and len(history["messages"]) > 3, history
                for path in (f"/api/reports/summary?{query}", f"/reports?{query}"):
                    async with http.get(f"{server.url}{path}", headers=headers, timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as answer:
                        assert answer.status == 200, (path, await answer.text())
                await bob.call("presence:set", {"status": "away"}, timeout=TIMEOUT)
                await monitor.wait_for("monitor:snapshot", lambda s: any(a["status"] == "away" for a in s["agents"]), timeout=TIMEOUT)
                assert len(monitor.received("monitor:snapshot")) > snapshots
                await bob.call("presence:set", {"status": "online"}, timeout=TIMEOUT)

                # then the export is read to its end, with the chat still going
                sizes, size = [], len(chunks[0])  # bytes per HTTP chunk
                async for data, end_of_chunk in export.content.iter_chunks():
                    chunks.append(data)
                    size += len(data)
                    if end_of_chunk:
                        sizes.append(size)
                        size = 0
            body = b"".join(chunks)
        await chat.more_round_trips(CUSTOMERS)
    finally:
        chat.stop.set()
        done = await asyncio.gather(*chatting, return_exceptions=True)
    problems = [d for d in done if d is not None]
    assert problems == [], problems

    rows = body.decode("utf-8-sig").count("\r\n") - 1
    with sqlite3.connect(f"file:{server.db}?mode=ro", uri=True) as db:
        expected = db.execute(
            "SELECT COUNT(*) FROM complaints WHERE created_at >= ? AND created_at < ?",
            (f"{first}T00:00:00", f"{last + timedelta(days=1)}T00:00:00"),
        ).fetchone()[0]
    assert rows == expected > 10 * EXPORT_PAGE, (rows, expected)
    assert len(body) > LARGER_THAN_BUFFERS, f"the export ({len(body)} bytes) fits in the socket buffers: the test proves nothing"
    # a page of rows per write: many HTTP chunks, none holding much more than a page
    assert len(sizes) >= rows // EXPORT_PAGE - 1, f"{rows} rows came in {len(sizes)} HTTP chunks"
    assert max(sizes) < 2 * len(body) / (rows / EXPORT_PAGE), f"an HTTP chunk of {max(sizes)} bytes holds more than a page of rows"
    assert chat.round_trips >= 8 * CUSTOMERS
    print(f"\n{rows} rows, {len(body) / 1e6:.1f} MB in {len(sizes)} HTTP chunks (largest {max(sizes) / 1e3:.0f} KB); {chat.round_trips} chat round trips")
