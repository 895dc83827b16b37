"""Customers: anonymous ones known by a server-minted token, verified ones by the operator's external id."""

from __future__ import annotations

from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id


async def create(
    tx: Tx,
    *,
    token_hash: str,
    locale: str,
    now: str,
    external_id: str | None = None,
    name: str | None = None,
    email: str | None = None,
) -> Row:
    customer_id = new_id("cu")
    await tx.execute(
        "INSERT INTO customers (id, token_hash, external_id, name, email, locale, verified, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (customer_id, token_hash, external_id, name, email, locale, int(external_id is not None), now),
    )
    return await tx.fetch_one("SELECT * FROM customers WHERE id = ?", (customer_id,))  # type: ignore[return-value]


async def get(db: Database | Tx, customer_id: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM customers WHERE id = ?", (customer_id,))


async def by_token_hash(db: Database | Tx, token_hash: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM customers WHERE token_hash = ?", (token_hash,))


async def by_external_id(db: Database | Tx, external_id: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM customers WHERE external_id = ?", (external_id,))


async def update_profile(tx: Tx, customer_id: str, *, name: str | None, email: str | None, locale: str | None) -> None:
    await tx.execute(
        "UPDATE customers SET name = COALESCE(?, name), email = COALESCE(?, email), locale = COALESCE(?, locale) WHERE id = ?",
        (name, email, locale, customer_id),
    )


async def set_token_hash(tx: Tx, customer_id: str, token_hash: str) -> None:
    await tx.execute("UPDATE customers SET token_hash = ? WHERE id = ?", (token_hash, customer_id))
