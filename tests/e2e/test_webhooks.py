"""Webhooks end to end: an admin adds a receiver in /admin/webhooks, real chats and complaints reach a
real local HTTP receiver signed with the secret shown once, failures are retried on the backoff, and
the delivery log in admin tells what happened.

The server runs on a clock the test moves, so that hours of backoff pass in a moment.
Cast: agents bob and carol, supervisor sam (conftest); admin ada; customers from the widget.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from datetime import timedelta
from typing import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from chatserver import keys
from chatserver.app import create_app
from chatserver.domain.models import utc_now
from chatserver.webhooks import signing
from chatserver.webhooks.worker import BACKOFF, MAX_ATTEMPTS
from tests import conftest, peers
from tests.admin_steps import ADA, Browserless, add_admin, field_errors, shown_secret, text_of
from tests.conftest import RunningServer, eventually, seed_cast
from tests.webhook_receiver import Receiver, webhook_receiver


class MovableClock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self):
        return utc_now() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def server(tmp_path, clock) -> AsyncIterator[RunningServer]:
    settings = conftest.test_settings(tmp_path, webhook_allow_private=True)
    test_server = TestServer(create_app(settings, clock), host="127.0.0.1")
    await test_server.start_server()
    services = test_server.app[keys.SERVICES]
    await seed_cast(services)
    await add_admin(services)
    try:
        yield RunningServer(str(test_server.make_url("")).rstrip("/"), services, settings, test_server)
    finally:
        await test_server.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with webhook_receiver() as running:
        yield running


@pytest.fixture
async def ada(server) -> AsyncIterator[Browserless]:
    client = await Browserless.login(server.url, ADA)
    yield client
    await client.close()


async def add_receiver(ada: Browserless, url: str, *events: str, description: str = "CRM") -> tuple[str, str]:
    """Add a receiver through the form; returns (its secret, the page shown after)."""
    csrf = await ada.csrf("/admin/webhooks")
    fields = [("url", url), ("description", description), *(("events", e) for e in events)]
    status, _, response = await ada.post("/admin/webhooks", fields, csrf=csrf)
    assert status == 303 and response.headers["Location"] == "/admin/webhooks"
    status, page, _ = await ada.get("/admin/webhooks")
    assert status == 200
    return shown_secret(page), page


def verified(secret: str, delivery, now: float) -> bool:
    return signing.verify(
        secret, delivery.body, delivery.header("X-Chatserver-Timestamp"), delivery.header("X-Chatserver-Signature"), now=now,
    )


async def test_a_chat_reaches_the_receiver_signed_with_the_secret_shown_once(server, ada, receiver):
    secret, page = await add_receiver(ada, receiver.url, "chat.started", "chat.assigned", "chat.closed")
    assert "Copy its signing secret now" in text_of(page) and secret.startswith("whsec_")
    _, again, _ = await ada.get("/admin/webhooks")
    assert secret not in again and secret[:10] + "…" in again  # only a hint from now on

    bob, alice, conversation_id = await peers.active_chat(server.url, body="My deposit vanished")
    await alice.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": "hello?"})
    closed = await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"})
    assert closed["ok"], closed
    await eventually(lambda: len(receiver.received) == 3)
    await alice.close()
    await bob.close()

    assert [d.header("X-Chatserver-Event") for d in receiver.received] == ["chat.started", "chat.assigned", "chat.closed"]
    for delivery in receiver.received:
        assert verified(secret, delivery, now=time.time())  # a real receiver's check, on its own clock
        assert not verified("whsec_someone-else", delivery, now=time.time())
        body = delivery.json
        assert body["id"] == delivery.header("X-Chatserver-Delivery") and body["event"] == delivery.header("X-Chatserver-Event")
        assert body["data"]["conversation"]["id"] == conversation_id
        assert abs(int(delivery.header("X-Chatserver-Timestamp")) - time.time()) < 60
    assert receiver.received[1].json["data"]["agent"]["name"] == "Bob"
    assert receiver.received[2].json["data"]["conversation"]["outcome"] == "resolved"
    bob_id = receiver.received[1].json["data"]["agent"]["id"]
    assert receiver.received[2].json["data"]["closed_by"] == {"side": "agent", "id": bob_id, "name": "Bob"}
    # message bodies are not webhook events
    assert all(b"hello?" not in d.body and b"My deposit vanished" not in d.body for d in receiver.received)

    _, log, _ = await ada.get("/admin/webhooks")
    words = text_of(log)
    assert words.count("delivered") >= 3 and "HTTP 200" in words


async def test_a_receiver_that_fails_twice_gets_it_on_the_third_try(server, ada, receiver, clock):
    secret, _ = await add_receiver(ada, receiver.url, "complaint.created")
    receiver.answers = [500, 500]
    alice = await peers.customer(server.url)
    ack = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Stuck withdrawal", "body": "A week now"})
    assert ack["ok"], ack
    await alice.close()
    worker = server.services.webhook_worker

    await eventually(lambda: len(receiver.received) == 1)
    for attempt, delay in ((2, BACKOFF[0]), (3, BACKOFF[1])):
        await eventually(_has(server, "attempts", attempt - 1))
        clock.advance(delay)
        worker.notify()
        await eventually(lambda: len(receiver.received) == attempt)
    await eventually(_has(server, "state", "delivered"))

    ids = {d.header("X-Chatserver-Delivery") for d in receiver.received}
    assert len(ids) == 1  # one delivery, three attempts
    for delivery in receiver.received:
        assert verified(secret, delivery, now=int(delivery.header("X-Chatserver-Timestamp")))
        assert delivery.json["data"]["complaint"]["reference"] == ack["complaint"]["reference"]
        assert "tracking_key" not in delivery.json["data"]["complaint"]
    stamps = [int(d.header("X-Chatserver-Timestamp")) for d in receiver.received]
    assert stamps[1] - stamps[0] >= 10 and stamps[2] - stamps[1] >= 60

    _, log, _ = await ada.get("/admin/webhooks")
    row = _log_row(log, ids.pop())
    assert "delivered" in row and "HTTP 200" in row and re.search(r"\b3 of 7\b", row)


async def test_a_receiver_that_keeps_failing_is_given_up_after_the_last_attempt(server, ada, receiver, clock):
    await add_receiver(ada, receiver.url, "complaint.created")
    receiver.answers = [500] * MAX_ATTEMPTS
    alice = await peers.customer(server.url)
    assert (await alice.call("complaint:submit", {"category": "other", "subject": "S", "body": "B"}))["ok"]
    await alice.close()
    worker = server.services.webhook_worker
    await eventually(lambda: len(receiver.received) == 1)
    for attempt, delay in enumerate(BACKOFF, start=2):
        await eventually(_has(server, "attempts", attempt - 1))
        clock.advance(delay)
        worker.notify()
        await eventually(lambda: len(receiver.received) == attempt)
    await eventually(_has(server, "state", "failed"))
    clock.advance(timedelta(hours=1))  # (console sessions last 12 hours: the backoff fits, a day would not)
    worker.notify()
    await asyncio.sleep(0.2)
    assert len(receiver.received) == MAX_ATTEMPTS

    _, log, _ = await ada.get("/admin/webhooks")
    row = _log_row(log, receiver.received[0].header("X-Chatserver-Delivery"))
    assert "failed" in row and "HTTP 500" in row and "HTTP 500 Internal Server Error" in row and "7 of 7" in row
    assert "1 failed" in text_of(log)


async def test_send_test_disable_and_enable_from_the_admin_page(server, ada, receiver):
    secret, page = await add_receiver(ada, receiver.url, "complaint.created")
    endpoint_id = re.search(r'action="/admin/webhooks/(wh_[^/"]+)/test"', page).group(1)  # type: ignore[union-attr]
    status, _, response = await ada.post(f"/admin/webhooks/{endpoint_id}/test", csrf=await ada.csrf("/admin/webhooks"))
    assert status == 303 and response.headers["Location"] == f"/admin/webhooks?endpoint={endpoint_id}"
    await eventually(lambda: len(receiver.received) == 1)
    [ping] = receiver.received
    assert ping.header("X-Chatserver-Event") == "ping" and verified(secret, ping, now=time.time())

    status, _, _ = await ada.post(f"/admin/webhooks/{endpoint_id}/disable", csrf=await ada.csrf("/admin/webhooks"))
    assert status == 303
    _, page, _ = await ada.get("/admin/webhooks")
    assert "Disabled" in text_of(page) and f"/admin/webhooks/{endpoint_id}/enable" in page
    alice = await peers.customer(server.url)
    assert (await alice.call("complaint:submit", {"category": "other", "subject": "S", "body": "B"}))["ok"]
    await alice.close()
    assert await server.services.db.fetch("SELECT * FROM webhook_deliveries WHERE event = 'complaint.created'") == []

    status, _, _ = await ada.post(f"/admin/webhooks/{endpoint_id}/enable", csrf=await ada.csrf("/admin/webhooks"))
    assert status == 303
    trail = [r["action"] for r in await server.services.db.fetch(
        "SELECT action FROM audit_events WHERE subject = ? ORDER BY at, rowid", (endpoint_id,))]
    assert trail == ["webhook.created", "webhook.test", "webhook.disabled", "webhook.enabled"]


async def test_the_form_explains_each_mistake_and_keeps_what_was_typed(server, ada):
    csrf = await ada.csrf("/admin/webhooks")
    status, page, _ = await ada.post("/admin/webhooks", [("url", "gopher://example.com/x"), ("description", "Billing <b>")], csrf=csrf)
    assert status == 400
    errors = field_errors(page)
    assert errors == {"url": "The URL must start with http:// or https://.", "events": "Choose at least one event."}
    assert 'value="gopher://example.com/x"' in page and "Billing &lt;b&gt;" in page
    assert await server.services.webhooks.endpoints() == []


async def test_only_admins_reach_the_page_and_forms_need_the_csrf_token(server, ada, receiver):
    anonymous = Browserless(server.url, "")
    status, _, response = await anonymous.get("/admin/webhooks")
    assert status == 303 and response.headers["Location"].startswith("/login?next=/admin/webhooks")
    await anonymous.close()
    for email in ("bob@example.test", "sam@example.test"):
        someone = await Browserless.login(server.url, email)
        status, _, _ = await someone.get("/admin/webhooks")
        assert status == 403
        status, _, _ = await someone.post("/admin/webhooks", [("url", receiver.url), ("events", "chat.started")], csrf="x")
        assert status == 403
        await someone.close()
    status, _, _ = await ada.post("/admin/webhooks", [("url", receiver.url), ("events", "chat.started")], csrf="")
    assert status == 403
    status, _, _ = await ada.post(
        "/admin/webhooks", [("url", receiver.url), ("events", "chat.started")],
        csrf=await ada.csrf("/admin/webhooks"), headers={"Origin": "https://evil.example"},
    )
    assert status == 403
    assert await server.services.webhooks.endpoints() == []


def _has(server: RunningServer, column: str, value: object):
    """A check for eventually(): the one delivery row's `column` equals `value`."""

    async def check() -> bool:
        rows = await server.services.db.fetch(f"SELECT {column} FROM webhook_deliveries")
        return bool(rows) and rows[0][column] == value

    return check


