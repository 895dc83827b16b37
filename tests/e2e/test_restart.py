"""The real server process is killed or restarted; nothing acknowledged is lost, live state comes back.

Each test runs `python -m chatserver serve` as a subprocess on a free port with a real SQLite
file, drives it with real python-socketio clients, and SIGKILLs it (no shutdown code runs, like a
crash) or stops it, then starts it again on the same database and port.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from tests import peers
from tests.peers import CAST_PASSWORD, Peer, client_id
from tests.faults import read_db
from tests.procs import ServerProcess, ServerProcesses, create_users

pytestmark = pytest.mark.slow

SECRET = "restart-test-secret-kkkkkkkkkkkkkkkkkkkk"
BURST = 6  # messages fired at once right before a kill, so that some are in flight when it lands


def env(**settings: Any) -> dict[str, str]:
    values = {"CHATSERVER_SECRET_KEY": SECRET, "CHATSERVER_LOG_LEVEL": "info"}
    values.update({f"CHATSERVER_{k.upper()}": str(v) for k, v in settings.items()})
    return values


async def customer_with(url: str, token: str, closing: list[Peer]) -> tuple[Peer, dict]:
    peer = await peers.customer(url, token=token)
    closing.append(peer)
    return peer, peer.received("session")[0]


async def console_with(url: str, cookie: str, closing: list[Peer]) -> tuple[Peer, dict]:
    """The console reconnecting with the session cookie it already has (sessions live in the database)."""
    peer = await Peer(url, "/agent").connect(headers={"Cookie": cookie})
    closing.append(peer)
    return peer, await peer.wait_for("session")


async def wait_disconnected(peer: Peer, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while peer.sio.connected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


# -- a. SIGKILL while a customer sends ---------------------------------------------------------


class Sender:
    """A customer that sends continuously; each message has its own client_id, every ack is kept."""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self.bodies: dict[str, str] = {}        # client_id -> body, in the order first tried
        self.acked: dict[str, dict] = {}        # client_id -> the message from the ack
        self.refusals: list[dict] = []          # error acks (rate_limited ...): not acknowledged
        self.counter = 0
        self.pending: set[asyncio.Task] = set()  # sends still waiting for their ack

    def new_message(self) -> str:
        self.counter += 1
        cid = client_id()
        self.bodies[cid] = f"message {self.counter} ({cid[:8]})"
        return cid

    def unacked(self) -> list[str]:
        return [cid for cid in self.bodies if cid not in self.acked]

    async def send(self, peer: Peer, cid: str, timeout: float = 3) -> dict | None:
        payload = {"conversation_id": self.conversation_id, "client_id": cid, "body": self.bodies[cid]}
        try:
            ack = await peer.call("message:send", payload, timeout=timeout)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.SocketIOError):
            return None  # the server went away before answering: not acknowledged
        if ack.get("ok"):
            message = ack["message"]
            assert message["client_id"] == cid and message["body"] == self.bodies[cid], ack
            earlier = self.acked.get(cid)
            if earlier is not None:
                # a resend of an acknowledged message gets the original, never a second copy
                assert (message["id"], message["seq"]) == (earlier["id"], earlier["seq"]), (earlier, message)
            self.acked[cid] = message
        else:
            self.refusals.append(ack)
        return ack

    def send_soon(self, peer: Peer, cid: str) -> None:
        """Send without waiting for the ack (the ack is recorded when it comes)."""
        task = asyncio.ensure_future(self.send(peer, cid))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def stream(self, peer: Peer, stop: asyncio.Event, interval: float = 0.08) -> None:
        """Send a new message every `interval` without waiting for acks, until `stop` is set."""
        deadline = time.monotonic() + 20
        while not stop.is_set() and time.monotonic() < deadline:
            self.send_soon(peer, self.new_message())
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except asyncio.TimeoutError:
                pass

    async def abandon_pending(self) -> None:
        """The connection is gone: no ack can come for what is still pending (python-socketio
        does not fail pending calls on a disconnect, they would only time out)."""
        for task in list(self.pending):
            task.cancel()
        await asyncio.gather(*self.pending, return_exceptions=True)

    async def resend_unacked(self, peer: Peer, timeout: float = 15) -> None:
        """Resend every unacknowledged message with its own client_id until all are acknowledged."""
        deadline = time.monotonic() + timeout
        while self.unacked():
            assert time.monotonic() < deadline, f"still unacknowledged: {self.unacked()}; refusals {self.refusals[-3:]}"
            for cid in self.unacked():
                ack = await self.send(peer, cid)
                if ack is not None and not ack.get("ok"):
                    assert ack["error"]["code"] == "rate_limited", ack
                    await asyncio.sleep(0.25)


async def stream_then_kill(
    server: ServerProcess, peer: Peer, sender: Sender, acks_before_kill: int, kill_after: float
) -> None:
    """Stream messages; once `acks_before_kill` new acks arrived, fire a burst and SIGKILL the
    server `kill_after` seconds later, while those writes are in flight."""
    stop = asyncio.Event()
    already = len(sender.acked)
    streaming = asyncio.ensure_future(sender.stream(peer, stop))
    try:
        deadline = time.monotonic() + 10
        while len(sender.acked) < already + acks_before_kill:
            assert time.monotonic() < deadline, f"only {len(sender.acked) - already} acks; refusals {sender.refusals[-3:]}"
            assert not streaming.done(), streaming
            await asyncio.sleep(0.01)
        for _ in range(BURST):
            sender.send_soon(peer, sender.new_message())
        await asyncio.sleep(kill_after)
        server.kill()
        await asyncio.sleep(0.3)  # the customer keeps trying while the server is gone
    finally:
        stop.set()
        await asyncio.wait_for(streaming, 5)
        await wait_disconnected(peer)
        await sender.abandon_pending()


async def test_sigkill_while_sending_loses_no_acknowledged_message(procs: ServerProcesses, closing: list[Peer]) -> None:
    server = procs.server(env=env(agent_grace=30, queue_timeout=120))
    await create_users(server.db, [("bob@example.test", "Bob", "agent", 3)], CAST_PASSWORD)
    await server.start()

    cookie = await peers.login_cookie(server.url, "bob@example.test")
    bob, _ = await console_with(server.url, cookie, closing)
    assert (await bob.call("presence:set", {"status": "online"}))["ok"]
    alice = await peers.customer(server.url)
    closing.append(alice)
    token = alice.received("session")[0]["token"]
    started = await alice.call("chat:start", {"body": "hello, my withdrawal is late", "name": "Alice"})
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]
    await alice.wait_for("chat:assigned")
    await bob.wait_for("chat:assigned")

    sender = Sender(conversation_id)
    for round_no, kill_after in enumerate([0.0, 0.004, 0.012], start=1):
        await stream_then_kill(server, alice, sender, acks_before_kill=6, kill_after=kill_after)
        assert sender.acked, "nothing was acknowledged before the kill"

        await server.start()
        alice, session = await customer_with(server.url, token, closing)
        conversation = session["conversation"]
        assert conversation is not None, f"round {round_no}: the open conversation is missing from session: {session}"
        assert conversation["id"] == conversation_id and conversation["status"] == "active", session
        assert session["last_seq"] >= max(m["seq"] for m in sender.acked.values()), (session, sorted(m["seq"] for m in sender.acked.values()))

        # the agent comes back within the grace period and still holds the chat
        bob, bob_session = await console_with(server.url, cookie, closing)
        assert [c["id"] for c in bob_session["conversations"]] == [conversation_id], bob_session

        # a resend of an already acknowledged message returns the original (checked in Sender.send)
        first_acked = next(iter(sender.acked))
        assert (await sender.send(alice, first_acked))["ok"]
        # before any resend: everything acknowledged survived the kill (some unacknowledged
        # messages may be stored too, when the kill swallowed only their ack)
        before = await alice.call("history", {"conversation_id": conversation_id, "after_seq": 0})
        stored_ids = {m["client_id"] for m in before["messages"]}
        assert set(sender.acked) <= stored_ids, f"round {round_no}: an acknowledged message is gone after the kill"
        await sender.resend_unacked(alice)

    history = await alice.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert history["ok"], history
    messages = history["messages"]
    seqs = [m["seq"] for m in messages]
    assert seqs == list(range(1, len(messages) + 1)), f"seq has gaps or repeats: {seqs}"

    by_client = Counter(m["client_id"] for m in messages if m["client_id"])
    stored = {m["client_id"]: m for m in messages if m["client_id"]}
    for cid, acked in sender.acked.items():
        assert by_client[cid] == 1, f"acknowledged {cid} stored {by_client[cid]} times"
        assert (stored[cid]["id"], stored[cid]["seq"], stored[cid]["body"]) == (acked["id"], acked["seq"], acked["body"])
    assert set(sender.bodies) <= set(stored), "a resent message is missing"

    bodies = Counter(m["body"] for m in messages)
    assert [b for b, n in bodies.items() if n > 1] == [], "a body appears twice"
    assert len(sender.acked) == len(sender.bodies) == sender.counter
    assert messages[0]["body"] == "hello, my withdrawal is late"

    # the agent's view after the last restart is the same history
    agent_history = await bob.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert [m["id"] for m in agent_history["messages"]] == [m["id"] for m in messages]


# -- b. queue and assignments survive a restart ------------------------------------------------


GRACE = 3  # CHATSERVER_AGENT_GRACE for test b: short, so the test can also check what happens after it


@pytest.mark.parametrize("restart", ["kill", "graceful"])
async def test_restart_rebuilds_queue_and_assignments(restart: str, procs: ServerProcesses, closing: list[Peer]) -> None:
    """`kill`: SIGKILL, like a crash. `graceful`: SIGTERM, as a service manager stops a server."""
    server = procs.server(env=env(agent_grace=GRACE, queue_timeout=120))
    await create_users(server.db, [("bob@example.test", "Bob", "agent", 2)], CAST_PASSWORD)
    await server.start()

    # Bob takes one chat, then goes away: he keeps it, and no agent is online for anyone else
    cookie = await peers.login_cookie(server.url, "bob@example.test")
    bob, _ = await console_with(server.url, cookie, closing)
    assert (await bob.call("presence:set", {"status": "online"}))["ok"]
    dave = await peers.customer(server.url)
    closing.append(dave)
    dave_token = dave.received("session")[0]["token"]
    active = await dave.call("chat:start", {"body": "I need help", "name": "Dave"})
    assert active["ok"], active
    active_id = active["conversation"]["id"]
    await bob.wait_for("chat:assigned")
    away = await bob.call("presence:set", {"status": "away"})
    assert away["ok"], away

    queued: list[tuple[str, str]] = []  # (token, conversation id) in queue order
    for position, name in enumerate(["Alice", "Eve"], start=1):
        peer = await peers.customer(server.url)
        closing.append(peer)
        started = await peer.call("chat:start", {"body": f"{name} waits", "name": name})
        assert started["ok"], started
        assert started["conversation"]["status"] == "queued", started
        assert started["queue"]["position"] == position, started
        queued.append((peer.received("session")[0]["token"], started["conversation"]["id"]))

    if restart == "graceful":
        code = await server.stop(signal.SIGTERM)  # everyone is still connected, as in production
        assert code == 0, f"graceful stop exited with {code}\n{server.output()}"
    else:
        server.kill()
    await server.start()
    started_at = time.monotonic()

    # the agent comes back within the grace period and keeps his chat
    bob, bob_session = await console_with(server.url, cookie, closing)
    assert time.monotonic() - started_at < GRACE, "the agent did not reconnect within the grace period"
    assert [c["id"] for c in bob_session["conversations"]] == [active_id], bob_session
    assert bob_session["conversations"][0]["status"] == "active", bob_session
    assert bob_session["agent"]["active"] == 1, bob_session
    assert bob_session["agent"]["status"] == "away", bob_session

    for position, (token, conversation_id) in enumerate(queued, start=1):
        _, session = await customer_with(server.url, token, closing)
        conversation = session["conversation"]
        assert conversation is not None and conversation["id"] == conversation_id, session
        assert conversation["status"] == "queued", session
        assert session.get("queue") is not None, f"no queue info after restart: {session}"
        assert session["queue"]["position"] == position, session

    _, dave_session = await customer_with(server.url, dave_token, closing)
    assert dave_session["conversation"] is not None, dave_session
    assert dave_session["conversation"]["id"] == active_id, dave_session
    assert dave_session["conversation"]["status"] == "active", dave_session
    assert dave_session["conversation"]["agent"]["name"] == "Bob", dave_session

    # once the grace period is over, the reconnected agent still holds his chat
    await asyncio.sleep(max(0.0, GRACE + 0.5 - (time.monotonic() - started_at)))
    reply = await bob.call("message:send", {"conversation_id": active_id, "client_id": client_id(), "body": "still here"})
    assert reply["ok"], reply
    assert bob.received("chat:unassigned") == []
    history = await bob.call("history", {"conversation_id": active_id, "after_seq": 0})
    assert [m["body"] for m in history["messages"]] == ["I need help", "still here"], history


# -- c. a wait deadline that passed while the server was down -----------------------------------


async def test_queue_deadline_missed_while_down_fires_once_after_start(procs: ServerProcesses, closing: list[Peer]) -> None:
    server = procs.server(env=env(queue_timeout=2, agent_grace=5))
    await server.start()

    alice = await peers.customer(server.url)
    closing.append(alice)
    token = alice.received("session")[0]["token"]
    started = await alice.call("chat:start", {"body": "anyone there?", "name": "Alice"})
    assert started["ok"] and started["conversation"]["status"] == "queued", started
    conversation_id = started["conversation"]["id"]

    server.kill()
    killed_at = time.monotonic()
    await wait_disconnected(alice)
    await asyncio.sleep(max(0.0, 2.5 - (time.monotonic() - killed_at)))
    await server.start()

    # the overdue deadline fires right after the start; give it a bounded moment to land
    deadline = time.monotonic() + 3
    while True:
        peer, session = await customer_with(server.url, token, closing)
        if session["conversation"] is None or time.monotonic() > deadline:
            break
        await peer.close()
        await asyncio.sleep(0.1)
    assert session["conversation"] is None, f"the overdue conversation is still open after start: {session}"

    listed = await peer.call("complaint:list", {})
    assert listed["ok"], listed
    complaints = listed["complaints"]
    assert len(complaints) == 1, complaints
    assert complaints[0]["source"] == "chat_unanswered", complaints
    assert complaints[0]["conversation_id"] == conversation_id, complaints

    # what the customer wrote is kept with the closed conversation
    history = await peer.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert history["ok"] and history["messages"][0]["body"] == "anyone there?", history

    # longer than the timeout again: nothing fires a second time
    await asyncio.sleep(2.2)
    peer, session = await customer_with(server.url, token, closing)
    assert session["conversation"] is None, session
    listed = await peer.call("complaint:list", {})
    assert [c["source"] for c in listed["complaints"]] == ["chat_unanswered"], listed

    # the store agrees: one close, one complaint, one audit entry for the close
    with read_db(server.db) as conn:
        closed = conn.execute(
            "SELECT COUNT(*) FROM audit_events WHERE subject = ? AND action = 'conversation.closed'", (conversation_id,)
        ).fetchone()[0]
        made = conn.execute(
            "SELECT COUNT(*) FROM complaints WHERE customer_id = (SELECT customer_id FROM conversations WHERE id = ?)",
            (conversation_id,),
        ).fetchone()[0]
        status = conn.execute("SELECT status, outcome FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    assert (closed, made, tuple(status)) == (1, 1, ("closed", "complaint"))


# -- d. the agent does not come back after a restart ------------------------------------------


def requeues(path: Path, conversation_id: str) -> list[tuple[str, dict]]:
    """(actor, details) of every `conversation.requeued` audit entry for the conversation."""
    with read_db(path) as conn:
        rows = conn.execute(
            "SELECT actor, details FROM audit_events WHERE subject = ? AND action = 'conversation.requeued'",
            (conversation_id,),
        ).fetchall()
    return [(actor, json.loads(details)) for actor, details in rows]


def holder(path: Path, conversation_id: str) -> tuple[str, str | None]:
    """(status, agent_id) of the conversation as stored."""
    with read_db(path) as conn:
        return tuple(conn.execute("SELECT status, agent_id FROM conversations WHERE id = ?", (conversation_id,)).fetchone())


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def wait_after(peer: Peer, mark: int, event: str, where=lambda _: True, timeout: float = 5) -> Any:
    """The first `event` satisfying `where` among those received after the peer's first `mark` events."""
    deadline = time.monotonic() + timeout
    while True:
        for name, data in peer.events[mark:]:
            if name == event and where(data):
                return data
        assert time.monotonic() < deadline, f"no {event!r} within {timeout}s; got {peer.events[mark:]}"
        await asyncio.sleep(0.02)


