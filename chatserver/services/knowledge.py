"""The knowledge base: FAQ articles for customers and agents, canned answers for agents.

The sets are small (tens to a few hundred rows), so search ranks in Python: SQLite's LIKE folds
case for ASCII only, which would miss Russian and Polish words.
"""

from __future__ import annotations

import re
from typing import Any

from chatserver.domain.models import LOCALES
from chatserver.store import knowledge
from chatserver.store.db import Database, Row

_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _score(query_words: list[str], weighted_fields: list[tuple[str, int]]) -> int:
    """Every query word must occur (as a word prefix) somewhere; the weight says where it counts most."""
    total = 0
    for word in query_words:
        best = 0
        for text, weight in weighted_fields:
            if any(candidate.startswith(word) for candidate in _words(text)):
                best = max(best, weight)
        if best == 0:
            return 0
        total += best
    return total


def faq_article(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "locale": row["locale"],
        "category": row["category"],
        "question": row["question"],
        "answer": row["answer"],
    }


def canned_answer(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "shortcut": row["shortcut"], "locale": row["locale"], "title": row["title"], "body": row["body"]}


class KnowledgeService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def faq(self, locale: str | None, query: str = "", limit: int = 50) -> list[dict[str, Any]]:
        locale = locale if locale in LOCALES else "en"
        rows = await knowledge.faq_articles(self.db, locale)
        words = _words(query)[:8]
        if not words:
            return [faq_article(r) for r in rows[:limit]]
        scored = [(_score(words, [(r["question"], 3), (r["answer"], 1)]), i, r) for i, r in enumerate(rows)]
        ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
        return [faq_article(r) for _, _, r in ranked[:limit]]

    async def canned(self, query: str = "", locale: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Answers matching `query` (a shortcut prefix or words), the conversation's language first."""
        rows = await knowledge.canned_answers(self.db)
        words = _words(query)[:8]
        results = []
        for position, row in enumerate(rows):
            score = _score(words, [(row["shortcut"], 5), (row["title"], 3), (row["body"], 1)]) if words else 1
            if score:
                results.append((row["locale"] != locale, -score, position, row))
        results.sort(key=lambda r: r[:3])
        return [canned_answer(r[3]) for r in results[:limit]]
