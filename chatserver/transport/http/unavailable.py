"""Pages and forms answer 503 while the storage refuses a write, instead of a 500 and a traceback.

Nothing was saved and the person may simply try again, so that is what the page says. The JSON API
answers in its own shape (api_json.py) and never gets here.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web

from chatserver.domain.errors import Unavailable
from chatserver.transport.http.security import NO_STORE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RETRY_AFTER_SECONDS = 5


@web.middleware
async def storage_unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Unavailable:
        return web.Response(
            status=503,
            text="We could not save that just now. Nothing was changed; please try again in a moment.\n",
            content_type="text/plain",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), **NO_STORE},
        )
