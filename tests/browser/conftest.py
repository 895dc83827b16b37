"""Browser tests: the real server on a free port, Debian's Chromium driven through Playwright.

No browser is downloaded: Playwright launches the `chromium` executable that `.ci/run` installs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, async_playwright

from tests.conftest import RunningServer, StartServer, seed_cast
from tests.machine import cannot_run_here

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture
async def browser(start_server: StartServer) -> AsyncIterator[Browser]:
    """Chromium, closed before the server stops (open sockets would hold its shutdown)."""
    executable = chromium_path()
    if executable is None:
        cannot_run_here("no Chromium executable: install Debian's `chromium` package (.ci/run does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def live(start_server: StartServer) -> RunningServer:
    """The server with the test cast; generous limits because every test logs in through the form."""
    running = await start_server(logins_per_minute=1000, chat_starts_per_minute=1000, queue_timeout=120.0, agent_grace=30.0)
    await seed_cast(running.services)
    return running


class OperatorSite:
    """Another origin on loopback that embeds the widget, like an operator's own site would."""

    def __init__(self) -> None:
        self.html = "<!doctype html><title>Operator</title>"
        self.headers: dict[str, str] = {}
        self.server: TestServer | None = None

    @property
    def origin(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> "OperatorSite":
        app = web.Application()

        async def page(request: web.Request) -> web.Response:
            return web.Response(text=self.html, content_type="text/html", headers=self.headers)

        app.router.add_get("/", page)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self


@pytest.fixture
async def operator_site() -> AsyncIterator[OperatorSite]:
    site = await OperatorSite().start()
    yield site
    assert site.server is not None
    await site.server.close()
