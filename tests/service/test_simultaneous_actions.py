"""Two people acting on one chat at the same moment, on a real SQLite file.

Each test starts both actions together (`asyncio.gather`), the first one listed first. The first one
passes its checks and waits for its write; the second passes its own checks against what the first
has not yet changed, then waits for its write behind the first one's. Whatever the second does must
be decided on what the first one stored, never on what both saw before: that is what these tests hold.

Cast: agents bob, carol and dmitri (two seats each), supervisor sam.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from chatserver.config import Settings
from chatserver.domain.errors import ChatError
from chatserver.services import events as ev
from chatserver.services.admin.validate import UserProfile
from chatserver.services.auth import ConsoleUser
from chatserver.services.container import Services, build_services, close_services
from chatserver.store import audit
from tests.clock import FakeClock


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(db=str(tmp_path / "together.db"), queue_timeout=600, agent_grace=60)
    built = await build_services(settings, "secret", FakeClock(datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)))
    yield built
    await close_services(built)


async def staff(services: Services, name: str, *, role: str = "agent", online: bool = True) -> ConsoleUser:
    row = await services.auth.create_user(
        email=f"{name.lower()}@example.test", name=name, role=role, password="s3cret-pass", max_chats=2,
    )
    await services.dispatcher.refresh_agent(row["id"])
    await services.dispatcher.agent_connected(row["id"])
    await services.dispatcher.set_presence(row["id"], "online" if online else "away")
    return ConsoleUser.from_row(row)


async def chat_with(services: Services, agent: ConsoleUser, body: str = "my withdrawal is late") -> tuple[dict, str]:
    """A customer's chat, routed to `agent` (the only one online when it starts)."""
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    started = await services.chats.start(customer, topic=None, body=body, name=None, email=None)
    conversation_id = started["conversation"]["id"]
    assert services.dispatcher.conversation(conversation_id).agent_id == agent.id  # type: ignore[union-attr]
    return customer, conversation_id


async def both(first: Any, second: Any) -> tuple[Any, Any]:
    """Run two actions together; each result is its answer or the contract error it raised."""
    async def outcome(action: Any) -> Any:
        try:
            return await action
        except ChatError as exc:
            return exc

    return tuple(await asyncio.gather(outcome(first), outcome(second)))  # type: ignore[return-value]


async def stored(services: Services, conversation_id: str) -> dict[str, Any]:
    row = await services.db.fetch_one("SELECT status, agent_id, outcome, complaint_id FROM conversations WHERE id = ?", (conversation_id,))
    assert row is not None
    return row


async def complaints_of(services: Services, conversation_id: str) -> list[dict[str, Any]]:
    return await services.db.fetch("SELECT reference, source FROM complaints WHERE conversation_id = ?", (conversation_id,))


def told(published: list[ev.Event], name: str, conversation_id: str) -> list[ev.Event]:
    def about(event: ev.Event) -> str | None:
        conversation = event.data.get("conversation")
        return conversation.get("id") if isinstance(conversation, dict) else event.data.get("conversation_id")

    return [e for e in published if e.name == name and about(e) == conversation_id]


async def test_an_agent_taking_a_chat_as_its_queue_deadline_passes_keeps_it(services: Services, published: list[ev.Event]) -> None:
    bob = await staff(services, "Bob", online=False)
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    started = await services.chats.start(customer, topic=None, body="anyone?", name=None, email=None)
    conversation_id = started["conversation"]["id"]

    taken, _ = await both(services.chats.take(bob, conversation_id), services.chats.expire_wait(conversation_id))

    assert not isinstance(taken, ChatError), taken
    # the customer was told an agent has the chat, and that is what holds: no "nobody answered" complaint
    assert await stored(services, conversation_id) == {"status": "active", "agent_id": bob.id, "outcome": None, "complaint_id": None}
    assert await complaints_of(services, conversation_id) == []
    assert told(published, ev.CONVERSATION_CLOSED, conversation_id) == []
    assert services.dispatcher.conversation(conversation_id).agent_id == bob.id  # type: ignore[union-attr]


async def test_a_chat_that_timed_out_a_moment_before_is_refused_as_ended_not_as_a_full_console(services: Services) -> None:
    bob = await staff(services, "Bob", online=False)
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    started = await services.chats.start(customer, topic=None, body="anyone?", name=None, email=None)
    conversation_id = started["conversation"]["id"]

    _, taken = await both(services.chats.expire_wait(conversation_id), services.chats.take(bob, conversation_id))

    assert isinstance(taken, ChatError) and taken.code in ("conflict", "not_found"), taken
    assert "capacity" not in taken.message
    assert [c["source"] for c in await complaints_of(services, conversation_id)] == ["chat_unanswered"]


