"""Two people, or a person and the SLA sweep, acting on one complaint at the same moment, on a real SQLite file.

As in test_simultaneous_actions.py, both actions start together (`asyncio.gather`), the first listed
first: each passes what it checks before writing, and the second writes behind the first. Where the
SLA sweep is one of them, the other action is made to commit between the sweep's look at the
complaints (on the reader) and its write, which is where a sweep that yields between slices lets
others in. Whatever is written second must be decided on what the first stored.

Cast: agents bob and carol, supervisor sam, admin ada; a customer who filed a withdrawals complaint
(first answer due in 24 h, resolution in 48 h).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest

from chatserver.config import Settings
from chatserver.domain.errors import ChatError
from chatserver.services import complaint_changes as changes
from chatserver.services import events as ev
from chatserver.services.auth import ConsoleUser
from chatserver.services.container import Services, build_services, close_services
from chatserver.store import audit
from chatserver.store import complaints as complaint_store
from tests.clock import FakeClock

NOON = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON)


@pytest.fixture
async def services(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Services]:
    settings = Settings(db=str(tmp_path / "complaints-together.db"), queue_timeout=600, agent_grace=60)
    built = await build_services(settings, "secret", clock)
    yield built
    await close_services(built)


async def staff(services: Services, name: str, role: str = "agent") -> ConsoleUser:
    row = await services.auth.create_user(email=f"{name.lower()}@example.test", name=name, role=role, password="s3cret-pass")
    return ConsoleUser.from_row(row)


async def complaint(services: Services) -> tuple[dict[str, Any], str]:
    """A customer with an address and the reference of the complaint they filed through the form."""
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    filed = await services.complaints.submit_form(
        customer=customer, category="withdrawals", subject="Withdrawal W-7781 is late", body="Asked for 300 EUR on the 2nd",
        email="olga@example.test",
    )
    return customer, filed["reference"]


async def outcome(action: Awaitable[Any]) -> Any:
    """The action's answer, or the contract error it raised."""
    try:
        return await action
    except ChatError as exc:
        return exc


async def both(first: Awaitable[Any], second: Awaitable[Any]) -> tuple[Any, Any]:
    """Run two actions together; each result is its answer or the contract error it raised."""
    return tuple(await asyncio.gather(outcome(first), outcome(second)))  # type: ignore[return-value]


def refused(result: Any, code: str) -> bool:
    return isinstance(result, ChatError) and result.code == code


async def stored(services: Services, reference: str) -> dict[str, Any]:
    row = await complaint_store.by_reference(services.db, reference)
    assert row is not None
    return row


async def thread(services: Services, reference: str) -> list[tuple[str, str]]:
    row = await stored(services, reference)
    return [(e["kind"], e["body"]) for e in await complaint_store.entries(services.db, row["id"])]


async def trail(services: Services, reference: str) -> list[str]:
    row = await stored(services, reference)
    return [e["action"] for e in await audit.for_subject(services.db, row["id"])]


async def mail(services: Services, kind: str) -> list[dict[str, Any]]:
    return await services.db.fetch("SELECT recipient FROM outbox WHERE kind = ? ORDER BY rowid", (kind,))


