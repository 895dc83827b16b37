"""One complaint change inside a transaction, its event staged there, and published after the commit.

`apply` is the only way a complaint's state moves: the pure lifecycle decides the new status, the
SLA rules the due times; then the thread entries, the row and the audit event are written together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chatserver.domain import complaint_lifecycle as lifecycle
from chatserver.domain import sla
from chatserver.domain.models import iso, parse_iso
from chatserver.services import complaint_notices as notices
from chatserver.services import events as ev
from chatserver.services.events import Event, EventBus
from chatserver.store import audit, complaints
from chatserver.store.db import Row, Tx


@dataclass(frozen=True, slots=True)
class Actor:
    id: str  # recorded in the audit trail
    name: str  # shown as an entry's author
    role: str | None = None  # staff role; None for customers and the system


SYSTEM = Actor("system", "System")


@dataclass(frozen=True, slots=True)
class Step:
    """One applied change: the complaint afterwards (with the assignee's name), the main entry written,
    whether the customer may see the change, and its `complaint.updated`, staged in its transaction."""

    row: Row
    action: str
    entry: Row | None
    public: bool
    previous_status: str
    event: Event


def sla_state(row: Row) -> sla.SlaState:
    return sla.SlaState(row["status"], row["level"], parse_iso(row["response_due"]), parse_iso(row["resolution_due"]))


async def apply(
    tx: Tx,
    bus: EventBus,
    row: Row,
    action: str,
    actor: Actor,
    now: datetime,
    *,
    compensation: Row | None = None,
    entry_kind: str | None = None,
    body: str | None = None,
    updates: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    public: bool | None = None,
    lifecycle_action: str | None = None,
    dues_action: str | None = None,
    client_id: str | None = None,
) -> Step:
    """Apply one action: the transition (Conflict when the process forbids it), the due times it implies,
    the entries (a status line whenever the status changes), the row and the audit event, and its
    event staged with them. `public` defaults to whether a customer-visible entry was written;
    `compensation` is the proposal a compensation action made or decided; `client_id` is the writer's
    own id for the entry (see ComplaintService.reply)."""
    status = lifecycle.next_status(row["status"], lifecycle_action or action)
    stamp: str = iso(now)  # type: ignore[assignment]
    category = await complaints.category(tx, row["category"])
    assert category is not None
    dues = sla.dues_after(
        dues_action or action,
        sla.Dues(parse_iso(row["response_due"]), parse_iso(row["resolution_due"])),
        now,
        timedelta(hours=category["first_response_hours"]),
        timedelta(hours=category["resolution_hours"]),
    )
    fields: dict[str, Any] = {
        "status": status, "response_due": iso(dues.response_due), "resolution_due": iso(dues.resolution_due),
        "updated_at": stamp,
    }
    if action in lifecycle.PUBLIC_REPLIES and row["first_response_at"] is None:
        fields["first_response_at"] = stamp
    if status == "resolved" and row["status"] != "resolved":
        fields["resolved_at"] = stamp
    elif row["status"] == "resolved" and status in lifecycle.OPEN_STATUSES:
        # asked for more: the resolution no longer stands, and a close that follows is no resolution
        fields["resolved_at"] = None
    if status == "closed" and row["status"] != "closed":
        fields["closed_at"] = stamp
    if status in sla.PAUSED and row["status"] not in sla.PAUSED:
        fields["paused_at"] = stamp  # the customer's turn: the resolution clock stops
    elif row["status"] in sla.PAUSED and status not in sla.PAUSED:
        fields["paused_at"] = None
        if dues.resolution_due is not None:
            fields["resolution_due"] = iso(sla.resumed_resolution_due(dues.resolution_due, parse_iso(row.get("paused_at")), now))
    fields.update(updates or {})
    author_id = actor.id if actor.role else None  # staff ids only; customers' ids stay out of the thread
    written = []
    if entry_kind is not None:
        written.append(await complaints.add_entry(
            tx, complaint_id=row["id"], kind=entry_kind, author=actor.name, author_id=author_id, body=body or "", now=stamp,
            client_id=client_id,
        ))
    if status != row["status"]:
        written.append(await complaints.add_entry(
            tx, complaint_id=row["id"], kind="status", author=actor.name, author_id=author_id, body=status, now=stamp,
        ))
    visible = any(lifecycle.is_public_entry(e["kind"]) for e in written) if public is None else public
    if visible:
        fields["last_public_at"] = stamp
    await complaints.update(tx, row["id"], **fields)
    await audit.record(
        tx, actor=actor.id, action=f"complaint.{action}", subject=row["id"], now=stamp,
        details={"reference": row["reference"], "from": row["status"], "to": status, "public": visible, **(details or {})},
    )
    after = await complaints.with_names(tx, complaint_id=row["id"])
    return await staged(tx, bus, after, action, written[0] if written else None, visible, row["status"], compensation)  # type: ignore[arg-type]


async def staged(
    tx: Tx, bus: EventBus, after: Row, action: str, entry: Row | None, public: bool, previous_status: str,
    compensation: Row | None = None,
) -> Step:
    """The step of a change written in `tx`, its event staged there. A public change never carries a
    staff-only entry, so what reaches customers is safe."""
    shown = None if public and entry is not None and not lifecycle.is_public_entry(entry["kind"]) else entry
    event = await bus.stage(
        tx, ev.COMPLAINT_UPDATED, complaint=after, customer_id=after["customer_id"], action=action,
        entry=shown, public=public, compensation=compensation,
    )
    return Step(after, action, entry, public, previous_status, event)


async def tell_new_owners(tx: Tx, row: Row, reason: str, *, escalated_by: str | None = None) -> None:
    """An e-mail to each staff member of the group that now owns the complaint, but the one who raised it."""
    owners = [person for person in await notices.owners(tx, row, row["level"]) if person["id"] != escalated_by]
    await notices.to_staff(
        tx, row, owners, "complaint_escalated",
        {"reference": row["reference"], "subject": row["subject"], "level": row["level"], "reason": reason},
        row["updated_at"],
    )


async def publish(bus: EventBus, step: Step) -> None:
    """After the commit."""
    await bus.publish_event(step.event)
