"""What admins curate for customers and agents: complaint categories, canned answers, FAQ articles.

Categories are never deleted (complaints refer to them); an inactive one is no longer offered to
customers. Canned answers and FAQ articles are retired the same way, so nothing an agent or an old
complaint points at disappears.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from chatserver.domain.errors import NotFound
from chatserver.services.admin.validate import CannedValues, CategoryValues, FaqValues, FieldErrors
from chatserver.services.auth import ensure_admin
from chatserver.services.clock import Clock, now_iso
from chatserver.store import audit, categories, knowledge
from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id


LANGUAGE_NAMES = (("en", "English"), ("ru", "Russian"), ("pl", "Polish"))


def _name_key(name: str) -> str:
    """A name as a reader tells it apart: letter case, Unicode forms and runs of spaces do not count."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


async def _check_names_unique(tx: Tx, values: CategoryValues) -> None:
    """Customers choose a topic, and staff filter, by its name: another category's in any state is taken."""
    errors: dict[str, str] = {}
    for row in await categories.all_categories(tx):
        if row["slug"] == values.slug:
            continue
        for code, label in LANGUAGE_NAMES:
            field = f"name_{code}"
            if field not in errors and _name_key(row[field]) == _name_key(getattr(values, field)):
                errors[field] = f"The category “{row['name_en']}” ({row['slug']}) already has this {label} name."
    if errors:
        raise FieldErrors(errors)


def _changes(before: Row, after: dict[str, Any]) -> dict[str, Any]:
    return {key: {"from": before[key], "to": value} for key, value in after.items() if before[key] != value}


class CatalogAdmin:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # -- categories ------------------------------------------------------------------------

    async def categories(self) -> list[Row]:
        return await categories.all_categories(self.db)

    async def category(self, slug: str) -> Row:
        row = await categories.get(self.db, slug)
        if row is None:
            raise NotFound("No such category.")
        return row

    async def owner_groups(self) -> list[str]:
        return await categories.owner_groups(self.db)

    async def create_category(self, actor: str, values: CategoryValues) -> None:
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor)
            if await categories.get(tx, values.slug):
                raise FieldErrors({"slug": "A category with this code already exists."})
            await _check_names_unique(tx, values)
            await categories.create(tx, values.slug, values.columns())
            await audit.record(tx, actor=actor, action="category.created", subject=f"category:{values.slug}", now=now,
                               details=values.columns())

    async def update_category(self, actor: str, values: CategoryValues) -> dict[str, Any]:
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor)
            row = await categories.get(tx, values.slug)
            if row is None:
                raise NotFound("No such category.")
            await _check_names_unique(tx, values)
            # SLA targets apply to complaints created from now on; open ones keep their due times
            changes = _changes(dict(row, active=int(row["active"])), values.columns())
            if changes:
                await categories.update(tx, values.slug, values.columns())
                await audit.record(tx, actor=actor, action="category.updated", subject=f"category:{values.slug}",
                                   now=now, details=changes)
        return changes

    # -- canned answers --------------------------------------------------------------------

    async def canned_answers(self, locale: str | None) -> list[Row]:
        return await knowledge.all_canned_answers(self.db, locale)

    async def canned_answer(self, answer_id: str) -> Row:
        row = await knowledge.canned_answer(self.db, answer_id)
        if row is None:
            raise NotFound("No such canned answer.")
        return row

    async def save_canned_answer(self, actor: str, answer_id: str | None, values: CannedValues) -> str:
        """Create (no id) or update; returns the id. A shortcut is unique per language."""
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor)
            clash = await knowledge.canned_by_shortcut(tx, values.shortcut, values.locale)
            if clash is not None and clash["id"] != answer_id:
                raise FieldErrors({"shortcut": f"/{values.shortcut} already exists in this language."})
            if answer_id is None:
                answer_id = new_id("ca")
                await knowledge.save_canned_answer(tx, answer_id, values.columns(), now, new=True)
                await audit.record(tx, actor=actor, action="canned.created", subject=answer_id, now=now,
                                   details={"shortcut": values.shortcut, "locale": values.locale})
            else:
                row = await knowledge.canned_answer(tx, answer_id)
                if row is None:
                    raise NotFound("No such canned answer.")
                changes = _changes(dict(row, active=int(row["active"])), values.columns())
                if changes:
                    await knowledge.save_canned_answer(tx, answer_id, values.columns(), now, new=False)
                    await audit.record(tx, actor=actor, action="canned.updated", subject=answer_id, now=now, details=changes)
        return answer_id

    # -- FAQ articles ----------------------------------------------------------------------

    async def faq_articles(self, locale: str | None) -> list[Row]:
        return await knowledge.all_faq_articles(self.db, locale)

    async def faq_article(self, article_id: str) -> Row:
        row = await knowledge.faq_article(self.db, article_id)
        if row is None:
            raise NotFound("No such FAQ article.")
        return row

    async def save_faq_article(self, actor: str, article_id: str | None, values: FaqValues) -> str:
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor)
            if values.category is not None and await categories.get(tx, values.category) is None:
                raise FieldErrors({"category": "Choose a category from the list, or none."})
            if article_id is None:
                article_id = new_id("faq")
                await knowledge.save_faq_article(tx, article_id, values.columns(), now, new=True)
                await audit.record(tx, actor=actor, action="faq.created", subject=article_id, now=now,
                                   details={"locale": values.locale, "question": values.question})
            else:
                row = await knowledge.faq_article(tx, article_id)
                if row is None:
                    raise NotFound("No such FAQ article.")
                changes = _changes(dict(row, active=int(row["active"])), values.columns())
                if changes:
                    await knowledge.save_faq_article(tx, article_id, values.columns(), now, new=False)
                    await audit.record(tx, actor=actor, action="faq.updated", subject=article_id, now=now, details=changes)
        return article_id
