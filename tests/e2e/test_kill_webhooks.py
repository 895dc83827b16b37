"""The server is SIGKILLed while chats start, get assigned and turn into complaints, with a webhook
receiver registered: after each restart, every change the database holds has its delivery exactly
once, and no delivery announces a change the database does not hold.

A delivery is written in the transaction of the change it announces; this proves it against real
crashes that land anywhere in the work, not only where a test chose to put a fault.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests import peers
from tests.faults import read_db
from tests.peers import CAST_PASSWORD, Peer
from tests.procs import ServerProcesses, create_users

pytestmark = pytest.mark.slow

SECRET = "kill-webhooks-secret-kkkkkkkkkkkkkkkkkkkkk"
CUSTOMERS = 40
STARTS = 3  # a customer's burst of chat starts (transport/ratelimit.py); then one per 5 s
KILL_AFTER = (0.08, 0.15, 0.25)  # seconds into the burst: early, in the middle, late
EVENTS = ["chat.started", "chat.assigned", "chat.closed", "complaint.created"]


def env() -> dict[str, str]:
    settings = {
        "secret_key": SECRET, "agent_grace": 60, "queue_timeout": 600, "webhook_allow_private": "true",
        # one address plays every customer here: the per-address limits must not be what stops them
        "chat_starts_per_minute": 100_000, "complaints_per_address_per_hour": 100_000, "waiting_chats_per_address": 1_000,
        "customer_events_per_address_per_minute": 100_000,
    }
    return {f"CHATSERVER_{k.upper()}": str(v) for k, v in settings.items()}


async def register_receiver(db: Path) -> None:
    """A receiver for every chat and complaint event, at an address where nothing listens: the rows
    stay pending, which is all this test reads."""
    from chatserver.config import Settings
    from chatserver.services.auth import ConsoleUser
    from chatserver.services.container import build_services, close_services
    from chatserver.store import users

    services = await build_services(Settings(db=str(db), uvloop=False, gc_tuning=False, webhook_allow_private=True), "unused-secret")
    try:
        ada = await users.by_email(services.db, "ada@example.test")
        await services.webhooks.register(ConsoleUser.from_row(ada), url="http://127.0.0.1:9/hooks", events=EVENTS)
    finally:
        await close_services(services)


async def churn(peer: Peer) -> None:
    """Start a chat and say it was not solved, as often as the customer may in a burst: a start, often
    an assignment, a close and a complaint each time."""
    for _ in range(STARTS):
        try:
            started = await peer.call("chat:start", {"body": "My withdrawal is late"}, timeout=2)
            assert started.get("ok"), started
            await peer.call("chat:end", {"conversation_id": started["conversation"]["id"], "resolved": False}, timeout=2)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.SocketIOError):
            return  # the server is gone


def check_deliveries(db: Path) -> dict[str, int]:
    with read_db(db) as conn:
        conversations = {row[0]: row[1:] for row in conn.execute("SELECT id, status, assigned_at FROM conversations")}
        complaints = {row[0] for row in conn.execute("SELECT reference FROM complaints")}
        deliveries = [(event, json.loads(payload)) for event, payload in conn.execute("SELECT event, payload FROM webhook_deliveries")]
    announced: dict[str, Counter[str]] = {name: Counter() for name in EVENTS}
    for event, body in deliveries:
        data: dict[str, Any] = body["data"]
        key = data["complaint"]["reference"] if event == "complaint.created" else data["conversation"]["id"]
        announced[event][key] += 1
    assert set(announced["complaint.created"]) <= complaints, "a delivery announces a complaint that was never committed"
    for event in ("chat.started", "chat.assigned", "chat.closed"):
        assert set(announced[event]) <= set(conversations), f"a {event} delivery announces a chat that was never committed"
    for conversation_id, (status, assigned_at) in conversations.items():
        assert announced["chat.started"][conversation_id] == 1, (conversation_id, announced["chat.started"][conversation_id])
        assert announced["chat.closed"][conversation_id] == (1 if status == "closed" else 0), (conversation_id, status)
        assert announced["chat.assigned"][conversation_id] == (1 if assigned_at else 0), (conversation_id, assigned_at)
    for reference in complaints:
        assert announced["complaint.created"][reference] == 1, reference
    return {"chats": len(conversations), "complaints": len(complaints), "deliveries": len(deliveries)}


async def test_sigkill_while_chats_turn_into_complaints_leaves_every_committed_change_with_exactly_one_delivery(
    procs: ServerProcesses, closing: list[Peer],
) -> None:
    server = procs.server(env=env())
    await create_users(
        server.db, [("bob@example.test", "Bob", "agent", 50), ("ada@example.test", "Ada", "admin", 1)], CAST_PASSWORD,
    )
    await register_receiver(server.db)
    await server.start()
    cookie = await peers.login_cookie(server.url, "bob@example.test")
    seen: list[dict[str, int]] = []
    for kill_after in KILL_AFTER:
        bob = await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
        closing.append(bob)
        await bob.wait_for("session")
        assert (await bob.call("presence:set", {"status": "online"}))["ok"]
        customers = [await peers.customer(server.url) for _ in range(CUSTOMERS)]
        closing.extend(customers)
        workers = [asyncio.ensure_future(churn(peer)) for peer in customers]
        await asyncio.sleep(kill_after)
        server.kill()
        await asyncio.gather(*workers, return_exceptions=True)
        await server.start()
        seen.append(check_deliveries(server.db))
        for peer in [bob, *customers]:
            await peer.close()
    made = [after["chats"] - before["chats"] for before, after in zip([{"chats": 0}, *seen], seen)]
    # each kill landed in the middle of the work: some chats were made, not all of them
    assert all(0 < n < CUSTOMERS * STARTS for n in made), made
