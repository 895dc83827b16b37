"""Routing on the live server: capacity under bursts, FIFO drain, presence, grace, transfer, take."""

import asyncio

from chatserver.services.monitor import CONSOLE_QUEUE_SHOWN, MONITOR_QUEUE_SHOWN
from tests import peers
from tests.conftest import eventually
from tests.peers import client_id


async def start_chat(peer, **payload):
    ack = await peer.call("chat:start", payload)
    assert ack["ok"], ack
    return ack


async def test_no_agent_exceeds_capacity_when_many_chats_start_at_once(server):
    bob = await peers.agent(server.url, "bob@example.test")  # max 2
    carol = await peers.agent(server.url, "carol@example.test")  # max 2
    customers = await asyncio.gather(*(peers.customer(server.url) for _ in range(12)))
    acks = await asyncio.gather(*(start_chat(c, body=f"hello {i}") for i, c in enumerate(customers)))
    assert sum(1 for a in acks if a["queue"] is None) <= 4

    await eventually(lambda: len(bob.received("chat:assigned")) == 2 and len(carol.received("chat:assigned")) == 2)
    await asyncio.sleep(0.2)
    assert len(bob.received("chat:assigned")) == 2 and len(carol.received("chat:assigned")) == 2
    rows = await server.services.db.fetch(
        "SELECT agent_id, COUNT(*) AS n FROM conversations WHERE status = 'active' GROUP BY agent_id"
    )
    assert sorted(r["n"] for r in rows) == [2, 2]
    queued = [c for c in customers if c.received("queue:update") or True]
    positions = sorted(
        a["queue"]["position"] for a in acks if a["queue"] is not None
    )
    assert positions[-1] >= 8 and len(queued) == 12
    for peer in [bob, carol, *customers]:
        await peer.close()


async def test_a_freed_seat_goes_to_the_oldest_waiting_chat(server):
    bob = await peers.agent(server.url, "bob@example.test")
    first, second = await peers.customer(server.url), await peers.customer(server.url)
    a = await start_chat(first, body="one")
    b = await start_chat(second, body="two")
    assert a["queue"] is None and b["queue"] is None  # bob has two seats
    waiting = []
    for i in range(3):
        peer = await peers.customer(server.url)
        ack = await start_chat(peer, body=f"waiting {i}")
        assert ack["queue"]["position"] == i + 1
        waiting.append((peer, ack["conversation"]["id"]))

    close = await bob.call("chat:close", {"conversation_id": a["conversation"]["id"], "outcome": "resolved"})
    assert close["ok"], close
    oldest_peer, oldest_id = waiting[0]
    await oldest_peer.wait_for("chat:assigned")
    await bob.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == oldest_id)
    # the others moved up, and were told
    moved_up = await waiting[1][0].wait_for("queue:update", lambda d: d["position"] == 1)
    stored = await server.services.db.fetch_one("SELECT wait_deadline FROM conversations WHERE id = ?", (waiting[1][1],))
    assert moved_up["deadline_at"] == stored["wait_deadline"]  # type: ignore[index]
    await waiting[2][0].wait_for("queue:update", lambda d: d["position"] == 2)
    for peer in [bob, first, second, *(p for p, _ in waiting)]:
        await peer.close()


async def test_waiting_customers_get_an_estimate_once_agents_are_online(server):
    alice = await peers.customer(server.url)
    ack = await start_chat(alice, body="anyone?")
    # nobody online: no made-up number, and the moment it becomes a complaint if nobody comes
    stored = await server.services.db.fetch_one("SELECT wait_deadline FROM conversations WHERE id = ?", (ack["conversation"]["id"],))
    assert ack["queue"] == {"position": 1, "eta_seconds": None, "deadline_at": stored["wait_deadline"]}  # type: ignore[index]
    bob = await peers.agent(server.url, "bob@example.test")
    await alice.wait_for("chat:assigned")
    await bob.close()
    await alice.close()


async def test_away_keeps_current_chats_but_takes_no_new_ones(server):
    bob = await peers.agent(server.url, "bob@example.test")
    alice = await peers.customer(server.url)
    first = await start_chat(alice, body="hi")
    await bob.wait_for("chat:assigned")
    ack = await bob.call("presence:set", {"status": "away"})
    assert ack["ok"] and ack["agent"]["status"] == "away"
    eve = await peers.customer(server.url)
    queued = await start_chat(eve, body="hello?")
    assert queued["queue"]["position"] == 1
    sent = await bob.call("message:send", {"conversation_id": first["conversation"]["id"], "client_id": client_id(), "body": "still here"})
    assert sent["ok"]
    await bob.call("presence:set", {"status": "online"})
    await eve.wait_for("chat:assigned")
    for peer in [bob, alice, eve]:
        await peer.close()


