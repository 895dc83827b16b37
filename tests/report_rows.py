"""Rows for report tests, written straight into SQLite with every time given, so that each number a
report shows can be worked out by hand. Times are relative to `base` (a UTC datetime) in hours.

The week's data (`seed_week`) and the numbers it must give are shared by the service, end-to-end and
browser tests; the arithmetic is written out next to each expected number in tests/service/test_reports.py.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from chatserver.domain.models import iso
from chatserver.store.db import Database

_ids = itertools.count(1)


def _at(base: datetime, hours: float | None) -> str | None:
    return None if hours is None else iso(base + timedelta(hours=hours))


class History:
    def __init__(self, db: Database, base: datetime) -> None:
        self.db = db
        self.base = base
        self.customer_id: str | None = None

    async def _customer(self) -> str:
        if self.customer_id is None:
            self.customer_id = f"cu_report_{next(_ids)}"
            async with self.db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO customers (id, token_hash, name, created_at) VALUES (?, ?, 'Rita', ?)",
                    (self.customer_id, f"hash-{self.customer_id}", iso(self.base - timedelta(days=400))),
                )
        return self.customer_id

    async def chat(
        self, at: float, *, topic: str | None, agent: str | None, first_response_s: float | None, outcome: str,
        rating: int | None = None, comment: str | None = None, status: str = "closed",
    ) -> str:
        chat_id = f"cv_report_{next(_ids):04d}"
        created = self.base + timedelta(hours=at)
        first = None if first_response_s is None else iso(created + timedelta(seconds=first_response_s))
        customer_id = await self._customer()
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO conversations (id, customer_id, status, topic, agent_id, created_at, queued_at, first_response_at,"
                " closed_at, outcome, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 2)",
                (chat_id, customer_id, status, topic, agent, iso(created), iso(created), first,
                 iso(created + timedelta(minutes=20)) if status == "closed" else None, outcome if status == "closed" else None),
            )
            if rating is not None:
                await tx.execute(
                    "INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES (?, ?, ?, ?)",
                    (chat_id, rating, comment, iso(created + timedelta(minutes=21))),
                )
        return chat_id

    async def complaint(
        self, at: float, *, category: str, channel: str = "web_form", level: int = 1, assignee: str | None = None,
        first_response: float | None = None, resolved: float | None = None, status: str = "new",
        first_hours: float = 24, resolution_hours: float = 48, resolution_due: float | None = None,
        rating: int | None = None, subject: str = "Withdrawal pending", comment: str | None = None,
    ) -> str:
        """`first_response`, `resolved` and `resolution_due` are hours after `at` (the complaint's creation)."""
        number = next(_ids)
        complaint_id = f"cp_report_{number:04d}"
        created = self.base + timedelta(hours=at)
        due = resolution_hours if resolution_due is None else resolution_due
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO complaints (id, reference, category, subject, source, channel, status, level, assignee_id,"
                " created_at, first_response_due, resolution_due, first_response_at, resolved_at, rating, rating_comment,"
                " closed_at, updated_at) VALUES (?, ?, ?, ?, 'form', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    complaint_id, f"C-2026-9{number:05d}", category, subject, channel, status, level, assignee,
                    iso(created), iso(created + timedelta(hours=first_hours)), iso(created + timedelta(hours=due)),
                    _at(created, first_response), _at(created, resolved), rating, comment,
                    _at(created, resolved) if status == "closed" else None, iso(created),
                ),
            )
        return complaint_id

    async def reopened(self, complaint_id: str, at: float) -> None:
        """The status line a customer's "clarify" writes into the thread."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO complaint_entries (id, complaint_id, seq, kind, author, body, created_at)"
                " SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, 'status', 'Rita', 'reopened', ? FROM complaint_entries WHERE complaint_id = ?",
                (f"ce_report_{next(_ids)}", complaint_id, _at(self.base, at), complaint_id),
            )

    async def compensation(
        self, complaint_id: str, *, amount_minor: int, currency: str, status: str, proposed_by: str, decided_by: str | None,
        decided: float | None,
    ) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO compensations (id, complaint_id, amount_minor, currency, reason, status, proposed_by, proposed_at,"
                " decided_by, decided_at) VALUES (?, ?, ?, ?, 'Goodwill', ?, ?, ?, ?, ?)",
                (f"cm_report_{next(_ids)}", complaint_id, amount_minor, currency, status, proposed_by,
                 _at(self.base, (decided or 0) - 1), decided_by, _at(self.base, decided)),
            )


async def seed_week(db: Database, base: datetime, people: dict[str, str]) -> dict[str, Any]:
    """One week from `base` (a UTC midnight): 7 complaints, 5 chats, compensations, and rows just outside
    the week. `people` maps bob, carol (agents) and sam (supervisor) to user ids. The clock for the
    numbers of tests/service/test_reports.py is `base` + 7 days 12 hours."""
    h = History(db, base)
    bob, carol, sam = people["bob"], people["carol"], people["sam"]
    c1 = await h.complaint(10, category="withdrawals", channel="chat", assignee=bob, first_response=1, resolved=10,
                           status="closed", rating=5)
    c2 = await h.complaint(12, category="withdrawals", level=2, assignee=sam, first_response=30, resolved=50,
                           status="closed", rating=2)
    c3 = await h.complaint(24 + 9, category="account_access", channel="email", assignee=carol, first_response=2,
                           resolved=20, status="resolved", resolution_hours=24)
    c4 = await h.complaint(48 + 8, category="bonuses", channel="phone", assignee=bob, first_response=4, status="in_progress")
    await h.complaint(6 * 24 + 20, category="bonuses", status="new", subject="=HYPERLINK(\"http://evil.test\",\"click\")")
    c6 = await h.complaint(4 * 24 + 10, category="withdrawals", channel="chat", level=3, first_response=3, resolved=20,
                           status="reopened", resolution_due=25 + 48)
    await h.reopened(c6, 4 * 24 + 10 + 25)
    c7 = await h.complaint(5 * 24, category="account_access", assignee=carol, first_response=0.5, resolved=30, status="closed",
                           resolution_hours=24, resolution_due=12 + 24, rating=4, comment="+1 thanks")
    await h.reopened(c7, 5 * 24 + 12)
    # just outside the week on both sides
    c8 = await h.complaint(-0.001 / 3600, category="withdrawals", first_response=1, resolved=2, status="closed")
    await h.complaint(7 * 24, category="withdrawals", first_response=1, status="in_progress")
    await h.compensation(c1, amount_minor=1000, currency="EUR", status="approved", proposed_by=bob, decided_by=sam, decided=24 + 1)
    await h.compensation(c2, amount_minor=500, currency="EUR", status="approved", proposed_by=bob, decided_by=sam, decided=48 + 1)
    await h.compensation(c3, amount_minor=200, currency="EUR", status="rejected", proposed_by=carol, decided_by=sam, decided=48)
    await h.compensation(c6, amount_minor=3000, currency="PLN", status="approved", proposed_by=bob, decided_by=sam, decided=7 * 24 + 1)
    await h.compensation(c4, amount_minor=700, currency="EUR", status="proposed", proposed_by=bob, decided_by=None, decided=None)
    await h.compensation(c8, amount_minor=250, currency="EUR", status="approved", proposed_by=bob, decided_by=sam, decided=3)
    await h.chat(9, topic="withdrawals", agent=bob, first_response_s=30, outcome="resolved", rating=5)
    await h.chat(9.5, topic=None, agent=carol, first_response_s=90, outcome="complaint", rating=3, comment="-2 slow")
    await h.chat(24 + 14, topic="bonuses", agent=bob, first_response_s=10, outcome="resolved")
    await h.chat(48 + 15, topic="withdrawals", agent=None, first_response_s=None, outcome="abandoned")
    await h.chat(6 * 24 + 23, topic="account_access", agent=carol, first_response_s=45, outcome="resolved", rating=4)
    await h.chat(-12, topic="withdrawals", agent=bob, first_response_s=5, outcome="resolved", rating=1)
    return {"complaints": [c1, c2, c3, c4, c6, c7]}
