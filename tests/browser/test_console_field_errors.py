"""A field the console's dialogs refuse is marked invalid and described by its error, so a screen
reader that lands on it says what is wrong; once put right, it is no longer marked."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, expect

from tests import peers
from tests.browser import drive

pytestmark = pytest.mark.browser


async def expect_refused(field: Locator, error: Locator, text: str) -> None:
    await expect(error).to_have_text(text)
    await expect(field).to_be_focused()
    await expect(field).to_have_attribute("aria-invalid", "true")
    error_id = await error.get_attribute("id")
    assert error_id, "the error has an id to be referred to"
    assert error_id in ((await field.get_attribute("aria-describedby")) or "").split()


async def expect_accepted(field: Locator, error: Locator) -> None:
    assert await field.get_attribute("aria-invalid") in (None, "false")
    error_id = await error.get_attribute("id")
    assert not error_id or error_id not in ((await field.get_attribute("aria-describedby")) or "").split()


async def test_closing_as_a_complaint_without_a_summary_marks_the_summary(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    alice = await peers.customer(live.url)
    assert (await alice.call("chat:start", {"name": "Alice", "body": "Where is my money?"}))["ok"]
    await drive.open_chat_in_console(bob, "Alice")

    await bob.locator("#close-chat").click()
    await bob.locator("#close-dialog input[value=complaint]").check()
    await bob.locator("#close-submit").click()
    summary = bob.locator("#close-summary")
    await expect_refused(summary, bob.locator("#close-error"), "Write a short summary for the complaint team.")

    # opened again: a fresh form, nothing marked
    await bob.locator("#close-dialog [data-close]").click()
    await bob.locator("#close-chat").click()
    await expect_accepted(summary, bob.locator("#close-error"))
    await bob.locator("#close-dialog input[value=complaint]").check()
    await bob.locator("#close-submit").click()
    await expect(summary).to_have_attribute("aria-invalid", "true")
    await summary.fill("Withdrawal of 12 March never arrived")
    await bob.locator("#close-submit").click()
    await expect(bob.locator("#close-dialog")).to_be_hidden()
    await alice.close()


async def test_logging_a_complaint_marks_each_refused_field_in_turn(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    await bob.click("#tab-complaints")
    await expect(bob.locator("#cx-total")).not_to_have_text("Loading…")
    await bob.click("#cx-log")
    dialog = bob.locator("#cx-log-dialog")
    error = dialog.locator(".form-error")
    subject = dialog.locator("input[name=subject]")
    body = dialog.locator("textarea[name=body]")
    email = dialog.locator("input[name=customer_email]")

    await dialog.locator("button[type=submit]").click()
    await expect_refused(subject, error, "Give the complaint a short subject.")
    await subject.fill("Void bet settled as a loss")
    await dialog.locator("button[type=submit]").click()
    await expect_refused(body, error, "Describe what happened.")
    await expect_accepted(subject, error)
    await body.fill("Match on 12 March was abandoned; the bet should be void.")
    await email.fill("marek@")
    await dialog.locator("button[type=submit]").click()
    await expect_refused(email, error, "That e-mail address does not look right.")
    await expect_accepted(body, error)
    await email.fill("marek@example.test")
    await dialog.locator("button[type=submit]").click()
    await expect(dialog).to_be_hidden()
    await bob.click("#cx-log")  # the next one starts unmarked
    for field in (subject, body, email):
        await expect_accepted(field, error)
