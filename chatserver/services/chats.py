"""Chats: start, post, read history, end, close, transfer, take, rate.

Checks who may act (`_check_*`), writes through the store, then publishes. A customer only ever
touches their own conversation; an agent only the ones assigned to them (supervisors: any).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Iterator

from chatserver.domain.errors import ChatError, Conflict, Forbidden, Invalid, NotFound, RateLimited
from chatserver.domain.models import iso, parse_iso
from chatserver.services import events as ev
from chatserver.services import presenters
from chatserver.services.auth import ConsoleUser
from chatserver.services.clock import Clock
from chatserver.services.complaints import ComplaintService
from chatserver.services.dispatch import Dispatcher
from chatserver.services.live import LiveConversation
from chatserver.services.events import EventBus
from chatserver.store import audit, complaints, conversations, customers, users
from chatserver.store.db import Database, Row, Tx


# how long after an agent closed a chat as resolved its customer may still say it was not
ANSWER_WINDOW = timedelta(hours=24)
# a complaint from a chat is named after the customer's first words, cut to fit a list row
SUBJECT_CHARS = 120
# the customer ended the chat without saying it was unsolved: "abandoned" if it was still waiting,
# else "resolved", read from the stored row inside the closing transaction
CUSTOMER_LEFT = "customer_left"
# who closed a chat, as the agent's consoles are told (`closed_by` of `chat:updated`)
BY_CUSTOMER: dict[str, Any] = {"side": "customer", "id": None, "name": None}
BY_SYSTEM: dict[str, Any] = {"side": "system", "id": None, "name": None}


def _by_staff(user_id: str, name: str | None) -> dict[str, Any]:
    return {"side": "agent", "id": user_id, "name": name}


class ChatService:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        dispatcher: Dispatcher,
        complaint_service: ComplaintService,
        *,
        queue_timeout: float,
        waiting_per_address: int | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.dispatcher = dispatcher
        self.complaints = complaint_service
        self.queue_timeout = queue_timeout
        self.waiting_per_address = waiting_per_address
        # chats being stored right now, per address: counted with the waiting ones, so that starts
        # arriving together cannot all pass the cap before any of them is in the queue
        self._starting: Counter[str] = Counter()
        dispatcher.on_wait_expired = self.expire_wait

    # -- reading ----------------------------------------------------------------------------

    async def public_conversation(self, row: Row, *, for_customer: bool = False, reference: str | None = None) -> dict[str, Any]:
        agent = self.dispatcher.agents.get(row["agent_id"]) if row["agent_id"] else None
        if row["complaint_id"] and reference is None:
            complaint = await complaints.by_conversation(self.db, row["id"])
            reference = complaint["reference"] if complaint else None
        return presenters.conversation(row, agent.name if agent else None, reference, for_customer=for_customer)

    async def open_conversation_for(self, customer_id: str) -> dict[str, Any] | None:
        row = await conversations.open_for_customer(self.db, customer_id)
        return await self.public_conversation(row, for_customer=True) if row else None

    async def customer_history(self, user: ConsoleUser, conversation_id: str) -> dict[str, Any]:
        """The customer behind a chat this console user may read, with their earlier chats and complaints."""
        row = await conversations.get(self.db, conversation_id)
        # a missing chat and someone else's get the same answer: nothing to probe
        if row is None or not (user.is_supervisor or row["agent_id"] == user.id or row["status"] == "queued"):
            raise NotFound("no such conversation")
        customer = await customers.get(self.db, row["customer_id"])
        earlier = [r for r in await conversations.list_for_customer(self.db, row["customer_id"]) if r["id"] != row["id"]]
        return {
            "conversation": await self.public_conversation(row),
            "customer": presenters.customer(customer),
            "conversations": [await self.public_conversation(r) for r in earlier],
            "complaints": [presenters.complaint(r) for r in await complaints.list_for_customer(self.db, row["customer_id"])],
        }

    async def history(self, conversation_id: str, after_seq: int, *, customer_id: str | None = None, user: ConsoleUser | None = None) -> dict[str, Any]:
        """One page of what follows `after_seq` (`store.conversations.PAGE_*` bound it) and whether more
        follow: the client asks again after the last seq it got."""
        row = await self._readable(conversation_id, customer_id=customer_id, user=user)
        page = await conversations.messages_page(self.db, row["id"], after_seq, include_internal=user is not None)
        answer: dict[str, Any] = {"messages": [presenters.message(m, for_agent=user is not None) for m in page.messages], "more": page.more}
        if row["status"] == "closed":
            answer.update(await self._how_it_closed(row, for_customer=user is None))
        return answer

    async def _how_it_closed(self, row: Row, *, for_customer: bool) -> dict[str, Any]:
        """For a client that was away when the chat closed: a console says how and who closed it, as
        chat:updated would have; a widget shows the ending chat:closed would have, the question "was it
        solved?" included while the answer still counts (`answer_until`)."""
        closed_by = await self._closed_by(self.db, row)
        if not for_customer:
            return {"conversation": {**await self.public_conversation(row), "closed_by": closed_by}}
        closed_at = parse_iso(row["closed_at"])
        view = await self.public_conversation(row, for_customer=True)
        # the name as staff sign their messages: a supervisor may close a chat another agent held
        view["closed_by"] = {"side": closed_by["side"], "name": closed_by["name"]}
        view["answer_until"] = iso(closed_at + ANSWER_WINDOW) if closed_at and await self._may_become_complaint(self.db, row) else None
        answer: dict[str, Any] = {"conversation": view}
        if row["complaint_id"]:
            filed = await complaints.by_conversation(self.db, row["id"])
            answer["complaint"] = self.complaints.public(filed, for_customer=True) if filed else None
        return answer

    async def _readable(self, conversation_id: str, *, customer_id: str | None, user: ConsoleUser | None) -> Row:
        row = await conversations.get(self.db, conversation_id)
        if row is None:
            raise NotFound("no such conversation")
        if customer_id is not None and row["customer_id"] != customer_id:
            raise NotFound("no such conversation")  # same answer as a missing id: nothing to probe
        if user is not None and not user.is_supervisor and row["agent_id"] != user.id and row["status"] != "queued":
            raise Forbidden("this conversation is not assigned to you")
        return row

    def _live_owned(self, conversation_id: str, customer_id: str) -> LiveConversation:
        live = self.dispatcher.conversation(conversation_id)
        if live is None or live.customer_id != customer_id:
            raise NotFound("no open conversation with this id")
        return live

    def _live_assigned(self, conversation_id: str, user: ConsoleUser) -> LiveConversation:
        live = self.dispatcher.conversation(conversation_id)
        if live is None:
            raise NotFound("no open conversation with this id")
        if live.agent_id != user.id and not (user.is_supervisor and live.status == "active"):
            raise Forbidden("this conversation is not assigned to you")
        return live

    # -- customers --------------------------------------------------------------------------

    async def start(
        self, customer: Row, *, topic: str | None, body: str | None, name: str | None, email: str | None,
        address: str | None = None,
    ) -> dict[str, Any]:
        """A new chat in the queue, or the customer's open one. `address` is the client address (a
        limit key) it comes from: at most `waiting_per_address` chats from one wait at once."""
        if topic is not None and topic not in await self.complaints.category_slugs():
            raise Invalid("unknown topic")
        existing = self.dispatcher.open_for_customer(customer["id"])
        if existing is None:
            with self._place_in_queue(address):
                return await self._start_new(customer, topic=topic, body=body, name=name, email=email, address=address)
        return await self._open_one(customer)

    @contextmanager
    def _place_in_queue(self, address: str | None) -> Iterator[None]:
        """Refuses a start from an address that has `waiting_per_address` chats waiting or being stored."""
        if address is None or self.waiting_per_address is None:
            yield
            return
        if self.dispatcher.waiting_from(address) + self._starting[address] >= self.waiting_per_address:
            raise RateLimited("too many chats are waiting from this address; please wait for an agent")
        self._starting[address] += 1
        try:
            yield
        finally:
            self._starting[address] -= 1
            if not self._starting[address]:
                del self._starting[address]

    async def _start_new(
        self, customer: Row, *, topic: str | None, body: str | None, name: str | None, email: str | None, address: str | None,
    ) -> dict[str, Any]:
        now = self.clock()
        first: Row | None = None
        async with self.db.transaction() as tx:
            if name or email:
                # typed details are shown to agents but never bind or unlock an identity
                await customers.update_profile(tx, customer["id"], name=name, email=email, locale=None)
            row = await conversations.create_queued(
                tx,
                customer_id=customer["id"],
                topic=topic,
                locale=customer["locale"],
                now=iso(now),  # type: ignore[arg-type]
                deadline=iso(now + timedelta(seconds=self.queue_timeout)),  # type: ignore[arg-type]
            )
            if row is None:
                started = None
            else:
                if body:
                    first = await conversations.append_message_in(
                        tx, conversation_id=row["id"], sender="customer",
                        author=name or customer["name"] or "Customer", author_id=customer["id"], body=body, now=iso(now),  # type: ignore[arg-type]
                    )
                started = await self.bus.stage(tx, ev.CONVERSATION_STARTED, conversation=row, customer_id=customer["id"], message=first)
        if started is None:  # another tab started one a moment before
            return await self._open_one(customer)
        await self.bus.publish_event(started)
        queue = await self.dispatcher.enqueue(row, origin=address)
        fresh = await conversations.get(self.db, row["id"])
        return {"conversation": await self.public_conversation(fresh, for_customer=True), "queue": queue}  # type: ignore[arg-type]

    async def _open_one(self, customer: Row) -> dict[str, Any]:
        row = await conversations.open_for_customer(self.db, customer["id"])
        if row is None:
            raise Conflict("could not start the chat; try again")
        return {"conversation": await self.public_conversation(row, for_customer=True), "queue": self.dispatcher.queue_info(row["id"])}

    async def post_customer_message(self, customer: Row, conversation_id: str, client_id: str, body: str) -> dict:
        try:
            live = self._live_owned(conversation_id, customer["id"])
        except NotFound as refused:
            return await self._stored_before(conversation_id, client_id, customer["id"], refused, for_agent=False)
        author = customer["name"] or "Customer"
        return await self._post(live, "customer", author, customer["id"], body, False, client_id, for_agent=False)

    async def end_by_customer(self, customer: Row, conversation_id: str, resolved: bool | None) -> dict[str, Any]:
        if self.dispatcher.conversation(conversation_id) is None:
            return await self._answer_after_close(customer, conversation_id, resolved)
        live = self._live_owned(conversation_id, customer["id"])
        try:
            if resolved is False:
                return await self._close(
                    live, "complaint", source="chat_not_solved", actor=customer["id"], closed_by=BY_CUSTOMER, for_customer=True,
                )
            # abandoned or resolved is decided on the stored row: an agent may take the chat a moment before
            return await self._close(live, CUSTOMER_LEFT, actor=customer["id"], closed_by=BY_CUSTOMER, for_customer=True)
        except Conflict:
            # the agent closed it a moment before: the customer finds it ended, and "not solved" still
            # turns that chat into a complaint
            return await self._answer_after_close(customer, conversation_id, resolved)

    async def _answer_after_close(self, customer: Row, conversation_id: str, resolved: bool | None) -> dict[str, Any]:
        """The agent closed the chat as resolved; the customer's answer to "Was your problem solved?"
        still counts: "no" turns that same chat into a complaint (within a day of the close)."""
        row = await self._readable(conversation_id, customer_id=customer["id"], user=None)
        complaint_row: Row | None = None
        if resolved is False and await self._may_become_complaint(self.db, row):
            async with self.db.transaction() as tx:
                # decided again on the row as this transaction sees it: the same answer from a second
                # tab a moment before has filed the complaint already, and gets it back below
                row = await conversations.get(tx, conversation_id)  # type: ignore[assignment]
                if await self._may_become_complaint(tx, row):
                    complaint_row = await self.complaints.create_in(
                        tx, source="chat_not_solved", category=row["topic"] or "other",
                        subject=await _subject(tx, row["id"], "chat_not_solved"), customer_id=customer["id"], conversation_id=row["id"],
                        channel="chat", email=customer["email"], actor=customer["id"],
                    )
                    if not await conversations.mark_complaint(tx, conversation_id=row["id"], complaint_id=complaint_row["id"]):
                        raise Conflict("this chat already has a complaint")
                    fresh = await conversations.get(tx, row["id"])
                    customer_view = self.complaints.public(complaint_row, for_customer=True)
                    announced = [
                        await self.bus.stage(
                            tx, ev.CONVERSATION_CLOSED, customer_id=customer["id"], agent_id=row["agent_id"], complaint=customer_view,
                            conversation=await self.public_conversation(fresh, reference=complaint_row["reference"]),  # type: ignore[arg-type]
                            closed_by=await self._closed_by(tx, row),
                        ),
                        await self.bus.stage(tx, ev.COMPLAINT_CREATED, complaint=complaint_row, customer_id=customer["id"]),
                    ]
        if complaint_row is None:
            if resolved is False and row["outcome"] != "complaint":
                raise Conflict("this chat can no longer be turned into a complaint; use the complaint form")
            result: dict[str, Any] = {"conversation": await self.public_conversation(row, for_customer=True)}
            if row["complaint_id"]:
                filed = await complaints.by_conversation(self.db, row["id"])
                if filed:
                    result["complaint"] = self.complaints.public(filed, for_customer=True)
            return result
        for event in announced:
            await self.bus.publish_event(event)
        return {"conversation": await self.public_conversation(fresh, for_customer=True), "complaint": customer_view}  # type: ignore[arg-type]

    async def _closed_by(self, db: Database | Tx, row: Row) -> dict[str, Any]:
        """Who closed a closed chat, from the audit trail: the answer after the close changes its
        outcome, not who closed it."""
        closes = [e for e in await audit.for_subject(db, row["id"]) if e["action"] == "conversation.closed"]
        actor = closes[0]["actor"] if closes else "system"
        if actor == row["customer_id"]:
            return BY_CUSTOMER
        if actor == "system":
            return BY_SYSTEM
        user = await users.get(db, actor)
        return _by_staff(actor, user["name"] if user else None)

    async def _may_become_complaint(self, db: Database | Tx, row: Row) -> bool:
        """A chat staff closed as resolved, not yet a complaint, closed less than a day ago. One the
        customer ended themselves has had their answer already (or they left without one)."""
        closed_at = parse_iso(row["closed_at"])
        return (
            row["status"] == "closed" and row["outcome"] == "resolved" and not row["complaint_id"]
            and closed_at is not None and self.clock() - closed_at <= ANSWER_WINDOW
            and (await self._closed_by(db, row))["side"] != "customer"
        )

    async def rate(self, customer: Row, conversation_id: str, score: int, comment: str | None) -> None:
        row = await self._readable(conversation_id, customer_id=customer["id"], user=None)
        if row["status"] != "closed":
            raise Conflict("a chat can be rated once it has ended")
        now = iso(self.clock())
        async with self.db.transaction() as tx:
            await conversations.save_rating(tx, conversation_id=row["id"], score=score, comment=comment, now=now)  # type: ignore[arg-type]

    async def typing(self, conversation_id: str, typing: bool, *, customer: Row | None = None, user: ConsoleUser | None = None) -> None:
        if customer is not None:
            live = self._live_owned(conversation_id, customer["id"])
            author, side = customer["name"] or "Customer", "customer"
        else:
            assert user is not None
            live = self._live_assigned(conversation_id, user)
            author, side = self._staff_name(user), "agent"
        await self.bus.publish(
            ev.TYPING, conversation_id=live.id, customer_id=live.customer_id, agent_id=live.agent_id,
            side=side, author=author, typing=typing,
        )

    # -- agents -----------------------------------------------------------------------------

    def _staff_name(self, user: ConsoleUser) -> str:
        """The name as routing knows it now: an admin's rename reaches a console socket opened before it."""
        live = self.dispatcher.agents.get(user.id)
        return live.name if live is not None else user.name

    async def post_agent_message(self, user: ConsoleUser, conversation_id: str, client_id: str, body: str, internal: bool) -> dict:
        try:
            live = self._live_assigned(conversation_id, user)
        except (NotFound, Forbidden) as refused:
            return await self._stored_before(conversation_id, client_id, user.id, refused, for_agent=True)
        # checked again where it is written: a supervisor may move the chat a moment before
        only_agent = None if user.is_supervisor else user.id
        return await self._post(
            live, "agent", self._staff_name(user), user.id, body, internal, client_id, for_agent=True, only_agent=only_agent,
        )

    async def close_by_agent(self, user: ConsoleUser, conversation_id: str, outcome: str, category: str | None, summary: str | None) -> dict[str, Any]:
        live = self._live_assigned(conversation_id, user)
        # checked again in the closing transaction: a supervisor may move the chat a moment before
        only_agent = None if user.is_supervisor else user.id
        closed_by = _by_staff(user.id, self._staff_name(user))
        if outcome == "complaint":
            if category is not None and category not in await self.complaints.category_slugs():
                raise Invalid("unknown complaint category")
            return await self._close(
                live, "complaint", source="agent_closed", actor=user.id, closed_by=closed_by, category=category, summary=summary,
                only_agent=only_agent,
            )
        return await self._close(live, "resolved", actor=user.id, closed_by=closed_by, only_agent=only_agent)

    async def take(self, user: ConsoleUser, conversation_id: str) -> dict[str, Any]:
        live = await self.dispatcher.take(conversation_id, user.id)
        return await self.public_conversation(await conversations.get(self.db, live.id))  # type: ignore[arg-type]

    async def transfer(self, user: ConsoleUser, conversation_id: str, to_agent_id: str | None) -> dict[str, Any]:
        live = self._live_assigned(conversation_id, user)
        if live.status != "active":
            raise Conflict("only an active chat can be transferred")
        # the agent the caller saw it with, checked again under the dispatcher's lock
        seen_with = live.agent_id
        if to_agent_id is None:
            await self.dispatcher.return_to_queue(live.id, "transferred_to_queue", user.id, only_from=seen_with)
        else:
            if to_agent_id == seen_with:
                raise Conflict("the chat is already with this agent")
            await self.dispatcher.transfer(live.id, user.id, to_agent_id, only_from=seen_with)  # type: ignore[arg-type]
        return await self.public_conversation(await conversations.get(self.db, live.id))  # type: ignore[arg-type]

    # -- shared -----------------------------------------------------------------------------

    async def _post(
        self, live: LiveConversation, sender: str, author: str, author_id: str, body: str,
        internal: bool, client_id: str, *, for_agent: bool, only_agent: str | None = None,
    ) -> dict:
        stored = await conversations.append_message(
            self.db, conversation_id=live.id, sender=sender, author=author, author_id=author_id,
            body=body, internal=internal, client_id=client_id, now=iso(self.clock()),  # type: ignore[arg-type]
            only_agent=only_agent,
        )
        if stored is None:
            original = await conversations.message_by_client_id(self.db, live.id, client_id)
            if original is None:
                row = await conversations.get(self.db, live.id)
                if only_agent is not None and row is not None and row["status"] != "closed" and row["agent_id"] != only_agent:
                    raise Forbidden("this conversation is not assigned to you")
                raise Conflict("the conversation has ended")
            if original["author_id"] != author_id:
                raise Conflict("this client_id was already used by someone else")
            return presenters.message(original, for_agent=for_agent)
        await self.bus.publish(
            ev.MESSAGE_POSTED, message=stored, customer_id=live.customer_id, agent_id=live.agent_id
        )
        return presenters.message(stored, for_agent=for_agent)

    async def _stored_before(
        self, conversation_id: str, client_id: str, author_id: str, refused: ChatError, *, for_agent: bool,
    ) -> dict:
        """A resend whose chat ended or moved on after the first try was stored (its ack lost): the
        stored message, as for any resend. Anything else is refused as before: the chat is closed to
        new messages, and only the author gets their own message back."""
        original = await conversations.message_by_client_id(self.db, conversation_id, client_id)
        if original is None or original["author_id"] != author_id:
            raise refused
        return presenters.message(original, for_agent=for_agent)

    async def expire_wait(self, conversation_id: str) -> None:
        """Nobody took the chat in time: it becomes a complaint (chat_unanswered)."""
        live = self.dispatcher.conversation(conversation_id)
        if live is None or live.status != "queued":
            return
        try:
            await self._close(live, "complaint", source="chat_unanswered", actor="system", closed_by=BY_SYSTEM, only_if_queued=True)
        except Conflict:
            pass  # closed by the customer, or taken by an agent, a moment before

    async def _close(
        self, live: LiveConversation, outcome: str, *, actor: str, closed_by: dict[str, Any], source: str | None = None,
        category: str | None = None, summary: str | None = None, for_customer: bool = False,
        only_agent: str | None = None, only_if_queued: bool = False,
    ) -> dict[str, Any]:
        """Close on the row as the closing transaction reads it: `only_agent` (an agent closing their
        own chat) and `only_if_queued` (the queue deadline) are what the caller saw, checked again
        there, since the chat may have moved on between that look and this write. `closed_by` tells
        the agent's consoles who closed it (`_by_staff`, `BY_CUSTOMER`, `BY_SYSTEM`)."""
        now = iso(self.clock())
        complaint_row: Row | None = None
        try:
            async with self.db.transaction() as tx:
                row = await conversations.get(tx, live.id)
                if row is None or row["status"] == "closed":
                    raise Conflict("the conversation has already ended")
                if only_agent is not None and row["agent_id"] != only_agent:
                    raise Forbidden("this conversation is no longer assigned to you")
                if only_if_queued and row["status"] != "queued":
                    raise Conflict("the conversation is no longer waiting")
                if outcome == CUSTOMER_LEFT:
                    outcome = "abandoned" if row["status"] == "queued" else "resolved"
                if outcome == "complaint":
                    customer = await customers.get(tx, live.customer_id)
                    complaint_row = await self.complaints.create_in(
                        tx,
                        source=source or "agent_closed",
                        category=category or (live.topic if live.topic else "other"),
                        # the agent's summary is for the team: the customer sees the subject (in the
                        # widget, the tracking page and the acknowledgement), so it is their own words
                        subject=await _subject(tx, live.id, source),
                        body=summary or "",
                        customer_id=live.customer_id,
                        conversation_id=live.id,
                        channel="chat",
                        email=customer["email"] if customer else None,
                        actor=actor,
                    )
                await conversations.close(
                    tx, conversation_id=live.id, outcome=outcome, now=now,  # type: ignore[arg-type]
                    complaint_id=complaint_row["id"] if complaint_row else None,
                )
                await audit.record(
                    tx, actor=actor, action="conversation.closed", subject=live.id, now=now,  # type: ignore[arg-type]
                    details={"outcome": outcome, "source": source},
                )
                # read in the transaction: once it commits, a read refused by storage must not keep
                # the caller from its answer nor the others from hearing of the close
                fresh = await conversations.get(tx, live.id)
                reference = complaint_row["reference"] if complaint_row else None
                public = await self.public_conversation(fresh, reference=reference)  # type: ignore[arg-type]
                announced = [await self.bus.stage(
                    tx, ev.CONVERSATION_CLOSED, conversation=public, customer_id=live.customer_id,
                    agent_id=row["agent_id"],  # whom it was with when it closed: the one to tell
                    complaint=self.complaints.public(complaint_row, for_customer=True) if complaint_row else None, closed_by=closed_by,
                )]
                if complaint_row is not None:
                    announced.append(await self.bus.stage(tx, ev.COMPLAINT_CREATED, complaint=complaint_row, customer_id=live.customer_id))
        except sqlite3.IntegrityError:
            raise Conflict("the conversation has already ended") from None
        await self.dispatcher.forget(live.id)
        if for_customer:
            public_for_caller = await self.public_conversation(fresh, for_customer=True, reference=reference)  # type: ignore[arg-type]
        else:
            public_for_caller = public
        for event in announced:
            await self.bus.publish_event(event)
        result: dict[str, Any] = {"conversation": public_for_caller}
        if complaint_row is not None:
            result["complaint"] = self.complaints.public(complaint_row, for_customer=for_customer)
        return result


async def _subject(tx: Tx, conversation_id: str, source: str | None) -> str:
    """A chat's complaint is named by what the customer came about, so complaints from chats can be told apart."""
    words = " ".join((await conversations.first_customer_words(tx, conversation_id) or "").split())
    if not words:
        return _default_subject(source)
    return words if len(words) <= SUBJECT_CHARS else words[: SUBJECT_CHARS - 1].rstrip() + "…"


def _default_subject(source: str | None) -> str:
    return {
        "chat_unanswered": "Chat not answered in time",
        "chat_not_solved": "Customer said the problem was not solved",
        "agent_closed": "Closed by the agent as a complaint",
    }.get(source or "", "Complaint from chat")
