"""SIGKILL while a hundred customers and ten agents exchange over 500 messages a second, three times over.

The real server runs as a subprocess on one SQLite file. Customers are in chats assigned to ten agents
(ten each) and both sides write; three more customers wait in the queue (no seat is free) and one has
filed a complaint. Every client is a python-socketio `AsyncClient` that reconnects, resends what was
not acknowledged and catches up by `seq` on its own (tests/load.py); the test only kills, restarts on
the same database and port, and checks. The load is the precondition: each round measures the rate
of acknowledged messages just before the kill and fails if it is under 500 a second.

After each restart:
- every acknowledged message is stored exactly once, as acknowledged; each conversation's seq is 1..n;
- every client's transcript is the database's (its own catch-up filled whatever the kill swallowed);
- each agent holds the same chats, each customer the same agent, the queue the same order, and the
  queue deadlines and complaint due times are the stored ones;
- the queued chats become complaints once each at their original deadline, not a queue timeout after
  a restart, and each complaint's SLA warning fires once however many restarts the sweeper saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest

from chatserver.config import Settings
from chatserver.services.container import build_services, close_services
from tests import hostile
from tests.load import Acks, Load, Talker, gather_bounded
from tests.procs import ServerProcesses

pytestmark = pytest.mark.slow

AGENTS = 10
SEATS = 10  # each agent's max_chats: every seat is taken, so the waiting customers stay queued
CUSTOMERS = AGENTS * SEATS
WAITING = 3
OFFERED_RATE = 640  # messages a second offered; under every per-connection limit (customers 4.8/s, agents 16/s)
AGENT_SHARE = 0.25
REQUIRED_RATE = 500  # acknowledged messages a second in the window before each kill
ROUNDS = 3
WARM_UP = 1.0  # seconds of load before the measured window (after a restart: clients settle)
WINDOW = 2.0  # seconds measured; the kill comes at its end, mid-stream
KILL_AFTER = (0.0, 0.005, 0.02)  # seconds from a burst of one message per client to the kill, per round
QUEUE_TIMEOUT = 15.0  # the waiting customers' deadlines fall in the second round
SETTLE = 30.0  # bound on every wait for the clients to catch up


@pytest.fixture
async def talkers() -> AsyncIterator[list[Talker]]:
    opened: list[Talker] = []
    try:
        yield opened
    finally:
        await asyncio.gather(*(asyncio.wait_for(t.close(), 5) for t in opened), return_exceptions=True)


@contextlib.contextmanager
def read_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only look at the running server's file (WAL allows a second reader)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def create_agents(db: Path) -> list[str]:
    """Agents with API tokens, written before the first start; consoles authenticate with the token."""
    services = await build_services(Settings(db=str(db), uvloop=False, gc_tuning=False), "unused-secret")
    try:
        tokens = []
        for i in range(AGENTS):
            row = await services.auth.create_user(
                email=f"agent{i}@example.test", name=f"Agent {i}", role="agent", password="correct-horse-battery", max_chats=SEATS
            )
            tokens.append(await services.auth.issue_api_token(row["id"], "load test"))
        return tokens
    finally:
        await close_services(services)


async def test_sigkill_at_500_messages_a_second_loses_no_acknowledged_message(
    procs: ServerProcesses, talkers: list[Talker], capsys: pytest.CaptureFixture[str]
) -> None:
    server = procs.server(env={
        "CHATSERVER_SECRET_KEY": "kill-under-load-kkkkkkkkkkkkkkkkkkkkkkkk", "CHATSERVER_AGENT_GRACE": "120",
        "CHATSERVER_QUEUE_TIMEOUT": str(QUEUE_TIMEOUT), "CHATSERVER_CHAT_STARTS_PER_MINUTE": "100000",
        "CHATSERVER_WAITING_CHATS_PER_ADDRESS": "100000",
        # 100 customers on one address at 500+ messages/s: the load, not the address limit, is tested
        "CHATSERVER_CUSTOMER_EVENTS_PER_ADDRESS_PER_MINUTE": "10000000",
        # every complaint is warned about at once (24 h before a 24 h first-response target), so that
        # the warning has fired before the kills and a restart that fired it again would show
        "CHATSERVER_SLA_WARNING_HOURS": "24", "CHATSERVER_SLA_SWEEP_SECONDS": "1",
    })
    tokens = await create_agents(server.db)
    await server.start()
    acks = Acks()

    agents = [Talker(server.url, "/agent", f"agent{i}", acks, auth={"token": token}) for i, token in enumerate(tokens)]
    talkers.extend(agents)
    await asyncio.gather(*(a.connect() for a in agents))
    for agent in agents:
        assert (await agent.call("presence:set", {"status": "online"}))["ok"]

    customers = [Talker(server.url, "/customer", f"customer{i}", acks) for i in range(CUSTOMERS)]
    talkers.extend(customers)

    async def start_chat(talker: Talker, expected: str) -> dict:
        await talker.connect()
        started = await talker.call("chat:start", {"body": f"hello from {talker.name}", "name": talker.name})
        assert started["ok"] and started["conversation"]["status"] == expected, started
        talker.conversations[started["conversation"]["id"]] = started["conversation"]["status"]
        return started

    starts = await gather_bounded([lambda c=c: start_chat(c, "active") for c in customers], 20)
    waiting = [Talker(server.url, "/customer", f"waiting{i}", acks) for i in range(WAITING)]
    talkers.extend(waiting)
    queue = [(await start_chat(w, "queued"))["conversation"]["id"] for w in waiting]  # in queue order
    filed = await waiting[0].call("complaint:submit", {"category": "withdrawals", "subject": "Late payout", "body": "Still nothing."})
    assert filed["ok"], filed
    await wait_until(lambda: all(len(a.active()) == SEATS for a in agents), "every agent has all their chats")

    # what a restart must rebuild, as it was before the first kill
    holds = {agent.name: set(agent.active()) for agent in agents}
    served_by = {c.name: started["conversation"]["agent"]["name"] for c, started in zip(customers, starts)}
    with read_db(server.db) as db:
        deadlines = {cid: db.execute("SELECT wait_deadline FROM conversations WHERE id = ?", (cid,)).fetchone()[0] for cid in queue}
        due_times = complaint_due_times(db)
    assert all(deadlines.values()) and len(due_times) == 1, (deadlines, due_times)

    load = Load(customers, agents, OFFERED_RATE, AGENT_SHARE)
    everyone = [*agents, *customers, *waiting]
    queued_after: list[int] = []  # chats whose deadline was still ahead after each restart
    outages: list[tuple[float, float]] = []  # (killed, healthy again), wall clock
    for round_no in range(1, ROUNDS + 1):
        stop = asyncio.Event()
        driving = asyncio.ensure_future(load.run(stop))
        try:
            await asyncio.sleep(WARM_UP)
            began = time.monotonic()
            await asyncio.sleep(WINDOW)
            rate = acks.rate(began, time.monotonic())
            if rate >= REQUIRED_RATE:
                # mid-stream, and with a burst in flight: some of it committed but not acknowledged,
                # some not committed at all, when the kill lands
                for talker in [*customers, *agents]:
                    await talker.send(talker.active()[0])
                await asyncio.sleep(KILL_AFTER[round_no - 1])
                server.kill()
        finally:
            stop.set()
            await driving
        assert rate >= REQUIRED_RATE, (
            f"round {round_no}: the load generator drove only {rate:.0f} acknowledged messages/s before the kill, "
            f"under the {REQUIRED_RATE} this test is about (offered {OFFERED_RATE}/s; is the machine busy?)"
        )
        in_flight = sum(len(t.pending) for t in everyone)
        killed_at, down_since = time.monotonic(), time.time()
        await server.start()
        outages.append((down_since, time.time()))

        # the clients come back, resend and catch up by themselves; the test only waits for them
        await wait_until(lambda: all(len(t.sessions) > round_no and t.resynced > round_no for t in everyone), f"round {round_no}: reconnected")
        await wait_until(lambda: not any(t.pending for t in everyone), f"round {round_no}: everything acknowledged")
        recovered = time.monotonic() - killed_at
        with read_db(server.db) as db:
            stored = messages_by_conversation(db)
            check_store(stored, everyone, round_no)
            await wait_until(lambda: all(transcripts_complete(t, stored) for t in everyone), f"round {round_no}: every transcript complete")
            queued_after.append(check_rebuilt(db, agents, customers, waiting, queue, holds, served_by, deadlines, due_times, round_no))
        # the file itself: integrity and foreign keys, seq 1..n, and rows that must agree with each other
        assert hostile.storage_problems(Path(server.db)) == [], f"round {round_no}"
        problems = [p for t in everyone for p in t.problems]
        assert problems == [], problems
        with capsys.disabled():
            print(f"\nround {round_no}: {rate:.0f} acknowledged messages/s before SIGKILL; {in_flight} unacknowledged at the kill; "
                  f"all clients resent, caught up and checked {recovered:.1f} s after it; {sum(len(m) for m in stored.values())} messages stored")

    assert queued_after[0] == WAITING, f"the queue was not yet rebuilt after a restart: {queued_after}"

    # the waiting chats turned into complaints once each, at their stored deadlines
    await asyncio.sleep(max(0.0, max(parse(d) for d in deadlines.values()).timestamp() + 3 - time.time()))
    with read_db(server.db) as db:
        for cid, deadline in deadlines.items():
            row = db.execute("SELECT status, outcome, closed_at, complaint_id FROM conversations WHERE id = ?", (cid,)).fetchone()
            assert (row["status"], row["outcome"]) == ("closed", "complaint"), dict(row)
            # never before the deadline; at it, or when it came while the server was down or starting, soon
            # after the server was back (the test sees that only once health answers, a little after the
            # server has begun to fire what it missed)
            due = parse(deadline).timestamp()
            latest = next((up for down, up in outages if down <= due < up), due) + 3
            closed = parse(row["closed_at"]).timestamp()
            assert due - 0.05 <= closed < latest, (
                f"closed {closed - due:.1f} s after it was due: the timer was not rebuilt from the stored deadline"
            )
            closes = db.execute("SELECT COUNT(*) FROM audit_events WHERE subject = ? AND action = 'conversation.closed'", (cid,)).fetchone()[0]
            assert closes == 1, f"{cid} closed {closes} times"
        sources = Counter(r[0] for r in db.execute("SELECT source FROM complaints"))
        assert sources == Counter({"chat_unanswered": WAITING, "form": 1}), sources
        notices = [tuple(r) for r in db.execute("SELECT complaint_id, kind, target FROM sla_notices")]
        assert sorted(Counter(notices).values()) == [1] * (WAITING + 1), f"SLA warnings fired more than once per complaint: {notices}"
        assert {(kind, target) for _, kind, target in notices} == {("warning", "response")}, notices


def complaint_due_times(db: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    return {r["reference"]: (r["first_response_due"], r["resolution_due"]) for r in db.execute("SELECT reference, first_response_due, resolution_due FROM complaints")}


def messages_by_conversation(db: sqlite3.Connection) -> dict[str, list[sqlite3.Row]]:
    out: dict[str, list[sqlite3.Row]] = {}
    for row in db.execute("SELECT id, conversation_id, seq, client_id, body FROM messages ORDER BY conversation_id, seq"):
        out.setdefault(row["conversation_id"], []).append(row)
    return out


def check_store(stored: dict[str, list[sqlite3.Row]], talkers: list[Talker], round_no: int) -> None:
    """Every acknowledged message stored exactly once, as acknowledged; each conversation's seq 1..n."""
    for conversation_id, rows in stored.items():
        seqs = [r["seq"] for r in rows]
        assert seqs == list(range(1, len(rows) + 1)), f"round {round_no}: {conversation_id} has gaps or repeats in seq"
    by_client = {r["client_id"]: r for rows in stored.values() for r in rows if r["client_id"]}
    counts = Counter(r["client_id"] for rows in stored.values() for r in rows if r["client_id"])
    for talker in talkers:
        for cid, message in talker.acked.items():
            assert counts[cid] == 1, f"round {round_no}: acknowledged {cid} is stored {counts[cid]} times"
            row = by_client[cid]
            assert (row["id"], row["seq"], row["body"]) == (message["id"], message["seq"], message["body"]), (dict(row), message)


