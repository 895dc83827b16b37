"""GET /track/{reference}?key=...: a complaint's status for its customer, in their language, without the widget."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from chatserver import keys
from chatserver.domain.errors import NotFound
from chatserver.domain.models import LOCALES, parse_iso
from chatserver.transport.http.pages import render
from chatserver.transport.http.widget import catalog, pick_locale


def _when(stamp: str | None) -> str:
    moment: datetime | None = parse_iso(stamp)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


async def track(request: web.Request) -> web.Response:
    reference = request.match_info["reference"][:32]
    key = request.query.get("key", "")[:128]
    wanted = request.query.get("lang")
    try:
        complaint, customer_locale = await request.app[keys.SERVICES].complaints.track(reference, key)
    except NotFound:
        locale = pick_locale(wanted, request.headers.get("Accept-Language", ""))
        response = render(request, "track.html", status=404, t=catalog(locale), locale=locale, complaint=None)
        response.headers["Cache-Control"] = "no-store"
        return response
    locale = wanted if wanted in LOCALES else customer_locale
    t = catalog(locale)
    response = render(
        request, "track.html", t=t, locale=locale, complaint=complaint,
        status_label=t.get(f"status.{complaint['status']}", complaint["status"]),
        category_label=complaint["category_names"].get(locale, complaint["category"]),
        created=_when(complaint["created_at"]),
        first_response_due=_when(complaint["first_response_due"]),
        resolution_due=_when(complaint["resolution_due"]),
    )
    # the key is in the URL: keep it out of caches and out of Referer headers
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def setup_tracking_routes(app: web.Application) -> None:
    app.router.add_get("/track/{reference}", track)
