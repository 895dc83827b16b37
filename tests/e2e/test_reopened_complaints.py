"""A resolution the customer turned down no longer stands: on the real server, with a clock the test moves.

Withdrawals owe an answer within 24 h and a resolution within 48 h. Bob resolves a complaint; the
customer asks for more in the widget, which reopens it with a fresh resolution target; that target
is missed (the SLA sweep escalates it to Sam); Sam asks a question the customer never answers, and
the silence closes the complaint. It closed unresolved, late: the report, the staff view and the
tracking page must not credit it with the resolution the customer rejected.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from chatserver import keys
from chatserver.app import create_app
from chatserver.domain.models import utc_now
from tests import conftest, peers
from tests.conftest import RunningServer


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
    # the test sweeps when it has moved the clock; the server's own tick would race it
    settings = conftest.test_settings(tmp_path, sla_sweep_seconds=3600)
    test_server = TestServer(create_app(settings, clock), host="127.0.0.1")
    await test_server.start_server()
    services = test_server.app[keys.SERVICES]
    await conftest.seed_cast(services)
    try:
        yield RunningServer(str(test_server.make_url("")).rstrip("/"), services, settings, test_server)
    finally:
        await test_server.close()


class Staff:
    """One staff member's JSON API client (Bearer token)."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http, self.base, self.headers = http, base, {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> dict:
        async with self.http.request(method, self.base + "/api" + path, json=body, headers=self.headers) as response:
            payload = await response.json()
            assert response.status == expect, (method, path, response.status, payload)
            return payload


async def test_a_reopened_complaint_closed_by_an_unanswered_question_is_not_counted_as_resolved(server, clock, closing):
    services = server.services
    ids = {row["name"]: row["id"] for row in await services.db.fetch("SELECT id, name FROM users")}
    customer = await peers.customer(server.url)
    closing.append(customer)
    async with aiohttp.ClientSession() as http:
        bob = Staff(http, server.url, await services.auth.issue_api_token(ids["Bob"], "reopen"))
        sam = Staff(http, server.url, await services.auth.issue_api_token(ids["Sam"], "reopen"))
        filed = await customer.call("complaint:submit", {"category": "withdrawals", "subject": "Payout W-9", "body": "Late"})
        assert filed["ok"], filed
        reference, key = filed["complaint"]["reference"], filed["complaint"]["tracking_key"]
        created = date.fromisoformat(filed["complaint"]["created_at"][:10])

        clock.advance(timedelta(hours=1))
        await bob.call("POST", f"/complaints/{reference}/replies", {"kind": "resolution", "body": "Re-sent."}, expect=201)
        clock.advance(timedelta(hours=1))
        asked = await customer.call("complaint:reply", {"reference": reference, "decision": "clarify", "body": "Not here yet"})
        assert asked["ok"] and asked["complaint"]["status"] == "reopened", asked
        reopened = (await bob.call("GET", f"/complaints/{reference}"))["complaint"]
        assert reopened["resolved_at"] is None  # the resolution was turned down

        clock.advance(timedelta(hours=58))  # the 48 h the reopening gave are gone
        await services.complaints.sweep()
        assert (await sam.call("GET", f"/complaints/{reference}"))["complaint"]["level"] == 2
        await sam.call("POST", f"/complaints/{reference}/replies", {"kind": "question", "body": "Which wallet?"}, expect=201)
        clock.advance(timedelta(days=7, hours=1))
        await services.complaints.sweep()

        final = (await sam.call("GET", f"/complaints/{reference}"))["complaint"]
        assert final["status"] == "closed" and final["resolved_at"] is None
        query = f"?from={created.isoformat()}&to={(created + timedelta(days=10)).isoformat()}"
        report = (await sam.call("GET", f"/reports/summary{query}"))["complaints"]
        assert report["sla"]["resolution"] == {"met": 0, "missed": 1, "pending": 0, "percent": 0.0}
        assert report["resolution"]["count"] == 0  # it was never resolved in the end
        assert report["reopened"] == {"count": 1, "of": 1, "percent": 100.0}

        async with http.get(f"{server.url}/track/{reference}", params={"key": key, "lang": "en"}) as page:
            assert page.status == 200
            assert "<dt>Resolved</dt>" not in await page.text()
