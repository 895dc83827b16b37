"""Chats that end unresolved become complaints: exactly one per chat, with a reference and due times."""

import asyncio
import re
from datetime import timedelta

from chatserver.domain.models import iso, parse_iso
from tests import peers
from tests.conftest import seed_cast

REFERENCE = re.compile(r"^C-\d{4}-\d{6}$")


async def test_queue_timeout_turns_the_chat_into_a_complaint(start_server):
    running = await start_server(queue_timeout=0.5)
    await seed_cast(running.services)
    alice = await peers.customer(running.url)
    ack = await alice.call("chat:start", {"topic": "withdrawals", "body": "Withdrawal pending 3 days", "email": "alice@example.test"})
    closed = await alice.wait_for("chat:closed", timeout=5)
    assert closed["conversation_id"] == ack["conversation"]["id"]
    assert closed["outcome"] == "complaint" and REFERENCE.match(closed["complaint_reference"])
    complaint = closed["complaint"]
    assert complaint["source"] == "chat_unanswered" and complaint["category"] == "withdrawals"
    assert complaint["subject"] == "Withdrawal pending 3 days"  # named by what the customer came about
    created = parse_iso(complaint["created_at"])
    assert parse_iso(complaint["first_response_due"]) - created == timedelta(hours=24)
    assert parse_iso(complaint["resolution_due"]) - created == timedelta(hours=48)
    listed = await alice.call("complaint:list", {})
    assert [c["reference"] for c in listed["complaints"]] == [closed["complaint_reference"]]
    await alice.close()


async def test_not_solved_at_the_end_creates_a_complaint(server):
    bob, alice, conversation_id = await peers.active_chat(server.url, topic="bet_settlement", body="My bet was settled wrong")
    ended = await alice.call("chat:end", {"conversation_id": conversation_id, "resolved": False})
    assert ended["ok"], ended
    assert ended["conversation"]["outcome"] == "complaint"
    reference = ended["conversation"]["complaint_reference"]
    assert REFERENCE.match(reference) and ended["complaint"]["source"] == "chat_not_solved"
    assert ended["complaint"]["subject"] == "My bet was settled wrong"
    await alice.wait_for("chat:closed", lambda d: d["complaint_reference"] == reference)
    update = await bob.wait_for("chat:updated")
    assert update["status"] == "closed" and "tracking_key" not in update["complaint"]
    assert update["closed_by"] == {"side": "customer", "id": None, "name": None}
    rated = await alice.call("rating", {"conversation_id": conversation_id, "score": 2, "comment": "slow"})
    assert rated["ok"]
    await bob.close()
    await alice.close()


async def test_agent_closes_as_a_complaint_with_category_and_summary(server):
    bob, alice, conversation_id = await peers.active_chat(server.url, body="I cannot log in")
    closed = await bob.call(
        "chat:close",
        {"conversation_id": conversation_id, "outcome": "complaint", "category": "account_access", "summary": "Locked after 2FA reset"},
    )
    assert closed["ok"], closed
    assert closed["complaint"]["category"] == "account_access"
    # the summary is the team's; the complaint is named by the customer's own words
    assert closed["complaint"]["subject"] == "I cannot log in"
    assert "tracking_key" not in closed["complaint"]
    told = await alice.wait_for("chat:closed")
    assert told["complaint_reference"] == closed["complaint"]["reference"]
    assert told["complaint"]["tracking_key"]
    reference = closed["complaint"]["reference"]
    row = await server.services.db.fetch_one("SELECT subject, body FROM complaints WHERE reference = ?", (reference,))
    assert row == {"subject": "I cannot log in", "body": "Locked after 2FA reset"}  # the body is shown to staff only
    seen_by_customer = [told, await alice.call("complaint:get", {"reference": reference}), await alice.call("complaint:list", {})]
    mail = await server.services.db.fetch("SELECT data FROM outbox WHERE kind = 'complaint_ack'")
    assert "Locked after 2FA reset" not in repr(seen_by_customer) + repr(mail)
    bad = await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "complaint"})
    assert bad["error"]["code"] in ("not_found", "conflict")
    await bob.close()
    await alice.close()


