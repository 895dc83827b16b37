"""One customer with the widget open in two tabs of one browser, which share its storage."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from playwright.async_api import expect

from tests import peers
from tests.browser import drive
from chatserver.app import SIO
from tests.conftest import eventually

pytestmark = pytest.mark.browser


async def chatting_in_two_tabs(browser, live):
    """Alice's widget open in two tabs of one browser, her chat (started in the first) with Bob."""
    bob = await peers.agent(live.url, "bob@example.test")
    context = await drive.new_context(browser)
    first = await drive.open_widget(await context.new_page(), live.url)
    await eventually(lambda: first.locator("#log").evaluate("() => Boolean(localStorage.getItem('chatserver.token'))"))
    second = await drive.open_widget(await context.new_page(), live.url)
    await drive.start_chat(first, "My deposit is missing", name="Alice")
    conversation_id = (await bob.wait_for("chat:assigned"))["conversation"]["id"]
    return bob, first, second, conversation_id


async def test_two_tabs_send_each_unsent_message_once(browser, live):
    """Messages written offline in both tabs, some at the same moment, are all kept, and each reaches
    the agent once when the connection is back, however many tabs resend them."""
    errors = drive.BrowserErrors()
    bob = await peers.agent(live.url, "bob@example.test")
    context = await drive.new_context(browser)
    first_page = errors.watch(await context.new_page())
    first = await drive.open_widget(first_page, live.url)
    await eventually(lambda: first.locator("#log").evaluate("() => Boolean(localStorage.getItem('chatserver.token'))"))
    second_page = errors.watch(await context.new_page())
    second = await drive.open_widget(second_page, live.url)
    customers = live.server.app[SIO].namespace_handlers["/customer"]
    await eventually(lambda: len(customers.connections) == 2)
    await drive.start_chat(first, "My deposit is missing", name="Alice")
    conversation_id = (await bob.wait_for("chat:assigned"))["conversation"]["id"]
    await expect(second.locator(".status--active")).to_be_visible()
    await expect(second.locator("#log .bubble")).to_have_text(["My deposit is missing"])

    await context.set_offline(True)
    await expect(first.locator("#banner")).to_be_visible()
    await expect(second.locator("#banner")).to_be_visible()
    written: dict[str, list[str]] = {"first": [], "second": []}
    for n in range(4):
        at = await first.locator("#log").evaluate("() => Date.now() + 200")
        await asyncio.gather(
            first.locator("#log").evaluate(drive.SEND_AT, [f"first tab {n}", at]),
            second.locator("#log").evaluate(drive.SEND_AT, [f"second tab {n}", at]),
        )
        written["first"].append(f"first tab {n}")
        written["second"].append(f"second tab {n}")
    await expect(first.locator(".msg.is-pending .bubble")).to_have_text(written["first"])
    await expect(second.locator(".msg.is-pending .bubble")).to_have_text(written["second"])
    everything = written["first"] + written["second"]

    await context.set_offline(False)
    await expect(first.locator("#banner")).to_be_hidden(timeout=15_000)
    await expect(second.locator("#banner")).to_be_hidden(timeout=15_000)
    for frame in (first, second):  # none left "Sending…": each went out from one tab or the other
        await expect(frame.locator(".msg.is-pending")).to_have_count(0, timeout=15_000)
        await expect(frame.locator("#log .bubble")).to_have_count(1 + len(everything))
    await first_page.wait_for_timeout(500)  # a late resend would show up by now

    rows = await live.services.db.fetch(
        "SELECT body FROM messages WHERE conversation_id = ? AND sender = 'customer' ORDER BY seq", (conversation_id,)
    )
    stored = [row["body"] for row in rows]
    assert Counter(stored) == Counter(["My deposit is missing", *everything]), stored
    for tab in written.values():  # each tab's own messages in the order they were written
        assert [body for body in stored if body in tab] == tab, stored
    assert sorted(m["body"] for m in bob.received("message:new") if m["body"] in everything) == sorted(everything)
    for frame in (first, second):
        await expect(frame.locator("#log .bubble")).to_have_text(stored)
    assert await drive.unsent_bodies(first) == []
    assert errors.errors == []
    await bob.close()


async def test_a_chat_ended_as_solved_in_one_tab_asks_for_the_rating_in_the_other(browser, live):
    """The customer answered "solved" in one tab: the other tab does not ask again (where a "no"
    would have turned a settled chat into a complaint), it offers the rating, as the first does."""
    bob, first, second, conversation_id = await chatting_in_two_tabs(browser, live)
    ack = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": "It is back now."})
    assert ack["ok"], ack
    for frame in (first, second):
        await expect(frame.locator(".msg--agent .bubble")).to_have_text(["It is back now."])

    await first.locator(".status--active .btn").click()
    await first.locator(".end-card--ask .btn-primary").click()
    for frame in (first, second):
        await expect(frame.locator(".end-card--rate")).to_be_visible()
        await expect(frame.locator(".end-card--ask")).to_have_count(0)
    await second.locator(".star").nth(4).click()
    await second.locator(".end-card--rate .btn-primary").click()
    await expect(second.locator(".end-card--thanks")).to_be_visible()
    assert await live.services.db.fetch("SELECT score FROM ratings") == [{"score": 5}]
    assert await live.services.db.fetch("SELECT id FROM complaints") == []
    await bob.close()


async def test_an_answer_to_was_it_solved_in_one_tab_moves_the_other_tab_on_too(browser, live):
    """The agent closed the chat and both tabs ask "Was your problem solved?": "yes" in one turns the
    other to the rating as well, and a rating given there thanks the customer in the first."""
    bob, first, second, conversation_id = await chatting_in_two_tabs(browser, live)
    assert (await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    for frame in (first, second):
        await expect(frame.locator(".end-card--ask")).to_be_visible()

    await first.locator(".end-card--ask .btn-primary").click()
    for frame in (first, second):
        await expect(frame.locator(".end-card--rate")).to_be_visible()
    await second.locator(".star").nth(3).click()
    await second.locator(".end-card--rate .btn-primary").click()
    for frame in (first, second):
        await expect(frame.locator(".end-card--thanks")).to_be_visible()
    assert await live.services.db.fetch("SELECT score FROM ratings") == [{"score": 4}]
    assert await live.services.db.fetch("SELECT id FROM complaints") == []
    await bob.close()
