"""Conversations, their messages and routing decisions."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id

OPEN = "status != 'closed'"

# the next seq, and for what customers may see the next public_seq, in the inserting statement
_APPEND = """
INSERT INTO messages (id, conversation_id, seq, public_seq, sender, author, author_id, body, internal, client_id, created_at)
SELECT :id, c.id, c.last_seq + 1, CASE WHEN :internal THEN NULL ELSE c.last_public_seq + 1 END,
       :sender, :author, :author_id, :body, :internal, :client_id, :now
  FROM conversations c WHERE c.id = :conversation_id AND c.status != 'closed'
   AND (:only_agent IS NULL OR c.agent_id IS :only_agent)
ON CONFLICT (conversation_id, client_id) DO NOTHING
RETURNING *
"""


def _appended(
    *, conversation_id: str, sender: str, author: str, author_id: str | None, body: str, internal: bool,
    client_id: str | None, now: str, only_agent: str | None = None,
) -> dict[str, object]:
    return {
        "id": new_id("m"), "conversation_id": conversation_id, "sender": sender, "author": author, "author_id": author_id,
        "body": body, "internal": int(internal), "client_id": client_id, "now": now, "only_agent": only_agent,
    }


async def create_queued(
    tx: Tx, *, customer_id: str, topic: str | None, locale: str, now: str, deadline: str, priority: int = 0
) -> Row | None:
    """The new queued conversation, or None when the customer already has an open one."""
    conversation_id = new_id("cv")
    try:
        await tx.execute(
            "INSERT INTO conversations (id, customer_id, status, topic, locale, priority, created_at, queued_at, wait_deadline)"
            " VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
            (conversation_id, customer_id, topic, locale, priority, now, now, deadline),
        )
    except sqlite3.IntegrityError:
        return None
    return await get(tx, conversation_id)


async def get(db: Database | Tx, conversation_id: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))


async def open_for_customer(db: Database | Tx, customer_id: str) -> Row | None:
    return await db.fetch_one(f"SELECT * FROM conversations WHERE customer_id = ? AND {OPEN}", (customer_id,))


async def list_open(db: Database | Tx) -> list[Row]:
    """Open chats in the order they were written, which is the order they joined the queue: a chat is
    queued when its row is inserted, and a new row's rowid is above every row still present, whatever
    the wall clock said (a returned chat keeps its row, and so its place)."""
    return await db.fetch(f"SELECT * FROM conversations WHERE {OPEN} ORDER BY rowid")


async def list_for_customer(db: Database | Tx, customer_id: str, limit: int = 20) -> list[Row]:
    return await db.fetch(
        "SELECT * FROM conversations WHERE customer_id = ? ORDER BY created_at DESC LIMIT ?", (customer_id, limit)
    )


async def recent_handle_times(db: Database, limit: int = 500) -> list[Row]:
    return await db.fetch(
        "SELECT topic, assigned_at, closed_at FROM conversations"
        " WHERE status = 'closed' AND assigned_at IS NOT NULL AND closed_at IS NOT NULL"
        " ORDER BY closed_at DESC LIMIT ?",
        (limit,),
    )


# the agent (twice: the user, then their open chats) and their seats: a deactivated user gets no chat,
# whatever an earlier look at memory said
_SEAT_FREE = (
    " AND EXISTS (SELECT 1 FROM users WHERE id = ? AND active = 1)"
    " AND (SELECT COUNT(*) FROM conversations WHERE agent_id = ? AND status = 'active') < ?"
)


async def assign(tx: Tx, *, conversation_id: str, agent_id: str, max_chats: int, now: str) -> bool:
    """Reserve a seat atomically: only a queued chat, only while the agent is active and under capacity."""
    count = await tx.execute(
        "UPDATE conversations SET status = 'active', agent_id = ?, assigned_at = ?, wait_ended_at = ?, wait_deadline = NULL"
        " WHERE id = ? AND status = 'queued'" + _SEAT_FREE,
        (agent_id, now, now, conversation_id, agent_id, agent_id, max_chats),
    )
    return count == 1


async def move_to_agent(tx: Tx, *, conversation_id: str, from_agent_id: str | None, agent_id: str, max_chats: int, now: str) -> bool:
    """Move an active chat that is still with `from_agent_id` to an agent with a free seat."""
    count = await tx.execute(
        "UPDATE conversations SET agent_id = ?, assigned_at = ?"
        " WHERE id = ? AND status = 'active' AND agent_id IS ?" + _SEAT_FREE,
        (agent_id, now, conversation_id, from_agent_id, agent_id, agent_id, max_chats),
    )
    return count == 1


async def requeue(
    tx: Tx, *, conversation_id: str, from_agent_id: str | None, priority: int, deadline: str, now: str,
) -> bool:
    """Put an active chat that is still with `from_agent_id` back in the queue: a new wait begins."""
    count = await tx.execute(
        "UPDATE conversations SET status = 'queued', agent_id = NULL, assigned_at = NULL, queued_at = ?,"
        " wait_ended_at = NULL, priority = ?, wait_deadline = ?"
        " WHERE id = ? AND status = 'active' AND agent_id IS ?",
        (now, priority, deadline, conversation_id, from_agent_id),
    )
    return count == 1


async def close(tx: Tx, *, conversation_id: str, outcome: str, now: str, complaint_id: str | None) -> bool:
    count = await tx.execute(
        f"UPDATE conversations SET status = 'closed', outcome = ?, closed_at = ?, complaint_id = ?, wait_deadline = NULL"
        f" WHERE id = ? AND {OPEN}",
        (outcome, now, complaint_id, conversation_id),
    )
    return count == 1


async def mark_complaint(tx: Tx, *, conversation_id: str, complaint_id: str) -> bool:
    """A chat closed as resolved that its customer says was not: it now has a complaint."""
    count = await tx.execute(
        "UPDATE conversations SET outcome = 'complaint', complaint_id = ?"
        " WHERE id = ? AND status = 'closed' AND outcome = 'resolved' AND complaint_id IS NULL",
        (complaint_id, conversation_id),
    )
    return count == 1


# -- messages ------------------------------------------------------------------------------


async def append_message(
    db: Database,
    *,
    conversation_id: str,
    sender: str,
    author: str,
    author_id: str | None,
    body: str,
    internal: bool,
    client_id: str | None,
    now: str,
    only_agent: str | None = None,
) -> Row | None:
    """Store a message with the next seq in one statement; None if the conversation is closed, is
    no longer with `only_agent` (an agent writing in their own chat), or the client_id was already
    used (the caller then looks the original up)."""
    rows = await db.write_returning(
        _APPEND,
        _appended(conversation_id=conversation_id, sender=sender, author=author, author_id=author_id, body=body,
                  internal=internal, client_id=client_id, now=now, only_agent=only_agent),
    )
    return rows[0] if rows else None


async def append_message_in(
    tx: Tx, *, conversation_id: str, sender: str, author: str, body: str, now: str, author_id: str | None = None
) -> Row | None:
    """A system or agent line written as part of a larger transaction."""
    return await tx.fetch_one(
        _APPEND,
        _appended(conversation_id=conversation_id, sender=sender, author=author, author_id=author_id, body=body,
                  internal=False, client_id=None, now=now),
    )


async def first_customer_words(db: Database | Tx, conversation_id: str) -> str | None:
    """The customer's first message in a chat: what they came about."""
    row = await db.fetch_one(
        "SELECT body FROM messages WHERE conversation_id = ? AND sender = 'customer' ORDER BY seq LIMIT 1",
        (conversation_id,),
    )
    return row["body"] if row else None


