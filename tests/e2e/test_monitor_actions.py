"""The queue monitor on the real server: supervisors' actions over /monitor (each works, is audited and
reaches the consoles), the role checks, routing explained, and the figures it pushes."""

import asyncio
import json
from datetime import timedelta
from typing import Any, Awaitable, Callable

import aiohttp
import pytest
import socketio

from chatserver.domain.models import iso
from chatserver.services import monitor as monitor_service
from chatserver.services.auth import ConsoleUser
from chatserver.store import users
from tests import peers
from tests.peers import Peer, login_cookie


async def monitor(url: str) -> Peer:
    sam = await peers.agent(url, "sam@example.test", namespace="/monitor")
    await sam.wait_for("monitor:snapshot")
    return sam


async def waiting_chat(url: str, **start) -> tuple[Peer, str]:
    customer = await peers.customer(url)
    ack = await customer.call("chat:start", {"body": "anyone there?", **start})
    assert ack["ok"] and ack["queue"] is not None, ack
    return customer, ack["conversation"]["id"]


async def audit_of(server, subject: str) -> list[dict]:
    rows = await server.services.db.fetch("SELECT * FROM audit_events WHERE subject = ? ORDER BY at", (subject,))
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows


async def close_all(*peer_list: Peer) -> None:
    for peer in peer_list:
        await peer.close()


async def test_assign_a_waiting_chat_to_an_agent_routing_would_not_pick(server):
    bob = await peers.agent(server.url, "bob@example.test")
    await bob.call("presence:set", {"status": "away"})  # away: routing gives him nothing
    alice, conversation_id = await waiting_chat(server.url, name="Alice")
    sam = await monitor(server.url)
    await sam.wait_for("monitor:snapshot", lambda s: [q["customer_name"] for q in s["queue"]] == ["Alice"])

    ack = await sam.call("chat:assign", {"conversation_id": conversation_id, "agent_id": _id(server, "Bob")})
    assert ack["ok"], ack
    assert ack["conversation"]["status"] == "active" and ack["conversation"]["agent"]["name"] == "Bob"
    assigned = await bob.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id)
    assert assigned["messages"][0]["body"] == "anyone there?"
    await alice.wait_for("chat:assigned", lambda d: d["agent"]["name"] == "Bob")
    snapshot = await sam.wait_for("monitor:snapshot", lambda s: not s["queue"])
    bob_now = next(a for a in snapshot["agents"] if a["name"] == "Bob")
    assert bob_now["active"] == 1 and bob_now["chats"][0]["customer_name"] == "Alice"

    [entry] = [e for e in await audit_of(server, conversation_id) if e["action"] == "conversation.assigned"]
    assert entry["actor"] == _id(server, "Sam")
    assert entry["details"] == {"from": None, "to": _id(server, "Bob"), "load": 0, "max_chats": 2, "over_capacity": False}
    await close_all(bob, alice, sam)


def _id(server, name: str) -> str:
    return next(a.id for a in server.services.dispatcher.agents.values() if a.name == name)


async def test_assign_beyond_capacity_is_refused_unless_forced(server):
    bob, first, _ = await peers.active_chat(server.url)
    second = await peers.customer(server.url)
    assert (await second.call("chat:start", {"body": "two"}))["queue"] is None  # bob's second seat
    third, conversation_id = await waiting_chat(server.url)
    sam = await monitor(server.url)

    refused = await sam.call("chat:assign", {"conversation_id": conversation_id, "agent_id": _id(server, "Bob")})
    assert refused == {"ok": False, "error": {"code": "conflict", "message": "Bob is at capacity (2 of 2 chats)"}}
    assert server.services.dispatcher.conversation(conversation_id).status == "queued"

    forced = await sam.call("chat:assign", {"conversation_id": conversation_id, "agent_id": _id(server, "Bob"), "force": True})
    assert forced["ok"], forced
    await bob.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id)
    rows = await server.services.db.fetch("SELECT COUNT(*) AS n FROM conversations WHERE agent_id = ? AND status = 'active'", (_id(server, "Bob"),))
    assert rows[0]["n"] == 3
    [entry] = [e for e in await audit_of(server, conversation_id) if e["action"] == "conversation.assigned"]
    assert entry["details"]["over_capacity"] is True and entry["details"]["load"] == 2
    await close_all(bob, first, second, third, sam)


