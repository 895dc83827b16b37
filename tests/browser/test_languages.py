"""The widget in Russian and in Polish shows no English, in every state a customer can reach."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.async_api import FrameLocator, Page, expect

from tests.browser import drive
from tests.conftest import seed_cast

pytestmark = pytest.mark.browser

CATALOGS = Path(__file__).resolve().parents[2] / "widget" / "i18n"
# Latin words that are Russian text too (in the FAQ articles)
LATIN_IN_RUSSIAN = {"SMS"}


def catalog(locale: str) -> dict:
    return json.loads((CATALOGS / f"{locale}.json").read_text(encoding="utf-8"))


def english_fragments() -> set[str]:
    """Every English phrase of the catalog, split at its placeholders."""
    fragments = set()
    for value in catalog("en").values():
        for text in value.values() if isinstance(value, dict) else [value]:
            for part in re.split(r"\{\w+\}", text):
                part = part.strip(" .,·:!?…“”'")
                if len(re.findall(r"[A-Za-z]", part)) >= 4:
                    fragments.add(part)
    return fragments


async def assert_no_english(frame: FrameLocator, locale: str, where: str) -> None:
    text = await frame.locator("body").evaluate("body => body.innerText")
    found = sorted(f for f in english_fragments() if f in text)
    assert not found, f"English in the {locale} widget ({where}): {found}"
    if locale == "ru":
        latin = set(re.findall(r"[A-Za-z]{3,}", text)) - LATIN_IN_RUSSIAN
        assert not latin, f"Latin words in the Russian widget ({where}): {sorted(latin)}"


async def walk_every_state(page: Page, frame: FrameLocator, locale: str, nonsense: str) -> None:
    texts = catalog(locale)
    assert await page.locator("button.launcher").get_attribute("aria-label") == texts["launcher.close"]
    await expect(frame.locator("#start-submit")).to_have_text(texts["home.start"])
    await assert_no_english(frame, locale, "home")

    await frame.locator("#start-submit").click()  # empty: the error is in the customer's language
    await expect(frame.locator("#start-body-error")).to_have_text(texts["form.required"])
    await assert_no_english(frame, locale, "start form errors")

    await frame.locator("#tab-help").click()
    await expect(frame.locator(".faq").first).to_be_visible()
    await frame.locator(".faq summary").first.click()
    await assert_no_english(frame, locale, "help")
    await frame.locator("#help-search").fill(nonsense)
    await expect(frame.locator("#help-empty")).to_be_visible()
    await assert_no_english(frame, locale, "help, nothing found")

    await frame.locator("#tab-complaints").click()
    await expect(frame.locator("#complaints .empty-row")).to_be_visible()
    await assert_no_english(frame, locale, "complaints")
    await frame.locator("#complaint-new").click()
    await frame.locator("#cf-submit").click()
    await expect(frame.locator("#cf-subject-error")).to_have_text(texts["form.required"])
    await assert_no_english(frame, locale, "complaint form")
    await frame.locator("#cf-cancel").click()

    await frame.locator("#tab-chat").click()
    await frame.locator(".chip").first.click()
    await frame.locator("#start-body").fill(nonsense)
    await frame.locator("#start-submit").click()
    await expect(frame.locator(".status--queued")).to_be_visible()
    await expect(frame.locator(".msg--customer .msg-state-text")).to_have_text(texts["chat.sent"])
    await assert_no_english(frame, locale, "queued")
    await frame.locator(".status--queued .btn").click()
    await expect(frame.locator(".end-card--leave")).to_be_visible()
    await assert_no_english(frame, locale, "leaving the queue")
    await frame.locator(".end-card--leave .btn-danger").click()
    await expect(frame.locator(".end-card--ended")).to_be_visible()
    await assert_no_english(frame, locale, "left the queue")


async def test_russian_widget_from_the_browser_language_has_no_english(browser, live):
    context = await drive.new_context(browser, locale="ru-RU")
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await walk_every_state(page, frame, "ru", "щщщ")


async def test_polish_widget_from_data_locale_on_an_operator_site_has_no_english(browser, start_server, operator_site):
    server = await start_server(allowed_origins=(operator_site.origin,), logins_per_minute=1000)
    await seed_cast(server.services)
    operator_site.html = (
        "<!doctype html><html><head><title>Operator</title></head><body><h1>Operator site</h1>"
        f'<script src="{server.url}/widget.js" async data-locale="pl" data-color="#7c3aed" data-position="left"></script>'
        "</body></html>"
    )
    context = await drive.new_context(browser, locale="en-US")  # data-locale wins over the browser
    page = await context.new_page()
    await page.goto(f"{operator_site.origin}/")
    frame = await drive.open_widget(page)
    await walk_every_state(page, frame, "pl", "żżż")
