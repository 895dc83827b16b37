"""A customer follows a complaint in the widget: opens it, answers the team, sees replies arrive live,
asks for more, accepts the resolution and rates. Bob and Sam act through the server's services."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import FrameLocator, Page, expect

from tests import complaint_steps as steps
from tests.browser import drive
from tests.browser.test_languages import LATIN_IN_RUSSIAN, catalog, english_fragments

pytestmark = pytest.mark.browser
SUBJECT = "Withdrawal W-7781 pending for 5 days"


async def file_complaint(frame: FrameLocator) -> str:
    """Through the widget's own form; returns the reference it shows."""
    await frame.locator("#tab-complaints").click()
    await frame.locator("#complaint-new").click()
    await frame.locator("#cf-category").select_option("withdrawals")
    await frame.locator("#cf-subject").fill(SUBJECT)
    await frame.locator("#cf-body").fill("I asked for 300 EUR on the 2nd; it still says pending.")
    await frame.locator("#cf-submit").click()
    await expect(frame.locator("#complaint-sent .reference-value")).to_have_text(re.compile(r"^C-\d{4}-\d{6}$"))
    reference = await frame.locator("#complaint-sent .reference-value").inner_text()
    await frame.locator("#complaint-sent .btn").click()
    return reference


async def open_complaint(frame: FrameLocator, reference: str) -> None:
    item = frame.locator(".complaint-open", has_text=reference)
    await item.focus()
    await item.press("Enter")  # a keyboard opens it as well as a click
    await expect(frame.locator("#complaint-detail")).to_be_visible()
    await expect(frame.locator(".case-subject")).to_be_focused()


async def assert_no_english(frame: FrameLocator, locale: str, people: set[str]) -> None:
    """As the language tests check, except that the team's names are names, not English."""
    text = await frame.locator("body").evaluate("body => body.innerText")
    for name in people:
        text = text.replace(name, "")
    assert not sorted(f for f in english_fragments() if f in text), text
    if locale == "ru":
        assert not set(re.findall(r"[A-Za-z]{3,}", text)) - LATIN_IN_RUSSIAN, text


async def widget(browser, url: str, **context) -> tuple[Page, FrameLocator, drive.BrowserErrors]:
    errors = drive.BrowserErrors()
    ctx = await drive.new_context(browser, **context)
    page = errors.watch(await ctx.new_page())
    return page, await drive.open_widget(page, url), errors


