"""/reports (the page), /api/reports/summary (its numbers as JSON) and the CSV exports.

One query shape for all three: `preset` (today | 7d | 30d | month | custom), `from` and `to` (UTC dates,
both included), `category`, `agent` (a user id), `level` (1-3), `channel`. An empty parameter counts as
absent; dates without a preset are custom; nothing at all is the last 30 days.

The page is for supervisors and admins with a console session. The JSON route and the exports take the
complaints API's credentials (an API token or the console's cookie), so a missing one is 401 and an
agent's is 403, answered in the contract's JSON error shape.
"""

from __future__ import annotations

import logging
from contextlib import aclosing
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDict, MultiMapping
from pydantic import BaseModel, ConfigDict, Field

from chatserver import keys
from chatserver.domain import reports as rules
from chatserver.domain.errors import ChatError, Invalid, Unavailable
from chatserver.domain.money import format_money
from chatserver.domain.reports import Filters, Period
from chatserver.services.reports import ReportService, check_reader
from chatserver.transport.http import reports_view as view
from chatserver.transport.http.api_auth import api_user
from chatserver.transport.http.api_json import answer, error_answer
from chatserver.transport.http.api_schemas import Slug, UserId, validate_query
from chatserver.transport.http.csv_safe import BOM, csv_text
from chatserver.transport.http.pages import render
from chatserver.transport.http.security import NO_STORE, add_security_headers, require_user

log = logging.getLogger(__name__)

Day = Annotated[
    str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="a UTC date, YYYY-MM-DD", json_schema_extra={"format": "date"})
]


class ReportQuery(BaseModel):
    """The period and filters of a report (the page, the JSON summary and the exports)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    preset: Literal[rules.PRESETS] | None = Field(  # type: ignore[valid-type]
        None, description="today, the last 7 or 30 days (today included), this month so far, or custom (from and to)"
    )
    from_: Day | None = Field(None, alias="from", description="first day, included (UTC)")
    to: Day | None = Field(None, description="last day, included (UTC); a report covers at most 366 days")
    category: Slug | None = Field(None, description="a category slug; chats by their topic")  # type: ignore[valid-type]
    agent: UserId | None = Field(None, description="a user id: the chats' agent and the complaints' assignee")  # type: ignore[valid-type]
    level: Annotated[int, Field(ge=1, le=3)] | None = Field(None, description="complaints at this level (chats have none)")
    channel: Literal[rules.CHANNELS] | None = Field(None, description="complaints that came this way (chats are all chat)")  # type: ignore[valid-type]


def _service(request: web.Request) -> ReportService:
    return request.config_dict[keys.SERVICES].reports


def parse_query(service: ReportService, query: MultiMapping[str]) -> tuple[Period, Filters]:
    given = validate_query(ReportQuery, MultiDict((k, v) for k, v in query.items() if v != ""))
    period = service.period(given.preset, given.from_, given.to)
    return period, Filters(given.category, given.agent, given.level, given.channel)


def query_string(period: Period, filters: Filters) -> str:
    """The query that asks for exactly this report again (export links, the JSON link)."""
    values: dict[str, Any] = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    for name in ("category", "agent", "level", "channel"):
        if getattr(filters, name) is not None:
            values[name] = getattr(filters, name)
    return urlencode(values)


# -- the JSON summary ----------------------------------------------------------------------------------


async def summary_api(request: web.Request) -> web.Response:
    """GET /api/reports/summary, mounted in the API sub-application (its errors are JSON)."""
    user = await api_user(request)
    check_reader(user)  # before the query: an agent learns nothing from how a query is refused
    service = _service(request)
    period, filters = parse_query(service, request.query)
    return answer(await service.summary(user, period, filters))


# -- the CSV exports -----------------------------------------------------------------------------------


async def _export(request: web.Request, kind: str) -> web.StreamResponse:
    try:
        user = await api_user(request)
        check_reader(user)
        service = _service(request)
        period, filters = parse_query(service, request.query)
        # a HEAD asks whether the file is there: nothing leaves, so nothing is put on record
        export = await service.export(user, kind, period, filters, audited=request.method != "HEAD")
    except ChatError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.code == "unauthorized" else None
        return error_answer(exc.code, exc.message, headers=headers)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            **NO_STORE,
        }
    )
    # sent with the first bytes: the security middleware only sees the response afterwards
    add_security_headers(response.headers)
    if request.method == "HEAD":
        # the headers alone: a body here would be read as the next answer on a kept-alive connection
        await export.pages.aclose()
        return web.Response(headers=response.headers)
    # one page at a time: `write` waits while the client is slower than we are, so memory stays at a page;
    # a client that goes away ends the reading too
    try:
        await response.prepare(request)
        await response.write((BOM + csv_text([export.columns])).encode("utf-8"))
        async with aclosing(export.pages) as pages:
            async for rows in pages:
                await response.write(csv_text(rows).encode("utf-8"))
        await response.write_eof()
    except ConnectionError:
        # a download closed early is the client's choice, not a fault of ours: no traceback
        log.debug("export %s: the client went away", export.filename)
    except Unavailable:
        # the status and part of the file are out: a 503 can no longer be said, so the download is
        # cut short, and the browser reports a failed download instead of saving a file that looks whole
        log.warning("export %s cut short by a storage failure", export.filename)
        if request.transport is not None:
            request.transport.abort()
    return response


async def export_complaints(request: web.Request) -> web.StreamResponse:
    return await _export(request, "complaints")


async def export_chats(request: web.Request) -> web.StreamResponse:
    return await _export(request, "chats")


# -- the page ------------------------------------------------------------------------------------------


async def reports_page(request: web.Request) -> web.Response:
    user = await require_user(request, supervisor=True)
    service = _service(request)
    options = await service.options()
    error, status, summary = None, 200, None
    try:
        period, filters = parse_query(service, request.query)
        summary = await service.summary(user, period, filters)
    except Invalid as exc:
        error, status = exc.message, 400
        period, filters = service.period(None, None, None), Filters()
    return render(
        request, "reports.html", status=status, user=user, options=options, summary=summary, error=error,
        period=period, filters=filters, presets=_PRESET_LABELS, channels=_CHANNEL_LABELS,
        today=service.today().isoformat(), query=query_string(period, filters), label=view.period_label(period),
        chart=view.chart_data(summary) if summary else None, week=view.week_label(summary) if summary else "",
        satisfaction=view.satisfaction_rows(summary, options) if summary else None,
        duration=view.duration, pct=view.pct, count=view.count, money=lambda amount, currency: format_money(amount, currency, "en"),
    )


_PRESET_LABELS = (
    ("today", "Today"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("month", "This month"), ("custom", "Custom dates"),
)
_CHANNEL_LABELS = (("chat", "Chat"), ("web_form", "Web form"), ("email", "E-mail"), ("phone", "Phone"))


def setup_report_routes(app: web.Application) -> None:
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/reports/export/complaints.csv", export_complaints)
    app.router.add_get("/reports/export/chats.csv", export_chats)

