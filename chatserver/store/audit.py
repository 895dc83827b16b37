"""The audit trail: who did what to which subject, and when."""

from __future__ import annotations

import json

from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id


async def record(tx: Tx, *, actor: str, action: str, subject: str, now: str, details: dict | None = None) -> None:
    await tx.execute(
        "INSERT INTO audit_events (id, at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?, ?)",
        (new_id("ae"), now, actor, action, subject, json.dumps(details or {}, ensure_ascii=False)),
    )


async def for_subject(db: Database, subject: str) -> list[Row]:
    rows = await db.fetch("SELECT * FROM audit_events WHERE subject = ? ORDER BY at", (subject,))
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows


async def latest_for_subject(db: Database, subject: str, limit: int) -> list[Row]:
    """The newest `limit` entries, newest first, read from the end of the index: sign-ins and presence
    changes add to a user's trail every day, and a page shows only the latest few."""
    rows = await db.fetch(
        "SELECT * FROM audit_events WHERE subject = ? ORDER BY at DESC, rowid DESC LIMIT ?", (subject, limit)
    )
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows
