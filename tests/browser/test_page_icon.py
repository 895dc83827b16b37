"""The product's icon: every page names it, Chromium loads it, and a browser that asks for /favicon.ico
anyway gets it, so no page's first load logs a failed resource."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.admin_steps import ADA, add_admin
from tests.complaint_steps import tracked
from tests.browser import drive

pytestmark = pytest.mark.browser
# Chromium asks for the icon after the page's load event, on its own schedule
ICON_SETTLE_MS = 1000


async def test_every_page_has_the_product_icon_and_no_first_load_logs_a_missing_one(browser, live):
    await add_admin(live.services)
    reference, key = await tracked(live.url, live.services)

    pages = [  # who is signed in, the page, its status
        (None, "/login", 200),
        (None, f"/track/{reference}?key={key}", 200),
        (None, "/no/such/page", 404),
        ("bob@example.test", "/console", 200),
        ("bob@example.test", "/monitor", 403),
        ("sam@example.test", "/monitor", 200),
        ("sam@example.test", "/reports", 200),
        (ADA, "/admin/users", 200),
    ]
    for email, path, status in pages:
        context = await drive.new_context(browser)  # a fresh profile: nothing cached, the icon asked for again
        page = await context.new_page()
        failed: list[str] = []
        page.on("console", lambda msg: failed.append(msg.location.get("url", "")) if msg.type == "error" and "Failed to load resource" in msg.text else None)
        if email:
            await drive.sign_in(page, live.url, email)
        response = await page.goto(live.url + path)
        assert response is not None and response.status == status, (path, response and response.status)
        icon = page.locator("head link[rel=icon]")
        await expect(icon).to_have_attribute("type", "image/svg+xml")
        size = await page.evaluate("""async () => {
            const image = new Image();
            image.src = document.querySelector('link[rel=icon]').href;
            await image.decode();
            return [image.naturalWidth, image.naturalHeight];
        }""")
        assert size[0] > 0 and size[0] == size[1], (path, size)
        await page.wait_for_timeout(ICON_SETTLE_MS)
        if status != 200:
            failed = [url for url in failed if url != live.url + path]  # the page's own status is meant
        assert failed == [], (path, failed)
        await context.close()

    # a browser that ignores the link and asks the old way gets the same icon
    context = await drive.new_context(browser)
    page = await context.new_page()
    response = await page.goto(f"{live.url}/favicon.ico")
    assert response is not None and response.ok, response and response.status
    assert response.headers["content-type"].startswith("image/svg+xml")
    await context.close()
