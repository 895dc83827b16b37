"""The OpenAPI 3.1 document served at /api/openapi.json.

Request bodies and query parameters come from the pydantic models the handlers validate with;
responses are written out here from the presenters' shapes. Views are closed
(`additionalProperties: false`): the end-to-end tests validate every answer against this document,
so a field added to a view without being described here fails them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chatserver.domain.complaint_lifecycle import ENTRY_KINDS, STATUSES
from chatserver.domain.complaints import SOURCES
from chatserver.domain.errors import CODES, HTTP_STATUS
from chatserver.domain.models import LOCALES
from chatserver.domain.reports import CHANNELS, PRESETS
from chatserver.transport.cookies import SESSION_COOKIE
from chatserver.transport.http import api_schemas as schemas
from chatserver.transport.http.api_auth import CSRF_HEADER
from chatserver.transport.http.reports import ReportQuery

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
TIME: Schema = {"type": "string", "format": "date-time"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(properties: dict[str, Schema], optional: tuple[str, ...] = ()) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


# -- the views the API answers with ----------------------------------------------------------------

_USER_REF = _closed({"id": STRING, "name": _nullable(STRING)})
_RATING = _closed({"score": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": _nullable(STRING), "rated_at": _nullable(TIME)})

_COMPLAINT = {
    "reference": {"type": "string", "pattern": r"^C-\d{4}-\d{6,}$"},
    "status": {"enum": list(STATUSES)},
    "category": STRING,
    "subject": STRING,
    "level": {"type": "integer", "minimum": 1, "maximum": 3},
    "created_at": TIME,
    "first_response_due": _nullable(TIME),
    "resolution_due": _nullable(TIME),
    "source": {"enum": list(SOURCES)},
    "channel": {"enum": ["chat", "web_form", "email", "phone"]},
    "conversation_id": _nullable(STRING),
    "id": STRING,
    "body": _nullable(STRING),
    "owner_group": _nullable(STRING),
    "assignee": _nullable(_ref("UserRef")),
    "customer_id": _nullable(STRING),
    "customer_name": _nullable(STRING),
    "email": _nullable(STRING),
    "locale": _nullable(STRING),
    "response_due": {**_nullable(TIME), "description": "the next answer owed to the customer; null when none is"},
    "due_at": {**_nullable(TIME), "description": "the soonest time something is owed; null once resolved or closed"},
    "first_response_at": _nullable(TIME),
    "resolved_at": _nullable(TIME),
    "closed_at": _nullable(TIME),
    "updated_at": TIME,
    "last_public_at": _nullable(TIME),
    "rating": _nullable(_ref("Rating")),
}

_ENTRY = _closed(
    {
        "id": STRING,
        "kind": {"enum": list(ENTRY_KINDS), "description": "note and system entries never reach the customer"},
        "author": STRING,
        "body": STRING,
        "created_at": TIME,
        "seq": {"type": "integer", "minimum": 1},
        "author_id": _nullable(STRING),
    }
)

_COMPENSATION = _closed(
    {
        "id": STRING,
        "reference": STRING,
        "amount_minor": {"type": "integer", "minimum": 1},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "reason": STRING,
        "status": {"enum": ["proposed", "approved", "rejected"]},
        "proposed_by": _ref("UserRef"),
        "proposed_at": TIME,
        "decided_by": _nullable(_ref("UserRef")),
        "decided_at": _nullable(TIME),
        "decision_note": _nullable(STRING),
    }
)

_AUDIT_EVENT = _closed(
    {
        "id": STRING,
        "at": TIME,
        "actor": {"type": "string", "description": "a user id, a customer id, or system"},
        "actor_name": _nullable(STRING),
        "action": {"type": "string", "description": "complaint.<action>"},
        "details": {"type": "object", "description": "at least from, to and public"},
    }
)

_MESSAGE = _closed(
    {
        "id": STRING,
        "conversation_id": STRING,
        "seq": {"type": "integer", "minimum": 1},
        "sender": {"enum": ["customer", "agent", "system"]},
        "author": _nullable(STRING),
        "body": STRING,
        "created_at": TIME,
        "client_id": _nullable(STRING),
        "internal": {"type": "boolean"},
    }
)

_CONVERSATION = _closed(
    {
        "id": STRING,
        "status": {"enum": ["queued", "active", "closed"]},
        "topic": _nullable(STRING),
        "locale": STRING,
        "created_at": TIME,
        "agent": _nullable(_ref("UserRef")),
        "outcome": _nullable({"enum": ["resolved", "complaint", "abandoned"]}),
        "complaint_reference": _nullable(STRING),
        "last_seq": {"type": "integer", "minimum": 0},
        "messages": {**_array(_ref("Message")), "description": "the first page: at most 500 messages and 256 KiB of bodies"},
        "more": {"type": "boolean", "description": "messages follow: read them from /api/complaints/{reference}/chat"},
    }
)

_DETAIL_EXTRA = {
    "entries": {**_array(_ref("Entry")), "description": "the thread, oldest first, notes included"},
    "compensations": _array(_ref("Compensation")),
    "audit": {**_array(_ref("AuditEvent")), "description": "every change: who, when, from, to, public or internal"},
    "conversation": {**_nullable(_ref("Conversation")), "description": "the originating chat, internal notes included"},
}

_CATEGORY = _closed(
    {
        "slug": STRING,
        "names": _closed({locale: STRING for locale in LOCALES}),
        "first_response_hours": {"type": "number"},
        "resolution_hours": {"type": "number"},
        "active": {"type": "boolean", "description": "false: retired, no longer offered for new complaints"},
    }
)

_USER = _closed(
    {
        "id": STRING,
        "name": STRING,
        "role": {"enum": ["agent", "supervisor", "admin"]},
        "status": {"enum": ["online", "away", "offline"]},
    }
)

_ERROR = _closed(
    {"error": _closed({"code": {"enum": list(CODES)}, "message": {"type": "string", "description": "for people, not for parsing"}})}
)

# -- reports (GET /api/reports/summary) ------------------------------------------------------------

_COUNT: Schema = {"type": "integer", "minimum": 0}
_PERCENT: Schema = _nullable({"type": "number", "minimum": 0, "maximum": 100})
_DAY: Schema = {"type": "string", "format": "date"}
_DURATIONS = _closed(
    {"count": _COUNT, "median_seconds": _nullable({"type": "number"}), "p90_seconds": _nullable({"type": "number"})}
)
_COMPLIANCE = {
    **_closed({"met": _COUNT, "missed": _COUNT, "pending": _COUNT, "percent": _PERCENT}),
    "description": "met: done by the due time; missed: done late, or not done once due; pending: neither yet "
    "(left out of percent = met / (met + missed))",
}
_SATISFACTION = {"ratings": _COUNT, "average": _nullable({"type": "number"}), "satisfied_percent": _PERCENT}
_BY_CATEGORY = {"chats_by_category": {"type": "object", "additionalProperties": _COUNT},
                "complaints_by_category": {"type": "object", "additionalProperties": _COUNT}}
_REPORT_VIEWS: dict[str, Schema] = {
    "ReportSatisfaction": {
        **_closed(
            {
                "overall": _closed(_SATISFACTION),
                "by_agent": _array(_closed({"id": _nullable(STRING), "name": STRING, **_SATISFACTION})),
                "by_category": _array(_closed({"slug": STRING, "name": STRING, **_SATISFACTION})),
            }
        ),
        "description": "ratings of 1-5; satisfied_percent counts 4 and 5; only groups with ratings are listed",
    },
    "ReportSummary": _closed(
        {
            "period": _closed({"from": _DAY, "to": _DAY, "days": {"type": "integer", "minimum": 1},
                               "preset": _nullable({"enum": list(PRESETS)}), "timezone": {"const": "UTC"}}),
            "filters": _closed({"category": _nullable(STRING), "agent": _nullable(STRING),
                                "level": _nullable({"type": "integer"}), "channel": _nullable({"enum": list(CHANNELS)})}),
            "generated_at": TIME,
            "chats": {
                **_closed({"total": _COUNT, "answered": _COUNT, "resolved": _COUNT, "complaint": _COUNT,
                           "abandoned": _COUNT, "open": _COUNT, "first_response": _DURATIONS}),
                "description": "chats started in the period; first_response: start to the first agent message",
            },
            "complaints": {
                **_closed({
                    "total": _COUNT,
                    "first_response": _DURATIONS,
                    "resolution": _DURATIONS,
                    "sla": _closed({"first_response": _COMPLIANCE, "resolution": _COMPLIANCE}),
                    "escalated": {**_closed({"count": _COUNT, "of": _COUNT, "percent": _PERCENT}),
                                  "description": "complaints above level 1"},
                    "reopened": {**_closed({"count": _COUNT, "of": _COUNT, "percent": _PERCENT}),
                                 "description": "of the complaints resolved at least once, those the customer reopened"},
                }),
                "description": "complaints created in the period; resolution counts those resolved or closed now",
            },
            "compensation": {
                **_array(_closed({"currency": STRING, "amount_minor": _COUNT, "count": _COUNT})),
                "description": "approved in the period, per currency, in minor units",
            },
            "categories": _array(_closed({"slug": STRING, "name": STRING, "chats": _COUNT, "complaints": _COUNT})),
            "days": _array(_closed({"date": _DAY, "chats": _COUNT, "complaints": _COUNT, **_BY_CATEGORY})),
            "csat": _closed({"chats": _ref("ReportSatisfaction"), "complaints": _ref("ReportSatisfaction")}),
            "recurring": {
                **_closed({
                    "week": _closed({"start": TIME, "end": TIME}),
                    "rule": _closed({"weeks": _COUNT, "sd_factor": {"type": "number"}, "min_count": _COUNT,
                                     "min_rise": {"type": "number"}, "min_history_weeks": _COUNT}),
                    "history_weeks": _COUNT,
                    "categories": _array(_closed({
                        "slug": STRING, "name": STRING, "this_week": _COUNT, "previous": _array(_COUNT),
                        "mean": _nullable({"type": "number"}), "sd": _nullable({"type": "number"}),
                        "threshold": _nullable({"type": "number"}), "flagged": {"type": "boolean"},
                    })),
                }),
                "description": "complaints per category in the 7 days to the period's end (or now) against the weeks "
                "before: flagged when at least min_count, above mean + sd_factor * max(sd, sqrt(mean)) and at least "
                "min_rise * mean",
            },
            "workload": {
                **_array(_closed({
                    "id": STRING, "name": STRING, "chats": _COUNT, "chats_answered": _COUNT, "chats_resolved": _COUNT,
                    "complaints": _COUNT, "complaints_resolved": _COUNT,
                })),
                "description": "per staff member, most work first: the chats started in the period that they held last "
                "(answered, closed as resolved) and the complaints created in it that they hold (resolved or closed now)",
            },
        }
    ),
}

VIEWS: dict[str, Schema] = {
    "Error": _ERROR,
    "UserRef": _USER_REF,
    "Rating": _RATING,
    "Complaint": {**_closed(_COMPLAINT), "description": "the staff view of a complaint"},
    "ComplaintDetail": {
        **_closed({**_COMPLAINT, **_DETAIL_EXTRA}),
        "description": "the staff view with thread, compensations, audit trail and chat",
    },
    "Entry": _ENTRY,
    "Compensation": _COMPENSATION,
    "AuditEvent": _AUDIT_EVENT,
    "Message": _MESSAGE,
    "Conversation": _CONVERSATION,
    "Category": _CATEGORY,
    "User": _USER,
    "ComplaintList": _closed(
        {
            "complaints": _array(_ref("Complaint")),
            "total": {"type": "integer", "minimum": 0, "description": "how many match the filters, across all pages"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        }
    ),
    "ChatPage": _closed(
        {
            "messages": _array(_ref("Message")),
            "more": {"type": "boolean", "description": "messages follow: ask again after the last seq here"},
        }
    ),
    "ComplaintEnvelope": _closed({"complaint": _ref("Complaint")}),
    "ComplaintDetailEnvelope": _closed({"complaint": _ref("ComplaintDetail")}),
    "CategoryList": _closed({"categories": _array(_ref("Category"))}),
    "UserList": _closed({"users": _array(_ref("User"))}),
    **_REPORT_VIEWS,
}

REQUESTS: tuple[type[BaseModel], ...] = (
    schemas.ComplaintCreate,
    schemas.ComplaintUpdate,
    schemas.ReplyCreate,
    schemas.Escalation,
    schemas.CompensationCreate,
    schemas.CompensationDecision,
)


def _model_schema(model: type[BaseModel]) -> Schema:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for prop in schema.get("properties", {}).values():
        # "absent means unchanged" fields that refuse null: a null default would read as allowed
        if prop.get("default", 0) is None and {"type": "null"} not in prop.get("anyOf", []):
            del prop["default"]
    return schema


def _without_null(schema: Schema) -> Schema:
    """A query parameter is absent rather than null."""
    options = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**options[0], **rest}
    return schema


def _query_parameters(model: type[BaseModel], *, empty_is_absent: bool = False) -> list[Schema]:
    properties = _model_schema(model)["properties"]
    return [
        {"name": name, "in": "query", "required": False, "schema": _or_empty(_without_null(prop), empty_is_absent), **(
            {"description": prop["description"]} if "description" in prop else {}
        )}
        for name, prop in properties.items()
    ]


def _or_empty(schema: Schema, empty_is_absent: bool) -> Schema:
    """A parameter whose empty value counts as absent (a form left blank) admits the empty string."""
    if not empty_is_absent:
        return schema
    rest = {k: v for k, v in schema.items() if k in ("description", "title")}
    return {"anyOf": [{k: v for k, v in schema.items() if k not in rest}, {"const": ""}], **rest}


# -- operations ---------------------------------------------------------------------------------------

_ERROR_NAMES = {
    "invalid": "Invalid",
    "unauthorized": "Unauthorized",
    "forbidden": "Forbidden",
    "not_found": "NotFound",
    "conflict": "Conflict",
    "too_large": "TooLarge",
    "rate_limited": "RateLimited",
    "internal": "Internal",
    "unavailable": "Unavailable",
}
_ERROR_TEXT = {
    "invalid": "the request is malformed: not JSON, an unknown or missing field, a wrong type or value",
    "unauthorized": "no API token or console session, or one that is not valid",
    "forbidden": "the caller may not do this (role, level, own proposal, CSRF header or origin with the cookie)",
    "not_found": "no such complaint, compensation or route",
    "conflict": "the complaint's state does not allow this now (illegal transition, already decided)",
    "too_large": "the body is larger than 128 KB",
    "rate_limited": "too many requests",
    "internal": "an unexpected failure; nothing is half-written",
    "unavailable": "storage refuses writes right now; nothing was saved, try again",
}


def _json(schema_name: str, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema_name)}}}


def _errors(*codes: str) -> dict[str, Schema]:
    # forbidden: every route refuses the console's cookie from another site, whatever else it checks
    common = ("unauthorized", "forbidden", "internal", "unavailable")
    return {str(HTTP_STATUS[c]): {"$ref": f"#/components/responses/{_ERROR_NAMES[c]}"} for c in (*codes, *common)}


def _body(model: type[BaseModel]) -> Schema:
    return {"required": True, "content": {"application/json": {"schema": _ref(model.__name__)}}}


_REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}, "example": "C-2026-000123"}
_COMPENSATION_ID = {"name": "compensation_id", "in": "path", "required": True, "schema": {"type": "string"}}
_WRITE_ERRORS = ("invalid", "forbidden", "not_found", "conflict", "too_large", "rate_limited")


def _paths() -> dict[str, Schema]:
    detail = "the complaint after the change, with its thread, compensations and audit trail"
    return {
        "/api/complaints": {
            "get": {
                "operationId": "listComplaints",
                "summary": "Complaints matching the filters, one page at a time",
                "parameters": _query_parameters(schemas.ComplaintListQuery),
                "responses": {"200": _json("ComplaintList", "one page"), **_errors("invalid", "forbidden")},
            },
            "post": {
                "operationId": "logComplaint",
                "summary": "Log a complaint that arrived by e-mail or phone",
                "description": "The customer gets the acknowledgement with the tracking link when an e-mail is given. "
                "Sent again with the same `client_id`, it answers with the complaint already logged (409 when the id "
                "was another user's).",
                "requestBody": _body(schemas.ComplaintCreate),
                "responses": {
                    "201": _json("ComplaintEnvelope", "the new complaint")
                    | {"headers": {"Location": {"description": "the new complaint's address in this API", "schema": {"type": "string"}}}},
                    **_errors("invalid", "forbidden", "too_large", "rate_limited", "conflict"),
                },
            },
        },
        "/api/complaints/{reference}": {
            "parameters": [_REFERENCE],
            "get": {
                "operationId": "getComplaint",
                "summary": "One complaint with its thread, compensations, audit trail and originating chat",
                "responses": {"200": _json("ComplaintDetailEnvelope", "the complaint"), **_errors("forbidden", "not_found")},
            },
            "patch": {
                "operationId": "updateComplaint",
                "summary": "Pick up, reclassify or (re)assign",
                "description": "Each field is its own audited change, applied in the order status, category, "
                "assignee_id, all in one transaction: when one is refused, none is made. With from_assignee_id, "
                "an assignment whose complaint someone else assigned meanwhile is 409 conflict.",
                "requestBody": _body(schemas.ComplaintUpdate),
                "responses": {"200": _json("ComplaintDetailEnvelope", detail), **_errors(*_WRITE_ERRORS)},
            },
        },
        "/api/complaints/{reference}/chat": {
            "parameters": [_REFERENCE],
            "get": {
                "operationId": "getComplaintChat",
                "summary": "The originating chat's messages after a seq, one page (at most 500 messages and 256 KiB)",
                "description": "The detail carries the first page; when its `more` is true, ask again after the last `seq` "
                "until `more` is false. A complaint that did not come from a chat is `404`.",
                "parameters": _query_parameters(schemas.ChatPageQuery),
                "responses": {"200": _json("ChatPage", "one page, oldest first"), **_errors("invalid", "not_found")},
            },
        },
        "/api/complaints/{reference}/replies": {
            "parameters": [_REFERENCE],
            "post": {
                "operationId": "addReply",
                "summary": "A public reply, a question to the customer, an internal note, or the resolution",
                "requestBody": _body(schemas.ReplyCreate),
                "responses": {"201": _json("ComplaintDetailEnvelope", detail), **_errors(*_WRITE_ERRORS)},
            },
        },
        "/api/complaints/{reference}/escalate": {
            "parameters": [_REFERENCE],
            "post": {
                "operationId": "escalateComplaint",
                "summary": "One level up (agent, supervisor, management); the new owners are told",
                "requestBody": _body(schemas.Escalation),
                "responses": {"200": _json("ComplaintDetailEnvelope", detail), **_errors(*_WRITE_ERRORS)},
            },
        },
        "/api/complaints/{reference}/compensations": {
            "parameters": [_REFERENCE],
            "post": {
                "operationId": "proposeCompensation",
                "summary": "Propose a compensation for a supervisor or admin to decide",
                "requestBody": _body(schemas.CompensationCreate),
                "responses": {"201": _json("ComplaintDetailEnvelope", detail), **_errors(*_WRITE_ERRORS)},
            },
        },
        "/api/compensations/{compensation_id}/decision": {
            "parameters": [_COMPENSATION_ID],
            "post": {
                "operationId": "decideCompensation",
                "summary": "Approve or reject a proposal (supervisors and admins; never one's own proposal)",
                "description": "An approved compensation becomes visible to the customer. A proposal is decided once.",
                "requestBody": _body(schemas.CompensationDecision),
                "responses": {"200": _json("ComplaintDetailEnvelope", detail), **_errors(*_WRITE_ERRORS)},
            },
        },
        "/api/categories": {
            "get": {
                "operationId": "listCategories",
                "summary": "Complaint categories with their names and SLA targets",
                "parameters": _query_parameters(schemas.CategoryListQuery),
                "responses": {"200": _json("CategoryList", "the active categories, or all with retired=true"), **_errors("invalid")},
            },
        },
        "/api/users": {
            "get": {
                "operationId": "listUsers",
                "summary": "Active staff, for assignee pickers",
                "responses": {"200": _json("UserList", "the staff"), **_errors()},
            },
        },
        "/api/reports/summary": {
            "get": {
                "operationId": "reportSummary",
                "summary": "A period's report: volumes by category and day, times, SLA, rates, compensation, CSAT, recurring problems",
                "description": "Supervisors and admins. Days are UTC; from and to are both included (at most 366 days); "
                "an empty parameter counts as absent; without any, the last 30 days.",
                "parameters": _query_parameters(ReportQuery, empty_is_absent=True),
                "responses": {"200": _json("ReportSummary", "the report"), **_errors("invalid", "forbidden")},
            },
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {"description": "the OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}},
                },
            },
        },
    }


def build_document() -> dict[str, Any]:
    components: dict[str, Schema] = dict(VIEWS)
    for model in REQUESTS:
        schema = _model_schema(model)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Chatserver complaints API",
            "version": "1",
            "description": "Complaints for integrations and the console. Errors are "
            '`{"error": {"code", "message"}}`; unknown fields are refused with `invalid`. '
            f"With the console's session cookie, POST and PATCH need the `{CSRF_HEADER}` header "
            "(the console page's `csrf-token` meta tag) and, when sent, a same-origin `Origin`.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": _paths(),
        "components": {
            "schemas": components,
            "responses": {
                name: _json("Error", _ERROR_TEXT[code]) for code, name in _ERROR_NAMES.items()
            },
            "securitySchemes": {
                "apiToken": {"type": "http", "scheme": "bearer", "description": "an API token issued to a console user"},
                "consoleSession": {
                    "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                    "description": f"the console's session; unsafe methods also need the {CSRF_HEADER} header",
                },
            },
        },
        "security": [{"apiToken": []}, {"consoleSession": []}],
    }
