"""The access log as structured records: one per request, its fields as extras (JSON keys with
`log_format=json`, a short readable line with `text`).

The path is logged without its query string, in both formats: tracking keys travel in it, and
aiohttp's default line (`%r`) would write them to the log.

`remote` is the client: the address a trusted proxy forwarded for, else the peer. `peer` is the direct
peer (the proxy, when there is one), so a line can be matched with the proxy's own log.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

# where the request middleware keeps the request's id, for this log (written after the handler)
REQUEST_ID_KEY = web.RequestKey("request_id", str)
# and the client's address as the forwarding rules worked it out
CLIENT_ADDRESS_KEY = web.RequestKey("client_address", str)


class AccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        duration_ms = round(time * 1000, 2)
        client = request.get(CLIENT_ADDRESS_KEY) or request.remote
        self.logger.info(
            "%s %s %s %s %.1f ms", client, request.method, request.path, response.status, duration_ms,
            extra={
                "request_id": request.get(REQUEST_ID_KEY),
                "remote": client,
                "peer": request.remote,
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "duration_ms": duration_ms,
                "bytes": response.body_length,
                "user_agent": request.headers.get("User-Agent"),
            },
        )
