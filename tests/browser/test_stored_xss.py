"""Stored XSS in Chromium: every field a visitor (or staff) controls shows literally where people read
it, and nothing in it runs or becomes markup: the console's chats, the tracking page, the widget's
complaints, reports, and admin pages with what the widget shows of them. The queue monitor and the
complaints workspace are in test_monitor_safety.py.

Each test stores the whole payload set (tests/browser/hostile.py) in the fields of one page family
through the real server (customers as real Socket.IO clients, staff through the services the server
runs), opens the pages in Chromium with the tripwire armed, checks the text where a person sees it,
and then that no dialog opened, no page error or CSP violation happened, no frame holds markup only
an HTML sink could have made, and an open direction override turned none of the page's own words.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import expect

from chatserver.domain.text import isolate
from chatserver.services.admin import validate
from tests import peers
from tests.admin_steps import ADA, add_admin
from tests.browser import drive
from tests.browser.hostile import (
    EMAILS, NAMES, PAYLOADS, Tripwire, all_texts, hostile_complaints, hostile_server, literally, signed_in,
)
from tests.complaint_steps import SAM, staff
from tests.peers import CAST_PASSWORD
from tests.report_rows import History

pytestmark = pytest.mark.browser


# -- the console: chats ------------------------------------------------------------------------------


async def test_hostile_names_messages_and_emails_are_text_in_the_console_chats(browser, start_server):
    server = await hostile_server(start_server)
    services = server.services
    row = await services.auth.create_user(email="dana@example.test", name="Dana", role="agent", password=CAST_PASSWORD, max_chats=len(NAMES) + 1)
    await services.dispatcher.refresh_agent(row["id"])
    tripwire = Tripwire()
    dana = await signed_in(browser, tripwire, server.url, "dana@example.test", "/console")
    await dana.click("#presence [data-status=online]")

    customers = []
    emails = itertools.cycle(EMAILS.values())
    for name in NAMES:
        customer = await peers.customer(server.url)
        email = next(emails)
        # the complaint first: the console reads a customer's history once, when their chat arrives
        submitted = await customer.call("complaint:submit", {"category": "withdrawals", "subject": name, "body": name})
        assert submitted["ok"], submitted
        started = await customer.call("chat:start", {"topic": "withdrawals", "name": name, "email": email, "body": name})
        assert started["ok"], started
        customers.append((customer, started["conversation"]["id"], name, email))
    # every payload as a message in one chat too
    first, conversation_id = customers[0][0], customers[0][1]
    for body in NAMES:
        sent = await first.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": body})
        assert sent["ok"], sent

    items = dana.locator("#my-chats .chat-item-name")
    await expect(items).to_have_count(len(NAMES))
    assert sorted(await all_texts(items)) == sorted(NAMES)
    for _customer, cid, name, email in customers:
        await dana.locator(f"#my-chats .chat-item-main[data-conversation='{cid}']").click()
        await literally(dana.locator("#chat-name"), name)
        bubbles = dana.locator("#transcript .line-customer .bubble")
        expected = [name, *NAMES] if cid == conversation_id else [name]
        await expect(bubbles).to_have_count(len(expected))
        assert await all_texts(bubbles) == expected
        await literally(dana.locator("#details-body .profile-name"), name)
        await expect(dana.locator("#details-body .facts dd").first).to_have_text(email)
        await expect(dana.locator("#details-body .history-subject")).to_have_count(1)
        await literally(dana.locator("#details-body .history-subject"), name)
        await dana.locator("#transcript .bubble").first.hover()
        await tripwire.assert_clean(dana)

    # long names without spaces are cut short in the list, not pushing it sideways out of its pane
    assert await dana.locator("#my-chats").evaluate("el => el.scrollWidth <= el.clientWidth")
    assert await dana.locator("#my-chats").evaluate("el => el.closest('aside, section').scrollLeft === 0")

    # the customer whose name carries an open override types, then ends the chat: the console's own
    # words around the name ("is typing…", "ended the chat.") stay as written
    rlo, rlo_chat = next((c, cid) for c, cid, name, _ in customers if name == PAYLOADS["rlo"])
    await dana.locator(f"#my-chats .chat-item-main[data-conversation='{rlo_chat}']").click()
    await rlo.emit("typing", {"conversation_id": rlo_chat, "typing": True})
    await expect(dana.locator("#typing-text")).to_have_text(f"{PAYLOADS['rlo']} is typing…")
    await tripwire.assert_clean(dana)
    await dana.locator(f"#my-chats .chat-item-main[data-conversation='{conversation_id}']").click()
    assert (await rlo.call("chat:end", {"conversation_id": rlo_chat}))["ok"]
    await expect(dana.locator(".toast", has_text="ended the chat.")).to_have_text(f"{PAYLOADS['rlo']} ended the chat.")
    await tripwire.assert_clean(dana)
    for customer, *_ in customers:
        await customer.close()


# -- the customer's side: the tracking page and the widget's complaints ------------------------------


async def test_hostile_text_is_text_on_the_tracking_page(browser, start_server):
    server = await hostile_server(start_server)
    made = await hostile_complaints(server)
    # a staff member whose name is itself hostile answers on one of them
    await server.services.auth.create_user(email="mallory@example.test", name=PAYLOADS["attr-dq"], role="supervisor", password=CAST_PASSWORD)
    tripwire = Tripwire()
    context = await tripwire.arm(await drive.new_context(browser))
    page = await context.new_page()

    for item in made:
        await page.goto(f"{server.url}/track/{item['reference']}?key={item['key']}")
        text = item["text"]
        await literally(page.locator(".track-summary .subject"), text)
        await literally(page.locator(".track-compensation-reason"), text)
        bubbles = await all_texts(page.locator(".track-bubble"))
        assert bubbles.count(text) == 2, bubbles  # the complaint's own text and the customer's message
        await tripwire.assert_clean(page)

    # staff text and names on an open complaint, and what the customer typed kept in a refused form
    fresh = await peers.customer(server.url)
    submitted = (await fresh.call("complaint:submit", {"category": "withdrawals", "subject": "Payout", "body": "Late"}))["complaint"]
    staff_member = await staff(server.services, "mallory@example.test")
    for text in NAMES:
        await server.services.complaints.reply(staff_member, submitted["reference"], text)
    url = f"{server.url}/track/{submitted['reference']}?key={submitted['tracking_key']}"
    await page.goto(url)
    bubbles = await all_texts(page.locator(".track-line--reply .track-bubble"))
    assert bubbles == NAMES, bubbles
    await literally(page.locator(".track-line--reply .track-author").first, PAYLOADS["attr-dq"])
    draft = PAYLOADS["textarea"] + " " + "x" * 4000  # too long: the page comes back with the draft kept
    await page.locator("#track-body").evaluate("(el, text) => { el.value = text; }", draft)
    await page.locator(".track-form button[type=submit]").first.click()
    await expect(page.locator("#track-error")).to_be_visible()
    assert await page.locator("#track-body").input_value() == draft
    # what the address carries is no way in either
    for query in ('&lang="><img src=x onerror=alert(1)>', "&done=<script>alert(1)</script>", "&lang=javascript:alert(1)"):
        await page.goto(url + query)
        await expect(page.locator(".track-summary .subject")).to_have_text("Payout")
    await page.goto(f"{server.url}/track/%3Cimg%20src=x%20onerror=alert(1)%3E?key=%22%3E%3Csvg%20onload=alert(1)%3E")
    await expect(page.locator("h1")).to_be_visible()
    await tripwire.assert_clean(page)
    await fresh.close()


async def test_hostile_staff_text_is_text_in_the_widgets_complaints(browser, start_server):
    server = await hostile_server(start_server)
    tripwire = Tripwire()
    context = await tripwire.arm(await drive.new_context(browser))
    page = await context.new_page()
    frame = await drive.open_widget(page, server.url)
    await frame.locator("#tab-complaints").click()
    await frame.locator("#complaint-new").click()
    await frame.locator("#cf-category").select_option("withdrawals")
    await frame.locator("#cf-subject").fill(PAYLOADS["attr-sq"])
    await frame.locator("#cf-body").fill(PAYLOADS["textarea"])
    await frame.locator("#cf-submit").click()
    reference = await frame.locator("#complaint-sent .reference-value").inner_text()
    await frame.locator("#complaint-sent .btn").click()

    bob, sam = await staff(server.services), await staff(server.services, SAM)
    for text in NAMES:
        await server.services.complaints.reply(bob, reference, text)
    proposal = await server.services.complaints.propose_compensation(bob, reference, amount_minor=900, currency="EUR", reason=PAYLOADS["img"])
    await server.services.complaints.decide_compensation(sam, proposal["id"], approve=True, note=None)

    item = frame.locator(".complaint-open", has_text=reference)
    await expect(item).to_be_visible()
    await literally(frame.locator(".complaint-subject"), PAYLOADS["attr-sq"])
    await item.click()
    await literally(frame.locator(".case-subject"), PAYLOADS["attr-sq"])
    await expect(frame.locator("#complaint-detail .bubble", has_text=NAMES[-1])).to_have_count(1)
    shown = await all_texts(frame.locator("#complaint-detail .bubble"))
    assert shown == [PAYLOADS["textarea"], *NAMES], shown
    await literally(frame.locator(".case-comp-reason"), PAYLOADS["img"])
    await tripwire.assert_clean(page)


# -- reports ----------------------------------------------------------------------------------------


async def test_hostile_agent_category_and_flag_text_is_text_on_the_reports_page(browser, start_server):
    server = await hostile_server(start_server)
    services = server.services
    ada = await add_admin(services)
    agents = {}
    for label, text in PAYLOADS.items():
        row = await services.auth.create_user(email=f"{label}@example.test", name=text, role="agent", password=CAST_PASSWORD)
        agents[text] = row["id"]
    category_names = [PAYLOADS["rlo"], PAYLOADS["attr-sq"], PAYLOADS["img"], PAYLOADS["rtl"]]
    for n, name in enumerate(category_names):
        values = validate.category(validate.RawForm.of({
            "slug": f"hostile_{n}", "name_en": name, "name_ru": name, "name_pl": name, "first_response_hours": "24",
            "resolution_hours": "48", "owner_group": "payments", "position": str(50 + n), "active": True,
        }))
        await services.admin.catalog.create_category(ada, values)

    # a week with complaints well above the usual ones in the first hostile category: a flag
    end = datetime(2026, 11, 8, tzinfo=timezone.utc)
    history = History(services.db, end - timedelta(weeks=9))
    for week in range(9):
        for n in range(2):
            await history.complaint(week * 24 * 7 + 30 + n, category="hostile_0", subject=PAYLOADS["script"])
    for n in range(10):
        await history.complaint(9 * 24 * 7 - 40 + n, category="hostile_0", subject=PAYLOADS["script"])
    for n, (text, user_id) in enumerate(agents.items()):
        await history.chat(9 * 24 * 7 - 30 + n, topic=f"hostile_{n % 4}", agent=user_id, first_response_s=20,
                           outcome="resolved", rating=4, comment=text)
        await history.complaint(9 * 24 * 7 - 20 + n, category=f"hostile_{n % 4}", assignee=user_id, status="closed",
                                first_response=1, resolved=2, rating=3, comment=text, subject=text)

    tripwire = Tripwire()
    sam = await signed_in(browser, tripwire, server.url, "sam@example.test", "/reports")
    await sam.goto(f"{server.url}/reports?preset=custom&from=2026-11-01&to=2026-11-07")
    await expect(sam.locator("#kpis")).to_be_visible()

    flag = sam.locator("#recurring .rp-flags li", has=sam.locator("strong"))
    await expect(flag).to_have_count(1)
    await literally(flag.locator("strong"), PAYLOADS["rlo"])
    rows = await all_texts(sam.locator("#recurring-table tbody th"))
    assert set(category_names) <= set(rows), rows
    by_category = await all_texts(sam.locator("#category-table tbody th"))
    assert set(category_names) <= set(by_category), by_category
    by_agent = await all_texts(sam.locator("#csat-agents tbody th"))
    assert set(NAMES) <= set(by_agent), by_agent
    # in the filters every name reads as typed, inside invisible isolates where it could turn the list around
    options = await all_texts(sam.locator("#filters select[name=agent] option"))
    assert {isolate(name) for name in NAMES} <= {o.removesuffix(" (inactive)") for o in options}, options
    categories = await all_texts(sam.locator("#filters select[name=category] option"))
    assert {isolate(name) for name in category_names} <= set(categories), categories
    # the charts got the same names from the page's data attribute: drawn, not parsed as markup
    await expect(sam.locator("#chart-categories")).to_have_attribute("height", re.compile(r"\d+"))
    await sam.locator("#chart-categories").hover()
    await tripwire.assert_clean(sam)


# -- admin pages and what the widget shows of them --------------------------------------------------


async def test_hostile_staff_entered_values_are_text_in_admin_pages_and_the_widget(browser, start_server):
    server = await hostile_server(start_server)
    services = server.services
    ada_id = await add_admin(services)
    ada = await staff(services, ADA)
    user_ids = []
    for label, text in PAYLOADS.items():
        profile = validate.user_profile(validate.RawForm.of({
            "name": text, "email": f"{label}@example.test", "role": "agent", "max_chats": "2", "languages": ["en"],
        }), ["withdrawals"])
        row, _ = await services.admin.users.create(ada, profile, validate.NewPassword(CAST_PASSWORD))
        user_ids.append(row["id"])
    await services.admin.catalog.create_category(ada_id, validate.category(validate.RawForm.of({
        "slug": "hostile", "name_en": PAYLOADS["attr-dq"], "name_ru": PAYLOADS["attr-sq"], "name_pl": PAYLOADS["svg"],
        "first_response_hours": "24", "resolution_hours": "48", "owner_group": "payments", "position": "0", "active": True,
    })))
    answer_id = await services.admin.catalog.save_canned_answer(ada_id, None, validate.canned_answer(validate.RawForm.of({
        "shortcut": "hostile", "locale": "en", "title": PAYLOADS["attr-sq"], "body": PAYLOADS["textarea"], "active": True,
    })))
    article_id = await services.admin.catalog.save_faq_article(ada_id, None, validate.faq_article(validate.RawForm.of({
        "locale": "en", "category": "", "position": "0", "question": PAYLOADS["img"], "answer": PAYLOADS["csti"], "active": True,
    }), []))
    await services.admin.tokens.issue(ada_id, validate.TokenValues(user_id=ada_id, label=PAYLOADS["attr-dq"]))
    await services.admin.runtime.save_widget(ada_id, validate.WidgetValues(
        allowed_origins=(), brand_color="#0a7d5a", greeting={"en": PAYLOADS["svg"], "ru": "", "pl": ""}, queue_timeout=600.0,
    ))

    tripwire = Tripwire()
    admin = await signed_in(browser, tripwire, server.url, ADA, "/admin/users")
    await tripwire.assert_clean(admin)
    names = await all_texts(admin.locator("a.row-title"))
    assert set(NAMES) <= set(names), names
    for user_id, text in zip(user_ids, NAMES):
        await admin.goto(f"{server.url}/admin/users/{user_id}")
        await tripwire.assert_clean(admin)
        assert await admin.locator("#f-name").input_value() == text
        await literally(admin.locator(".crumbs span").last, text)
    await admin.goto(f"{server.url}/admin/categories")
    await tripwire.assert_clean(admin)
    await literally(admin.locator("a.row-title[href='/admin/categories/hostile']"), PAYLOADS["attr-dq"])
    await admin.goto(f"{server.url}/admin/categories/hostile")
    await tripwire.assert_clean(admin)
    for field, label in (("name_en", "attr-dq"), ("name_ru", "attr-sq"), ("name_pl", "svg")):
        assert await admin.locator(f"#f-{field}").input_value() == PAYLOADS[label]
    await admin.goto(f"{server.url}/admin/canned")
    await tripwire.assert_clean(admin)
    await expect(admin.locator("a.row-title", has_text="/hostile")).to_have_text(f"/hostile · {PAYLOADS['attr-sq']}")
    await admin.goto(f"{server.url}/admin/canned/{answer_id}")
    await tripwire.assert_clean(admin)
    assert await admin.locator("#f-title").input_value() == PAYLOADS["attr-sq"]
    assert await admin.locator("#f-body").input_value() == PAYLOADS["textarea"]
    await admin.goto(f"{server.url}/admin/faq")
    await tripwire.assert_clean(admin)
    await literally(admin.locator(f"a.row-title[href='/admin/faq/{article_id}']"), PAYLOADS["img"])
    await admin.goto(f"{server.url}/admin/faq/{article_id}")
    await tripwire.assert_clean(admin)
    assert await admin.locator("#f-question").input_value() == PAYLOADS["img"]
    assert await admin.locator("#f-answer").input_value() == PAYLOADS["csti"]
    await admin.goto(f"{server.url}/admin/tokens")
    await tripwire.assert_clean(admin)
    await expect(admin.locator("main")).to_contain_text(PAYLOADS["attr-dq"])
    await admin.goto(f"{server.url}/admin/widget")
    await tripwire.assert_clean(admin)
    assert await admin.locator("#f-greeting_en").input_value() == PAYLOADS["svg"]
    # a refused form shows what was typed, in the field, as typed
    await admin.goto(f"{server.url}/admin/users/new")
    await admin.fill("#f-name", PAYLOADS["attr-dq"])
    await admin.fill("#f-email", "not an address")
    await admin.click("button:has-text('Create user')")
    await expect(admin.locator("#error-summary")).to_be_visible()
    assert await admin.locator("#f-name").input_value() == PAYLOADS["attr-dq"]
    assert await admin.locator("#f-email").input_value() == "not an address"
    await tripwire.assert_clean(admin)

    # the customer sees the greeting, the category, the FAQ and the agent's name as text
    dana = user_ids[NAMES.index(PAYLOADS["attr-sq"])]
    await services.dispatcher.refresh_agent(dana)
    agent_page = await signed_in(browser, tripwire, server.url, "attr-sq@example.test", "/console")
    await agent_page.click("#presence [data-status=online]")
    context = await tripwire.arm(await drive.new_context(browser))
    page = await context.new_page()
    frame = await drive.open_widget(page, server.url)
    await expect(frame.locator("[data-i18n='home.greeting']")).to_have_text(PAYLOADS["svg"])
    await expect(frame.locator(".chip", has_text=PAYLOADS["attr-dq"])).to_have_count(1)
    await frame.locator(".chip", has_text=PAYLOADS["attr-dq"]).click()
    await frame.locator("#start-body").fill("hello")
    await frame.locator("#start-submit").click()
    await expect(frame.locator("#live")).to_be_visible()
    await expect(frame.locator("#live")).to_contain_text(PAYLOADS["attr-sq"])
    await frame.locator("#tab-help").click()
    await expect(frame.locator("#view-help")).to_contain_text(PAYLOADS["img"])
    await tripwire.assert_clean(page, agent_page)


async def test_a_name_with_an_open_override_turns_no_admin_notice_or_list_entry_around(browser, start_server):
    """Sentences the server writes around a name (the notices after creating, deactivating and
    reactivating a user) and the lists that name people (<option>, where <bdi> cannot go) keep their
    own words in order, whatever direction the name leaves open."""
    server = await hostile_server(start_server)
    await add_admin(server.services)
    tripwire = Tripwire()
    admin = await signed_in(browser, tripwire, server.url, ADA, "/admin/users/new")
    await admin.fill("#f-name", PAYLOADS["rlo"])
    await admin.fill("#f-email", "refund@example.test")
    await admin.click("button:has-text('Create user')")
    await expect(admin.locator(".notice-success")).to_contain_text("can now sign in as refund@example.test")
    await tripwire.assert_clean(admin)

    await admin.locator("label.check", has_text="I understand").click()
    await admin.locator("button.button-danger", has_text="Deactivate").click()
    await expect(admin.locator(".notice-success")).to_contain_text("is deactivated")
    await tripwire.assert_clean(admin)
    await admin.locator("button", has_text="Reactivate").click()
    await expect(admin.locator(".notice-success")).to_contain_text("can sign in again")
    await tripwire.assert_clean(admin)

    isolated = f"\u2068{PAYLOADS['rlo']}\u2069"
    await admin.goto(f"{server.url}/admin/tokens")
    owners = await all_texts(admin.locator("#f-user_id option"))
    assert f"{isolated} · agent" in owners, owners
    await admin.goto(f"{server.url}/reports")
    agents = await all_texts(admin.locator("select[name=agent] option"))
    assert isolated in agents, agents
    await tripwire.assert_clean(admin)