def transcripts_complete(talker: Talker, stored: dict[str, list[sqlite3.Row]]) -> bool:
    """The talker's transcript of each of its conversations is exactly what the database holds."""
    for conversation_id in talker.conversations:
        mine = {seq: m["id"] for seq, m in talker.seen[conversation_id].items()}
        if mine != {r["seq"]: r["id"] for r in stored.get(conversation_id, [])}:
            return False
    return True


def check_rebuilt(
    db: sqlite3.Connection, agents: list[Talker], customers: list[Talker], waiting: list[Talker], queue: list[str],
    holds: dict[str, set[str]], served_by: dict[str, str], deadlines: dict[str, str], due_times: dict[str, tuple[str, str]],
    round_no: int,
) -> int:
    """What the sessions after the restart say: the same chats per agent and agent per customer, the same
    queue order; and the stored deadlines and due times are the original ones."""
    for agent in agents:
        session = agent.sessions[-1]
        assert {c["id"] for c in session["conversations"]} == holds[agent.name], f"round {round_no}: {agent.name} holds other chats"
    for customer in customers:
        conversation = customer.sessions[-1]["conversation"]
        assert conversation is not None and conversation["status"] == "active", (round_no, customer.name, conversation)
        assert conversation["agent"]["name"] == served_by[customer.name], (round_no, customer.name, conversation)
    # a chat whose deadline was still ahead when its customer reconnected waits, in the original order
    # (one whose deadline came about then may be either queued or closed, depending on which ran first)
    ahead = [
        (cid, w.sessions[-1]) for w, cid in zip(waiting, queue)
        if parse(deadlines[cid]).timestamp() - w.session_times[-1] > 1.0
    ]
    for cid, session in ahead:
        conversation = session["conversation"]
        assert conversation is not None and (conversation["id"], conversation["status"]) == (cid, "queued"), (round_no, session)
    positions = [session["queue"]["position"] for _, session in ahead]
    assert positions == sorted(set(positions)), f"round {round_no}: queue order lost: {positions}"
    if len(ahead) == WAITING:
        assert positions == list(range(1, WAITING + 1)), f"round {round_no}: queue positions {positions}"
    for cid, deadline in deadlines.items():
        stored = db.execute("SELECT wait_deadline, status FROM conversations WHERE id = ?", (cid,)).fetchone()
        assert stored["status"] == "closed" or stored["wait_deadline"] == deadline, (round_no, dict(stored), deadline)
    assert {k: v for k, v in complaint_due_times(db).items() if k in due_times} == due_times, f"round {round_no}: complaint due times changed"
    return len(ahead)


async def wait_until(check: Any, what: str, timeout: float = SETTLE) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        await asyncio.sleep(0.05)
