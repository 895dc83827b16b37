"""The support floor in figures: today's counters, the queue over the day, complaints at risk and
complaints by week. Pure functions over plain values with `now` passed in.

"Today" is the UTC day, like every stored time; the monitor labels the day's chart in the viewer's
local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from chatserver.domain import sla
from chatserver.domain.models import iso, parse_iso

BUCKET = timedelta(minutes=15)
WEEKS = 8
GOOD_SCORE = 4  # a rating of 4 or 5 counts as a satisfied customer

AT_RISK, BREACHED = "at_risk", "breached"


def day_start(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day."""
    return datetime.combine(now.astimezone(timezone.utc).date(), time.min, tzinfo=timezone.utc)


# -- chats today --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChatTimes:
    """What the figures need to know about one conversation."""

    created_at: datetime
    queued_at: datetime | None  # when its latest wait in the queue began
    assigned_at: datetime | None  # when its current agent got it: a transfer moves it on
    wait_ended_at: datetime | None  # when an agent took it from the queue, ending that wait
    first_response_at: datetime | None
    closed_at: datetime | None
    status: str
    outcome: str | None
    rating: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "ChatTimes":
        created = parse_iso(row["created_at"])
        assert created is not None
        return cls(
            created_at=created,
            queued_at=parse_iso(row["queued_at"]),
            assigned_at=parse_iso(row["assigned_at"]),
            wait_ended_at=parse_iso(row["wait_ended_at"]),
            first_response_at=parse_iso(row["first_response_at"]),
            closed_at=parse_iso(row["closed_at"]),
            status=row["status"],
            outcome=row["outcome"],
            rating=row.get("rating"),
        )

    def wait_end(self, now: datetime) -> datetime | None:
        """When this chat stopped waiting: an agent took it, it closed unanswered, or still waiting (now)."""
        if self.queued_at is None:
            return None
        if self.wait_ended_at is not None:
            return self.wait_ended_at
        if self.closed_at is not None:
            return self.closed_at
        return now if self.status == "queued" else None


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def today_counters(chats: Iterable[ChatTimes], since: datetime, *, complaints_created: int) -> dict[str, Any]:
    """Counters for the chats started at or after `since`.

    answered: an agent wrote to the customer; abandoned: the customer left the queue; unanswered:
    closed without ever reaching an agent for another reason (the wait ran out, or the customer
    said it was not solved while still waiting). Wait is queue entry to the agent taking the chat;
    first response is the customer's start to the agent's first public message. CSAT counts the
    ratings these chats received.
    """
    started = answered = abandoned = unanswered = 0
    waits: list[float] = []
    first_responses: list[float] = []
    scores: list[int] = []
    for chat in chats:
        if chat.created_at < since:
            continue
        started += 1
        if chat.first_response_at is not None:
            answered += 1
            first_responses.append((chat.first_response_at - chat.created_at).total_seconds())
        if chat.outcome == "abandoned":
            abandoned += 1
        elif chat.status == "closed" and chat.assigned_at is None and chat.first_response_at is None:
            unanswered += 1
        if chat.queued_at is not None and chat.wait_ended_at is not None:
            waits.append(max(0.0, (chat.wait_ended_at - chat.queued_at).total_seconds()))
        if chat.rating is not None:
            scores.append(chat.rating)
    good = sum(1 for s in scores if s >= GOOD_SCORE)
    return {
        "chats_started": started,
        "answered": answered,
        "abandoned": abandoned,
        "unanswered": unanswered,
        "avg_wait_seconds": _mean(waits),
        "avg_first_response_seconds": _mean(first_responses),
        "complaints_created": complaints_created,
        "ratings": len(scores),
        "csat_share": round(good / len(scores), 3) if scores else None,
        "csat_average": round(sum(scores) / len(scores), 2) if scores else None,
    }


