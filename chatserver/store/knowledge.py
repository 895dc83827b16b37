"""FAQ articles and canned answers, per language."""

from __future__ import annotations

from chatserver.store.db import Database, Row, Tx


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


# -- editing (admin) -------------------------------------------------------------------------

FAQ_FIELDS = ("locale", "category", "position", "question", "answer", "active")
CANNED_FIELDS = ("shortcut", "locale", "title", "body", "active")


def _active(row: Row | None) -> Row | None:
    if row is not None:
        row["active"] = bool(row["active"])
    return row


async def all_faq_articles(db: Database | Tx, locale: str | None = None) -> list[Row]:
    where, params = (" WHERE locale = ?", (locale,)) if locale else ("", ())
    rows = await db.fetch(f"SELECT * FROM faq_articles{where} ORDER BY locale, active DESC, position, id", params)
    return [_active(r) for r in rows]  # type: ignore[misc]


async def faq_article(db: Database | Tx, article_id: str) -> Row | None:
    return _active(await db.fetch_one("SELECT * FROM faq_articles WHERE id = ?", (article_id,)))


async def save_faq_article(tx: Tx, article_id: str, values: dict, now: str, *, new: bool) -> None:
    if new:
        await tx.execute(
            "INSERT INTO faq_articles (id, locale, category, position, question, answer, active, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (article_id, *(values[f] for f in FAQ_FIELDS), now),
        )
    else:
        assignments = ", ".join(f"{f} = ?" for f in FAQ_FIELDS)
        await tx.execute(
            f"UPDATE faq_articles SET {assignments}, updated_at = ? WHERE id = ?",
            (*(values[f] for f in FAQ_FIELDS), now, article_id),
        )


async def all_canned_answers(db: Database | Tx, locale: str | None = None) -> list[Row]:
    where, params = (" WHERE locale = ?", (locale,)) if locale else ("", ())
    rows = await db.fetch(f"SELECT * FROM canned_answers{where} ORDER BY active DESC, shortcut, locale", params)
    return [_active(r) for r in rows]  # type: ignore[misc]


async def canned_answer(db: Database | Tx, answer_id: str) -> Row | None:
    return _active(await db.fetch_one("SELECT * FROM canned_answers WHERE id = ?", (answer_id,)))


async def canned_by_shortcut(db: Database | Tx, shortcut: str, locale: str) -> Row | None:
    return await db.fetch_one("SELECT id FROM canned_answers WHERE shortcut = ? AND locale = ?", (shortcut, locale))


async def save_canned_answer(tx: Tx, answer_id: str, values: dict, now: str, *, new: bool) -> None:
    if new:
        await tx.execute(
            "INSERT INTO canned_answers (id, shortcut, locale, title, body, active, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (answer_id, *(values[f] for f in CANNED_FIELDS), now),
        )
    else:
        assignments = ", ".join(f"{f} = ?" for f in CANNED_FIELDS)
        await tx.execute(
            f"UPDATE canned_answers SET {assignments}, updated_at = ? WHERE id = ?",
            (*(values[f] for f in CANNED_FIELDS), now, answer_id),
        )