async def test_an_agent_who_does_not_return_after_a_restart_hands_back_their_chats_when_the_grace_period_ends(
    procs: ServerProcesses, closing: list[Peer]
) -> None:
    server = procs.server(env=env(agent_grace=GRACE, queue_timeout=120))
    ids = await create_users(
        server.db, [("bob@example.test", "Bob", "agent", 1), ("carol@example.test", "Carol", "agent", 1)], CAST_PASSWORD
    )
    await server.start()

    # Bob takes Dave's chat and is then full; Eve waits behind it, Carol has not signed in yet
    bob = await peers.agent(server.url, "bob@example.test")
    closing.append(bob)
    dave = await peers.customer(server.url)
    closing.append(dave)
    dave_token = dave.received("session")[0]["token"]
    started = await dave.call("chat:start", {"body": "my card was charged twice", "name": "Dave"})
    assert started["ok"], started
    chat_id = started["conversation"]["id"]
    await bob.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == chat_id)
    eve = await peers.customer(server.url)
    closing.append(eve)
    eve_token = eve.received("session")[0]["token"]
    waiting = await eve.call("chat:start", {"body": "Eve waits", "name": "Eve"})
    assert waiting["ok"] and waiting["conversation"]["status"] == "queued", waiting
    eve_chat_id = waiting["conversation"]["id"]
    carol_cookie = await peers.login_cookie(server.url, "carol@example.test")  # logged in now, to reconnect fast later

    server.kill()
    await server.start()
    started_at = time.monotonic()  # the grace period began a little earlier, when the server loaded its state

    # everyone but Bob comes back; Carol has her console open but is not taking chats yet
    dave, dave_session = await customer_with(server.url, dave_token, closing)
    eve, eve_session = await customer_with(server.url, eve_token, closing)
    carol, carol_session = await console_with(server.url, carol_cookie, closing)
    assert time.monotonic() - started_at < GRACE / 2, "reconnecting took too long to look inside the grace period"
    assert dave_session["conversation"]["id"] == chat_id, dave_session
    assert dave_session["conversation"]["status"] == "active", dave_session
    assert dave_session["conversation"]["agent"]["name"] == "Bob", dave_session
    assert eve_session["queue"]["position"] == 1, eve_session
    assert carol_session["conversations"] == [], carol_session

    # within the grace period Bob still holds the chat: nothing was handed back at start-up
    await sleep_until(started_at + GRACE / 2)
    assert holder(server.db, chat_id) == ("active", ids["bob"])
    assert requeues(server.db, chat_id) == []
    assert dave.received("chat:requeued") == [], dave.events
    assert {u["position"] for u in eve.received("queue:update")} <= {1}, eve.events  # nobody went ahead of Eve

    # the grace period ends: Dave is told, and his chat goes ahead of Eve, who arrived after him
    requeued = await dave.wait_for("chat:requeued", timeout=GRACE + 3)
    assert requeued == {"conversation_id": chat_id, "reason": "agent_disconnected"}, requeued
    notice = await dave.wait_for("message:new", lambda m: m["sender"] == "system")
    assert notice["body"] == "requeued:agent_disconnected", notice
    await eve.wait_for("queue:update", lambda u: u["position"] == 2)
    assert holder(server.db, chat_id) == ("queued", None)
    eve_seen = len(eve.events)

    # the first colleague to take chats gets Dave's chat, not Eve's, which still waits
    online = await carol.call("presence:set", {"status": "online"})
    assert online["ok"], online
    moved = await carol.wait_for("chat:assigned")
    assert moved["conversation"]["id"] == chat_id, moved
    assert [m["body"] for m in moved["messages"]][0] == "my card was charged twice", moved
    told = await dave.wait_for("chat:assigned")
    assert told == {"conversation_id": chat_id, "agent": {"name": "Carol"}}, told
    await wait_after(eve, eve_seen, "queue:update", lambda u: u["position"] == 1)
    assert holder(server.db, eve_chat_id) == ("queued", None)

    # the store agrees: Carol holds it, Bob is offline, and the hand-back was recorded once
    assert holder(server.db, chat_id) == ("active", ids["carol"])
    assert requeues(server.db, chat_id) == [("system", {"reason": "agent_disconnected", "agent_id": ids["bob"]})]
    with read_db(server.db) as conn:
        assert conn.execute("SELECT status FROM users WHERE id = ?", (ids["bob"],)).fetchone() == ("offline",)

    # another restart, with Carol back in time: nothing is handed back a second time
    server.kill()
    await server.start()
    started_at = time.monotonic()
    carol, carol_session = await console_with(server.url, carol_cookie, closing)
    assert time.monotonic() - started_at < GRACE, "Carol did not reconnect within the grace period"
    assert [c["id"] for c in carol_session["conversations"]] == [chat_id], carol_session
    await sleep_until(started_at + GRACE + 0.5)
    assert carol.received("chat:unassigned") == [], carol.events
    assert holder(server.db, chat_id) == ("active", ids["carol"])
    assert len(requeues(server.db, chat_id)) == 1


