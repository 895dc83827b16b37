"""Property-based fuzzing of every Socket.IO event on /customer, /agent and /monitor.

Each namespace gets PER_EVENT hostile calls per event, drawn by Hypothesis from the events the running server
routes (so a new event is fuzzed without touching this file), plus unknown event names and extra
arguments. Properties: every answer is a contract ack and never `internal`; the hostile socket stays
connected and is still served; a canary chat between another customer and agent keeps working during
and after; the log has no error; the database and the router's memory are consistent afterwards.

Event rate limits belong to the principal and survive reconnects, so the calls are spread over many
principals, each held to what a person may do, and go out in batches over fresh connections: on
/customer every batch is a new customer, who first starts a chat and files a complaint of their own;
on /agent and /monitor agents and supervisors take turns, a turn lasting as long as the user's full
buckets hold out without counting on refills, and a user's next turn waiting until its buckets have
refilled. Rate limits thus answer only the floods inside one batch, on every machine; the per-address
limits on connects and chat starts, which all these principals share on 127.0.0.1, are raised here
(they are proven in test_reconnect_limits.py and test_rate_limits.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
import socketio

from chatserver.app import SIO
from chatserver.transport.ratelimit import SOCKET_LIMITS, Rate
from chatserver.transport.schemas import CustomerAuth
from tests import hostile, peers
from tests.conftest import RunningServer, StartServer, eventually, seed_cast
from tests.peers import Canary, Peer

PER_EVENT = 80  # payloads per event, and as many unknown events and wrong argument counts
AUTH_EXAMPLES = 240
BATCH = 24  # calls per hostile connection, within every event's burst except the tight ones
CANARY_EVERY = 3  # batches; the canary is a person, held to the same message rate as everyone
# users taking turns on /agent and /monitor: as many as the batches need turns, so that nobody waits
# for a refill; with fewer the test still holds, only slower
AGENTS = 9
SUPERVISORS = 5
# every principal here connects from one address; the per-address limits are not what is fuzzed
ONE_ADDRESS = dict(socket_connects_per_minute=10_000, chat_starts_per_minute=10_000,
                   customer_events_per_address_per_minute=1_000_000, complaints_per_address_per_hour=10_000,
                   waiting_chats_per_address=10_000)

Pool = dict[str, list[Any]]
# given what a batch will take from its principal's buckets: a fresh connection of the principal
# whose turn it is, and the ids it resolves the batch's placeholders with
Turn = Callable[[Counter[str]], Awaitable[tuple[Peer, Pool]]]


@pytest.fixture
async def server(start_server: StartServer) -> RunningServer:
    running = await start_server(**ONE_ADDRESS)
    await seed_cast(running.services)
    return running


# Pools list rows in the order they were written: rows created within the same millisecond would
# otherwise come in the order of their random ids, and one run pick other ids than the next.
async def chats(server: RunningServer, where: str, *args: Any) -> list[str]:
    query = f"SELECT id FROM conversations WHERE {where} ORDER BY created_at, rowid"
    return [row["id"] for row in await server.services.db.fetch(query, args)]


async def references(server: RunningServer, where: str, *args: Any) -> list[str]:
    query = f"SELECT reference FROM complaints WHERE {where} ORDER BY created_at, rowid"
    return [row["reference"] for row in await server.services.db.fetch(query, args)]


def event_rate(server: RunningServer, namespace: str, event: str) -> Rate:
    """The rate the server holds one principal to for `event` (as ConnectionLimits picks it)."""
    overrides = server.server.app[SIO].namespace_handlers[namespace].limits.overrides
    return overrides.get(event) or SOCKET_LIMITS.get(event) or SOCKET_LIMITS["default"]


@dataclass
class Staff:
    """A console user taking turns at the hostile batches."""

    id: str
    token: str  # an API token: a console credential that costs no password check per user
    spent: Counter[str] = field(default_factory=Counter)  # taken from its buckets since they were last full
    since: float = 0.0  # when it last took any, or a little later (time.monotonic, as the server counts)

    def took(self, *events: str) -> None:
        """Count calls made outside the batches, as they are made."""
        self.spent.update(events)
        self.since = time.monotonic()

    async def console(self, server: RunningServer, namespace: str) -> Peer:
        peer = await Peer(server.url, namespace).connect(auth={"token": self.token})
        await peer.wait_for("session" if namespace == "/agent" else "monitor:snapshot")
        return peer


async def hire(server: RunningServer, role: str, count: int) -> list[Staff]:
    """`count` new console users with `role`, created as the cast is, with an API token each."""
    cast = [(f"{role}{n}@example.test", f"{role.title()} {n}", role, 2) for n in range(count)]
    created = await seed_cast(server.services, cast)
    return [Staff(id, await server.services.auth.issue_api_token(id, "fuzz")) for id in created.values()]


class Rotation:
    """Staff taking turns. A turn lasts while the user's buckets, full at its start, cover the next batch
    without any refill; the next user's turn starts once its buckets have refilled from its last one.
    Which user sends which batch depends only on the batches, so the answers are the same on any machine."""

    def __init__(self, staff: list[Staff], rate: Callable[[str], Rate]) -> None:
        self.staff = staff
        self.rate = rate
        self.at = 0
        self.turns = 1

    def covers(self, user: Staff, spend: Counter[str]) -> bool:
        return all(user.spent[event] + n <= self.rate(event).burst for event, n in spend.items())

    async def next(self, spend: Counter[str]) -> Staff:
        user = self.staff[self.at]
        if not self.covers(user, spend):
            user.since = time.monotonic()  # its turn is over: refilling counts from here
            self.at = (self.at + 1) % len(self.staff)
            self.turns += 1
            user = self.staff[self.at]
            refilled = user.since + max((n / self.rate(event).per_second for event, n in user.spent.items()), default=0)
            await asyncio.sleep(max(0.0, refilled - time.monotonic()))
            user.spent.clear()
            assert self.covers(user, spend), f"one batch takes more than full buckets hold: {spend}"
        user.spent.update(spend)
        return user


async def fuzz(
    server: RunningServer, canary: Canary, namespace: str, turn: Turn,
    still_served: tuple[str, Callable[[Pool], dict]],
) -> hostile.Tally:
    """Send the hostile calls for every routed event of `namespace` in batches, each over a fresh
    connection of the principal `turn` gives it; check each answer, that the socket is still served
    after its batch, and the canary now and then."""
    routes = server.server.app[SIO].namespace_handlers[namespace].routes
    examples = hostile.calls(routes, PER_EVENT)
    tally = hostile.Tally()
    event, payload = still_served
    for start in range(0, len(examples), BATCH):
        batch = examples[start:start + BATCH]
        # a routed event takes a token whatever its arguments; an unknown one is refused before
        spend = Counter(name for name, _ in batch if name in routes) + Counter({event: 1})
        peer, values = await turn(spend)
        for name, args in batch:
            sent = hostile.resolve(args, values)
            ack = await peer.sio.call(name, sent, namespace=namespace, timeout=5)
            try:
                tally.add(hostile.contract_code(ack))
            except AssertionError as exc:
                raise AssertionError(f"{namespace} {hostile.short(name)} {hostile.short(sent)}: {exc}") from None
        assert peer.sio.connected and namespace in peer.sio.namespaces, f"{namespace} dropped the hostile socket"
        ack = await peer.call(event, payload(values))
        assert ack["ok"], f"the hostile socket is no longer served: {ack}"
        await peer.close()
        if start // BATCH % CANARY_EVERY == 0:
            await canary.round_trip()
    return tally


async def after_the_storm(
    server: RunningServer, canary: Canary, caplog: pytest.LogCaptureFixture, tally: hostile.Tally, senders: str,
) -> None:
    await canary.round_trip()
    assert tally.sent >= 7 * PER_EVENT
    assert tally.codes["rate_limited"] < tally.sent // 10, tally  # spread over principals, limits answer only floods
    assert tally.codes["ok"] > 0 and tally.codes["invalid"] > 0, tally
    assert await hostile.memory_problems(server.services) == []
    assert hostile.storage_problems(Path(server.settings.db)) == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors[:5]]
    print(f"\n{tally} (from {senders})")


async def test_hostile_customer_payloads_get_contract_answers_and_the_floor_keeps_working(server, caplog):
    canary = await Canary.start(server.url)
    bob, victim, victim_chat = await peers.active_chat(server.url, body="victim's chat")
    complaint = await victim.call("complaint:submit", {"category": "other", "subject": "victim", "body": "private"})
    reference = complaint["complaint"]["reference"]
    before = await victim.call("complaint:get", {"reference": reference})
    customers = 0

    async def fresh_customer(spend: Counter[str]) -> tuple[Peer, Pool]:
        """A new customer with a chat and a complaint of their own: a new principal, so full buckets."""
        nonlocal customers
        customers += 1
        peer = await peers.customer(server.url)
        customer_id = peer.received("session")[0]["customer_id"]
        assert (await peer.call("chat:start", {"body": "hello"}))["ok"]
        assert (await peer.call("complaint:submit", {"category": "other", "subject": "mine", "body": "my own"}))["ok"]
        return peer, {
            "own": await chats(server, "customer_id = ?", customer_id),
            "foreign": [victim_chat, canary.conversation_id],
            "closed": await chats(server, "status = 'closed'"),
            "queued": await chats(server, "status = 'queued'"),
            "own_reference": await references(server, "customer_id = ?", customer_id),
            "foreign_reference": [reference],
            "agent": list(server.services.dispatcher.agents), "self": [customer_id],
        }

    tally = await fuzz(server, canary, "/customer", fresh_customer, ("complaint:list", lambda _: {}))
    # the victim's chat and complaint are as they were
    history = await victim.call("history", {"conversation_id": victim_chat})
    assert [m["body"] for m in history["messages"]] == ["victim's chat"]
    assert await victim.call("complaint:get", {"reference": reference}) == before
    await after_the_storm(server, canary, caplog, tally, f"{customers} customers")
    for peer in (bob, victim):
        await peer.close()
    await canary.close()


async def test_hostile_agent_payloads_get_contract_answers_and_the_floor_keeps_working(server, caplog):
    canary = await Canary.start(server.url)
    dispatcher = server.services.dispatcher
    customers: list[Peer] = []

    async def customer_waits() -> None:
        customer = await peers.customer(server.url)
        assert (await customer.call("chat:start", {"body": f"customer {len(customers)}", "topic": "withdrawals"}))["ok"]
        customers.append(customer)

    # the agents come online one by one and each gets the next two chats, the same ones on every run
    # (the router breaks ties between agents by their random ids); carol's free seat is taken first
    await customer_waits()
    agents = await hire(server, "agent", AGENTS)
    consoles = []
    for agent in agents:  # each one's own console, online, where its chats arrive
        console = await agent.console(server, "/agent")
        assert (await console.call("presence:set", {"status": "online"}))["ok"]
        agent.took("presence:set")
        consoles.append(console)
        for _ in range(2):
            await customer_waits()
        await eventually(lambda: len(dispatcher.agents[agent.id].chats) == 2)
    for _ in range(2):
        await customer_waits()  # nobody has a free seat: these wait in the queue
    rotation = Rotation(agents, lambda event: event_rate(server, "/agent", event))

    async def next_agent(spend: Counter[str]) -> tuple[Peer, Pool]:
        agent = await rotation.next(spend)
        return await agent.console(server, "/agent"), {
            "own": await chats(server, "agent_id = ?", agent.id),
            "foreign": [canary.conversation_id],
            "queued": await chats(server, "status = 'queued'"),
            "closed": await chats(server, "status = 'closed'"),
            "agent": list(server.services.dispatcher.agents), "self": [agent.id],
            "own_reference": [], "foreign_reference": [],
        }

    tally = await fuzz(server, canary, "/agent", next_agent, ("canned:search", lambda _: {}))
    await after_the_storm(server, canary, caplog, tally, f"{AGENTS} agents in {rotation.turns} turns")
    for console in consoles:
        await console.close()
    await eventually(lambda: all(dispatcher.agents[agent.id].sockets == 0 for agent in agents))
    for peer in customers:
        await peer.close()
    await canary.close()


async def test_hostile_monitor_payloads_get_contract_answers_and_the_floor_keeps_working(server, caplog):
    canary = await Canary.start(server.url)
    bob, first, _ = await peers.active_chat(server.url, body="first")
    waiting = []
    # bob and carol full, two in the queue: chats handed back together (a supervisor going offline) find
    # no single free seat to race for, which one won would turn on their random ids
    for n in range(4):
        customer = await peers.customer(server.url)
        assert (await customer.call("chat:start", {"body": f"waiting {n}"}))["ok"]
        waiting.append(customer)
    supervisors = await hire(server, "supervisor", SUPERVISORS)
    consoles = [await supervisor.console(server, "/agent") for supervisor in supervisors]  # takeovers open here
    agents = server.services.dispatcher.agents
    carol_id = next(a.id for a in agents.values() if a.name == "Carol")
    sam_id = next(a.id for a in agents.values() if a.name == "Sam")
    off_limits = {carol_id, sam_id, *(supervisor.id for supervisor in supervisors)}  # chats are handed to bob only
    for n in range(3):
        await first.call("complaint:submit", {"category": "withdrawals", "subject": f"late {n}", "body": "still waiting"})
    rotation = Rotation(supervisors, lambda event: event_rate(server, "/monitor", event))

    async def next_supervisor(spend: Counter[str]) -> tuple[Peer, Pool]:
        supervisor = await rotation.next(spend)
        # the canary's chat and agent stay out of reach: a supervisor may legitimately move them
        spare = "id != ? AND status {}"
        return await supervisor.console(server, "/monitor"), {
            "own": await chats(server, spare.format("= 'active'"), canary.conversation_id),
            "queued": await chats(server, spare.format("= 'queued'"), canary.conversation_id),
            "closed": await chats(server, spare.format("= 'closed'"), canary.conversation_id),
            "foreign": await chats(server, spare.format("!= 'closed'"), canary.conversation_id),
            "agent": [a for a in agents if a not in off_limits], "self": [supervisor.id],
            "own_reference": await references(server, "1"),
            "foreign_reference": ["C-2026-999999"],
        }

    explain = ("routing:explain", lambda values: {"conversation_id": (values["own"] + values["closed"])[0]})
    tally = await fuzz(server, canary, "/monitor", next_supervisor, explain)
    await after_the_storm(server, canary, caplog, tally, f"{SUPERVISORS} supervisors in {rotation.turns} turns")
    for peer in (bob, first, *consoles, *waiting):
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