def queue_timeline(chats: Iterable[ChatTimes], start: datetime, now: datetime, bucket: timedelta = BUCKET) -> list[dict[str, Any]]:
    """The queue per `bucket` from `start` to `now`: its mean length over the bucket (time-weighted),
    its peak, and the mean and longest wait of the chats whose wait ended in the bucket."""
    if now <= start:
        return []
    count = int((now - start) / bucket) + 1
    occupied = [0.0] * count  # seconds of waiting summed over all chats
    changes: list[tuple[datetime, int]] = []
    waits: list[list[float]] = [[] for _ in range(count)]
    width = bucket.total_seconds()
    for chat in chats:
        end = chat.wait_end(now)
        if chat.queued_at is None or end is None or end <= start:
            continue
        begin = max(chat.queued_at, start)
        changes.append((begin, 1))
        changes.append((end, -1))
        index = int((begin - start) / bucket)
        while index < count:
            lo = start + bucket * index
            overlap = (min(end, lo + bucket) - max(begin, lo)).total_seconds()
            if overlap <= 0:
                break
            occupied[index] += overlap
            index += 1
        if end < now or chat.status != "queued":
            slot = min(count - 1, int((end - start) / bucket))
            waits[slot].append(max(0.0, (end - chat.queued_at).total_seconds()))
    peaks = _peaks(changes, start, bucket, count)
    out = []
    for i in range(count):
        lo = start + bucket * i
        span = min(width, (now - lo).total_seconds()) or width
        out.append(
            {
                "start": iso(lo),
                "queue_avg": round(occupied[i] / span, 2),
                "queue_peak": peaks[i],
                "wait_avg_seconds": _mean(waits[i]),
                "wait_max_seconds": round(max(waits[i]), 1) if waits[i] else None,
            }
        )
    return out


def _peaks(changes: list[tuple[datetime, int]], start: datetime, bucket: timedelta, count: int) -> list[int]:
    """The most chats waiting at once in each bucket (leavings sort before arrivals at the same instant)."""
    peaks = [0] * count
    level = 0
    current = 0
    for moment, delta in sorted(changes, key=lambda c: (c[0], c[1])):
        index = min(count - 1, max(0, int((moment - start) / bucket)))
        while current < index:  # the level carried into the following buckets
            current += 1
            peaks[current] = max(peaks[current], level)
        level += delta
        peaks[index] = max(peaks[index], level)
    while current < count - 1:
        current += 1
        peaks[current] = max(peaks[current], level)
    return peaks


# -- complaints -----------------------------------------------------------------------------------


def sla_risk(status: str, response_due: datetime | None, resolution_due: datetime | None, now: datetime, warn_before: timedelta) -> str | None:
    """`breached` once a due time has passed, `at_risk` within the warning window of one, else None
    (the same thresholds the SLA sweep warns and escalates at)."""
    notices = sla.sla_notices(sla.SlaState(status, 1, response_due, resolution_due), now, warn_before)
    kinds = {n.kind for n in notices}
    if sla.BREACH in kinds:
        return BREACHED
    if sla.WARNING in kinds:
        return AT_RISK
    return None


def next_due(response_due: datetime | None, resolution_due: datetime | None) -> datetime | None:
    dues = [d for d in (response_due, resolution_due) if d is not None]
    return min(dues) if dues else None


def risk_by_level(rows: Iterable[Mapping[str, Any]], now: datetime, warn_before: timedelta) -> dict[str, dict[str, int]]:
    """{"1": {"at_risk": n, "breached": m}, "2": ..., "3": ...} over complaint rows with ISO dues."""
    out = {str(level): {AT_RISK: 0, BREACHED: 0} for level in (1, 2, 3)}
    for row in rows:
        risk = sla_risk(row["status"], parse_iso(row["response_due"]), parse_iso(row["resolution_due"]), now, warn_before)
        if risk is not None:
            out.setdefault(str(row["level"]), {AT_RISK: 0, BREACHED: 0})[risk] += 1
    return out


def week_start(day: date) -> date:
    """The Monday on or before `day`."""
    return day - timedelta(days=day.weekday())


def weekly_by_category(
    day_counts: Iterable[tuple[str, str, int]], now: datetime, weeks: int = WEEKS
) -> dict[str, Any]:
    """Complaints per category per calendar week (Monday to Sunday, UTC), the last `weeks` weeks
    with the current one last; `day_counts` holds (category, "YYYY-MM-DD", count)."""
    this_week = week_start(now.astimezone(timezone.utc).date())
    starts = [this_week - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    index = {start: i for i, start in enumerate(starts)}
    series: dict[str, list[int]] = {}
    for category, day_text, count in day_counts:
        slot = index.get(week_start(date.fromisoformat(day_text)))
        if slot is None:
            continue
        series.setdefault(category, [0] * weeks)[slot] += count
    return {"weeks": [s.isoformat() for s in starts], "series": series}


def idle_since(last_assigned_at: datetime | None, last_message_at: datetime | None) -> datetime | None:
    """An agent is idle since their last assignment or their last message, whichever is later."""
    moments = [m for m in (last_assigned_at, last_message_at) if m is not None]
    return max(moments) if moments else None


def seconds_between(earlier: datetime | None, now: datetime) -> int | None:
    return None if earlier is None else max(0, int((now - earlier).total_seconds()))
