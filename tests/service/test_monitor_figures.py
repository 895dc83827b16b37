"""The queue monitor's database figures (MonitorService) on a real SQLite file, with a clock the test sets.

Withdrawals owe an answer within 24 h; the warning comes 2 h ahead of a due time.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chatserver.config import Settings
from chatserver.services.auth import ConsoleUser
from chatserver.services.container import build_services, close_services
from tests.clock import FakeClock
from tests.report_rows import History

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
async def services(tmp_path):
    built = await build_services(Settings(db=str(tmp_path / "monitor.db")), "secret", FakeClock(NOW))
    yield built
    await close_services(built)


async def test_complaints_at_risk_are_listed_however_many_are_already_breached(services):
    # 120 open complaints whose first answer was due over the last 120 minutes (breached), and 3 whose
    # answer falls due within the next hour (at risk): each list holds the most urgent of its own kind
    h = History(services.db, NOW)
    for i in range(120):
        await h.complaint(-24 - (i + 1) / 60, category="withdrawals", first_hours=24)
    for i in range(3):
        await h.complaint(-24 + (i + 1) / 6, category="withdrawals", first_hours=24)
    async with services.db.transaction() as tx:  # nothing answered yet: the first answer is owed
        await tx.execute("UPDATE complaints SET response_due = first_response_due")

    figures = (await services.monitor.floor())["complaints"]
    assert (figures["breached_total"], figures["at_risk_total"]) == (120, 3)
    assert len(figures["breached"]) == 50
    assert [c["due_at"] for c in figures["breached"][:2]] == ["2026-11-23T10:00:00.000Z", "2026-11-23T10:01:00.000Z"]
    assert [c["due_at"] for c in figures["at_risk"]] == [
        "2026-11-23T12:10:00.000Z", "2026-11-23T12:20:00.000Z", "2026-11-23T12:30:00.000Z",
    ]


async def staff(services, name: str, *, online: bool):
    row = await services.auth.create_user(
        email=f"{name.lower()}@example.test", name=name, role="agent", password="s3cret-pass", max_chats=2,
    )
    await services.dispatcher.refresh_agent(row["id"])
    await services.dispatcher.agent_connected(row["id"])
    await services.dispatcher.set_presence(row["id"], "online" if online else "away")
    return ConsoleUser.from_row(row)


def slot(figures, start: str) -> dict:
    return next(bucket for bucket in figures["timeline"] if bucket["start"] == start)


async def test_a_transfer_is_no_time_in_the_queue_and_a_hand_back_starts_a_new_wait(services):
    """A chat waits from 12:00 until Bob takes it at 12:01, is his until Carol gets it by transfer at
    12:30, and goes back to the queue when she signs off at 12:35, until Bob takes it at 12:37."""
    clock = services.clock
    services.monitor.monotonic = lambda: clock().timestamp()  # the figures are at most as old as the test's clock says
    bob, carol = await staff(services, "Bob", online=False), await staff(services, "Carol", online=True)
    await services.dispatcher.set_presence(carol.id, "away")
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    conversation_id = (await services.chats.start(customer, topic=None, body="payout?", name=None, email=None))["conversation"]["id"]
    clock.advance(minutes=1)
    await services.dispatcher.set_presence(bob.id, "online")
    assert services.dispatcher.conversation(conversation_id).agent_id == bob.id
    clock.advance(minutes=29)
    await services.dispatcher.set_presence(carol.id, "online")
    await services.chats.transfer(bob, conversation_id, carol.id)
    clock.advance(minutes=5)

    figures = await services.monitor.floor()
    assert figures["today"]["avg_wait_seconds"] == 60.0  # not the half hour with Bob
    assert slot(figures, "2026-11-23T12:00:00.000Z")["queue_avg"] == round(1 / 15, 2)
    assert slot(figures, "2026-11-23T12:15:00.000Z")["queue_avg"] == 0

    await services.dispatcher.set_presence(bob.id, "away")
    await services.dispatcher.set_presence(carol.id, "offline")  # her chats go back to the queue
    clock.advance(minutes=2)
    figures = await services.monitor.refresh_floor()
    assert slot(figures, "2026-11-23T12:30:00.000Z")["queue_avg"] == round(2 / 7, 2)  # waiting since 12:35, not 12:00
    assert slot(figures, "2026-11-23T12:30:00.000Z")["queue_peak"] == 1
    await services.dispatcher.set_presence(bob.id, "online")
    assert services.dispatcher.conversation(conversation_id).agent_id == bob.id
    clock.advance(seconds=30)
    figures = await services.monitor.refresh_floor()
    assert figures["today"]["avg_wait_seconds"] == 120.0  # its latest wait, from the hand-back
