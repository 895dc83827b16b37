"""Runtime settings (admin overrides of configured values) and identity secrets."""

from __future__ import annotations

import json
from typing import Any

from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id


async def runtime_values(db: Database | Tx) -> dict[str, Any]:
    rows = await db.fetch("SELECT key, value FROM runtime_settings")
    return {row["key"]: json.loads(row["value"]) for row in rows}


async def runtime_rows(db: Database | Tx) -> list[Row]:
    return await db.fetch("SELECT key, updated_at, updated_by FROM runtime_settings ORDER BY key")


async def put_runtime_value(tx: Tx, key: str, value: Any, *, now: str, actor: str) -> None:
    await tx.execute(
        "INSERT INTO runtime_settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,"
        " updated_by = excluded.updated_by",
        (key, json.dumps(value, ensure_ascii=False), now, actor),
    )


async def delete_runtime_values(tx: Tx, keys: list[str]) -> None:
    for key in keys:
        await tx.execute("DELETE FROM runtime_settings WHERE key = ?", (key,))


# -- identity secrets ----------------------------------------------------------------------


async def current_identity_secret(db: Database | Tx) -> Row | None:
    return await db.fetch_one(
        "SELECT id, secret, created_at, created_by FROM identity_secrets WHERE retired_at IS NULL"
    )


async def identity_secret_history(db: Database | Tx, limit: int = 20) -> list[Row]:
    """Rotations, newest first, without the values."""
    return await db.fetch(
        "SELECT s.id, s.created_at, s.retired_at, s.created_by, u.name AS created_by_name"
        " FROM identity_secrets s LEFT JOIN users u ON u.id = s.created_by"
        " ORDER BY s.created_at DESC LIMIT ?",
        (limit,),
    )


async def replace_identity_secret(tx: Tx, secret: str, *, now: str, actor: str) -> str:
    """Retire (and erase) the current secret and store a new one; returns the new row's id."""
    await tx.execute(
        "UPDATE identity_secrets SET retired_at = ?, retired_by = ?, secret = NULL WHERE retired_at IS NULL",
        (now, actor),
    )
    secret_id = new_id("is")
    await tx.execute(
        "INSERT INTO identity_secrets (id, secret, created_at, created_by) VALUES (?, ?, ?, ?)",
        (secret_id, secret, now, actor),
    )
    return secret_id
