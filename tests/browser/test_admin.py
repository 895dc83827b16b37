"""Administration in Chromium: an agent created in admin signs in; deactivated, their open console throws them out."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from chatserver.services.admin import validate
from chatserver.services.auth import ConsoleUser
from chatserver.store import users
from tests.admin_steps import ADA, add_admin
from tests.browser import drive
from tests.peers import CAST_PASSWORD

pytestmark = pytest.mark.browser


async def admin_page(browser, url: str, viewport=drive.DESKTOP) -> tuple[Page, drive.BrowserErrors]:  # type: ignore[no-untyped-def]
    errors = drive.BrowserErrors()
    context = await drive.new_context(browser, viewport=viewport)
    page = errors.watch(await context.new_page())
    await page.goto(f"{url}/login?next=/admin")
    await page.fill("input[name=email]", ADA)
    await page.fill("input[name=password]", CAST_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{url}/admin/users")
    return page, errors


async def sign_in(browser, url: str, email: str, password: str) -> Page:  # type: ignore[no-untyped-def]
    context = await drive.new_context(browser)
    return await drive.sign_in(await context.new_page(), url, email, password=password)


async def test_an_agent_created_in_admin_signs_in_and_is_thrown_out_when_deactivated(browser, live):
    await add_admin(live.services)
    admin, errors = await admin_page(browser, live.url)

    await admin.click("text=New user")
    await admin.click("button:has-text('Create user')")  # nothing filled in: the server names what is missing
    await expect(admin.locator("#error-summary")).to_contain_text("fields need attention")
    await expect(admin.locator("#e-name")).to_have_text("Enter a name.")
    await expect(admin.locator("#error-summary")).to_be_focused()

    await admin.fill("#f-name", "Dana Novak")
    await admin.fill("#f-email", "dana@example.test")
    await admin.fill("#f-max_chats", "3")
    await admin.locator("label.check", has_text="Polish").click()
    await admin.locator("label.check", has_text="Bet settlement").click()
    await admin.click("button:has-text('Create user')")
    await expect(admin.locator(".notice-success")).to_contain_text("Dana Novak can now sign in as dana@example.test")
    password = await admin.locator(".secret-value").input_value()
    assert len(password) >= 16
    await expect(admin.locator("button.copy")).to_be_visible()  # the script adds a Copy button

    dana = await sign_in(browser, live.url, "dana@example.test", password)
    await expect(dana.locator("#presence [aria-checked=true]")).to_have_count(1)
    await dana.click("#presence [data-status=online]")
    await expect(dana.locator("#presence [data-status=online]")).to_have_attribute("aria-checked", "true")
    await expect(dana.locator(".me-text strong")).to_have_text("Dana Novak")

    # one click is not enough: deactivating signs her out, hands back her chats and revokes her tokens for good
    await admin.click("button:has-text('Deactivate Dana Novak')")
    assert await admin.locator("input[name=confirm]").evaluate("box => box.validity.valueMissing")  # the browser stops it
    await expect(admin.locator(".notice-success")).to_contain_text("can now sign in")  # still the page from before
    dana_id = await admin.locator("form[action$='/deactivate']").evaluate("f => f.action.split('/').at(-2)")
    assert (await live.services.admin.users.get(dana_id))["active"]
    await admin.locator("label.check", has_text="I understand").click()
    await admin.click("button:has-text('Deactivate Dana Novak')")
    await expect(admin.locator(".notice-success")).to_contain_text("Dana Novak is deactivated")
    # the open console loses its socket at once, cannot reconnect, and lands on the sign-in page
    await dana.wait_for_url(f"{live.url}/login?next=/console", timeout=10_000)
    await expect(dana.locator("h1")).to_have_text("Sign in to the console")
    await dana.goto(f"{live.url}/console")
    await dana.wait_for_url(f"{live.url}/login?next=/console")

    await admin.goto(f"{live.url}/admin/users")
    row = admin.locator("tr", has_text="Dana Novak")
    await expect(row.locator(".pill-off")).to_have_text("Deactivated")
    assert errors.errors == []


async def test_a_site_added_in_admin_may_frame_the_chat_without_a_restart(browser, live, operator_site):
    await add_admin(live.services)
    operator_site.html = f'<!doctype html><title>Casino</title><script src="{live.url}/widget.js"></script>'
    visitor_context = await drive.new_context(browser)
    visitor = await visitor_context.new_page()
    await visitor.goto(f"{operator_site.origin}/")
    await visitor.locator("button.launcher").click()
    await visitor.wait_for_timeout(800)
    assert await visitor.frame_locator("#chatserver-frame").locator("#start-body").count() == 0  # not allowed yet

    admin, errors = await admin_page(browser, live.url)
    await admin.click(".admin-nav >> text=Widget")
    await admin.fill("#f-allowed_origins", f"{operator_site.origin}\n")
    await admin.fill("#f-brand_color", "#7c3aed")
    await admin.click("button:has-text('Save settings')")
    await expect(admin.locator(".notice-success")).to_have_text("Widget settings saved; they apply now.")

    await visitor.reload()
    frame = await drive.open_widget(visitor)
    await expect(frame.locator("#start-body")).to_be_visible()
    assert errors.errors == []


async def test_admin_pages_fit_a_phone(browser, live):
    await add_admin(live.services)
    admin, errors = await admin_page(browser, live.url, viewport=drive.PHONE)
    for path in ("/admin/users", "/admin/users/new", "/admin/categories", "/admin/widget", "/admin/tokens"):
        await admin.goto(live.url + path)
        width = await admin.evaluate("() => document.documentElement.scrollWidth")
        assert width <= drive.PHONE["width"], (path, width)
    # a long name and e-mail wrap on the user's page instead of pushing it sideways, on a phone and at desktop size
    long_name = "Konstantinos Papadopoulos-Wolfeschlegelsteinhausen"
    long_id = await add_admin(live.services, email="konstantinos.papadopoulos.wolfeschlegelsteinhausen@support.example.test", name=long_name)
    for viewport in (drive.PHONE, drive.DESKTOP):
        await admin.set_viewport_size(viewport)
        await admin.goto(f"{live.url}/admin/users/{long_id}")
        width = await admin.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], (viewport, width)
    # its history is dated as the tracking page dates things
    await expect(admin.locator(".history-meta time").first).to_have_text(re.compile(r"^[1-9]\d? [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC$"))
    # in the users table at desktop size that name wraps in its own column; the short cells keep to one line
    await admin.goto(f"{live.url}/admin/users")
    lines = await admin.locator(".users-table td:not(:first-child) > *").evaluate_all("(all) => all.map((e) => e.getClientRects().length)")
    assert lines and set(lines) == {1}, lines
    await admin.set_viewport_size(drive.PHONE)
    await admin.goto(f"{live.url}/admin/users")
    await expect(admin.locator(".admin-nav a[aria-current=page]")).to_have_text("Users")
    await admin.locator(".admin-nav a", has_text="Categories").click()
    await admin.wait_for_url(f"{live.url}/admin/categories")
    assert errors.errors == []


async def workspace_menu(page: Page) -> list[str]:
    """Open the phone's workspace menu and read what it offers."""
    await page.click(".workspaces-toggle")
    menu = page.locator("#workspaces-menu")
    await expect(menu).to_be_visible()
    return await menu.locator("a").all_inner_texts()


