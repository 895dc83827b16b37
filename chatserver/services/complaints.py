"""Complaints: creation (chats, the widget's form, logged by staff), the lifecycle, compensation,
ratings and the SLA sweep.

Every write is one transaction: the transition the pure lifecycle allows, thread entries, the row,
an audit event and the outbox notices; `complaint.updated` is published after it commits.

Who may write: staff act on complaints at or below their level (agents level 1, supervisors 1-2,
admins all); reading is open to all staff. Only supervisors and admins decide compensation, never
their own proposal. A customer reaches only their own complaints, through the widget (their
customer row) or the tracking link (reference + key); anything else answers not_found, exactly
like an unknown reference.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chatserver.domain import complaint_lifecycle as lifecycle
from chatserver.domain import complaints as rules
from chatserver.domain import sla
from chatserver.domain.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from chatserver.domain.models import LOCALES, iso, parse_iso
from chatserver.domain.same_secret import same_secret
from chatserver.domain.text import isolate
from chatserver.domain.money import format_money
from chatserver.services import complaint_changes as changes
from chatserver.services import complaint_notices as notices
from chatserver.services import sla_sweeper
from chatserver.services import events as ev
from chatserver.services import presenters
from chatserver.services.auth import ConsoleUser
from chatserver.services.clock import Clock
from chatserver.services.complaint_changes import Actor, Step
from chatserver.services.events import EventBus
from chatserver.store import audit, complaints, conversations, customers, users
from chatserver.store.db import Database, Row, Tx

log = logging.getLogger(__name__)

SORTS = ("due", "newest")
LIST_LIMIT_MAX = 200
SEARCH_MAX = 200
UNASSIGNED = "none"  # assignee_id filter value for complaints nobody holds
# named once: inside the class `list` is the method
Views = list[dict[str, Any]]


def _staff(user: ConsoleUser) -> Actor:
    return Actor(user.id, user.name, user.role)


@dataclass(frozen=True, slots=True)
class SeenAssignee:
    """Whom the caller saw a complaint with (None: nobody) when they chose its new assignee."""

    id: str | None


async def _check_read_up(tx: Tx, row: Row, seen_entry_seq: int | None) -> None:
    """An answer written before the customer's latest words would answer what they no longer ask."""
    if seen_entry_seq is not None and await complaints.customer_wrote_after(tx, row["id"], seen_entry_seq):
        raise Conflict("the customer wrote meanwhile; read their message before you answer")


async def _check_category(tx: Tx, category: str) -> None:
    """A new complaint takes an active category; a retry of one filed already is answered before this."""
    known = await complaints.category(tx, category)
    if known is None or not known["active"]:
        raise Invalid("unknown complaint category")


async def _filed_before(tx: Tx, client_id: str | None, author: str) -> Row | None:
    """The complaint a request with this `client_id` filed already, when it was this author's."""
    if client_id is None:
        return None
    found = await complaints.by_request(tx, client_id)
    if found is None:
        return None
    if found[0] != author:
        raise Conflict("this client_id was already used by someone else")
    return found[1]


async def _written_before(tx: Tx, reference: str, user: ConsoleUser, client_id: str | None) -> Row | None:
    """The complaint, when this is a retry of what this writer already wrote, its answer lost on the way
    back: nothing more to do. Asked before what the writer may do now (an escalation meanwhile may have
    put the complaint above their level): what they wrote is written."""
    if client_id is None:
        return None
    row = await complaints.with_names(tx, reference=reference)
    entry = await complaints.entry_by_client_id(tx, row["id"], client_id) if row else None
    if entry is None:
        return None
    if entry["author_id"] != user.id:
        raise Conflict("this client_id was already used by someone else")
    return row


def _check_seen(row: Row, seen: SeenAssignee | None, assignee_id: str | None) -> None:
    """Two supervisors reassigning one complaint at once: the later one is told, not obeyed blindly.
    Ending up where the caller wanted anyway is no conflict."""
    if seen is None or row["assignee_id"] == seen.id or row["assignee_id"] == assignee_id:
        return
    went = f"went to {isolate(row['assignee_name'])}" if row["assignee_id"] else "was unassigned"
    raise Conflict(f"{row['reference']} {went} a moment ago, so your change was not made")