async def test_a_customer_answers_accepts_and_rates_their_complaint_in_the_widget(browser, live):
    services = live.services
    page, frame, errors = await widget(browser, live.url)
    reference = await file_complaint(frame)
    await open_complaint(frame, reference)
    thread = frame.locator(".case-thread")
    await expect(frame.locator(".case-bar .pill")).to_have_text("Received")
    await expect(thread.locator(".msg--customer .bubble")).to_have_text(["I asked for 300 EUR on the 2nd; it still says pending."])
    await expect(frame.locator(".case-due")).to_contain_text("We'll answer by")

    # Bob's question arrives while the complaint is open, without a reload
    await steps.note(services, reference, "Internal: payments ticket PX-1")
    await steps.ask(services, reference, "Which bank account did you use?")
    await expect(thread.locator(".msg--agent .bubble")).to_have_text(["Which bank account did you use?"])
    await expect(thread.locator(".msg--agent .msg-author")).to_have_text(["Bob"])
    await expect(thread.locator(".system-text")).to_have_text(["Complaint status: Waiting for you"])
    await expect(frame.locator(".case-notice")).to_have_text("We need your answer to continue. Please reply below.")
    await expect(frame.locator(".case-bar .pill")).to_have_text("Waiting for you")
    assert "PX-1" not in await frame.locator("#complaint-detail").inner_text()

    await frame.locator("#case-input").fill("The one ending 4417.")
    await frame.locator("#case-input").press("Enter")
    await expect(thread.locator(".msg--customer .bubble").last).to_have_text("The one ending 4417.")
    await expect(frame.locator(".case-bar .pill")).to_have_text("In progress")
    await expect(frame.locator("#case-input")).to_have_value("")
    await expect(frame.locator(".case-notice")).to_be_hidden()

    await steps.compensate(services, reference, 2500, "EUR", "For the delay")
    await steps.resolve(services, reference, "The payment was re-sent today.")
    decide = frame.locator(".case-card--decide")
    await expect(decide).to_be_visible()
    await expect(frame.locator(".case-comp-amount")).to_have_text("€25.00")
    await expect(frame.locator(".case-comp-reason")).to_have_text("For the delay")
    await expect(frame.locator(".case-composer")).to_be_hidden()  # a resolved complaint takes a decision, not a chat
    await expect(decide.locator(".end-title")).to_be_focused()

    await frame.locator("#case-clarify").click()
    await expect(frame.locator("#case-clarify-text")).to_be_focused()
    await frame.locator(".case-clarify .btn-primary").click()  # empty: it asks what is unclear
    await expect(frame.locator(".case-card .form-error")).to_have_text("Please tell us what is still unclear.")
    await frame.locator("#case-clarify-text").fill("When will it arrive?")
    await frame.locator(".case-clarify .btn-primary").click()
    await expect(frame.locator(".case-bar .pill")).to_have_text("Reopened")
    await expect(thread.locator(".msg--customer .bubble").last).to_have_text("When will it arrive?")
    await expect(frame.locator(".case-composer")).to_be_visible()

    await steps.resolve(services, reference, "Within two business days.")
    await expect(decide).to_be_visible()
    await frame.locator("#case-accept").click()
    rate = frame.locator(".case-card--rate")
    await expect(rate).to_be_visible()
    await expect(frame.locator(".case-bar .pill")).to_have_text("Closed")
    await expect(frame.locator(".case-due")).to_contain_text("Closed on")
    await rate.locator(".star").nth(3).click()
    await frame.locator("#case-rate-comment").fill("Fair outcome")
    await rate.locator(".btn-primary").click()
    await expect(frame.locator(".case-card--rated .end-text")).to_have_text("You rated our handling 4 of 5.")

    await frame.locator(".case-back").click()
    item = frame.locator(".complaint-open", has_text=reference)
    await expect(item).to_be_focused()
    await expect(item.locator(".pill")).to_have_text("Closed")
    rows = await services.db.fetch("SELECT status, rating, rating_comment FROM complaints WHERE reference = ?", (reference,))
    assert rows == [{"status": "closed", "rating": 4, "rating_comment": "Fair outcome"}]
    assert errors.errors == []


async def test_the_tracking_link_in_the_widget_opens_the_same_complaint(browser, live):
    page, frame, errors = await widget(browser, live.url)
    reference = await file_complaint(frame)
    await open_complaint(frame, reference)
    link = frame.locator(".case-foot a")
    href = await link.get_attribute("href")
    assert href.startswith(f"/track/{reference}?key=") and await link.get_attribute("rel") == "noopener"
    assert errors.errors == []


@pytest.mark.parametrize("locale", ["ru", "pl"])
async def test_an_opened_complaint_speaks_the_customers_language(browser, live, locale):
    page, frame, errors = await widget(browser, live.url, locale={"ru": "ru-RU", "pl": "pl-PL"}[locale], viewport=drive.PHONE)
    texts = catalog(locale)
    await frame.locator("#tab-complaints").click()
    await frame.locator("#complaint-new").click()
    await frame.locator("#cf-category").select_option("withdrawals")
    await frame.locator("#cf-subject").fill("Выплата" if locale == "ru" else "Wypłata")
    await frame.locator("#cf-body").fill("Жду неделю" if locale == "ru" else "Czekam tydzień")
    await frame.locator("#cf-submit").click()
    reference = await frame.locator("#complaint-sent .reference-value").inner_text()
    await frame.locator("#complaint-sent .btn").click()
    currency = {"ru": "RUB", "pl": "PLN"}[locale]
    await steps.compensate(live.services, reference, 123456, currency, "Rekompensata" if locale == "pl" else "Компенсация")
    await steps.resolve(live.services, reference, "Готово" if locale == "ru" else "Gotowe")
    await open_complaint(frame, reference)
    await expect(frame.locator(".case-card--decide .end-title")).to_have_text(texts["case.resolved_title"])
    await expect(frame.locator(".case-comp-amount")).to_have_text({"ru": "1 234,56 ₽", "pl": "1234,56 zł"}[locale].replace(" ", "\u00a0"))
    await assert_no_english(frame, locale, {"Bob"})
    # nothing runs off the side of a phone
    overflow = await frame.locator(".case-scroller").evaluate("el => el.scrollWidth - el.clientWidth")
    assert overflow <= 0
    assert errors.errors == []
