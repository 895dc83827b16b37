"""Housekeeping on a real SQLite file: customers who never chatted nor complained leave after a day,
everyone with something on record stays, and so does anyone whose widget is open."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator

import pytest

from chatserver.config import Settings
from chatserver.domain.errors import Unauthorized
from chatserver.services import retention as retention_module
from chatserver.services.auth import identity_signature
from chatserver.services.container import Services, build_services, close_services
from tests.clock import FakeClock
from tests.faults import HeldWriteLock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc))


@pytest.fixture
async def services(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Services]:
    built = await build_services(Settings(db=str(tmp_path / "tidy.db"), identity_secret="idsecret"), "secret", clock)
    yield built
    await close_services(built)


async def visitor(services: Services) -> tuple[dict, str]:
    customer, token = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    assert token is not None
    return customer, token


async def customer_ids(services: Services) -> set[str]:
    return {row["id"] for row in await services.db.fetch("SELECT id FROM customers")}


async def test_visitors_who_never_chatted_leave_after_a_day_and_everyone_with_a_record_stays(services: Services, clock: FakeClock) -> None:
    passers_by = [await visitor(services) for _ in range(7)]
    chatted, _ = await visitor(services)
    await services.chats.start(chatted, topic=None, body="hello", name=None, email=None)
    complained, _ = await visitor(services)
    await services.complaints.submit_form(customer=complained, category="other", subject="Odds changed", body="After I bet.", email=None)
    expires = int((clock() + timedelta(days=30)).timestamp())
    identity = {"external_id": "player-42", "expires": expires, "signature": identity_signature("idsecret", "player-42", expires)}
    identified, _ = await services.auth.resolve_customer(token=None, locale=None, identity=identity)
    still_here, _ = await visitor(services)
    services.retention.connected_customers = lambda: {still_here["id"]}

    clock.advance(hours=23)
    assert await services.retention.tidy() == 0  # not a day old yet
    clock.advance(hours=2)
    newcomer, _ = await visitor(services)
    assert await services.retention.tidy() == 7

    assert await customer_ids(services) == {chatted["id"], complained["id"], identified["id"], still_here["id"], newcomer["id"]}
    # a passer-by coming back with the old token is a new visitor, which is all they were
    with pytest.raises(Unauthorized):
        await services.auth.resolve_customer(token=passers_by[0][1], locale=None, identity=None)
    # the next tick looks only at what was made since: nothing more to remove, kept ones stay kept
    assert await services.retention.tidy() == 0
    clock.advance(days=2)
    assert await services.retention.tidy() == 1  # the newcomer
    assert chatted["id"] in await customer_ids(services)


async def test_a_flood_of_visitors_is_removed_in_several_short_transactions(services: Services, clock: FakeClock) -> None:
    flood = 2 * retention_module.BATCH + 50
    for _ in range(flood):
        await visitor(services)
    clock.advance(days=2)
    assert await services.retention.tidy() == flood
    assert await customer_ids(services) == set()


async def test_expired_console_sessions_are_removed(services: Services, clock: FakeClock) -> None:
    await services.auth.create_user(email="bob@example.test", name="Bob", role="agent", password="s3cret-pass")
    await services.auth.login("bob@example.test", "s3cret-pass")
    assert len(await services.db.fetch("SELECT id FROM console_sessions")) == 1
    clock.advance(days=400)
    await services.retention.tidy()
    assert await services.db.fetch("SELECT id FROM console_sessions") == []


async def test_a_visitor_whose_widget_opens_while_housekeeping_waits_for_the_write_lock_is_kept(
    services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    returning, token = await visitor(services)
    passer_by, _ = await visitor(services)
    clock.advance(days=2)
    connected: set[str] = set()
    services.retention.connected_customers = lambda: set(connected)
    lock = HeldWriteLock(tmp_path / "tidy.db")
    lock.inject()  # another writer holds the file: housekeeping looks, then waits to write
    try:
        tidy = asyncio.ensure_future(services.retention.tidy())
        await asyncio.sleep(0.3)
        assert not tidy.done()
        # meanwhile the visitor comes back with their token and their widget connects
        again, _ = await services.auth.resolve_customer(token=token, locale=None, identity=None)
        connected.add(again["id"])
    finally:
        lock.clear()
    assert await tidy == 1
    assert await customer_ids(services) == {returning["id"]}
    assert passer_by["id"] not in await customer_ids(services)