async def test_a_vanished_agents_chat_moves_to_a_colleague_after_the_grace_period(server):
    bob = await peers.agent(server.url, "bob@example.test")
    alice = await peers.customer(server.url)
    started = await start_chat(alice, body="help")
    conversation_id = started["conversation"]["id"]
    await bob.wait_for("chat:assigned")
    carol = await peers.agent(server.url, "carol@example.test")
    await bob.sio.disconnect()  # browser crashed; grace is 0.5 s in tests

    await alice.wait_for("chat:requeued", timeout=5)
    moved = await carol.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id, timeout=5)
    assert [m["body"] for m in moved["messages"]][0] == "help"
    told = await alice.wait_for("chat:assigned", lambda d: d["agent"]["name"] == "Carol")
    assert told["conversation_id"] == conversation_id
    system = await alice.wait_for("message:new", lambda m: m["sender"] == "system")
    assert system["body"] == "requeued:agent_disconnected"
    audit = await server.services.db.fetch("SELECT action FROM audit_events WHERE subject = ?", (conversation_id,))
    assert "conversation.requeued" in [a["action"] for a in audit]
    await carol.close()
    await alice.close()


async def test_an_agent_reconnecting_within_grace_keeps_the_chat(start_server):
    from tests.conftest import seed_cast

    running = await start_server(agent_grace=3)
    await seed_cast(running.services)
    bob = await peers.agent(running.url, "bob@example.test")
    alice = await peers.customer(running.url)
    started = await start_chat(alice, body="help")
    await bob.wait_for("chat:assigned")
    await bob.sio.disconnect()
    again = await peers.agent(running.url, "bob@example.test", online=False)
    session = again.received("session")[0]
    assert [c["id"] for c in session["conversations"]] == [started["conversation"]["id"]]
    await asyncio.sleep(0.3)
    assert alice.received("chat:requeued") == []
    await again.close()
    await alice.close()


async def test_transfer_to_a_colleague_and_back_to_the_queue(server):
    bob = await peers.agent(server.url, "bob@example.test")
    carol = await peers.agent(server.url, "carol@example.test")
    alice = await peers.customer(server.url)
    started = await start_chat(alice, body="help")
    conversation_id = started["conversation"]["id"]
    assigned_to = None
    for agent_peer, other, other_id in ((bob, carol, "carol"), (carol, bob, "bob")):
        if agent_peer.received("chat:assigned"):
            assigned_to = (agent_peer, other, other_id)
    if assigned_to is None:
        await eventually(lambda: bob.received("chat:assigned") or carol.received("chat:assigned"))
        assigned_to = (bob, carol, "carol") if bob.received("chat:assigned") else (carol, bob, "bob")
    holder, colleague, colleague_name = assigned_to
    colleague_id = [r for r in await server.services.db.fetch("SELECT id, name FROM users") if r["name"].lower() == colleague_name][0]["id"]

    moved = await holder.call("chat:transfer", {"conversation_id": conversation_id, "to_agent_id": colleague_id})
    assert moved["ok"], moved
    await holder.wait_for("chat:unassigned", lambda d: d["reason"] == "transferred")
    await colleague.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id)
    denied = await holder.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "x"})
    assert denied["error"]["code"] == "forbidden"

    back = await colleague.call("chat:transfer", {"conversation_id": conversation_id})
    assert back["ok"], back
    # back in the queue at the front, and routed again at once to whoever has a seat
    decisions = await server.services.db.fetch(
        "SELECT rule FROM routing_decisions WHERE conversation_id = ? ORDER BY decided_at", (conversation_id,)
    )
    assert decisions[0]["rule"] in ("least_loaded", "language_match_least_loaded")
    assert "transferred" in [d["rule"] for d in decisions]
    for peer in [bob, carol, alice]:
        await peer.close()


async def test_an_agent_takes_a_queued_chat_by_hand(server):
    bob = await peers.agent(server.url, "bob@example.test", online=False)
    alice = await peers.customer(server.url)
    started = await start_chat(alice, body="hello")
    conversation_id = started["conversation"]["id"]
    taken = await bob.call("chat:take", {"conversation_id": conversation_id})
    assert taken["ok"] and taken["conversation"]["agent"]["name"] == "Bob"
    await alice.wait_for("chat:assigned")
    again = await bob.call("chat:take", {"conversation_id": conversation_id})
    assert again["error"]["code"] == "conflict"
    decision = (await server.services.db.fetch("SELECT * FROM routing_decisions WHERE conversation_id = ?", (conversation_id,)))[-1]
    assert decision["rule"] == "taken_by_hand"
    await bob.close()
    await alice.close()


