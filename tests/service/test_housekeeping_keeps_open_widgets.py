"""Housekeeping never removes a customer whose widget is open when the removal commits: one who comes
back while a batch of idle visitors is being deleted keeps their row (their chat would otherwise
start on a customer that no longer exists)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator

import pytest

from chatserver.config import Settings
from chatserver.services.container import Services, build_services, close_services
from tests.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc))


@pytest.fixture
async def services(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Services]:
    built = await build_services(Settings(db=str(tmp_path / "tidy.db")), "secret", clock)
    yield built
    await close_services(built)


async def visitor(services: Services) -> tuple[dict, str]:
    customer, token = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    assert token is not None
    return customer, token


async def customer_ids(services: Services) -> set[str]:
    return {row["id"] for row in await services.db.fetch("SELECT id FROM customers")}


async def test_a_visitor_whose_widget_opens_while_the_batch_is_being_deleted_keeps_their_row(
    services: Services, clock: FakeClock
) -> None:
    passers_by = [(await visitor(services))[0] for _ in range(300)]
    returning, token = await visitor(services)  # made last: removed last in the batch
    clock.advance(days=2)
    connected: set[str] = set()
    comeback: list[asyncio.Task] = []

    async def widget_opens() -> None:
        # the widget connects with its token (a read, beside the deleting write) and is then open
        again, _ = await services.auth.resolve_customer(token=token, locale=None, identity=None)
        connected.add(again["id"])

    def open_now() -> set[str]:
        if not comeback:  # the first look, inside the deleting transaction: the visitor is on the way
            comeback.append(asyncio.ensure_future(widget_opens()))
        return set(connected)

    services.retention.connected_customers = open_now
    removed = await services.retention.tidy()
    assert comeback[0].done() and returning["id"] in connected  # it came back before the batch was done
    remaining = await customer_ids(services)
    assert returning["id"] in remaining, "an open widget's customer was removed"
    assert removed == len(passers_by)
    assert not remaining & {p["id"] for p in passers_by}
    # and the returning visitor can chat
    await services.chats.start(returning, topic=None, body="hello again", name=None, email=None)