async def test_supervisors_assigning_one_waiting_chat_at_once_get_one_assignment_and_conflicts(server):
    # two supervisors (or two clicks) at once: the chat goes to one agent, it is not bounced between them
    bob = await peers.agent(server.url, "bob@example.test")
    carol = await peers.agent(server.url, "carol@example.test")
    for agent in (bob, carol):
        assert (await agent.call("presence:set", {"status": "away"}))["ok"]  # so routing leaves it waiting
    alice, conversation_id = await waiting_chat(server.url)
    sam = await monitor(server.url)
    targets = [_id(server, "Bob"), _id(server, "Carol")] * 3
    acks = await asyncio.gather(*(sam.call("chat:assign", {"conversation_id": conversation_id, "agent_id": t}) for t in targets))
    won = [t for t, ack in zip(targets, acks) if ack["ok"]]
    assert len(won) == 1, acks
    assert all(ack["error"]["code"] == "conflict" for ack in acks if not ack["ok"]), acks
    assert server.services.dispatcher.conversation(conversation_id).agent_id == won[0]
    assert [e["action"] for e in await audit_of(server, conversation_id)].count("conversation.assigned") == 1
    await asyncio.sleep(0.3)  # what the customer and the agents were told
    assert sum(1 for name, _ in alice.events if name == "chat:assigned") == 1
    assert all(name != "chat:unassigned" for peer in (bob, carol) for name, _ in peer.events)
    await close_all(alice, sam, bob, carol)


async def test_assign_refuses_an_agent_without_a_console_and_a_chat_already_taken(server):
    alice, conversation_id = await waiting_chat(server.url)
    sam = await monitor(server.url)
    ack = await sam.call("chat:assign", {"conversation_id": conversation_id, "agent_id": _id(server, "Carol")})
    assert ack["error"] == {"code": "conflict", "message": "Carol has no console open"}
    unknown = await sam.call("chat:assign", {"conversation_id": "cv_nope", "agent_id": _id(server, "Carol")})
    assert unknown["error"]["code"] == "not_found"
    malformed = await sam.call("chat:assign", {"conversation_id": conversation_id, "agent_id": 42})
    assert malformed["error"]["code"] == "invalid"
    bob = await peers.agent(server.url, "bob@example.test")  # routing gives it to bob at once
    await bob.wait_for("chat:assigned")
    again = await sam.call("chat:assign", {"conversation_id": conversation_id, "agent_id": _id(server, "Bob")})
    assert again["error"]["code"] == "conflict"
    await close_all(alice, sam, bob)


async def behind_a_deactivation(server, user_id: str, request: Callable[[], Awaitable[Any]]) -> Any:
    """The answer to `request`, sent while an admin's deactivation of `user_id` waits for the database
    (another write holds it a moment): the deactivation goes first, then the request."""
    ada = await server.services.auth.create_user(email="ada@example.test", name="Ada", role="admin", password="ada-password-1")
    async with server.services.db.transaction():
        deactivation = asyncio.ensure_future(server.services.admin.users.deactivate(ConsoleUser.from_row(ada), user_id))
        await asyncio.sleep(0.2)
        answer = asyncio.ensure_future(request())
        await asyncio.sleep(0.2)
    await deactivation
    return await answer


async def test_assigning_to_an_agent_deactivated_as_the_assignment_waits_says_so_and_the_chat_keeps_waiting(server):
    # the admin's deactivation holds routing's lock when Sam's assignment arrives for Bob: once it is
    # through, Bob is no agent any more, which is what Sam is told (not that Bob is at capacity)
    bob = await peers.agent(server.url, "bob@example.test")
    await bob.call("presence:set", {"status": "away"})  # routing leaves the chat waiting
    alice, conversation_id = await waiting_chat(server.url)
    sam = await monitor(server.url)
    bob_id = _id(server, "Bob")
    refused = await behind_a_deactivation(
        server, bob_id, lambda: sam.call("chat:assign", {"conversation_id": conversation_id, "agent_id": bob_id})
    )
    assert refused == {"ok": False, "error": {"code": "not_found", "message": "no such agent"}}, refused
    assert server.services.dispatcher.conversation(conversation_id).status == "queued"
    assert [e["action"] for e in await audit_of(server, conversation_id)].count("conversation.assigned") == 0
    await sam.wait_for("monitor:snapshot", lambda s: bob_id not in [a["id"] for a in s["agents"]] and len(s["queue"]) == 1)
    await close_all(bob, alice, sam)