async def test_an_agent_signing_off_as_a_supervisor_moves_their_chat_does_not_take_it_from_the_colleague(
    services: Services, published: list[ev.Event]
) -> None:
    bob = await staff(services, "Bob")
    _, conversation_id = await chat_with(services, bob)
    carol = await staff(services, "Carol")
    sam = await staff(services, "Sam", role="supervisor", online=False)

    _, moved = await both(
        services.dispatcher.set_presence(bob.id, "offline"), services.supervision.move(sam, conversation_id, carol.id),
    )

    # either the chat went back to the queue before the move (which is then refused), or the move
    # won and the chat stays with Carol; never moved to Carol and then taken from her in Bob's name
    row = await stored(services, conversation_id)
    if isinstance(moved, ChatError):
        assert row["status"] in ("queued", "active") and row["agent_id"] != bob.id, (row, moved)
    else:
        assert row == {"status": "active", "agent_id": carol.id, "outcome": None, "complaint_id": None}, row
    requeued = [e for e in await audit.for_subject(services.db, conversation_id) if e["action"] == "conversation.requeued"]
    assert all(e["details"]["agent_id"] == bob.id for e in requeued), requeued
    assert not [e for e in told(published, ev.CONVERSATION_UNASSIGNED, conversation_id)
                if e.data["agent_id"] == carol.id and e.data["reason"] == "agent_offline"]
    live = services.dispatcher.conversation(conversation_id)
    assert live is not None and (live.status, live.agent_id) == (row["status"], row["agent_id"])


async def test_an_agent_closing_a_chat_a_supervisor_has_just_moved_is_told_it_is_no_longer_theirs(services: Services) -> None:
    bob = await staff(services, "Bob")
    _, conversation_id = await chat_with(services, bob)
    carol = await staff(services, "Carol")
    sam = await staff(services, "Sam", role="supervisor", online=False)

    moved, closed = await both(
        services.supervision.move(sam, conversation_id, carol.id),
        services.chats.close_by_agent(bob, conversation_id, "resolved", None, None),
    )

    assert not isinstance(moved, ChatError), moved
    assert isinstance(closed, ChatError) and closed.code == "forbidden", closed
    assert await stored(services, conversation_id) == {"status": "active", "agent_id": carol.id, "outcome": None, "complaint_id": None}


async def test_two_transfers_from_two_tabs_move_the_chat_once(services: Services) -> None:
    bob = await staff(services, "Bob")
    _, conversation_id = await chat_with(services, bob)
    carol = await staff(services, "Carol")
    dmitri = await staff(services, "Dmitri")

    to_carol, to_dmitri = await both(
        services.chats.transfer(bob, conversation_id, carol.id), services.chats.transfer(bob, conversation_id, dmitri.id),
    )

    # the tab that was told "transferred" is right about where the chat is
    assert not isinstance(to_carol, ChatError), to_carol
    assert isinstance(to_dmitri, ChatError) and to_dmitri.code == "conflict", to_dmitri
    assert (await stored(services, conversation_id))["agent_id"] == carol.id
    assert conversation_id in services.dispatcher.agents[carol.id].chats
    assert conversation_id not in services.dispatcher.agents[dmitri.id].chats


async def test_an_agent_transferring_a_chat_a_supervisor_has_just_moved_moves_nothing(services: Services) -> None:
    bob = await staff(services, "Bob")
    _, conversation_id = await chat_with(services, bob)
    carol = await staff(services, "Carol")
    dmitri = await staff(services, "Dmitri")
    sam = await staff(services, "Sam", role="supervisor", online=False)

    moved, transferred = await both(
        services.supervision.move(sam, conversation_id, carol.id), services.chats.transfer(bob, conversation_id, dmitri.id),
    )
    assert not isinstance(moved, ChatError), moved
    assert isinstance(transferred, ChatError) and transferred.code == "conflict", transferred
    assert (await stored(services, conversation_id))["agent_id"] == carol.id


async def test_not_solved_from_two_tabs_after_a_resolved_close_files_one_complaint_and_both_tabs_show_it(services: Services) -> None:
    bob = await staff(services, "Bob")
    customer, conversation_id = await chat_with(services, bob)
    await services.chats.close_by_agent(bob, conversation_id, "resolved", None, None)

    first, second = await both(
        services.chats.end_by_customer(customer, conversation_id, False), services.chats.end_by_customer(customer, conversation_id, False),
    )

    [complaint] = await complaints_of(services, conversation_id)
    for answer in (first, second):
        assert not isinstance(answer, ChatError), answer
        assert answer["complaint"]["reference"] == complaint["reference"]


async def test_not_solved_as_the_agent_closes_the_chat_as_resolved_still_files_the_complaint(services: Services) -> None:
    bob = await staff(services, "Bob")
    customer, conversation_id = await chat_with(services, bob)

    closed, answered = await both(
        services.chats.close_by_agent(bob, conversation_id, "resolved", None, None),
        services.chats.end_by_customer(customer, conversation_id, False),
    )

    assert not isinstance(closed, ChatError), closed
    assert not isinstance(answered, ChatError), answered
    [complaint] = await complaints_of(services, conversation_id)
    assert answered["complaint"]["reference"] == complaint["reference"] and complaint["source"] == "chat_not_solved"
    assert (await stored(services, conversation_id))["outcome"] == "complaint"


