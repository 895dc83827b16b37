"""Webhook receivers and the delivery log: rows written with the change they announce, delivered afterwards."""

from __future__ import annotations

import json
from typing import Any

from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id


def _endpoint(row: Row | None) -> Row | None:
    if row is not None:
        row["events"] = json.loads(row["events"])
        row["active"] = bool(row["active"])
    return row


# -- receivers ------------------------------------------------------------------------------------

async def create_endpoint(
    tx: Tx, *, url: str, events: list[str], secret: str, description: str, now: str, created_by: str | None
) -> Row:
    endpoint_id = new_id("wh")
    await tx.execute(
        "INSERT INTO webhook_endpoints (id, url, description, events, secret, created_at, created_by, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (endpoint_id, url, description, json.dumps(events), secret, now, created_by, now),
    )
    row = await get_endpoint(tx, endpoint_id)
    assert row is not None
    return row


async def get_endpoint(db: Database | Tx, endpoint_id: str) -> Row | None:
    return _endpoint(await db.fetch_one("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,)))


async def list_endpoints(db: Database) -> list[Row]:
    """Every receiver, newest first, with how its deliveries stand."""
    rows = await db.fetch(
        "SELECT e.*,"
        " (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending') AS pending,"
        " (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'failed') AS failed,"
        " (SELECT MAX(d.delivered_at) FROM webhook_deliveries d WHERE d.endpoint_id = e.id) AS last_delivered_at"
        " FROM webhook_endpoints e ORDER BY e.created_at DESC, e.id"
    )
    return [_endpoint(row) for row in rows]  # type: ignore[misc]


async def active_endpoints(db: Database) -> list[Row]:
    rows = await db.fetch("SELECT id, events FROM webhook_endpoints WHERE active = 1")
    return [{"id": row["id"], "events": json.loads(row["events"])} for row in rows]


async def set_active(tx: Tx, endpoint_id: str, *, active: bool, now: str) -> bool:
    count = await tx.execute(
        "UPDATE webhook_endpoints SET active = ?, updated_at = ? WHERE id = ? AND active != ?",
        (int(active), now, endpoint_id, int(active)),
    )
    return count == 1


# -- deliveries -----------------------------------------------------------------------------------

async def enqueue(tx: Tx, *, delivery_id: str, endpoint_id: str, event: str, payload: str, now: str) -> None:
    await tx.execute(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event, payload, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (delivery_id, endpoint_id, event, payload, now, now),
    )


async def receivers_due(db: Database, now: str) -> list[str]:
    """Enabled receivers with a delivery due at `now`."""
    rows = await db.fetch(
        "SELECT DISTINCT d.endpoint_id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
        " WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND e.active = 1",
        (now,),
    )
    return [row["endpoint_id"] for row in rows]


async def pending(db: Database, endpoint_id: str, now: str, limit: int = 50) -> list[Row]:
    """One enabled receiver's deliveries due at `now`, oldest first (rows written together in the order
    written: a chat's close before the complaint it became), with its URL and secret."""
    return await db.fetch(
        "SELECT d.*, e.url, e.secret FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
        " WHERE d.endpoint_id = ? AND d.state = 'pending' AND d.next_attempt_at <= ? AND e.active = 1"
        " ORDER BY d.next_attempt_at, d.created_at, d.rowid LIMIT ?",
        (endpoint_id, now, limit),
    )


async def next_attempt_at(db: Database) -> str | None:
    row = await db.fetch_one(
        "SELECT MIN(d.next_attempt_at) AS at FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
        " WHERE d.state = 'pending' AND e.active = 1"
    )
    return row["at"] if row else None


async def mark_delivered(db: Database, delivery_id: str, *, now: str, status: int, duration_ms: int) -> None:
    await db.write_returning(
        "UPDATE webhook_deliveries SET state = 'delivered', delivered_at = ?, attempts = attempts + 1,"
        " last_attempt_at = ?, last_status = ?, last_error = NULL, last_duration_ms = ?"
        " WHERE id = ? AND state = 'pending' RETURNING id",
        (now, now, status, duration_ms, delivery_id),
    )


async def mark_failed(
    db: Database, delivery_id: str, *, now: str, status: int | None, error: str, duration_ms: int, retry_at: str | None
) -> None:
    """Count a failed attempt: try again at `retry_at`, or give up (state 'failed') when it is None."""
    await db.write_returning(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = ?, last_status = ?, last_error = ?,"
        " last_duration_ms = ?, next_attempt_at = COALESCE(?, next_attempt_at),"
        " state = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END"
        " WHERE id = ? AND state = 'pending' RETURNING id",
        (now, status, error[:1000], duration_ms, retry_at, retry_at, delivery_id),
    )


async def get_delivery(db: Database, delivery_id: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM webhook_deliveries WHERE id = ?", (delivery_id,))


async def deliveries(db: Database, *, endpoint_id: str | None = None, limit: int = 50) -> list[Row]:
    """The delivery log, newest first (the payload left out: it can be large)."""
    where, params = ("WHERE d.endpoint_id = ?", (endpoint_id,)) if endpoint_id else ("", ())
    return await db.fetch(
        "SELECT d.id, d.endpoint_id, d.event, d.created_at, d.state, d.attempts, d.next_attempt_at, d.last_attempt_at,"
        " d.last_status, d.last_error, d.last_duration_ms, d.delivered_at, e.url"
        f" FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id {where}"
        " ORDER BY d.created_at DESC, d.rowid DESC LIMIT ?",
        (*params, limit),
    )


async def counts(db: Database) -> dict[str, int]:
    rows = await db.fetch("SELECT state, COUNT(*) AS n FROM webhook_deliveries WHERE state != 'delivered' GROUP BY state")
    found: dict[str, Any] = {row["state"]: row["n"] for row in rows}
    return {"pending": found.get("pending", 0), "failed": found.get("failed", 0)}


async def prune(db: Database, *, before: str) -> int:
    """Forget settled deliveries created before `before`: the log is for recent trouble, not an archive."""
    rows = await db.write_returning(
        "DELETE FROM webhook_deliveries WHERE state != 'pending' AND created_at < ? RETURNING id", (before,)
    )
    return len(rows)