async def test_transferring_to_a_colleague_deactivated_as_the_transfer_waits_says_so_and_the_chat_stays(server):
    # as with an assignment: once the deactivation is through, Carol is no colleague any more
    bob, alice, conversation_id = await peers.active_chat(server.url)
    carol = await peers.agent(server.url, "carol@example.test")  # online once the chat is Bob's
    carol_id = _id(server, "Carol")
    refused = await behind_a_deactivation(
        server, carol_id, lambda: bob.call("chat:transfer", {"conversation_id": conversation_id, "to_agent_id": carol_id})
    )
    assert refused == {"ok": False, "error": {"code": "not_found", "message": "no such colleague"}}, refused
    assert server.services.dispatcher.conversation(conversation_id).agent_id == _id(server, "Bob")
    assert [e["action"] for e in await audit_of(server, conversation_id)].count("conversation.transferred") == 0
    await close_all(bob, alice, carol)


async def test_assigning_a_chat_an_agent_already_has_names_that_agent(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    carol = await peers.agent(server.url, "carol@example.test")
    sam = await monitor(server.url)
    refused = await sam.call("chat:assign", {"conversation_id": conversation_id, "agent_id": _id(server, "Carol")})
    assert refused == {"ok": False, "error": {"code": "conflict", "message": "the chat is no longer waiting: Bob has it now"}}
    assert server.services.dispatcher.conversation(conversation_id).agent_id == _id(server, "Bob")
    assert [e["action"] for e in await audit_of(server, conversation_id)].count("conversation.assigned") == 0
    await close_all(bob, alice, carol, sam)


async def test_move_a_chat_between_agents(server):
    carol = await peers.agent(server.url, "carol@example.test")
    await carol.call("presence:set", {"status": "away"})
    bob, alice, conversation_id = await peers.active_chat(server.url)
    sam = await monitor(server.url)

    ack = await sam.call("chat:move", {"conversation_id": conversation_id, "to_agent_id": _id(server, "Carol")})
    assert ack["ok"], ack
    assert ack["conversation"]["agent"]["name"] == "Carol"
    await bob.wait_for("chat:unassigned", lambda d: d["conversation_id"] == conversation_id and d["reason"] == "transferred")
    await carol.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id)
    await alice.wait_for("chat:assigned", lambda d: d["agent"]["name"] == "Carol")
    [entry] = [e for e in await audit_of(server, conversation_id) if e["action"] == "conversation.moved"]
    assert entry["actor"] == _id(server, "Sam")
    assert entry["details"]["from"] == _id(server, "Bob") and entry["details"]["to"] == _id(server, "Carol")
    # a waiting chat is assigned, not moved
    await bob.call("presence:set", {"status": "away"})
    eve, waiting_id = await waiting_chat(server.url)
    wrong = await sam.call("chat:move", {"conversation_id": waiting_id, "to_agent_id": _id(server, "Carol")})
    assert wrong["error"] == {"code": "conflict", "message": "the chat is waiting; assign it instead"}
    await close_all(bob, carol, alice, sam, eve)


