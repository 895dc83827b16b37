"""Property-based fuzzing of every Socket.IO event on /customer, /agent and /monitor.

Each namespace gets PER_EVENT hostile calls per event, drawn by Hypothesis from the events the running server
routes (so a new event is fuzzed without touching this file), plus unknown event names and extra
arguments. Properties: every answer is a contract ack and never `internal`; the hostile socket stays
connected and is still served; a canary chat between another customer and agent keeps working during
and after; the log has no error; the database and the router's memory are consistent afterwards.

Calls go out in batches over fresh connections, so the per-connection rate limits answer only real
floods and the inputs reach the handlers.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
import socketio

from chatserver.app import SIO
from chatserver.transport.schemas import CustomerAuth
from tests import hostile, peers
from tests.conftest import RunningServer, eventually
from tests.peers import Canary, Peer, client_id

PER_EVENT = 80  # payloads per event, and as many unknown events and wrong argument counts
AUTH_EXAMPLES = 240
BATCH = 24  # calls per hostile connection, within every event's burst except the tight ones
CANARY_EVERY = 3  # batches; the canary is a person, held to the same message rate as everyone


async def ids(server: RunningServer, query: str, *args: Any) -> list[str]:
    return [row["id"] for row in await server.services.db.fetch(query, args)]


async def fuzz(
    server: RunningServer, canary: Canary, namespace: str, connect: Callable[[], Awaitable[Peer]],
    pool: Callable[[], Awaitable[dict[str, list[Any]]]], still_served: tuple[str, Callable[[dict], dict]],
) -> hostile.Tally:
    """Send the hostile calls for every routed event of `namespace` in batches over fresh connections,
    check each answer, that the socket is still served after its batch, and the canary now and then."""
    routes = server.server.app[SIO].namespace_handlers[namespace].routes
    examples = hostile.calls(routes, PER_EVENT)
    tally = hostile.Tally()
    for start in range(0, len(examples), BATCH):
        values = await pool()
        peer = await connect()
        for event, args in examples[start:start + BATCH]:
            sent = hostile.resolve(args, values)
            ack = await peer.sio.call(event, sent, namespace=namespace, timeout=5)
            try:
                tally.add(hostile.contract_code(ack))
            except AssertionError as exc:
                raise AssertionError(f"{namespace} {hostile.short(event)} {hostile.short(sent)}: {exc}") from None
        assert peer.sio.connected and namespace in peer.sio.namespaces, f"{namespace} dropped the hostile socket"
        event, payload = still_served
        ack = await peer.call(event, payload(values))
        assert ack["ok"], f"the hostile socket is no longer served: {ack}"
        await peer.close()
        if start // BATCH % CANARY_EVERY == 0:
            await canary.round_trip()
    return tally


async def after_the_storm(server: RunningServer, canary: Canary, caplog: pytest.LogCaptureFixture, tally: hostile.Tally) -> None:
    await canary.round_trip()
    assert tally.sent >= 7 * PER_EVENT
    assert tally.codes["rate_limited"] < tally.sent // 10, tally  # the fresh connections keep limits out of the way
    assert tally.codes["ok"] > 0 and tally.codes["invalid"] > 0, tally
    assert await hostile.memory_problems(server.services) == []
    assert hostile.storage_problems(Path(server.settings.db)) == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors[:5]]
    print(f"\n{tally}")


async def test_hostile_customer_payloads_get_contract_answers_and_the_floor_keeps_working(server, caplog):
    canary = await Canary.start(server.url)
    bob, victim, victim_chat = await peers.active_chat(server.url, body="victim's chat")
    complaint = await victim.call("complaint:submit", {"category": "other", "subject": "victim", "body": "private"})
    mallory = await peers.customer(server.url)
    mallory_id = mallory.received("session")[0]["customer_id"]
    token = mallory.received("session")[0]["token"]
    assert (await mallory.call("chat:start", {"body": "hello"}))["ok"]
    await mallory.close()
    reference = complaint["complaint"]["reference"]
    before = await victim.call("complaint:get", {"reference": reference})

    async def pool() -> dict[str, list[Any]]:
        return {
            "own": await ids(server, "SELECT id FROM conversations WHERE customer_id = ? ORDER BY created_at", mallory_id),
            "foreign": [victim_chat, canary.conversation_id],
            "closed": await ids(server, "SELECT id FROM conversations WHERE status = 'closed' ORDER BY created_at"),
            "queued": await ids(server, "SELECT id FROM conversations WHERE status = 'queued' ORDER BY created_at"),
            "own_reference": [r["reference"] for r in await server.services.db.fetch(
                "SELECT reference FROM complaints WHERE customer_id = ? ORDER BY created_at", (mallory_id,))],
            "foreign_reference": [reference],
            "agent": list(server.services.dispatcher.agents), "self": [mallory_id],
        }

    tally = await fuzz(
        server, canary, "/customer", lambda: peers.customer(server.url, token=token), pool,
        ("complaint:list", lambda _: {}),
    )
    # the victim's chat and complaint are as they were
    history = await victim.call("history", {"conversation_id": victim_chat})
    assert [m["body"] for m in history["messages"]] == ["victim's chat"]
    assert await victim.call("complaint:get", {"reference": reference}) == before
    await after_the_storm(server, canary, caplog, tally)
    for peer in (bob, victim):
        await peer.close()
    await canary.close()


async def test_hostile_agent_payloads_get_contract_answers_and_the_floor_keeps_working(server, caplog):
    canary = await Canary.start(server.url)
    cookie = await peers.login_cookie(server.url, "bob@example.test")
    bob = await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
    assert (await bob.call("presence:set", {"status": "online"}))["ok"]
    customers = []
    for n in range(4):  # two reach bob, the others wait in the queue (carol is full up to her second seat)
        customer = await peers.customer(server.url)
        assert (await customer.call("chat:start", {"body": f"customer {n}", "topic": "withdrawals"}))["ok"]
        customers.append(customer)
    bob_id = (await ids(server, "SELECT id FROM users WHERE email = 'bob@example.test'"))[0]

    async def pool() -> dict[str, list[Any]]:
        return {
            "own": await ids(server, "SELECT id FROM conversations WHERE agent_id = ? ORDER BY created_at", bob_id),
            "foreign": [canary.conversation_id],
            "queued": await ids(server, "SELECT id FROM conversations WHERE status = 'queued' ORDER BY created_at"),
            "closed": await ids(server, "SELECT id FROM conversations WHERE status = 'closed' ORDER BY created_at"),
            "agent": list(server.services.dispatcher.agents), "self": [bob_id],
            "own_reference": [], "foreign_reference": [],
        }

    async def connect() -> Peer:
        peer = await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
        await peer.wait_for("session")
        return peer

    tally = await fuzz(server, canary, "/agent", connect, pool, ("canned:search", lambda _: {}))
    await after_the_storm(server, canary, caplog, tally)
    await bob.close()
    await eventually(lambda: server.services.dispatcher.agents[bob_id].sockets == 0)
    for peer in customers:
        await peer.close()
    await canary.close()


async def test_hostile_monitor_payloads_get_contract_answers_and_the_floor_keeps_working(server, caplog):
    canary = await Canary.start(server.url)
    bob, first, _ = await peers.active_chat(server.url, body="first")
    waiting = []
    for n in range(3):
        customer = await peers.customer(server.url)
        assert (await customer.call("chat:start", {"body": f"waiting {n}"}))["ok"]
        waiting.append(customer)
    sam_console = await peers.agent(server.url, "sam@example.test", online=False)  # takeovers open here
    cookie = await peers.login_cookie(server.url, "sam@example.test")
    agents = server.services.dispatcher.agents
    carol_id = next(a.id for a in agents.values() if a.name == "Carol")
    sam_id = next(a.id for a in agents.values() if a.name == "Sam")
    for n in range(3):
        await first.call("complaint:submit", {"category": "withdrawals", "subject": f"late {n}", "body": "still waiting"})

    async def pool() -> dict[str, list[Any]]:
        # the canary's chat and agent stay out of reach: a supervisor may legitimately move them
        spare = "SELECT id FROM conversations WHERE id != ? AND status {} ORDER BY created_at"
        return {
            "own": await ids(server, spare.format("= 'active'"), canary.conversation_id),
            "queued": await ids(server, spare.format("= 'queued'"), canary.conversation_id),
            "closed": await ids(server, spare.format("= 'closed'"), canary.conversation_id),
            "foreign": await ids(server, spare.format("!= 'closed'"), canary.conversation_id),
            "agent": [a for a in agents if a not in (carol_id, sam_id)], "self": [sam_id],
            "own_reference": [r["reference"] for r in await server.services.db.fetch("SELECT reference FROM complaints")],
            "foreign_reference": ["C-2026-999999"],
        }

    async def connect() -> Peer:
        peer = await Peer(server.url, "/monitor").connect(headers={"Cookie": cookie})
        await peer.wait_for("monitor:snapshot")
        return peer

    explain = ("routing:explain", lambda values: {"conversation_id": (values["own"] + values["closed"])[0]})
    tally = await fuzz(server, canary, "/monitor", connect, pool, explain)
    await after_the_storm(server, canary, caplog, tally)
    for peer in (bob, first, sam_console, *waiting):
        await peer.close()
    await canary.close()


async def test_hostile_connect_auth_is_refused_with_a_contract_error_and_the_floor_keeps_working(server, caplog):
    canary = await Canary.start(server.url)
    cookie = await peers.login_cookie(server.url, "sam@example.test")
    alice = await peers.customer(server.url)
    sam_id = next(a.id for a in server.services.dispatcher.agents.values() if a.name == "Sam")
    tokens = {"token": [alice.received("session")[0]["token"], await server.services.auth.issue_api_token(sam_id, "fuzz")]}
    await alice.close()
    auth_values = hostile.weighted((hostile.payloads(CustomerAuth), 3), (hostile.hostile_values, 1))
    auths = hostile.draw(auth_values.map(hostile.within_frame), AUTH_EXAMPLES)
    tally = hostile.Tally()
    for n, auth in enumerate(auths):
        # the console namespaces are tried with and without a valid session: the auth must not matter to it
        namespace, headers = [("/customer", {}), ("/agent", {}), ("/monitor", {"Cookie": cookie})][n % 3]
        peer = Peer(server.url, namespace)
        try:
            await peer.connect(auth=hostile.resolve(auth, tokens), headers=headers)
        except socketio.exceptions.ConnectionError:
            # python-socketio hands over {"message", "data"}; a browser's err.data is the contract's object
            refusal = peer.refusal.get("data") if isinstance(peer.refusal, dict) else None
            try:
                tally.add(hostile.contract_code({"ok": False, "error": refusal}))
            except AssertionError as exc:
                raise AssertionError(f"{namespace} {hostile.short(auth)}: {peer.refusal!r}: {exc}") from None
        else:
            tally.add("ok")
            await peer.close()
        if n % 40 == 0:
            await canary.round_trip()
    assert tally.codes["unauthorized"] > 0 and tally.codes["ok"] > 0, tally
    await canary.round_trip()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors[:5]]
    print(f"\n{tally}")
    await canary.close()


async def test_client_events_named_like_lifecycle_events_are_unknown_events(server):
    bob = await peers.agent(server.url, "bob@example.test")
    bob_id = next(a.id for a in server.services.dispatcher.agents.values() if a.name == "Bob")
    other = await peers.customer(server.url)
    token = other.received("session")[0]["token"]
    alice = await peers.customer(server.url)
    sam = await peers.agent(server.url, "sam@example.test", namespace="/monitor")
    for peer in (bob, alice, sam):
        for event, args in [
            ("connect", ({"HTTP_COOKIE": "", "aiohttp.request": None}, {"token": token})),
            ("connect", ()),
            ("disconnect", ("client disconnect",)),
            ("disconnect", ()),
        ]:
            ack = await peer.sio.call(event, args, namespace=peer.namespace, timeout=5)
            assert ack["ok"] is False and ack["error"]["code"] == "invalid", (peer.namespace, event, ack)
    # each socket is still who it was, and still served
    assert (await alice.call("complaint:list", {}))["ok"]
    assert alice.received("session")[0]["customer_id"] != other.received("session")[0]["customer_id"]
    assert (await alice.call("chat:start", {"body": "still me"}))["conversation"]["status"] in ("queued", "active")
    assert (await bob.call("presence:set", {"status": "online"}))["ok"]
    assert server.services.dispatcher.agents[bob_id].sockets == 1
    assert (await sam.call("routing:explain", {"conversation_id": "c_nope"}))["error"]["code"] == "not_found"
    for peer in (bob, other, alice, sam):
        await peer.close()
