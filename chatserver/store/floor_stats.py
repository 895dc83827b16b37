"""Read-only queries behind the queue monitor's figures. Each reads a time window or the open
work, never the whole history: time windows filter on `created_at`, open complaints go through the
status and due-time indexes."""

from __future__ import annotations

from typing import Iterable

from chatserver.store.complaints import RUNNING_STATUS_IN
from chatserver.store.db import Database, Row

_CHAT_COLUMNS = (
    "c.id, c.created_at, c.queued_at, c.assigned_at, c.wait_ended_at, c.first_response_at, c.closed_at, c.status, c.outcome,"
    " r.score AS rating"
)
# open, clocks running (not waiting for the customer): a range per status on the due-time indexes
_OPEN_COMPLAINT = RUNNING_STATUS_IN


async def chats_since(db: Database, since: str) -> list[Row]:
    """Conversations created at or after `since`, and any still open (one may have queued before it)."""
    return await db.fetch(
        f"SELECT {_CHAT_COLUMNS} FROM conversations c LEFT JOIN ratings r ON r.conversation_id = c.id"
        " WHERE c.created_at >= ?"
        " UNION"
        f" SELECT {_CHAT_COLUMNS} FROM conversations c LEFT JOIN ratings r ON r.conversation_id = c.id"
        " WHERE c.status IN ('queued', 'active')",
        (since,),
    )


async def complaints_per_day(db: Database, since: str) -> list[Row]:
    """(category, day, n): complaints created at or after `since`, counted per UTC day."""
    return await db.fetch(
        "SELECT category, substr(created_at, 1, 10) AS day, COUNT(*) AS n FROM complaints"
        " WHERE created_at >= ? GROUP BY category, day",
        (since,),
    )


# open complaints with a due time at or before the horizon, through the two due-time indexes
_OWING_IDS = (
    f"SELECT id FROM complaints WHERE {_OPEN_COMPLAINT} AND response_due <= ?"
    f" UNION SELECT id FROM complaints WHERE {_OPEN_COMPLAINT} AND resolution_due <= ?"
)


async def owing_dues(db: Database, horizon: str) -> list[Row]:
    """Level, status and due times of every open complaint due at or before `horizon`."""
    return await db.fetch(
        f"SELECT level, status, response_due, resolution_due FROM complaints WHERE id IN ({_OWING_IDS})",
        (horizon, horizon),
    )


async def owing(db: Database, horizon: str, limit: int, *, after: str | None = None) -> list[Row]:
    """The `limit` open complaints due soonest at or before `horizon`, with their assignee's name; with
    `after`, only those with nothing due at or before it (at risk, not yet breached), so that a long list
    of breached complaints, which always come first, cannot leave none of them listed."""
    later = ""
    params: list[object] = [horizon, horizon]
    if after is not None:
        later = (
            " AND (c.response_due IS NULL OR c.response_due > ?) AND (c.resolution_due IS NULL OR c.resolution_due > ?)"
        )
        params += [after, after]
    return await db.fetch(
        "SELECT c.id, c.reference, c.subject, c.category, c.status, c.level, c.owner_group, c.assignee_id,"
        " u.name AS assignee_name, c.customer_name, c.created_at, c.response_due, c.resolution_due"
        " FROM complaints c LEFT JOIN users u ON u.id = c.assignee_id"
        f" WHERE c.id IN ({_OWING_IDS}){later}"
        " ORDER BY MIN(COALESCE(c.response_due, c.resolution_due), COALESCE(c.resolution_due, c.response_due)), c.reference"
        " LIMIT ?",
        (*params, limit),
    )


CHUNK = 500  # ids per statement, well under SQLite's limit on bound values


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    items = list(ids)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _marks(count: int) -> str:
    return ", ".join("?" for _ in range(count))


async def customer_names(db: Database, conversation_ids: Iterable[str]) -> dict[str, str | None]:
    """The customer's name for each conversation (None when they gave none)."""
    names: dict[str, str | None] = {}
    for ids in _chunks(conversation_ids):
        rows = await db.fetch(
            "SELECT c.id, cu.name FROM conversations c JOIN customers cu ON cu.id = c.customer_id"
            f" WHERE c.id IN ({_marks(len(ids))})",
            ids,
        )
        names.update((row["id"], row["name"]) for row in rows)
    return names


async def last_agent_messages(db: Database, conversation_ids: Iterable[str]) -> dict[str, str]:
    """The latest message each staff member wrote in these conversations."""
    latest: dict[str, str] = {}
    for ids in _chunks(conversation_ids):
        rows = await db.fetch(
            "SELECT author_id, MAX(created_at) AS at FROM messages"
            f" WHERE conversation_id IN ({_marks(len(ids))}) AND sender = 'agent' AND author_id IS NOT NULL"
            " GROUP BY author_id",
            ids,
        )
        for row in rows:
            if row["at"] > latest.get(row["author_id"], ""):
                latest[row["author_id"]] = row["at"]
    return latest
