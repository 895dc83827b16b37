"""The wall clock steps backward (an NTP correction) and forward again, on a fake clock.

SLA due times are absolute UTC and every notice is recorded once (sla_notices), so a step can delay
a warning or a breach until the clock reaches it again, but never repeat or lose one. Queue
deadlines are timers on the event loop's monotonic clock while the process runs: a step of the wall
clock neither fires one early nor holds it back; only a start-up re-arms them from the stored time.

Cast: agent bob (every category) and customers made as needed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from chatserver.config import Settings
from chatserver.services import events as ev
from chatserver.services.complaints import ComplaintService
from chatserver.services.container import Services, build_services, close_services
from tests.clock import FakeClock
from tests.conftest import eventually

NIGHT = datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc)
QUEUE_TIMEOUT = 1.5  # real seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NIGHT)


@pytest.fixture
async def services(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Services]:
    settings = Settings(db=str(tmp_path / "clock.db"), queue_timeout=QUEUE_TIMEOUT, agent_grace=60)
    built = await build_services(settings, "secret", clock)
    await built.auth.create_user(email="bob@example.test", name="Bob", role="agent", password="s3cret-pass")
    yield built
    await close_services(built)


async def customer(services: Services) -> dict[str, Any]:
    row, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    return row


async def file_complaint(services: Services) -> str:
    # withdrawals: an answer is due in 24 h, the resolution in 48 h; warnings come 2 h ahead
    filed = await services.complaints.submit_form(
        customer=await customer(services), category="withdrawals", subject="Withdrawal W-1 is late", body="A week now", email=None
    )
    return filed["reference"]


async def notices(services: Services, reference: str) -> list[tuple[str, str, str]]:
    rows = await services.db.fetch(
        "SELECT n.kind, n.target, n.due_at FROM sla_notices n JOIN complaints c ON c.id = n.complaint_id WHERE c.reference = ?",
        (reference,),
    )
    return sorted((r["kind"], r["target"], r["due_at"]) for r in rows)


def keys(fired: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(f["kind"], f["target"], f["due_at"]) for f in fired]


# -- SLA notices --------------------------------------------------------------------------------------


# hours the wall clock moves between sweeps: forward, set back by NTP, forward again, across every due time
STEPPED = (22 + 1 / 60, -3, 3, 2, -5, 5, 22, -2, 2, 1, -6, 6, 3, 20, -12, 12, 10)


def forward_only(steps: tuple[float, ...]) -> list[float]:
    """The same walk on a clock that never steps back: only the moves to a time not reached before."""
    moves, at, furthest = [], 0.0, 0.0
    for step in steps:
        at += step
        if at > furthest:
            moves.append(at - furthest)
            furthest = at
    return moves


async def walk(tmp_path: Path, name: str, steps: list[float] | tuple[float, ...]) -> dict[str, Any]:
    """File one complaint, then move the clock by each step and sweep; what fired, and the complaint after."""
    clock = FakeClock(NIGHT)
    services = await build_services(Settings(db=str(tmp_path / f"{name}.db")), "secret", clock)
    try:
        reference = await file_complaint(services)
        fired: list[tuple[str, str, str]] = []
        for hours in steps:
            clock.advance(hours=hours)
            fired += keys(await services.complaints.sweep())
        row = (await services.db.fetch("SELECT level, owner_group, response_due FROM complaints WHERE reference = ?", (reference,)))[0]
        audit = await services.db.fetch(
            "SELECT action FROM audit_events WHERE action LIKE 'complaint.sla_%' ORDER BY rowid"
        )
        return {"fired": fired, "recorded": await notices(services, reference), "complaint": row,
                "audit": [a["action"] for a in audit]}
    finally:
        await close_services(services)


async def test_each_sla_warning_and_breach_fires_once_when_the_clock_steps_back_and_forward_again(tmp_path: Path) -> None:
    stepped = await walk(tmp_path, "stepped", STEPPED)
    steady = await walk(tmp_path, "steady", forward_only(STEPPED))
    # nothing fired twice, nothing was lost: exactly what a clock that never went back fires, in order
    assert stepped == steady
    assert max(Counter(stepped["fired"]).values()) == 1
    assert sorted(stepped["fired"]) == stepped["recorded"]
    kinds = Counter((kind, target) for kind, target, _ in stepped["fired"])
    assert kinds[("warning", "response")] >= 1 and kinds[("breach", "response")] >= 1
    assert kinds[("warning", "resolution")] == 1 and kinds[("breach", "resolution")] == 1
    assert stepped["complaint"]["level"] == 3


async def test_a_warning_due_just_before_the_clock_steps_back_fires_once_the_clock_reaches_it_again(
    services: Services, clock: FakeClock
) -> None:
    reference = await file_complaint(services)
    clock.advance(hours=21, minutes=59)
    assert await services.complaints.sweep() == []
    clock.advance(minutes=2)  # the warning fell due at 22 h, but no sweep ran before the step back
    clock.advance(hours=-1)
    assert await services.complaints.sweep() == []
    clock.advance(minutes=59)
    assert keys(await services.complaints.sweep()) == [("warning", "response", "2026-11-24T22:00:00.000Z")]
    # a fresh service on the file (a restart) with its clock set back again knows it fired
    clock.advance(hours=-2)
    twin = ComplaintService(services.db, services.bus, clock, "secret")
    assert await twin.sweep() == []
    clock.advance(hours=2, minutes=1)
    assert await twin.sweep() == []
    assert len(await notices(services, reference)) == 1


async def test_a_clock_stepped_forward_and_back_leaves_what_fired_fired_once(services: Services, clock: FakeClock) -> None:
    reference = await file_complaint(services)
    clock.advance(days=3)  # a wrong clock, days ahead: everything owed looks overdue
    fired = await services.complaints.sweep()
    assert {(f["kind"], f["target"]) for f in fired} == {("breach", "response"), ("breach", "resolution")}
    clock.advance(days=-3)  # corrected
    assert await services.complaints.sweep() == []
    for _ in range(4):
        clock.advance(days=1)
        fired += await services.complaints.sweep()
    assert Counter(keys(fired)).most_common(1)[0][1] == 1
    assert await notices(services, reference) == sorted(keys(fired))


# -- queue deadlines ----------------------------------------------------------------------------------


async def closes(services: Services, conversation_id: str) -> int:
    rows = await services.db.fetch(
        "SELECT COUNT(*) AS n FROM audit_events WHERE subject = ? AND action = 'conversation.closed'", (conversation_id,)
    )
    return rows[0]["n"]


async def test_a_queue_deadline_keeps_real_time_whatever_the_wall_clock_does_and_fires_once(
    services: Services, clock: FakeClock
) -> None:
    alice = await customer(services)
    started = await services.chats.start(alice, topic=None, body="anyone?", name=None, email=None)
    chat = started["conversation"]["id"]
    loop = asyncio.get_running_loop()
    queued_at = loop.time()

    clock.advance(hours=-1)  # stepped back: the deadline must not wait an hour longer...
    await asyncio.sleep(0.25)
    clock.advance(hours=2)  # ...and stepped forward past it: it must not fire early either
    await asyncio.sleep(0.25)
    assert services.dispatcher.conversation(chat) is not None, "the deadline fired before the customer waited it out"
    assert loop.time() - queued_at < QUEUE_TIMEOUT  # (the check above ran in time to mean something)

    await eventually(lambda: services.dispatcher.conversation(chat) is None, timeout=5)
    assert loop.time() - queued_at >= QUEUE_TIMEOUT
    for step in (-1, 1, -1):
        clock.advance(hours=step)
        await asyncio.sleep(0.5)
    assert await closes(services, chat) == 1
    complaints = await services.db.fetch("SELECT source FROM complaints WHERE conversation_id = ?", (chat,))
    assert complaints == [{"source": "chat_unanswered"}]


async def test_a_clock_step_between_queueing_a_chat_and_arming_its_deadline_does_not_move_the_deadline(
    services: Services, clock: FakeClock
) -> None:
    # the step lands after the chat was stored and stamped, before the router arms its timer
    async def step_back(event: ev.Event) -> None:
        clock.advance(hours=-1)

    stop = services.bus.subscribe(step_back, [ev.CONVERSATION_STARTED])
    started = await services.chats.start(await customer(services), topic=None, body="anyone?", name=None, email=None)
    stop()
    chat = started["conversation"]["id"]
    await eventually(lambda: services.dispatcher.conversation(chat) is None, timeout=QUEUE_TIMEOUT + 3)
    assert await closes(services, chat) == 1


async def test_a_chat_queued_after_the_clock_steps_back_waits_behind_those_already_waiting(
    services: Services, clock: FakeClock
) -> None:
    alice = await services.chats.start(await customer(services), topic=None, body="first", name=None, email=None)
    clock.advance(minutes=1)
    carol = await services.chats.start(await customer(services), topic=None, body="second", name=None, email=None)
    clock.advance(hours=-1)  # stepped back: the next chat's stamp is earlier than everyone's already waiting
    dave = await services.chats.start(await customer(services), topic=None, body="third", name=None, email=None)
    ids = [started["conversation"]["id"] for started in (alice, carol, dave)]

    assert [live.id for live in services.dispatcher.queue_order()] == ids
    assert [entry["conversation_id"] for entry in services.monitor.console_queue()["queue"]] == ids
    assert [entry["position"] for entry in services.monitor.console_queue()["queue"]] == [1, 2, 3]
    assert all(entry["waiting_seconds"] >= 0 for entry in services.monitor.console_queue()["queue"]), services.monitor.console_queue()["queue"]
    assert dave["queue"]["position"] == 3

    # the first seat goes to whoever came first
    [row] = await services.db.write_returning("UPDATE users SET max_chats = 1 WHERE email = 'bob@example.test' RETURNING id")
    bob = row["id"]
    await services.dispatcher.refresh_agent(bob)
    await services.dispatcher.agent_connected(bob)
    await services.dispatcher.set_presence(bob, "online")
    assert services.dispatcher.conversation(ids[0]).agent_id == bob  # type: ignore[union-attr]
    assert [live.id for live in services.dispatcher.queue_order()] == ids[1:]


async def test_a_restart_after_the_clock_stepped_back_rebuilds_the_queue_in_the_order_chats_came(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = Settings(db=str(tmp_path / "restart.db"), queue_timeout=3600, agent_grace=60)
    first = await build_services(settings, "secret", clock)
    ids = []
    try:
        for minutes in (0, 1, -60):  # the third chat is stamped an hour before the two already waiting
            clock.advance(minutes=minutes)
            started = await first.chats.start(await customer(first), topic=None, body="hi", name=None, email=None)
            ids.append(started["conversation"]["id"])
        assert [live.id for live in first.dispatcher.queue_order()] == ids
    finally:
        await close_services(first)

    again = await build_services(settings, "secret", clock)
    try:
        assert [live.id for live in again.dispatcher.queue_order()] == ids
        assert [(entry["conversation_id"], entry["position"]) for entry in again.monitor.console_queue()["queue"]] == list(zip(ids, [1, 2, 3]))
    finally:
        await close_services(again)
