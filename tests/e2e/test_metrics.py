"""GET /metrics after real traffic (names and values), who may read it, separate counts per app, and
structured logs (JSON lines, request ids, the access log).

Cast: agents bob and carol, supervisor sam (conftest); customers alice and eve from the widget.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Awaitable
from pathlib import Path
from unittest import mock

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request
from prometheus_client.parser import text_string_to_metric_families

from chatserver.config import SettingsError, load_settings
from chatserver.observability.access_log import AccessLogger
from chatserver.observability.logging import request_id
from chatserver.observability.metrics import Metrics
from chatserver.services import events as ev
from chatserver.transport.http.metrics import may_read, request_middleware
from tests import peers
from tests.conftest import eventually
from tests.faults import HeldWriteLock
from tests.json_logs import JsonLog

Samples = dict[tuple[str, frozenset], float]


async def scrape(base_url: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base_url}/metrics", headers=headers or {}) as response:
            return response.status, response.headers.get("Content-Type", ""), await response.text()


def samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_after_some_traffic(server):
    base = server.url
    alice = await peers.customer(base)
    started = await alice.call("chat:start", {"body": "Where is my deposit?"})
    conversation_id = started["conversation"]["id"]
    await eventually(lambda: len(server.services.dispatcher.queue_order()) == 1)

    status, content_type, text = await scrape(base)
    assert status == 200 and content_type.startswith("text/plain")
    found = samples(text)
    assert value(found, "chatserver_queue_length") == 1
    assert value(found, "chatserver_queue_longest_wait_seconds") >= 0
    assert value(found, "chatserver_sockets_connected", namespace="/customer") == 1
    assert value(found, "chatserver_people_connected", namespace="/customer") == 1
    assert value(found, "chatserver_agents_online") == 0

    bob = await peers.agent(base, "bob@example.test")
    await bob.wait_for("chat:assigned")
    for body in ("hello?", "anyone?"):
        ack = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": body})
        assert ack["ok"], ack
    same = peers.client_id()
    for _ in range(2):  # a resend is answered again, but stored (and counted) once
        assert (await bob.call("message:send", {"conversation_id": conversation_id, "client_id": same, "body": "Checking"}))["ok"]
    missing = await alice.call("message:send", {"conversation_id": "cv_nope", "client_id": peers.client_id(), "body": "x"})
    assert missing["error"]["code"] == "not_found"
    made_up = await alice.call("no:such:event", {})
    assert made_up["error"]["code"] == "invalid"
    complaint = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Late", "body": "A week"})
    assert complaint["ok"], complaint
    now = server.services.clock()
    await server.services.complaints.sweep(now + timedelta(hours=22, minutes=1))  # the first answer is nearly due
    await server.services.complaints.sweep(now + timedelta(hours=24, minutes=1))  # and then it is late
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/healthz", "/no-such-page", "/track/C-2026-000001?key=secret-key"):
            async with http.get(base + path) as response:
                await response.read()

    found = samples((await scrape(base))[2])
    assert value(found, "chatserver_messages_total", sender="customer") == 3  # the first came with chat:start
    assert value(found, "chatserver_messages_total", sender="agent") == 1
    assert value(found, "chatserver_chats_started_total") == 1
    assert value(found, "chatserver_queue_length") == 0
    assert value(found, "chatserver_queue_wait_seconds_count") == 1
    assert value(found, "chatserver_chats_active") == 1
    assert value(found, "chatserver_agents_online") == 1
    assert value(found, "chatserver_seats_free") == 1  # bob takes two chats and has one
    assert value(found, "chatserver_sockets_connected", namespace="/agent") == 1
    assert value(found, "chatserver_socket_acks_total", namespace="/customer", event="message:send", code="ok") == 2
    assert value(found, "chatserver_socket_acks_total", namespace="/customer", event="message:send", code="not_found") == 1
    assert value(found, "chatserver_socket_acks_total", namespace="/customer", event="unknown", code="invalid") == 1
    assert value(found, "chatserver_socket_acks_total", namespace="/agent", event="message:send", code="ok") == 2
    assert value(found, "chatserver_socket_acks_total", namespace="/agent", event="presence:set", code="ok") == 1
    assert not any(dict(labels).get("event") == "no:such:event" for _, labels in found)  # made-up names never become labels
    assert value(found, "chatserver_complaints_created_total", source="form") == 1
    assert value(found, "chatserver_complaint_sla_total", kind="warning", target="response") == 1
    assert value(found, "chatserver_complaint_sla_total", kind="breach", target="response") == 1
    assert value(found, "chatserver_http_requests_total", route="/healthz", method="GET", status="200") == 2
    assert value(found, "chatserver_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert value(found, "chatserver_http_requests_total", route="/track/{reference}", method="GET", status="404") == 1
    assert value(found, "chatserver_http_requests_total", route="/metrics", method="GET", status="200") >= 1
    assert value(found, "chatserver_http_request_duration_seconds_count", route="/healthz") == 2
    assert "secret-key" not in json.dumps([dict(labels) for _, labels in found])
    assert value(found, "chatserver_mail_outbox_pending") >= 0 and ("chatserver_webhook_deliveries_pending", frozenset()) in found
    assert value(found, "chatserver_webhook_attempts_total", result="delivered") == 0
    assert value(found, "chatserver_event_loop_lag_seconds_count") >= 1  # the 100 ms ticker runs
    assert any(name == "python_info" for name, _ in found)  # the standard process, platform and GC collectors

    ended = await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"})
    assert ended["ok"]
    found = samples((await scrape(base))[2])
    assert value(found, "chatserver_chats_closed_total", outcome="resolved") == 1
    await alice.close()
    await bob.close()


async def test_the_sla_counters_the_breach_alert_watches_are_there_at_zero_before_the_first_breach(server):
    """`increase(chatserver_complaint_sla_total{kind="breach"}[1h]) > 0` (docs/operations.md) sees a
    series that starts at 1 as no increase: the first breach after a start would raise no alert."""
    found = samples((await scrape(server.url))[2])
    for kind in ("warning", "breach"):
        for target in ("response", "resolution"):
            labels = frozenset({"kind": kind, "target": target}.items())
            assert found.get(("chatserver_complaint_sla_total", labels)) == 0


async def test_a_storage_fault_shows_in_the_metrics_from_the_first_scrape_and_its_end_too(server):
    # an alert on the gauge needs no refused request first, as one on the acks' counter does
    async def writable() -> float:
        return samples((await scrape(server.url))[2])[("chatserver_storage_writable", frozenset())]

    assert await writable() == 1
    lock = HeldWriteLock(Path(server.services.db.path))
    lock.inject()
    try:
        await eventually(lambda: _is(writable(), 0))  # the next probe meets the lock
    finally:
        lock.clear()
    await eventually(lambda: _is(writable(), 1))  # and the one after it finds the way clear


async def _is(value: Awaitable[float], expected: float) -> bool:
    return await value == expected


async def test_a_transfer_is_not_a_wait_and_a_requeued_chat_waits_again():
    metrics = Metrics()
    row = {"id": "cv_1", "queued_at": "2026-03-02T09:00:00.000Z", "created_at": "2026-03-02T09:00:00.000Z", "assigned_at": "2026-03-02T09:00:42.000Z"}
    metrics.observe_event(ev.Event(ev.CONVERSATION_ASSIGNED, {"conversation": row}))
    metrics.observe_event(ev.Event(ev.CONVERSATION_UNASSIGNED, {"conversation_id": "cv_1", "reason": "transferred"}))
    metrics.observe_event(ev.Event(ev.CONVERSATION_ASSIGNED, {"conversation": row | {"assigned_at": "2026-03-02T10:00:00.000Z"}}))
    metrics.observe_event(ev.Event(ev.CONVERSATION_UNASSIGNED, {"conversation_id": "cv_1", "reason": "agent_disconnected"}))
    metrics.observe_event(ev.Event(ev.CONVERSATION_ASSIGNED, {"conversation": row | {"assigned_at": "2026-03-02T11:00:00.000Z"}}))
    found = {s.name: s.value for f in text_string_to_metric_families(_text(metrics)) for s in f.samples if not s.labels}
    assert found["chatserver_queue_wait_seconds_count"] == 2  # the first assignment and the one after the requeue
    assert 42 <= found["chatserver_queue_wait_seconds_sum"] < 43  # the requeued wait was short, not two hours


def test_ack_counting_survives_any_event_name():
    metrics = Metrics()
    count = metrics.ack_counter("/customer", ["message:send"])
    count("message:send", "ok")
    count(["not", "hashable"], "invalid")
    count({"a": 1}, "ok")
    count("made:up", "rate_limited")
    found = samples(_text(metrics))
    assert value(found, "chatserver_socket_acks_total", namespace="/customer", event="message:send", code="ok") == 1
    assert value(found, "chatserver_socket_acks_total", namespace="/customer", event="unknown", code="invalid") == 1
    assert value(found, "chatserver_socket_acks_total", namespace="/customer", event="unknown", code="ok") == 1
    assert value(found, "chatserver_socket_acks_total", namespace="/customer", event="unknown", code="rate_limited") == 1


def _text(metrics: Metrics) -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


# -- who may read it --------------------------------------------------------------------------------


async def test_with_a_token_only_the_bearer_reads_metrics(start_server):
    running = await start_server(metrics_token="s3cret-metrics-token")
    assert (await scrape(running.url))[0] == 403  # from this host, but without the token
    assert (await scrape(running.url, {"Authorization": "Bearer wrong"}))[0] == 403
    assert (await scrape(running.url, {"Authorization": "Basic czNjcmV0"}))[0] == 403
    assert (await scrape(running.url, {"Authorization": "Bearer s3cret-metrics-tokenÿ"}))[0] == 403
    status, _, text = await scrape(running.url, {"Authorization": "Bearer s3cret-metrics-token"})
    assert status == 200 and "chatserver_queue_length" in text


async def test_without_a_token_only_direct_local_requests_read_metrics(server):
    assert (await scrape(server.url))[0] == 200
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):  # came through a proxy: maybe from anywhere
        assert (await scrape(server.url, {header: "198.51.100.7"}))[0] == 403


@pytest.mark.parametrize(
    "remote, token, authorization, allowed",
    [
        ("127.0.0.1", None, None, True),
        ("::1", None, None, True),
        ("10.0.0.5", None, None, False),
        ("198.51.100.7", None, None, False),
        ("198.51.100.7", "tok", "Bearer tok", True),
        ("127.0.0.1", "tok", None, False),
    ],
)
def test_who_may_read(remote, token, authorization, allowed):
    app = web.Application()
    from chatserver import keys
    from chatserver.config import Settings

    app[keys.SETTINGS] = Settings(metrics_token=token)
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (remote, 4321) if name == "peername" else default
    headers = {"Authorization": authorization} if authorization else {}
    request = make_mocked_request("GET", "/metrics", headers=headers, app=app, transport=transport)
    assert may_read(request) is allowed


async def test_two_apps_in_one_process_count_separately(start_server):
    first = await start_server()
    second = await start_server(db=first.settings.db.replace("chat.db", "other.db"))
    alice = await peers.customer(first.url)
    assert (await alice.call("chat:start", {"body": "hi"}))["ok"]
    await alice.close()
    one, two = samples((await scrape(first.url))[2]), samples((await scrape(second.url))[2])
    assert value(one, "chatserver_messages_total", sender="customer") == 1
    assert value(two, "chatserver_messages_total", sender="customer") == 0
    assert value(two, "chatserver_chats_started_total") == 0


# -- structured logs --------------------------------------------------------------------------------


def test_json_logs_are_one_object_per_line_with_extras():
    log = JsonLog("chatserver.test.json")
    logger = log.logger
    token = request_id.set("req-42")
    try:
        logger.info("assigned %s\nto %s", "cv_1", "Bob", extra={"conversation_id": "cv_1", "user_id": "u_7", "odd": object()})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it broke")
    finally:
        request_id.reset(token)
        logger.handlers = []
    first, second = log.lines()
    assert first["level"] == "info" and first["logger"] == "chatserver.test.json" and first["msg"] == "assigned cv_1\nto Bob"
    assert (first["conversation_id"], first["user_id"], first["request_id"]) == ("cv_1", "u_7", "req-42")
    assert first["ts"].endswith("Z") and first["odd"].startswith("<object")
    assert second["level"] == "error" and "ValueError: boom" in second["exc"]


async def test_requests_get_an_id_that_reaches_their_logs_and_the_access_log():
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request_id.get())
        if request.query.get("fail"):
            raise web.HTTPNotFound()
        return web.Response(text="ok")

    metrics = Metrics()
    app = web.Application(middlewares=[request_middleware(metrics)])
    app.router.add_get("/x", handler)
    log = JsonLog("chatserver.test.access")
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log_class=AccessLogger, access_log=log.logger)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.make_url("/x?key=tracking-secret"), headers={"X-Request-Id": "edge-1234"}) as given:
                assert given.headers["X-Request-Id"] == "edge-1234" and seen[-1] == "edge-1234"
            async with http.get(server.make_url("/x"), headers={"X-Request-Id": "bad id with spaces"}) as made:
                assert made.headers["X-Request-Id"] == seen[-1] and len(seen[-1]) == 16
            async with http.get(server.make_url("/x?fail=1")) as failed:
                assert failed.status == 404 and failed.headers["X-Request-Id"] == seen[-1]
        await eventually(lambda: len(log.lines()) == 3)
    finally:
        await server.close()
    lines = log.lines()
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [("GET", "/x", 200), ("GET", "/x", 200), ("GET", "/x", 404)]
    assert lines[0]["request_id"] == "edge-1234" and lines[0]["logger"] == "chatserver.test.access"
    assert "tracking-secret" not in log.text()  # the query string never reaches the log
    assert all(line["duration_ms"] >= 0 and line["remote"] == "127.0.0.1" for line in lines)


def test_log_format_is_text_or_json():
    assert load_settings(environ={"CHATSERVER_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(SettingsError, match="log_format"):
        load_settings(environ={"CHATSERVER_LOG_FORMAT": "xml"})