async def test_on_a_phone_every_area_the_user_may_open_is_one_tap_away(browser, live):
    await add_admin(live.services)
    admin, errors = await admin_page(browser, live.url, viewport=drive.PHONE)
    # admin → console → monitor → reports → admin, each through the menu, each page still a phone's width
    for here, there in (("/admin/users", "Console"), ("/console", "Monitor"), ("/monitor", "Reports"), ("/reports", "Admin")):
        assert admin.url.startswith(live.url + here)
        assert await workspace_menu(admin) == ["Console", "Monitor", "Reports", "Admin"]
        assert await admin.evaluate("() => document.documentElement.scrollWidth") <= drive.PHONE["width"], here
        await admin.locator("#workspaces-menu a", has_text=there).click()
        await admin.wait_for_url(lambda url, there=there: url.startswith(f"{live.url}/{there.lower()}"))
    await admin.keyboard.press("Escape")
    # the smallest phones in use (320 px) still get every bar without sideways scrolling
    await admin.set_viewport_size({"width": 320, "height": 640})
    for path in ("/console", "/monitor", "/reports", "/admin/users"):
        await admin.goto(live.url + path)
        await expect(admin.locator(".workspaces-toggle")).to_be_visible()
        assert await admin.evaluate("() => document.documentElement.scrollWidth") <= 320, path
    assert errors.errors == []

    # a supervisor is offered what a supervisor may open; an agent has only the console, so no menu at all
    supervisor = await drive.console(browser, live.url, "sam@example.test", online=False, viewport=drive.PHONE)
    assert await workspace_menu(supervisor) == ["Console", "Monitor", "Reports"]
    agent = await drive.console(browser, live.url, "bob@example.test", online=False, viewport=drive.PHONE)
    await expect(agent.locator(".workspaces-toggle, .workspaces")).to_have_count(0)
    assert await agent.evaluate("() => document.documentElement.scrollWidth") <= drive.PHONE["width"]


