"""A chat that closed, in the widget: the transcript says who closed it."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests import peers
from tests.browser import drive

pytestmark = pytest.mark.browser
REFERENCE = re.compile(r"^C-\d{4}-\d{6}$")


async def answered_chat(browser, live, *, locale: str = "en-US"):
    """Alice asks in the widget, Bob (a console socket) answers."""
    bob = await peers.agent(live.url, "bob@example.test")
    context = await drive.new_context(browser, locale=locale)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "Where is my refund?", name="Alice")
    conversation_id = (await bob.wait_for("chat:assigned"))["conversation"]["id"]
    ack = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": "It went out this morning."})
    assert ack["ok"], ack
    await expect(frame.locator(".msg--agent .bubble")).to_have_text(["It went out this morning."])
    await expect(frame.locator(".status--active")).to_be_visible()
    return bob, page, frame, conversation_id


async def test_the_transcript_says_who_closed_the_chat_in_the_customers_language(browser, live):
    bob, page, frame, conversation_id = await answered_chat(browser, live, locale="ru-RU")
    assert (await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    await expect(frame.locator("#log .msg--system")).to_have_text(["Bob завершил(а) чат"])
    await expect(frame.locator("#log .msg--system")).to_have_count(1)
    # the bar that said Bob is helping is gone; nothing says a live agent is still there
    await expect(frame.locator("#status")).to_be_hidden()
    await expect(frame.locator("#typing")).to_be_hidden()
    await bob.close()


async def test_a_chat_the_system_closed_says_so_without_a_name(browser, live):
    context = await drive.new_context(browser)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "Is anyone there?", name="Alice")
    await expect(frame.locator(".status--queued")).to_be_visible()
    conversation_id = (await live.services.db.fetch_one("SELECT id FROM conversations"))["id"]
    await live.services.chats.expire_wait(conversation_id)  # nobody took it in time

    await expect(frame.locator("#complaint-reference")).to_have_text(REFERENCE)
    await expect(frame.locator("#log .msg--system")).to_have_text(["The chat was closed"])