# -- d2. chats that were with an agent when the server went down, handed back after it ------------


async def waiting_order(url: str, cookie: str, closing: list[Peer]) -> list[tuple[str, str, int]]:
    """(conversation id, queued_at, position) of each waiting chat, as a freshly opened monitor shows them."""
    monitor = await Peer(url, "/monitor").connect(headers={"Cookie": cookie})
    closing.append(monitor)
    snapshot = await monitor.wait_for("monitor:snapshot")
    await monitor.close()
    return [(q["conversation_id"], q["queued_at"], q["position"]) for q in snapshot["queue"]]


async def test_chats_handed_back_after_a_restart_keep_the_order_they_came_in_and_a_restart_rebuilds_it(
    procs: ServerProcesses, closing: list[Peer]
) -> None:
    server = procs.server(env=env(agent_grace=60, queue_timeout=300))
    await create_users(
        server.db, [("bob@example.test", "Bob", "agent", 2), ("sue@example.test", "Sue", "supervisor", 1)], CAST_PASSWORD
    )
    await server.start()
    bob_cookie = await peers.login_cookie(server.url, "bob@example.test")
    sue_cookie = await peers.login_cookie(server.url, "sue@example.test")

    # Dave's chat is with Bob when the server goes down
    bob, _ = await console_with(server.url, bob_cookie, closing)
    assert (await bob.call("presence:set", {"status": "online"}))["ok"]
    dave = await peers.customer(server.url)
    closing.append(dave)
    dave_token = dave.received("session")[0]["token"]
    started = await dave.call("chat:start", {"body": "Dave first", "name": "Dave"})
    assert started["ok"] and started["conversation"]["status"] == "active", started
    dave_chat = started["conversation"]["id"]

    server.kill()
    await server.start()

    # Bob is back and takes Eve's chat, which came after Dave's
    bob, _ = await console_with(server.url, bob_cookie, closing)
    eve = await peers.customer(server.url)
    closing.append(eve)
    eve_token = eve.received("session")[0]["token"]
    started = await eve.call("chat:start", {"body": "Eve second", "name": "Eve"})
    assert started["ok"] and started["conversation"]["status"] == "active", started
    eve_chat = started["conversation"]["id"]

    # Bob signs off: both go back to the front of the queue, Dave's first, as they came
    assert (await bob.call("presence:set", {"status": "offline"}))["ok"]
    before = await waiting_order(server.url, sue_cookie, closing)
    assert [(cid, position) for cid, _, position in before] == [(dave_chat, 1), (eve_chat, 2)], before
    for token, position in ((dave_token, 1), (eve_token, 2)):
        _, session = await customer_with(server.url, token, closing)
        assert session["queue"]["position"] == position, session

    # a crash changes neither the order, nor when each wait began, nor where the customers are told they are
    server.kill()
    await server.start()
    assert await waiting_order(server.url, sue_cookie, closing) == before
    for token, position in ((dave_token, 1), (eve_token, 2)):
        _, session = await customer_with(server.url, token, closing)
        assert session["queue"]["position"] == position, session


