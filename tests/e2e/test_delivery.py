"""Delivery guarantees: stored before acked, idempotent resends, gap-free seq, history catch-up, resume."""

import asyncio

from tests import peers
from tests.peers import client_id


async def test_resending_with_the_same_client_id_returns_the_same_stored_message(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    payload = {"conversation_id": conversation_id, "client_id": client_id(), "body": "once only"}
    acks = await asyncio.gather(*(alice.call("message:send", payload) for _ in range(5)))
    ids = {a["message"]["id"] for a in acks}
    seqs = {a["message"]["seq"] for a in acks}
    assert len(ids) == 1 and len(seqs) == 1
    await asyncio.sleep(0.2)
    assert [m["body"] for m in bob.received("message:new")].count("once only") == 1
    rows = await server.services.db.fetch("SELECT COUNT(*) AS n FROM messages WHERE body = 'once only'")
    assert rows[0]["n"] == 1
    await bob.close()
    await alice.close()


async def test_seq_has_no_gaps_under_concurrent_senders_and_history_returns_what_was_missed(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    sends = [alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": f"c{i}"}) for i in range(15)]
    sends += [bob.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": f"a{i}"}) for i in range(15)]
    acks = await asyncio.gather(*sends)
    assert all(a["ok"] for a in acks)
    seqs = sorted(a["message"]["seq"] for a in acks)
    assert seqs == list(range(2, 32))
    history = await alice.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert [m["seq"] for m in history["messages"]] == list(range(1, 32))
    missed = await alice.call("history", {"conversation_id": conversation_id, "after_seq": 25})
    assert [m["seq"] for m in missed["messages"]] == list(range(26, 32))
    await bob.close()
    await alice.close()


async def test_a_reconnecting_customer_resumes_the_open_conversation(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    token = alice.received("session")[0]["token"]
    await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "before"})
    await alice.close()
    await bob.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "while you were away"})

    again = await peers.customer(server.url, token=token)
    session = again.received("session")[0]
    assert session["conversation"]["id"] == conversation_id and session["conversation"]["status"] == "active"
    assert session["token"] == token and session["last_seq"] == 3
    missed = await again.call("history", {"conversation_id": conversation_id, "after_seq": 2})
    assert [m["body"] for m in missed["messages"]] == ["while you were away"]
    resent = await again.call("chat:start", {"body": "again"})
    assert resent["conversation"]["id"] == conversation_id  # an open chat is returned, not duplicated
    await bob.close()
    await again.close()


async def test_internal_notes_never_reach_the_customer(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    note = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "VIP, check limits", "internal": True})
    assert note["ok"] and note["message"]["internal"] is True
    public = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "Looking into it"})
    await alice.wait_for("message:new", lambda m: m["body"] == "Looking into it")
    assert all(m["body"] != "VIP, check limits" for m in alice.received("message:new"))
    history = await alice.call("history", {"conversation_id": conversation_id})
    assert "VIP, check limits" not in [m["body"] for m in history["messages"]]
    assert all("internal" not in m for m in history["messages"])
    agent_history = await bob.call("history", {"conversation_id": conversation_id})
    assert "VIP, check limits" in [m["body"] for m in agent_history["messages"]]
    assert public["message"]["seq"] == note["message"]["seq"] + 1
    await bob.close()
    await alice.close()


async def test_typing_reaches_the_other_side(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    await alice.emit("typing", {"conversation_id": conversation_id, "typing": True})
    seen = await bob.wait_for("typing")
    assert seen == {"conversation_id": conversation_id, "typing": True, "author": "Customer"}
    await bob.emit("typing", {"conversation_id": conversation_id, "typing": True})
    heard = await alice.wait_for("typing")
    assert heard["author"] == "Bob"
    await bob.close()
    await alice.close()


async def test_the_sender_gets_its_message_in_the_ack_and_its_other_tabs_get_it_live(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    token = alice.received("session")[0]["token"]
    second_tab = await peers.customer(server.url, token=token)
    ack = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "from tab one"})
    assert ack["ok"]
    await second_tab.wait_for("message:new", lambda m: m["body"] == "from tab one")
    await bob.wait_for("message:new", lambda m: m["body"] == "from tab one")
    assert [m for m in alice.received("message:new") if m["body"] == "from tab one"] == []  # no echo to the sender
    for peer in (bob, alice, second_tab):
        await peer.close()


