"""The knowledge base: FAQ articles for customers and agents, canned answers for agents.

The sets are small (tens to a few hundred rows), so search ranks in Python, on each text's words kept
between searches: SQLite's LIKE folds case for ASCII only, which would miss Russian and Polish words.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any

from chatserver.domain.models import LOCALES
from chatserver.domain.text import searchable
from chatserver.store import knowledge
from chatserver.store.db import Database, Row

_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[str]:
    return _WORD.findall(searchable(text))


Vocabulary = tuple[str, ...]


def _has_prefix(vocabulary: Vocabulary, word: str) -> bool:
    """Some word of the sorted `vocabulary` begins with `word`: the first one not below it, if any."""
    at = bisect_left(vocabulary, word)
    return at < len(vocabulary) and vocabulary[at].startswith(word)


def _score(query_words: list[str], weighted_fields: list[tuple[Vocabulary, int]]) -> int:
    """Every query word must occur (as a word prefix) somewhere; the weight says where it counts most."""
    total = 0
    for word in dict.fromkeys(query_words):
        best = max((weight for vocabulary, weight in weighted_fields if _has_prefix(vocabulary, word)), default=0)
        if best == 0:
            return 0
        total += best
    return total


class _Vocabularies:
    """The distinct words of each row's text, sorted, kept while the text stays the same: a search then
    finds each query word by bisection instead of splitting every article again for every word (the
    widget's help search is open to anyone). Bounded by the knowledge base itself."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[str, Vocabulary]] = {}

    def of(self, row: Row, field: str) -> Vocabulary:
        key, text = (row["id"], field), row[field] or ""
        known = self._known.get(key)
        if known is None or known[0] != text:
            known = self._known[key] = (text, tuple(sorted(set(_words(text)))))
        return known[1]


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
        self._vocabularies = _Vocabularies()

    async def faq(self, locale: str | None, query: str = "", limit: int = 50) -> list[dict[str, Any]]:
        locale = locale if locale in LOCALES else "en"
        rows = await knowledge.faq_articles(self.db, locale)
        words = _words(query)[:8]
        if not words:
            return [faq_article(r) for r in rows[:limit]]
        vocabulary = self._vocabularies.of
        scored = [(_score(words, [(vocabulary(r, "question"), 3), (vocabulary(r, "answer"), 1)]), i, r) for i, r in enumerate(rows)]
        ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
        return [faq_article(r) for _, _, r in ranked[:limit]]

    async def canned(self, query: str = "", locale: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Answers matching `query` (a shortcut prefix or words), the conversation's language first."""
        rows = await knowledge.canned_answers(self.db)
        words = _words(query)[:8]
        results = []
        for position, row in enumerate(rows):
            fields = [(self._vocabularies.of(row, name), weight) for name, weight in (("shortcut", 5), ("title", 3), ("body", 1))]
            score = _score(words, fields) if words else 1
            if score:
                results.append((row["locale"] != locale, -score, position, row))
        results.sort(key=lambda r: r[:3])
        return [canned_answer(r[3]) for r in results[:limit]]
