"""A chat that closed, in the widget: the transcript says who closed it, and it survives a reload
with the ending it would have shown live, until the customer starts another."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests import peers
from tests.browser import drive
from tests.conftest import eventually

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


async def reopen(page):
    await page.reload()
    return await drive.open_widget(page)


async def test_a_chat_the_agent_closed_survives_reloads_until_the_customer_starts_another(browser, live):
    bob, page, frame, conversation_id = await answered_chat(browser, live)
    assert (await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    await expect(frame.locator(".end-card--ask")).to_be_visible()

    # the question is still there after a reload, below the whole conversation and who closed it
    frame = await reopen(page)
    await expect(frame.locator("#home")).to_be_hidden()
    await expect(frame.locator("#log .bubble")).to_have_text(["Where is my refund?", "It went out this morning."])
    await expect(frame.locator("#log .msg--system")).to_have_text(["Bob closed the chat"])
    await expect(frame.locator(".end-card--ask .end-title")).to_have_text("Was your problem solved?")
    await expect(frame.locator("#status")).to_be_hidden()
    await expect(frame.locator("#composer")).to_be_hidden()
    await expect(frame.locator(".end-card--ask .link")).to_have_text("Start a new chat")

    # answered "solved": the next visit asks for the rating, not the question again
    await frame.locator(".end-card--ask .btn-primary").click()
    await expect(frame.locator(".end-card--rate")).to_be_visible()
    frame = await reopen(page)
    await expect(frame.locator(".end-card--rate")).to_be_visible()
    await expect(frame.locator(".end-card--ask")).to_have_count(0)

    # rated: the next visit thanks, it does not ask for a rating again
    await frame.locator(".star").nth(4).click()
    await frame.locator(".end-card--rate .btn-primary").click()
    await expect(frame.locator(".end-card--thanks")).to_be_visible()
    frame = await reopen(page)
    await expect(frame.locator(".end-card--thanks")).to_be_visible()
    await expect(frame.locator("#log .bubble")).to_have_count(2)
    rows = await live.services.db.fetch("SELECT score FROM ratings WHERE conversation_id = ?", (conversation_id,))
    assert rows == [{"score": 5}]

    # a new chat: the old one is forgotten
    await frame.locator(".end-card--thanks .btn", has_text="Start a new chat").click()
    await expect(frame.locator("#home")).to_be_visible()
    frame = await reopen(page)
    await expect(frame.locator("#home")).to_be_visible()
    await expect(frame.locator("#live")).to_be_hidden()
    await bob.close()


async def test_not_solved_after_a_reload_files_the_complaint_and_keeps_showing_its_reference(browser, live):
    bob, page, frame, conversation_id = await answered_chat(browser, live)
    assert (await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    await expect(frame.locator(".end-card--ask")).to_be_visible()
    await page.close()

    # back later in a new page: the same chat, still answerable
    page = await page.context.new_page()
    frame = await drive.open_widget(page, live.url)
    await frame.locator(".end-card--ask .btn-secondary").click()
    await expect(frame.locator("#complaint-reference")).to_have_text(REFERENCE)
    reference = await frame.locator("#complaint-reference").inner_text()

    frame = await reopen(page)
    await expect(frame.locator("#complaint-reference")).to_have_text(reference)
    await expect(frame.locator(".end-card--ask")).to_have_count(0)
    follow = frame.locator(".end-card--complaint a")
    assert (await follow.get_attribute("href")).startswith(f"/track/{reference}?key=")
    await bob.close()


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
    frame = await reopen(page)
    await expect(frame.locator("#complaint-reference")).to_have_text(REFERENCE)
    await expect(frame.locator("#log .msg--system")).to_have_text(["The chat was closed"])


async def test_a_chat_the_customer_ended_as_solved_asks_for_the_rating_after_a_reload(browser, live):
    bob, page, frame, conversation_id = await answered_chat(browser, live)
    await frame.locator(".status--active .btn").click()
    await frame.locator(".end-card--ask .btn-primary").click()
    await expect(frame.locator(".end-card--rate")).to_be_visible()
    await expect(frame.locator("#log .msg--system")).to_have_count(0)  # the customer knows who closed it

    frame = await reopen(page)
    await expect(frame.locator("#log .bubble")).to_have_text(["Where is my refund?", "It went out this morning."])
    await expect(frame.locator(".end-card--rate")).to_be_visible()
    await frame.locator(".end-card--rate .btn-ghost").click()  # skip
    await expect(frame.locator(".end-card--ended")).to_be_visible()
    frame = await reopen(page)
    await expect(frame.locator(".end-card--ended")).to_be_visible()
    await bob.close()


async def test_too_late_to_say_not_solved_a_reload_offers_the_rating_instead_of_the_question(browser, live):
    bob, page, frame, conversation_id = await answered_chat(browser, live)
    assert (await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    await expect(frame.locator(".end-card--ask")).to_be_visible()
    async with live.services.db.transaction() as tx:  # closed a day and a bit ago
        await tx.execute("UPDATE conversations SET closed_at = ? WHERE id = ?", ("2020-01-01T00:00:00.000Z", conversation_id))

    frame = await reopen(page)
    await expect(frame.locator(".end-card--rate")).to_be_visible()
    await expect(frame.locator(".end-card--ask")).to_have_count(0)
    await expect(frame.locator("#log .msg--system")).to_have_text(["Bob closed the chat"])
    await bob.close()


async def test_the_widget_names_the_supervisor_who_closed_an_agents_chat(browser, live):
    """Sam, a supervisor, closes the chat Bob answered: the line under the transcript names Sam,
    live and after a reload, not the agent who held the chat."""
    bob, page, frame, conversation_id = await answered_chat(browser, live)
    sam = await peers.agent(live.url, "sam@example.test", online=False)
    assert (await sam.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    await expect(frame.locator(".end-card--ask")).to_be_visible()
    await expect(frame.locator("#log .msg--system")).to_have_text(["Sam closed the chat"])
    frame = await reopen(page)
    await expect(frame.locator("#log .msg--system")).to_have_text(["Sam closed the chat"])
    await sam.close()
    await bob.close()


async def test_a_remembered_chat_that_is_gone_leaves_the_start_form(browser, live):
    context = await drive.new_context(browser)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "Hello?", name="Alice")
    await frame.locator(".status--queued .btn").click()
    await frame.locator(".end-card--leave .btn-danger").click()
    await expect(frame.locator(".end-card--ended")).to_be_visible()
    # remembered as a chat that the server no longer knows (or that is another customer's)
    await frame.locator("#log").evaluate(
        """() => { const last = JSON.parse(localStorage.getItem('chatserver.last'));
                   localStorage.setItem('chatserver.last', JSON.stringify({...last, id: 'no-such-chat'})); }""")
    frame = await reopen(page)
    # the widget asked for it, heard it does not exist, and forgot it
    await eventually(lambda: forgotten(frame))
    await expect(frame.locator("#home")).to_be_visible()
    await expect(frame.locator("#live")).to_be_hidden()


async def test_a_chat_that_closed_days_ago_is_not_shown_again(browser, live):
    bob, page, frame, conversation_id = await answered_chat(browser, live)
    assert (await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    await frame.locator(".end-card--ask .btn-primary").click()  # solved
    await frame.locator(".end-card--rate .btn-ghost").click()  # no rating
    frame = await reopen(page)
    await expect(frame.locator(".end-card--ended")).to_be_visible()  # the same day: still there
    # two days later (as the widget's storage sees it): the visitor starts afresh
    await frame.locator("#log").evaluate(
        """() => { const last = JSON.parse(localStorage.getItem('chatserver.last'));
                   localStorage.setItem('chatserver.last', JSON.stringify({...last, at: Date.now() - 2 * 86400000})); }""")
    frame = await reopen(page)
    await expect(frame.locator("#home")).to_be_visible()
    await expect(frame.locator("#live")).to_be_hidden()
    await bob.close()


async def forgotten(frame) -> bool:
    return await frame.locator("#log").evaluate("() => localStorage.getItem('chatserver.last')") is None


async def test_the_question_after_a_reload_can_be_left_for_a_new_chat(browser, live):
    bob, page, frame, conversation_id = await answered_chat(browser, live)
    assert (await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    frame = await reopen(page)
    await frame.locator(".end-card--ask .link", has_text="Start a new chat").click()
    await expect(frame.locator("#home")).to_be_visible()
    await drive.start_chat(frame, "Another question", topic_index=None)
    await expect(frame.locator("#log .bubble")).to_have_text(["Another question"])
    await expect(frame.locator("#log .msg--system")).to_have_count(0)
    frame = await reopen(page)
    await expect(frame.locator(".status--active, .status--queued")).to_be_visible()
    await expect(frame.locator("#log .bubble")).to_have_text(["Another question"])
    await bob.close()


async def test_the_last_chat_shown_again_while_the_widget_is_closed_leaves_the_focus_on_the_host_page(browser, live):
    bob, page, frame, conversation_id = await answered_chat(browser, live)
    assert (await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]
    await expect(frame.locator(".end-card--ask")).to_be_visible()
    await page.locator("button.launcher").click()  # closed
    await page.reload()
    await page.evaluate("() => { const input = document.createElement('input'); input.id = 'search'; document.body.prepend(input); input.focus(); }")
    frame = page.frame_locator("#chatserver-frame")
    await expect(frame.locator(".end-card--ask")).to_have_count(1)  # drawn, out of sight
    await page.wait_for_timeout(300)
    assert await page.evaluate("() => document.activeElement.id") == "search"
    await bob.close()
