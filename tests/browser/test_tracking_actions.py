"""The tracking page's forms in Chromium: reply, ask for more, accept and rate without the widget,
and a form another site makes the browser send is refused."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, Request, expect

from tests import complaint_steps as steps
from tests import peers
from tests.browser import drive

pytestmark = pytest.mark.browser


async def tracking_page(browser, url: str, complaint: dict, **context) -> tuple[Page, list[Request], drive.BrowserErrors]:
    errors = drive.BrowserErrors()
    ctx = await drive.new_context(browser, **context)
    page = errors.watch(await ctx.new_page())
    posts: list[Request] = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    await page.goto(f"{url}/track/{complaint['reference']}?key={complaint['tracking_key']}")
    return page, posts, errors


async def test_a_customer_answers_asks_for_more_accepts_and_rates_on_the_tracking_page(browser, live):
    alice = await peers.customer(live.url)
    complaint = await steps.submit(alice, subject="Deposit D-2291 never arrived")
    reference = complaint["reference"]
    await steps.ask(live.services, reference, "Which card did you pay with?")
    page, posts, errors = await tracking_page(browser, live.url, complaint)
    await expect(page.locator(".track-awaiting")).to_be_visible()

    await page.get_by_label("Your message").fill("Visa ending 4417")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator(".track-notice")).to_have_text("Your message has been sent. We'll reply here and by e-mail.")
    assert "done=replied" in page.url
    await expect(page.locator(".track-line--customer .track-bubble").last).to_have_text("Visa ending 4417")
    await expect(page.locator(".track-heading .status-pill")).to_have_text("In progress")
    # the key is in the form and the address: no Referer carries it anywhere
    assert posts and [await p.header_value("referer") for p in posts] == [None] * len(posts)

    await steps.compensate(live.services, reference, 2500, "EUR", "For the delay")
    await steps.resolve(live.services, reference, "The deposit is credited.")
    await page.reload()
    await expect(page.locator(".track-compensation-amount")).to_have_text("€25.00")
    await page.get_by_role("button", name="I need more explanation").click()
    await expect(page.locator("#track-error")).to_have_text("Please tell us what is still unclear.")
    await expect(page.locator("#track-body")).to_have_attribute("aria-invalid", "true")
    await page.locator("#track-body").fill("Credited to which wallet?")
    await page.get_by_role("button", name="I need more explanation").click()
    await expect(page.locator(".track-notice")).to_contain_text("reopened your complaint")
    await expect(page.locator(".track-heading .status-pill")).to_have_text("Reopened")

    await steps.resolve(live.services, reference, "The main wallet.")
    await page.reload()
    await page.get_by_role("button", name="Accept the resolution").click()
    await expect(page.locator(".track-notice")).to_have_text("Thank you! Your complaint is now closed.")
    await page.locator(".track-star").nth(4).click()
    await page.get_by_label("Comment (optional)").fill("Quick in the end")
    await page.get_by_role("button", name="Send rating").click()
    await expect(page.locator(".track-notice")).to_have_text("Thank you for your rating!")
    await expect(page.locator(".track-rated")).to_have_text("You rated our handling 5 of 5. Thank you!")

    rows = await live.services.db.fetch("SELECT status, rating, rating_comment FROM complaints WHERE reference = ?", (reference,))
    assert rows == [{"status": "closed", "rating": 5, "rating_comment": "Quick in the end"}]
    assert errors.errors == []
    await alice.close()


async def test_the_rating_can_be_given_with_the_keyboard_on_a_phone(browser, live):
    alice = await peers.customer(live.url, locale="pl")
    complaint = await steps.closed(live.services, alice)
    page, _, errors = await tracking_page(browser, live.url, complaint, viewport=drive.PHONE)
    await expect(page.locator("h1")).to_contain_text("Reklamacja")
    first = page.locator(".track-star input").first
    await first.focus()
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")  # the third star
    await expect(page.locator(".track-star input").nth(2)).to_be_checked()
    await page.locator("#track-comment").focus()
    await page.keyboard.type("Dobrze")
    await page.get_by_role("button", name="Wyślij ocenę").click()
    await expect(page.locator(".track-notice")).to_have_text("Dziękujemy za ocenę!")
    overflow = await page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert errors.errors == []
    await alice.close()


async def test_a_form_sent_from_another_site_is_refused(browser, live, operator_site):
    alice = await peers.customer(live.url)
    complaint = await steps.submit(alice)
    # someone who learnt the key builds a form on their own site and gets a visitor to press it
    operator_site.html = (
        "<!doctype html><title>Win a prize</title>"
        f'<form method="post" action="{live.url}/track/{complaint["reference"]}/reply">'
        f'<input type="hidden" name="key" value="{complaint["tracking_key"]}">'
        '<input type="hidden" name="body" value="Please close this">'
        '<button type="submit">Claim</button></form>'
    )
    context = await drive.new_context(browser)
    page = await context.new_page()
    await page.goto(f"{operator_site.origin}/")
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.get_by_role("button", name="Claim").click()
    assert (await answer.value).status == 403
    await expect(page.locator("h1")).to_have_text("This form could not be sent")
    detail = await alice.call("complaint:get", {"reference": complaint["reference"]})
    assert [e for e in detail["complaint"]["entries"] if e["kind"] == "customer"] == []
    await alice.close()


async def test_the_tracking_page_is_in_the_customers_language_from_its_title_and_says_what_is_missing(browser, live):
    alice = await peers.customer(live.url)
    complaint = await steps.submit(alice, subject="Deposit D-2291 never arrived")
    await steps.ask(live.services, complaint["reference"], "Which card did you pay with?")
    page, _, errors = await tracking_page(browser, live.url, complaint)
    await page.goto(f"{live.url}/track/{complaint['reference']}?key={complaint['tracking_key']}&lang=ru")
    # the whole document, its title included, is Russian for a screen reader's voice
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert (await page.title()).startswith("Жалоба ")

    # sent empty: the error is announced and tied to the field
    await page.locator("form.track-form button[type=submit]").click()
    field = page.locator("#track-body")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#track-error")).to_have_attribute("role", "alert")
    await expect(field).to_have_accessible_description(await page.locator("#track-error").inner_text())
    assert errors.errors == []


async def test_a_refused_answer_or_rating_takes_the_focus_to_what_needs_fixing_on_a_phone(browser, live):
    alice = await peers.customer(live.url)
    complaint = await steps.submit(alice, subject="Deposit D-2291 never arrived")
    await steps.ask(live.services, complaint["reference"], "Which card did you pay with?")
    page, _, errors = await tracking_page(browser, live.url, complaint, viewport=drive.PHONE)

    # sent empty: the page comes back on the message field, in view, and the field reads out the error
    await page.get_by_role("button", name="Send").click()
    field = page.get_by_label("Your message")
    await expect(page.locator("#track-error")).to_be_visible()
    await expect(field).to_be_focused()
    await expect(field).to_be_in_viewport()
    await expect(field).to_have_accessible_description(await page.locator("#track-error").inner_text())

    # a rating sent without a score: on the first star, under the stars' own error
    bob = await peers.customer(live.url)
    closed = await steps.closed(live.services, bob)
    page, _, errors = await tracking_page(browser, live.url, closed, viewport=drive.PHONE)
    await page.get_by_role("button", name="Send rating").click()
    await expect(page.locator("#track-error")).to_be_visible()
    first = page.locator(".track-star input").first
    await expect(first).to_be_focused()
    await expect(page.locator("#track-error")).to_be_in_viewport()
    assert errors.errors == []
    await alice.close()
    await bob.close()
