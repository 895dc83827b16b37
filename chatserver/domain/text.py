"""Text that people typed, placed inside sentences this server writes."""

from __future__ import annotations

import unicodedata

FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"
# right-to-left letters and digits, and the explicit embeddings, overrides and isolates
_TURNING = frozenset({"R", "AL", "AN", "RLE", "RLO", "LRE", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI"})


def isolate(text: str) -> str:
    """`text` as a bidirectional island wherever it could turn the words around it: a right-to-left
    name, or an override its author never closed. The marks are invisible, and left-to-right text is
    given back as it is. <bdi> does the same where markup is possible; this is for the places where it
    is not (an <option>, an error message, a notice built on the server)."""
    if any(unicodedata.bidirectional(char) in _TURNING for char in text):
        return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"
    return text


def searchable(text: str) -> str:
    """`text` as search compares it: composed (an "é" typed as "e" and a combining accent is the one
    letter), then case-folded for every script, not only ASCII ("Жалоба" finds "жалоба", "ŁÓDŹ" "łódź")."""
    return unicodedata.normalize("NFC", text).casefold()