async def test_every_routing_decision_is_stored_with_its_candidates(server):
    bob = await peers.agent(server.url, "bob@example.test")
    carol = await peers.agent(server.url, "carol@example.test")
    await carol.call("presence:set", {"status": "away"})
    alice = await peers.customer(server.url)
    started = await start_chat(alice, body="hi")
    await bob.wait_for("chat:assigned")
    rows = await server.services.db.fetch(
        "SELECT * FROM routing_decisions WHERE conversation_id = ?", (started["conversation"]["id"],)
    )
    import json

    candidates = {c["name"]: c for c in json.loads(rows[0]["candidates"])}
    assert candidates["Bob"]["reason"] == "chosen"
    assert candidates["Carol"]["reason"] == "away" and not candidates["Carol"]["eligible"]
    assert candidates["Sam"]["reason"] == "offline"
    for peer in [bob, carol, alice]:
        await peer.close()


async def test_monitor_receives_live_snapshots(server):
    sam = await peers.agent(server.url, "sam@example.test", namespace="/monitor")
    first = await sam.wait_for("monitor:snapshot")
    assert first["queue"] == [] and {a["name"] for a in first["agents"]} == {"Bob", "Carol", "Sam"}
    alice = await peers.customer(server.url)
    await start_chat(alice, topic="bonuses", body="where is my bonus")
    snap = await sam.wait_for("monitor:snapshot", lambda s: len(s["queue"]) == 1)
    assert snap["queue"][0]["topic"] == "bonuses" and snap["stats"]["queued"] == 1
    await sam.close()
    await alice.close()


async def test_a_chat_that_has_to_wait_records_why(server):
    carol = await peers.agent(server.url, "carol@example.test")
    await carol.call("presence:set", {"status": "away"})
    alice = await peers.customer(server.url)
    started = await start_chat(alice, body="anyone?")
    rows = await server.services.db.fetch(
        "SELECT * FROM routing_decisions WHERE conversation_id = ?", (started["conversation"]["id"],)
    )
    import json

    assert [r["rule"] for r in rows] == ["no_eligible_agent"]
    reasons = {c["name"]: c["reason"] for c in json.loads(rows[0]["candidates"])}
    assert reasons == {"Bob": "offline", "Carol": "away", "Sam": "offline"}
    bob = await peers.agent(server.url, "bob@example.test")
    await bob.wait_for("chat:assigned")
    rows = await server.services.db.fetch(
        "SELECT rule, chosen_agent_id FROM routing_decisions WHERE conversation_id = ? ORDER BY decided_at", (started["conversation"]["id"],)
    )
    assert [r["rule"] for r in rows] == ["no_eligible_agent", "least_loaded"]
    for peer in (carol, alice, bob):
        await peer.close()


async def test_consoles_see_the_queue_and_colleagues_presence_change(server):
    bob = await peers.agent(server.url, "bob@example.test", online=False)
    carol = await peers.agent(server.url, "carol@example.test")
    seen = await bob.wait_for("queue:snapshot", lambda s: any(c["name"] == "Carol" and c["status"] == "online" for c in s["colleagues"]))
    assert seen["queue"] == []
    await carol.call("presence:set", {"status": "away"})
    await bob.wait_for("queue:snapshot", lambda s: any(c["name"] == "Carol" and c["status"] == "away" for c in s["colleagues"]))
    await carol.call("presence:set", {"status": "offline"})  # nobody online now: the chat waits
    alice = await peers.customer(server.url)
    await start_chat(alice, topic="rules", body="what does this rule mean")
    waiting = await bob.wait_for("queue:snapshot", lambda s: len(s["queue"]) == 1)
    assert waiting["queue"][0]["topic"] == "rules"
    for peer in (bob, carol, alice):
        await peer.close()


async def test_a_customer_leaving_as_an_agent_takes_the_chat_is_recorded_as_what_happened(server):
    # leaving the queue is "abandoned", leaving an agent is "resolved": decided on the stored chat,
    # not on what memory said a moment before the agent's take landed
    bob = await peers.agent(server.url, "bob@example.test")
    assert (await bob.call("presence:set", {"status": "away"}))["ok"]  # routing leaves chats waiting
    for attempt in range(8):
        alice = await peers.customer(server.url)
        conversation_id = (await start_chat(alice, body=f"attempt {attempt}"))["conversation"]["id"]
        await asyncio.sleep(0.001 * attempt)
        took, ended = await asyncio.gather(
            bob.call("chat:take", {"conversation_id": conversation_id}),
            alice.call("chat:end", {"conversation_id": conversation_id}),
        )
        assert ended["ok"], ended
        row = await server.services.db.fetch_one("SELECT outcome, agent_id FROM conversations WHERE id = ?", (conversation_id,))
        assert row is not None
        if took["ok"]:  # the agent had it when the customer left
            assert (row["outcome"], row["agent_id"] is not None) == ("resolved", True), (attempt, row)
        else:
            assert took["error"]["code"] in ("conflict", "not_found") and row["outcome"] == "abandoned", (attempt, took, row)
        await alice.close()
    await bob.close()


