"""Who a console socket belongs to: the session cookie (same origin only) or an API token."""

from __future__ import annotations

from typing import Any

from chatserver.domain.errors import Forbidden, Unauthorized
from chatserver.services.auth import AuthService, ConsoleUser
from chatserver.transport import cookies
from chatserver.transport.schemas import ConsoleAuth, parse


def is_own_origin(
    origin: str, *, scheme: str, host: str, forwarded_host: str | None = None, forwarded_proto: str | None = None
) -> bool:
    """`origin` is this server as the browser reached it (directly or through a proxy)."""
    allowed = {f"{scheme}://{host}"}
    if forwarded_host:
        allowed.add(f"{forwarded_proto or scheme}://{forwarded_host}")
    return origin in allowed


def same_origin(environ: dict) -> bool:
    """A browser always sends Origin on a WebSocket; it must be this server's own."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return True  # not a browser: the cookie or token still has to be right
    request = environ.get("aiohttp.request")
    scheme = request.scheme if request is not None else environ.get("wsgi.url_scheme", "http")
    return is_own_origin(
        origin, scheme=scheme, host=environ.get("HTTP_HOST", ""),
        forwarded_host=environ.get("HTTP_X_FORWARDED_HOST"), forwarded_proto=environ.get("HTTP_X_FORWARDED_PROTO"),
    )


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
