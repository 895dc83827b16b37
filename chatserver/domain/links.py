"""Web addresses in someone's text, found by the rules widget/app/links.js applies in the browsers
(tests/links_cases.py holds both to the same cases)."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple
from urllib.parse import urlsplit

# starts at http://, https:// or www. that does not continue a word, a path or another scheme
# ("javascript:https://…" stays text); runs to whitespace or a character never unescaped in an address
_CANDIDATE = re.compile(r"(?<![\w@./:\-+])(?:https?://|www\.)[^\s<>\"`]+", re.IGNORECASE)
_TRAILING = ".,;:!?\u201d\u2019\u00bb\u203a"
_CLOSERS = {")": "(", "]": "[", "}": "{", "'": "'"}


class Piece(NamedTuple):
    text: str
    href: str | None = None


def _visible(candidate: str) -> str:
    """Up to the first control or invisible formatting mark (bidi controls, zero-width characters)."""
    for i, char in enumerate(candidate):
        if unicodedata.category(char) in ("Cc", "Cf"):
            return candidate[:i]
    return candidate


def _trim(url: str) -> str:
    """Punctuation that ends the sentence, or a bracket or quote opened before the address, is not part of it."""
    while url:
        last = url[-1]
        opener = _CLOSERS.get(last)
        unbalanced = opener is not None and (url.count(last) % 2 == 1 if opener == last else url.count(last) > url.count(opener))
        if last not in _TRAILING and not unbalanced:
            break
        url = url[:-1]
    return url


def _target(written: str) -> str | None:
    """The address to open for `written`, or None: only http(s), with a host and no user name or password."""
    href = f"https://{written}" if written[:4].lower() == "www." else written
    try:
        parts = urlsplit(href)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc or not host or host.rstrip(".") == "www":
        return None
    return href


def find_links(text: str) -> list[Piece]:
    """`text` cut into pieces, each plain or a link; the pieces joined are `text` exactly."""
    pieces: list[Piece] = []
    at = searched = 0
    while match := _CANDIDATE.search(text, searched):
        candidate = _visible(match.group())
        searched = match.start() + len(candidate)
        written = _trim(candidate)
        href = _target(written) if written else None
        if href is None:
            continue
        if match.start() > at:
            pieces.append(Piece(text[at:match.start()]))
        pieces.append(Piece(written, href))
        at = match.start() + len(written)
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return pieces