def _log_row(page: str, delivery_id: str) -> str:
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):
        if delivery_id in row:
            return text_of(row)
    raise AssertionError(f"delivery {delivery_id} is not in the log")


async def test_the_receiver_check_shown_on_the_page_accepts_the_real_thing_and_refuses_the_rest_without_raising(ada):
    """Receivers copy the page's example: it must answer False, not raise, whatever a request carries."""
    _, page, _ = await ada.get("/admin/webhooks")
    example = html.unescape(re.search(r'<pre class="wh-code"><code>(.*?)</code></pre>', page, re.S).group(1))  # type: ignore[union-attr]
    scope: dict = {}
    exec(compile(example, "webhooks page example", "exec"), scope)
    verify = scope["verify"]
    secret, body, now = "whsec_example", b'{"id":"dl_1"}', int(time.time())
    real = signing.signature(secret, now, body)
    assert verify(secret, body, str(now), real)
    indic = "".join(chr(0x660 + int(d)) for d in str(now))
    for timestamp, signature in [
        ("²", real), ("abc", real), ("", real), (indic, real), (str(now), "v1=ĳ"), (str(now), "v1=\udcff"), (str(now), real[:-1]),
    ]:
        assert verify(secret, body, timestamp, signature) is False, (timestamp, signature)