async def test_two_supervisors_moving_one_chat_at_once_move_it_once(server):
    # each saw the chat with Bob: the first move wins, the second is told where it went, not bounced on
    carol = await peers.agent(server.url, "carol@example.test")
    await carol.call("presence:set", {"status": "away"})
    bob, alice, conversation_id = await peers.active_chat(server.url)
    sam_console = await peers.agent(server.url, "sam@example.test")  # nothing waits: routing gives Sam nothing
    sam = await monitor(server.url)
    await server.services.auth.create_user(email="ada@example.test", name="Ada", role="admin", password="ada-password-1")
    ada_monitor = Peer(server.url, "/monitor")
    await ada_monitor.connect(headers={"Cookie": await login_cookie(server.url, "ada@example.test", "ada-password-1")})
    seen = _id(server, "Bob")
    acks = await asyncio.gather(
        sam.call("chat:move", {"conversation_id": conversation_id, "to_agent_id": _id(server, "Carol"), "from_agent_id": seen}),
        ada_monitor.call("chat:move", {"conversation_id": conversation_id, "to_agent_id": _id(server, "Sam"), "from_agent_id": seen}),
    )
    assert [ack["ok"] for ack in acks].count(True) == 1, acks
    [refused] = [ack for ack in acks if not ack["ok"]]
    winner = "Carol" if acks[0]["ok"] else "Sam"
    assert refused["error"] == {"code": "conflict", "message": f"the chat moved to {winner} meanwhile"}
    assert server.services.dispatcher.conversation(conversation_id).agent_id == _id(server, winner)
    assert [e["action"] for e in await audit_of(server, conversation_id)].count("conversation.moved") == 1
    row = await server.services.db.fetch_one("SELECT agent_id FROM conversations WHERE id = ?", (conversation_id,))
    assert row == {"agent_id": _id(server, winner)}
    await close_all(bob, carol, alice, sam, sam_console, ada_monitor)


async def test_a_supervisor_takes_a_chat_over_into_their_console(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    sam = await monitor(server.url)
    refused = await sam.call("chat:takeover", {"conversation_id": conversation_id})
    assert refused["error"] == {"code": "conflict", "message": "open your console first: the chat goes there"}

    sam_console = await peers.agent(server.url, "sam@example.test", online=False)
    ack = await sam.call("chat:takeover", {"conversation_id": conversation_id})
    assert ack["ok"], ack
    taken = await sam_console.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id)
    assert taken["messages"][0]["body"] == "hi"
    await bob.wait_for("chat:unassigned", lambda d: d["conversation_id"] == conversation_id)
    await alice.wait_for("chat:assigned", lambda d: d["agent"]["name"] == "Sam")
    [entry] = [e for e in await audit_of(server, conversation_id) if e["action"] == "conversation.taken_over"]
    assert entry["actor"] == _id(server, "Sam") and entry["details"]["from"] == _id(server, "Bob")
    decisions = await server.services.db.fetch("SELECT rule FROM routing_decisions WHERE conversation_id = ? ORDER BY decided_at", (conversation_id,))
    assert decisions[-1]["rule"] == "taken_over_by_supervisor"
    await close_all(bob, alice, sam, sam_console)


