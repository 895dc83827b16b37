"""/reports in Chromium: a supervisor sees the seeded week's numbers (tests/report_rows.seed_week, worked
out in tests/service/test_reports.py) in the figures, tables and charts, filters it, and an agent is
refused. The page must run under the CSP: any script error or refused resource fails the test."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from playwright.async_api import Browser, Page, expect

from chatserver.domain import reports as rules
from chatserver.store import users
from chatserver.transport.http.reports_view import duration
from tests.browser import drive
from tests.peers import CAST_PASSWORD
from tests.report_rows import seed_week

pytestmark = pytest.mark.browser
BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
WEEK = "from=2026-11-01&to=2026-11-07"


async def signed_in(browser: Browser, url: str, email: str, viewport: dict[str, int] = drive.DESKTOP) -> tuple[Page, list[str]]:
    context = await drive.new_context(browser, viewport=viewport)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    # a refused script or style (CSP) is a console error; a missing file is a failed response (the favicon aside)
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    await page.goto(f"{url}/login?next=/reports")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", CAST_PASSWORD)
    await page.click("button[type=submit]")
    return page, problems


@pytest.fixture
async def seeded(live):
    ids = {u["name"].lower(): u["id"] for u in await users.list_active(live.services.db)}
    await seed_week(live.services.db, BASE, ids)
    return live


async def test_a_supervisor_sees_the_seeded_numbers(browser, seeded):
    page, problems = await signed_in(browser, seeded.url, "sam@example.test")
    await page.wait_for_url(f"{seeded.url}/reports")  # the login came back to the reports
    await page.goto(f"{seeded.url}/reports?{WEEK}")
    await expect(page.locator("h1")).to_have_text("Reports")
    await expect(page.locator("#period-label")).to_contain_text("1–7 November 2026")
    await expect(page.locator("#preset")).to_have_value("custom")

    kpi = lambda name: page.locator(f"[data-kpi='{name}']")  # noqa: E731
    await expect(kpi("chats")).to_have_text("5")
    await expect(kpi("complaints")).to_have_text("7")
    await expect(kpi("chat-first-median")).to_have_text(duration(37.5))
    await expect(kpi("chat-first-p90")).to_have_text(duration(76.5))
    await expect(kpi("first-median")).to_have_text("2 h 30 min")  # 9,000 s
    await expect(kpi("first-p90")).to_have_text("17 h 00 min")  # 61,200 s
    await expect(kpi("resolution-median")).to_have_text("25 h 00 min")
    await expect(kpi("resolution-p90")).to_have_text("44 h 00 min")
    await expect(kpi("escalated")).to_have_text("28.6%")
    await expect(kpi("reopened")).to_have_text("40.0%")
    await expect(kpi("compensation")).to_have_text("€17.50")
    # the one complaint still not answered (due 11-08 20:00) is missed once that time has passed
    late = rules.sla_outcome(None, datetime(2026, 11, 8, 20, tzinfo=timezone.utc), datetime.now(timezone.utc)) == "missed"
    await expect(kpi("sla-first")).to_have_text("71.4%" if late else "83.3%")
    await expect(kpi("sla-resolution")).to_have_text("42.9%" if late else "50.0%")

    rows = page.locator("#category-table tbody tr")
    await expect(rows).to_have_count(4)
    await expect(rows.nth(0)).to_have_text(re.compile(r"Payments and withdrawals\s*2\s*3"))
    await expect(rows.nth(3)).to_have_text(re.compile(r"Other\s*1\s*0"))
    await expect(page.locator("#category-table tfoot")).to_have_text(re.compile(r"Total\s*5\s*7"))

    agents = page.locator("#csat-agents tbody tr")
    await expect(agents).to_have_count(3)
    await expect(agents.nth(0)).to_have_text(re.compile(r"Bob\s*5\.00 · 100\.0% · 1\s*5\.00 · 100\.0% · 1"))
    await expect(agents.nth(1)).to_have_text(re.compile(r"Carol\s*3\.50 · 50\.0% · 2\s*4\.00 · 100\.0% · 1"))
    await expect(agents.nth(2)).to_have_text(re.compile(r"Sam\s*–\s*2\.00 · 0\.0% · 1"))
    await expect(page.locator("[data-csat=complaints]")).to_have_text("3.67 · 66.7% · 3")
    await expect(page.locator("#no-flags, #recurring .muted").first).to_be_visible()
    # dates read as on the tracking page: no leading zero, the month in words
    await expect(page.locator("#recurring .rp-card-head .muted")).to_have_text("This week: 1 Nov 00:00 – 8 Nov 00:00 UTC")  # was 01 Nov
    await expect(page.locator(".rp-foot")).to_contain_text(re.compile(r"^Generated [1-9]\d? [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC\. "))

    # the charts are drawn by the page's own scripts, from the numbers in the page
    for chart in ("#chart-categories", "#chart-days"):
        box = await page.locator(chart).bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 200
    assert await page.evaluate("() => Boolean(Chart.getChart(document.getElementById('chart-days')))")
    days = await page.evaluate("() => Chart.getChart(document.getElementById('chart-days')).data.datasets[0].data")
    assert days == [2, 1, 1, 0, 0, 0, 1]  # chats per day
    for chart, axis in (("chart-days", "y"), ("chart-categories", "x")):  # counts are whole: no 0.5 chats
        ticks = await page.evaluate(f"() => Chart.getChart(document.getElementById('{chart}')).scales.{axis}.ticks.map((t) => t.value)")
        assert ticks and all(value == int(value) for value in ticks), (chart, ticks)
    await page.locator("summary", has_text="Numbers by day").click()
    await expect(page.locator("#day-table tbody tr").nth(0)).to_have_text(re.compile(r"1 Nov 2026\s*2\s*2"))

    # filter by category: the form submits, the numbers follow
    await page.select_option("select[name=category]", "withdrawals")
    await page.click("#filters button[type=submit]")
    await page.wait_for_url(re.compile(r"category=withdrawals"))
    assert "agent=" not in page.url and "level=" not in page.url  # unused filters stay out of the address
    await expect(kpi("complaints")).to_have_text("3")
    await expect(kpi("chats")).to_have_text("2")

    # a preset submits at once and decides the dates itself
    await page.select_option("#preset", "7d")
    await page.wait_for_url(re.compile(r"preset=7d"))
    assert "from=" not in page.url
    await expect(page.locator("#preset")).to_have_value("7d")
    await expect(page.locator("select[name=category]")).to_have_value("withdrawals")
    assert problems == []


async def test_the_phone_layout_shows_the_same_numbers(browser, seeded):
    page, problems = await signed_in(browser, seeded.url, "sam@example.test", viewport=drive.PHONE)
    await page.goto(f"{seeded.url}/reports?{WEEK}")
    await expect(page.locator("[data-kpi=complaints]")).to_have_text("7")
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= drive.PHONE["width"]  # nothing pushes the page sideways; wide tables scroll in their card
    assert problems == []


async def test_an_agent_is_refused(browser, seeded):
    page, _ = await signed_in(browser, seeded.url, "bob@example.test")
    await page.wait_for_url(f"{seeded.url}/reports")
    response = await page.goto(f"{seeded.url}/reports?{WEEK}")
    assert response is not None and response.status == 403
    await expect(page.locator("body")).to_contain_text("supervisors and admins")
    await expect(page.locator("[data-kpi]")).to_have_count(0)


async def test_the_workload_table_shows_each_agents_share_as_text_and_fits_a_phone(browser, seeded):
    """Bob and Carol each handled 2 chats and hold 2 complaints (most work first, then by name); Sam holds
    one. Carol's name carries markup, which must show as the letters she typed."""
    carol = "Carol <img src=x> & co"
    async with seeded.services.db.transaction() as tx:
        await tx.execute("UPDATE users SET name = ? WHERE email = ?", (carol, "carol@example.test"))
    expected = [("Bob", "2 2 2 2 1"), (carol, "2 2 1 2 2"), ("Sam", "0 0 0 1 1")]
    for viewport in (drive.DESKTOP, drive.PHONE):
        page, problems = await signed_in(browser, seeded.url, "sam@example.test", viewport=viewport)
        await page.wait_for_url(f"{seeded.url}/reports")
        await page.goto(f"{seeded.url}/reports?{WEEK}")
        card = page.locator("#workload")
        await expect(card.locator("h2")).to_have_text("Workload by agent")
        if viewport is drive.DESKTOP:
            headings = await card.locator("thead th").all_inner_texts()
            assert [h.strip().lower() for h in headings] == [
                "agent", "chats", "chats answered", "chats resolved", "complaints held", "complaints resolved",
            ]
        rows = card.locator("tbody tr")
        await expect(rows).to_have_count(3)
        for n, (name, figures) in enumerate(expected):
            await expect(rows.nth(n).locator("th")).to_have_text(name)
            assert " ".join(t.strip() for t in await rows.nth(n).locator("td").all_inner_texts()) == figures
        assert await card.locator("img").count() == 0  # the name is text, not markup

        # every figure and its label inside the card: nothing cut off or pushed sideways
        box = await card.bounding_box()
        assert box is not None
        for cell in await card.locator("tbody th, tbody td").all():
            inner = await cell.bounding_box()
            assert inner is not None and box["x"] <= inner["x"] and inner["x"] + inner["width"] <= box["x"] + box["width"] + 0.5
        assert await card.evaluate("el => el.scrollWidth <= el.clientWidth")
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        if viewport is drive.PHONE:  # the labels travel with the figures when the header row is out of sight
            labels = await rows.nth(0).locator("td").evaluate_all(
                "cells => cells.map(c => getComputedStyle(c, '::before').content)"
            )
            assert labels == ['"Chats"', '"Chats answered"', '"Chats resolved"', '"Complaints held"', '"Complaints resolved"']

        # a period in which nobody worked says so
        await page.goto(f"{seeded.url}/reports?from=2025-01-01&to=2025-01-07")
        await expect(page.locator("#no-workload")).to_have_text("Nobody handled a chat or held a complaint in this period.")
        await expect(page.locator("#workload-table")).to_have_count(0)
        assert problems == []
        await page.context.close()


async def test_the_period_can_be_stepped_through_with_the_arrow_keys_and_applied_with_enter(browser, live):
    page, problems = await signed_in(browser, live.url, "sam@example.test")
    await page.wait_for_url(f"{live.url}/reports")
    loads: list[str] = []
    page.on("request", lambda r: loads.append(r.url) if r.is_navigation_request() else None)
    preset = page.locator("#preset")
    await expect(preset).to_have_value("30d")
    await preset.focus()
    # each arrow only moves the choice: no reload under the keyboard, which stays on the list
    await page.keyboard.press("ArrowDown")
    await expect(preset).to_have_value("month")
    await page.keyboard.press("ArrowDown")
    await expect(preset).to_have_value("custom")
    await page.keyboard.press("ArrowUp")
    await expect(preset).to_be_focused()
    await expect(page.locator("#from")).not_to_be_disabled()
    await page.keyboard.press("Enter")  # applies it
    await page.wait_for_url(re.compile(r"preset=month"))
    await expect(page.locator("#preset")).to_have_value("month")
    assert len(loads) == 1, loads
    assert problems == []