def after_the_sweep_looks(monkeypatch: pytest.MonkeyPatch, query: str, meanwhile: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run `meanwhile` (to its commit) right after the sweep's `query` read what is due, before the
    sweep writes anything; returns a list that receives its answer or contract error."""
    look = getattr(complaint_store, query)
    answers: list[Any] = []

    async def look_then_let_others_in(*args: Any, **kwargs: Any) -> Any:
        rows = await look(*args, **kwargs)
        if not answers:
            answers.append(await outcome(meanwhile()))
        return rows

    monkeypatch.setattr(complaint_store, query, look_then_let_others_in)
    return answers


# -- staff and staff ---------------------------------------------------------------------------


async def test_a_proposal_sent_twice_at_once_is_one_proposal_that_can_be_paid_once(services: Services) -> None:
    bob, carol = await staff(services, "Bob"), await staff(services, "Carol")
    _, reference = await complaint(services)

    def propose(who: ConsoleUser, amount: int = 2500) -> Awaitable[Any]:
        return services.complaints.propose_compensation(who, reference, amount_minor=amount, currency="EUR", reason="Late payout")

    first, second = await both(propose(bob), propose(bob))  # a double click, or a request retried
    assert not isinstance(first, ChatError) and not isinstance(second, ChatError)
    assert first["id"] == second["id"]
    row = await stored(services, reference)
    assert len(await complaint_store.compensations(services.db, row["id"])) == 1
    assert [body for _, body in await thread(services, reference) if body.startswith("Compensation proposed")] == [
        "Compensation proposed: €25.00. Late payout"
    ]
    # another amount, or a colleague's own proposal, is a proposal of its own
    assert (await propose(bob, 3000))["id"] != first["id"]
    assert (await propose(carol))["id"] != first["id"]
    assert len(await complaint_store.compensations(services.db, row["id"])) == 3


@pytest.mark.parametrize("second_approves", [True, False], ids=["both approve", "one approves, one rejects"])
async def test_two_supervisors_deciding_one_compensation_at_once_decide_it_once(
    services: Services, published: list[ev.Event], second_approves: bool
) -> None:
    bob, sam, ada = await staff(services, "Bob"), await staff(services, "Sam", "supervisor"), await staff(services, "Ada", "admin")
    _, reference = await complaint(services)
    proposal = await services.complaints.propose_compensation(bob, reference, amount_minor=2500, currency="EUR", reason="Late payout")

    first, second = await both(
        services.complaints.decide_compensation(sam, proposal["id"], approve=True, note=None),
        services.complaints.decide_compensation(ada, proposal["id"], approve=second_approves, note=None),
    )

    # the first decides; the second is told it was decided meanwhile, and nothing of it is written
    assert not isinstance(first, ChatError), first
    assert refused(second, "conflict") and "already been decided" in second.message, second
    decided = await complaint_store.compensation(services.db, proposal["id"])
    assert decided is not None and (decided["status"], decided["decided_by"]) == ("approved", sam.id)
    assert [body for kind, body in await thread(services, reference) if body.startswith("Compensation approved")] == [
        "Compensation approved: €25.00."
    ]
    assert not [body for kind, body in await thread(services, reference) if body.startswith("Compensation rejected")]
    assert (await trail(services, reference)).count("complaint.decide_compensation") == 1
    # the customer hears of the approved compensation once
    approvals = [e for e in published if e.name == ev.COMPLAINT_UPDATED and e.data["action"] == "decide_compensation"]
    assert len(approvals) == 1 and approvals[0].data["public"] is True


async def test_two_resolutions_sent_at_once_resolve_the_complaint_once_and_mail_the_customer_once(services: Services) -> None:
    bob, sam = await staff(services, "Bob"), await staff(services, "Sam", "supervisor")
    _, reference = await complaint(services)

    first, second = await both(
        services.complaints.resolve(bob, reference, "The payout was re-sent this morning."),
        services.complaints.resolve(sam, reference, "Refunded to your card."),
    )

    assert not isinstance(first, ChatError), first
    assert refused(second, "conflict"), second
    assert [e for e in await thread(services, reference) if e[0] in ("reply", "status")] == [
        ("reply", "The payout was re-sent this morning."), ("status", "resolved"),
    ]
    assert len(await mail(services, "complaint_resolved")) == 1


async def test_two_agents_escalating_at_once_raise_it_one_level_and_the_second_is_told_it_rose(services: Services) -> None:
    bob, carol = await staff(services, "Bob"), await staff(services, "Carol")
    await staff(services, "Sam", "supervisor")
    _, reference = await complaint(services)

    # two consoles, each with the escalation dialog opened at level 1
    first, second = await both(
        services.complaints.escalate(bob, reference, "Payout stuck for a week", from_level=1),
        services.complaints.escalate(carol, reference, "Customer threatens to go public", from_level=1),
    )

    # level 2 is above what an agent handles, but what Carol is told is that it rose meanwhile
    assert not isinstance(first, ChatError) and first["level"] == 2, first
    assert refused(second, "conflict") and "level 2 now" in second.message, second
    assert (await stored(services, reference))["level"] == 2
    assert (await trail(services, reference)).count("complaint.escalate") == 1
    assert await mail(services, "complaint_escalated") == [{"recipient": "sam@example.test"}]


# -- the customer in two tabs ------------------------------------------------------------------


async def test_accepting_a_resolution_from_two_tabs_closes_the_complaint_once(services: Services, published: list[ev.Event]) -> None:
    bob = await staff(services, "Bob")
    customer, reference = await complaint(services)
    await services.complaints.resolve(bob, reference, "The payout was re-sent this morning.")

    # both tabs find the complaint resolved before either writes
    first, second = await both(
        services.complaints.customer_reply(customer, reference, None, "accept"),
        services.complaints.customer_reply(customer, reference, None, "accept"),
    )

    assert not isinstance(first, ChatError) and first["status"] == "closed", first
    # the widget answers a conflict by showing the complaint as it is now: closed, as this tab wanted
    assert refused(second, "conflict"), second
    assert [body for kind, body in await thread(services, reference) if kind == "status"] == ["resolved", "closed"]
    assert (await trail(services, reference)).count("complaint.accept") == 1
    assert [e.data["action"] for e in published if e.name == ev.COMPLAINT_UPDATED].count("accept") == 1


async def test_rating_a_complaint_from_two_tabs_keeps_the_first_rating(services: Services) -> None:
    bob = await staff(services, "Bob")
    customer, reference = await complaint(services)
    await services.complaints.resolve(bob, reference, "The payout was re-sent this morning.")
    await services.complaints.customer_reply(customer, reference, None, "accept")

    first, second = await both(
        services.complaints.customer_rate(customer, reference, 5, "Quick, thanks"),
        services.complaints.customer_rate(customer, reference, 1, None),
    )

    assert not isinstance(first, ChatError), first
    assert refused(second, "conflict"), second
    row = await stored(services, reference)
    assert (row["rating"], row["rating_comment"]) == (5, "Quick, thanks")
    assert (await trail(services, reference)).count("complaint.rate") == 1


# -- a person and the SLA sweep ----------------------------------------------------------------


async def test_a_complaint_resolved_as_its_breach_falls_due_is_not_escalated(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = await staff(services, "Bob")
    await staff(services, "Sam", "supervisor")
    _, reference = await complaint(services)
    clock.advance(hours=49)  # both the first answer and the resolution are overdue
    resolved = after_the_sweep_looks(
        monkeypatch, "sla_candidates", lambda: services.complaints.resolve(bob, reference, "Refunded to your card.")
    )

    fired = await services.complaints.sweep()

    # the sweep saw it overdue, but by the time it wrote the complaint was resolved: nothing was owed
    assert not isinstance(resolved[0], ChatError), resolved
    assert fired == []
    row = await stored(services, reference)
    assert (row["status"], row["level"], row["owner_group"], row["assignee_id"]) == ("resolved", 1, "payments", bob.id)
    assert "complaint.sla_breach" not in await trail(services, reference)
    assert await mail(services, "complaint_escalated") == []


async def test_a_breach_falling_due_as_a_colleague_escalates_raises_the_level_once(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await staff(services, "Bob")
    sam = await staff(services, "Sam", "supervisor")
    await staff(services, "Ada", "admin")
    _, reference = await complaint(services)
    clock.advance(hours=49)
    escalated = after_the_sweep_looks(
        monkeypatch, "sla_candidates",
        lambda: services.complaints.escalate(sam, reference, "Payout stuck for a week", from_level=1),
    )

    fired = await services.complaints.sweep()

    # Sam's escalation is the one raise: the resolution breach is recorded against the level that
    # missed it, and takes the complaint no further than level 2
    assert not isinstance(escalated[0], ChatError) and escalated[0]["level"] == 2, escalated
    assert [(f["kind"], f["target"], f["level"]) for f in fired] == [("breach", "resolution", 2)]
    row = await stored(services, reference)
    assert (row["level"], row["owner_group"]) == (2, "supervisors")
    # supervisors hear of the breach (Sam raised it himself, so he is not told of his own escalation);
    # management, never asked, hears nothing
    assert await mail(services, "complaint_escalated") == [{"recipient": "sam@example.test"}]


async def test_a_colleague_escalating_while_the_breach_escalates_is_told_the_level_changed(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sam = await staff(services, "Sam", "supervisor")
    await staff(services, "Ada", "admin")
    _, reference = await complaint(services)
    clock.advance(hours=25)
    # Sam confirms the escalation dialog (opened at level 1) while the breach is being written
    tell = changes.tell_new_owners
    sent: list[asyncio.Task] = []

    async def escalate_meanwhile(*args: Any, **kwargs: Any) -> None:
        if not sent:
            sent.append(asyncio.create_task(services.complaints.escalate(sam, reference, "Payout stuck", from_level=1)))
        await tell(*args, **kwargs)

    monkeypatch.setattr(changes, "tell_new_owners", escalate_meanwhile)

    fired = await services.complaints.sweep()
    escalated = await outcome(sent[0])

    assert [(f["kind"], f["target"], f["level"]) for f in fired] == [("breach", "response", 2)]
    assert refused(escalated, "conflict") and "level 2 now" in escalated.message, escalated
    assert (await stored(services, reference))["level"] == 2
    assert (await trail(services, reference)).count("complaint.escalate") == 0


async def test_asking_for_more_as_the_resolved_complaint_closes_by_itself_reopens_it(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = await staff(services, "Bob")
    customer, reference = await complaint(services)
    await services.complaints.resolve(bob, reference, "The payout was re-sent this morning.")
    clock.advance(days=7, seconds=1)  # left alone for the auto-close's week
    asked = after_the_sweep_looks(
        monkeypatch, "autoclose_candidates",
        lambda: services.complaints.customer_reply(customer, reference, "It has not arrived", "clarify"),
    )

    fired = await services.complaints.sweep()

    # the customer spoke up before the sweep wrote: the week is over, nothing closes
    assert not isinstance(asked[0], ChatError) and asked[0]["status"] == "reopened", asked
    assert fired == []
    assert (await stored(services, reference))["status"] == "reopened"
    assert "complaint.auto_close" not in await trail(services, reference)


# -- a chat becoming a complaint ---------------------------------------------------------------


async def test_not_solved_from_two_tabs_of_a_chat_in_progress_files_one_complaint_and_both_tabs_show_it(
    services: Services, published: list[ev.Event]
) -> None:
    bob = await staff(services, "Bob")
    await services.dispatcher.refresh_agent(bob.id)
    await services.dispatcher.agent_connected(bob.id)
    await services.dispatcher.set_presence(bob.id, "online")
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    started = await services.chats.start(customer, topic=None, body="my withdrawal is late", name=None, email=None)
    conversation_id = started["conversation"]["id"]

    # both tabs still find the chat open: the second meets the close the first one made
    first, second = await both(
        services.chats.end_by_customer(customer, conversation_id, False),
        services.chats.end_by_customer(customer, conversation_id, False),
    )

    [filed] = await services.db.fetch("SELECT reference, source FROM complaints WHERE conversation_id = ?", (conversation_id,))
    assert filed["source"] == "chat_not_solved"
    for answer in (first, second):
        assert not isinstance(answer, ChatError), answer
        assert answer["complaint"]["reference"] == filed["reference"]
    assert len([e for e in published if e.name == ev.COMPLAINT_CREATED]) == 1