async def agent_on_monitor(url: str, cookie: str, agent_id: str, closing: list[Peer]) -> dict:
    """The agent as a freshly opened monitor shows them."""
    monitor = await Peer(url, "/monitor").connect(headers={"Cookie": cookie})
    closing.append(monitor)
    snapshot = await monitor.wait_for("monitor:snapshot")
    await monitor.close()
    return next(a for a in snapshot["agents"] if a["id"] == agent_id)


async def test_an_agent_who_was_offline_stays_offline_since_the_same_moment_after_closing_the_console_and_a_restart(
    procs: ServerProcesses, closing: list[Peer]
) -> None:
    server = procs.server(env=env(agent_grace=1, queue_timeout=300))
    ids = await create_users(
        server.db, [("bob@example.test", "Bob", "agent", 2), ("sue@example.test", "Sue", "supervisor", 1)], CAST_PASSWORD
    )
    await server.start()
    sue_cookie = await peers.login_cookie(server.url, "sue@example.test")

    # Bob signs off, and a moment later closes his console
    bob = await peers.agent(server.url, "bob@example.test")
    closing.append(bob)
    signed_off = await bob.call("presence:set", {"status": "offline"})
    assert signed_off["ok"], signed_off
    since = signed_off["agent"]["status_since"]
    await asyncio.sleep(1.2)
    await bob.close()

    # his grace period ends with nothing to hand back: he has been offline since he signed off
    await asyncio.sleep(2.0)
    shown = await agent_on_monitor(server.url, sue_cookie, ids["bob"], closing)
    assert (shown["status"], shown["connected"], shown["status_since"]) == ("offline", False, since), shown
    assert shown["status_seconds"] >= 3, shown

    # and a crash does not move it either
    server.kill()
    await server.start()
    assert (await agent_on_monitor(server.url, sue_cookie, ids["bob"], closing))["status_since"] == since


