"""Report arithmetic: periods, percentiles, SLA compliance, rates, satisfaction and the recurring-problem
flag. Pure: `today` and `now` are passed in; the store counts, this module decides what the counts mean.

Days are UTC days: the database holds UTC times and the support floor works around the clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Mapping, Sequence

from chatserver.domain.errors import Invalid

PRESETS = ("today", "7d", "30d", "month", "custom")
DEFAULT_PRESET = "30d"
MAX_DAYS = 366  # a year and a day: bounds the work one request may ask for
LEVELS = (1, 2, 3)
CHANNELS = ("chat", "web_form", "email", "phone")
# a chat without a topic is filed under this category, as the chat → complaint rule does
NO_TOPIC_CATEGORY = "other"

SATISFIED_MIN = 4  # a rating of 4 or 5 counts as satisfied (CSAT %)

# Recurring problems: this week's complaints in a category against its previous RECURRING_WEEKS weeks.
RECURRING_WEEKS = 8
SD_FACTOR = 2.0
MIN_COUNT = 5  # below this, a week is too small to call anything a pattern
MIN_RISE = 1.25  # and at least a quarter above the usual week: +6% on a busy category is a trend, not a problem
MIN_HISTORY_WEEKS = 4  # fewer weeks of history say nothing about a usual level


# -- the period ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """From the first to the last day, both included (UTC)."""

    first: date
    last: date
    preset: str | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), timezone.utc)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time(0), timezone.utc)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


# Days a report may name: no record is older or newer, and the week edges counted back from a day
# near date.min or date.max would leave the calendar
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def parse_day(text: str | None, name: str) -> date | None:
    if text is None or text == "":
        return None
    try:
        if len(text) != 10:
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{name} must be a date like 2026-11-01") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise Invalid(f"{name} must be a date between {EARLIEST_DAY} and {LATEST_DAY}")
    return day


def check_period(first: date, last: date, preset: str | None = None) -> Period:
    if last < first:
        raise Invalid("to must not be before from")
    period = Period(first, last, preset)
    if period.days > MAX_DAYS:
        raise Invalid(f"a report covers at most {MAX_DAYS} days")
    return period


def period_for(preset: str | None, today: date, first: date | None = None, last: date | None = None) -> Period:
    """A preset counted back from `today` (included), or the custom dates; dates given without a preset
    are custom, and nothing at all is the default preset."""
    if preset is None or preset == "":
        preset = "custom" if first is not None or last is not None else DEFAULT_PRESET
    if preset not in PRESETS:
        raise Invalid(f"preset must be one of {', '.join(PRESETS)}")
    if preset == "today":
        return Period(today, today, preset)
    if preset == "7d":
        return Period(today - timedelta(days=6), today, preset)
    if preset == "30d":
        return Period(today - timedelta(days=29), today, preset)
    if preset == "month":
        return Period(today.replace(day=1), today, preset)
    if first is None and last is None:
        raise Invalid("give from and to for a custom period")
    return check_period(first or last, last or first, "custom")  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Filters:
    """Category and agent apply to chats (topic, agent) and complaints (category, assignee); level and
    channel exist only for complaints."""

    category: str | None = None
    agent: str | None = None
    level: int | None = None
    channel: str | None = None


def check_filters(filters: Filters, categories: Iterable[str], agents: Iterable[str]) -> Filters:
    if filters.category is not None and filters.category not in set(categories):
        raise Invalid("unknown category")
    if filters.agent is not None and filters.agent not in set(agents):
        raise Invalid("unknown agent")
    if filters.level is not None and (isinstance(filters.level, bool) or filters.level not in LEVELS):
        raise Invalid("level must be 1, 2 or 3")
    if filters.channel is not None and filters.channel not in CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(CHANNELS)}")
    return filters


# -- times: median and 90th percentile ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Durations:
    count: int
    median: float | None
    p90: float | None


def percentile(counts: Sequence[tuple[float, int]], p: float) -> float | None:
    """The p-th percentile (0..1) of values given as (value, how many) pairs sorted by value, with linear
    interpolation between the two nearest ranks (numpy's default, Excel's PERCENTILE.INC). None when empty."""
    if not 0 <= p <= 1:
        raise ValueError("p must be within 0 and 1")
    total = sum(n for _, n in counts)
    if total == 0:
        return None
    rank = (total - 1) * p
    lower = math.floor(rank)
    below = _value_at(counts, lower)
    if rank == lower:
        return float(below)
    above = _value_at(counts, lower + 1)
    return below + (above - below) * (rank - lower)


def _value_at(counts: Sequence[tuple[float, int]], index: int) -> float:
    """The value at 0-based `index` of the sorted values the pairs stand for."""
    seen = 0
    for value, n in counts:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)


def durations(counts: Sequence[tuple[float, int]]) -> Durations:
    """Count, median and 90th percentile (to a tenth) of (value, how many) pairs in any order."""
    ordered = sorted((v, n) for v, n in counts if n > 0)
    return Durations(sum(n for _, n in ordered), _tenth(percentile(ordered, 0.5)), _tenth(percentile(ordered, 0.9)))


def _tenth(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# -- SLA compliance and rates ------------------------------------------------------------------

MET, MISSED, PENDING = "met", "missed", "pending"


def sla_outcome(done_at: datetime | None, due_at: datetime, now: datetime, paused_at: datetime | None = None) -> str:
    """Met when done by the due time; missed when done late or still not done after it; pending while
    not done and not yet due (left out of the percentage). While the clock stands still (waiting for
    the customer since `paused_at`), only a due time passed before that counts as missed. The store's
    SQL counts by the same rule."""
    if done_at is not None:
        return MET if done_at <= due_at else MISSED
    return MISSED if due_at <= (paused_at or now) else PENDING


def percent(part: int, whole: int) -> float | None:
    """part/whole in percent to one decimal; None (not 0) when there is nothing to measure."""
    if whole <= 0:
        return None
    return round(100 * part / whole, 1)


@dataclass(frozen=True, slots=True)
class Compliance:
    met: int
    missed: int
    pending: int

    @property
    def percent(self) -> float | None:
        return percent(self.met, self.met + self.missed)


@dataclass(frozen=True, slots=True)
class Satisfaction:
    ratings: int
    average: float | None
    satisfied_percent: float | None


def satisfaction(ratings: int, score_sum: int, satisfied: int) -> Satisfaction:
    """CSAT: the mean score (1-5, two decimals) and the share of ratings of SATISFIED_MIN or more."""
    if ratings <= 0:
        return Satisfaction(0, None, None)
    return Satisfaction(ratings, round(score_sum / ratings, 2), percent(satisfied, ratings))


# -- agent workload -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workload:
    """One staff member's share of a period's work: the chats started in it that they held last (answered,
    closed as resolved) and the complaints created in it that they hold (resolved or closed now)."""

    agent: str
    chats: int = 0
    chats_answered: int = 0
    chats_resolved: int = 0
    complaints: int = 0
    complaints_resolved: int = 0

    @property
    def total(self) -> int:
        return self.chats + self.complaints


def workload(
    chats: Iterable[tuple[str, int, int, int]], complaints: Iterable[tuple[str, int, int]], names: Mapping[str, str]
) -> list[Workload]:
    """Per staff member with any chat or complaint: (agent, chats, answered, resolved) and (assignee,
    complaints, resolved) merged, most work first, then by name."""
    found: dict[str, Workload] = {}
    for agent, n, answered, resolved in chats:
        found[agent] = replace(found.get(agent, Workload(agent)), chats=n, chats_answered=answered, chats_resolved=resolved)
    for agent, n, resolved in complaints:
        found[agent] = replace(found.get(agent, Workload(agent)), complaints=n, complaints_resolved=resolved)
    return sorted(
        (w for w in found.values() if w.total), key=lambda w: (-w.total, names.get(w.agent, "").lower(), w.agent)
    )


# -- recurring problems ------------------------------------------------------------------------


def recurring_end(period_end: datetime, now: datetime) -> datetime:
    """"This week" is the 7 days up to the end of the period, or up to now while the period runs."""
    return min(period_end, now)


def week_bounds(end: datetime, weeks: int = RECURRING_WEEKS) -> list[datetime]:
    """Week edges, newest first: [end, end-7d, ..., end-7(weeks+1)d]; week k is [edge k+1, edge k)."""
    return [end - timedelta(days=7 * k) for k in range(weeks + 2)]


def history_weeks(end: datetime, first_complaint_at: datetime | None, weeks: int = RECURRING_WEEKS) -> int:
    """How many of the previous `weeks` weeks the history covers whole (none before the first complaint)."""
    if first_complaint_at is None:
        return 0
    edges = week_bounds(end, weeks)
    return sum(1 for k in range(1, weeks + 1) if edges[k + 1] >= first_complaint_at)


@dataclass(frozen=True, slots=True)
class Recurrence:
    category: str
    this_week: int
    previous: tuple[int, ...]  # most recent first
    mean: float | None
    sd: float | None
    threshold: float | None
    flagged: bool


def recurring_problem(
    category: str,
    this_week: int,
    previous: Sequence[int],
    *,
    sd_factor: float = SD_FACTOR,
    min_count: int = MIN_COUNT,
    min_history: int = MIN_HISTORY_WEEKS,
    min_rise: float = MIN_RISE,
) -> Recurrence:
    """Flag a category whose complaints this week are well above its usual level.

    `previous` holds the weekly counts of the weeks the history covers, most recent first. Usual level:
    their mean; spread: their sample standard deviation, but never less than √mean, the noise any count of
    independent events has (a flat history such as 10, 10, 10 would otherwise flag 11). Flagged when this
    week ≥ `min_count`, > mean + sd_factor·spread and ≥ `min_rise`·mean (on a busy, steady category a few
    percent of growth clears two standard deviations without being a problem). With fewer than
    `min_history` weeks nothing is flagged.
    """
    counts = tuple(previous)
    if len(counts) < min_history:
        return Recurrence(category, this_week, counts, None, None, None, False)
    mean = sum(counts) / len(counts)
    sd = math.sqrt(sum((c - mean) ** 2 for c in counts) / (len(counts) - 1)) if len(counts) > 1 else 0.0
    threshold = mean + sd_factor * max(sd, math.sqrt(mean))
    flagged = this_week >= min_count and this_week > threshold and this_week >= min_rise * mean
    return Recurrence(category, this_week, counts, round(mean, 2), round(sd, 2), round(threshold, 2), flagged)