async def test_long_unbroken_names_titles_and_texts_wrap_instead_of_pushing_the_lists_sideways(browser, live):
    # the longest words each field takes: a pasted address, a German compound, a name without spaces
    services = live.services
    ada = await add_admin(services)
    word = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaftschaferswesen"
    await services.admin.catalog.create_category(ada, validate.category(validate.RawForm.of({
        "slug": "long_names", "name_en": word[:80], "name_ru": word[:79] + "R", "name_pl": word[:79] + "P",
        "first_response_hours": "24", "resolution_hours": "48", "owner_group": "g" * 40, "position": "8", "active": True,
    })))
    await services.admin.catalog.save_canned_answer(ada, None, validate.canned_answer(validate.RawForm.of({
        "shortcut": "s" * 32, "locale": "en", "title": (word * 2)[:120], "body": word * 3, "active": True,
    })))
    await services.admin.catalog.save_faq_article(ada, None, validate.faq_article(validate.RawForm.of({
        "locale": "en", "category": "long_names", "position": "1", "question": (word * 3)[:200], "answer": word * 3,
        "active": True,
    }), ["long_names"]))
    admin, errors = await admin_page(browser, live.url)
    for viewport in (drive.PHONE, {"width": 900, "height": 800}, drive.DESKTOP):
        await admin.set_viewport_size(viewport)
        for path in ("/admin/categories", "/admin/canned", "/admin/faq", "/admin/users"):
            await admin.goto(live.url + path)
            width = await admin.evaluate("() => document.documentElement.scrollWidth")
            assert width <= viewport["width"], (viewport, path, width)
    # at desktop size the table fits its card, and the other categories' English names still read as words,
    # not a letter or two a line
    await admin.goto(live.url + "/admin/categories")
    card = await admin.locator(".table-card").evaluate("(e) => [e.scrollWidth, e.clientWidth]")
    assert card[0] <= card[1], card
    title = admin.locator(".categories-table a.row-title", has_text="Bet settlement")
    assert len(await title.evaluate("(e) => Array.from(e.getClientRects())")) == 1
    assert (await title.bounding_box())["height"] < 30  # type: ignore[index]
    assert errors.errors == []


# The keyboard's place, as the page draws it: an outline of at least 2px on the control or on the label
# around it (a faint shadow is not one).
FOCUS_RING = """(e) => [e, e.closest('label')].filter(Boolean).some((box) => {
  const style = getComputedStyle(box);
  return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
})"""


async def test_every_checkbox_radio_button_and_colour_picker_shows_the_keyboard_focus(browser, live):
    await add_admin(live.services)
    admin, errors = await admin_page(browser, live.url)
    bob = await live.services.db.fetch("SELECT id FROM users WHERE email = 'bob@example.test'")
    reached: list[str] = []
    for path in ("/admin/users/new", f"/admin/users/{bob[0]['id']}", "/admin/categories/new", "/admin/canned/new", "/admin/faq/new", "/admin/widget"):
        await admin.goto(f"{live.url}{path}")
        await admin.locator("#main").focus()
        for _ in range(80):
            await admin.keyboard.press("Tab")
            focused = await admin.evaluate_handle("() => document.activeElement")
            kind = await focused.evaluate("(e) => e.type || e.tagName")
            if kind == "BODY":
                break  # past the page's last control
            if kind in ("checkbox", "radio", "color"):
                name = await focused.evaluate("(e) => e.name || e.getAttribute('aria-label')")
                reached.append(f"{path} {name}")
                assert await focused.evaluate(FOCUS_RING), f"{path}: no visible focus on {kind} {name}"
    # the toggles, the password choice, the confirmation and the picker were all among them
    assert {"/admin/canned/new active", "/admin/users/new password_mode", "/admin/widget Pick the brand colour"} <= set(reached)
    assert any(r.endswith(" confirm") for r in reached)
    assert errors.errors == []


async def test_every_admin_table_has_a_name_and_column_headers(browser, live):
    ada = await add_admin(live.services)
    as_ada = ConsoleUser.from_row(await users.get(live.services.db, ada))  # type: ignore[arg-type]
    receiver, _ = await live.services.webhooks.register(as_ada, url="https://crm.example.com/hooks", events=["complaint.created"])
    await live.services.webhooks.send_test(as_ada, receiver["id"])  # a delivery, so the log has its table
    admin, errors = await admin_page(browser, live.url)
    await admin.goto(f"{live.url}/admin/tokens")
    await admin.fill("#f-label", "CRM sync")
    await admin.select_option("#f-user_id", index=1)
    await admin.click("button:has-text('Create token')")
    await expect(admin.locator(".notice-success")).to_be_visible()
    expected = {
        "/admin/users": ["Users"], "/admin/categories": ["Complaint categories"], "/admin/tokens": ["API tokens"],
        "/admin/webhooks": ["Receivers", "Delivery log"],
    }
    for path, names in expected.items():
        await admin.goto(f"{live.url}{path}")
        tables = admin.get_by_role("table")
        await expect(tables).to_have_count(len(names))
        for n, name in enumerate(names):
            await expect(tables.nth(n)).to_have_accessible_name(name)
            assert await tables.nth(n).locator("thead th:not([scope=col])").count() == 0
    assert errors.errors == []
