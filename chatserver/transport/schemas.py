"""The shape of every inbound payload. Strict types: a number is not a string, an object is not an id."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from chatserver.domain.complaints import plausible_email
from chatserver.domain.errors import Invalid, TooLarge


def _valid_unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text is not valid Unicode") from None
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


def _email(value: str) -> str:
    """An address the customer typed: one that e-mail notices can reach, or nothing."""
    value = value.strip()
    if value and not plausible_email(value):
        raise ValueError("not an e-mail address that mail can reach; write it like name@example.com")
    return value


def _contact(value: str) -> str:
    """An address the operator's backend vouches for: kept as contact data (e-mail notices go only to
    an address that mail can reach), and never a reason to refuse the player's sign-in."""
    value = value.strip()
    if value and ("@" not in value or any(c in value for c in " \r\n<>,;") or value.startswith("@")):
        raise ValueError("not a valid e-mail address")
    return value


# what _valid_unicode refuses, as far as a JSON Schema can say it (the OpenAPI document shows it)
NO_NUL = {"pattern": "^[^\\u0000]*$"}


def Text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length, json_schema_extra=NO_NUL), AfterValidator(_valid_unicode)
    ]


Id = Text(64, 1)
# SQLite's INTEGER is 64-bit: a larger number cannot even be bound as a query parameter
Seq = Annotated[int, Field(ge=0, le=2**63 - 1)]
Level = Annotated[int, Field(ge=1, le=3)]  # a complaint's escalation level
# The body's upper bound is checked against the settings (too_large), not here.
Body = Annotated[str, Field(min_length=1), AfterValidator(_valid_unicode)]
Email = Annotated[str, Field(max_length=254, json_schema_extra=NO_NUL), AfterValidator(_valid_unicode), AfterValidator(_email)]
ContactEmail = Annotated[str, Field(max_length=254, json_schema_extra=NO_NUL), AfterValidator(_valid_unicode), AfterValidator(_contact)]


class Payload(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Empty(Payload):
    pass


# -- /customer ----------------------------------------------------------------------------


class Identity(Payload):
    external_id: Text(128, 1)  # type: ignore[valid-type]
    name: Text(120) | None = None  # type: ignore[valid-type]
    email: ContactEmail | None = None
    expires: int
    signature: Text(128, 1)  # type: ignore[valid-type]


class CustomerAuth(Payload):
    token: Text(128, 1) | None = None  # type: ignore[valid-type]
    locale: Text(8) | None = None  # type: ignore[valid-type]
    identity: Identity | None = None


class ChatStart(Payload):
    topic: Text(64, 1) | None = None  # type: ignore[valid-type]
    body: Body | None = None
    name: Text(120) | None = None  # type: ignore[valid-type]
    email: Email | None = None


class MessageSend(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    client_id: Id  # type: ignore[valid-type]
    body: Body


class History(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    after_seq: Seq = 0


class Typing(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    typing: bool


class ChatEnd(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    resolved: bool | None = None


class Rating(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Text(2000) | None = None  # type: ignore[valid-type]


class ComplaintSubmit(Payload):
    category: Text(64, 1)  # type: ignore[valid-type]
    subject: Text(200, 1)  # type: ignore[valid-type]
    body: Text(10000, 1)  # type: ignore[valid-type]
    email: Email | None = None
    # made by the form before its first try: the same one again is the complaint already filed
    client_id: Id | None = None  # type: ignore[valid-type]


Reference = Text(32, 1)


class ComplaintGet(Payload):
    reference: Reference  # type: ignore[valid-type]


class ComplaintReply(Payload):
    """A message to the team; on a resolved complaint also the customer's decision."""

    reference: Reference  # type: ignore[valid-type]
    body: Body | None = None
    decision: Literal["accept", "clarify"] | None = None

    @model_validator(mode="after")
    def _body_unless_accepting(self) -> "ComplaintReply":
        # accepting says everything; a message or a request for more must say what
        if self.decision != "accept" and not (self.body or "").strip():
            raise ValueError("body is required unless the decision is accept")
        return self


class ComplaintRate(Payload):
    reference: Reference  # type: ignore[valid-type]
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Text(2000) | None = None  # type: ignore[valid-type]


# -- /agent and /monitor ------------------------------------------------------------------


class ConsoleAuth(Payload):
    """Without a token the session cookie decides; ours are ~46 characters."""

    token: Text(256, 1) | None = None  # type: ignore[valid-type]



class PresenceSet(Payload):
    status: Literal["online", "away", "offline"]


class AgentMessageSend(MessageSend):
    internal: bool = False


class ChatClose(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    outcome: Literal["resolved", "complaint"]
    category: Text(64, 1) | None = None  # type: ignore[valid-type]
    summary: Text(2000) | None = None  # type: ignore[valid-type]


class ChatTransfer(Payload):
    conversation_id: Id  # type: ignore[valid-type]
    to_agent_id: Id | None = None  # type: ignore[valid-type]


class ChatTake(Payload):
    conversation_id: Id  # type: ignore[valid-type]


class KnowledgeSearch(Payload):
    """`canned:search` and `faq:search`: words or a shortcut prefix, in the conversation's language."""

    query: Text(200) = ""  # type: ignore[valid-type]
    locale: Text(8) | None = None  # type: ignore[valid-type]


class CustomerHistory(Payload):
    conversation_id: Id  # type: ignore[valid-type]


@functools.cache  # per schema, once: it is asked on every event
def body_bound_by_settings(schema: type[Payload]) -> bool:
    """Whether the payload's `body` is a message (`Body`: as long as `max_message_chars` allows, else
    too_large) rather than a text with a length of its own, as a complaint form's description."""
    field = schema.model_fields.get("body")
    return field is not None and not any(getattr(rule, "max_length", None) for rule in field.metadata)


def parse(schema: type[Payload], args: tuple, max_body: int | None = None) -> Payload:
    """Turn the event's arguments into a validated payload, or raise a contract error."""
    if len(args) == 0:
        data: Any = {}
    elif len(args) == 1:
        data = args[0]
    else:
        raise Invalid("send exactly one payload object")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Invalid("the payload must be a JSON object")
    body = data.get("body")
    if max_body is not None and isinstance(body, str) and len(body) > max_body:
        raise TooLarge(f"the message is longer than {max_body} characters")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        raise Invalid(f"{where}: {first['msg']}") from None
    except RecursionError:
        raise Invalid("the payload is nested too deeply") from None
