"""The live router: open conversations, the queue and agent presence, kept in memory and rebuilt
from the database at start-up. Every event that can change an answer runs `drain()`; no polling.

Seats are reserved by a conditional UPDATE in the database as well as here, so an agent never
holds more than `max_chats`, whatever arrives at once.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, NamedTuple, TypeVar

from chatserver.domain import routing
from chatserver.domain.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from chatserver.domain.models import BusySeat, QueueEntry, SeatPool, iso, parse_iso
from chatserver.domain.text import isolate
from chatserver.services import events as ev
from chatserver.services.clock import Clock
from chatserver.services.events import EventBus
from chatserver.services.live import LiveAgent, LiveConversation
from chatserver.store import audit, conversations, customers, users
from chatserver.store.db import Database, Row, Tx

log = logging.getLogger(__name__)

ETA_STEP_SECONDS = 5  # estimates are rounded so that customers are not spammed with tiny changes
# waits before trying again work that a timer or a drain could not store (the last one repeats):
# a deadline or a grace period that ends during a storage fault still acts, once, when it is over
STORAGE_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)
EXPIRIES_AT_ONCE = 2  # queue deadlines acted on at the same time; the rest wait their turn
# chat:assigned carries the first page of the transcript only, well inside a console's send queue
# (frames after one that fills it would cut the console off); the console asks `history` for the rest
ASSIGNED_PAGE_BYTES = 64 * 1024


def storage_retry_delay(attempt: int) -> float:
    return STORAGE_RETRY_SECONDS[min(attempt, len(STORAGE_RETRY_SECONDS) - 1)]


WaitExpired = Callable[[str], Awaitable[None]]
AgentLost = Callable[[str, list[str]], Awaitable[None]]
T = TypeVar("T")


class HandedBack(NamedTuple):
    """A chat written back to the queue: who had it, and the system line that says so."""

    live: LiveConversation
    agent_id: str | None
    message: Row | None


class Dispatcher:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        *,
        queue_timeout: float,
        agent_grace: float,
        handle_times: routing.HandleTimes | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.queue_timeout = queue_timeout
        self.agent_grace = agent_grace
        self.handle_times = handle_times or routing.HandleTimes()
        self.conversations: dict[str, LiveConversation] = {}
        # a customer has at most one open chat; found without a pass over all of them, as every widget
        # that connects or closes asks (a reconnect storm after a restart is thousands of asks)
        self._open_by_customer: dict[str, str] = {}
        self.agents: dict[str, LiveAgent] = {}
        self._queue: list[tuple[tuple, str]] = []
        # each waiting chat's item in `_queue` and the address it came from: a long queue (an outage
        # brings thousands) costs a start no pass over it to find a chat or count an address
        self._queued: dict[str, tuple[tuple[tuple, str], str | None]] = {}
        self._waiting_by_origin: Counter[str] = Counter()
        self._arrivals = itertools.count(1)
        self._lock = asyncio.Lock()
        self._deadline_timers: dict[str, asyncio.TimerHandle] = {}
        self._grace_timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()
        self._last_sent: dict[str, dict[str, Any]] = {}
        # customers with a widget open (sockets each), and since when those with an open chat have had
        # none: a waiting chat of someone who left is passed over, keeping its place, until they return
        self._customer_sockets: Counter[str] = Counter()
        self._customers_away: dict[str, datetime] = {}
        self._roll_call: asyncio.TimerHandle | None = None
        self.on_wait_expired: WaitExpired | None = None
        self._stopping = False
        self._drain_retry: asyncio.TimerHandle | None = None
        self._announce_retries: set[asyncio.TimerHandle] = set()
        self._drain_attempts = 0
        self._expiry_turns = asyncio.Semaphore(EXPIRIES_AT_ONCE)

    # -- start-up and shutdown --------------------------------------------------------------

    async def load(self) -> None:
        """Rebuild queue, assignments and timers from what the database holds."""
        for row in await users.list_active(self.db):
            self.agents[row["id"]] = LiveAgent.from_row(row)
        waiting = []
        for row in await conversations.list_open(self.db):
            live = LiveConversation.from_row(row)
            # every open chat is numbered, those with an agent too: handed back, they keep that place
            live.arrival = next(self._arrivals)
            self._remember(live)
            if live.status == "queued":
                waiting.append(live)
            elif live.agent_id in self.agents:
                self.agents[live.agent_id].chats.add(live.id)
        for live in waiting:  # in the order they arrived (list_open), whatever the clock did meanwhile
            self._queue_add(live)
            self._schedule_deadline(live)
        for row in await conversations.recent_handle_times(self.db):
            start, end = parse_iso(row["assigned_at"]), parse_iso(row["closed_at"])
            if start and end:
                self.handle_times.record(row["topic"], (end - start).total_seconds())
        # Nobody is connected after a start: agents who were present get the grace period to return.
        for agent in self.agents.values():
            if agent.status != "offline" or agent.chats:
                self._schedule_grace(agent.id)
        # Customers get the same grace: one whose chat is open and who has not come back by then has left
        # (since the start: a disconnect before it was seen by the process that went down, and is gone).
        started, rebuilt = self.clock(), list(self.conversations)
        self._roll_call = asyncio.get_running_loop().call_later(
            self.agent_grace, lambda: self._spawn(self._customers_not_back(rebuilt, started))
        )

    def stop(self) -> None:
        """Stop all timers. Disconnects caused by our own shutdown must not start grace periods:
        after a restart `load()` gives every agent a fresh one."""
        self._stopping = True
        for handle in [
            *self._deadline_timers.values(), *self._grace_timers.values(), *filter(None, [self._drain_retry, self._roll_call]),
            *self._announce_retries,
        ]:
            handle.cancel()
        self._drain_retry = None
        self._announce_retries.clear()
        self._deadline_timers.clear()
        self._grace_timers.clear()
        for task in self._tasks:
            task.cancel()

    def _remember(self, live: LiveConversation) -> None:
        self.conversations[live.id] = live
        self._open_by_customer[live.customer_id] = live.id

    # -- queries ----------------------------------------------------------------------------

    def conversation(self, conversation_id: str) -> LiveConversation | None:
        return self.conversations.get(conversation_id)

    def open_for_customer(self, customer_id: str) -> LiveConversation | None:
        conversation_id = self._open_by_customer.get(customer_id)
        return self.conversations.get(conversation_id) if conversation_id else None

    def queue_order(self) -> list[LiveConversation]:
        return [self.conversations[cid] for _, cid in self._queue]

    def queue_head(self, limit: int) -> list[LiveConversation]:
        """The first `limit` waiting chats, in queue order."""
        return [self.conversations[cid] for _, cid in self._queue[:limit]]

    def queued(self) -> int:
        return len(self._queue)

    def customer_away_since(self, customer_id: str) -> datetime | None:
        """When this customer's last widget closed, while their chat is open; None while they are here."""
        return self._customers_away.get(customer_id)

    def _routable_order(self) -> list[LiveConversation]:
        """The waiting chats an agent can take: those whose customer is on the page."""
        return [live for live in self.queue_order() if live.customer_id not in self._customers_away]

    def queue_info(self, conversation_id: str) -> dict[str, Any] | None:
        for position, (live, eta) in enumerate(zip(self._routable_order(), self._estimates()), start=1):
            if live.id == conversation_id:
                return _place(position, eta, live)
        return None

    def agent_public(self, agent_id: str) -> dict[str, Any] | None:
        agent = self.agents.get(agent_id)
        return agent.public() if agent else None

    def seat_pool(self) -> SeatPool:
        free = 0
        busy: list[BusySeat] = []
        for agent in self.agents.values():
            if agent.status != "online" or agent.sockets == 0:
                continue
            free += max(0, agent.max_chats - len(agent.chats))
            for cid in agent.chats:
                live = self.conversations.get(cid)
                if live and live.assigned_at:
                    busy.append(BusySeat(live.topic, live.assigned_at))
        return SeatPool(free=free, busy=tuple(busy))

    def _estimates(self) -> list[int | None]:
        order = self._routable_order()
        if not order:
            return []
        free_in = routing.seat_free_times(self.seat_pool(), self.clock(), self.handle_times.samples, needed=len(order))
        means = {topic: self.handle_times.mean(topic) for topic in {c.topic for c in order}}
        waits = routing.estimate_waits(free_in, [means[c.topic] for c in order])
        return [None if w is None else int(round(w / ETA_STEP_SECONDS) * ETA_STEP_SECONDS) for w in waits]

    # -- the queue --------------------------------------------------------------------------

    def _queue_add(self, live: LiveConversation) -> None:
        # in order of arrival, counted here rather than read off the wall clock; a chat handed back
        # keeps the place it first had
        if not live.arrival:
            live.arrival = next(self._arrivals)
        if live.id in self._queued:
            return
        item = (routing.queue_key(live.entry()), live.id)
        bisect.insort(self._queue, item)
        self._queued[live.id] = (item, live.origin)
        if live.origin is not None:
            self._waiting_by_origin[live.origin] += 1

    def _queue_remove(self, conversation_id: str) -> None:
        self._last_sent.pop(conversation_id, None)
        queued = self._queued.pop(conversation_id, None)
        if queued is None:
            return
        item, origin = queued
        index = bisect.bisect_left(self._queue, item)
        if index < len(self._queue) and self._queue[index] == item:
            del self._queue[index]
        if origin is not None:
            self._waiting_by_origin[origin] -= 1
            if not self._waiting_by_origin[origin]:
                del self._waiting_by_origin[origin]

    def waiting_from(self, origin: str) -> int:
        """Chats in the queue that were started from this client address."""
        return self._waiting_by_origin.get(origin, 0)

    async def enqueue(self, row: Row, origin: str | None = None) -> dict[str, Any] | None:
        """Add a newly queued conversation and route at once. Queue info, or None if assigned."""
        live = LiveConversation.from_row(row)
        live.origin = origin
        async with self._lock:
            self._remember(live)
            self._queue_add(live)
            # both stamps come from one reading of the clock when the chat was stored
            wait = (live.deadline - live.queued_at).total_seconds() if live.deadline and live.queued_at else None
            self._schedule_deadline(live, wait)
        await self.drain()
        # drain ended by telling every waiting chat its place; a chat no longer there was assigned
        told = self._last_sent.get(live.id)
        return None if told is None else dict(told)

    async def drain(self) -> None:
        """Assign waiting chats, oldest and most urgent first, while eligible seats exist.

        Never fails for a storage fault: what its caller changed is already committed. What was
        assigned before the fault is announced, and the rest is tried again a little later."""
        assigned: list[tuple[LiveConversation, LiveAgent]] = []
        interrupted = False
        async with self._lock:
            try:
                for _, conversation_id in list(self._queue):
                    if not any(routing.ineligibility(a.state(), _ANY) is None for a in self.agents.values()):
                        break  # no free seat anywhere: stop early
                    live = self.conversations[conversation_id]
                    if live.customer_id in self._customers_away:
                        continue  # nobody to talk to: the seat goes to someone who is here
                    decision = routing.choose_agent(live.entry(), [a.state() for a in self.agents.values()])
                    if decision.chosen_agent_id is None:
                        await self._explain_wait(live, decision)
                        continue
                    agent = self.agents[decision.chosen_agent_id]
                    if await self._assign(live, agent, decision):
                        assigned.append((live, agent))
                for _, conversation_id in list(self._queue):
                    live = self.conversations[conversation_id]
                    if not live.wait_explained and live.customer_id not in self._customers_away:
                        await self._explain_wait(live, routing.choose_agent(live.entry(), [a.state() for a in self.agents.values()]))
            except Unavailable:
                interrupted = True
        await self._announce(assigned)
        if assigned:
            await self._publish_agents({agent.id for _, agent in assigned})
        await self._publish_positions()
        if interrupted:
            self._drain_later()
        else:
            self._drain_attempts = 0

    def _drain_later(self) -> None:
        if self._drain_retry is not None or self._stopping:
            return
        delay = storage_retry_delay(self._drain_attempts)
        self._drain_attempts += 1
        log.warning("routing stopped by a storage failure; trying again in %g s", delay)
        self._drain_retry = asyncio.get_running_loop().call_later(delay, lambda: self._spawn(self._drain_again()))

    async def _drain_again(self) -> None:
        self._drain_retry = None
        await self.drain()

    async def _assign(self, live: LiveConversation, agent: LiveAgent, decision: routing.RoutingDecision | None) -> bool:
        now = self.clock()
        stamp = iso(now)
        async with self.db.transaction() as tx:
            ok = await conversations.assign(
                tx, conversation_id=live.id, agent_id=agent.id, max_chats=agent.max_chats, now=stamp  # type: ignore[arg-type]
            )
            if ok:
                await users.mark_assigned(tx, agent.id, stamp)  # type: ignore[arg-type]
                if decision is not None:
                    await conversations.record_decision(
                        tx,
                        conversation_id=live.id,
                        now=stamp,  # type: ignore[arg-type]
                        chosen_agent_id=agent.id,
                        rule=decision.rule,
                        candidates=[c.as_dict() for c in decision.candidates],
                    )
                await self._stage_assigned(tx, live.id, agent)
        if not ok:
            log.warning("seat reservation refused for %s on %s", agent.id, live.id)
            return False
        self._queue_remove(live.id)
        self._cancel_deadline(live.id)
        live.status, live.agent_id, live.assigned_at, live.deadline = "active", agent.id, now, None
        agent.chats.add(live.id)
        agent.last_assigned_at = now
        return True

    async def _explain_wait(self, live: LiveConversation, decision: routing.RoutingDecision) -> None:
        """Record once per stay in the queue why nobody could take the chat."""
        if live.wait_explained:
            return
        async with self.db.transaction() as tx:
            await conversations.record_decision(
                tx, conversation_id=live.id, now=iso(self.clock()), chosen_agent_id=None,  # type: ignore[arg-type]
                rule=decision.rule, candidates=[c.as_dict() for c in decision.candidates],
            )
        live.wait_explained = True

    async def _announce(self, assigned: list[tuple[LiveConversation, LiveAgent]], attempt: int = 0) -> None:
        """Tell both sides of each new assignment. The seats are committed by now: a read that storage
        refuses must neither fail the caller nor leave an agent unaware of a chat, so what could not be
        announced is announced again a little later."""
        unannounced = []
        for live, agent in assigned:
            if self.conversations.get(live.id) is not live or live.status != "active" or live.agent_id != agent.id:
                continue  # moved on meanwhile, and whatever moved it told both sides
            try:
                await self._publish_assigned(live, agent)
            except Unavailable:
                unannounced.append((live, agent))
        if not unannounced or self._stopping:
            return
        delay = storage_retry_delay(attempt)
        log.warning("%d assignments not announced (storage failure); trying again in %g s", len(unannounced), delay)

        def again() -> None:
            self._announce_retries.discard(handle)
            self._spawn(self._announce(unannounced, attempt + 1))

        handle = asyncio.get_running_loop().call_later(delay, again)
        self._announce_retries.add(handle)

    async def _stage_assigned(self, tx: Tx, conversation_id: str, agent: LiveAgent) -> None:
        """What must commit with the seat (the chat.assigned webhook): the chat as it now stands and
        its agent. Both sides hear of it from `_announce` afterwards, with the first page of messages."""
        await self.bus.stage(tx, ev.CONVERSATION_ASSIGNED, conversation=await conversations.get(tx, conversation_id), agent=agent.public())

    async def _publish_assigned(self, live: LiveConversation, agent: LiveAgent) -> None:
        row = await conversations.get(self.db, live.id)
        customer = await customers.get(self.db, live.customer_id)
        first = await conversations.messages_page(self.db, live.id, 0, include_internal=True, max_bytes=ASSIGNED_PAGE_BYTES)
        await self.bus.publish(
            ev.CONVERSATION_ASSIGNED,
            conversation=row,
            customer=customer,
            agent=agent.public(),
            messages=first.messages,
            more=first.more,
            customer_away_since=iso(self.customer_away_since(live.customer_id)),
        )

    async def _publish_positions(self) -> None:
        updates = []
        for position, (live, eta) in enumerate(zip(self._routable_order(), self._estimates()), start=1):
            place = _place(position, eta, live)
            if self._last_sent.get(live.id) != place:
                self._last_sent[live.id] = place
                updates.append({"conversation_id": live.id, "customer_id": live.customer_id, **place})
        if updates:
            await self.bus.publish(ev.QUEUE_POSITIONS, updates=updates)

    async def _publish_agents(self, agent_ids: set[str]) -> None:
        for agent_id in agent_ids:
            if agent_id in self.agents:
                await self.bus.publish(ev.AGENT_CHANGED, agent=self.agents[agent_id].public())

    # -- customers on the page --------------------------------------------------------------

    async def customer_connected(self, customer_id: str) -> None:
        """A widget of this customer opened. Counted before the first await, so a message sent at once
        on the new socket already finds them here. Back after leaving: their chat routes again."""
        self._customer_sockets[customer_id] += 1
        if self._customer_sockets[customer_id] > 1 or self._customers_away.pop(customer_id, None) is None:
            return
        live = self.open_for_customer(customer_id)
        if live is None:
            return
        await self._publish_presence(live, None)
        if live.status == "queued":
            await self.drain()

    async def customer_disconnected(self, customer_id: str) -> None:
        """A widget closed; when it was their last one, a chat they have open is marked as left."""
        self._customer_sockets[customer_id] -= 1
        if self._customer_sockets[customer_id] > 0:
            return
        del self._customer_sockets[customer_id]
        live = self.open_for_customer(customer_id)
        if live is None or self._stopping:
            return
        self._customers_away[customer_id] = since = self.clock()
        await self._publish_presence(live, since)
        if live.status == "queued":
            await self._publish_positions()  # those behind them no longer wait for them

    async def _customers_not_back(self, rebuilt: list[str], since: datetime) -> None:
        """The grace after a start is over: customers of the chats open at the start who have no widget
        open have left (a disconnect since then was seen, and is already counted)."""
        self._roll_call = None
        left_queue = False
        for conversation_id in rebuilt:
            live = self.conversations.get(conversation_id)
            # checked each time: one may come back, or a chat close, while another's departure is published
            if live is None or self._customer_sockets[live.customer_id] or live.customer_id in self._customers_away:
                continue
            self._customers_away[live.customer_id] = since
            left_queue = left_queue or live.status == "queued"
            await self._publish_presence(live, since)
        if left_queue:
            await self._publish_positions()  # those behind them no longer wait for them

    async def _publish_presence(self, live: LiveConversation, away_since: datetime | None) -> None:
        await self.bus.publish(
            ev.CUSTOMER_PRESENCE, conversation_id=live.id, customer_id=live.customer_id, agent_id=live.agent_id,
            away_since=iso(away_since),
        )

    # -- conversations leaving or moving ----------------------------------------------------

    async def forget(self, conversation_id: str) -> None:
        """A conversation closed: free its seat and give it to whoever waits longest."""
        async with self._lock:
            live = self.conversations.pop(conversation_id, None)
            if live is not None:
                if self._open_by_customer.get(live.customer_id) == conversation_id:
                    del self._open_by_customer[live.customer_id]
                self._customers_away.pop(live.customer_id, None)
            self._cancel_deadline(conversation_id)
            self._queue_remove(conversation_id)
            agent = self.agents.get(live.agent_id) if live and live.agent_id else None
            if agent is not None and live is not None:
                agent.chats.discard(conversation_id)
                if live.assigned_at is not None:
                    self.handle_times.record(live.topic, (self.clock() - live.assigned_at).total_seconds())
        if agent is not None:
            await self._publish_agents({agent.id})
        await self.drain()

    async def return_to_queue(self, conversation_id: str, reason: str, actor: str, *, only_from: str | None) -> LiveConversation:
        """Put an active chat back at the front of the queue and tell both sides. `only_from` is the
        agent the caller saw it with, checked again under the lock: an agent signing off must not hand
        back a chat a supervisor moved to a colleague a moment before."""
        async with self._lock:
            live = self.conversations.get(conversation_id)
            if live is None or live.status != "active":
                raise Conflict("the conversation is not active")
            if only_from is not None and live.agent_id != only_from:
                raise Conflict("the chat has moved to another agent")
            now = self.clock()
            deadline = now + timedelta(seconds=self.queue_timeout)
            async with self.db.transaction() as tx:
                handed = await self._hand_back_in(tx, [live], reason, actor, now, deadline)
                if not handed:
                    raise Conflict("the conversation is not active")
            self._handed_back(handed, now, deadline)
        await self._tell_handed_back(handed, reason)
        await self.drain()
        return live

    def _held_by(self, agent: LiveAgent) -> list[LiveConversation]:
        """The open chats routing has with `agent` (read under the lock)."""
        held = (self.conversations.get(conversation_id) for conversation_id in sorted(agent.chats))
        return [live for live in held if live is not None and live.status == "active" and live.agent_id == agent.id]

    async def _hand_back_in(
        self, tx: Tx, chats: list[LiveConversation], reason: str, actor: str, now: datetime, deadline: datetime,
    ) -> list[HandedBack]:
        """Write in `tx` the return to the queue of each chat that is still with the agent routing has it
        with: the row, a system line and the audit entry. One closed a moment ago (its close commits
        before routing forgets it) is left out. Memory follows with `_handed_back` once `tx` commits."""
        handed = []
        for live in chats:
            if not await conversations.requeue(
                tx, conversation_id=live.id, from_agent_id=live.agent_id, priority=routing.PRIORITY_RETURNED,
                deadline=iso(deadline), now=iso(now),  # type: ignore[arg-type]
            ):
                continue
            message = await conversations.append_message_in(
                tx, conversation_id=live.id, sender="system", author="system", body=f"requeued:{reason}", now=iso(now)  # type: ignore[arg-type]
            )
            await audit.record(
                tx, actor=actor, action="conversation.requeued", subject=live.id, now=iso(now),  # type: ignore[arg-type]
                details={"reason": reason, "agent_id": live.agent_id},
            )
            handed.append(HandedBack(live, live.agent_id, message))
        return handed

    def _handed_back(self, handed: list[HandedBack], now: datetime, deadline: datetime) -> None:
        """Routing's memory after the hand-backs committed: the seats are free, the chats wait in front."""
        for live, previous_agent, _ in handed:
            if previous_agent in self.agents:
                self.agents[previous_agent].chats.discard(live.id)
            live.status, live.agent_id, live.assigned_at, live.queued_at = "queued", None, None, now
            live.priority, live.deadline = routing.PRIORITY_RETURNED, deadline
            live.wait_explained = False
            self._queue_add(live)
            self._schedule_deadline(live, (deadline - now).total_seconds())

    async def _tell_handed_back(self, handed: list[HandedBack], reason: str) -> None:
        for live, previous_agent, message in handed:
            await self.bus.publish(
                ev.CONVERSATION_UNASSIGNED,
                conversation_id=live.id,
                customer_id=live.customer_id,
                agent_id=previous_agent,
                reason=reason,
                message=message,
            )
        await self._publish_agents({previous_agent for _, previous_agent, _ in handed if previous_agent})

    async def take(self, conversation_id: str, agent_id: str) -> LiveConversation:
        """An agent takes a queued chat by hand (capacity still holds)."""
        agent = self.agents.get(agent_id)
        if agent is None:
            raise Forbidden("only console users can take chats")
        async with self._lock:
            live = self.conversations.get(conversation_id)
            if live is None:
                raise NotFound("no such open conversation")
            if live.status != "queued":
                raise Conflict("the conversation is no longer waiting")
            if len(agent.chats) >= agent.max_chats:
                raise Conflict("you are at your chat capacity")
            decision = routing.RoutingDecision(
                live.id, agent.id, "taken_by_hand",
                (routing.Candidate(agent.id, agent.name, agent.status, len(agent.chats), agent.max_chats, True, "chosen"),),
            )
            if not await self._assign(live, agent, decision):
                raise await self._refusal(live.id, "queued", "you are at your chat capacity")
        await self._announce([(live, agent)])
        await self._publish_agents({agent.id})
        await self._publish_positions()
        return live

    async def transfer(self, conversation_id: str, actor: str, to_agent_id: str, *, only_from: str) -> LiveConversation:
        """Move an active chat from `only_from`, the agent the caller saw it with (checked again under
        the lock), to a colleague."""
        target = self.agents.get(to_agent_id)
        if target is None:
            raise NotFound("no such colleague")
        async with self._lock:
            if self.agents.get(to_agent_id) is not target:  # deactivated while this waited for the lock
                raise NotFound("no such colleague")
            live = self.conversations.get(conversation_id)
            if live is None or live.status != "active":
                raise Conflict("the conversation is not active")
            if live.agent_id != only_from:
                raise Conflict("the chat has moved to another agent")
            if target.status != "online" or target.sockets == 0:
                raise Conflict(f"{isolate(target.name)} is not online")
            if len(target.chats) >= target.max_chats:
                raise Conflict(f"{isolate(target.name)} is at capacity")
            now = self.clock()
            async with self.db.transaction() as tx:
                ok = await conversations.move_to_agent(
                    tx, conversation_id=live.id, from_agent_id=only_from, agent_id=target.id, max_chats=target.max_chats,
                    now=iso(now),  # type: ignore[arg-type]
                )
                if not ok:
                    raise await self._refusal(live.id, "active", f"{isolate(target.name)} is at capacity")
                await conversations.record_decision(
                    tx, conversation_id=live.id, now=iso(now), chosen_agent_id=target.id,  # type: ignore[arg-type]
                    rule="transferred", candidates=[{"agent_id": target.id, "name": target.name, "reason": "chosen", "from_agent_id": actor}],
                )
                await audit.record(
                    tx, actor=actor, action="conversation.transferred", subject=live.id, now=iso(now),  # type: ignore[arg-type]
                    details={"from": live.agent_id, "to": target.id},
                )
                await self._stage_assigned(tx, live.id, target)
            previous = live.agent_id
            if previous in self.agents:
                self.agents[previous].chats.discard(live.id)
            target.chats.add(live.id)
            live.agent_id, live.assigned_at = target.id, now
        await self.bus.publish(
            ev.CONVERSATION_UNASSIGNED, conversation_id=live.id, customer_id=live.customer_id,
            agent_id=previous, reason="transferred", message=None,
        )
        await self._announce([(live, target)])
        await self._publish_agents({target.id, previous} - {None})  # type: ignore[arg-type]
        await self.drain()
        return live

    async def hand_over(
        self, conversation_id: str, agent_id: str, *, actor: str, action: str, rule: str, over_capacity: bool = False,
        only_if: str | None = None, only_from: str | None = None,
    ) -> LiveConversation:
        """A supervisor places a chat with an agent by hand: a waiting chat is assigned, an active one
        moves. The agent must have a console open and, unless it is the supervisor themself, not be
        offline; capacity holds unless `over_capacity`. `only_if` ("queued" or "active") is the state
        the caller saw, checked again under the lock: two supervisors assigning one waiting chat at once
        get one assignment and a conflict, not a chat bounced between agents; `only_from` is the agent
        the caller saw an active chat with, checked the same way. The routing log and the audit trail
        say who did it."""
        target = self.agents.get(agent_id)
        if target is None:
            raise NotFound("no such agent")
        async with self._lock:
            if self.agents.get(agent_id) is not target:  # deactivated while this waited for the lock
                raise NotFound("no such agent")
            live = self.conversations.get(conversation_id)
            if live is None:
                raise NotFound("no such open conversation")
            if only_if == "queued" and live.status != "queued":
                has_it = self.agents.get(live.agent_id) if live.agent_id else None
                raise Conflict(f"the chat is no longer waiting: {isolate(has_it.name)} has it now" if has_it
                               else "the chat is no longer waiting")
            if only_if == "active" and live.status != "active":
                raise Conflict("the chat is waiting; assign it instead")
            if only_from is not None and live.agent_id != only_from:
                now_with = self.agents.get(live.agent_id) if live.agent_id else None
                raise Conflict(f"the chat moved to {isolate(now_with.name)} meanwhile" if now_with else "the chat moved meanwhile")
            if live.agent_id == target.id:
                raise Conflict(f"the chat is already with {isolate(target.name)}")
            if target.sockets == 0:
                raise Conflict(f"{isolate(target.name)} has no console open")
            if target.status == "offline" and actor != target.id:  # taking a chat oneself needs only the console
                raise Conflict(f"{isolate(target.name)} is offline")
            load = len(target.chats)
            if load >= target.max_chats and not over_capacity:
                raise Conflict(f"{isolate(target.name)} is at capacity ({load} of {target.max_chats} chats)")
            # the seat is still reserved atomically; forcing allows exactly one seat more than now
            seats = max(target.max_chats, load + 1) if over_capacity else target.max_chats
            previous = live.agent_id
            now = self.clock()
            stamp = iso(now)
            async with self.db.transaction() as tx:
                if live.status == "queued":
                    ok = await conversations.assign(tx, conversation_id=live.id, agent_id=target.id, max_chats=seats, now=stamp)  # type: ignore[arg-type]
                else:
                    ok = await conversations.move_to_agent(
                        tx, conversation_id=live.id, from_agent_id=previous, agent_id=target.id, max_chats=seats, now=stamp,  # type: ignore[arg-type]
                    )
                if not ok:
                    raise await self._refusal(live.id, live.status, f"{isolate(target.name)} is at capacity")
                await users.mark_assigned(tx, target.id, stamp)  # type: ignore[arg-type]
                candidate = routing.Candidate(target.id, target.name, target.status, load, target.max_chats, True, "chosen")
                await conversations.record_decision(
                    tx, conversation_id=live.id, now=stamp, chosen_agent_id=target.id, rule=rule,  # type: ignore[arg-type]
                    candidates=[dict(candidate.as_dict(), by=actor, from_agent_id=previous)],
                )
                await audit.record(
                    tx, actor=actor, action=action, subject=live.id, now=stamp,  # type: ignore[arg-type]
                    details={"from": previous, "to": target.id, "load": load, "max_chats": target.max_chats,
                             "over_capacity": load >= target.max_chats},
                )
                await self._stage_assigned(tx, live.id, target)
            was_queued = live.status == "queued"
            if was_queued:
                self._queue_remove(live.id)
                self._cancel_deadline(live.id)
            elif previous in self.agents:
                self.agents[previous].chats.discard(live.id)
            live.status, live.agent_id, live.assigned_at, live.deadline = "active", target.id, now, None
            target.chats.add(live.id)
            target.last_assigned_at = now
        if previous is not None:
            await self.bus.publish(
                ev.CONVERSATION_UNASSIGNED, conversation_id=live.id, customer_id=live.customer_id,
                agent_id=previous, reason="transferred", message=None,
            )
        await self._announce([(live, target)])
        await self._publish_agents({target.id, previous} - {None})  # type: ignore[arg-type]
        if was_queued:
            await self._publish_positions()
        else:
            await self.drain()  # the previous agent's seat is free
        return live

    async def _refusal(self, conversation_id: str, status_seen: str, otherwise: str) -> Conflict:
        """Why the database refused a seat: the chat ended or changed state a moment ago (its close
        commits before this memory forgets it), or else the reason the caller expects (capacity)."""
        row = await conversations.get(self.db, conversation_id)
        if row is None or row["status"] == "closed":
            return Conflict("the conversation has ended")
        if row["status"] != status_seen:
            return Conflict("the conversation is no longer waiting" if status_seen == "queued" else "the conversation is not active")
        return Conflict(otherwise)

    # -- agents -----------------------------------------------------------------------------

    async def refresh_agent(self, user_id: str) -> None:
        """Pick up a new or changed console user. Read under the lock and applied to the object routing
        already holds, so that a presence change at the same moment lands on it; presence itself is
        the presence path's to change, never taken from a row read a moment ago."""
        async with self._lock:
            row = await users.get(self.db, user_id)
            if row is None or not row["active"]:
                self.agents.pop(user_id, None)
                return
            known = self.agents.get(user_id)
            if known is None:
                self.agents[user_id] = LiveAgent.from_row(row)
            else:
                known.update_profile(row)

    async def retire_agent(self, user_id: str, actor: str, write: Callable[[Tx], Awaitable[T]]) -> T:
        """A deactivated user leaves routing. `write` (the account's own change) and the return to the
        queue of the chats they hold commit in one transaction, under the lock that assignments hold,
        so none assigned a moment ago is missed, and a fault leaves none with someone nothing would
        ever hand it back from (routing forgets them, a restart knows active users only)."""
        async with self._lock:
            agent = self.agents.get(user_id)
            now = self.clock()
            deadline = now + timedelta(seconds=self.queue_timeout)
            async with self.db.transaction() as tx:
                result = await write(tx)
                handed = await self._hand_back_in(tx, self._held_by(agent) if agent else [], "agent_offline", actor, now, deadline)
            self.agents.pop(user_id, None)
            handle = self._grace_timers.pop(user_id, None)
            if handle:
                handle.cancel()
            self._handed_back(handed, now, deadline)
        await self._tell_handed_back(handed, "agent_offline")
        await self.drain()
        return result

    async def agent_connected(self, agent_id: str) -> LiveAgent:
        if agent_id not in self.agents:
            await self.refresh_agent(agent_id)
        agent = self.agents.get(agent_id)
        if agent is None:  # deactivated a moment ago
            raise Forbidden("this account is no longer active")
        agent.sockets += 1
        handle = self._grace_timers.pop(agent_id, None)
        if handle:
            handle.cancel()
        await self._publish_agents({agent_id})
        await self.drain()
        return agent

    async def agent_disconnected(self, agent_id: str) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        agent.sockets = max(0, agent.sockets - 1)
        if agent.sockets == 0:
            self._schedule_grace(agent_id)
            await self._publish_agents({agent_id})
            await self._publish_positions()

    async def set_presence(self, agent_id: str, status: str, *, actor: str | None = None) -> dict[str, Any]:
        """Set an agent's presence; `actor` is the supervisor when it is not the agent themself."""
        agent = self.agents.get(agent_id)
        if agent is None:
            raise NotFound("no such agent")
        if status not in ("online", "away", "offline"):
            raise Invalid("status must be online, away or offline")
        actor = actor or agent_id
        now = self.clock()
        details: dict[str, Any] = {"status": status}
        if actor != agent_id:
            details["from"] = agent.status
        handed: list[HandedBack] = []
        async with self._lock:  # with every other change of routing's agents, in one order
            agent = self.agents.get(agent_id, agent)
            # signing off hands open chats to colleagues instead of leaving customers waiting; in the
            # same transaction, so that a storage fault leaves neither done without the other
            held = self._held_by(agent) if status == "offline" else []
            deadline = now + timedelta(seconds=self.queue_timeout)
            async with self.db.transaction() as tx:
                await users.set_status(tx, agent_id, status, iso(now))  # type: ignore[arg-type]
                await audit.record(tx, actor=actor, action="agent.presence", subject=agent_id, now=iso(now), details=details)  # type: ignore[arg-type]
                handed = await self._hand_back_in(tx, held, "agent_offline", actor, now, deadline)
            if agent.status != status:
                agent.status, agent.status_since = status, now
            self._handed_back(handed, now, deadline)
        await self._tell_handed_back(handed, "agent_offline")
        await self._publish_agents({agent_id})
        await self.drain()
        return agent.public()

    async def _grace_expired(self, agent_id: str, attempt: int = 0) -> None:
        self._grace_timers.pop(agent_id, None)
        agent = self.agents.get(agent_id)
        if agent is None or agent.sockets > 0:
            return
        log.info("agent %s did not return within the grace period", agent_id)
        try:
            for conversation_id in list(agent.chats):
                try:
                    await self.return_to_queue(conversation_id, "agent_disconnected", "system", only_from=agent_id)
                except Conflict:
                    pass
            async with self._lock:
                if agent.sockets > 0:
                    return  # back while their chats were handed back: their presence is theirs again
                now = self.clock()
                async with self.db.transaction() as tx:
                    await users.set_status(tx, agent_id, "offline", iso(now))  # type: ignore[arg-type]
                if agent.status != "offline":  # one offline already stays offline since they signed off, as stored
                    agent.status, agent.status_since = "offline", now
        except Unavailable:
            # chats already handed back stay handed back; the rest goes when the storage is back
            if not self._stopping:
                delay = storage_retry_delay(attempt)
                log.warning("agent %s's chats not all handed back (storage failure); trying again in %g s", agent_id, delay)
                self._grace_timers[agent_id] = asyncio.get_running_loop().call_later(
                    delay, lambda: self._spawn(self._grace_expired(agent_id, attempt + 1))
                )
            return
        await self._publish_agents({agent_id})

    # -- timers -----------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception():
            log.error("timer task failed", exc_info=task.exception())

    def _schedule_deadline(self, live: LiveConversation, wait: float | None = None) -> None:
        """Arm the deadline timer. While the process runs a deadline is `wait` seconds on the loop's
        monotonic clock, so a step of the wall clock (read again here, after an await) cannot move it;
        only a timer rebuilt at start-up counts from the stored wall-clock time, the only one there is."""
        self._cancel_deadline(live.id)
        if live.deadline is None or self._stopping:
            return
        if wait is None:
            wait = (live.deadline - self.clock()).total_seconds()
        delay = max(0.0, wait)
        loop = asyncio.get_running_loop()
        self._deadline_timers[live.id] = loop.call_later(delay, lambda: self._spawn(self._deadline_passed(live.id)))

    def _cancel_deadline(self, conversation_id: str) -> None:
        handle = self._deadline_timers.pop(conversation_id, None)
        if handle:
            handle.cancel()

    async def _deadline_passed(self, conversation_id: str, attempt: int = 0) -> None:
        self._deadline_timers.pop(conversation_id, None)
        try:
            # deadlines that pass together (a start-up after downtime, a burst of chats started at
            # once) take turns: all at once they would fill the write queue, and every write behind
            # them, chat messages included, would wait for the lot or be refused as unavailable
            async with self._expiry_turns:
                live = self.conversations.get(conversation_id)
                if live is None or live.status != "queued" or self.on_wait_expired is None:
                    return
                await self.on_wait_expired(conversation_id)
        except Unavailable:
            if self._stopping or conversation_id in self._deadline_timers:
                return  # stopping, or queued again meanwhile with a deadline of its own
            delay = storage_retry_delay(attempt)
            log.warning("queue deadline of %s not acted on (storage failure); trying again in %g s", conversation_id, delay)
            self._deadline_timers[conversation_id] = asyncio.get_running_loop().call_later(
                delay, lambda: self._spawn(self._deadline_passed(conversation_id, attempt + 1))
            )

    def _schedule_grace(self, agent_id: str) -> None:
        if agent_id in self._grace_timers or self._stopping:
            return
        loop = asyncio.get_running_loop()
        self._grace_timers[agent_id] = loop.call_later(
            self.agent_grace, lambda: self._spawn(self._grace_expired(agent_id))
        )


# A queue entry that any free, connected, online agent could take: used to stop draining early.
_ANY = QueueEntry("", None, None, 0, datetime.min)


def _place(position: int, eta: int | None, live: LiveConversation) -> dict[str, Any]:
    """A waiting chat's place as its customer is told it: where, how long, and when it becomes a
    complaint if nobody is free by then (so an estimate past that moment is not a promise)."""
    return {"position": position, "eta_seconds": eta, "deadline_at": iso(live.deadline)}
