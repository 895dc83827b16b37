"""Comparing a secret someone presents with the one expected, in constant time, whatever they send."""

from __future__ import annotations

import hmac


def same_secret(expected: str, given: object) -> bool:
    """True when `given` is exactly `expected`. Compared as bytes: `hmac.compare_digest` raises on text
    that is not ASCII, and a header, cookie, form field or URL may carry any text, lone surrogates too.
    Anything that is not text, and an empty expectation, never matches."""
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))
