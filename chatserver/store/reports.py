"""Aggregate reads for reports, all on the reader connection.

A month on a large history is about 80,000 complaints and 70,000 chats; the queries return counts,
never those rows, and walk the indexes of migration 007 (see docs/benchmarks.md for the plans):
- totals are one pass over the period by `created_at`, with no GROUP BY (a GROUP BY sorts every row);
- counts per category per day (or week) are one index range count per (category, day) on
  `(category, created_at)`: a few hundred B-tree descents, nothing sorted;
- durations are grouped to the second (chats) or minute (complaints), a few thousand groups at most.
Times are ISO 8601 UTC text, so ranges compare as strings. `+c.status` keeps the planner off the
status indexes, which would walk every settled complaint ever.
"""

from __future__ import annotations

from typing import Any, Sequence

from chatserver.domain.reports import NO_TOPIC_CATEGORY, Filters
from chatserver.store.db import Database, Row

Where = tuple[str, list[Any]]
# (label, start, end): a day or a week, start included, end excluded
Bucket = tuple[Any, str, str]


def _seconds(done: str, start: str, unit: int = 1) -> str:
    """Seconds from `start` to `done`, rounded to `unit` seconds."""
    return f"CAST(ROUND((julianday({done}) - julianday({start})) * {86400 // unit}) AS INTEGER) * {unit}"


def _complaint_filters(f: Filters, *, category: bool = True) -> Where:
    where, params = [], []
    for column, value in (
        ("c.category", f.category if category else None), ("c.assignee_id", f.agent), ("c.level", f.level), ("c.channel", f.channel)
    ):
        if value is not None:
            where.append(f" AND {column} = ?")
            params.append(value)
    return "".join(where), params


def _complaint_where(start: str, end: str, f: Filters) -> Where:
    extra, params = _complaint_filters(f)
    return f"c.created_at >= ? AND c.created_at < ?{extra}", [start, end, *params]


# a chat without a topic counts under the category its complaint would get
_TOPIC = f"COALESCE(v.topic, '{NO_TOPIC_CATEGORY}')"


def _chat_where(start: str, end: str, f: Filters) -> Where:
    where, params = "v.created_at >= ? AND v.created_at < ?", [start, end]
    if f.category is not None:
        where += f" AND {_TOPIC} = ?"
        params.append(f.category)
    if f.agent is not None:
        where += " AND v.agent_id = ?"
        params.append(f.agent)
    return where, params


def _buckets(buckets: Sequence[Bucket]) -> tuple[str, list[Any]]:
    values = ", ".join("(?, ?, ?)" for _ in buckets)
    return f"buckets(label, start, end) AS (VALUES {values})", [x for bucket in buckets for x in bucket]


# -- complaints --------------------------------------------------------------------------------

# SLA outcomes as domain.reports.sla_outcome counts them: met when done by the due time, missed when done
# late or not done once due, pending otherwise. Resolution counts only while resolved or closed (a
# reopened complaint owes its resolution again, against the fresh due time the reopening set; the
# resolution turned down no longer counts, except as "resolved once" for the reopening rate); while
# the team waits for the customer it is missed only if it was missed before the wait began. A question
# the customer never answered closes the complaint unresolved: it is done when it closed.
_SETTLED = "+c.status IN ('resolved', 'closed')"
_DONE = "COALESCE(c.resolved_at, c.closed_at)"
_REOPENED = "EXISTS (SELECT 1 FROM complaint_entries e WHERE e.complaint_id = c.id AND e.kind = 'status' AND e.body = 'reopened')"
_COMPLAINT_TOTALS = f"""
SELECT COUNT(*) AS total,
       COALESCE(SUM(c.level > 1), 0) AS escalated,
       COALESCE(SUM(c.first_response_at IS NOT NULL AND c.first_response_at <= c.first_response_due), 0) AS first_met,
       COALESCE(SUM(CASE WHEN c.first_response_at IS NOT NULL THEN c.first_response_at > c.first_response_due
                         ELSE c.first_response_due <= ? END), 0) AS first_missed,
       COALESCE(SUM({_SETTLED} AND {_DONE} <= c.resolution_due), 0) AS resolution_met,
       COALESCE(SUM(CASE WHEN {_SETTLED} THEN {_DONE} > c.resolution_due
                         WHEN c.paused_at IS NOT NULL THEN c.resolution_due <= c.paused_at
                         ELSE c.resolution_due <= ? END), 0) AS resolution_missed,
       COALESCE(SUM(CASE WHEN c.resolved_at IS NOT NULL THEN 1 ELSE {_REOPENED} END), 0) AS resolved_once,
       COALESCE(SUM({_REOPENED}), 0) AS reopened
  FROM complaints c
 WHERE {{where}}
"""


