"""A chat longer than one `history` page is whole in the console and in the widget, each page asked once."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from chatserver import keys
from tests.browser import drive
from tests.peers import client_id

pytestmark = pytest.mark.browser

LONG = 4000  # max_message_chars
COUNT = 560  # over 500 messages and 2 MB: more than one page by count and by bytes, twice a console's send queue


def history_requests(page: Page) -> list[int]:
    """The `after_seq` of every `history` request the page's sockets send, in order."""
    asked: list[int] = []

    def on_socket(ws) -> None:
        def sent(payload) -> None:
            found = re.search(r'\["history",\{.*"after_seq":(\d+)', payload) if isinstance(payload, str) else None
            if found:
                asked.append(int(found.group(1)))

        ws.on("framesent", sent)

    page.on("websocket", on_socket)
    return asked


async def test_a_long_chat_is_whole_in_the_console_when_assigned_and_in_the_widget_after_a_reload(browser, live):
    context = await drive.new_context(browser)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "1 first", name="Alice")  # nobody online: it waits
    widget_asked = history_requests(page)
    await page.goto("about:blank")  # the customer leaves the page and comes back when the chat is long
    chat = await live.services.db.fetch_one("SELECT * FROM conversations")
    customer = await live.services.db.fetch_one("SELECT * FROM customers WHERE id = ?", (chat["customer_id"],))

    async def customer_writes(seqs: range) -> None:
        for seq in seqs:
            await live.services.chats.post_customer_message(customer, chat["id"], client_id(), f"{seq} {'word ' * (LONG // 5)}"[:LONG])

    await customer_writes(range(2, COUNT + 1))
    bob = await drive.console(browser, live.url, "bob@example.test", online=False)
    console_asked = history_requests(bob)
    await bob.reload()  # so that its socket is watched from the start
    await bob.click("#presence [data-status=online]")
    # Alice has left the page, so routing passes her chat over: Bob takes it from the queue by hand
    waiting = bob.locator("#queue .queue-item")
    await expect(waiting.locator(".tag", has_text="Left")).to_be_visible()
    await waiting.locator("button", has_text="Take").click()
    await drive.open_chat_in_console(bob, "Alice")
    lines = bob.locator("#transcript .line-customer .bubble")
    await expect(lines).to_have_count(COUNT, timeout=20_000)
    await expect(lines.first).to_have_text("1 first")
    await expect(lines.last).to_contain_text(f"{COUNT} word")
    assert console_asked == sorted(set(console_asked)) and len(console_asked) > 1, console_asked
    drops = live.server.app[keys.METRICS].registry.get_sample_value("chatserver_slow_connections_dropped_total")
    assert drops == 0  # the console was never cut off for a frame too large
    await expect(bob.locator("#banner")).to_be_hidden()

    # a staff note in the middle: a seq the widget never gets, which must not make it fetch pages again
    await bob.click(".composer-modes [data-mode=note]")
    await bob.fill("#composer-input", "Staff only: one long chat")
    await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#transcript .line-note")).to_have_count(1)
    await bob.click(".composer-modes [data-mode=reply]")
    await bob.fill("#composer-input", "Reading it all now")
    await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#transcript .line-agent .bubble")).to_have_text(["Reading it all now"])
    await bob.context.close()
    await customer_writes(range(COUNT + 3, COUNT + 103))

    frame = await drive.open_widget(page, live.url)
    bubbles = frame.locator("#log .bubble")
    await expect(bubbles).to_have_count(COUNT + 101, timeout=20_000)
    await expect(bubbles.first).to_have_text("1 first")
    await expect(frame.locator("#log .msg--agent .bubble")).to_have_text(["Reading it all now"])  # and no note
    await expect(bubbles.last).to_contain_text(f"{COUNT + 102} word")
    await page.wait_for_timeout(300)
    assert widget_asked[0] == 0 and widget_asked == sorted(set(widget_asked)) and len(widget_asked) > 1, widget_asked
