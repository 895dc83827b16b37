"""JSON in and out for the API: request bodies within limits, answers, and errors as the contract says.

Every failure under /api/ (an unknown route included) is `{"error": {"code", "message"}}` with the
status from domain/errors.HTTP_STATUS; never an HTML page or a redirect.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable

from aiohttp import web

from chatserver.domain.errors import HTTP_STATUS, ChatError, Invalid, TooLarge
from chatserver.transport.http.security import NO_STORE

log = logging.getLogger(__name__)

# the largest body the contract allows (a complaint's 10,000-character description and 200-character
# subject) still fits when a JSON encoder writes every character as an escaped surrogate pair, 12 bytes
# each, as encoders that escape non-ASCII text do (Python's json by default)
MAX_BODY_BYTES = 128 * 1024
# personal data: no shared cache may keep an answer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def answer(data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers={**NO_STORE, **(headers or {})})


def error_answer(code: str, message: str, status: int | None = None, headers: dict[str, str] | None = None) -> web.Response:
    return answer({"error": {"code": code, "message": message}}, status or HTTP_STATUS[code], headers)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def json_body(request: web.Request) -> Any:
    """The request's JSON value; Invalid for another content type or malformed JSON, TooLarge past MAX_BODY_BYTES."""
    if request.content_type != "application/json":
        raise Invalid("send the body as application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise TooLarge(f"the body is larger than {MAX_BODY_BYTES // 1024} KB")
    raw = await request.read()
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge(f"the body is larger than {MAX_BODY_BYTES // 1024} KB")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError):
        raise Invalid("the body is not valid JSON") from None
    except RecursionError:
        raise Invalid("the body is nested too deeply") from None


# aiohttp's own refusals (routing, body size) in the contract's words
_HTTP_CODES = {404: "not_found", 405: "invalid", 413: "too_large"}


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ChatError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.code == "unauthorized" else None
        return error_answer(exc.code, exc.message, headers=headers)
    except web.HTTPException as exc:
        if exc.status == 404:
            return error_answer("not_found", "no such API route")
        if exc.status == 405:
            allowed = ", ".join(sorted(getattr(exc, "allowed_methods", ())))
            return error_answer("invalid", f"{request.method} is not allowed here; use {allowed}", 405, {"Allow": allowed})
        code = _HTTP_CODES.get(exc.status, "invalid" if exc.status < 500 else "internal")
        return error_answer(code, exc.reason, exc.status if exc.status >= 400 else 500)
    except Exception:
        log.exception("API request failed: %s %s", request.method, request.path)
        return error_answer("internal", "something went wrong on our side")
