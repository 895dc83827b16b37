"""Visitor text is text on the queue monitor and in the console's complaints workspace, and nothing
runs: every payload of tests/browser/hostile.py in every field, checked in Chromium with the tripwire."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests import peers
from tests.browser.hostile import NAMES, PAYLOADS, Tripwire, all_texts, hostile_complaints, hostile_server, literally, signed_in

pytestmark = pytest.mark.browser


async def test_hostile_visitor_text_shows_literally_on_the_monitor(browser, start_server):
    """Queue, drawer, assign dialog, agent panel and the at-risk complaints list, with every payload."""
    # every complaint is "at risk" from the start: due within the warning window
    server = await hostile_server(start_server, sla_warning_hours=47.0)
    queued = []
    for text in NAMES:
        customer = await peers.customer(server.url)
        refused = await customer.call("chat:start", {"topic": text, "body": text, "name": text})
        assert refused["ok"] is False and refused["error"]["code"] == "invalid"  # a topic must be a known category
        started = await customer.call("chat:start", {"topic": "withdrawals", "name": text, "body": text})
        assert started["ok"], started
        submitted = await customer.call("complaint:submit", {"category": "withdrawals", "subject": text, "body": text})
        assert submitted["ok"], submitted
        queued.append(customer)
    tripwire = Tripwire()
    sam = await signed_in(browser, tripwire, server.url, "sam@example.test", "/monitor")
    await expect(sam.locator("#live")).to_have_attribute("data-state", "live")
    await expect(sam.locator("#queue-rows .q-topic").first).to_have_text("Payments and withdrawals")

    buttons = sam.locator("#queue-rows .q-customer .link-button")
    await expect(buttons).to_have_count(len(NAMES))
    assert sorted(await all_texts(buttons)) == sorted(NAMES)
    for index in range(len(NAMES)):
        button = buttons.nth(index)
        name = await button.evaluate("el => el.textContent")
        await button.click()
        await literally(sam.locator("#drawer-title"), name)
        await expect(sam.locator("#drawer .decision").first).to_be_visible()
        await tripwire.assert_clean(sam)

    risk = sam.locator("#risk-list .risk-item")
    await expect(risk).to_have_count(len(NAMES))
    assert sorted(await all_texts(sam.locator("#risk-list .risk-subject"))) == sorted(NAMES)
    metas = await all_texts(sam.locator("#risk-list .risk-meta"))
    assert all(any(meta.endswith(f" · {name}") for meta in metas) for name in NAMES), metas

    # assigned, the chats show under the agent, still as text
    bob = await signed_in(browser, tripwire, server.url, "bob@example.test", "/console")
    await bob.click("#presence [data-status=online]")
    agent_chats = sam.locator("#agents [data-agent-id]", has_text="Bob").locator(".agent-chat")
    await expect(agent_chats).to_have_count(2)
    shown = await all_texts(agent_chats)
    assert sum(any(name in text for text in shown) for name in NAMES) == 2, shown
    await tripwire.assert_clean(sam, bob)

    # assigning the chat of the open override to Bob, who is full: the dialog's title, its error
    # and the toast keep their own words in order
    row = sam.locator("#queue-rows tr", has=sam.locator(".link-button", has_text=PAYLOADS["rlo"]))
    await row.get_by_role("button", name="Assign…").click()
    await expect(sam.locator("#agent-title")).to_have_text(f"Assign the chat with {PAYLOADS['rlo']}")
    await sam.locator("#agent-dialog label.choice", has_text="Bob").click()
    await sam.locator("#agent-dialog").get_by_role("button", name="Assign").click()
    await expect(sam.locator("#agent-dialog .form-error")).to_have_text("Bob is at capacity. Tick the box to assign anyway.")
    await tripwire.assert_clean(sam)
    await sam.locator("#agent-force").check()
    await sam.locator("#agent-dialog").get_by_role("button", name="Assign").click()
    await expect(sam.locator(".toast").last).to_have_text(f"Assigned the chat with {PAYLOADS['rlo']} to Bob.")
    await tripwire.assert_clean(sam, bob)
    for customer in queued:
        await customer.close()


async def test_hostile_complaint_shows_literally_in_the_console_list_and_detail(browser, start_server):
    """The list, the header and its facts (the customer's name and e-mail link), the thread with the
    originating chat, compensation, the audit trail and the rating, with every payload."""
    server = await hostile_server(start_server)
    made = await hostile_complaints(server)
    tripwire = Tripwire()
    sam = await signed_in(browser, tripwire, server.url, "sam@example.test", "/console", viewport={"width": 1440, "height": 900})
    await sam.click("#tab-complaints")
    await expect(sam.locator("#cx-total")).to_have_text(f"{2 * len(made)} complaints")
    subjects = await all_texts(sam.locator("#cx-rows .cx-row-subject"))
    assert set(NAMES) <= set(subjects), subjects

    for item in made:
        text = item["text"]
        await sam.evaluate("reference => { location.hash = `complaints/${reference}`; }", item["reference"])
        await expect(sam.locator("#cx-ref")).to_have_text(item["reference"])
        await literally(sam.locator("#cx-subject"), text)
        await literally(sam.locator(".cx-entry-received .cx-card-body"), text)
        await literally(sam.locator(".cx-entry-customer .cx-card-body").first, text)
        customer = sam.locator(".cx-customer")
        await expect(customer).to_contain_text(text)
        email = customer.locator("a.cx-email")
        await literally(email, item["email"])
        href = await email.get_attribute("href")
        assert href is not None and href.startswith("mailto:") and "?" not in href and "&" not in href, href
        await literally(sam.locator("#cx-comp-list .cx-comp-reason"), text)
        await literally(sam.locator("#cx-comp-list .cx-comp-note-text"), f" — {text}")
        notes = await all_texts(sam.locator("#cx-audit .cx-audit-note"))
        for expected in (text, f"€15.00 — {text}", f"Approved €15.00 — {text}", f"2 of 5 — {text}"):
            assert expected in notes, (expected, notes)
        events = await all_texts(sam.locator(".cx-entry-event .cx-event-text"))
        assert f"Escalated to level 2: {text}" in events, events
        await expect(sam.locator("#cx-facts")).to_contain_text(f"★★☆☆☆ — {text}")
        await sam.locator("#cx-email, a.cx-email").first.hover()
        await tripwire.assert_clean(sam)

    # a complaint from a chat: its name, and the chat folded into the thread
    for item in made:
        await sam.evaluate("reference => { location.hash = `complaints/${reference}`; }", item["chat_reference"])
        await expect(sam.locator("#cx-ref")).to_have_text(item["chat_reference"])
        await sam.locator(".cx-origin summary").click()
        line = sam.locator(".cx-origin .cx-chat-customer")
        await expect(line).to_have_count(1)
        await literally(line.locator("p"), item["text"])
        await expect(line.locator(".cx-chat-author")).to_contain_text(item["text"])
        await expect(sam.locator(".cx-customer")).to_contain_text(item["text"])
        await tripwire.assert_clean(sam)
