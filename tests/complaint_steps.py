"""Steps that put a customer's complaint into a state: the staff side acts through the running
server's own services (the same objects its sockets and pages use), the customer through real clients."""

from __future__ import annotations

from typing import Any

from chatserver.services.admin.validate import CategoryValues
from chatserver.services.auth import ConsoleUser
from chatserver.services.container import Services
from chatserver.store import users
from tests import peers

BOB = "bob@example.test"
SAM = "sam@example.test"


async def retire_category(services: Services, slug: str) -> None:
    """An admin makes the category inactive, as the admin page does: new complaints can no longer take it."""
    admin = next((row for row in await users.list_active(services.db) if row["role"] == "admin"), None)
    if admin is None:
        admin = await services.auth.create_user(
            email="root@example.test", name="Root", role="admin", password=peers.CAST_PASSWORD
        )
    stored = await services.admin.catalog.category(slug)
    columns = {name: stored[name] for name in CategoryValues.__dataclass_fields__ if name != "active"}
    await services.admin.catalog.update_category(admin["id"], CategoryValues(**columns, active=False))


async def staff(services: Services, email: str = BOB) -> ConsoleUser:
    row = await users.by_email(services.db, email)
    assert row is not None, email
    return ConsoleUser.from_row(row)


async def submit(peer: Any, subject: str = "Withdrawal W-7781 pending for 5 days", body: str = "I asked for 300 EUR on the 2nd.") -> dict:
    """A complaint from the widget's form; the ack carries the reference and the tracking key."""
    ack = await peer.call("complaint:submit", {"category": "withdrawals", "subject": subject, "body": body})
    assert ack["ok"], ack
    return ack["complaint"]


async def tracked(base_url: str, services: Services) -> tuple[str, str]:
    """A complaint a customer filed and left (their widget closed): its reference and tracking key."""
    customer = await peers.customer(base_url)
    try:
        ack = await customer.call("complaint:submit", {"category": "withdrawals", "subject": "Payout", "body": "late"})
        assert ack["ok"], ack
    finally:
        await customer.close()
    reference = ack["complaint"]["reference"]
    return reference, services.complaints.tracking_key(reference)


async def ask(services: Services, reference: str, body: str) -> None:
    await services.complaints.reply(await staff(services), reference, body, ask_customer=True)


async def answer(services: Services, reference: str, body: str) -> None:
    await services.complaints.reply(await staff(services), reference, body)


async def resolve(services: Services, reference: str, body: str) -> None:
    await services.complaints.resolve(await staff(services), reference, body)


async def note(services: Services, reference: str, body: str) -> None:
    await services.complaints.note(await staff(services), reference, body)


async def compensate(services: Services, reference: str, amount_minor: int, currency: str, reason: str) -> None:
    """Bob proposes, Sam (a supervisor) approves: only then does the customer see it."""
    proposal = await services.complaints.propose_compensation(
        await staff(services), reference, amount_minor=amount_minor, currency=currency, reason=reason
    )
    await services.complaints.decide_compensation(await staff(services, SAM), proposal["id"], approve=True, note=None)


async def resolved(services: Services, peer: Any, resolution: str = "The payment was re-sent today.") -> dict:
    """A complaint from `peer`, answered and resolved by Bob."""
    complaint = await submit(peer)
    await answer(services, complaint["reference"], "We are checking this with the payments team.")
    await resolve(services, complaint["reference"], resolution)
    return complaint


async def closed(services: Services, peer: Any) -> dict:
    complaint = await resolved(services, peer)
    ack = await peer.call("complaint:reply", {"reference": complaint["reference"], "decision": "accept"})
    assert ack["ok"], ack
    return complaint
