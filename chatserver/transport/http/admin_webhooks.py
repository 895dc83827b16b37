"""/admin/webhooks: receivers (add, disable, enable, send a test) and the delivery log."""

from __future__ import annotations

from aiohttp import web

from chatserver import keys
from chatserver.domain.errors import ChatError
from chatserver.services.admin.validate import RawForm
from chatserver.services.auth import ConsoleUser
from chatserver.services.webhooks import PUBLIC_EVENTS, TEST_EVENT, InvalidEndpoint, WebhookService
from chatserver.transport.http.admin.common import admin_form, done, failed, page, require_admin
from chatserver.webhooks import signing
from chatserver.webhooks.worker import BACKOFF, MAX_ATTEMPTS

HOME = "/admin/webhooks"
LOG_ROWS = 100


def _service(request: web.Request) -> WebhookService:
    return request.app[keys.SERVICES].webhooks


def _backoff_text() -> str:
    def short(seconds: float) -> str:
        if seconds < 60:
            return f"{seconds:g} s"
        if seconds < 3600:
            return f"{seconds / 60:g} min"
        return f"{seconds / 3600:g} h"

    return ", ".join(short(delay.total_seconds()) for delay in BACKOFF)


async def webhooks_page(
    request: web.Request, user: ConsoleUser, form: RawForm | None = None, errors: dict[str, str] | None = None
) -> web.Response:
    service = _service(request)
    endpoints = await service.endpoints()
    selected = request.query.get("endpoint")
    if selected not in {row["id"] for row in endpoints}:
        selected = None
    return page(
        request, "admin/webhooks.html", user, "webhooks", status=400 if errors else 200,
        form=form or RawForm({}), errors=errors or {}, endpoints=endpoints,
        deliveries=await service.deliveries(selected, LOG_ROWS), selected=selected,
        events=PUBLIC_EVENTS, test_event=TEST_EVENT, backoff=_backoff_text(), max_attempts=MAX_ATTEMPTS,
        headers=(signing.EVENT_HEADER, signing.DELIVERY_HEADER, signing.TIMESTAMP_HEADER, signing.SIGNATURE_HEADER),
        tolerance_minutes=signing.TOLERANCE_SECONDS // 60,
    )


async def webhooks_get(request: web.Request) -> web.Response:
    return await webhooks_page(request, await require_admin(request))


async def webhook_create(request: web.Request) -> web.Response:
    user, form = await admin_form(request)
    try:
        endpoint, secret = await _service(request).register(
            user, url=form.text("url", 2100), events=form.many("events"), description=form.text("description", 300),
        )
    except InvalidEndpoint as exc:
        return await webhooks_page(request, user, form, exc.errors)
    except ChatError as exc:  # demoted or deactivated while the form was on its way
        raise failed(request, user, HOME, exc.message) from None
    raise done(
        request, user, HOME,
        f"Webhook to {endpoint['url']} added. Copy its signing secret now: it is not shown again.",
        secret=secret, label="Signing secret",
    )


async def webhook_disable(request: web.Request) -> web.Response:
    return await _switch(request, active=False)


async def webhook_enable(request: web.Request) -> web.Response:
    return await _switch(request, active=True)


async def _switch(request: web.Request, *, active: bool) -> web.Response:
    user, _ = await admin_form(request)
    try:
        endpoint = await _service(request).set_active(user, request.match_info["endpoint_id"], active)
    except ChatError as exc:
        raise failed(request, user, HOME, exc.message) from None
    if active:
        raise done(request, user, HOME, f"Webhook to {endpoint['url']} enabled; waiting deliveries go out now.")
    raise done(request, user, HOME, f"Webhook to {endpoint['url']} disabled; new events are not queued for it and waiting ones are held.")


async def webhook_test(request: web.Request) -> web.Response:
    user, _ = await admin_form(request)
    endpoint_id = request.match_info["endpoint_id"]
    try:
        await _service(request).send_test(user, endpoint_id)
    except ChatError as exc:
        raise failed(request, user, HOME, exc.message) from None
    raise done(request, user, f"{HOME}?endpoint={endpoint_id}", f"Test event “{TEST_EVENT}” queued; its result shows in the log below.")


def setup_admin_webhook_routes(app: web.Application) -> None:
    app.router.add_get(HOME, webhooks_get)
    app.router.add_post(HOME, webhook_create)
    app.router.add_post(HOME + "/{endpoint_id}/disable", webhook_disable)
    app.router.add_post(HOME + "/{endpoint_id}/enable", webhook_enable)
    app.router.add_post(HOME + "/{endpoint_id}/test", webhook_test)