@pytest.mark.parametrize("resolved", [True, None])
async def test_the_customer_ending_as_the_agent_closes_finds_the_chat_ended_not_an_error(services: Services, resolved: bool | None) -> None:
    bob = await staff(services, "Bob")
    customer, conversation_id = await chat_with(services, bob)

    closed, ended = await both(
        services.chats.close_by_agent(bob, conversation_id, "resolved", None, None),
        services.chats.end_by_customer(customer, conversation_id, resolved),
    )

    assert not isinstance(closed, ChatError), closed
    assert not isinstance(ended, ChatError), ended
    assert ended["conversation"]["status"] == "closed"
    assert (await stored(services, conversation_id))["outcome"] == "resolved"  # the agent's close stands
    assert await complaints_of(services, conversation_id) == []


@pytest.mark.parametrize("order", ["edit first", "presence first"])
async def test_presence_set_while_an_admin_saves_the_profile_is_what_routing_uses(services: Services, order: str) -> None:
    bob = await staff(services, "Bob")
    ada = await staff(services, "Ada", role="admin", online=False)
    profile = UserProfile(name="Bob", email="bob@example.test", role="agent", max_chats=4, skills=(), languages=())
    edit = services.admin.users.update(ada, bob.id, profile)
    presence = services.dispatcher.set_presence(bob.id, "away")

    results = await both(edit, presence) if order == "edit first" else await both(presence, edit)

    assert not any(isinstance(r, ChatError) for r in results), results
    in_routing = services.dispatcher.agents[bob.id]
    row = await services.db.fetch_one("SELECT status, max_chats FROM users WHERE id = ?", (bob.id,))
    assert row == {"status": "away", "max_chats": 4}
    assert (in_routing.status, in_routing.max_chats) == ("away", 4)


async def test_an_agent_back_online_while_the_grace_period_hands_their_chats_back_stays_online(tmp_path: Path) -> None:
    settings = Settings(db=str(tmp_path / "grace.db"), queue_timeout=600, agent_grace=0.05)
    services = await build_services(settings, "secret", FakeClock(datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)))
    try:
        bob = await staff(services, "Bob")
        _, conversation_id = await chat_with(services, bob)
        came_back = asyncio.Event()

        async def back_as_it_happens(event: ev.Event) -> None:
            # the moment the grace period hands his chat back, Bob's console reconnects and he says he is online
            if event.data.get("reason") == "agent_disconnected" and not came_back.is_set():
                came_back.set()
                await services.dispatcher.agent_connected(bob.id)
                await services.dispatcher.set_presence(bob.id, "online")

        services.bus.subscribe(back_as_it_happens, [ev.CONVERSATION_UNASSIGNED])
        await services.dispatcher.agent_disconnected(bob.id)
        await asyncio.wait_for(came_back.wait(), 5)
        await asyncio.sleep(0.2)  # the grace period's work is over

        row = await services.db.fetch_one("SELECT status FROM users WHERE id = ?", (bob.id,))
        assert row == {"status": "online"}
        assert services.dispatcher.agents[bob.id].status == "online"
        # and routing uses him again: the chat handed back comes back to the only agent online
        assert services.dispatcher.conversation(conversation_id).agent_id == bob.id  # type: ignore[union-attr]
    finally:
        await close_services(services)


async def test_many_queue_deadlines_passing_together_are_all_acted_on_and_chat_writes_go_on(tmp_path: Path, caplog) -> None:
    # a start-up after downtime, or a burst of chats nobody took, makes many deadlines pass at once;
    # a tight busy timeout shows whether they crowd the write queue
    settings = Settings(db=str(tmp_path / "deadlines.db"), queue_timeout=1.5, agent_grace=60, db_busy_timeout=0.1)
    services = await build_services(settings, "secret", FakeClock(datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)))
    try:
        bob = await staff(services, "Bob")
        talker, active_id = await chat_with(services, bob, "a chat that goes on meanwhile")
        await services.dispatcher.set_presence(bob.id, "away")  # the rest wait for nobody
        waiting = []
        for n in range(400):
            customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
            started = await services.chats.start(customer, topic=None, body=f"waiting {n}", name=None, email=None)
            waiting.append(started["conversation"]["id"])
        sent = 0
        with caplog.at_level("WARNING"):
            async def all_closed() -> bool:
                rows = await services.db.fetch("SELECT COUNT(*) AS n FROM complaints WHERE source = 'chat_unanswered'")
                return rows[0]["n"] == len(waiting)

            for _ in range(400):
                # the chat in progress keeps writing through the storm
                await services.chats.post_customer_message(talker, active_id, f"c{sent}", f"still here {sent}")
                sent += 1
                if await all_closed():
                    break
                await asyncio.sleep(0.02)
            assert await all_closed()
        storage_warnings = [r.getMessage() for r in caplog.records if "storage" in r.getMessage()]
        assert storage_warnings == [], storage_warnings[:3]
        assert sent > 1
    finally:
        await close_services(services)
