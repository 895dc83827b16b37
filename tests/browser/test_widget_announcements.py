"""What the widget's live regions announce: each message once, each change once, nothing for a redraw.

A MutationObserver in the frame records every node added inside a live region (tests/browser/announced.py):
a screen reader reads out what is added there, so a message added twice is read out twice."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import expect

from tests.browser import announced, drive

pytestmark = pytest.mark.browser


def times(texts: list[str], needle: str) -> int:
    return sum(needle in text for text in texts)


async def chatting(browser, live, name: str = "Alice"):
    bob = await drive.console(browser, live.url, "bob@example.test")
    page = await (await drive.new_context(browser)).new_page()
    frame = await drive.open_widget(page, live.url)
    await announced.record(frame)
    await drive.start_chat(frame, "My bet was settled as lost", name=name)
    await drive.open_chat_in_console(bob, name)
    await expect(frame.locator(".status--active")).to_be_visible()
    return bob, page, frame


async def test_the_customers_own_message_is_announced_once_not_again_when_it_is_sent(browser, live):
    bob, page, frame = await chatting(browser, live)
    await drive.send_from_widget(frame, "Where is my withdrawal?")
    mine = frame.locator(".msg--customer", has_text="Where is my withdrawal?")
    await expect(mine.locator(".msg-state-text")).to_have_text("Sent")
    await expect(bob.locator("#transcript .bubble", has_text="Where is my withdrawal?")).to_be_visible()
    log = await announced.taken(frame, "log")
    assert times(log, "Where is my withdrawal?") == 1, log
    assert times(log, "My bet was settled as lost") == 1, log


async def test_the_agent_closing_the_chat_is_added_to_the_log_once(browser, live):
    bob, page, frame = await chatting(browser, live)
    await bob.locator("#close-chat").click()
    await bob.locator("#close-submit").click()
    await expect(frame.locator("#closed-line")).to_have_text("Bob closed the chat")
    await expect(frame.locator(".end-card--ask")).to_be_visible()
    await asyncio.sleep(1.5)  # the history asked after the close has come back and been drawn
    log = await announced.taken(frame, "log")
    assert times(log, "closed the chat") == 1, log


async def test_switching_the_language_announces_nothing_already_in_the_log(browser, live):
    bob, page, frame = await chatting(browser, live)
    await drive.send_from_widget(frame, "Where is my withdrawal?")
    await expect(frame.locator(".msg--customer .msg-state-text")).to_have_text(["Sent", "Sent"])
    await bob.locator("#composer-input").fill("Let me look")
    await bob.locator("#composer-input").press("Enter")
    await expect(frame.locator(".msg--agent .bubble")).to_have_text(["Let me look"])
    await announced.taken(frame)

    await page.evaluate("Chatserver.setLocale('pl')")
    await expect(frame.locator("#tab-chat")).not_to_have_text(re.compile("Chat$"))
    await expect(frame.locator(".msg--customer .msg-state-text")).not_to_have_text(["Sent", "Sent"])
    await asyncio.sleep(1.5)  # the session the new language brings has come and caught up
    await expect(frame.locator("#log .bubble")).to_have_text(["My bet was settled as lost", "Where is my withdrawal?", "Let me look"])
    assert await announced.taken(frame, "log") == []
