"""What every admin page shares: the admin-only guard, CSRF on forms, rendering, and notices.

Forms post back, and a success redirects (303) to a page that shows a notice once. Secrets made by
an action (a generated password, an API token, the identity secret) travel in that notice, kept in
memory for the admin's session only until the next page shows them, and never written anywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from chatserver import keys
from chatserver.domain.same_secret import same_secret
from chatserver.services.admin.validate import RawForm
from chatserver.services.auth import ConsoleUser
from chatserver.transport.http.form_origin import from_own_page
from chatserver.transport.http.forms import read_form
from chatserver.transport.http.security import NO_STORE, current_user, refusal_page

NOTICE_TTL = 600.0  # seconds an unshown notice (and any secret in it) is kept
NAV = (
    ("users", "/admin/users", "Users"),
    ("categories", "/admin/categories", "Categories"),
    ("canned", "/admin/canned", "Canned answers"),
    ("faq", "/admin/faq", "FAQ articles"),
    ("widget", "/admin/widget", "Widget"),
    ("identity", "/admin/identity", "Identity secret"),
    ("tokens", "/admin/tokens", "API tokens"),
    ("webhooks", "/admin/webhooks", "Webhooks"),
)


@dataclass(frozen=True, slots=True)
class Notice:
    text: str
    kind: str = "success"  # or "error"
    secret: str | None = None
    secret_label: str | None = None


class Notices:
    """Notices waiting for the next page, per console session."""

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[float, list[Notice]]] = {}

    def push(self, session_id: str, notice: Notice) -> None:
        now = time.monotonic()
        self._waiting = {sid: entry for sid, entry in self._waiting.items() if now - entry[0] < NOTICE_TTL}
        self._waiting.setdefault(session_id, (now, []))[1].append(notice)

    def pop(self, session_id: str) -> list[Notice]:
        stamp, notices = self._waiting.pop(session_id, (0.0, []))
        return notices if time.monotonic() - stamp < NOTICE_TTL else []


def notices(app: web.Application) -> Notices:
    return app[keys.ADMIN_NOTICES]


def forbidden(request: web.Request, user: ConsoleUser | None, message: str) -> web.HTTPForbidden:
    return refusal_page(request, user, message)


async def require_admin(request: web.Request) -> ConsoleUser:
    """The signed-in admin; others are sent to sign in (303) or shown a 403 page."""
    user = await current_user(request)
    if user is None:
        # a page is opened again after signing in; a form post cannot be, so it goes to the sign-in alone
        raise web.HTTPSeeOther(f"/login?next={request.path}" if request.method in ("GET", "HEAD") else "/login")
    if not user.is_admin:
        raise forbidden(request, user, "Administration is for admins. Your role is " + user.role + ".")
    return user


async def admin_form(request: web.Request) -> tuple[ConsoleUser, RawForm]:
    """An admin's posted form, after the CSRF token (and, for browsers, the page's origin) checked out."""
    user = await require_admin(request)
    if not from_own_page(request):
        raise forbidden(request, user, "This form was sent from another site, so it was refused.")
    posted = await read_form(request)
    if not same_secret(user.csrf_token or "", posted.get("csrf_token")):
        raise forbidden(request, user, "The form expired or did not come from this page. Reload the page and try again.")
    fields = {key: posted.getall(key) for key in set(posted.keys()) if key != "csrf_token"}
    return user, RawForm(fields)


def page(request: web.Request, template: str, user: ConsoleUser, section: str, *, status: int = 200, **context: Any) -> web.Response:
    assert user.session_id is not None
    context.setdefault("errors", {})
    html = request.app[keys.TEMPLATES].get_template(template).render(
        user=user, section=section, nav=NAV, csrf_token=user.csrf_token,
        notices=notices(request.app).pop(user.session_id), **context,
    )
    # pages may show a secret once, and always show staff data: nothing may keep a copy
    return web.Response(text=html, content_type="text/html", status=status, headers=NO_STORE)


def done(request: web.Request, user: ConsoleUser, location: str, text: str, **secret: str) -> web.HTTPSeeOther:
    """Redirect after a successful change, with a notice (and maybe a secret) for the next page."""
    assert user.session_id is not None
    notices(request.app).push(user.session_id, Notice(text, secret=secret.get("secret"), secret_label=secret.get("label")))
    return web.HTTPSeeOther(location)


def failed(request: web.Request, user: ConsoleUser, location: str, text: str) -> web.HTTPSeeOther:
    assert user.session_id is not None
    notices(request.app).push(user.session_id, Notice(text, kind="error"))
    return web.HTTPSeeOther(location)
