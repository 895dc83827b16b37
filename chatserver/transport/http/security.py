"""Security headers on every response, and the console's login guard."""

from __future__ import annotations

from typing import Awaitable, Callable, MutableMapping

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

# for anything personal or live: pages behind sign-in, the tracking page, API answers, health, errors;
# a shared or back-button cache must neither keep a CSRF token and names nor show a stale state
NO_STORE = {"Cache-Control": "no-store"}

# addresses that may carry a secret (the tracking page's key): nothing answered under them, a refusal
# or a 404 included, may hand the address on in a Referer header
KEYED_PATHS = ("/track/",)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as refusal:
        # a raised 303, 403, 404 or 405 is a page too: it gets the same headers on its way out
        if not request.path.startswith("/socket.io"):
            add_security_headers(refusal.headers, keyed=request.path.startswith(KEYED_PATHS))
        raise
    if not request.path.startswith("/socket.io"):
        add_security_headers(response.headers, keyed=request.path.startswith(KEYED_PATHS))
    return response


def add_security_headers(headers: MutableMapping[str, str], *, keyed: bool = False) -> None:
    """What a handler set itself (the widget frame's frame-ancestors) is kept."""
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer" if keyed else "same-origin")
    if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
        headers.setdefault("X-Frame-Options", "DENY")


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
        raise refusal_page(request, user, f"This page is for supervisors and admins. Your role is {user.role}.")
    return user


def refusal_page(request: web.Request, user: ConsoleUser | None, message: str) -> web.HTTPForbidden:
    """The styled "you cannot open this page" card (403), with a way back to the console."""
    html = request.app[keys.TEMPLATES].get_template("admin/forbidden.html").render(user=user, message=message)
    return web.HTTPForbidden(text=html, content_type="text/html", headers=NO_STORE)
