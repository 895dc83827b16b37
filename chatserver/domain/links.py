"""Web addresses in someone's text, found by the rules widget/app/links.js applies in the browsers
(tests/links_cases.py holds both to the same cases)."""

from __future__ import annotations

import re
from itertools import islice
from typing import NamedTuple
from urllib.parse import urlsplit

# the controls and invisible formatting marks (Unicode's Cc and Cf: bidi controls, zero-width
# characters), as links.js's \p{Cc}\p{Cf}; tests/unit/test_links.py holds the list to unicodedata
INVISIBLE = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    r"\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
# starts at http://, https:// or www. that does not continue a word, a path or another scheme
# ("javascript:https://…" stays text); runs to whitespace, a character never unescaped in an address,
# or an invisible mark. Stopping there, not cutting the match afterwards, keeps the search linear: a
# text of "www.\u200b" repeated would otherwise be read to its end once for every "www."
_CANDIDATE = re.compile(rf"(?<![\w@./:\-+])(?:https?://|www\.)[^\s<>\"`{INVISIBLE}]+", re.IGNORECASE)
# places where an address may start that are looked at in one text: people write a few, and the
# tracking page renders every entry of a thread on the event loop, at ~20 µs an address
ADDRESSES_MAX = 20
_TRAILING = ".,;:!?\u201d\u2019\u00bb\u203a"
_CLOSERS = {")": "(", "]": "[", "}": "{", "'": "'"}
_BRACKETS = frozenset(_CLOSERS) | frozenset(_CLOSERS.values())


class Piece(NamedTuple):
    text: str
    href: str | None = None


def _trim(url: str) -> str:
    """Punctuation that ends the sentence, or a bracket or quote opened before the address, is not part of it."""
    # counted once and kept up to date as the end moves back: counting again for every character
    # taken off made an address ending in thousands of ")" quadratic
    counts = {char: url.count(char) for char in _BRACKETS}
    end = len(url)
    while end:
        last = url[end - 1]
        opener = _CLOSERS.get(last)
        unbalanced = opener is not None and (counts[last] % 2 == 1 if opener == last else counts[last] > counts[opener])
        if last not in _TRAILING and not unbalanced:
            break
        end -= 1
        if last in counts:
            counts[last] -= 1
    return url[:end]


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
    """`text` cut into pieces, each plain or a link; the pieces joined are `text` exactly. Past the
    first ADDRESSES_MAX candidates the text stays plain."""
    pieces: list[Piece] = []
    at = 0
    for match in islice(_CANDIDATE.finditer(text), ADDRESSES_MAX):
        written = _trim(match.group())
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
