"""The widget on operators' real pages: their CSS, their CSP, their ways of adding the tag, and
browsers that refuse the chat frame its storage."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser import drive
from tests.conftest import seed_cast

pytestmark = pytest.mark.browser

# what a browser that blocks third-party storage does to the chat frame: every use of localStorage throws
STORAGE_REFUSED = """(() => {
  if (location.origin !== %r) return;
  Object.defineProperty(window, 'localStorage', {
    configurable: true,
    get() { throw new DOMException("Failed to read the 'localStorage' property from 'Window': Access is denied for this document.", 'SecurityError'); },
  });
})();"""


async def test_without_storage_the_chat_survives_a_lost_connection_for_the_page_view(browser, start_server, operator_site):
    server = await start_server(allowed_origins=(operator_site.origin,), chat_starts_per_minute=1000)
    await seed_cast(server.services)
    operator_site.html = f'<!doctype html><title>Casino</title><body><script src="{server.url}/widget.js" async></script></body>'
    bob = await drive.console(browser, server.url, "bob@example.test")
    errors = drive.BrowserErrors()
    context = await drive.new_context(browser)
    await context.add_init_script(STORAGE_REFUSED % server.url)
    page = errors.watch(await context.new_page())
    await page.goto(f"{operator_site.origin}/")
    frame = await drive.open_widget(page)
    assert await frame.locator("body").evaluate("() => { try { localStorage; return false; } catch { return true; } }")
    await drive.start_chat(frame, "Hello", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await bob.locator("#composer-input").fill("Hi Alice")
    await bob.locator("#composer-input").press("Enter")
    await expect(frame.locator("#log .bubble")).to_have_text(["Hello", "Hi Alice"])

    # the connection drops and comes back: still Alice, still this chat, and what she wrote meanwhile arrives
    await context.set_offline(True)
    await expect(frame.locator("#banner")).to_be_visible()
    await drive.send_from_widget(frame, "Written while offline")
    await context.set_offline(False)
    await expect(frame.locator("#banner")).to_be_hidden(timeout=15_000)
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(["Hello", "Written while offline"])
    await expect(frame.locator("#log .bubble")).to_have_text(["Hello", "Hi Alice", "Written while offline"])
    await expect(frame.locator(".status--active .status-title")).to_have_text("Bob")
    assert len(await server.services.db.fetch("SELECT id FROM customers")) == 1
    assert errors.errors == []
    await context.close()