async def test_a_supervisor_sets_an_agent_away_and_offline(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    sam = await monitor(server.url)
    away = await sam.call("agent:set_status", {"agent_id": _id(server, "Bob"), "status": "away"})
    assert away["ok"] and away["agent"]["status"] == "away"
    await bob.wait_for("agent:updated", lambda a: a["status"] == "away")
    [entry] = [e for e in await audit_of(server, _id(server, "Bob")) if e["actor"] == _id(server, "Sam")]
    assert entry["action"] == "agent.presence" and entry["details"] == {"status": "away", "from": "online"}

    offline = await sam.call("agent:set_status", {"agent_id": _id(server, "Bob"), "status": "offline"})
    assert offline["ok"]
    await bob.wait_for("chat:unassigned", lambda d: d["reason"] == "agent_offline")
    await sam.wait_for("monitor:snapshot", lambda s: [q["conversation_id"] for q in s["queue"]] == [conversation_id])
    bad = await sam.call("agent:set_status", {"agent_id": _id(server, "Bob"), "status": "asleep"})
    assert bad["error"]["code"] == "invalid"
    await close_all(bob, alice, sam)


async def test_escalate_and_reassign_a_complaint_from_the_monitor(server):
    alice = await peers.customer(server.url)
    submitted = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Payout late", "body": "Six days now"})
    reference = submitted["complaint"]["reference"]
    sam = await monitor(server.url)

    empty = await sam.call("complaint:escalate", {"reference": reference, "reason": "   "})
    assert empty["error"]["code"] == "invalid"
    escalated = await sam.call("complaint:escalate", {"reference": reference, "reason": "Customer threatens to leave", "from_level": 1})
    assert escalated["ok"], escalated
    assert escalated["complaint"]["level"] == 2 and escalated["complaint"]["owner_group"] == "supervisors"
    # a second supervisor whose list still showed level 1 does not push it on to level 3
    stale = await sam.call("complaint:escalate", {"reference": reference, "reason": "Same customer", "from_level": 1})
    assert stale["error"]["code"] == "conflict" and "level 2 now" in stale["error"]["message"], stale
    wrong_type = await sam.call("complaint:escalate", {"reference": reference, "reason": "x", "from_level": "1"})
    assert wrong_type["error"]["code"] == "invalid"

    to_bob = await sam.call("complaint:assign", {"reference": reference, "assignee_id": _id(server, "Bob")})
    assert to_bob["error"]["code"] == "invalid"  # an agent does not handle level 2
    to_sam = await sam.call("complaint:assign", {"reference": reference, "assignee_id": _id(server, "Sam")})
    assert to_sam["ok"] and to_sam["complaint"]["assignee"]["name"] == "Sam"
    freed = await sam.call("complaint:assign", {"reference": reference, "assignee_id": None})
    assert freed["ok"] and freed["complaint"]["assignee"] is None
    missing_key = await sam.call("complaint:assign", {"reference": reference})
    assert missing_key["error"]["code"] == "invalid"
    # a dialog opened while nobody held it, answered after a colleague took it: told, not obeyed
    await sam.call("complaint:assign", {"reference": reference, "assignee_id": _id(server, "Sam")})
    stale = await sam.call("complaint:assign", {"reference": reference, "assignee_id": None, "from_assignee_id": None})
    assert stale["error"]["code"] == "conflict" and "went to Sam a moment ago" in stale["error"]["message"], stale
    freed = await sam.call("complaint:assign", {"reference": reference, "assignee_id": None, "from_assignee_id": _id(server, "Sam")})
    assert freed["ok"] and freed["complaint"]["assignee"] is None

    complaint_id = (await server.services.db.fetch("SELECT id FROM complaints WHERE reference = ?", (reference,)))[0]["id"]
    actions = [(e["actor"], e["action"]) for e in await audit_of(server, complaint_id)]
    sam_id = _id(server, "Sam")
    assert (sam_id, "complaint.escalate") in actions and actions.count((sam_id, "complaint.assign")) == 4
    await close_all(alice, sam)


async def test_an_agent_can_neither_open_the_monitor_nor_use_its_events(server):
    cookie = await login_cookie(server.url, "bob@example.test")
    with pytest.raises(socketio.exceptions.ConnectionError, match="forbidden"):
        await Peer(server.url, "/monitor").connect(headers={"Cookie": cookie})
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        async with http.get(f"{server.url}/monitor", allow_redirects=False) as page:
            assert page.status == 403
    # an API token carries its user's role: still an agent
    token = await server.services.auth.issue_api_token(_id(server, "Bob"), "script")
    with pytest.raises(socketio.exceptions.ConnectionError, match="forbidden"):
        await Peer(server.url, "/monitor").connect(auth={"token": token})
    # the console's namespace does not know the monitor's events
    bob = await peers.agent(server.url, "bob@example.test")
    for event, payload in (
        ("chat:assign", {"conversation_id": "cv_x", "agent_id": _id(server, "Bob")}),
        ("agent:set_status", {"agent_id": _id(server, "Carol"), "status": "offline"}),
        ("routing:explain", {"conversation_id": "cv_x"}),
    ):
        ack = await bob.call(event, payload)
        assert ack["error"]["code"] == "invalid" and "unknown event" in ack["error"]["message"]
    # and the service refuses an agent whatever the transport
    row = await users.get(server.services.db, _id(server, "Bob"))
    with pytest.raises(Exception, match="only supervisors"):
        await server.services.supervision.set_agent_status(ConsoleUser.from_row(row), _id(server, "Carol"), "away")
    await bob.close()


async def test_routing_explain_returns_the_candidates_and_the_rule(server):
    carol = await peers.agent(server.url, "carol@example.test")
    await carol.call("presence:set", {"status": "away"})
    alice, conversation_id = await waiting_chat(server.url, name="Alice")
    bob = await peers.agent(server.url, "bob@example.test")
    await bob.wait_for("chat:assigned")
    sam = await monitor(server.url)

    ack = await sam.call("routing:explain", {"conversation_id": conversation_id})
    assert ack["ok"], ack
    assert ack["conversation"]["id"] == conversation_id and ack["conversation"]["customer_name"] == "Alice"
    waited, routed = ack["decisions"]
    assert waited["rule"] == "no_eligible_agent" and waited["chosen_agent"] is None
    assert {c["name"]: c["reason"] for c in waited["candidates"]} == {"Bob": "offline", "Carol": "away", "Sam": "offline"}
    assert routed["rule"] == "least_loaded" and routed["chosen_agent"] == {"id": _id(server, "Bob"), "name": "Bob"}
    by_name = {c["name"]: c for c in routed["candidates"]}
    assert by_name["Bob"] == {
        "agent_id": _id(server, "Bob"), "name": "Bob", "status": "online", "active_chats": 0, "max_chats": 2,
        "eligible": True, "reason": "chosen",
    }
    assert by_name["Carol"]["status"] == "away" and not by_name["Carol"]["eligible"]

    # a hand placement says who made it
    moved = await sam.call("chat:move", {"conversation_id": conversation_id, "to_agent_id": _id(server, "Carol")})
    assert moved["ok"], moved
    latest = (await sam.call("routing:explain", {"conversation_id": conversation_id}))["decisions"][-1]
    assert latest["rule"] == "moved_by_supervisor"
    assert latest["candidates"][0]["by"] == {"id": _id(server, "Sam"), "name": "Sam"}
    assert latest["candidates"][0]["from_agent"]["name"] == "Bob"
    unknown = await sam.call("routing:explain", {"conversation_id": "cv_missing"})
    assert unknown["error"]["code"] == "not_found"
    await close_all(carol, alice, bob, sam)


async def test_the_monitor_pushes_todays_figures_and_complaints_at_risk(server, monkeypatch):
    monkeypatch.setattr(monitor_service, "FLOOR_MIN_INTERVAL", 0.1)
    monkeypatch.setattr(monitor_service, "FLOOR_MAX_AGE", 0.3)  # ratings publish nothing: age brings them
    sam = await monitor(server.url)
    first = await sam.wait_for("monitor:floor")
    assert first["today"]["chats_started"] == 0 and first["complaints"]["breached_total"] == 0
    assert len(first["weekly"]["weeks"]) == 8 and first["timeline"]

    bob, alice, conversation_id = await peers.active_chat(server.url, topic="withdrawals")
    await bob.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": "Checking"})
    await alice.call("chat:end", {"conversation_id": conversation_id, "resolved": True})
    await alice.call("rating", {"conversation_id": conversation_id, "score": 5})
    figures = await sam.wait_for("monitor:floor", lambda f: f["today"]["ratings"] == 1, timeout=8)
    today = figures["today"]
    assert today["chats_started"] == 1 and today["answered"] == 1 and today["csat_share"] == 1.0 and today["csat_average"] == 5.0
    assert today["avg_first_response_seconds"] is not None

    # two complaints, one past its answer and one close to it
    log = server.services.complaints.log
    sam_user = ConsoleUser.from_row(await users.get(server.services.db, _id(server, "Sam")))
    late = (await log(sam_user, category="withdrawals", subject="Late", body="x", channel="phone"))["reference"]
    near = (await log(sam_user, category="technical", subject="Near <b>due</b>", body="y", channel="phone"))["reference"]
    now = server.services.clock()
    async with server.services.db.transaction() as tx:
        await tx.execute("UPDATE complaints SET response_due = ? WHERE reference = ?", (iso(now - timedelta(hours=1)), late))
        await tx.execute("UPDATE complaints SET response_due = ? WHERE reference = ?", (iso(now + timedelta(hours=1)), near))
    figures = await sam.wait_for("monitor:floor", lambda f: f["complaints"]["breached_total"] == 1 and f["complaints"]["at_risk_total"] == 1, timeout=8)
    risk = figures["complaints"]
    assert [c["reference"] for c in risk["breached"]] == [late] and [c["reference"] for c in risk["at_risk"]] == [near]
    assert risk["at_risk"][0]["subject"] == "Near <b>due</b>" and risk["at_risk"][0]["due_target"] == "response"
    assert risk["by_level"]["1"] == {"at_risk": 1, "breached": 1}
    assert figures["today"]["complaints_created"] == 2
    assert figures["weekly"]["categories"][-1]["counts"][-1] >= 1
    await close_all(sam, bob, alice)
