"""A real HTTP receiver for webhooks (aiohttp, on a free port) that keeps what arrives and answers
with the statuses it is told to, in order."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Receiver:
    url: str = ""
    # statuses to answer with, first to last; 200 once they run out
    answers: list[int] = field(default_factory=list)
    # seconds to wait before answering (to make a sender time out)
    delay: float = 0.0
    received: list[Delivery] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Delivery({k.lower(): v for k, v in request.headers.items()}, await request.read()))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status, text="thanks" if status < 300 else "not now")


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/chatserver", receiver.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    receiver.url = str(server.make_url("/hooks/chatserver"))
    try:
        yield receiver
    finally:
        await server.close()