async def test_a_customer_who_left_before_a_crash_and_is_not_back_within_the_grace_period_is_left_again_after_it(
    procs: ServerProcesses, closing: list[Peer]
) -> None:
    server = procs.server(env=env(agent_grace=1, queue_timeout=300))
    await create_users(server.db, [("bob@example.test", "Bob", "agent", 2)], CAST_PASSWORD)
    await server.start()

    # Dave asks while nobody is online, then closes the page
    dave = await peers.customer(server.url)
    dave_token = dave.received("session")[0]["token"]
    dave_chat = (await dave.call("chat:start", {"body": "anyone there?", "name": "Dave"}))["conversation"]["id"]
    await dave.close()

    server.kill()
    await server.start()
    started = time.time()

    # he has not come back once the grace period after the start is over: his chat is marked left,
    # and Bob coming online is not handed a chat whose customer is gone
    await asyncio.sleep(1.5)
    bob = await peers.agent(server.url, "bob@example.test")
    closing.append(bob)
    [waiting] = (await bob.wait_for("queue:snapshot", lambda d: d["queued"] == 1))["queue"]
    assert waiting["conversation_id"] == dave_chat and waiting["customer_away_since"] is not None, waiting
    assert abs(datetime.fromisoformat(waiting["customer_away_since"]).timestamp() - started) < 1.0, waiting
    await asyncio.sleep(0.5)
    assert bob.received("chat:assigned") == [], bob.events

    # back on the page, his chat goes to Bob at once
    back, _ = await customer_with(server.url, dave_token, closing)
    assigned = await bob.wait_for("chat:assigned")
    assert assigned["conversation"]["id"] == dave_chat and assigned["conversation"]["customer_away_since"] is None
    await back.wait_for("chat:assigned")


