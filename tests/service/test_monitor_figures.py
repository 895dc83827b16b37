"""The queue monitor's database figures (MonitorService) on a real SQLite file, with a clock the test sets.

Withdrawals owe an answer within 24 h; the warning comes 2 h ahead of a due time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chatserver.config import Settings
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
