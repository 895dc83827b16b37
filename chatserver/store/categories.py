"""Complaint categories as admins edit them (the complaint store reads them for complaints)."""

from __future__ import annotations

from chatserver.store.db import Database, Row, Tx

FIELDS = ("position", "name_en", "name_ru", "name_pl", "first_response_hours", "resolution_hours", "owner_group", "active")


def _decode(row: Row | None) -> Row | None:
    if row is not None:
        row["active"] = bool(row["active"])
    return row


async def all_categories(db: Database | Tx) -> list[Row]:
    rows = await db.fetch("SELECT * FROM categories ORDER BY active DESC, position, slug")
    return [_decode(r) for r in rows]  # type: ignore[misc]


async def get(db: Database | Tx, slug: str) -> Row | None:
    return _decode(await db.fetch_one("SELECT * FROM categories WHERE slug = ?", (slug,)))


async def owner_groups(db: Database | Tx) -> list[str]:
    rows = await db.fetch("SELECT DISTINCT owner_group FROM categories ORDER BY owner_group")
    return [r["owner_group"] for r in rows]


async def create(tx: Tx, slug: str, values: dict) -> None:
    columns = ", ".join(("slug", *FIELDS))
    marks = ", ".join("?" for _ in range(len(FIELDS) + 1))
    await tx.execute(f"INSERT INTO categories ({columns}) VALUES ({marks})", (slug, *(values[f] for f in FIELDS)))


async def update(tx: Tx, slug: str, values: dict) -> None:
    assignments = ", ".join(f"{f} = ?" for f in FIELDS)
    await tx.execute(f"UPDATE categories SET {assignments} WHERE slug = ?", (*(values[f] for f in FIELDS), slug))