async def message_by_client_id(db: Database | Tx, conversation_id: str, client_id: str) -> Row | None:
    return await db.fetch_one(
        "SELECT * FROM messages WHERE conversation_id = ? AND client_id = ?", (conversation_id, client_id)
    )


# A page of a transcript holds at most this many messages and this many bytes of bodies (UTF-8), so
# that a tiny `history` request can never be answered with megabytes.
PAGE_MESSAGES = 500
PAGE_BYTES = 256 * 1024

# The first `limit` messages after a seq, cut where their bodies pass `max_bytes`; the first one is
# always kept, however large, so that a reader paging by seq always moves on. The window sees only
# (seq, size) and the rows kept are read afterwards: carrying every body through the window took
# four times as long as reading all 500 messages plainly.
# Staff page by `seq` through every message, customers by `public_seq` through what they may see
# (the notes have none).
_PAGE = """
SELECT m.* FROM (
    SELECT {seq} AS at, ROW_NUMBER() OVER w AS n, SUM(size) OVER w AS bytes_so_far FROM (
        SELECT {seq}, length(CAST(body AS BLOB)) AS size FROM messages
         WHERE conversation_id = ?1 AND {seq} > ?2 ORDER BY {seq} LIMIT ?3
    ) WINDOW w AS (ORDER BY {seq})
) AS page JOIN messages AS m ON m.conversation_id = ?1 AND m.{seq} = page.at
WHERE page.n = 1 OR page.bytes_so_far <= ?4
ORDER BY m.{seq}
"""
_MORE = "SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ? AND {seq} > ?) AS more"


@dataclass(frozen=True, slots=True)
class MessagePage:
    messages: list[Row]
    more: bool  # messages follow the last one here: ask again after its seq


async def messages_page(
    db: Database,
    conversation_id: str,
    after_seq: int,
    *,
    include_internal: bool,
    limit: int = PAGE_MESSAGES,
    max_bytes: int = PAGE_BYTES,
) -> MessagePage:
    """Messages after `after_seq`, oldest first, bounded by count and by bytes, and whether more follow."""
    seq = "seq" if include_internal else "public_seq"
    rows = await db.fetch(_PAGE.format(seq=seq), (conversation_id, after_seq, limit, max_bytes))
    if not rows:
        return MessagePage([], False)
    following = await db.fetch_one(_MORE.format(seq=seq), (conversation_id, rows[-1][seq]))
    return MessagePage(rows, bool(following and following["more"]))


# -- routing decisions ---------------------------------------------------------------------


async def record_decision(tx: Tx, *, conversation_id: str, now: str, chosen_agent_id: str | None, rule: str, candidates: list[dict]) -> None:
    await tx.execute(
        "INSERT INTO routing_decisions (id, conversation_id, decided_at, chosen_agent_id, rule, candidates) VALUES (?, ?, ?, ?, ?, ?)",
        (new_id("rd"), conversation_id, now, chosen_agent_id, rule, json.dumps(candidates)),
    )


async def decisions_for(db: Database, conversation_id: str) -> list[Row]:
    rows = await db.fetch(
        "SELECT * FROM routing_decisions WHERE conversation_id = ? ORDER BY decided_at", (conversation_id,)
    )
    for row in rows:
        row["candidates"] = json.loads(row["candidates"])
    return rows


async def save_rating(tx: Tx, *, conversation_id: str, score: int, comment: str | None, now: str) -> None:
    await tx.execute(
        "INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (conversation_id) DO UPDATE SET score = excluded.score, comment = excluded.comment, created_at = excluded.created_at",
        (conversation_id, score, comment, now),
    )
