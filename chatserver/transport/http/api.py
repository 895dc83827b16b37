"""The complaints JSON API under /api/: each handler authenticates, validates, calls one service, answers.

It is a sub-application so that its error handling (JSON, never HTML or redirects) covers exactly
/api/ and nothing else; shared objects are read through `request.config_dict`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from chatserver import keys
from chatserver.domain.errors import Invalid
from chatserver.services.auth import ConsoleUser
from chatserver.services.complaints import ComplaintService, SeenAssignee
from chatserver.services.presenters import category as category_view
from chatserver.store import complaints as complaint_store
from chatserver.store import users as user_store
from chatserver.transport.http import api_schemas as schemas
from chatserver.transport.http.api_auth import api_user, api_writer, charge
from chatserver.transport.http.api_json import answer, api_errors, json_body
from chatserver.transport.http.openapi import build_document
from chatserver.transport.http.reports import summary_api

OPENAPI = web.AppKey("openapi", dict)
ME = "me"


def _complaints(request: web.Request) -> ComplaintService:
    return request.config_dict[keys.SERVICES].complaints


def _reference(request: web.Request) -> str:
    return request.match_info["reference"]


async def _detail(request: web.Request, user: ConsoleUser, reference: str, status: int = 200) -> web.Response:
    """Writes answer with the whole complaint, so a client redraws from one response."""
    return answer({"complaint": await _complaints(request).detail(user, reference)}, status)


async def list_complaints(request: web.Request) -> web.Response:
    user = await api_user(request)
    query = schemas.validate_query(schemas.ComplaintListQuery, request.query)
    page = await _complaints(request).list(
        user, status=query.status, category=query.category, level=query.level,
        assignee_id=user.id if query.assignee == ME else query.assignee,
        search=query.q, sort=query.sort, limit=query.limit, offset=query.offset,
    )
    return answer({"complaints": page["complaints"], "total": page["total"], "limit": query.limit, "offset": query.offset})


async def create_complaint(request: web.Request) -> web.Response:
    user = await api_writer(request)
    body = schemas.validate(schemas.ComplaintCreate, await json_body(request))
    charge(request, user, "complaint:log")  # a valid one may e-mail the address it names
    complaint = await _complaints(request).log(
        user, category=body.category, subject=body.subject, body=body.body, channel=body.channel,
        customer_email=body.customer_email, customer_name=body.customer_name, locale=body.locale, client_id=body.client_id,
    )
    return answer({"complaint": complaint}, 201, {"Location": f"/api/complaints/{complaint['reference']}"})


async def get_complaint(request: web.Request) -> web.Response:
    return await _detail(request, await api_user(request), _reference(request))


async def get_complaint_chat(request: web.Request) -> web.Response:
    """A long originating chat, read on page by page after the detail's first one."""
    user = await api_user(request)
    query = schemas.validate_query(schemas.ChatPageQuery, request.query)
    return answer(await _complaints(request).chat_page(user, _reference(request), query.after_seq))


async def update_complaint(request: web.Request) -> web.Response:
    user = await api_writer(request)
    body = schemas.validate(schemas.ComplaintUpdate, await json_body(request))
    given = body.model_fields_set  # tells an absent assignee_id from null (let it go)
    if not given:
        raise Invalid("give at least one of status, category, assignee_id")
    if "from_assignee_id" in given and "assignee_id" not in given:
        raise Invalid("from_assignee_id goes with assignee_id")
    reference = _reference(request)
    await _complaints(request).update(
        user, reference, start="status" in given, category=body.category if "category" in given else None,
        assign="assignee_id" in given, assignee_id=body.assignee_id,
        seen=SeenAssignee(body.from_assignee_id) if "from_assignee_id" in given else None,
    )
    return await _detail(request, user, reference)


async def add_reply(request: web.Request) -> web.Response:
    user = await api_writer(request)
    body = schemas.validate(schemas.ReplyCreate, await json_body(request))
    service, reference = _complaints(request), _reference(request)
    if body.kind == "note":
        await service.note(user, reference, body.body, client_id=body.client_id)
    elif body.kind == "resolution":
        await service.resolve(user, reference, body.body, seen_entry_seq=body.seen_entry_seq, client_id=body.client_id)
    else:
        await service.reply(
            user, reference, body.body, ask_customer=body.kind == "question", seen_entry_seq=body.seen_entry_seq,
            client_id=body.client_id,
        )
    return await _detail(request, user, reference, 201)


async def escalate(request: web.Request) -> web.Response:
    user = await api_writer(request)
    body = schemas.validate(schemas.Escalation, await json_body(request))
    await _complaints(request).escalate(user, _reference(request), body.reason, from_level=body.from_level)
    return await _detail(request, user, _reference(request))


async def propose_compensation(request: web.Request) -> web.Response:
    user = await api_writer(request)
    body = schemas.validate(schemas.CompensationCreate, await json_body(request))
    await _complaints(request).propose_compensation(
        user, _reference(request), amount_minor=body.amount_minor, currency=body.currency, reason=body.reason
    )
    return await _detail(request, user, _reference(request), 201)


async def decide_compensation(request: web.Request) -> web.Response:
    user = await api_writer(request)
    body = schemas.validate(schemas.CompensationDecision, await json_body(request))
    decided = await _complaints(request).decide_compensation(
        user, request.match_info["compensation_id"], approve=body.approve, note=body.note
    )
    return await _detail(request, user, decided["reference"])


async def list_categories(request: web.Request) -> web.Response:
    await api_user(request)
    query = schemas.validate_query(schemas.CategoryListQuery, request.query)
    rows = await complaint_store.categories(request.config_dict[keys.SERVICES].db, active_only=query.retired == "false")
    return answer({"categories": [category_view(row) for row in rows]})


async def list_users(request: web.Request) -> web.Response:
    """Active staff, for assignee pickers: names and roles only, nothing about logins."""
    await api_user(request)
    rows = await user_store.list_active(request.config_dict[keys.SERVICES].db)
    return answer({"users": [_staff_member(row) for row in rows]})


def _staff_member(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "role": row["role"], "status": row["status"]}


async def openapi(request: web.Request) -> web.Response:
    # public: it describes the API and holds no data
    return web.json_response(request.app[OPENAPI], headers={"Cache-Control": "no-cache"})


def api_app() -> web.Application:
    """Mount with `app.add_subapp("/api", api_app())`."""
    app = web.Application(middlewares=[api_errors])
    app[OPENAPI] = build_document()
    r = app.router
    r.add_get("/openapi.json", openapi)
    r.add_get("/complaints", list_complaints)
    r.add_post("/complaints", create_complaint)
    r.add_get("/complaints/{reference}", get_complaint)
    r.add_patch("/complaints/{reference}", update_complaint)
    r.add_get("/complaints/{reference}/chat", get_complaint_chat)
    r.add_post("/complaints/{reference}/replies", add_reply)
    r.add_post("/complaints/{reference}/escalate", escalate)
    r.add_post("/complaints/{reference}/compensations", propose_compensation)
    r.add_post("/compensations/{compensation_id}/decision", decide_compensation)
    r.add_get("/categories", list_categories)
    r.add_get("/users", list_users)
    r.add_get("/reports/summary", summary_api)
    return app
