"""The server process is SIGKILLed under an open widget, console and monitor, then started again.

All three pages come back by themselves (no reload, no click): the widget keeps a message written
while the server was gone and delivers it exactly once, the console shows the whole conversation
once and goes on talking, the monitor is live again. The server is a real subprocess on a fixed
port with a real SQLite file, restarted on the same port and database as a service manager would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, FrameLocator, Page, expect

from tests.browser import drive
from tests.faults import read_db
from tests.peers import CAST_PASSWORD
from tests.procs import ServerProcess, ServerProcesses, create_users

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The pages reconnect with socket.io-client's backoff (500 ms doubling to 4 s, ±50%): after a few
# seconds down, the next try can come up to 6 s after the server is back.
RECONNECT_MS = 20_000
# in the text of every console error Chromium logs for a connection that failed below HTTP (refused
# while the server is down): expected here, anything else is not
REFUSED = "net::ERR_"
STAFF = [("bob@example.test", "Bob", "agent", 2), ("sam@example.test", "Sam", "supervisor", 2)]


def env() -> dict[str, str]:
    # the same signing key across starts: the widget's token and the staff cookies must stay valid;
    # a generous grace so that Bob keeps the chat while his console finds the server again
    return {"CHATSERVER_SECRET_KEY": "crash-test-secret-kkkkkkkkkkkkkkkkkkkkkk", "CHATSERVER_AGENT_GRACE": "30", "CHATSERVER_QUEUE_TIMEOUT": "120"}




def stored_bodies(path: Path) -> list[str]:
    """Every message of every conversation, in the order the server numbered them."""
    with read_db(path) as conn:
        return [row[0] for row in conn.execute("SELECT body FROM messages ORDER BY conversation_id, seq")]


class PageProblems(drive.BrowserErrors):
    """Script errors and dialogs, and any error a page writes to its console other than a refused
    connection: a client that trips over the restart must fail the test even if it recovers."""

    def watch(self, page: Page) -> Page:
        def console(message: ConsoleMessage) -> None:
            if message.type == "error" and REFUSED not in message.text:
                self.errors.append(f"console error on {page.url}: {message.text}")

        page.on("console", console)
        return super().watch(page)


async def monitor(browser: Browser, url: str, errors: drive.BrowserErrors) -> Page:
    context = await drive.new_context(browser)
    page = await drive.sign_in(errors.watch(await context.new_page()), url, "sam@example.test", target="/monitor")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    return page


async def agent_says(bob: Page, frame: FrameLocator, body: str) -> None:
    await bob.fill("#composer-input", body)
    await bob.press("#composer-input", "Enter")
    await expect(frame.locator(".msg--agent .bubble").last).to_have_text(body)


async def customer_says(frame: FrameLocator, bob: Page, body: str) -> None:
    await drive.send_from_widget(frame, body)
    await expect(bob.locator("#transcript .line-customer .bubble").last).to_have_text(body)


async def test_the_widget_console_and_monitor_come_back_by_themselves_after_the_server_is_killed(
    browser: Browser, procs: ServerProcesses,
) -> None:
    server: ServerProcess = procs.server(env=env())
    await create_users(server.db, STAFF, CAST_PASSWORD)
    await server.start()
    errors = PageProblems()

    bob = errors.watch(await drive.console(browser, server.url, "bob@example.test"))
    sam = await monitor(browser, server.url, errors)
    customer = errors.watch(await (await drive.new_context(browser)).new_page())
    frame = await drive.open_widget(customer, server.url)  # the server's own demo page embeds the widget

    await drive.start_chat(frame, "My withdrawal has been pending since Monday", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await agent_says(bob, frame, "Let me check that for you")
    await customer_says(frame, bob, "It was 250 euros")
    await agent_says(bob, frame, "I can see it, one moment")
    before = ["My withdrawal has been pending since Monday", "Let me check that for you", "It was 250 euros", "I can see it, one moment"]
    await expect(bob.locator("#transcript .bubble")).to_have_text(before)
    bobs_card = sam.locator("#agents [data-agent-id]", has_text="Bob")
    await expect(bobs_card.locator(".agent-chat")).to_contain_text("Alice")

    server.kill()

    # every page says it lost the server, and none of them reloads
    await expect(frame.locator("#banner")).to_be_visible()
    await expect(frame.locator("#banner-text")).to_have_text("Connection lost. Reconnecting…")
    await expect(bob.locator("#banner")).to_be_visible()
    await expect(sam.locator("#live")).to_have_attribute("data-state", "reconnecting")
    await expect(sam.locator("#banner")).to_be_visible()

    # written while the server is gone: shown as unsent and kept in the browser, not in the database
    await drive.send_from_widget(frame, "Are you still there?")
    await expect(frame.locator(".msg.is-pending .bubble")).to_have_text(["Are you still there?"])
    kept = await drive.unsent_bodies(frame)
    assert kept == ["Are you still there?"], kept
    assert "Are you still there?" not in stored_bodies(server.db)

    await server.start()

    # the same pages, untouched: the indicators clear and the kept message goes out
    await expect(frame.locator("#banner")).to_be_hidden(timeout=RECONNECT_MS)
    await expect(bob.locator("#banner")).to_be_hidden(timeout=RECONNECT_MS)
    await expect(sam.locator("#live")).to_have_attribute("data-state", "live", timeout=RECONNECT_MS)
    await expect(sam.locator("#banner")).to_be_hidden()
    whole = [*before, "Are you still there?"]
    await expect(bob.locator("#transcript .bubble")).to_have_text(whole, timeout=RECONNECT_MS)
    await expect(frame.locator("#log .bubble")).to_have_text(whole)
    await expect(frame.locator(".msg.is-pending")).to_have_count(0)
    assert await drive.unsent_bodies(frame) == []

    # the console still holds the chat and talks to the same widget
    await agent_says(bob, frame, "Yes, it was approved just now")
    whole.append("Yes, it was approved just now")
    await expect(bob.locator("#transcript .bubble")).to_have_text(whole)
    await expect(frame.locator("#log .bubble")).to_have_text(whole)

    # the monitor gets pushes from the new process: Bob's chat, and a presence change made after the restart
    await expect(bobs_card.locator(".agent-chat")).to_contain_text("Alice")
    await bob.click("#presence [data-status=away]")
    await expect(bobs_card.locator(".agent-status-text")).to_have_text("Away")

    await customer.wait_for_timeout(500)  # a late duplicate from a second resend would show up by now
    await expect(bob.locator("#transcript .bubble")).to_have_text(whole)
    await expect(frame.locator("#log .bubble")).to_have_text(whole)
    assert stored_bodies(server.db) == whole  # every message stored, each exactly once
    assert errors.errors == []
