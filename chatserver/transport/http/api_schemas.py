"""Request shapes of the JSON API: strict types, unknown fields refused, errors that name the field.

The OpenAPI document takes its request schemas from these models, so the contract and the checks
cannot drift apart. The services check the same limits again; these give the caller a clear `invalid`
before anything is touched.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from multidict import MultiMapping
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from chatserver.domain.complaint_lifecycle import STATUSES
from chatserver.domain.complaints import EMAIL_PATTERN
from chatserver.domain.errors import Invalid
from chatserver.domain.models import LOCALES
from chatserver.transport.schemas import Email, Level, Text

# one list of statuses and languages: the domain's
Status = Literal[STATUSES]  # type: ignore[valid-type]
Locale = Literal[LOCALES]  # type: ignore[valid-type]
Slug = Text(64, 1)
UserId = Text(64, 1)
ClientId = Text(64, 1)


# what str.strip() removes, spelled out: regular expression dialects disagree on what \s is
_BLANK = "".join(f"\\u{code:04x}" for code in range(0x3001) if chr(code).isspace())
_SAID = rf"^[^\u0000]*[^\u0000{_BLANK}][^\u0000]*$"


def Said(max_length: int) -> Any:
    """Text the services strip and refuse when nothing is left; the document says so with a pattern."""
    return Annotated[Text(max_length, 1), Field(json_schema_extra={"pattern": _SAID})]


# an address or nothing, surrounding spaces ignored: the services' rule (domain.complaints.plausible_email)
CustomerEmail = Annotated[Email, Field(json_schema_extra={"pattern": rf"^[{_BLANK}]*(?:{EMAIL_PATTERN})?[{_BLANK}]*$"})]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ComplaintCreate(Body):
    """A complaint that arrived by e-mail or phone, logged by staff."""

    category: Slug  # type: ignore[valid-type]
    subject: Said(200)  # type: ignore[valid-type]
    body: Said(10_000)  # type: ignore[valid-type]
    channel: Literal["email", "phone"]
    customer_email: CustomerEmail | None = None
    customer_name: Text(200) | None = None  # type: ignore[valid-type]
    locale: Locale = Field("en", description="the customer's language for e-mail notices")
    client_id: ClientId | None = Field(  # type: ignore[valid-type]
        None, description="the sender's own id for this complaint, made before the first try (a UUID): sent again, as a "
        "retry after a lost answer is, it answers with the complaint already logged instead of logging a second",
    )


class ComplaintUpdate(Body):
    """Each given field is one audited change, applied in the order status, category, assignee, in one
    transaction: when one is refused, none is made.
    Only `assignee_id` and `from_assignee_id` may be null (nobody holds it); an absent field is left as it is."""

    # the handler refuses an empty change and a from_assignee_id alone; the document says so
    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True,
        json_schema_extra={"minProperties": 1, "dependentRequired": {"from_assignee_id": ["assignee_id"]}},
    )

    status: Literal["in_progress"] = Field(None, description="pick the complaint up (start)")  # type: ignore[assignment]
    category: Slug = None  # type: ignore[valid-type]
    assignee_id: UserId | None = Field(None, description="a staff member's id; null lets it go")  # type: ignore[valid-type]
    from_assignee_id: UserId | None = Field(  # type: ignore[valid-type]
        None, description="with assignee_id: whom the caller saw it with (null: nobody); 409 conflict when that changed meanwhile",
    )


def _whole_number(value: Any) -> Any:
    # JSON has one number type, and JSON Schema's "integer" includes 5.0: a whole float is that integer
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class ReplyCreate(Body):
    """`reply` and `question` reach the customer (a question waits for their answer), `note` is staff
    only, `resolution` resolves the complaint with this text."""

    body: Said(10_000)  # type: ignore[valid-type]
    kind: Literal["reply", "question", "note", "resolution"]
    seen_entry_seq: Annotated[int, Field(ge=0, le=10**12), BeforeValidator(_whole_number)] | None = Field(
        None, description="the last thread entry (seq) the writer had read, 0 for none; a reply, question or resolution is "
        "409 conflict when the customer has written since (notes are never refused for it)",
    )
    client_id: ClientId | None = Field(  # type: ignore[valid-type]
        None, description="the writer's own id for this entry, made before the first try (a UUID): sent again, as a "
        "retry after a lost answer is, it answers with the entry already written instead of writing a second",
    )


class Escalation(Body):
    reason: Said(1_000)  # type: ignore[valid-type]
    from_level: Annotated[Level, BeforeValidator(_whole_number)] | None = Field(
        None, description="the level the caller saw; when someone (or the SLA) escalated it meanwhile, the answer is conflict",
    )


class CompensationCreate(Body):
    amount_minor: Annotated[
        int, Field(ge=1, le=10**9, description="in the currency's minor units (cents)"), BeforeValidator(_whole_number)
    ]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
    reason: Said(1_000)  # type: ignore[valid-type]


class CompensationDecision(Body):
    approve: bool
    note: Text(1_000) | None = None  # type: ignore[valid-type]


class ComplaintListQuery(BaseModel):
    # query values arrive as text: numbers are parsed from it, everything else stays strict
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status | None = None
    category: Slug | None = None  # type: ignore[valid-type]
    level: Level | None = None
    assignee: UserId | None = Field(None, description='a user id, "me" or "none" (unassigned)')  # type: ignore[valid-type]
    q: Text(200) | None = Field(None, description="words in the reference, subject or body")  # type: ignore[valid-type]
    sort: Literal["due", "newest"] = Field("due", description="due: soonest owed first; newest: latest created first")
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0


class CategoryListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    retired: Literal["true", "false"] = Field(
        "false", description="true: retired categories too (active false), for the names and filters of older complaints"
    )


class ChatPageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    after_seq: Annotated[int, Field(ge=0, le=10**12, description="the last seq already read; 0 for the start")] = 0


M = TypeVar("M", bound=BaseModel)


def _message(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "missing":
        return f"{where} is required"
    if error["type"] == "extra_forbidden":
        return f"unknown field {where}"
    return f"{where}: {error['msg']}"


def validate(model: type[M], data: Any) -> M:
    """The payload as `model`, or Invalid naming the first field that is wrong."""
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(_message(exc.errors()[0])) from None


def validate_query(model: type[M], query: MultiMapping[str]) -> M:
    """Query parameters as `model`; each may be given once."""
    values: dict[str, str] = {}
    for key, value in query.items():
        if key in values:
            raise Invalid(f"give {key} only once")
        values[key] = value
    return validate(model, values)
