"""/admin/widget, /admin/identity and /admin/tokens: runtime settings and credentials for integrations."""

from __future__ import annotations

from aiohttp import web

from chatserver import keys
from chatserver.domain.errors import ChatError
from chatserver.domain.models import LOCALES
from chatserver.domain.text import isolate
from chatserver.services.admin.runtime import RuntimeSettings, WidgetSettings
from chatserver.services.admin.validate import FieldErrors, RawForm, api_token, widget
from chatserver.services.auth import ConsoleUser
from chatserver.transport.http.admin.common import admin_form, done, failed, page, require_admin
from chatserver.transport.http.widget import catalog

LANGUAGES = (("en", "English"), ("ru", "Russian"), ("pl", "Polish"))


def _runtime(request: web.Request) -> RuntimeSettings:
    return request.app[keys.SERVICES].runtime


def _widget_form(values: WidgetSettings) -> RawForm:
    return RawForm.of({
        "allowed_origins": "\n".join(values.allowed_origins),
        "brand_color": values.brand_color,
        **{f"greeting_{code}": values.greeting.get(code, "") for code in LOCALES},
        "queue_timeout": int(values.queue_timeout) if values.queue_timeout >= 1 else values.queue_timeout,
    })


# -- widget settings -----------------------------------------------------------------------


async def widget_page(request: web.Request, user: ConsoleUser, form: RawForm | None = None,
                      errors: dict[str, str] | None = None) -> web.Response:
    runtime = _runtime(request)
    return page(
        request, "admin/widget.html", user, "widget", status=400 if errors else 200,
        form=form or _widget_form(runtime.widget), errors=errors or {},
        current=runtime.widget, configured=runtime.configured_widget(), languages=LANGUAGES,
        default_greetings={code: catalog(code).get("home.greeting", "") for code in LOCALES},
    )


async def widget_get(request: web.Request) -> web.Response:
    return await widget_page(request, await require_admin(request))


async def widget_save(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    try:
        changes = await _runtime(request).save_widget(user.id, widget(form))
    except FieldErrors as exc:
        return await widget_page(request, user, form, exc.errors)
    except ChatError as exc:  # demoted or deactivated while the form was on its way
        raise failed(request, user, "/admin/widget", exc.message) from None
    raise done(request, user, "/admin/widget", "Widget settings saved; they apply now." if changes else "Nothing changed.")


async def widget_reset(request: web.Request) -> web.Response:
    user, _ = await admin_form(request)
    try:
        await _runtime(request).reset_widget(user.id)
    except ChatError as exc:
        raise failed(request, user, "/admin/widget", exc.message) from None
    raise done(request, user, "/admin/widget", "Widget settings are back to the configured values.")


# -- identity secret -----------------------------------------------------------------------


async def identity_get(request: web.Request) -> web.Response:
    user = await require_admin(request)
    runtime = _runtime(request)
    return page(request, "admin/identity.html", user, "identity", identity=runtime.identity,
                history=await runtime.identity_history())


async def identity_rotate(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    runtime = _runtime(request)
    if runtime.identity.source is not None and form.first("confirm") != "yes":
        raise failed(request, user, "/admin/identity",
                     "Tick the box to confirm: signatures made with the current secret stop working at once.")
    try:
        secret = await runtime.rotate_identity_secret(user.id)
    except ChatError as exc:
        raise failed(request, user, "/admin/identity", exc.message) from None
    raise done(request, user, "/admin/identity",
               "New identity secret in use. Copy it to the sites that sign identities; it is shown only now.",
               secret=secret, label="Identity secret")


# -- API tokens ----------------------------------------------------------------------------


async def tokens_page(request: web.Request, user: ConsoleUser, form: RawForm | None = None,
                      errors: dict[str, str] | None = None) -> web.Response:
    tokens = request.app[keys.SERVICES].admin.tokens
    owners = [(row["id"], f"{isolate(row['name'])} · {row['role']}") for row in await tokens.owners()]
    return page(
        request, "admin/tokens.html", user, "tokens", status=400 if errors else 200,
        tokens=await tokens.list(), people_options=owners, form=form or RawForm({}), errors=errors or {},
    )


async def tokens_get(request: web.Request) -> web.Response:
    return await tokens_page(request, await require_admin(request))


async def token_create(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    services = request.app[keys.SERVICES]
    active = [row["id"] for row in await services.admin.tokens.owners()]
    try:
        _, token = await services.admin.tokens.issue(user.id, api_token(form, active))
    except FieldErrors as exc:
        return await tokens_page(request, user, form, exc.errors)
    except ChatError as exc:  # demoted or deactivated while the form was on its way
        raise failed(request, user, "/admin/tokens", exc.message) from None
    raise done(request, user, "/admin/tokens",
               f"Token “{form.text('label', 80)}” created. Copy it now: only its fingerprint is kept, so it cannot be shown again.",
               secret=token, label="API token")


async def token_revoke(request: web.Request) -> web.Response:
    user, _ = await admin_form(request)
    try:
        row = await request.app[keys.SERVICES].admin.tokens.revoke(user.id, request.match_info["token_id"])
    except ChatError as exc:
        raise failed(request, user, "/admin/tokens", exc.message) from None
    raise done(request, user, "/admin/tokens", f"Token “{row['label']}” revoked; it no longer works.")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/widget", widget_get)
    app.router.add_post("/admin/widget", widget_save)
    app.router.add_post("/admin/widget/reset", widget_reset)
    app.router.add_get("/admin/identity", identity_get)
    app.router.add_post("/admin/identity/rotate", identity_rotate)
    app.router.add_get("/admin/tokens", tokens_get)
    app.router.add_post("/admin/tokens", token_create)
    app.router.add_post("/admin/tokens/{token_id}/revoke", token_revoke)
