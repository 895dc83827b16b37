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
