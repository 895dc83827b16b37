"""A simulated day proves the wait estimate honest.

The pure routing code runs against a fake clock: random arrivals with a busy evening peak,
lognormal handle times that differ by topic, agents joining and leaving by shift. The estimate
each customer is given on entering the queue is compared with the wait they actually had.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from chatserver.domain.models import AgentState, BusySeat, QueueEntry, SeatPool
from chatserver.domain.routing import HandleTimes, choose_agent, estimate_waits, order_queue, seat_free_times

START = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
TOPICS = {"withdrawals": 540.0, "bet_settlement": 420.0, "account_access": 300.0, "bonuses": 360.0}

# arrivals per hour, by hour of day: quiet night, steady day, then the evening
DAYTIME = [8, 6, 5, 5, 5, 6, 10, 16, 24, 30, 32, 34, 36, 34, 32, 32, 36]
# a busy evening: for two hours more chats arrive than the seats can serve, and the queue builds
BUSY_EVENING = DAYTIME + [50, 80, 115, 140, 130, 85, 40]
# a lighter evening: short queues, waits around a minute
LIGHT_EVENING = DAYTIME + [48, 70, 100, 120, 110, 70, 35]
# (start hour, end hour, max chats): night, morning and evening shifts overlapping at hand-over
SHIFTS = [(0, 8, 3), (0, 8, 3), (7, 16, 3), (7, 16, 3), (8, 17, 3), (9, 18, 2), (15, 24, 3), (16, 24, 3),
          (17, 24, 3), (18, 24, 3), (19, 23, 2), (23, 24, 3)]


@dataclass
class SimAgent:
    id: str
    max_chats: int
    status: str = "offline"
    chats: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    last_assigned_at: datetime | None = None

    def state(self) -> AgentState:
        return AgentState(self.id, self.id, self.status, True, len(self.chats), self.max_chats, last_assigned_at=self.last_assigned_at)


def simulate(seed: int, arrivals_per_hour: list[int]) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    events: list = []
    order = itertools.count()

    def at(moment: datetime, kind: str, data) -> None:
        heapq.heappush(events, (moment, next(order), kind, data))

    agents = {f"a{i}": SimAgent(f"a{i}", seats) for i, (_, _, seats) in enumerate(SHIFTS)}
    for i, (start, end, _) in enumerate(SHIFTS):
        at(START + timedelta(hours=start), "shift_start", f"a{i}")
        at(START + timedelta(hours=end), "shift_end", f"a{i}")
    moment = START
    for hour, rate in enumerate(arrivals_per_hour):
        moment = START + timedelta(hours=hour)
        end = moment + timedelta(hours=1)
        while True:
            moment += timedelta(seconds=rng.expovariate(rate / 3600))
            if moment >= end:
                break
            at(moment, "arrive", (f"c{next(order)}", rng.choice(list(TOPICS))))

    handle = HandleTimes(default_seconds=420.0)
    queue: dict[str, QueueEntry] = {}
    estimates: dict[str, float] = {}
    results: list[tuple[float, float]] = []

    def pool(now: datetime) -> SeatPool:
        online = [a for a in agents.values() if a.status == "online"]
        busy = tuple(BusySeat(topic, since) for a in online for topic, since in a.chats.values())
        return SeatPool(free=sum(a.max_chats - len(a.chats) for a in online), busy=busy)

    def drain(now: datetime) -> None:
        for waiting in order_queue(queue.values()):
            decision = choose_agent(waiting, [a.state() for a in agents.values()])
            if decision.chosen_agent_id is None:
                continue
            agent = agents[decision.chosen_agent_id]
            agent.chats[waiting.conversation_id] = (waiting.topic, now)
            agent.last_assigned_at = now
            del queue[waiting.conversation_id]
            if waiting.conversation_id in estimates:
                actual = (now - waiting.queued_at).total_seconds()
                results.append((estimates.pop(waiting.conversation_id), actual))
            mean = TOPICS[waiting.topic]
            sigma = 0.5
            duration = rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)
            at(now + timedelta(seconds=duration), "finish", (agent.id, waiting.conversation_id))

    while events:
        now, _, kind, data = heapq.heappop(events)
        if kind == "arrive":
            conversation_id, topic = data
            queue[conversation_id] = QueueEntry(conversation_id, topic, None, 0, now)
            drain(now)
            if conversation_id in queue:
                ordered = order_queue(queue.values())
                free_in = seat_free_times(pool(now), now, handle.samples)
                waits = estimate_waits(free_in, [handle.mean(e.topic) for e in ordered])
                position = [e.conversation_id for e in ordered].index(conversation_id)
                if waits[position] is not None:
                    estimates[conversation_id] = waits[position]
        elif kind == "finish":
            agent_id, conversation_id = data
            topic, since = agents[agent_id].chats.pop(conversation_id)
            handle.record(topic, (now - since).total_seconds())
            drain(now)
        elif kind == "shift_start":
            agents[data].status = "online"
            drain(now)
        elif kind == "shift_end":
            agents[data].status = "away"  # finishes current chats, takes no new ones
    return results


def errors_over_days(arrivals_per_hour: list[int], days: int = 5) -> tuple[list[float], list[float]]:
    errors, actuals = [], []
    for seed in range(days):
        for estimate, actual in simulate(seed, arrivals_per_hour):
            errors.append(abs(estimate - actual))
            actuals.append(actual)
    return errors, actuals


def test_estimate_on_entering_the_queue_is_honest_over_a_busy_simulated_day():
    errors, actuals = errors_over_days(BUSY_EVENING)
    assert len(actuals) > 1000, "the evening peak must make customers wait"
    median_error, median_wait = statistics.median(errors), statistics.median(actuals)
    print(f"busy: queued={len(actuals)} median wait={median_wait:.0f}s median |error|={median_error:.0f}s")
    assert median_error <= 0.25 * median_wait
    # and customer by customer, the typical miss is within a quarter of their own wait
    relative = [e / a for e, a in zip(errors, actuals) if a > 0]
    assert statistics.median(relative) <= 0.25


def test_short_waits_are_estimated_within_half_a_minute():
    """With short queues the next free seat is chance more than arithmetic; the miss stays small in absolute terms."""
    errors, actuals = errors_over_days(LIGHT_EVENING)
    assert len(actuals) > 300
    median_error, median_wait = statistics.median(errors), statistics.median(actuals)
    print(f"light: queued={len(actuals)} median wait={median_wait:.0f}s median |error|={median_error:.0f}s")
    assert median_error <= 30
