"""Complaint rows, their references and the audit trail."""

from __future__ import annotations

from typing import Any

from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id


async def next_number(tx: Tx, year: int) -> int:
    row = await tx.fetch_one(
        "INSERT INTO complaint_counters (year, last_number) VALUES (?, 1)"
        " ON CONFLICT (year) DO UPDATE SET last_number = last_number + 1 RETURNING last_number",
        (year,),
    )
    assert row is not None
    return int(row["last_number"])


async def create(tx: Tx, **fields: Any) -> Row:
    complaint_id = new_id("cp")
    columns = ["id", *fields]
    await tx.execute(
        f"INSERT INTO complaints ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        (complaint_id, *fields.values()),
    )
    return await tx.fetch_one("SELECT * FROM complaints WHERE id = ?", (complaint_id,))  # type: ignore[return-value]


async def by_conversation(db: Database | Tx, conversation_id: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM complaints WHERE conversation_id = ?", (conversation_id,))


async def by_reference(db: Database | Tx, reference: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM complaints WHERE reference = ?", (reference,))


async def list_for_customer(db: Database, customer_id: str) -> list[Row]:
    return await db.fetch(
        "SELECT * FROM complaints WHERE customer_id = ? ORDER BY created_at DESC", (customer_id,)
    )


async def categories(db: Database | Tx, active_only: bool = True) -> list[Row]:
    where = " WHERE active = 1" if active_only else ""
    return await db.fetch(f"SELECT * FROM categories{where} ORDER BY position, slug")


async def category(db: Database | Tx, slug: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM categories WHERE slug = ?", (slug,))
