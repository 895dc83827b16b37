"""Who a console socket belongs to: the session cookie (same origin only) or an API token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from chatserver.domain.errors import Forbidden, Unauthorized
from chatserver.services.auth import AuthService, ConsoleUser
from chatserver.transport import cookies
from chatserver.transport.forwarding import is_own_origin
from chatserver.transport.schemas import ConsoleAuth, parse


def same_origin(environ: dict) -> bool:
    """A browser always sends Origin on a WebSocket; it must be this server's own (X-Forwarded-Host
    and -Proto count only from a trusted proxy)."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return True  # not a browser: the cookie or token still has to be right
    request = environ.get("aiohttp.request")
    if not isinstance(request, web.Request):
        return False
    return is_own_origin(origin, request)


async def console_user(environ: dict, auth: Any, auth_service: AuthService, secret_key: str) -> ConsoleUser:
    if not same_origin(environ):
        raise Forbidden("connections to the console are accepted only from this server's own pages")
    token = parse(ConsoleAuth, (auth,)).token  # type: ignore[attr-defined]
    if token is not None:
        user = await auth_service.user_for_api_token(token)
        if user is None:
            raise Unauthorized("the API token is not valid")
        return user
    session_id = cookies.unsign(secret_key, cookies.from_header(environ.get("HTTP_COOKIE"), cookies.SESSION_COOKIE))
    user = await auth_service.user_for_session(session_id) if session_id else None
    if user is None:
        raise Unauthorized("log in to the console first")
    return user


def seconds_left(user: ConsoleUser, now: datetime) -> float | None:
    """How long a socket this user opened may stay: until the sign-in behind it ends, as the cookie
    does. An API token has no end of its own (revoking it closes its sockets)."""
    if user.session_expires_at is None:
        return None
    return max((user.session_expires_at - now).total_seconds(), 0.0)
