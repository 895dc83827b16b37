"""Complaints: created from chats and from the widget's form, each with a reference and SLA due times."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from chatserver.domain import complaints as rules
from chatserver.domain.errors import Invalid, NotFound
from chatserver.domain.models import iso
from chatserver.services import events as ev
from chatserver.services import presenters
from chatserver.services.clock import Clock
from chatserver.services.events import EventBus
from chatserver.store import audit, complaints, customers
from chatserver.store.db import Database, Row, Tx


class ComplaintService:
    def __init__(self, db: Database, bus: EventBus, clock: Clock, secret_key: str) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self._secret = secret_key.encode()

    def tracking_key(self, reference: str) -> str:
        """The key in the customer's acknowledgement that opens /track/{reference}."""
        return hmac.new(self._secret, f"track:{reference}".encode(), hashlib.sha256).hexdigest()[:32]

    async def category_slugs(self) -> set[str]:
        return {row["slug"] for row in await complaints.categories(self.db)}

    async def create_in(
        self,
        tx: Tx,
        *,
        source: str,
        category: str,
        subject: str,
        body: str = "",
        customer_id: str | None,
        conversation_id: str | None = None,
        channel: str = "chat",
        email: str | None = None,
        actor: str = "system",
    ) -> Row:
        """Write a complaint inside the caller's transaction (so a chat and its complaint land together)."""
        category_row = await complaints.category(tx, category) or await complaints.category(tx, rules.DEFAULT_CATEGORY)
        assert category_row is not None
        now = self.clock()
        due = rules.due_times(now, category_row["first_response_hours"], category_row["resolution_hours"])
        number = await complaints.next_number(tx, now.year)
        row = await complaints.create(
            tx,
            reference=rules.format_reference(now.year, number),
            conversation_id=conversation_id,
            customer_id=customer_id,
            category=category_row["slug"],
            subject=subject[:200],
            body=body,
            source=source,
            channel=channel,
            email=email,
            created_at=iso(now),
            first_response_due=iso(due.first_response_due),
            resolution_due=iso(due.resolution_due),
        )
        await audit.record(
            tx, actor=actor, action="complaint.created", subject=row["id"], now=iso(now),  # type: ignore[arg-type]
            details={"reference": row["reference"], "source": source, "category": row["category"]},
        )
        return row

    def public(self, row: Row, *, for_customer: bool) -> dict[str, Any]:
        data = presenters.complaint(row)
        if for_customer:
            data["tracking_key"] = self.tracking_key(row["reference"])
        return data

    async def submit_form(
        self, *, customer: Row, category: str, subject: str, body: str, email: str | None
    ) -> dict[str, Any]:
        if category not in await self.category_slugs():
            raise Invalid("unknown complaint category")
        async with self.db.transaction() as tx:
            row = await self.create_in(
                tx, source="form", category=category, subject=subject, body=body,
                customer_id=customer["id"], channel="web_form", email=email or customer["email"], actor=customer["id"],
            )
        await self.bus.publish(ev.COMPLAINT_CREATED, complaint=row, customer_id=customer["id"])
        return self.public(row, for_customer=True)

    async def track(self, reference: str, key: str) -> tuple[dict[str, Any], str]:
        """The complaint behind a tracking link and its customer's language; a wrong key is not_found."""
        row = await complaints.by_reference(self.db, reference)
        if row is None or not hmac.compare_digest(self.tracking_key(reference), key):
            raise NotFound("no complaint with this reference and key")
        customer = await customers.get(self.db, row["customer_id"]) if row["customer_id"] else None
        category = await complaints.category(self.db, row["category"])
        public = presenters.complaint(row)
        public["category_names"] = presenters.category(category)["names"] if category else {}
        return public, customer["locale"] if customer else "en"

    async def list_for_customer(self, customer_id: str) -> list[dict[str, Any]]:
        return [self.public(r, for_customer=True) for r in await complaints.list_for_customer(self.db, customer_id)]
