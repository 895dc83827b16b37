"""Rows nothing needs any more: anonymous customers who never chatted nor complained, expired sessions."""

from __future__ import annotations

from chatserver.store.db import Database


async def remove_idle_customers(
    db: Database, *, after: tuple[str, str], before: str, keep: set[str], limit: int,
) -> tuple[int, tuple[str, str] | None]:
    """Look at up to `limit` anonymous customers created after the (created_at, id) `after` and
    before `before`, oldest first, and remove those with no conversation and no complaint, except the
    ids in `keep`. Returns how many were removed and the last one looked at (None: none were left)."""
    async with db.transaction() as tx:
        rows = await tx.fetch(
            "SELECT id, created_at FROM customers WHERE external_id IS NULL AND (created_at, id) > (?, ?) AND created_at < ?"
            " ORDER BY created_at, id LIMIT ?",
            (after[0], after[1], before, limit),
        )
        idle = [
            row["id"] for row in rows
            if row["id"] not in keep
            and await tx.fetch_one(
                "SELECT 1 FROM conversations WHERE customer_id = ? UNION ALL SELECT 1 FROM complaints WHERE customer_id = ? LIMIT 1",
                (row["id"], row["id"]),
            ) is None
        ]
        for customer_id in idle:
            await tx.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
    last = (rows[-1]["created_at"], rows[-1]["id"]) if len(rows) == limit else None
    return len(idle), last


async def remove_expired_sessions(db: Database, *, now: str) -> int:
    async with db.transaction() as tx:
        return await tx.execute("DELETE FROM console_sessions WHERE expires_at < ?", (now,))
