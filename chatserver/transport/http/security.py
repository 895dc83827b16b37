"""Security headers on every response, and the console's login guard."""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web

from chatserver import keys
from chatserver.services.auth import ConsoleUser
from chatserver.transport import cookies
from chatserver.transport.forwarding import client_of

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if not request.path.startswith("/socket.io"):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
            response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def cookie_secure(request: web.Request) -> bool:
    """Secure when the client reached us over HTTPS: directly, or as a trusted proxy says."""
    return request.config_dict[keys.SETTINGS].cookie_secure or client_of(request).scheme == "https"


async def current_user(request: web.Request) -> ConsoleUser | None:
    secret = request.app[keys.SECRET_KEY]
    session_id = cookies.unsign(secret, request.cookies.get(cookies.SESSION_COOKIE))
    if not session_id:
        return None
    return await request.app[keys.SERVICES].auth.user_for_session(session_id)


async def require_user(request: web.Request, supervisor: bool = False) -> ConsoleUser:
    user = await current_user(request)
    if user is None:
        raise web.HTTPSeeOther(f"/login?next={request.path}")
    if supervisor and not user.is_supervisor:
        raise web.HTTPForbidden(text="This page is for supervisors and admins.")
    return user
