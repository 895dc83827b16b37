"""A supervisor's takeover acts on the chat as their dialog showed it: taken from the agent named
there, or out of the queue. When another supervisor moved or assigned it meanwhile, the takeover is a
conflict naming where it went, and the chat stays with the colleague who has just got it."""

import asyncio
import json

from tests import peers
from tests.peers import Peer, login_cookie


async def monitor(url: str, email: str = "sam@example.test") -> Peer:
    watcher = await peers.agent(url, email, namespace="/monitor")
    await watcher.wait_for("monitor:snapshot")
    return watcher


async def admin_monitor(server) -> Peer:
    await server.services.auth.create_user(email="ada@example.test", name="Ada", role="admin", password="ada-password-1")
    ada = Peer(server.url, "/monitor")
    await ada.connect(headers={"Cookie": await login_cookie(server.url, "ada@example.test", "ada-password-1")})
    return ada


def _id(server, name: str) -> str:
    return next(a.id for a in server.services.dispatcher.agents.values() if a.name == name)


async def takeovers(server, conversation_id: str) -> list[dict]:
    rows = await server.services.db.fetch(
        "SELECT details FROM audit_events WHERE subject = ? AND action = 'conversation.taken_over'", (conversation_id,)
    )
    return [json.loads(row["details"]) for row in rows]


async def test_a_takeover_of_a_chat_moved_meanwhile_is_refused_and_the_chat_stays_where_it_went(server):
    carol = await peers.agent(server.url, "carol@example.test")
    await carol.call("presence:set", {"status": "away"})
    bob, alice, conversation_id = await peers.active_chat(server.url)
    sam_console = await peers.agent(server.url, "sam@example.test", online=False)
    sam = await monitor(server.url)
    ada = await admin_monitor(server)
    seen = _id(server, "Bob")  # Sam's dialog: "Bob loses the chat"
    moved = await ada.call("chat:move", {"conversation_id": conversation_id, "to_agent_id": _id(server, "Carol"), "from_agent_id": seen})
    assert moved["ok"], moved
    refused = await sam.call("chat:takeover", {"conversation_id": conversation_id, "from_agent_id": seen})
    assert refused["error"] == {"code": "conflict", "message": "the chat moved to Carol meanwhile"}, refused
    assert server.services.dispatcher.conversation(conversation_id).agent_id == _id(server, "Carol")
    assert await takeovers(server, conversation_id) == []
    # with the agent it is with now, the takeover goes ahead
    taken = await sam.call("chat:takeover", {"conversation_id": conversation_id, "from_agent_id": _id(server, "Carol")})
    assert taken["ok"], taken
    assert [t["from"] for t in await takeovers(server, conversation_id)] == [_id(server, "Carol")]
    for peer in (bob, alice, carol, sam_console, sam, ada):
        await peer.close()


async def test_a_takeover_of_a_waiting_chat_assigned_meanwhile_is_refused(server):
    carol = await peers.agent(server.url, "carol@example.test")
    await carol.call("presence:set", {"status": "away"})  # away: routing gives her nothing
    alice = await peers.customer(server.url)
    started = await alice.call("chat:start", {"body": "anyone there?"})
    assert started["ok"] and started["queue"] is not None, started
    conversation_id = started["conversation"]["id"]
    sam_console = await peers.agent(server.url, "sam@example.test", online=False)
    sam = await monitor(server.url)
    ada = await admin_monitor(server)
    assigned = await ada.call("chat:assign", {"conversation_id": conversation_id, "agent_id": _id(server, "Carol")})
    assert assigned["ok"], assigned
    # Sam's dialog said "It leaves the queue": null is the agent it was seen with, nobody
    refused = await sam.call("chat:takeover", {"conversation_id": conversation_id, "from_agent_id": None})
    assert refused["error"] == {"code": "conflict", "message": "the chat is no longer waiting: Carol has it now"}, refused
    assert server.services.dispatcher.conversation(conversation_id).agent_id == _id(server, "Carol")
    assert await takeovers(server, conversation_id) == []
    # a takeover that names no one it was seen with takes it wherever it is, as before
    taken = await sam.call("chat:takeover", {"conversation_id": conversation_id})
    assert taken["ok"], taken
    for peer in (alice, carol, sam_console, sam, ada):
        await peer.close()


async def test_a_message_the_agent_sends_as_the_chat_is_taken_over_is_refused_not_written_into_the_supervisors_chat(server):
    # Bob's reply reaches the server while Sam's takeover waits to be written: the takeover commits
    # first, so the reply finds the chat no longer Bob's and is refused, not stored under Sam's chat
    bob, alice, conversation_id = await peers.active_chat(server.url)
    sam_console = await peers.agent(server.url, "sam@example.test", online=False)
    sam = await monitor(server.url)
    async with server.services.db.transaction():  # another write holds the database a moment
        takeover = asyncio.ensure_future(sam.call("chat:takeover", {"conversation_id": conversation_id, "from_agent_id": _id(server, "Bob")}))
        await asyncio.sleep(0.2)
        reply = asyncio.ensure_future(bob.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": "One moment"}))
        await asyncio.sleep(0.2)
    assert (await takeover)["ok"]
    refused = await reply
    assert refused == {"ok": False, "error": {"code": "forbidden", "message": "this conversation is not assigned to you"}}, refused
    rows = await server.services.db.fetch("SELECT body FROM messages WHERE conversation_id = ? AND sender = 'agent'", (conversation_id,))
    assert rows == []
    await sam_console.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id)
    await asyncio.sleep(0.2)
    assert not [m for name, m in alice.events if name == "message:new" and m["sender"] == "agent"]
    for peer in (bob, alice, sam_console, sam):
        await peer.close()
