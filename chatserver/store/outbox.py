"""The notification outbox: rows written with the change they announce, delivered afterwards."""

from __future__ import annotations

import json
from typing import Any

from chatserver.domain.complaints import mailbox
from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id

# What a notice is about; the mail renderer has a template for each.
KINDS = (
    "complaint_ack",  # the complaint was received: reference and tracking link
    "complaint_reply",  # a public reply from the team
    "complaint_question",  # a reply that waits for the customer's answer: by when, or it closes by itself
    "complaint_resolved",  # the resolution
    "complaint_compensation",  # a compensation approved for the customer
    "complaint_closed",  # closed after the customer left a resolution or a question alone: the follow-up, asking for a rating
    "complaint_escalated",  # to the staff who now own a complaint
    "complaint_sla_warning",  # to the staff who own a complaint that is nearly due
)


async def enqueue(
    tx: Tx,
    *,
    kind: str,
    recipient: str,
    now: str,
    locale: str = "en",
    complaint_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> str:
    """Queue one notice inside the caller's transaction; returns its id."""
    assert kind in KINDS, f"unknown notice kind {kind}"
    notice_id = new_id("ob")
    await tx.execute(
        "INSERT INTO outbox (id, kind, recipient, locale, complaint_id, data, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (notice_id, kind, recipient, locale, complaint_id, json.dumps(data or {}, ensure_ascii=False), now, now),
    )
    return notice_id


async def count_to(db: Database | Tx, *, kind: str, recipient: str, since: str) -> int:
    """Notices of `kind` queued since `since` for `recipient`'s inbox: the address in any letter case,
    with or without a +tag (domain/complaints.py `mailbox`)."""
    local, _, domain = mailbox(recipient).rpartition("@")
    tagged = f"{_like_literal(local)}+%@{_like_literal(domain)}"  # LIKE ignores ASCII letter case too
    row = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM outbox WHERE (recipient = ? COLLATE NOCASE OR recipient LIKE ? ESCAPE '\\')"
        " AND kind = ? AND created_at >= ?",
        (f"{local}@{domain}", tagged, kind, since),
    )
    return int(row["n"]) if row else 0


def _like_literal(text: str) -> str:
    """`text` matched as written by LIKE: % and _ are letters an address may hold."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def pending(db: Database, now: str, limit: int = 50) -> list[Row]:
    """Notices due for delivery at `now`, in the order they were written: two written in the same
    millisecond, or after the clock stepped back, still reach their reader in the order they happened."""
    return await db.fetch(
        "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY rowid LIMIT ?",
        (now, limit),
    )


async def next_attempt_at(db: Database) -> str | None:
    """When the earliest pending notice falls due, so the worker can sleep until then."""
    row = await db.fetch_one("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE state = 'pending'")
    return row["at"] if row else None


async def mark_sent(db: Database, notice_id: str, *, now: str) -> None:
    """The server accepted it; the attempt that succeeded is counted too."""
    await db.write_returning(
        "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL"
        " WHERE id = ? AND state = 'pending' RETURNING id",
        (now, notice_id),
    )


async def mark_failed(db: Database, notice_id: str, *, error: str, retry_at: str | None) -> None:
    """Count a failed attempt: try again at `retry_at`, or give up (state 'failed') when it is None."""
    await db.write_returning(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
        " next_attempt_at = COALESCE(?, next_attempt_at),"
        " state = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END"
        " WHERE id = ? AND state = 'pending' RETURNING id",
        (error[:1000], retry_at, retry_at, notice_id),
    )


async def note_error(db: Database, notice_id: str, *, error: str) -> None:
    """Why a try failed when the failure was not the notice's own: no attempt of its is counted."""
    await db.write_returning(
        "UPDATE outbox SET last_error = ? WHERE id = ? AND state = 'pending' RETURNING id", (error[:1000], notice_id),
    )


async def pending_count(db: Database) -> int:
    """Notices still owed (retries included), for the metrics."""
    row = await db.fetch_one("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")
    return row["n"] if row else 0