async def complaint_totals(db: Database, start: str, end: str, f: Filters, *, now: str) -> Row:
    """Volume, SLA outcomes, escalations and reopenings of the complaints created in [start, end)."""
    where, params = _complaint_where(start, end, f)
    row = await db.fetch_one(_COMPLAINT_TOTALS.format(where=where), [now, now, *params])
    assert row is not None
    return row


async def complaint_counts(db: Database, buckets: Sequence[Bucket], f: Filters) -> list[Row]:
    """(label, category, n): complaints per category in each bucket (days or weeks)."""
    cte, params = _buckets(buckets)
    extra, extra_params = _complaint_filters(f, category=False)
    only = " WHERE k.slug = ?" if f.category is not None else ""
    return await db.fetch(
        f"WITH {cte} SELECT b.label, k.slug AS category,"
        f" (SELECT COUNT(*) FROM complaints c WHERE c.category = k.slug AND c.created_at >= b.start AND c.created_at < b.end{extra}) AS n"
        f" FROM buckets b, categories k{only}",
        [*params, *extra_params, *([f.category] if f.category is not None else [])],
    )


async def complaint_ratings(db: Database, start: str, end: str, f: Filters, *, satisfied_min: int) -> list[Row]:
    """Per (category, assignee): the customers' ratings of closed complaints."""
    where, params = _complaint_where(start, end, f)
    return await db.fetch(
        "SELECT c.category, c.assignee_id, COUNT(*) AS ratings, SUM(c.rating) AS score_sum, SUM(c.rating >= ?) AS satisfied"
        f" FROM complaints c WHERE {where} AND c.rating IS NOT NULL GROUP BY c.category, c.assignee_id",
        [satisfied_min, *params],
    )


async def complaint_durations(db: Database, start: str, end: str, f: Filters, which: str) -> list[Row]:
    """(seconds, n), to the minute: created → first public reply, or created → resolved (for complaints
    resolved or closed now)."""
    where, params = _complaint_where(start, end, f)
    if which == "first_response":
        done, extra = "c.first_response_at", "c.first_response_at IS NOT NULL"
    elif which == "resolution":
        done, extra = "c.resolved_at", f"{_SETTLED} AND c.resolved_at IS NOT NULL"
    else:
        raise ValueError(which)
    seconds = _seconds(done, "c.created_at", 60)
    return await db.fetch(
        f"SELECT {seconds} AS seconds, COUNT(*) AS n FROM complaints c WHERE {where} AND {extra} GROUP BY 1",
        params,
    )


async def complaint_workload(db: Database, start: str, end: str, f: Filters) -> list[Row]:
    """Per assignee: the complaints created in [start, end) they hold, and how many of those are resolved
    or closed now."""
    where, params = _complaint_where(start, end, f)
    return await db.fetch(
        f"SELECT c.assignee_id, COUNT(*) AS complaints, COALESCE(SUM({_SETTLED}), 0) AS resolved"
        f" FROM complaints c WHERE {where} AND c.assignee_id IS NOT NULL GROUP BY c.assignee_id",
        params,
    )


async def compensation_totals(db: Database, start: str, end: str, f: Filters) -> list[Row]:
    """Approved compensation per currency, by the time it was approved, on complaints matching the filters."""
    extra, params = _complaint_filters(f)
    return await db.fetch(
        "SELECT m.currency, SUM(m.amount_minor) AS amount_minor, COUNT(*) AS n"
        " FROM compensations m JOIN complaints c ON c.id = m.complaint_id"
        f" WHERE m.status = 'approved' AND m.decided_at >= ? AND m.decided_at < ?{extra}"
        " GROUP BY m.currency ORDER BY m.currency",
        [start, end, *params],
    )


async def first_complaint_at(db: Database) -> str | None:
    row = await db.fetch_one("SELECT MIN(created_at) AS at FROM complaints")
    return row["at"] if row else None


# -- chats -------------------------------------------------------------------------------------


async def chat_totals(db: Database, start: str, end: str, f: Filters) -> Row:
    where, params = _chat_where(start, end, f)
    row = await db.fetch_one(
        "SELECT COUNT(*) AS total, COUNT(v.first_response_at) AS answered,"
        " COALESCE(SUM(v.outcome = 'resolved'), 0) AS resolved, COALESCE(SUM(v.outcome = 'complaint'), 0) AS complaint,"
        " COALESCE(SUM(v.outcome = 'abandoned'), 0) AS abandoned, COALESCE(SUM(v.status != 'closed'), 0) AS open"
        f" FROM conversations v WHERE {where}",
        params,
    )
    assert row is not None
    return row