async def test_a_long_queue_is_listed_from_its_front_and_counted_whole_on_consoles_and_the_monitor(server):
    # an outage can queue thousands: each push lists the front of the queue and says how many wait in all
    waiting = MONITOR_QUEUE_SHOWN + 30
    ids = []
    for n in range(waiting):
        customer, _ = await server.services.auth.resolve_customer(token=None, locale=None, identity=None)
        started = await server.services.chats.start(customer, topic=None, body=f"waiting {n + 1}", name=None, email=None)
        ids.append(started["conversation"]["id"])
    bob = await peers.agent(server.url, "bob@example.test", online=False)
    session = bob.received("session")[0]
    assert session["queued"] == waiting
    assert [q["conversation_id"] for q in session["queue"]] == ids[:CONSOLE_QUEUE_SHOWN]
    sam = await peers.agent(server.url, "sam@example.test", namespace="/monitor")
    snapshot = await sam.wait_for("monitor:snapshot")
    assert snapshot["stats"]["queued"] == waiting
    assert [q["conversation_id"] for q in snapshot["queue"]] == ids[:MONITOR_QUEUE_SHOWN]
    assert snapshot["stats"]["longest_wait_seconds"] >= snapshot["queue"][0]["waiting_seconds"]

    late = await peers.customer(server.url)
    ack = await start_chat(late, body="one more")
    assert ack["queue"]["position"] == waiting + 1  # the customer is told their real place, past the lists
    pushed = await bob.wait_for("queue:snapshot", lambda s: s["queued"] == waiting + 1)
    assert len(pushed["queue"]) == CONSOLE_QUEUE_SHOWN
    await sam.wait_for("monitor:snapshot", lambda s: s["stats"]["queued"] == waiting + 1 and len(s["queue"]) == MONITOR_QUEUE_SHOWN)
    for peer in (bob, sam, late):
        await peer.close()


async def test_a_waiting_chat_whose_customer_left_is_passed_over_and_keeps_its_place_until_they_come_back(server):
    gone, here = await peers.customer(server.url), await peers.customer(server.url)
    token = gone.received("session")[0]["token"]
    left = (await start_chat(gone, body="first in the queue"))["conversation"]["id"]
    waiting = (await start_chat(here, body="second in the queue"))["conversation"]["id"]
    await gone.close()  # the tab closed while nobody was online
    # the one still here moves to the front of what agents can take, and is told so
    await here.wait_for("queue:update", lambda d: d["position"] == 1)
    sam = await peers.agent(server.url, "sam@example.test", online=False)
    queue = (await sam.wait_for("queue:snapshot", lambda d: d["queued"] == 2))["queue"]
    assert [(e["conversation_id"], e["customer_away_since"] is not None) for e in queue] == [(left, True), (waiting, False)]

    carol = await peers.agent(server.url, "carol@example.test")  # one seat of two taken by whoever is here
    await carol.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == waiting)
    await asyncio.sleep(0.2)
    assert [d["conversation"]["id"] for d in carol.received("chat:assigned")] == [waiting]
    # back on the page (a reload, the same token): the chat that waited longest is routed at once
    back = await peers.customer(server.url, token=token)
    await back.wait_for("chat:assigned")
    assigned = await carol.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == left)
    assert assigned["conversation"]["customer_away_since"] is None
    for peer in (here, sam, carol, back):
        await peer.close()


async def test_an_agent_sees_the_customer_of_a_chat_leave_and_come_back(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    assert (await bob.wait_for("chat:assigned"))["conversation"]["customer_away_since"] is None
    token = alice.received("session")[0]["token"]
    second_tab = await peers.customer(server.url, token=token)
    await alice.close()
    await asyncio.sleep(0.2)
    assert bob.received("chat:customer") == []  # another tab is still open: still here
    await second_tab.close()
    left = await bob.wait_for("chat:customer", lambda d: d["away_since"] is not None)
    assert left["conversation_id"] == conversation_id
    back = await peers.customer(server.url, token=token)
    await bob.wait_for("chat:customer", lambda d: d["away_since"] is None)
    # a console opened now shows who is here and who is not
    await back.close()
    await bob.wait_for("chat:customer", lambda d: d["away_since"] is not None and d != left)
    fresh = await peers.agent(server.url, "bob@example.test")
    [conversation] = (await fresh.wait_for("session"))["conversations"]
    assert conversation["id"] == conversation_id and conversation["customer_away_since"] is not None
    for peer in (bob, fresh):
        await peer.close()
