"""Rows nothing needs any more: anonymous customers who never chatted nor complained, expired sessions.

Both look first on the reader and write only when there is something to remove, so that a quiet
server's housekeeping costs no write (and a storage fault no extra failed one)."""

from __future__ import annotations

from typing import Callable

from chatserver.store.db import Database

_HAS_RECORD = (
    "EXISTS (SELECT 1 FROM conversations WHERE customer_id = customers.id)"
    " OR EXISTS (SELECT 1 FROM complaints WHERE customer_id = customers.id)"
)


async def remove_idle_customers(
    db: Database, *, after: tuple[str, str], before: str, keep: Callable[[], set[str]], limit: int,
) -> tuple[int, tuple[str, str] | None]:
    """Look at up to `limit` anonymous customers created after the (created_at, id) `after` and
    before `before`, oldest first, and remove those with no conversation and no complaint, except the
    ids `keep()` gives once the write holds the lock. Returns how many were removed and the last one
    looked at (None: none were left)."""
    rows = await db.fetch(
        f"SELECT id, created_at, ({_HAS_RECORD}) AS has_record FROM customers INDEXED BY customers_anonymous_by_age"
        " WHERE external_id IS NULL AND (created_at, id) > (?, ?) AND created_at < ? ORDER BY created_at, id LIMIT ?",
        (after[0], after[1], before, limit),
    )
    idle = [row["id"] for row in rows if not row["has_record"]]
    removed = 0
    for _ in range(_ATTEMPTS if idle else 0):
        try:
            removed = await _remove(db, idle, keep)
            break
        except _CameBack:
            removed = 0  # rolled back; the next attempt keeps whoever came back
    last = (rows[-1]["created_at"], rows[-1]["id"]) if len(rows) == limit else None
    return removed, last


_ATTEMPTS = 3  # a batch whose visitors keep coming back is left as it is


class _CameBack(Exception):
    """A customer being removed opened their widget before the removal committed."""


async def _remove(db: Database, idle: list[str], keep: Callable[[], set[str]]) -> int:
    gone = []
    async with db.transaction() as tx:
        # asked here, not before the look: the write may wait for the lock while a widget comes back
        connected = keep()
        for customer_id in (c for c in idle if c not in connected):
            # asked again in the write: a chat started since the look keeps its customer
            if await tx.execute(f"DELETE FROM customers WHERE id = ? AND NOT ({_HAS_RECORD})", (customer_id,)):
                gone.append(customer_id)
        # and asked again before the commit: a widget that connected while the batch was deleted
        # read its row on the reader, where it is still there until this commits
        if keep().intersection(gone):
            raise _CameBack
    return len(gone)


async def remove_expired_sessions(db: Database, *, now: str) -> int:
    if await db.fetch_one("SELECT 1 FROM console_sessions WHERE expires_at < ? LIMIT 1", (now,)) is None:
        return 0
    async with db.transaction() as tx:
        return await tx.execute("DELETE FROM console_sessions WHERE expires_at < ?", (now,))
