"""Signed console session cookies: the value is `session_id.signature`; the session itself lives in the database."""

from __future__ import annotations

import hashlib
import hmac
from http.cookies import SimpleCookie

from chatserver.domain.same_secret import same_secret

SESSION_COOKIE = "cs_session"
CSRF_COOKIE = "cs_csrf"


def sign(secret: str, session_id: str) -> str:
    mac = hmac.new(secret.encode(), session_id.encode(), hashlib.sha256).hexdigest()
    return f"{session_id}.{mac}"


def unsign(secret: str, value: str | None) -> str | None:
    if not value or "." not in value:
        return None
    session_id, _, mac = value.rpartition(".")
    # a Cookie header's bytes that are not UTF-8 arrive as lone surrogates: such an id is simply unsigned
    expected = hmac.new(secret.encode(), session_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return session_id if same_secret(expected, mac) else None


def from_header(header: str | None, name: str) -> str | None:
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is simply no cookie
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None