class ComplaintService:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        secret_key: str,
        *,
        sla_warning_hours: float = 2.0,
        complaint_autoclose_days: float = 7.0,
        base_url: str = "http://127.0.0.1:8080",
        lists: Database | None = None,
    ) -> None:
        self.db = db
        # the console's complaint list: its search, its due-time order and a far page each pass over
        # every complaint ever filed (~0.1-0.8 s on 200,000), so they run on the background reads'
        # connection, not in front of the reads chat needs
        self.lists = lists or db
        self.bus = bus
        self.clock = clock
        self._secret = secret_key.encode()
        self.warn_before = timedelta(hours=sla_warning_hours)
        self.autoclose_after = timedelta(days=complaint_autoclose_days)
        self.base_url = base_url.rstrip("/")

    def tracking_key(self, reference: str) -> str:
        """The key in the customer's acknowledgement that opens /track/{reference}."""
        return hmac.new(self._secret, f"track:{reference}".encode(), hashlib.sha256).hexdigest()[:32]

    def tracking_url(self, reference: str) -> str:
        return f"{self.base_url}/track/{reference}?key={self.tracking_key(reference)}"

    async def category_slugs(self) -> set[str]:
        return {row["slug"] for row in await complaints.categories(self.db)}

    # -- creation -------------------------------------------------------------------------------

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
        customer_name: str | None = None,
        locale: str | None = None,
        actor: str = "system",
    ) -> Row:
        """Write a complaint inside the caller's transaction (so a chat and its complaint land together),
        with its due times, owner group and, when an address is known, the acknowledgement."""
        category_row = await complaints.category(tx, category) or await complaints.category(tx, rules.DEFAULT_CATEGORY)
        assert category_row is not None
        customer = await customers.get(tx, customer_id) if customer_id else None
        if customer is not None:
            email = email or customer["email"]
            customer_name = customer_name or customer["name"]
            locale = locale or customer["locale"]
        now = self.clock()
        due = rules.due_times(now, category_row["first_response_hours"], category_row["resolution_hours"])
        number = await complaints.next_number(tx, now.year)
        row = await complaints.create(
            tx,
            reference=rules.format_reference(now.year, number),
            conversation_id=conversation_id,
            customer_id=customer_id,
            category=category_row["slug"],
            subject=subject[: rules.SUBJECT_MAX],
            body=body,
            source=source,
            channel=channel,
            email=email,
            customer_name=customer_name,
            locale=locale,
            created_at=iso(now),
            first_response_due=iso(due.first_response_due),
            response_due=iso(due.first_response_due),
            resolution_due=iso(due.resolution_due),
            owner_group=sla.owner_group(1, category_row["owner_group"]),
            updated_at=iso(now),
            last_public_at=iso(now),
        )
        await audit.record(
            tx, actor=actor, action="complaint.created", subject=row["id"], now=iso(now),  # type: ignore[arg-type]
            details={"reference": row["reference"], "source": source, "category": row["category"], "channel": channel},
        )
        if not await notices.acknowledgement_allowed(tx, row, now):
            if row["email"]:
                log.warning("complaint %s filed without its acknowledgement: its address had enough today", row["reference"])
            return row
        await notices.to_customer(
            tx, row, "complaint_ack",
            {
                "reference": row["reference"], "subject": row["subject"], "category": row["category"],
                "category_names": presenters.category(category_row)["names"],
                "tracking_url": self.tracking_url(row["reference"]),
                "first_response_due": row["first_response_due"], "resolution_due": row["resolution_due"],
            },
            iso(now),  # type: ignore[arg-type]
        )
        return row

    def public(self, row: Row, *, for_customer: bool) -> dict[str, Any]:
        """The complaint as a chat's participants see it; its customer also gets the tracking key."""
        if not for_customer:
            return presenters.complaint(row)
        data = presenters.complaint_customer(row)
        data["tracking_key"] = self.tracking_key(row["reference"])
        return data

    async def submit_form(
        self, *, customer: Row, category: str, subject: str, body: str, email: str | None, client_id: str | None = None,
        admit: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """The widget's complaint form. `client_id`, made by the form before its first try: the same one
        again (a retry after a lost answer) is the complaint already filed, not a second one, whatever
        changed meanwhile. `admit()` is asked only before a new complaint is filed, and raises to
        refuse it (the address's hourly limit): a retry is not another complaint."""
        subject = rules.check_text(subject, "subject", rules.SUBJECT_MAX)
        body = rules.check_text(body, "body", rules.BODY_MAX)
        async with self.db.transaction() as tx:
            filed = await _filed_before(tx, client_id, customer["id"])
            if filed is not None:
                return self.public(filed, for_customer=True)
            await _check_category(tx, category)
            if admit is not None:
                admit()
            row = await self.create_in(
                tx, source="form", category=category, subject=subject, body=body,
                customer_id=customer["id"], channel="web_form", email=email or customer["email"], actor=customer["id"],
            )
            if client_id is not None:
                await complaints.remember_request(tx, client_id, customer["id"], row["id"])
            created = await self.bus.stage(tx, ev.COMPLAINT_CREATED, complaint=row, customer_id=customer["id"])
        await self.bus.publish_event(created)
        return self.public(row, for_customer=True)

    async def log(
        self,
        user: ConsoleUser,
        *,
        category: str,
        subject: str,
        body: str,
        channel: str,
        customer_email: str | None = None,
        customer_name: str | None = None,
        locale: str = "en",
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """A complaint that arrived by e-mail or phone, recorded by staff. It belongs to no widget
        customer: a typed address never binds anyone's identity; the customer follows it by the
        tracking link in the acknowledgement. `client_id` as for `submit_form`."""
        if channel not in rules.LOGGED_CHANNELS:
            raise Invalid("channel must be email or phone")
        subject = rules.check_text(subject, "subject", rules.SUBJECT_MAX)
        body = rules.check_text(body, "body", rules.BODY_MAX)
        email = (customer_email or "").strip() or None
        if email is not None and not rules.plausible_email(email):
            raise Invalid("customer_email is not an e-mail address")
        name = rules.check_optional_text(customer_name, "customer_name", rules.SUBJECT_MAX)
        if locale not in LOCALES:
            raise Invalid(f"locale must be one of {', '.join(LOCALES)}")
        async with self.db.transaction() as tx:
            filed = await _filed_before(tx, client_id, user.id)
            if filed is not None:
                return presenters.complaint_staff(await complaints.with_names(tx, complaint_id=filed["id"]))  # type: ignore[arg-type]
            await _check_category(tx, category)
            row = await self.create_in(
                tx, source="agent_logged", category=category, subject=subject, body=body, customer_id=None,
                channel=channel, email=email, customer_name=name, locale=locale, actor=user.id,
            )
            if client_id is not None:
                await complaints.remember_request(tx, client_id, user.id, row["id"])
            fresh = await complaints.with_names(tx, complaint_id=row["id"])
            created = await self.bus.stage(tx, ev.COMPLAINT_CREATED, complaint=row, customer_id=None)
        await self.bus.publish_event(created)
        return presenters.complaint_staff(fresh)  # type: ignore[arg-type]

    # -- staff: reading ---------------------------------------------------------------------------

    async def list(
        self,
        user: ConsoleUser,
        *,
        status: str | None = None,
        category: str | None = None,
        level: int | None = None,
        assignee_id: str | None = None,
        search: str | None = None,
        sort: str = "due",
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """One page of complaints for the console. `sort="due"`: soonest owed first (settled ones last);
        `"newest"`: latest created first. `assignee_id="none"` lists the unassigned."""
        if status is not None and status not in lifecycle.STATUSES:
            raise Invalid(f"status must be one of {', '.join(lifecycle.STATUSES)}")
        if level is not None and (isinstance(level, bool) or level not in range(1, lifecycle.MAX_LEVEL + 1)):
            raise Invalid("level must be 1, 2 or 3")
        if sort not in SORTS:
            raise Invalid("sort must be due or newest")
        if not 1 <= limit <= LIST_LIMIT_MAX or offset < 0:
            raise Invalid(f"limit must be 1 to {LIST_LIMIT_MAX} and offset not negative")
        if category is not None and category not in {c["slug"] for c in await complaints.categories(self.db, active_only=False)}:
            raise Invalid("unknown complaint category")
        text = (search or "").strip()
        if len(text) > SEARCH_MAX:
            raise Invalid(f"search is longer than {SEARCH_MAX} characters")
        rows, total = await complaints.search(
            self.lists, status=status, category=category, level=level,
            assignee_id=None if assignee_id == UNASSIGNED else assignee_id, unassigned=assignee_id == UNASSIGNED,
            text=text or None, sort=sort, limit=limit, offset=offset,
        )
        return {"complaints": [presenters.complaint_staff(r) for r in rows], "total": total}

    async def detail(self, user: ConsoleUser, reference: str) -> dict[str, Any]:
        """The whole complaint for staff: thread with notes, compensations, audit trail and the originating chat."""
        row = await complaints.with_names(self.db, reference=reference)
        if row is None:
            raise NotFound("no complaint with this reference")
        view = presenters.complaint_staff(row)
        view["entries"] = [presenters.complaint_entry(e, for_customer=False) for e in await complaints.entries(self.db, row["id"])]
        view["compensations"] = [
            presenters.compensation(c, for_customer=False) for c in await complaints.compensations(self.db, row["id"])
        ]
        trail = await audit.for_subject(self.db, row["id"])
        names = await self._user_names({e["actor"] for e in trail})
        view["audit"] = [presenters.audit_event(e, names.get(e["actor"])) for e in trail]
        view["conversation"] = await self._conversation(row)
        return view

    async def _user_names(self, ids: set[str]) -> dict[str, str]:
        names = {}
        for user_id in ids:
            found = await users.get(self.db, user_id)
            if found is not None:
                names[user_id] = found["name"]
        return names

    async def _conversation(self, row: Row) -> dict[str, Any] | None:
        if not row["conversation_id"]:
            return None
        chat = await conversations.get(self.db, row["conversation_id"])
        if chat is None:
            return None
        agent = await users.get(self.db, chat["agent_id"]) if chat["agent_id"] else None
        public = presenters.conversation(chat, agent["name"] if agent else None, row["reference"])
        public.update(await self._chat_page(chat["id"], 0))
        return public

    async def chat_page(self, user: ConsoleUser, reference: str, after_seq: int) -> dict[str, Any]:
        """The originating chat's messages after `after_seq`, one page, for whoever may read the complaint:
        the detail carries the first page, and a long chat is read on from its last `seq`."""
        row = await complaints.with_names(self.db, reference=reference)
        if row is None:
            raise NotFound("no complaint with this reference")
        if not row["conversation_id"]:
            raise NotFound("this complaint did not come from a chat")
        return await self._chat_page(row["conversation_id"], after_seq)

    async def _chat_page(self, conversation_id: str, after_seq: int) -> dict[str, Any]:
        page = await conversations.messages_page(self.db, conversation_id, after_seq, include_internal=True)
        return {"messages": [presenters.message(m, for_agent=True) for m in page.messages], "more": page.more}

    # -- staff: writing ---------------------------------------------------------------------------

    async def _writable(self, tx: Tx, user: ConsoleUser, reference: str, *, seen_level: int | None = None) -> Row:
        """The complaint, when `user` may write at its level. With `seen_level` (the level the caller saw),
        a complaint that rose meanwhile is a conflict first, even when it rose above the caller."""
        row = await complaints.with_names(tx, reference=reference)
        if row is None:
            raise NotFound("no complaint with this reference")
        if seen_level is not None and row["level"] != seen_level:
            raise Conflict(f"this complaint was escalated meanwhile; it is at level {row['level']} now")
        if not lifecycle.may_act(user.role, row["level"]):
            raise Forbidden(f"this complaint is at level {row['level']}, above what your role handles")
        return row

    async def start(self, user: ConsoleUser, reference: str) -> dict[str, Any]:
        """Pick the complaint up; it becomes yours when nobody holds it."""
        async with self.db.transaction() as tx:
            step = await self._start_in(tx, user, await self._writable(tx, user, reference))
        return await self._done(step)

    async def update(self, user: ConsoleUser, reference: str, *, start: bool = False, category: str | None = None,
                     assign: bool = False, assignee_id: str | None = None, seen: SeenAssignee | None = None) -> dict[str, Any]:
        """Several changes at once, all or none: a refused one leaves the others unmade too.
        Status first: picking a complaint up may assign it, and an explicit assignee then wins."""
        steps: list[Step] = []
        async with self.db.transaction() as tx:
            row = await self._writable(tx, user, reference)
            if assign:
                _check_seen(row, seen, assignee_id)
            if start:
                steps.append(await self._start_in(tx, user, row))
                row = steps[-1].row
            if category is not None:
                step = await self._set_category_in(tx, user, row, category)
                if step is not None:
                    steps.append(step)
                    row = step.row
            if assign:
                step = await self._assign_in(tx, user, row, assignee_id)
                if step is not None:
                    steps.append(step)
                    row = step.row
        for step in steps:
            await self._publish(step)
        return presenters.complaint_staff(row)

    async def _start_in(self, tx: Tx, user: ConsoleUser, row: Row) -> Step:
        updates = {} if row["assignee_id"] else {"assignee_id": user.id}
        return await self._step(tx, row, "start", _staff(user), updates=updates)

    async def reply(
        self, user: ConsoleUser, reference: str, body: str, *, ask_customer: bool = False, seen_entry_seq: int | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """A public reply; with `ask_customer` it waits for the customer's answer. With `seen_entry_seq`
        (the last thread entry the writer had read), refused while the customer has written since.
        `client_id`, made by the writer's page before the first try: the same one again is the entry
        already written (a retried request), not a second one. So for `note` and `resolve`."""
        text = rules.check_text(body, "body", rules.BODY_MAX)
        action = "ask_customer" if ask_customer else "reply"
        async with self.db.transaction() as tx:
            if (written := await _written_before(tx, reference, user, client_id)) is not None:
                return presenters.complaint_staff(written)
            row = await self._writable(tx, user, reference)
            await _check_read_up(tx, row, seen_entry_seq)
            step = await self._step(tx, row, action, _staff(user), entry_kind="reply", body=text, client_id=client_id)
            data = {"reference": row["reference"], "body": text, "tracking_url": self.tracking_url(row["reference"])}
            if step.row["status"] == "awaiting_customer":
                # a question, or a word while still waiting: the customer's whole period starts again
                data["close_by"] = self._closes_by(step.row["updated_at"])
            kind = "complaint_question" if "close_by" in data else "complaint_reply"
            await notices.to_customer(tx, step.row, kind, data, step.row["updated_at"])
        return await self._done(step)

    def _closes_by(self, since: str) -> str:
        """When the complaint closes by itself if the customer stays silent from `since` (sla.should_auto_close)."""
        return iso(parse_iso(since) + self.autoclose_after)  # type: ignore[operator]

    async def note(self, user: ConsoleUser, reference: str, body: str, *, client_id: str | None = None) -> dict[str, Any]:
        """An internal note: staff only, never shown or sent to the customer."""
        text = rules.check_text(body, "body", rules.BODY_MAX)
        async with self.db.transaction() as tx:
            if (written := await _written_before(tx, reference, user, client_id)) is not None:
                return presenters.complaint_staff(written)
            row = await self._writable(tx, user, reference)
            step = await self._step(tx, row, "note", _staff(user), entry_kind="note", body=text, client_id=client_id)
        return await self._done(step)

    async def resolve(
        self, user: ConsoleUser, reference: str, body: str, *, seen_entry_seq: int | None = None, client_id: str | None = None,
    ) -> dict[str, Any]:
        """Resolve with a public resolution text; the customer may accept it or ask for more.
        `seen_entry_seq` as for `reply`. A complaint nobody held (an escalation lets go of its holder)
        becomes the resolver's: the answer, the customer's verdict and rating are theirs in reports."""
        text = rules.check_text(body, "body", rules.BODY_MAX)
        async with self.db.transaction() as tx:
            if (written := await _written_before(tx, reference, user, client_id)) is not None:
                return presenters.complaint_staff(written)
            row = await self._writable(tx, user, reference)
            await _check_read_up(tx, row, seen_entry_seq)
            updates = {} if row["assignee_id"] else {"assignee_id": user.id}
            step = await self._step(
                tx, row, "resolve", _staff(user), entry_kind="reply", body=text, updates=updates, client_id=client_id,
            )
            await notices.to_customer(
                tx, step.row, "complaint_resolved",
                {"reference": row["reference"], "body": text, "tracking_url": self.tracking_url(row["reference"]),
                 "close_by": self._closes_by(step.row["resolved_at"])},
                step.row["updated_at"],
            )
        return await self._done(step)

    async def assign(self, user: ConsoleUser, reference: str, assignee_id: str | None,
                     seen: SeenAssignee | None = None) -> dict[str, Any]:
        """Give the complaint to a staff member who may act at its level, or to nobody. Agents may only
        take a free complaint for themselves or let go of their own; supervisors and admins assign anyone.
        With `seen`, only if it is still with whom the caller saw it with."""
        async with self.db.transaction() as tx:
            row = await self._writable(tx, user, reference)
            _check_seen(row, seen, assignee_id)
            step = await self._assign_in(tx, user, row, assignee_id)
        return presenters.complaint_staff(row) if step is None else await self._done(step)

    async def _assign_in(self, tx: Tx, user: ConsoleUser, row: Row, assignee_id: str | None) -> Step | None:
        """None when it is already so."""
        if row["assignee_id"] == assignee_id:
            return None
        if not user.is_supervisor and not (
            (assignee_id == user.id and row["assignee_id"] is None) or (assignee_id is None and row["assignee_id"] == user.id)
        ):
            raise Forbidden("agents may only take a free complaint for themselves or let go of their own")
        target = await users.get(tx, assignee_id) if assignee_id else None
        if assignee_id and (target is None or not target["active"] or not lifecycle.may_act(target["role"], row["level"])):
            raise Invalid("the assignee must be an active staff member who handles this level")
        body = f"Assigned to {target['name']}" if target else "Unassigned"
        return await self._step(
            tx, row, "assign", _staff(user), entry_kind="system", body=body, updates={"assignee_id": assignee_id},
            details={"from_assignee": row["assignee_id"], "to_assignee": assignee_id},
        )

    async def escalate(self, user: ConsoleUser, reference: str, reason: str, *, from_level: int | None = None) -> dict[str, Any]:
        """One level up, to the next owners (who get an e-mail each); it leaves its current assignee.
        `from_level` is the level the caller saw: two people escalating at once, or one as the SLA
        breach does it, raise it once, not two levels past what either confirmed."""
        text = rules.check_text(reason, "reason", rules.REASON_MAX)
        async with self.db.transaction() as tx:
            row = await self._writable(tx, user, reference, seen_level=from_level)
            lifecycle.next_status(row["status"], "escalate")
            category = await complaints.category(tx, row["category"])
            raised = sla.escalate(row["level"], category["owner_group"])  # type: ignore[index]
            if not raised.raised:
                raise Conflict("this complaint is already at the highest level")
            step = await self._step(
                tx, row, "escalate", _staff(user), entry_kind="system", body=f"Escalated to level {raised.level}: {text}",
                updates={"level": raised.level, "owner_group": raised.owner_group, "assignee_id": None,
                         "level_since": iso(self.clock())},
                details={"from_level": row["level"], "to_level": raised.level, "reason": text},
            )
            await changes.tell_new_owners(tx, step.row, text, escalated_by=user.id)
        return await self._done(step)

    async def set_category(self, user: ConsoleUser, reference: str, category: str) -> dict[str, Any]:
        """Reclassify. At level 1 the category's group becomes the owner; due times stay as promised."""
        async with self.db.transaction() as tx:
            row = await self._writable(tx, user, reference)
            step = await self._set_category_in(tx, user, row, category)
        return presenters.complaint_staff(row) if step is None else await self._done(step)

    async def _set_category_in(self, tx: Tx, user: ConsoleUser, row: Row, category: str) -> Step | None:
        """None when it is already so."""
        new = await complaints.category(tx, category)
        if new is None or not new["active"]:
            raise Invalid("unknown complaint category")
        if category == row["category"]:
            return None
        return await self._step(
            tx, row, "set_category", _staff(user), entry_kind="system",
            body=f"Category changed from {row['category']} to {category}",
            updates={"category": category, "owner_group": sla.owner_group(row["level"], new["owner_group"])},
            details={"from_category": row["category"], "to_category": category},
        )

    async def propose_compensation(
        self, user: ConsoleUser, reference: str, *, amount_minor: int, currency: str, reason: str
    ) -> dict[str, Any]:
        """Propose an amount (in minor units) for a supervisor or admin to decide. The same proposal
        sent again by its author while it is still open (a double click, a retried request) is that
        one proposal, not a second that could be approved beside it and pay out twice."""
        rules.check_compensation(amount_minor, currency)
        text = rules.check_text(reason, "reason", rules.REASON_MAX)
        async with self.db.transaction() as tx:
            row = await self._writable(tx, user, reference)
            lifecycle.next_status(row["status"], "propose_compensation")
            already = await complaints.open_compensation_like(
                tx, complaint_id=row["id"], amount_minor=amount_minor, currency=currency, reason=text, proposed_by=user.id
            )
            if already is not None:
                return presenters.compensation(already, for_customer=False)
            proposal = await complaints.add_compensation(
                tx, complaint_id=row["id"], amount_minor=amount_minor, currency=currency, reason=text,
                proposed_by=user.id, now=iso(self.clock()),  # type: ignore[arg-type]
            )
            step = await self._step(
                tx, row, "propose_compensation", _staff(user), entry_kind="system",
                body=f"Compensation proposed: {format_money(amount_minor, currency, 'en')}. {text}",
                details={"compensation_id": proposal["id"], "amount_minor": amount_minor, "currency": currency, "reason": text},
                compensation=proposal,
            )
        await self._publish(step)
        return presenters.compensation(proposal, for_customer=False)

    async def decide_compensation(
        self, user: ConsoleUser, compensation_id: str, *, approve: bool, note: str | None
    ) -> dict[str, Any]:
        """Approve or reject a proposal. The customer sees an approved compensation."""
        if not lifecycle.may_decide_compensation(user.role):
            raise Forbidden("only supervisors and admins decide compensation")
        text = rules.check_optional_text(note, "note", rules.REASON_MAX)
        async with self.db.transaction() as tx:
            proposal = await complaints.compensation(tx, compensation_id)
            if proposal is None:
                raise NotFound("no such compensation")
            if proposal["proposed_by"] == user.id:
                raise Forbidden("nobody decides their own proposal")
            row = await self._writable(tx, user, proposal["reference"])
            lifecycle.next_status(row["status"], "decide_compensation")
            now = iso(self.clock())
            if not await complaints.decide_compensation(tx, compensation_id, approve=approve, decided_by=user.id, note=text, now=now):  # type: ignore[arg-type]
                raise Conflict("this compensation has already been decided")
            decision = "approved" if approve else "rejected"
            decided = await complaints.compensation(tx, compensation_id)
            step = await self._step(
                tx, row, "decide_compensation", _staff(user), entry_kind="system",
                body=f"Compensation {decision}: {format_money(proposal['amount_minor'], proposal['currency'], 'en')}."
                + (f" {text}" if text else ""),
                details={"compensation_id": compensation_id, "decision": decision, "note": text,
                         "amount_minor": proposal["amount_minor"], "currency": proposal["currency"]},
                public=approve, compensation=decided,
            )
            if approve:
                # the customer hears of it as of a reply: by e-mail when they left an address
                data = {"reference": row["reference"], "amount_minor": proposal["amount_minor"], "currency": proposal["currency"],
                        "reason": proposal["reason"], "tracking_url": self.tracking_url(row["reference"])}
                if step.row["status"] == "awaiting_customer":
                    # a word while the team waits: the customer's whole period starts again, as after a reminder
                    data["close_by"] = self._closes_by(step.row["updated_at"])
                await notices.to_customer(tx, step.row, "complaint_compensation", data, step.row["updated_at"])
        await self._publish(step)
        return presenters.compensation(decided, for_customer=False)  # type: ignore[arg-type]

    # -- customers: the widget and the tracking link ---------------------------------------------

    async def list_for_customer(self, customer_id: str) -> Views:
        return [self.public(r, for_customer=True) for r in await complaints.list_for_customer(self.db, customer_id)]

    async def _owned(self, db: Database | Tx, customer: Row, reference: str) -> Row:
        row = await complaints.by_reference(db, reference)
        if row is None or row["customer_id"] != customer["id"]:
            raise NotFound("no complaint with this reference")  # someone else's looks the same as none
        return row

    async def _by_key(self, db: Database | Tx, reference: str, key: str) -> Row:
        row = await complaints.by_reference(db, reference)
        if row is None or not same_secret(self.tracking_key(reference), key):  # a key comes straight from a URL
            raise NotFound("no complaint with this reference and key")
        return row

    async def _customer_view(self, row: Row) -> dict[str, Any]:
        """The customer's view with the public thread and approved compensation."""
        view = presenters.complaint_customer(row)
        entries = await complaints.entries(self.db, row["id"], kinds=lifecycle.PUBLIC_ENTRY_KINDS)
        view["entries"] = [presenters.complaint_entry(e, for_customer=True) for e in entries]
        approved = await complaints.compensations(self.db, row["id"], status="approved")
        view["compensations"] = [presenters.compensation(c, for_customer=True) for c in approved]
        return view

    async def customer_detail(self, customer: Row, reference: str) -> dict[str, Any]:
        view = await self._customer_view(await self._owned(self.db, customer, reference))
        view["tracking_key"] = self.tracking_key(reference)
        return view

    async def customer_reply(self, customer: Row, reference: str, body: str | None, decision: str | None = None) -> dict[str, Any]:
        """Write to the team; or, on a resolved complaint, accept the resolution or ask for clarification
        (a text is optional with a decision)."""
        await self._customer_act(await self._owned(self.db, customer, reference), body, decision, customer)
        return await self.customer_detail(customer, reference)

    async def customer_rate(self, customer: Row, reference: str, score: int, comment: str | None) -> dict[str, Any]:
        await self._rate(await self._owned(self.db, customer, reference), score, comment, customer)
        return await self.customer_detail(customer, reference)

    async def track(self, reference: str, key: str) -> tuple[dict[str, Any], str]:
        """The complaint behind a tracking link and its customer's language; a wrong key is not_found."""
        row = await self._by_key(self.db, reference, key)
        customer = await customers.get(self.db, row["customer_id"]) if row["customer_id"] else None
        category = await complaints.category(self.db, row["category"])
        view = await self._customer_view(row)
        view["category_names"] = presenters.category(category)["names"] if category else {}
        return view, (customer["locale"] if customer else None) or row["locale"] or "en"

    async def track_act(self, reference: str, key: str, *, body: str | None, decision: str | None) -> dict[str, Any]:
        row = await self._by_key(self.db, reference, key)
        await self._customer_act(row, body, decision, await self._customer_of(row))
        return (await self.track(reference, key))[0]

    async def track_rate(self, reference: str, key: str, score: int, comment: str | None) -> dict[str, Any]:
        row = await self._by_key(self.db, reference, key)
        await self._rate(row, score, comment, await self._customer_of(row))
        return (await self.track(reference, key))[0]

    async def _customer_of(self, row: Row) -> Row | None:
        return await customers.get(self.db, row["customer_id"]) if row["customer_id"] else None

    def _customer_actor(self, row: Row, customer: Row | None) -> Actor:
        if customer is not None:
            return Actor(customer["id"], customer["name"] or "Customer")
        # logged by staff for someone without a widget identity: they act through the tracking link
        return Actor(f"tracking:{row['reference']}", row.get("customer_name") or "Customer")

    async def _customer_act(self, row: Row, body: str | None, decision: str | None, customer: Row | None) -> None:
        if decision not in (None, "accept", "clarify"):
            raise Invalid("decision must be accept or clarify")
        if decision == "accept":
            text: str | None = rules.check_optional_text(body, "body", rules.BODY_MAX)
        else:  # a reply, or asking for more: the team needs to know what is unclear
            text = rules.check_text(body, "body", rules.BODY_MAX)
        action = decision or "customer_reply"
        async with self.db.transaction() as tx:
            if text and await complaints.customer_entries_unanswered(tx, row["id"]) >= rules.UNANSWERED_MAX:
                raise RateLimited(
                    f"{rules.UNANSWERED_MAX} messages are waiting for the team's answer; please wait for it", reason="unanswered",
                )
            fresh = await complaints.with_names(tx, complaint_id=row["id"])
            step = await self._step(
                tx, fresh, action, self._customer_actor(row, customer),  # type: ignore[arg-type]
                entry_kind="customer" if text else None, body=text,
            )
        await self._publish(step)

    async def _rate(self, row: Row, score: int, comment: str | None, customer: Row | None) -> None:
        rules.check_score(score)
        text = rules.check_optional_text(comment, "comment", rules.COMMENT_MAX)
        actor = self._customer_actor(row, customer)
        async with self.db.transaction() as tx:
            fresh = await complaints.get(tx, row["id"])
            lifecycle.check_rating(fresh["status"], fresh["rating"] is not None)  # type: ignore[index]
            now = iso(self.clock())
            if not await complaints.save_rating(tx, row["id"], score=score, comment=text, now=now):  # type: ignore[arg-type]
                raise Conflict("this complaint has already been rated")
            await audit.record(
                tx, actor=actor.id, action="complaint.rate", subject=row["id"], now=now,  # type: ignore[arg-type]
                details={"from": "closed", "to": "closed", "public": True, "score": score, "comment": text},
            )
            after = await complaints.with_names(tx, complaint_id=row["id"])
            step = await changes.staged(tx, self.bus, after, "rate", None, True, "closed")  # type: ignore[arg-type]
        await self._publish(step)

    # -- the SLA sweep ----------------------------------------------------------------------------

    async def sweep(self, now: datetime | None = None) -> Views:
        """Fire the warnings and breaches due now and close resolved complaints left alone; each fires once
        (see sla_sweeper). Returns what fired."""
        return await sla_sweeper.sweep(
            self.db, self.bus, now or self.clock(), warn_before=self.warn_before, autoclose_after=self.autoclose_after,
            tracking_url=self.tracking_url,
        )

    # -- shared -----------------------------------------------------------------------------------

    async def _step(self, tx: Tx, row: Row, action: str, actor: Actor, **options: Any) -> Step:
        return await changes.apply(tx, self.bus, row, action, actor, self.clock(), **options)

    async def _publish(self, step: Step) -> None:
        await changes.publish(self.bus, step)


    async def _done(self, step: Step) -> dict[str, Any]:
        await self._publish(step)
        return presenters.complaint_staff(step.row)
