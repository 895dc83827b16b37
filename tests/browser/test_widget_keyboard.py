"""The widget with a keyboard only: wherever a button leads, the focus goes along, so the next Tab
starts from where the customer is rather than from the top of the page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import FrameLocator, expect

from tests.browser import drive

pytestmark = pytest.mark.browser


async def press(frame: FrameLocator, selector: str, key: str = "Enter") -> None:
    target = frame.locator(selector)
    await target.focus()
    await target.press(key)


async def test_the_focus_follows_the_customer_from_one_view_to_the_next(browser, live):
    errors = drive.BrowserErrors()
    page = errors.watch(await (await drive.new_context(browser)).new_page())
    frame = await drive.open_widget(page, live.url)
    body = frame.locator("body")

    # "All answers" on the start screen opens the Help tab: the focus lands on that tab, not on the page
    await press(frame, "#all-answers")
    await expect(frame.locator("#view-help")).to_be_visible()
    await expect(frame.locator("#tab-help")).to_be_focused()
    await expect(body).not_to_be_focused()

    # the complaint form, left with Cancel: back on the button that opens it again
    await press(frame, "#tab-chat", "Space")
    await press(frame, "#home-complaint")
    await expect(frame.locator("#cf-category")).to_be_focused()
    await press(frame, "#cf-cancel")
    await expect(frame.locator("#complaints-list-view")).to_be_visible()
    await expect(frame.locator("#complaint-new")).to_be_focused()

    # a complaint filed, then "Back to complaints": on that complaint in the list
    await press(frame, "#complaint-new")
    await frame.locator("#cf-category").select_option("withdrawals")
    await frame.locator("#cf-subject").fill("Withdrawal pending for a week")
    await frame.locator("#cf-body").fill("It says pending since the 2nd.")
    await press(frame, "#cf-submit")
    reference = frame.locator("#complaint-sent .reference-value")
    await expect(reference).to_have_text(re.compile(r"^C-\d{4}-\d{6}$"))
    filed = await reference.inner_text()
    await expect(frame.locator("#complaint-sent button")).to_be_focused()
    await press(frame, "#complaint-sent button")
    await expect(frame.locator(f'.complaint-open[data-reference="{filed}"]')).to_be_focused()
    assert errors.errors == []


async def test_a_chat_the_agent_closes_while_the_customer_types_hands_the_focus_to_its_ending(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    page = await (await drive.new_context(browser)).new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "Where is my withdrawal?", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")

    # the customer is writing when the agent closes the chat: the composer goes, the question takes the focus
    composer = frame.locator("#composer-input")
    await composer.focus()
    await composer.press_sequentially("One more", delay=20)
    await bob.locator("#close-chat").click()
    await bob.locator("#close-submit").click()
    solved = frame.locator("#ending button", has_text="Yes, solved")
    await expect(solved).to_be_visible()
    await expect(composer).to_be_hidden()
    await expect(frame.locator("#ending")).to_be_focused()
    # the Enter meant to send the message answers nothing: the question waits for a deliberate answer
    await page.keyboard.press("Enter")
    await expect(solved).to_be_visible()
    await page.keyboard.press("Tab")
    await expect(solved).to_be_focused()

    # "solved" by keyboard: the rating card starts at its stars, not at the optional comment below them
    await solved.press("Enter")
    first_star = frame.get_by_role("radio", name="1 of 5")
    await expect(first_star).to_be_focused()
    await page.keyboard.press("ArrowRight")
    await expect(frame.get_by_role("radio", name="2 of 5")).to_be_checked()
    await expect(frame.locator("#ending button", has_text="Send rating")).to_be_enabled()
