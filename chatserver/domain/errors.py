"""Typed errors with the contract's stable codes; transport turns them into error acks and HTTP statuses."""

from __future__ import annotations

CODES = (
    "invalid",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "rate_limited",
    "too_large",
    "unavailable",
    "internal",
)

HTTP_STATUS = {
    "invalid": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "rate_limited": 429,
    "internal": 500,
    "unavailable": 503,
}


class ChatError(Exception):
    code = "internal"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # which rule refused, where one code covers several a client words differently (a stable name)
        self.reason = reason

    def as_payload(self) -> dict:
        payload = {"code": self.code, "message": self.message}
        if self.reason is not None:
            payload["reason"] = self.reason
        return payload


class Invalid(ChatError):
    code = "invalid"


class Unauthorized(ChatError):
    code = "unauthorized"


class Forbidden(ChatError):
    code = "forbidden"


class NotFound(ChatError):
    code = "not_found"


class Conflict(ChatError):
    code = "conflict"


class RateLimited(ChatError):
    code = "rate_limited"


class TooLarge(ChatError):
    code = "too_large"


class Unavailable(ChatError):
    code = "unavailable"