async def test_one_chat_never_yields_two_complaints(server):
    bob, alice, conversation_id = await peers.active_chat(server.url, body="problem")
    results = await asyncio.gather(
        alice.call("chat:end", {"conversation_id": conversation_id, "resolved": False}),
        bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "complaint", "category": "other"}),
        alice.call("chat:end", {"conversation_id": conversation_id, "resolved": False}),
    )
    rows = await server.services.db.fetch("SELECT * FROM complaints WHERE conversation_id = ?", (conversation_id,))
    assert len(rows) == 1
    # the customer's "not solved" is answered with that one complaint, whoever filed it first;
    # the agent's close either filed it or hears that the chat has ended
    first_tab, agent, second_tab = results
    for answer in (first_tab, second_tab):
        assert answer["ok"] and answer["complaint"]["reference"] == rows[0]["reference"], answer
    assert agent["ok"] or agent["error"]["code"] == "conflict", agent
    await bob.close()
    await alice.close()


async def test_a_complaint_description_may_be_as_long_as_the_form_allows_and_a_chat_message_as_the_settings_do(server):
    """The form's description holds 10,000 characters (the widget's field and the API take as many);
    the limit for chat messages (`max_message_chars`, 4,000) is not the form's."""
    alice = await peers.customer(server.url)
    detailed = "The withdrawal of 200 EUR was approved and then reversed. " * 170  # 9,860 characters
    ack = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Reversed payout", "body": detailed.strip()})
    assert ack["ok"], ack
    [row] = await server.services.db.fetch("SELECT body FROM complaints WHERE reference = ?", (ack["complaint"]["reference"],))
    assert row["body"] == detailed.strip()
    longer = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Too long", "body": "x" * 10_001})
    assert longer["error"]["code"] == "invalid"
    started = await alice.call("chat:start", {})
    message = await alice.call("message:send", {"conversation_id": started["conversation"]["id"], "client_id": peers.client_id(), "body": "y" * 4001})
    assert message["error"]["code"] == "too_large"
    reply = await alice.call("complaint:reply", {"reference": ack["complaint"]["reference"], "body": "z" * 4001})
    assert reply["error"]["code"] == "too_large"
    await alice.close()


async def test_references_are_sequential_per_year_and_unique(server):
    alice = await peers.customer(server.url)
    refs = []
    for i in range(3):
        ack = await alice.call("complaint:submit", {"category": "bonuses", "subject": f"Bonus {i}", "body": "Not credited"})
        assert ack["ok"], ack
        refs.append(ack["complaint"]["reference"])
    numbers = [int(r.rsplit("-", 1)[1]) for r in refs]
    assert numbers == sorted(numbers) and len(set(refs)) == 3
    flood = await alice.call("complaint:submit", {"category": "bonuses", "subject": "again", "body": "again"})
    assert flood["error"]["code"] == "rate_limited"
    eve = await peers.customer(server.url)
    bad = await eve.call("complaint:submit", {"category": "nonsense", "subject": "x", "body": "y"})
    assert bad["error"]["code"] == "invalid"
    await alice.close()
    await eve.close()


