"""The access log as structured records: one per request, its fields as extras (JSON keys with
`log_format=json`, a short readable line with `text`).

The path is logged without its query string, in both formats: tracking keys travel in it, and
aiohttp's default line (`%r`) would write them to the log.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

# where the request middleware keeps the request's id, for this log (written after the handler)
REQUEST_ID_KEY = web.RequestKey("request_id", str)


class AccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        duration_ms = round(time * 1000, 2)
        self.logger.info(
            "%s %s %s %s %.1f ms", request.remote, request.method, request.path, response.status, duration_ms,
            extra={
                "request_id": request.get(REQUEST_ID_KEY),
                "remote": request.remote,
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "duration_ms": duration_ms,
                "bytes": response.body_length,
                "user_agent": request.headers.get("User-Agent"),
            },
        )
