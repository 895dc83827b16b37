"""Routing decisions: queue order, agent choice with its reasons, and an honest wait estimate.

Everything here is a pure function of plain values with `now` passed in.
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Sequence

from chatserver.domain.models import AgentState, QueueEntry, SeatPool

# Chats returned to the queue (agent vanished, transfer back) go ahead of new ones.
PRIORITY_NORMAL = 0
PRIORITY_RETURNED = 10


def queue_key(entry: QueueEntry) -> tuple:
    """Higher priority first, then the first to arrive, then a stable id."""
    return (-entry.priority, entry.arrival, entry.queued_at, entry.conversation_id)


def order_queue(entries: Iterable[QueueEntry]) -> list[QueueEntry]:
    return sorted(entries, key=queue_key)


@dataclass(frozen=True, slots=True)
class Candidate:
    agent_id: str
    name: str
    status: str
    active_chats: int
    max_chats: int
    eligible: bool
    reason: str

    def as_dict(self) -> dict:
        return {
            "agent_id": self.agent_id,
            "name": self.name,
            "status": self.status,
            "active_chats": self.active_chats,
            "max_chats": self.max_chats,
            "eligible": self.eligible,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    conversation_id: str
    chosen_agent_id: str | None
    rule: str
    candidates: tuple[Candidate, ...]

    def as_dict(self) -> dict:
        return {
            "conversation_id": self.conversation_id,
            "chosen_agent_id": self.chosen_agent_id,
            "rule": self.rule,
            "candidates": [c.as_dict() for c in self.candidates],
        }


def ineligibility(agent: AgentState, entry: QueueEntry) -> str | None:
    """Why this agent cannot take this chat now, or None when they can."""
    if agent.status == "offline":
        return "offline"
    if agent.status == "away":
        return "away"
    if not agent.connected:
        return "disconnected"
    if agent.active_chats >= agent.max_chats:
        return "at_capacity"
    if agent.skills and entry.topic and entry.topic not in agent.skills:
        return "not_skilled_for_topic"
    return None


def _load(agent: AgentState) -> float:
    return agent.active_chats / agent.max_chats if agent.max_chats else 1.0


def _fairness_key(agent: AgentState) -> tuple:
    # Never assigned sorts first; then the longest since the last assignment.
    last = agent.last_assigned_at
    return (_load(agent), agent.active_chats, last is not None, last.timestamp() if last else 0.0, agent.id)


def choose_agent(entry: QueueEntry, agents: Sequence[AgentState]) -> RoutingDecision:
    """Pick the agent for `entry`: eligible, language match preferred, least loaded, longest idle."""
    reasons: dict[str, str] = {}
    eligible: list[AgentState] = []
    for agent in agents:
        why_not = ineligibility(agent, entry)
        if why_not:
            reasons[agent.id] = why_not
        else:
            eligible.append(agent)

    chosen: AgentState | None = None
    rule = "no_eligible_agent"
    if eligible:
        speakers = [a for a in eligible if entry.locale and entry.locale in a.languages]
        pool = speakers or eligible
        ranked = sorted(pool, key=_fairness_key)
        chosen = ranked[0]
        rule = "language_match_least_loaded" if speakers else "least_loaded"
        for agent in eligible:
            if agent is chosen:
                reasons[agent.id] = "chosen"
            elif speakers and agent not in speakers:
                reasons[agent.id] = "language_mismatch"
            elif _load(agent) > _load(chosen) or agent.active_chats > chosen.active_chats:
                reasons[agent.id] = "more_loaded"
            else:
                reasons[agent.id] = "assigned_more_recently"

    candidates = tuple(
        Candidate(
            agent_id=a.id,
            name=a.name,
            status=a.status if a.connected or a.status == "offline" else "disconnected",
            active_chats=a.active_chats,
            max_chats=a.max_chats,
            eligible=a in eligible,
            reason=reasons[a.id],
        )
        for a in agents
    )
    return RoutingDecision(entry.conversation_id, chosen.id if chosen else None, rule, candidates)


def expected_remaining(elapsed: float, handle_time: float) -> float:
    """Expected seconds until a busy seat frees when all we know is the mean handle time.

    A chat that has outlived the mean usually ends soon but not instantly: keep a floor of a
    fifth of the mean.
    """
    return max(handle_time - elapsed, handle_time * 0.2)


def seat_free_times(
    pool: SeatPool,
    now: datetime,
    samples_for: Callable[[str | None], Sequence[float]],
    needed: int | None = None,
) -> list[float]:
    """Seconds from `now` until the 1st, 2nd, ... online seat is free (free seats first, at 0).

    Each busy seat's chat ends after a handle time like the recent ones for its topic, given how
    long it has already lasted. The k-th seat counts as free when the expected number of ended
    chats reaches k - 1/2: the median of the k-th ending, not the k-th smallest of the means
    (which would ignore that the first of many chats to end comes much sooner than any one).
    `needed` stops after that many seats (a queue of 3 needs 3 answers, not one per seat).
    """
    times = [0.0] * pool.free
    wanted = len(pool.busy) if needed is None else max(0, min(len(pool.busy), needed - pool.free))
    if wanted == 0:
        return times
    ordered_by_topic: dict[str | None, list[float]] = {}
    per_seat: list[list[tuple[float, float]]] = []
    for seat in pool.busy:
        elapsed = max(0.0, (now - seat.since).total_seconds())
        ordered = ordered_by_topic.get(seat.topic)
        if ordered is None:
            ordered = ordered_by_topic[seat.topic] = sorted(samples_for(seat.topic))
        later = _thin(ordered, bisect.bisect_right(ordered, elapsed))
        if later:
            weight = 1.0 / len(later)
            per_seat.append([(sample - elapsed, weight) for sample in later])
        else:
            mean = sum(ordered) / len(ordered)
            per_seat.append([(expected_remaining(elapsed, mean), 1.0)])
    ended, found, remaining = 0.0, 0, 0.0
    for remaining, weight in heapq.merge(*per_seat):  # all seats' endings in time order, lazily
        ended += weight
        while found < wanted and ended >= found + 0.5 - 1e-9:
            times.append(remaining)
            found += 1
        if found == wanted:
            return times
    times.extend([remaining] * (wanted - found))
    return times


MAX_STEPS_PER_SEAT = 20


def _thin(ordered: list[float], start: int) -> list[float]:
    """`ordered[start:]` as at most MAX_STEPS_PER_SEAT evenly spaced order statistics: the same
    distribution in fewer steps, so that hundreds of busy seats stay cheap to estimate."""
    count = len(ordered) - start
    if count <= MAX_STEPS_PER_SEAT:
        return ordered[start:]
    last = count - 1
    return [ordered[start + round(i * last / (MAX_STEPS_PER_SEAT - 1))] for i in range(MAX_STEPS_PER_SEAT)]


def estimate_waits(free_in: Sequence[float], handle_times: Sequence[float]) -> list[float | None]:
    """Wait for each queue position, in queue order.

    Position k gets the k-th seat to free up; every chat ahead of it then holds the seat it took
    for its own handle time. With no online seats there is no honest number: None.
    """
    if not free_in:
        return [None] * len(handle_times)
    heap = list(free_in)
    heapq.heapify(heap)
    waits: list[float | None] = []
    for handle_time in handle_times:
        start = heapq.heappop(heap)
        waits.append(start)
        heapq.heappush(heap, start + handle_time)
    return waits


class HandleTimes:
    """Rolling mean handle time per topic over the last `window` chats, with a global fallback."""

    def __init__(self, default_seconds: float = 300.0, window: int = 100) -> None:
        self.default_seconds = default_seconds
        self.window = window
        self._by_topic: dict[str | None, list[float]] = {}
        self._all: list[float] = []

    def record(self, topic: str | None, seconds: float) -> None:
        for bucket in (self._by_topic.setdefault(topic, []), self._all):
            bucket.append(max(1.0, seconds))
            if len(bucket) > self.window:
                del bucket[0]

    def samples(self, topic: str | None) -> Sequence[float]:
        """Recent handle times for the topic, or for all topics while the topic has too few."""
        bucket = self._by_topic.get(topic)
        if bucket and len(bucket) >= 5:
            return bucket
        return self._all or (self.default_seconds,)

    def mean(self, topic: str | None) -> float:
        samples = self.samples(topic)
        return sum(samples) / len(samples)