# -- e. a new server secret -------------------------------------------------------------------


async def test_a_new_secret_key_signs_staff_out_and_retires_old_tracking_links_while_customers_keep_their_chats(
    procs: ServerProcesses, closing: list[Peer]
) -> None:
    server = procs.server(env=env(agent_grace=30, queue_timeout=120))
    await create_users(server.db, [("bob@example.test", "Bob", "agent", 2)], CAST_PASSWORD)
    await server.start()
    cookie = await peers.login_cookie(server.url, "bob@example.test")
    alice = await peers.customer(server.url)
    closing.append(alice)
    token = alice.received("session")[0]["token"]
    submitted = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Payout", "body": "late"})
    reference, old_key = submitted["complaint"]["reference"], submitted["complaint"]["tracking_key"]
    assert await status_of(server.url, f"/track/{reference}?key={old_key}") == 200
    await alice.close()

    assert await server.stop() == 0
    server.env["CHATSERVER_SECRET_KEY"] = "a-new-secret-after-a-leak-kkkkkkkkkkkkkk"
    await server.start()

    # every console user is signed out: pages send them to sign in, sockets are refused
    assert await status_of(server.url, "/console", cookie) == 303
    with pytest.raises(socketio.exceptions.ConnectionError, match="log in"):
        await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
    # a link sent before answers like an unknown complaint
    assert await status_of(server.url, f"/track/{reference}?key={old_key}") == 404
    # the customer's own token is no signature: the same customer, their complaint, and a new link that works
    again, _ = await customer_with(server.url, token, closing)
    assert [c["reference"] for c in (await again.call("complaint:list", {}))["complaints"]] == [reference]
    detail = await again.call("complaint:get", {"reference": reference})
    new_key = detail["complaint"]["tracking_key"]
    assert new_key != old_key and await status_of(server.url, f"/track/{reference}?key={new_key}") == 200
    # and staff sign in again as before
    bob = await Peer(server.url, "/agent").connect(headers={"Cookie": await peers.login_cookie(server.url, "bob@example.test")})
    closing.append(bob)
    assert (await bob.wait_for("session"))["agent"]["name"] == "Bob"


async def status_of(url: str, path: str, cookie: str | None = None) -> int:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.get(url + path, headers={"Cookie": cookie} if cookie else {}, allow_redirects=False) as response:
            return response.status
