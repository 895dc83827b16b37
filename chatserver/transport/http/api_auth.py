"""Who calls the JSON API: an API token (integrations) or the console's session cookie (its own pages).

A cookie is sent by the browser on its own, so with it the request must come from this server's
pages: a same-origin Origin when one is sent, and for changes the session's CSRF token in
`X-CSRF-Token`. A bearer token is never sent implicitly and needs neither. Customer tokens are not
API credentials: they live in another table and never match.
"""

from __future__ import annotations


from aiohttp import web

from chatserver import keys
from chatserver.domain.errors import Forbidden, RateLimited, Unauthorized
from chatserver.domain.same_secret import same_secret
from chatserver.services.auth import ConsoleUser
from chatserver.transport import cookies
from chatserver.transport.forwarding import is_own_origin

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
TOKEN_MAX = 256  # ours are ~46 characters; anything far longer is not worth hashing


def _bearer(header: str) -> str:
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > TOKEN_MAX:
        raise Unauthorized("send Authorization: Bearer <API token>")
    return token


def _from_own_pages(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a cross-site browser request; the cookie and CSRF token still have to be right
    return is_own_origin(origin, request)


def _csrf_matches(user: ConsoleUser, given: str) -> bool:
    return same_secret(user.csrf_token or "", given)


async def api_user(request: web.Request) -> ConsoleUser:
    """The console user behind this request, or Unauthorized / Forbidden."""
    auth = request.config_dict[keys.SERVICES].auth
    header = request.headers.get("Authorization")
    if header is not None:
        user = await auth.user_for_api_token(_bearer(header))
        if user is None:
            raise Unauthorized("the API token is not valid")
        return user
    session_id = cookies.unsign(request.config_dict[keys.SECRET_KEY], request.cookies.get(cookies.SESSION_COOKIE))
    user = await auth.user_for_session(session_id) if session_id else None
    if user is None:
        raise Unauthorized("send an API token, or log in to the console")
    if not _from_own_pages(request):
        raise Forbidden("with the console's cookie, requests are accepted only from this server's own pages")
    if request.method not in SAFE_METHODS and not _csrf_matches(user, request.headers.get(CSRF_HEADER, "")):
        raise Forbidden(f"the {CSRF_HEADER} header is missing or does not match your session")
    return user


async def api_writer(request: web.Request) -> ConsoleUser:
    """`api_user` for a write, charged to the user's API write limit before anything is read."""
    user = await api_user(request)
    charge(request, user, "write")
    return user


def charge(request: web.Request, user: ConsoleUser, action: str) -> None:
    """One `action` (`write`, `complaint:log`) off the user's API budget, or RateLimited."""
    if not request.config_dict[keys.API_LIMITS].limits_for(user.id).allow(action):
        raise RateLimited("too many changes through the API; slow down")