async def chat_counts(db: Database, buckets: Sequence[Bucket], f: Filters) -> list[Row]:
    """(label, topic, n): chats per topic (None: no topic) in each bucket."""
    cte, params = _buckets(buckets)
    agent = " AND v.agent_id = ?" if f.agent is not None else ""
    topics = "SELECT slug FROM categories UNION ALL SELECT NULL"
    if f.category is not None:
        topics = "SELECT ? UNION ALL SELECT NULL WHERE ? = ?"
    topic_params = [f.category, f.category, NO_TOPIC_CATEGORY] if f.category is not None else []
    return await db.fetch(
        f"WITH {cte}, topics(slug) AS ({topics}) SELECT b.label, t.slug AS topic,"
        f" (SELECT COUNT(*) FROM conversations v WHERE v.topic IS t.slug AND v.created_at >= b.start AND v.created_at < b.end{agent}) AS n"
        " FROM buckets b, topics t",
        [*params, *topic_params, *([f.agent] if f.agent is not None else [])],
    )


async def chat_ratings(db: Database, start: str, end: str, f: Filters, *, satisfied_min: int) -> list[Row]:
    """Per (category, agent): the customers' ratings of the chats."""
    where, params = _chat_where(start, end, f)
    return await db.fetch(
        f"SELECT {_TOPIC} AS category, v.agent_id, COUNT(*) AS ratings, SUM(r.score) AS score_sum, SUM(r.score >= ?) AS satisfied"
        f" FROM conversations v JOIN ratings r ON r.conversation_id = v.id WHERE {where} GROUP BY 1, 2",
        [satisfied_min, *params],
    )


async def chat_first_responses(db: Database, start: str, end: str, f: Filters) -> list[Row]:
    """(seconds, n) from the chat's start to the first agent message the customer saw."""
    where, params = _chat_where(start, end, f)
    return await db.fetch(
        f"SELECT {_seconds('v.first_response_at', 'v.created_at')} AS seconds, COUNT(*) AS n FROM conversations v"
        f" WHERE {where} AND v.first_response_at IS NOT NULL GROUP BY 1",
        params,
    )


async def chat_workload(db: Database, start: str, end: str, f: Filters) -> list[Row]:
    """Per agent: the chats started in [start, end) that they held last, answered, and closed as resolved."""
    where, params = _chat_where(start, end, f)
    return await db.fetch(
        "SELECT v.agent_id, COUNT(*) AS chats, COUNT(v.first_response_at) AS answered,"
        " COALESCE(SUM(v.outcome = 'resolved'), 0) AS resolved"
        f" FROM conversations v WHERE {where} AND v.agent_id IS NOT NULL GROUP BY v.agent_id",
        params,
    )


# -- names -------------------------------------------------------------------------------------


async def staff(db: Database) -> list[Row]:
    """Every console user, deactivated ones too: old chats and complaints still name them."""
    return await db.fetch("SELECT id, name, role, active FROM users ORDER BY name, id")


# -- exports: one keyset page at a time --------------------------------------------------------

_COMPLAINT_EXPORT = """
SELECT c.id, c.reference, c.created_at, c.category, c.channel, c.source, c.status, c.level, c.owner_group,
       c.assignee_id, c.first_response_due, c.first_response_at, c.resolution_due, c.resolved_at, c.closed_at,
       c.rating, c.rating_comment, c.subject
  FROM complaints c INDEXED BY complaints_created
 WHERE {where} AND (c.created_at, c.id) > (?, ?)
 ORDER BY c.created_at, c.id
 LIMIT ?
"""

_CHAT_EXPORT = f"""
SELECT v.id, v.created_at, {_TOPIC} AS category, v.topic, v.locale, v.status, v.outcome, v.agent_id,
       v.assigned_at, v.first_response_at, {_seconds("v.first_response_at", "v.created_at")} AS first_response_seconds,
       v.closed_at, v.last_seq AS messages, r.score AS rating, r.comment AS rating_comment,
       k.reference AS complaint_reference
  FROM conversations v INDEXED BY conversations_created
  LEFT JOIN ratings r ON r.conversation_id = v.id
  LEFT JOIN complaints k ON k.id = v.complaint_id
 WHERE {{where}} AND (v.created_at, v.id) > (?, ?)
 ORDER BY v.created_at, v.id
 LIMIT ?
"""

# sorts before every stored (created_at, id)
FIRST_KEY = ("", "")


async def complaint_page(db: Database, start: str, end: str, f: Filters, after: tuple[str, str], limit: int) -> list[Row]:
    """The next `limit` complaints after the key (created_at, id) of the last one read. The index is named:
    each page must continue along (created_at, id), whichever filter another index would suit."""
    where, params = _complaint_where(start, end, f)
    return await db.fetch(_COMPLAINT_EXPORT.format(where=where), [*params, *after, limit])


async def chat_page(db: Database, start: str, end: str, f: Filters, after: tuple[str, str], limit: int) -> list[Row]:
    where, params = _chat_where(start, end, f)
    return await db.fetch(_CHAT_EXPORT.format(where=where), [*params, *after, limit])
