"""How chats end in the widget: solved and rated, not solved (a complaint), or closed by the agent."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser import drive

pytestmark = pytest.mark.browser
REFERENCE = re.compile(r"^C-\d{4}-\d{6}$")


async def chatting(browser, live, name: str = "Alice"):
    return await drive.chatting(browser, live.url, name)


async def test_not_solved_turns_the_chat_into_a_complaint_with_a_reference(browser, live):
    bob, page, frame = await chatting(browser, live)
    await frame.locator(".status--active .btn").click()
    await expect(frame.locator(".end-title")).to_have_text("Was your problem solved?")
    await frame.locator(".end-card--ask .btn-secondary").click()

    reference = frame.locator("#complaint-reference")
    await expect(reference).to_have_text(REFERENCE)
    text = await reference.inner_text()
    follow = frame.locator(".end-card--complaint a")
    assert (await follow.get_attribute("href")).startswith(f"/track/{text}?key=")
    await expect(bob.locator("#closed-note")).to_contain_text(text)

    await frame.locator(".end-card--complaint .btn-secondary", has_text="See my complaints").click()
    await expect(frame.locator("#complaints .complaint-ref")).to_have_text([text])
    await expect(frame.locator("#complaints .pill")).to_have_text(["Received"])


async def test_solved_chat_is_rated_with_a_comment(browser, live):
    bob, page, frame = await chatting(browser, live)
    await frame.locator(".status--active .btn").click()
    await frame.locator(".end-card--ask .btn-primary").click()
    await expect(frame.locator(".end-card--rate")).to_be_visible()
    await frame.locator(".star").nth(3).click()
    await frame.locator("#rate-comment").fill("Fast and friendly")
    await frame.locator(".end-card--rate .btn-primary").click()
    await expect(frame.locator(".end-card--thanks")).to_be_visible()
    await expect(bob.locator("#closed-note")).to_contain_text("resolved")
    rows = await live.services.db.fetch("SELECT score, comment FROM ratings")
    assert rows == [{"score": 4, "comment": "Fast and friendly"}]


async def test_agent_closing_as_a_complaint_shows_the_customer_its_reference(browser, live):
    bob, page, frame = await chatting(browser, live)
    await bob.locator("#close-chat").click()
    await bob.locator("#close-dialog input[value=complaint]").check()
    await bob.locator("#close-summary").fill("Bet 5512 settled before the match ended")
    await bob.locator("#close-submit").click()
    await expect(bob.locator("#closed-note")).to_contain_text("complaint: C-")
    await expect(frame.locator("#complaint-reference")).to_have_text(REFERENCE)


async def test_agent_closing_as_resolved_still_asks_the_customer(browser, live):
    bob, page, frame = await chatting(browser, live)
    await bob.locator("#close-chat").click()
    await bob.locator("#close-submit").click()
    await expect(frame.locator(".end-card--ask")).to_be_visible()
    await expect(frame.locator(".end-card--ask .link", has_text="Continue chatting")).to_have_count(0)  # the chat is over
    await frame.locator(".end-card--ask .btn-secondary").click()
    await expect(frame.locator("#complaint-reference")).to_have_text(REFERENCE)
    reference = await frame.locator("#complaint-reference").inner_text()
    # the same chat became the complaint, not a detached form entry
    rows = await live.services.db.fetch("SELECT source, conversation_id FROM complaints WHERE reference = ?", (reference,))
    assert rows[0]["source"] == "chat_not_solved" and rows[0]["conversation_id"]
    chat = await live.services.db.fetch("SELECT outcome FROM conversations WHERE id = ?", (rows[0]["conversation_id"],))
    assert chat[0]["outcome"] == "complaint"


async def test_complaint_form_is_one_tap_away_and_lists_the_complaint(browser, live):
    context = await drive.new_context(browser)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await frame.locator("#home-complaint").click()
    await frame.locator("#cf-category").select_option("withdrawals")
    await frame.locator("#cf-subject").fill("Withdrawal W-7781 pending for 5 days")
    await frame.locator("#cf-body").fill("I asked for 300 EUR on the 2nd; it still says pending.")
    await frame.locator("#cf-email").fill("alice@example.com")
    await frame.locator("#cf-submit").click()
    sent = frame.locator("#complaint-sent .reference-value")
    await expect(sent).to_have_text(REFERENCE)
    reference = await sent.inner_text()
    await frame.locator("#complaint-sent .btn").click()
    await expect(frame.locator("#complaints .complaint-ref")).to_have_text([reference])
    await expect(frame.locator("#complaints .complaint-subject")).to_have_text(["Withdrawal W-7781 pending for 5 days"])
