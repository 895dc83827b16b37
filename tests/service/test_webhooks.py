"""Webhooks through the services and the worker, on a real SQLite file with a fake clock, delivering
to a real local HTTP receiver.

Cast: customer alice; agent bob, supervisor sam, admin ada.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from chatserver.config import Settings
from chatserver.domain.errors import Conflict, Forbidden, NotFound
from chatserver.domain.models import iso
from chatserver.services import events as ev
from chatserver.services.auth import ConsoleUser
from chatserver.services.container import build_services, close_services
from chatserver.services.webhooks import BUS_EVENTS, PUBLIC_EVENTS, InvalidEndpoint, public_event
from chatserver.store import customers
from chatserver.webhooks import signing
from chatserver.webhooks.worker import BACKOFF, MAX_ATTEMPTS, BlockedAddress, PublicResolver, WebhookWorker
from tests.procs import free_port
from tests.webhook_receiver import Receiver, webhook_receiver
from tests.clock import FakeClock
from tests.conftest import eventually
from tests.faults import HeldWriteLock

MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return FakeClock(MORNING)


@pytest.fixture
async def services(tmp_path, clock):
    settings = Settings(db=str(tmp_path / "hooks.db"), webhook_allow_private=True)
    built = await build_services(settings, "secret", clock)
    yield built
    await close_services(built)


@pytest.fixture
async def receiver():
    async with webhook_receiver() as running:
        yield running


async def person(services, name: str, role: str) -> ConsoleUser:
    row = await services.auth.create_user(email=f"{name}@example.test", name=name.title(), role=role, password="s3cret-pass")
    return ConsoleUser.from_row(row)


@pytest.fixture
async def ada(services):
    return await person(services, "ada", "admin")


@pytest.fixture
async def alice(services):
    customer, _ = await services.auth.resolve_customer(token=None, locale="en", identity=None)
    async with services.db.transaction() as tx:
        await customers.update_profile(tx, customer["id"], name="Alice", email="alice@example.test", locale=None)
    return await customers.get(services.db, customer["id"])


async def deliveries(services, state: str | None = None) -> list[dict]:
    rows = await services.db.fetch("SELECT * FROM webhook_deliveries ORDER BY created_at, rowid")
    return [r for r in rows if state is None or r["state"] == state]


async def form(services, customer, subject="Withdrawal W-1 is late"):
    return await services.complaints.submit_form(customer=customer, category="withdrawals", subject=subject, body="Pending for a week", email=None)


# -- receivers ------------------------------------------------------------------------------------


async def test_only_admins_register_receivers_and_the_secret_is_handed_out_once(services, ada, receiver):
    for role in ("agent", "supervisor"):
        with pytest.raises(Forbidden):
            await services.webhooks.register(await person(services, role, role), url=receiver.url, events=["chat.started"])
    endpoint, secret = await services.webhooks.register(ada, url=f" {receiver.url} ", events=["complaint.created", "chat.started"], description="CRM")
    assert secret.startswith("whsec_") and endpoint["url"] == receiver.url
    # stored in the contract's order, whatever order the form sent
    assert endpoint["events"] == ["chat.started", "complaint.created"] and endpoint["active"] is True
    listed = await services.webhooks.endpoints()
    assert [e["id"] for e in listed] == [endpoint["id"]]
    for view in (endpoint, listed[0], await services.webhooks.endpoint(endpoint["id"])):
        assert "secret" not in view and secret not in json.dumps(view)
        assert view["secret_hint"] == secret[:10] + "…"
    [created] = await services.db.fetch("SELECT * FROM audit_events WHERE action = 'webhook.created'")
    assert created["actor"] == ada.id and created["subject"] == endpoint["id"] and secret not in created["details"]


async def test_a_bad_form_gets_a_message_for_every_wrong_field(services, ada):
    with pytest.raises(InvalidEndpoint) as refused:
        await services.webhooks.register(ada, url="ftp://example.com", events=["chat.exploded"], description="x" * 201)
    assert set(refused.value.errors) == {"url", "events", "description"}
    with pytest.raises(InvalidEndpoint) as refused:
        await services.webhooks.register(ada, url="https://example.com/hook", events=[])
    assert refused.value.errors == {"events": "Choose at least one event."}
    assert await services.webhooks.endpoints() == []


async def test_private_targets_are_refused_unless_the_setting_allows_them(tmp_path, clock):
    settings = Settings(db=str(tmp_path / "strict.db"))
    strict = await build_services(settings, "secret", clock)
    try:
        admin = await person(strict, "ada", "admin")
        for url in ("http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "http://localhost/hook"):
            with pytest.raises(InvalidEndpoint) as refused:
                await strict.webhooks.register(admin, url=url, events=["chat.started"])
            assert set(refused.value.errors) == {"url"}
    finally:
        await close_services(strict)


# -- which events become deliveries ----------------------------------------------------------------


async def test_each_receiver_gets_the_events_it_subscribed_to_and_nothing_else(services, ada, alice, receiver):
    chats, _ = await services.webhooks.register(ada, url=receiver.url, events=["chat.started"])
    complaints, _ = await services.webhooks.register(ada, url=receiver.url + "?c", events=["complaint.created", "complaint.updated"])
    started = await services.chats.start(alice, topic=None, body="Hello?", name=None, email=None)
    await services.chats.post_customer_message(alice, started["conversation"]["id"], "c-1", "Anyone there?")
    await form(services, alice)
    rows = await deliveries(services)
    assert [(r["endpoint_id"], r["event"]) for r in rows] == [(chats["id"], "chat.started"), (complaints["id"], "complaint.created")]
    assert all(r["state"] == "pending" and r["attempts"] == 0 and r["next_attempt_at"] == iso(MORNING) for r in rows)
    body = json.loads(rows[0]["payload"])
    assert body == {
        "id": rows[0]["id"], "event": "chat.started", "created_at": iso(MORNING),
        "data": {"conversation": started["conversation"] | {"last_seq": body["data"]["conversation"]["last_seq"]}, "customer_id": alice["id"]},
    }

    await services.webhooks.set_active(ada, chats["id"], False)
    await services.chats.end_by_customer(alice, started["conversation"]["id"], resolved=None)
    second = await services.chats.start(alice, topic=None, body=None, name=None, email=None)
    assert second["conversation"]["id"] != started["conversation"]["id"]
    assert len(await deliveries(services)) == 2  # a disabled receiver is not queued for
    actions = [r["action"] for r in await services.db.fetch("SELECT action FROM audit_events WHERE action LIKE 'webhook.%' ORDER BY at, rowid")]
    assert actions == ["webhook.created", "webhook.created", "webhook.disabled"]


async def test_payloads_carry_public_views_only(services, ada, alice, receiver):
    await services.webhooks.register(ada, url=receiver.url, events=list(PUBLIC_EVENTS))
    bob = await person(services, "bob", "agent")
    created = await form(services, alice, subject="Card payment failed")
    reference = created["reference"]
    await services.complaints.note(bob, reference, "INTERNAL: customer is a known chargeback risk")
    await services.complaints.reply(bob, reference, "We are looking into it.")
    rows = await deliveries(services)
    text = " ".join(r["payload"] for r in rows)
    assert "INTERNAL" not in text and "chargeback" not in text
    assert created["tracking_key"] not in text and "tracking_key" not in text
    bodies = [json.loads(r["payload"]) for r in rows]
    assert [b["event"] for b in bodies] == ["complaint.created", "complaint.updated", "complaint.updated"]
    note, reply = bodies[1]["data"], bodies[2]["data"]
    assert (note["action"], note["public"], note["entry"]) == ("note", False, None)
    assert reply["public"] is True and reply["entry"]["body"] == "We are looking into it." and reply["entry"]["kind"] == "reply"
    assert set(reply["entry"]) == {"id", "kind", "author", "body", "created_at"}
    assert set(bodies[0]["data"]["complaint"]) == {
        "reference", "status", "category", "subject", "level", "created_at", "first_response_due", "resolution_due",
        "source", "channel", "conversation_id",
    }


def test_each_bus_event_maps_to_its_public_name_and_strips_what_is_not_public():
    conversation = {"id": "cv_1", "customer_id": "cu_1", "status": "active", "topic": None, "locale": "en", "created_at": "t0",
                    "agent_id": "u_1", "outcome": None, "last_seq": 3, "queued_at": "t0", "assigned_at": "t1"}
    complaint = {"reference": "C-2026-000001", "status": "new", "category": "other", "subject": "S", "level": 1, "created_at": "t",
                 "first_response_due": "a", "resolution_due": "b", "source": "chat_not_solved", "channel": "chat",
                 "conversation_id": "cv_1", "customer_id": "cu_1", "tracking_key": "SECRET-KEY", "body": "x"}
    assigned = public_event(ev.Event(ev.CONVERSATION_ASSIGNED, {
        "conversation": conversation, "customer": {"id": "cu_1", "token_hash": "h"}, "agent": {"id": "u_1", "name": "Bob", "role": "agent"},
        "messages": [{"body": "internal note", "internal": 1}],
    }))
    assert assigned is not None and assigned[0] == "chat.assigned"
    assert "internal note" not in json.dumps(assigned) and "token_hash" not in json.dumps(assigned)
    assert assigned[1]["agent"] == {"id": "u_1", "name": "Bob"} and assigned[1]["conversation"]["agent"] == {"id": "u_1", "name": "Bob"}
    closed = public_event(ev.Event(ev.CONVERSATION_CLOSED, {
        "conversation": {"id": "cv_1", "status": "closed", "outcome": "complaint", "extra": "x"}, "customer_id": "cu_1",
        "agent_id": "u_1", "complaint": complaint,
    }))
    assert closed is not None and closed[0] == "chat.closed" and "SECRET-KEY" not in json.dumps(closed)
    assert "extra" not in closed[1]["conversation"] and closed[1]["complaint"]["reference"] == "C-2026-000001"
    for kind, name in (("warning", "complaint.sla_warning"), ("breach", "complaint.sla_breach")):
        mapped = public_event(ev.Event(ev.COMPLAINT_SLA, {"complaint": complaint, "kind": kind, "target": "response", "due_at": "d", "level": 2}))
        assert mapped is not None and mapped[0] == name and mapped[1]["level"] == 2 and "SECRET-KEY" not in json.dumps(mapped)
    approved = {"id": "cp_1", "reference": "C-2026-000001", "amount_minor": 500, "currency": "EUR", "reason": "r",
                "status": "approved", "decided_at": "t", "proposed_by": "u_2", "decision_note": "staff only"}
    updated = public_event(ev.Event(ev.COMPLAINT_UPDATED, {
        "complaint": complaint, "customer_id": "cu_1", "action": "compensation_decided", "entry": None, "public": True, "compensation": approved,
    }))
    assert updated is not None and updated[1]["compensation"]["amount_minor"] == 500 and "staff only" not in json.dumps(updated)
    proposed = public_event(ev.Event(ev.COMPLAINT_UPDATED, {
        "complaint": complaint, "customer_id": "cu_1", "action": "compensation_proposed", "entry": None, "public": False,
        "compensation": approved | {"status": "proposed"},
    }))
    assert proposed is not None and proposed[1]["compensation"] is None
    for name in (ev.MESSAGE_POSTED, ev.TYPING, ev.QUEUE_POSITIONS, ev.AGENT_CHANGED, ev.USER_SESSIONS_ENDED):
        assert public_event(ev.Event(name, {})) is None


async def test_every_delivery_commits_with_the_change_it_announces_so_storage_refusing_the_next_write_loses_none(tmp_path, clock, receiver):
    """Each change's deliveries are in its own transaction. Here another process takes the write lock
    the instant each change has committed, for as long as the change is being announced: nothing is
    written then, and still every event has its delivery, once."""
    settings = Settings(db=str(tmp_path / "hooks.db"), webhook_allow_private=True, db_busy_timeout=0.3)
    services = await build_services(settings, "secret", clock)
    try:
        ada, bob = await person(services, "ada", "admin"), await person(services, "bob", "agent")
        customer, _ = await services.auth.resolve_customer(token=None, locale="en", identity=None)
        await services.webhooks.register(ada, url=receiver.url, events=list(PUBLIC_EVENTS))
        lock = HeldWriteLock(tmp_path / "hooks.db")
        announced: list[str] = []

        def take_the_lock(event: ev.Event) -> None:
            if event.name in BUS_EVENTS:
                announced.append(public_event(event)[0])  # type: ignore[index]
                lock.inject()

        async def give_it_back(event: ev.Event) -> None:  # subscribed last: every other subscriber ran under the lock
            lock.clear()

        services.bus.observe(take_the_lock)
        services.bus.subscribe(give_it_back)
        await services.dispatcher.agent_connected(bob.id)
        await services.dispatcher.set_presence(bob.id, "online")
        started = await services.chats.start(customer, topic="withdrawals", body="My withdrawal is stuck", name=None, email=None)
        conversation_id = started["conversation"]["id"]
        await services.chats.close_by_agent(bob, conversation_id, outcome="complaint", category="withdrawals", summary="Stuck payout")
        [complaint] = await services.db.fetch("SELECT reference FROM complaints")
        await services.complaints.reply(bob, complaint["reference"], "We are on it.")
        clock.advance(hours=72)  # past its resolution due time
        await services.complaints.sweep()
        filed = await form(services, customer)
        await services.complaints.customer_reply(customer, filed["reference"], "Any news?")
    finally:
        lock.clear()
        await close_services(services)
    reopened = sqlite3.connect(tmp_path / "hooks.db")
    rows = reopened.execute("SELECT event, payload FROM webhook_deliveries").fetchall()
    reopened.close()
    assert {"chat.started", "chat.assigned", "chat.closed", "complaint.created", "complaint.updated", "complaint.sla_breach"} <= set(announced)
    assert sorted(event for event, _ in rows) == sorted(announced)
    assert len({json.loads(payload)["id"] for _, payload in rows}) == len(rows)


# -- the worker -----------------------------------------------------------------------------------


async def test_a_delivery_is_posted_signed_and_logged(services, ada, alice, receiver: Receiver, clock):
    _, secret = await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    created = await form(services, alice)
    assert await services.webhook_worker.deliver_due() == 1
    [got] = receiver.received
    [row] = await deliveries(services)
    assert got.body == row["payload"].encode()
    assert got.header("X-Chatserver-Event") == "complaint.created"
    assert got.header("X-Chatserver-Delivery") == row["id"] == got.json["id"]
    assert got.header("X-Chatserver-Timestamp") == str(int(MORNING.timestamp()))
    assert got.header("Content-Type") == "application/json"
    assert signing.verify(secret, got.body, got.header("X-Chatserver-Timestamp"), got.header("X-Chatserver-Signature"), now=MORNING.timestamp())
    assert got.json["data"]["complaint"]["reference"] == created["reference"]
    stored = (await deliveries(services))[0]
    assert (stored["state"], stored["attempts"], stored["last_status"], stored["last_error"]) == ("delivered", 1, 200, None)
    assert stored["delivered_at"] == iso(MORNING) and stored["last_duration_ms"] >= 0
    assert await services.webhook_worker.deliver_due() == 0 and len(receiver.received) == 1


async def test_failures_are_retried_on_the_backoff_and_fail_after_the_last_attempt(services, ada, alice, receiver, clock):
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    await form(services, alice)
    receiver.answers = [500] * MAX_ATTEMPTS
    worker = services.webhook_worker
    signatures = set()
    for attempt, delay in enumerate([*BACKOFF, None], start=1):
        assert await worker.deliver_due() == 0
        assert len(receiver.received) == attempt
        signatures.add(receiver.received[-1].header("X-Chatserver-Signature"))
        [row] = await deliveries(services)
        assert row["attempts"] == attempt and row["last_status"] == 500
        assert row["last_error"] == "HTTP 500 Internal Server Error"
        if delay is None:
            assert row["state"] == "failed"
            break
        assert row["state"] == "pending" and row["next_attempt_at"] == iso(clock() + delay)
        clock.advance(delay - timedelta(seconds=1))
        assert await worker.deliver_due() == 0 and len(receiver.received) == attempt  # not due yet
        clock.advance(timedelta(seconds=1))
    # the same delivery id every time, a fresh timestamp (and so signature) on each attempt
    assert len({d.header("X-Chatserver-Delivery") for d in receiver.received}) == 1
    assert len(signatures) == MAX_ATTEMPTS
    clock.advance(timedelta(days=1))
    assert await worker.deliver_due() == 0 and len(receiver.received) == MAX_ATTEMPTS


async def test_a_receiver_hears_of_a_chat_closing_before_the_complaint_it_became(services, ada, receiver):
    await services.webhooks.register(ada, url=receiver.url, events=["chat.closed", "complaint.created"])
    for n in range(8):  # written in one transaction, in one millisecond: their order is the order written
        customer, _ = await services.auth.resolve_customer(token=None, locale="en", identity=None)
        started = await services.chats.start(customer, topic=None, body=f"Chat {n}", name=None, email=None)
        await services.chats.end_by_customer(customer, started["conversation"]["id"], resolved=False)
    assert await services.webhook_worker.deliver_due() == 16
    events = [got.json["event"] for got in receiver.received]
    assert events == ["chat.closed", "complaint.created"] * 8
    closes, complaints = receiver.received[0::2], receiver.received[1::2]
    assert [c.json["data"]["conversation"]["complaint_reference"] for c in closes] == [c.json["data"]["complaint"]["reference"] for c in complaints]


async def test_a_breach_reaches_receivers_and_live_screens_in_the_same_order(services, ada, alice, receiver, clock):
    """The level change first, then the breach that caused it: a console and a receiver tell one story."""
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.updated", "complaint.sla_breach"])
    await form(services, alice)
    live: list[str] = []
    services.bus.observe(lambda event: live.append(public_event(event)[0]) if event.name in BUS_EVENTS else None)
    clock.advance(hours=72)  # past its first-answer due time
    await services.complaints.sweep()
    assert await services.webhook_worker.deliver_due() >= 2
    delivered = [got.json["event"] for got in receiver.received]
    assert "complaint.sla_breach" in delivered
    assert [name for name in live if name in delivered] == delivered


async def test_a_committed_delivery_wakes_the_worker_by_itself_and_a_rolled_back_one_leaves_nothing(services, ada, alice, receiver):
    """What wakes the worker is the commit of its rows, not the announcement that follows: an
    assignment whose announcement is put off (storage refused a read) still goes out at once."""
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.sla_warning"])
    await form(services, alice)
    row = await services.db.fetch_one("SELECT * FROM complaints")
    warning = {"complaint": row, "kind": "warning", "target": "response", "due_at": row["response_due"], "level": 1}
    services.webhook_worker.start()  # it looks by itself only every 30 s
    try:
        with pytest.raises(RuntimeError):
            async with services.db.transaction() as tx:
                await services.bus.stage(tx, ev.COMPLAINT_SLA, **warning)
                raise RuntimeError("the change fails after its event was staged")
        assert await deliveries(services) == []
        async with services.db.transaction() as tx:
            await services.bus.stage(tx, ev.COMPLAINT_SLA, **warning)  # committed, never published
        await eventually(lambda: len(receiver.received) == 1, timeout=3)
    finally:
        await services.webhook_worker.stop()
    [delivered] = await deliveries(services)
    assert delivered["state"] == "delivered" and receiver.received[0].json["event"] == "complaint.sla_warning"


async def test_a_wake_up_that_fails_after_the_commit_does_not_report_the_committed_change_as_failed(services, ada, alice, receiver):
    """The commit is done when its callbacks run: one that raises is logged, the caller gets its answer,
    and the callbacks after it still run."""
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    woken: list[str] = []

    def broken_wake_up() -> None:
        woken.append("broken")
        raise RuntimeError("the worker could not be woken")

    services.webhooks.notify = broken_wake_up
    filed = await form(services, alice)
    assert filed["reference"] and woken == ["broken"]
    [delivery] = await deliveries(services)
    assert delivery["event"] == "complaint.created"
    async with services.db.transaction() as tx:
        tx.after_commit(broken_wake_up)
        tx.after_commit(lambda: woken.append("next"))
    assert woken == ["broken", "broken", "next"]


async def test_an_event_whose_public_view_fails_costs_its_webhook_not_the_change(services, ada, alice, receiver, caplog):
    """A fault in building what receivers see is ours, not the customer's: the change commits, the
    fault is logged; only storage refusing the rows refuses the change."""
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    async with services.db.transaction() as tx:
        await customers.update_profile(tx, alice["id"], name="Alice B.", email=None, locale=None)
        await services.bus.stage(tx, ev.COMPLAINT_CREATED, complaint={"reference": "C-2026-000009"}, customer_id=alice["id"])
    assert (await customers.get(services.db, alice["id"]))["name"] == "Alice B."
    assert await deliveries(services) == []
    assert "no webhook for complaint.created" in caplog.text
    await form(services, alice)  # and the next event is delivered as ever
    assert [r["event"] for r in await deliveries(services)] == ["complaint.created"]


async def test_a_retry_that_succeeds_is_delivered(services, ada, alice, receiver, clock):
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    await form(services, alice)
    receiver.answers = [503, 302]  # a redirect is not followed: it counts as a failure
    worker = services.webhook_worker
    await worker.deliver_due()
    clock.advance(BACKOFF[0])
    await worker.deliver_due()
    [row] = await deliveries(services)
    assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 2, 302)
    clock.advance(BACKOFF[1])
    assert await worker.deliver_due() == 1
    [row] = await deliveries(services)
    assert (row["state"], row["attempts"], row["last_status"], row["last_error"]) == ("delivered", 3, 200, None)


async def test_timeouts_and_refused_connections_are_retried(services, ada, alice, receiver, clock):
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    await services.webhooks.register(ada, url=f"http://127.0.0.1:{free_port()}/nobody-listens", events=["complaint.created"])
    await form(services, alice)
    receiver.delay = 1.0
    worker = WebhookWorker(services.db, services.settings, clock, timeout=aiohttp.ClientTimeout(total=0.2))
    try:
        assert await worker.deliver_due() == 0
    finally:
        await worker.stop()
    rows = await deliveries(services)
    errors = sorted(r["last_error"] for r in rows)
    assert errors[0].startswith("ClientConnectorError") and errors[1] == "no answer within 0.2 s"
    assert all(r["state"] == "pending" and r["attempts"] == 1 and r["last_status"] is None for r in rows)


async def test_a_slow_receiver_holds_one_delivery_slot_for_one_timeout_and_the_others_are_served(services, ada, alice, receiver, clock):
    # a receiver that stops answering must not make the healthy ones wait for its backlog
    async with webhook_receiver() as slow:
        slow.delay = 1.0
        await services.webhooks.register(ada, url=slow.url, events=["complaint.created"])
        await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
        for n in range(12):
            await form(services, alice, subject=f"Late payout {n}")
            clock.advance(seconds=1)
        worker = WebhookWorker(services.db, services.settings, clock, timeout=aiohttp.ClientTimeout(total=0.2), batch=5)
        try:
            assert await worker.deliver_due() == 12  # one pass: all of the healthy receiver's, in order
        finally:
            await worker.stop()
        assert [d.json["data"]["complaint"]["subject"] for d in receiver.received] == [f"Late payout {n}" for n in range(12)]
        assert len(slow.received) == 1  # one attempt timed out; the other eleven wait for the next pass
    to_slow = [r for r in await deliveries(services) if r["state"] == "pending"]
    assert len(to_slow) == 12 and sum(r["attempts"] for r in to_slow) == 1


async def test_a_worker_without_the_private_setting_refuses_private_targets_at_delivery(services, ada, alice, receiver, clock):
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    await form(services, alice)
    strict = WebhookWorker(services.db, services.settings.with_overrides(webhook_allow_private=False), clock)
    try:
        assert await strict.deliver_due() == 0
    finally:
        await strict.stop()
    [row] = await deliveries(services)
    assert row["last_error"].startswith("refused: The URL points to a private") and receiver.received == []


async def test_names_that_resolve_to_private_addresses_are_refused():
    resolver = PublicResolver()
    try:
        with pytest.raises(BlockedAddress, match="localhost resolves to 127.0.0.1"):
            await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()


async def test_a_disabled_receiver_holds_its_deliveries_until_enabled(services, ada, alice, receiver):
    endpoint, _ = await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    await form(services, alice)
    await services.webhooks.set_active(ada, endpoint["id"], False)
    assert await services.webhook_worker.deliver_due() == 0 and receiver.received == []
    await services.webhooks.set_active(ada, endpoint["id"], True)
    assert await services.webhook_worker.deliver_due() == 1 and len(receiver.received) == 1


async def test_send_test_queues_a_ping_for_an_enabled_receiver(services, ada, receiver):
    endpoint, secret = await services.webhooks.register(ada, url=receiver.url, events=["chat.closed"])
    delivery_id = await services.webhooks.send_test(ada, endpoint["id"])
    assert await services.webhook_worker.deliver_due() == 1
    [got] = receiver.received
    assert got.json["id"] == delivery_id and got.json["event"] == "ping" and got.json["data"]["endpoint_id"] == endpoint["id"]
    assert signing.verify(secret, got.body, got.header("X-Chatserver-Timestamp"), got.header("X-Chatserver-Signature"), now=MORNING.timestamp())
    with pytest.raises(NotFound):
        await services.webhooks.send_test(ada, "wh_nope")
    await services.webhooks.set_active(ada, endpoint["id"], False)
    with pytest.raises(Conflict):
        await services.webhooks.send_test(ada, endpoint["id"])
    with pytest.raises(Forbidden):
        await services.webhooks.send_test(await person(services, "sam", "supervisor"), endpoint["id"])


async def test_the_log_forgets_settled_deliveries_after_thirty_days(services, ada, alice, receiver, clock):
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    await form(services, alice)
    await services.webhook_worker.deliver_due()
    clock.advance(timedelta(days=29))
    await form(services, alice, subject="Another one")  # stays pending: not delivered yet
    clock.advance(timedelta(days=2))
    worker = services.webhook_worker
    await worker._prune_now_and_then()
    [left] = await deliveries(services)
    assert left["state"] == "pending" and "Another one" in left["payload"]


async def test_a_clock_set_back_does_not_put_off_pruning_the_log_until_it_catches_up(services, ada, alice, receiver, clock):
    await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
    worker = services.webhook_worker
    clock.advance(timedelta(days=365))  # a wrong clock, a year ahead, prunes once...
    await worker._prune_now_and_then()
    clock.advance(timedelta(days=-365))  # ...and is set right
    await form(services, alice)
    await worker.deliver_due()
    clock.advance(timedelta(days=31))
    await worker._prune_now_and_then()
    assert await deliveries(services) == []



async def test_a_stop_cuts_a_hanging_delivery_short_within_the_stop_timeout_and_keeps_it_pending(tmp_path, receiver, clock):
    # a stop promises to be over within shutdown_timeout; a receiver that never answers must not stretch it
    settings = Settings(db=str(tmp_path / "stop.db"), webhook_allow_private=True, shutdown_timeout=0.5)
    services = await build_services(settings, "secret", clock)
    closed = False
    try:
        ada = await person(services, "ada", "admin")
        customer, _ = await services.auth.resolve_customer(token=None, locale="en", identity=None)
        await services.webhooks.register(ada, url=receiver.url, events=["complaint.created"])
        receiver.delay = 30.0
        services.webhook_worker.start()
        await form(services, customer)
        services.webhook_worker.notify()
        for _ in range(100):
            if receiver.received:
                break
            await asyncio.sleep(0.05)
        assert receiver.received, "the delivery never started"
        began = time.monotonic()
        await close_services(services)
        closed = True
        assert time.monotonic() - began < 2.5  # the 0.5 s timeout, with room for a slow machine
    finally:
        if not closed:
            await close_services(services)
    with sqlite3.connect(tmp_path / "stop.db") as db:
        assert db.execute("SELECT state FROM webhook_deliveries").fetchall() == [("pending",)]  # sent after the restart
