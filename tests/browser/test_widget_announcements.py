"""What the widget's live regions announce: each message once, each change once, nothing for a redraw.

A MutationObserver in the frame records every node added inside a live region (tests/browser/announced.py):
a screen reader reads out what is added there, so a message added twice is read out twice."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import expect

from tests import peers
from tests.browser import announced, drive

pytestmark = pytest.mark.browser


def times(texts: list[str], needle: str) -> int:
    return sum(needle in text for text in texts)


async def chatting(browser, live, name: str = "Alice"):
    return await drive.chatting(browser, live.url, name, before_start=announced.record)


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


async def test_a_queue_update_that_changes_nothing_the_customer_sees_announces_nothing(browser, start_server):
    # Bob is busy with as many chats as he takes: Alice waits with an estimate, which moves with the clock
    running, busy = await drive.bob_at_capacity(start_server)

    page = await (await drive.new_context(browser)).new_page()
    updates: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: updates.append(data) if "queue:update" in str(data) else None))
    frame = await drive.open_widget(page, running.url)
    await drive.start_chat(frame, "Is anyone there?", name="Alice")
    status = frame.locator(".status--queued")
    await expect(status.locator(".status-title")).to_have_text("You're next in the queue")
    await expect(status.locator(".status-sub")).to_have_text(re.compile(r"^(about \d+ minutes?)$"))
    before = await status.inner_text()
    await announced.record(frame)
    seen = len(updates)

    # seconds later someone queues behind her: her estimate is sent again, a few seconds shorter
    await asyncio.sleep(6)
    behind = await peers.customer(running.url)
    assert (await behind.call("chat:start", {"body": "me too"}))["ok"]
    for _ in range(50):
        if len(updates) > seen:
            break
        await asyncio.sleep(0.1)
    assert len(updates) > seen, "no queue update reached the widget"
    await asyncio.sleep(0.5)
    assert await status.inner_text() == before  # still "about N minutes": nothing new to say
    assert await announced.taken(frame, "status") == []
    for peer in (*busy, behind):
        await peer.close()