async def test_a_widget_that_was_away_learns_from_history_how_the_chat_closed_and_whether_it_may_still_answer(server):
    bob, alice, conversation_id = await peers.active_chat(server.url, topic="withdrawals", body="where is my money")
    open_page = await alice.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert "conversation" not in open_page  # nothing to say while it is open
    assert (await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    page = await alice.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    [row] = await server.services.db.fetch("SELECT closed_at FROM conversations WHERE id = ?", (conversation_id,))
    closed_at = parse_iso(row["closed_at"])
    assert page["conversation"]["outcome"] == "resolved" and page["conversation"]["closed_by"] == {"side": "agent", "name": "Bob"}
    assert page["conversation"]["answer_until"] == iso(closed_at + timedelta(hours=24))
    assert page["conversation"]["agent"] == {"name": "Bob"} and "complaint" not in page
    answer = await alice.call("chat:end", {"conversation_id": conversation_id, "resolved": False})
    page = await alice.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert page["conversation"]["outcome"] == "complaint" and page["conversation"]["answer_until"] is None
    assert page["complaint"]["reference"] == page["conversation"]["complaint_reference"] == answer["complaint"]["reference"]
    assert page["complaint"]["tracking_key"] == answer["complaint"]["tracking_key"]  # the customer's own
    staff = await bob.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert "complaint" not in staff and staff["conversation"]["closed_by"]["name"] == "Bob"

    started = await alice.call("chat:start", {"body": "one more thing"})
    second = started["conversation"]["id"]
    assert (await alice.call("chat:end", {"conversation_id": second}))["ok"]
    page = await alice.call("history", {"conversation_id": second, "after_seq": 0})
    assert page["conversation"]["closed_by"] == {"side": "customer", "name": None}
    await alice.close()
    await bob.close()


async def test_a_chat_the_customer_ended_as_solved_is_not_turned_into_a_complaint_by_a_later_not_solved(server):
    """"Was your problem solved?" is asked once: the customer who ended the chat saying yes (in one tab)
    is not asked again in another, and a "no" sent after all is refused; the complaint form stays open."""
    bob, alice, conversation_id = await peers.active_chat(server.url, topic="withdrawals", body="where is my money")
    other_tab = await peers.customer(server.url, token=alice.received("session")[0]["token"])
    ended = await alice.call("chat:end", {"conversation_id": conversation_id, "resolved": True})
    assert ended["ok"] and ended["conversation"]["outcome"] == "resolved", ended
    closed = await other_tab.wait_for("chat:closed", lambda d: d["conversation_id"] == conversation_id)
    assert closed["outcome"] == "resolved" and closed["closed_by"] == {"side": "customer", "name": None}
    page = await other_tab.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert page["conversation"]["answer_until"] is None
    refused = await other_tab.call("chat:end", {"conversation_id": conversation_id, "resolved": False})
    assert refused["ok"] is False and refused["error"]["code"] == "conflict", refused
    assert "complaint form" in refused["error"]["message"]
    assert await server.services.db.fetch("SELECT id FROM complaints WHERE conversation_id = ?", (conversation_id,)) == []
    [row] = await server.services.db.fetch("SELECT outcome FROM conversations WHERE id = ?", (conversation_id,))
    assert row["outcome"] == "resolved"
    for peer in (alice, other_tab, bob):
        await peer.close()


async def test_not_solved_after_the_agent_closed_as_resolved_turns_that_chat_into_a_complaint(server):
    bob, alice, conversation_id = await peers.active_chat(server.url, topic="withdrawals", body="where is my money")
    closed = await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"})
    assert closed["ok"] and closed["conversation"]["outcome"] == "resolved"
    await alice.wait_for("chat:closed", lambda d: d["outcome"] == "resolved")
    answer = await alice.call("chat:end", {"conversation_id": conversation_id, "resolved": False})
    assert answer["ok"], answer
    assert answer["complaint"]["source"] == "chat_not_solved" and answer["complaint"]["category"] == "withdrawals"
    assert answer["conversation"]["outcome"] == "complaint"
    assert answer["conversation"]["agent"] == {"name": "Bob"}  # customers never see agent ids
    update = await bob.wait_for("chat:updated", lambda d: d["outcome"] == "complaint")
    assert update["complaint_reference"] == answer["complaint"]["reference"]
    # the customer's answer changed the outcome; it was still Bob who closed the chat
    assert update["closed_by"] == {"side": "agent", "id": bob.received("session")[0]["agent"]["id"], "name": "Bob"}
    # the customer is told who closed it too, by name, never by staff id
    assert (await alice.wait_for("chat:closed", lambda d: d["outcome"] == "complaint"))["closed_by"] == {"side": "agent", "name": "Bob"}
    again = await alice.call("chat:end", {"conversation_id": conversation_id, "resolved": False})
    assert again["ok"] and again["complaint"]["reference"] == answer["complaint"]["reference"]
    rows = await server.services.db.fetch("SELECT COUNT(*) AS n FROM complaints WHERE conversation_id = ?", (conversation_id,))
    assert rows[0]["n"] == 1
    eve = await peers.customer(server.url)
    stolen = await eve.call("chat:end", {"conversation_id": conversation_id, "resolved": False})
    assert stolen["error"]["code"] == "not_found"
    for peer in (bob, alice, eve):
        await peer.close()


async def test_a_long_first_message_names_the_complaint_on_one_short_line(start_server):
    running = await start_server(queue_timeout=0.5)
    alice = await peers.customer(running.url)
    words = "My withdrawal\n\nof 300 EUR " + "is still pending " * 20
    await alice.call("chat:start", {"topic": "withdrawals", "body": words})
    closed = await alice.wait_for("chat:closed", timeout=5)
    subject = closed["complaint"]["subject"]
    assert subject.startswith("My withdrawal of 300 EUR is still pending") and "\n" not in subject
    assert len(subject) <= 120 and subject.endswith("…")
    await alice.close()
