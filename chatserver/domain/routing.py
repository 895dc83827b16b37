"""Routing decisions: queue order, agent choice with its reasons, and an honest wait estimate.

Everything here is a pure function of plain values with `now` passed in.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Sequence

from chatserver.domain.models import AgentState, QueueEntry, SeatPool

# Chats returned to the queue (agent vanished, transfer back) go ahead of new ones.
PRIORITY_NORMAL = 0
PRIORITY_RETURNED = 10


def queue_key(entry: QueueEntry) -> tuple:
    """Higher priority first, then the longest waiting, then a stable id."""
    return (-entry.priority, entry.queued_at, entry.conversation_id)


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
    """Expected seconds until a busy seat frees, given how long its chat has run.

    Chats rarely end at once, and one that has outlived the mean usually ends soon but not
    instantly: keep a floor of a fifth of the mean handle time.
    """
    return max(handle_time - elapsed, handle_time * 0.2)


def seat_free_times(
    pool: SeatPool, now: datetime, handle_time_for: Callable[[str | None], float]
) -> list[float]:
    """Seconds from `now` until each online seat is expected to be free (0 for free seats)."""
    times = [0.0] * pool.free
    for seat in pool.busy:
        elapsed = max(0.0, (now - seat.since).total_seconds())
        times.append(expected_remaining(elapsed, handle_time_for(seat.topic)))
    return times


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

    def __init__(self, default_seconds: float = 300.0, window: int = 50) -> None:
        self.default_seconds = default_seconds
        self.window = window
        self._by_topic: dict[str | None, list[float]] = {}
        self._all: list[float] = []

    def record(self, topic: str | None, seconds: float) -> None:
        for bucket in (self._by_topic.setdefault(topic, []), self._all):
            bucket.append(max(1.0, seconds))
            if len(bucket) > self.window:
                del bucket[0]

    def mean(self, topic: str | None) -> float:
        bucket = self._by_topic.get(topic)
        if bucket and len(bucket) >= 5:
            return sum(bucket) / len(bucket)
        if self._all:
            return sum(self._all) / len(self._all)
        return self.default_seconds
