"""The per-address connect limit in Chromium: reloading the widget is not hurt at the default setting,
and a widget refused for too many connects from its address comes back by itself."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import WebSocket, expect

from tests.browser import drive
from tests.browser.test_monitor import monitor_page
from tests.conftest import seed_cast
from tests.peers import raw_session

pytestmark = pytest.mark.browser


async def test_reloading_the_widget_page_is_not_hurt_by_the_default_connect_limit(browser, live):
    errors = drive.BrowserErrors()
    context = await drive.new_context(browser)
    page = errors.watch(await context.new_page())
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "Reload me")
    for _ in range(10):
        await page.reload()
        frame = await drive.open_widget(page)
        await expect(frame.locator("#log .bubble").first).to_have_text("Reload me")
        await expect(frame.locator("#banner")).to_be_hidden()
    await drive.send_from_widget(frame, "Still here")
    await expect(frame.locator("#log .bubble")).to_have_text(["Reload me", "Still here"])
    assert errors.errors == []


async def test_a_widget_refused_for_too_many_connects_comes_back_by_itself(browser, start_server):
    server = await start_server(socket_connects_per_minute=12)  # one more every five seconds
    await seed_cast(server.services)
    context = await drive.new_context(browser)
    page = await context.new_page()
    refusals: list[str] = []

    def watch(ws: WebSocket) -> None:
        ws.on("framereceived", lambda frame: refusals.append(str(frame)) if "rate_limited" in str(frame) else None)

    page.on("websocket", watch)
    frame = await drive.open_widget(page, server.url)
    await drive.start_chat(frame, "Before the flood")

    # a script on the same address (a shared NAT) uses up the connects
    async with aiohttp.ClientSession() as http:
        ws, socket = await raw_session(http, server.url)
        while "sid" in (answer := await socket.connect("/customer")):
            await socket.leave("/customer")
        assert answer["data"]["code"] == "rate_limited"
        await ws.close()

    await page.reload()
    frame = await drive.open_widget(page)
    # refused at first, then it tries again by itself and catches up
    await expect(frame.locator("#log .bubble").first).to_have_text("Before the flood", timeout=25_000)
    assert refusals, "the widget was never refused: the flood did not use up the limit"
    await drive.send_from_widget(frame, "After the flood")
    await expect(frame.locator("#log .bubble")).to_have_text(["Before the flood", "After the flood"])


async def test_the_console_and_the_monitor_refused_for_too_many_connects_come_back_by_themselves(browser, start_server):
    server = await start_server(socket_connects_per_minute=12, logins_per_minute=1000)
    await seed_cast(server.services)
    bob = await drive.console(browser, server.url, "bob@example.test", online=False)
    sam = await monitor_page(browser, server.url)
    async with aiohttp.ClientSession() as http:
        ws, socket = await raw_session(http, server.url)
        while "sid" in await socket.connect("/customer"):
            await socket.leave("/customer")
        await ws.close()

    await bob.reload()
    await sam.reload()
    await expect(bob.locator("#banner")).to_be_visible()  # refused: it says so...
    await expect(bob.locator("#banner")).to_be_hidden(timeout=30_000)  # ...and comes back by itself
    await expect(bob.locator("#presence [aria-checked=true]")).to_have_count(1)
    await expect(sam.locator("#live")).to_have_attribute("data-state", "live", timeout=30_000)
