"""Which e-mail notices a complaint change owes, to whom: written to the outbox in the change's transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chatserver.domain import sla
from chatserver.domain.complaints import ACKNOWLEDGEMENT_WINDOW, plausible_email
from chatserver.domain.complaints import acknowledgement_allowed as rules_acknowledgement_allowed
from chatserver.domain.models import iso
from chatserver.store import complaints, customers, outbox, users
from chatserver.store.db import Row, Tx


async def customer_locale(tx: Tx, row: Row) -> str:
    """The customer's language now, else the one recorded with the complaint."""
    customer = await customers.get(tx, row["customer_id"]) if row["customer_id"] else None
    return (customer["locale"] if customer else None) or row.get("locale") or "en"


async def to_customer(tx: Tx, row: Row, kind: str, data: dict[str, Any], now: str) -> bool:
    """A notice to the complaint's customer when an address is known; False when there is none."""
    if not plausible_email(row["email"]):
        return False
    await outbox.enqueue(
        tx, kind=kind, recipient=row["email"], now=now, locale=await customer_locale(tx, row),
        complaint_id=row["id"], data=data,
    )
    return True


async def acknowledgement_allowed(tx: Tx, row: Row, now: datetime) -> bool:
    """Whether the complaint's address may get its acknowledgement (domain/complaints.py says why not)."""
    if not plausible_email(row["email"]):
        return False
    since = iso(now - ACKNOWLEDGEMENT_WINDOW)
    sent = await outbox.count_to(tx, kind="complaint_ack", recipient=row["email"], since=since)  # type: ignore[arg-type]
    return rules_acknowledgement_allowed(row["source"], sent)


async def owners(tx: Tx, row: Row, level: int) -> list[Row]:
    """The staff who own a complaint at `level`: at level 1 the agents who handle its category (agents
    without skills handle every category), then supervisors, then admins (management)."""
    role = sla.recipients_role(level)
    staff = await complaints.staff_with_role(tx, role)
    if level <= 1:
        staff = [s for s in staff if not json.loads(s["skills"]) or row["category"] in json.loads(s["skills"])]
    return staff


async def to_staff(tx: Tx, row: Row, staff: list[Row], kind: str, data: dict[str, Any], now: str) -> int:
    sent = 0
    for person in staff:
        if plausible_email(person["email"]):
            await outbox.enqueue(tx, kind=kind, recipient=person["email"], now=now, locale="en", complaint_id=row["id"], data=data)
            sent += 1
    return sent


async def warning_recipients(tx: Tx, row: Row) -> list[Row]:
    """The assignee when there is one who is still active, else the owner group."""
    if row["assignee_id"]:
        assignee = await users.get(tx, row["assignee_id"])
        if assignee is not None and assignee["active"]:
            return [assignee]
    return await owners(tx, row, row["level"])
