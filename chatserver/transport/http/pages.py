"""Login, logout and the console pages."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlparse

from aiohttp import web

from chatserver import keys
from chatserver.domain.errors import HTTP_STATUS, ChatError
from chatserver.domain.same_secret import same_secret
from chatserver.templating import STATIC_ROOT
from chatserver.transport import cookies
from chatserver.transport.http.forms import read_form
from chatserver.transport.forwarding import client_of
from chatserver.transport.http.security import NO_STORE, cookie_secure, current_user, require_user




def render(request: web.Request, template: str, status: int = 200, **context: object) -> web.Response:
    html = request.app[keys.TEMPLATES].get_template(template).render(**context)
    return web.Response(text=html, content_type="text/html", status=status, headers=NO_STORE)


def _safe_next(target: str | None) -> str:
    """Only local paths: a login must never bounce the user to another site. Browsers read a backslash
    as a slash (so "/\\evil.example" is "//evil.example") and drop tabs and newlines: refuse them all."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or any(ch in target for ch in "\\\t\r\n")
        or urlparse(target).netloc
    ):
        return "/console"
    return target


# the sign-in form's token as login_page mints it (secrets.token_urlsafe(32))
_LOGIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def _login_token(request: web.Request) -> str:
    """The browser's token again, so that two open sign-in tabs both work; a cookie that is not one of
    ours (any text, undecodable bytes too) is never written into the page: a fresh token replaces it."""
    given = request.cookies.get(cookies.CSRF_COOKIE, "")
    return given if _LOGIN_TOKEN.fullmatch(given) else secrets.token_urlsafe(32)


async def login_page(request: web.Request, error: str | None = None, status: int = 200, email: str = "") -> web.Response:
    csrf = _login_token(request)
    response = render(
        request, "login.html", status=status, csrf_token=csrf, error=error,
        next=_safe_next(request.query.get("next")), email=email,
    )
    response.set_cookie(
        cookies.CSRF_COOKIE, csrf, httponly=True, samesite="Strict", secure=cookie_secure(request), path="/login"
    )
    return response


async def login_get(request: web.Request) -> web.Response:
    return await login_page(request)


async def login_post(request: web.Request) -> web.Response:
    form = await read_form(request)
    if not same_secret(request.cookies.get(cookies.CSRF_COOKIE, ""), form.get("csrf_token")):
        return await login_page(request, "Your form expired. Please try again.", status=403)
    # the limiter's key and the account lookup must see one spelling, or padding or re-casing the
    # address would buy a fresh allowance for the same account
    email = str(form.get("email", "")).strip()[:254]
    limiter = request.app[keys.LOGIN_LIMITER]
    if not limiter.allow(client_of(request).limit_key) or not limiter.allow("email:" + email.lower()):
        return await login_page(request, "Too many attempts. Wait a minute and try again.", status=429, email=email)
    try:
        user = await request.app[keys.SERVICES].auth.login(email, str(form.get("password", ""))[:1024])
    except ChatError as exc:  # wrong credentials (401), or a storage fault while signing in (503)
        return await login_page(request, exc.message, status=HTTP_STATUS.get(exc.code, 401), email=email)
    assert user.session_id is not None
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", "")) or None))
    response.set_cookie(
        cookies.SESSION_COOKIE,
        cookies.sign(request.app[keys.SECRET_KEY], user.session_id),
        httponly=True,
        samesite="Lax",
        secure=cookie_secure(request),
        path="/",
    )
    response.del_cookie(cookies.CSRF_COOKIE, path="/login")
    raise response


async def logout_post(request: web.Request) -> web.Response:
    user = await current_user(request)
    if user is not None:
        form = await read_form(request)
        if not same_secret(user.csrf_token or "", form.get("csrf_token")):
            raise web.HTTPForbidden(text="The logout form expired; reload the page.")
        assert user.session_id is not None
        await request.app[keys.SERVICES].auth.logout(user.session_id)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(cookies.SESSION_COOKIE, path="/")
    raise response


async def console(request: web.Request) -> web.Response:
    user = await require_user(request)
    return render(request, "console.html", user=user)


async def monitor(request: web.Request) -> web.Response:
    user = await require_user(request, supervisor=True)
    return render(request, "monitor.html", user=user)


async def health(request: web.Request) -> web.Response:
    """Green while the database takes writes; finds out by itself when a fault begins or ends."""
    report = await request.app[keys.SERVICES].db.health()
    if report.ok:
        return web.json_response({"status": "ok"}, headers=NO_STORE)
    body = {"status": "unavailable", "reason": "storage", "detail": report.problem}
    return web.json_response(body, status=503, headers=NO_STORE)


async def index(request: web.Request) -> web.Response:
    return render(request, "index.html")


async def favicon(request: web.Request) -> web.FileResponse:
    """The pages name their icon; a browser that asks for /favicon.ico anyway gets the same one, not a 404."""
    return web.FileResponse(
        STATIC_ROOT / "brand" / "icon.svg", headers={"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"}
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/healthz", health)
    app.router.add_get("/login", login_get)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout_post)
    app.router.add_get("/console", console)
    app.router.add_get("/monitor", monitor)
