"""The router's own timers and follow-ups meet a real storage fault: another connection holds SQLite's
write lock on the same file. What they could not store happens once, by itself, when the lock goes.

Cast: agent bob (one seat); customers alice and dave.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from chatserver.config import Settings
from chatserver.domain.errors import Unavailable
from chatserver.services import events as ev
from chatserver.services.auth import ConsoleUser, identity_signature
from chatserver.services.container import Services, build_services, close_services
from tests.clock import FakeClock
from tests.faults import HeldWriteLock
from tests.conftest import eventually

BUSY = 0.3  # db_busy_timeout: each refused write waits this long
WRITERS = 10


class Lock(HeldWriteLock):
    def take(self) -> None:
        self.inject()

    def release(self) -> None:
        self.clear()


@pytest.fixture
def lock(tmp_path: Path) -> Iterator[Lock]:
    held = Lock(tmp_path / "faults.db")
    yield held
    held.release()


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(db=str(tmp_path / "faults.db"), queue_timeout=600, agent_grace=0.3, db_busy_timeout=BUSY)
    built = await build_services(settings, "secret", FakeClock(datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc)))
    yield built
    await close_services(built)


async def online_bob(services: Services) -> ConsoleUser:
    row = await services.auth.create_user(email="bob@example.test", name="Bob", role="agent", password="s3cret-pass", max_chats=1)
    await services.dispatcher.refresh_agent(row["id"])
    await services.dispatcher.agent_connected(row["id"])
    await services.dispatcher.set_presence(row["id"], "online")
    return ConsoleUser.from_row(row)


async def start_chat(services: Services, body: str) -> tuple[dict, dict]:
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    started = await services.chats.start(customer, topic=None, body=body, name=None, email=None)
    return customer, started["conversation"]


def named(published: list[ev.Event], name: str, conversation_id: str) -> list[ev.Event]:
    def about(event: ev.Event) -> str | None:
        conversation = event.data.get("conversation")
        if isinstance(conversation, dict):
            return conversation.get("id")
        return event.data.get("conversation_id")

    return [e for e in published if e.name == name and about(e) == conversation_id]


async def test_a_close_whose_follow_up_routing_meets_a_fault_succeeds_and_the_next_chat_is_routed_when_it_ends(
    services: Services, lock: Lock, published: list[ev.Event]
) -> None:
    bob = await online_bob(services)
    _, alice_chat = await start_chat(services, "my withdrawal is late")
    _, dave_chat = await start_chat(services, "is anyone there?")
    assert services.dispatcher.conversation(alice_chat["id"]).agent_id == bob.id  # type: ignore[union-attr]
    assert services.dispatcher.conversation(dave_chat["id"]).status == "queued"  # type: ignore[union-attr]

    # the lock is taken right after the close committed, when Bob's seat is announced as free
    async def take_lock_once(event: ev.Event) -> None:
        if lock.conn is None:
            lock.take()

    stop_watching = services.bus.subscribe(take_lock_once, [ev.AGENT_CHANGED])
    closed = await services.chats.close_by_agent(bob, alice_chat["id"], "resolved", None, None)
    stop_watching()
    assert lock.conn is not None, "the fault was never injected"

    # the close is done and told, although routing Dave to the free seat was refused
    assert closed["conversation"]["status"] == "closed", closed
    assert len(named(published, ev.CONVERSATION_CLOSED, alice_chat["id"])) == 1
    assert services.dispatcher.conversation(dave_chat["id"]).status == "queued"  # type: ignore[union-attr]
    assert named(published, ev.CONVERSATION_ASSIGNED, dave_chat["id"]) == []

    lock.release()
    await eventually(lambda: named(published, ev.CONVERSATION_ASSIGNED, dave_chat["id"]), timeout=5)
    assert services.dispatcher.conversation(dave_chat["id"]).agent_id == bob.id  # type: ignore[union-attr]
    rows = await services.db.fetch("SELECT status, agent_id FROM conversations WHERE id = ?", (dave_chat["id"],))
    assert rows == [{"status": "active", "agent_id": bob.id}]
    await asyncio.sleep(1.5)  # retries are over: nothing is assigned or announced twice
    assert len(named(published, ev.CONVERSATION_ASSIGNED, dave_chat["id"])) == 1


async def test_an_agent_who_does_not_return_during_a_fault_hands_the_chat_back_once_the_fault_ends(
    services: Services, lock: Lock, published: list[ev.Event]
) -> None:
    bob = await online_bob(services)
    _, alice_chat = await start_chat(services, "my withdrawal is late")
    assert services.dispatcher.conversation(alice_chat["id"]).agent_id == bob.id  # type: ignore[union-attr]

    lock.take()
    await services.dispatcher.agent_disconnected(bob.id)
    # the grace period (0.3 s) ends during the fault: handing the chat back is refused, and retried
    await asyncio.sleep(0.3 + BUSY + 0.3)
    assert services.dispatcher.conversation(alice_chat["id"]).status == "active"  # type: ignore[union-attr]
    with pytest.raises(Unavailable):
        await services.db.probe()
    lock.release()

    await eventually(lambda: named(published, ev.CONVERSATION_UNASSIGNED, alice_chat["id"]), timeout=5)
    await eventually(lambda: services.dispatcher.agents[bob.id].status == "offline", timeout=5)
    assert services.dispatcher.conversation(alice_chat["id"]).status == "queued"  # type: ignore[union-attr]
    await asyncio.sleep(1.5)
    assert len(named(published, ev.CONVERSATION_UNASSIGNED, alice_chat["id"])) == 1
    requeued = await services.db.fetch(
        "SELECT COUNT(*) AS n FROM audit_events WHERE subject = ? AND action = 'conversation.requeued'", (alice_chat["id"],)
    )
    assert requeued[0]["n"] == 1
    status = await services.db.fetch("SELECT status FROM users WHERE id = ?", (bob.id,))
    assert status == [{"status": "offline"}]


async def test_writes_queued_behind_a_stuck_write_are_refused_within_one_busy_timeout(services: Services, lock: Lock) -> None:
    customer, chat = await start_chat(services, "hello")
    lock.take()
    loop = asyncio.get_running_loop()
    began = loop.time()
    results = await asyncio.gather(
        *(services.chats.post_customer_message(customer, chat["id"], f"c{i}", f"m{i}") for i in range(WRITERS)),
        return_exceptions=True,
    )
    waited = loop.time() - began
    assert all(isinstance(r, Unavailable) for r in results), results
    # one after another they would wait WRITERS x BUSY in all; sharing one budget, about BUSY
    assert waited < WRITERS * BUSY / 2, waited
    lock.release()
    stored = await services.chats.post_customer_message(customer, chat["id"], "c0", "m0")
    assert stored["seq"] == 2


async def test_a_write_cancelled_while_it_waits_for_the_lock_leaves_no_transaction_open(
    services: Services, lock: Lock, tmp_path: Path
) -> None:
    """A request given up (its client gone, a shutdown) while BEGIN waits for another process's lock:
    the BEGIN still completes in the connection's thread once the lock goes, and a transaction left open
    there would swallow every later write without committing it."""
    customer, chat = await start_chat(services, "hello")
    lock.take()
    waiting = asyncio.ensure_future(services.chats.end_by_customer(customer, chat["id"], True))
    await asyncio.sleep(BUSY / 3)
    waiting.cancel()
    lock.release()  # the BEGIN gets the lock now, after its caller has gone
    with pytest.raises(asyncio.CancelledError):
        await waiting

    _, later = await start_chat(services, "a later chat")
    with sqlite3.connect(tmp_path / "faults.db") as other:  # what another connection sees is committed
        stored = other.execute("SELECT status FROM conversations WHERE id = ?", (later["id"],)).fetchall()
    assert stored == [("queued",)]
    assert (await services.db.health()).ok


async def test_a_long_write_of_our_own_does_not_turn_health_red(services: Services) -> None:
    """Health probes wait briefly for their turn; a turn taken by this server's own long write (a
    large prune, say) says nothing about the storage, and must not pause e-mail or alarm anyone."""
    await services.db.probe()
    await asyncio.sleep(1.1)  # what health knows is stale now: the next check probes

    async def long_write() -> None:
        async with services.db.transaction() as tx:
            await tx.execute("SELECT 1")
            await asyncio.sleep(BUSY * 3)  # longer than a probe waits for its turn

    holder = asyncio.ensure_future(long_write())
    await asyncio.sleep(0.05)
    assert (await services.db.health()).ok
    await holder
    assert (await services.db.health()).ok


class UnreadableTable:
    """The root page of one table reads as garbage from the file, as a failing disk sector would, until
    it is put back. Its row must be in the database file, not the WAL, for the damage to be seen."""

    def __init__(self, db: Path, table: str) -> None:
        self.db = db
        with sqlite3.connect(db) as conn:
            self.page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            root = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
        conn.close()
        self.offset = (root - 1) * self.page_size
        self.original = b""

    def inject(self) -> None:
        with open(self.db, "r+b") as file:
            file.seek(self.offset)
            self.original = file.read(self.page_size)
            file.seek(self.offset)
            file.write(b"\xff" * self.page_size)

    def clear(self) -> None:
        with open(self.db, "r+b") as file:
            file.seek(self.offset)
            file.write(self.original)


async def test_an_assignment_whose_announcement_is_refused_by_storage_is_announced_once_storage_reads_again(
    services: Services, published: list[ev.Event], tmp_path: Path
) -> None:
    """The seat is committed before both sides are told: a read refused after the commit must neither
    fail whoever caused the routing nor leave the agent unaware of a chat they now hold."""
    alice, alice_chat = await start_chat(services, "my withdrawal is late")
    await services.db.write_returning("PRAGMA wal_checkpoint(TRUNCATE)")  # the customers table is in the file now
    damage = UnreadableTable(tmp_path / "faults.db", "customers")
    damage.inject()
    try:
        bob = await online_bob(services)  # routing assigns Alice's chat to Bob and commits it
        assert services.dispatcher.conversation(alice_chat["id"]).agent_id == bob.id  # type: ignore[union-attr]
        rows = await services.db.fetch("SELECT status, agent_id FROM conversations WHERE id = ?", (alice_chat["id"],))
        assert rows == [{"status": "active", "agent_id": bob.id}]
        assert named(published, ev.CONVERSATION_ASSIGNED, alice_chat["id"]) == []
        assert not (await services.db.health()).ok
    finally:
        damage.clear()
    # the next write (here the health probe) tells every connection to forget the pages it cached
    await services.db.probe()

    await eventually(lambda: named(published, ev.CONVERSATION_ASSIGNED, alice_chat["id"]), timeout=5)
    assigned = named(published, ev.CONVERSATION_ASSIGNED, alice_chat["id"])
    assert assigned[0].data["agent"]["id"] == bob.id
    assert assigned[0].data["customer"]["id"] == alice["id"]
    assert [m["body"] for m in assigned[0].data["messages"]] == ["my withdrawal is late"]
    await asyncio.sleep(1.5)  # retries are over: announced exactly once
    assert len(named(published, ev.CONVERSATION_ASSIGNED, alice_chat["id"])) == 1


async def test_a_returning_customer_connects_during_a_fault_though_their_update_cannot_be_stored(tmp_path: Path, lock: Lock) -> None:
    # a reload during a fault must not lock a known customer out of their chat: a signed identity
    # stores a fresh token and the profile at every connect, a token connect stores a new language
    clock = FakeClock(datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc))
    settings = Settings(db=str(tmp_path / "faults.db"), db_busy_timeout=BUSY, identity_secret="id-secret")
    services = await build_services(settings, "secret", clock)
    try:
        expires = int(clock().timestamp()) + 600
        identity = {"external_id": "player-42", "name": "Alice", "email": "alice@example.test", "expires": expires,
                    "signature": identity_signature("id-secret", "player-42", expires)}
        signed, _ = await services.auth.resolve_customer(token=None, locale="en", identity=identity)
        plain, token = await services.auth.resolve_customer(token=None, locale="en", identity=None)
        lock.take()
        again, fresh_token = await services.auth.resolve_customer(token=None, locale="pl", identity=identity)
        assert again["id"] == signed["id"] and fresh_token is None  # no token it could not store
        same, _ = await services.auth.resolve_customer(token=token, locale="ru", identity=None)
        assert same["id"] == plain["id"] and same["locale"] == "ru"  # for this connection
        with pytest.raises(Unavailable):  # someone new cannot be stored, so is not let in
            await services.auth.resolve_customer(token=None, locale=None, identity=None)
        lock.release()
        again, fresh_token = await services.auth.resolve_customer(token=None, locale="pl", identity=identity)
        assert again["id"] == signed["id"] and again["locale"] == "pl" and fresh_token
        same, _ = await services.auth.resolve_customer(token=token, locale="ru", identity=None)
        assert (await services.auth.customer(plain["id"]))["locale"] == "ru"
    finally:
        lock.release()
        await close_services(services)


async def online_agent(services: Services, email: str, name: str, max_chats: int) -> ConsoleUser:
    row = await services.auth.create_user(email=email, name=name, role="agent", password="s3cret-pass", max_chats=max_chats)
    await services.dispatcher.refresh_agent(row["id"])
    await services.dispatcher.agent_connected(row["id"])
    await services.dispatcher.set_presence(row["id"], "online")
    return ConsoleUser.from_row(row)


async def chats_of(services: Services, ids: list[str]) -> list[dict]:
    rows = await services.db.fetch("SELECT id, status, agent_id FROM conversations ORDER BY id")
    return [{"status": r["status"], "agent_id": r["agent_id"]} for r in rows if r["id"] in ids]


async def test_signing_off_and_handing_back_the_chats_is_one_change_that_a_fault_leaves_whole_or_undone(
    services: Services, lock: Lock, published: list[ev.Event]
) -> None:
    bob = await online_agent(services, "bob@example.test", "Bob", max_chats=2)
    chats = [(await start_chat(services, words))[1]["id"] for words in ("my withdrawal is late", "is anyone there?")]
    with_bob = [{"status": "active", "agent_id": bob.id}] * 2
    assert await chats_of(services, chats) == with_bob

    # refused from the start: nothing changes, in the database or in routing
    lock.take()
    with pytest.raises(Unavailable):
        await services.dispatcher.set_presence(bob.id, "offline")
    lock.release()
    assert await services.db.fetch("SELECT status FROM users WHERE id = ?", (bob.id,)) == [{"status": "online"}]
    assert await chats_of(services, chats) == with_bob
    assert services.dispatcher.agents[bob.id].status == "online"
    assert services.dispatcher.agents[bob.id].chats == set(chats)

    # the storage fails as soon as the first chat is heard to leave Bob: the sign-off is done by then,
    # whole, and its caller is told so
    async def take_lock_once(event: ev.Event) -> None:
        if lock.conn is None:
            lock.take()

    stop_watching = services.bus.subscribe(take_lock_once, [ev.CONVERSATION_UNASSIGNED])
    try:
        agent = await services.dispatcher.set_presence(bob.id, "offline")
    finally:
        stop_watching()
        lock.release()
    assert agent["status"] == "offline"
    assert await services.db.fetch("SELECT status FROM users WHERE id = ?", (bob.id,)) == [{"status": "offline"}]
    assert await chats_of(services, chats) == [{"status": "queued", "agent_id": None}] * 2
    assert services.dispatcher.agents[bob.id].chats == set()
    assert [services.dispatcher.conversation(c).status for c in chats] == ["queued", "queued"]  # type: ignore[union-attr]
    assert sorted(e.data["conversation_id"] for e in published if e.name == ev.CONVERSATION_UNASSIGNED) == sorted(chats)


async def test_deactivating_an_agent_and_handing_back_their_chats_is_one_change_that_a_fault_leaves_whole_or_undone(
    services: Services, lock: Lock, published: list[ev.Event], tmp_path: Path
) -> None:
    """Nothing hands back later the chats of someone deactivated: not routing, which forgets them, nor
    a restart, which knows only active agents. Both commit together, or neither."""
    ada = ConsoleUser.from_row(await services.auth.create_user(email="ada@example.test", name="Ada", role="admin", password="s3cret-pass"))
    bob = await online_agent(services, "bob@example.test", "Bob", max_chats=1)
    _, chat = await start_chat(services, "my withdrawal is late")
    assert await chats_of(services, [chat["id"]]) == [{"status": "active", "agent_id": bob.id}]

    # refused from the start: Bob stays active, with his chat, in the database and in routing
    lock.take()
    with pytest.raises(Unavailable):
        await services.admin.users.deactivate(ada, bob.id)
    lock.release()
    assert await services.db.fetch("SELECT active FROM users WHERE id = ?", (bob.id,)) == [{"active": 1}]
    assert await chats_of(services, [chat["id"]]) == [{"status": "active", "agent_id": bob.id}]
    assert services.dispatcher.agents[bob.id].chats == {chat["id"]}

    # the storage fails as soon as Bob's sessions are told to end: the deactivation is done by then, whole
    async def take_lock_once(event: ev.Event) -> None:
        if lock.conn is None:
            lock.take()

    stop_watching = services.bus.subscribe(take_lock_once, [ev.USER_SESSIONS_ENDED])
    try:
        await services.admin.users.deactivate(ada, bob.id)
    finally:
        stop_watching()
        lock.release()
    assert await services.db.fetch("SELECT active FROM users WHERE id = ?", (bob.id,)) == [{"active": 0}]
    assert await chats_of(services, [chat["id"]]) == [{"status": "queued", "agent_id": None}]
    assert bob.id not in services.dispatcher.agents
    assert services.dispatcher.conversation(chat["id"]).status == "queued"  # type: ignore[union-attr]
    assert [e.data["conversation_id"] for e in published if e.name == ev.CONVERSATION_UNASSIGNED] == [chat["id"]]