async def test_a_staff_note_leaves_no_gap_in_what_the_customer_sees_and_counts(server):
    """Customers' seq counts only what they may see: a gap must mean they missed something, and none
    may tell them that staff wrote a note about them."""
    bob, alice, conversation_id = await peers.active_chat(server.url, body="my bonus is gone")

    async def agent_says(body: str, internal: bool = False) -> dict:
        ack = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": body, "internal": internal})
        assert ack["ok"], ack
        return ack["message"]

    hello = await agent_says("Let me check your bonus.")
    note = await agent_says("Player abused the bonus terms last month", internal=True)
    after = await agent_says("It was credited again.")
    assert [hello["seq"], note["seq"], after["seq"]] == [2, 3, 4]  # staff count every message

    told = await alice.wait_for("message:new", lambda m: m["body"] == "It was credited again.")
    live = [m for m in alice.received("message:new")]
    assert [m["seq"] for m in live] == [2, 3] and told["seq"] == 3
    history = await alice.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert [(m["seq"], m["body"]) for m in history["messages"]] == [
        (1, "my bonus is gone"), (2, "Let me check your bonus."), (3, "It was credited again.")]
    assert (await alice.call("history", {"conversation_id": conversation_id, "after_seq": 2}))["messages"][0]["seq"] == 3

    # the customer's next message is 4 for them, 5 for staff
    sent = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "Thanks!"})
    assert sent["message"]["seq"] == 4
    seen_by_bob = await bob.wait_for("message:new", lambda m: m["body"] == "Thanks!")
    assert seen_by_bob["seq"] == 5

    # a reconnect hears how far the customer's own count goes
    token = alice.received("session")[0]["token"]
    await alice.close()
    back = await peers.customer(server.url, token=token)
    session = back.received("session")[0]
    assert session["last_seq"] == 4 and session["conversation"]["last_seq"] == 4
    for peer in (bob, back):
        await peer.close()


async def test_a_resend_after_the_chat_ended_returns_the_message_that_was_stored(server):
    """The ack was lost and the chat ended before the resend: the message was stored, so the resend
    gets it back, as any resend does, rather than an error that would show it as not sent."""
    bob, alice, conversation_id = await peers.active_chat(server.url)
    customer_says = {"conversation_id": conversation_id, "client_id": client_id(), "body": "thanks, that was all"}
    agent_says = {"conversation_id": conversation_id, "client_id": client_id(), "body": "Have a nice day"}
    first = await alice.call("message:send", customer_says)
    answer = await bob.call("message:send", agent_says)
    assert first["ok"] and answer["ok"]
    closed = await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"})
    assert closed["ok"], closed

    again = await alice.call("message:send", customer_says)
    assert again == first
    answered_again = await bob.call("message:send", agent_says)
    assert answered_again == answer

    # a message that was never stored is still refused, and nothing is written
    late = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "one more thing"})
    assert late["ok"] is False and late["error"]["code"] == "not_found"
    late_answer = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "and another"})
    assert late_answer["ok"] is False
    # someone else's resend of that id gets nothing back
    eve = await peers.customer(server.url)
    foreign = await eve.call("message:send", customer_says)
    assert foreign["ok"] is False and foreign["error"]["code"] == "not_found"
    rows = await server.services.db.fetch("SELECT body FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation_id,))
    assert [r["body"] for r in rows] == ["hi", "thanks, that was all", "Have a nice day"]
    for peer in (bob, alice, eve):
        await peer.close()
