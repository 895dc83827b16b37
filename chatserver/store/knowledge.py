"""FAQ articles and canned answers, per language."""

from __future__ import annotations

from chatserver.store.db import Database, Row


async def faq_articles(db: Database, locale: str) -> list[Row]:
    return await db.fetch(
        "SELECT id, locale, category, position, question, answer, updated_at FROM faq_articles"
        " WHERE locale = ? AND active = 1 ORDER BY position, id",
        (locale,),
    )


async def canned_answers(db: Database) -> list[Row]:
    return await db.fetch(
        "SELECT id, shortcut, locale, title, body FROM canned_answers WHERE active = 1 ORDER BY shortcut, locale"
    )
