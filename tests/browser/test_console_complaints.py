"""The console's complaints workspace: list and filters, a complaint from a chat worked to resolution,
internal notes kept from the customer, compensation approval, SLA notices from a real sweep, the phone."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page, expect

from tests import peers
from tests.browser import drive
from tests.complaint_steps import retire_category, staff
from tests.conftest import seed_cast

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1440, "height": 900}


async def chat_complaint(url: str, body: str, *, topic: str = "withdrawals", name: str = "Alice") -> tuple[peers.Peer, str]:
    """A customer's chat that ends "not solved": a complaint that carries the chat. Returns the customer and the reference."""
    customer = await peers.customer(url)
    started = await customer.call("chat:start", {"topic": topic, "name": name, "email": "alice@example.test", "body": body})
    assert started["ok"], started
    ended = await customer.call("chat:end", {"conversation_id": started["conversation"]["id"], "resolved": False})
    assert ended["ok"], ended
    return customer, ended["conversation"]["complaint_reference"]


async def logged(live, subject: str, *, category: str = "technical", email: str = "bob@example.test") -> str:
    """A complaint staff logged from a phone call."""
    view = await live.services.complaints.log(
        await staff(live.services, email), category=category, subject=subject, body="Called in about it.", channel="phone",
    )
    return view["reference"]


async def open_complaints(page: Page) -> None:
    await page.click("#tab-complaints")
    await expect(page.locator("#tab-complaints")).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#chats-section")).to_be_hidden()
    await expect(page.locator("#cx-total")).not_to_have_text("Loading…")


async def write(page: Page, mode: str, body: str) -> None:
    await page.click(f"#cx-composer [data-mode={mode}]")
    await page.fill("#cx-body", body)
    await page.click("#cx-send")
    await expect(page.locator("#cx-body")).to_have_value("")


async def test_an_agent_works_a_chat_complaint_from_the_list_to_resolution(browser, live):
    errors = drive.BrowserErrors()
    customer, reference = await chat_complaint(live.url, "My withdrawal of 250 EUR never arrived")
    other = await logged(live, "Live stream freezes on Android")
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test", viewport=DESKTOP))
    await open_complaints(bob)

    rows = bob.locator("#cx-rows .cx-row")
    await expect(rows).to_have_count(2)
    await expect(bob.locator("#cx-total")).to_have_text("2 complaints")
    await bob.select_option("#cx-f-category", "withdrawals")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator(".cx-ref")).to_have_text(reference)
    await expect(bob.locator("#cx-total")).to_have_text("1 complaint match")
    await bob.click("#cx-clear")
    await expect(rows).to_have_count(2)
    await bob.fill("#cx-q", "stream")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator(".cx-ref")).to_have_text(other)
    await bob.fill("#cx-q", reference)
    await expect(rows.first.locator(".cx-ref")).to_have_text(reference)
    await expect(rows).to_have_count(1)
    row = rows.first
    await expect(row.locator(".cx-status")).to_have_text("New")
    await expect(row.locator(".cx-owner-name")).to_have_text("Unassigned")
    await expect(row.locator(".cx-due")).to_have_text(re.compile(r"^due in \d+ h$"))

    await row.locator(".cx-row-main").click()
    await expect(bob).to_have_url(re.compile(f"#complaints/{reference}$"))
    await expect(bob.locator("#cx-ref")).to_have_text(reference)
    await expect(bob.locator("#cx-status")).to_have_text("New")
    origin = bob.locator(".cx-origin")
    await expect(origin).not_to_have_attribute("open", "")  # the chat is folded until asked for
    await expect(origin.locator(".cx-chat-line").first).to_be_hidden()
    await origin.locator("summary").click()
    await expect(origin.locator(".cx-chat-customer")).to_contain_text("My withdrawal of 250 EUR never arrived")

    # only what the state allows: a new complaint can be started, not reopened or accepted
    await expect(bob.locator("#cx-actions button")).to_have_text(["Start work · take it", "Category…", "Escalate…", "Resolve…"])
    await bob.click("#cx-start")
    await expect(bob.locator("#cx-status")).to_have_text("In progress")
    await expect(bob.locator("#cx-owner")).to_contain_text("Bob (you)")
    await expect(row.locator(".cx-owner-name")).to_have_text("You")

    await write(bob, "reply", "We are checking this with the payments team.")
    await expect(bob.locator(".cx-entry-reply .cx-card-body")).to_have_text(["We are checking this with the payments team."])
    await write(bob, "note", "Bank transfer ref PX-55812, sent Tuesday")
    note = bob.locator(".cx-entry-note")
    await expect(note.locator(".cx-kind")).to_have_text("Internal note")
    await expect(note.locator(".cx-card-body")).to_have_text("Bank transfer ref PX-55812, sent Tuesday")

    # the customer's own view has the reply and not the note, and no live event carried it
    seen = await customer.call("complaint:get", {"reference": reference})
    assert seen["ok"], seen
    bodies = [e["body"] for e in seen["complaint"]["entries"]]
    assert "We are checking this with the payments team." in bodies
    assert not any("PX-55812" in b for b in bodies)
    assert "PX-55812" not in repr(customer.events)

    await write(bob, "question", "Which bank account did you withdraw to?")
    await expect(bob.locator("#cx-status")).to_have_text("Awaiting customer")
    await expect(bob.locator("#cx-composer [data-mode=question]")).to_be_hidden()  # asked already: wait for the answer

    answered = await customer.call("complaint:reply", {"reference": reference, "body": "The one ending in 4411"})
    assert answered["ok"], answered
    await expect(bob.locator(".cx-entry-customer .cx-card-body")).to_have_text(["The one ending in 4411"])  # live
    await expect(bob.locator("#cx-status")).to_have_text("In progress")

    # a failed send says so where the agent is looking, and keeps the text
    await bob.context.set_offline(True)
    await bob.click("#cx-resolve")
    await expect(bob.locator("#cx-composer")).to_have_attribute("data-mode", "resolution")
    await bob.fill("#cx-body", "The bank returned the payment; we re-sent it today.")
    await bob.click("#cx-send")
    await expect(bob.locator("#cx-composer .cx-error")).to_contain_text("cannot be reached")
    await bob.context.set_offline(False)
    await expect(bob.locator("#banner")).to_be_hidden(timeout=15_000)
    await expect(bob.locator("#cx-body")).to_have_value("The bank returned the payment; we re-sent it today.")
    await bob.locator("#cx-body").press("Control+Enter")
    await expect(bob.locator("#cx-status")).to_have_text("Resolved")
    await expect(bob.locator("#cx-composer .cx-error")).to_be_hidden()
    await expect(bob.locator("#cx-actions button")).to_have_text(["Let go", "Category…", "Escalate…"])
    await expect(bob.locator("#cx-composer [role=radio]:visible")).to_have_text(["Internal note"])
    await expect(row.locator(".cx-status")).to_have_text("Resolved")
    await expect(row.locator(".cx-due")).to_have_text("resolved just now")  # seconds ago, not "1 min"

    audit = bob.locator("#cx-audit .cx-audit-item")
    await expect(audit.first).to_contain_text("Resolved")
    await expect(audit.first).to_contain_text("You · In progress → Resolved")
    await expect(bob.locator("#cx-audit")).to_contain_text("Internal note")
    await customer.close()
    assert errors.errors == []


async def test_each_kind_of_entry_in_the_thread_is_labelled_for_what_it_is(browser, live):
    """A question to the customer and the resolution are public replies to the API (kind "reply"),
    but the thread tells them apart from an ordinary reply, also when read again later."""
    errors = drive.BrowserErrors()
    customer, reference = await chat_complaint(live.url, "My withdrawal of 80 EUR is stuck")
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test", viewport=DESKTOP))
    await bob.goto(f"{live.url}/console#complaints/{reference}")
    await expect(bob.locator("#cx-ref")).to_have_text(reference)
    await bob.click("#cx-start")
    await expect(bob.locator("#cx-status")).to_have_text("In progress")
    await write(bob, "reply", "We are looking into it.")
    await write(bob, "note", "Payments team asked")
    await write(bob, "question", "Which card did you use?")
    await expect(bob.locator("#cx-status")).to_have_text("Awaiting customer")
    answered = await customer.call("complaint:reply", {"reference": reference, "body": "The one ending in 4411"})
    assert answered["ok"], answered
    await expect(bob.locator("#cx-status")).to_have_text("In progress")
    await write(bob, "reply", "Thanks, checking that card.")
    await write(bob, "resolution", "We re-sent the 80 EUR to that card today.")
    await expect(bob.locator("#cx-status")).to_have_text("Resolved")

    cards = bob.locator("#cx-thread .cx-entry[data-seq] .cx-card")
    expected = [
        ("Public reply", "We are looking into it."),
        ("Internal note", "Payments team asked"),
        ("Question to customer", "Which card did you use?"),
        ("Customer", "The one ending in 4411"),
        ("Public reply", "Thanks, checking that card."),
        ("Resolution", "We re-sent the 80 EUR to that card today."),
    ]
    for page in (bob, None):
        if page is None:  # as stored: a fresh read labels them the same
            await bob.reload()
            await expect(bob.locator("#cx-ref")).to_have_text(reference)
        await expect(cards.locator(".cx-kind")).to_have_text([label for label, _ in expected])
        await expect(cards.locator(".cx-card-body")).to_have_text([body for _, body in expected])
    # each kind looks different too, not only its words
    backgrounds = await cards.locator(".cx-kind").evaluate_all("tags => tags.map((t) => getComputedStyle(t).backgroundColor)")
    reply, note, question, _, _, resolution = backgrounds
    assert len({reply, note, question, resolution}) == 4, backgrounds
    await customer.close()
    assert errors.errors == []


async def test_a_supervisor_approves_the_compensation_an_agent_proposed(browser, live):
    errors = drive.BrowserErrors()
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test", viewport=DESKTOP))
    await open_complaints(bob)
    await expect(bob.locator("#cx-empty")).to_contain_text("No complaints yet")

    # a complaint that came by e-mail, logged through the dialog
    await bob.click("#cx-log")
    dialog = bob.locator("#cx-log-dialog")
    await dialog.locator("select[name=category]").select_option("bet_settlement")
    await dialog.locator("input[name=subject]").fill("Void bet settled as a loss")
    await dialog.locator("button[type=submit]").click()
    await expect(dialog.locator(".form-error")).to_have_text("Describe what happened.")
    await dialog.locator("textarea[name=body]").fill("Match on 12 March was abandoned; the bet should be void.")
    await dialog.locator("input[name=customer_email]").fill("marek@example.test")
    await dialog.locator("input[name=customer_name]").fill("Marek Nowak")
    await dialog.locator("button[type=submit]").click()
    await expect(dialog).to_be_hidden()
    await expect(bob.locator("#cx-subject")).to_have_text("Void bet settled as a loss")
    await expect(bob.locator("#cx-facts")).to_contain_text("E-mail · Logged by staff")
    await expect(bob.locator("#cx-facts")).to_contain_text("marek@example.test")
    reference = await bob.locator("#cx-ref").inner_text()
    await expect(bob.locator("#cx-rows .cx-row")).to_have_count(1)

    await bob.fill("#cx-comp-amount", "0")
    await bob.fill("#cx-comp-reason", "Stake refund")
    await bob.click("#cx-comp-form button[type=submit]")
    await expect(bob.locator("#cx-comp-form .cx-error")).to_contain_text("Enter an amount above zero")
    await bob.fill("#cx-comp-amount", "25,50")
    await bob.select_option("#cx-comp-currency", "EUR")
    await bob.click("#cx-comp-form button[type=submit]")
    proposal = bob.locator("#cx-comp-list .cx-comp")
    await expect(proposal.locator(".cx-comp-money")).to_have_text("€25.50")
    await expect(proposal.locator(".cx-comp-state")).to_have_text("Awaiting decision")
    await expect(proposal.locator(".cx-comp-why")).to_have_text("Waiting for a supervisor or admin.")
    await expect(proposal.locator("button")).to_have_count(0)

    sam = errors.watch(await drive.console(browser, live.url, "sam@example.test", viewport=DESKTOP))
    await sam.goto(f"{live.url}/console#complaints/{reference}")
    await expect(sam.locator("#cx-ref")).to_have_text(reference)
    bobs = sam.locator("#cx-comp-list .cx-comp").first
    await expect(bobs.locator(".cx-comp-meta").first).to_contain_text("Proposed by Bob")
    # Sam's own proposal waits for someone else
    await sam.fill("#cx-comp-amount", "10")
    await sam.fill("#cx-comp-reason", "Goodwill")
    await sam.click("#cx-comp-form button[type=submit]")
    own = sam.locator("#cx-comp-list .cx-comp").nth(1)
    await expect(own.locator(".cx-approve")).to_be_disabled()
    await expect(own.locator(".cx-reject")).to_be_disabled()
    await expect(own.locator(".cx-comp-why")).to_have_text("You proposed this, so another supervisor or admin decides.")

    await bobs.locator(".cx-comp-note").fill("Void per rule 4.2")
    await bobs.locator(".cx-approve").click()
    await expect(bobs.locator(".cx-comp-state")).to_have_text("Approved")
    await expect(bobs).to_contain_text("Approved by you")
    await expect(bobs).to_contain_text("Void per rule 4.2")
    await expect(sam.locator("#cx-audit .cx-audit-item").first).to_contain_text("Approved €25.50 — Void per rule 4.2")

    # Bob's open page follows live
    approved = bob.locator("#cx-comp-list .cx-comp").first
    await expect(approved.locator(".cx-comp-state")).to_have_text("Approved")
    await expect(approved).to_contain_text("Approved by Sam")
    await expect(bob.locator("#cx-comp-list .cx-comp")).to_have_count(2)

    # Sam hands it to Carol; Bob reclassifies it and escalates it with a reason
    await sam.click("#cx-assign")
    await sam.locator("#cx-assign-choices .choice", has_text="Carol").locator("input").check()
    await sam.click("#cx-assign-dialog button[type=submit]")
    await expect(sam.locator("#cx-owner")).to_contain_text("Carol")
    await expect(bob.locator("#cx-owner")).to_contain_text("Carol")
    await bob.click("#cx-category")
    await bob.select_option("#cx-category-select", "rules")
    await bob.click("#cx-category-dialog button[type=submit]")
    await expect(bob.locator("#cx-facts")).to_contain_text("Rules and terms")
    await expect(bob.locator("#cx-audit .cx-audit-item").first).to_contain_text("Bet settlement → Rules and terms")
    await bob.click("#cx-escalate")
    await bob.click("#cx-escalate-dialog button[type=submit]")
    await expect(bob.locator("#cx-escalate-dialog .form-error")).to_have_text("Write why it needs the next level.")
    await bob.fill("#cx-escalate-dialog textarea[name=reason]", "Void-bet rule disputed; needs a supervisor's ruling")
    await bob.click("#cx-escalate-dialog button[type=submit]")
    await expect(bob.locator("#cx-level")).to_have_text("Level 2 · Supervisors")
    await expect(bob.locator(".cx-readonly")).to_be_visible()
    await expect(bob.locator(".cx-entry-event", has_text="Void-bet rule disputed")).to_have_count(1)
    await expect(sam.locator("#cx-level")).to_have_text("Level 2 · Supervisors")
    await expect(sam.locator("#cx-owner")).to_contain_text("Unassigned")
    assert errors.errors == []


async def test_the_list_pages_with_load_more_and_sorts_newest_first(browser, live):
    bob_user = await staff(live.services)
    for n in range(53):
        await live.services.complaints.log(bob_user, category="other", subject=f"Logged complaint {n:02d}", body="By phone.", channel="phone")
    bob = await drive.console(browser, live.url, "bob@example.test", viewport=DESKTOP)
    await open_complaints(bob)
    rows = bob.locator("#cx-rows .cx-row")
    await expect(rows).to_have_count(50)
    await expect(bob.locator("#cx-total")).to_have_text("50 of 53 complaints")
    await expect(bob.locator("#cx-more")).to_have_text("Load more (3 left)")
    await bob.click("#cx-more")
    await expect(rows).to_have_count(53)
    await expect(bob.locator("#cx-more")).to_be_hidden()
    await expect(bob.locator("#cx-total")).to_have_text("53 complaints")
    await bob.select_option("#cx-f-sort", "newest")
    await expect(rows).to_have_count(50)
    await expect(rows.first.locator(".cx-row-subject")).to_have_text("Logged complaint 52")


@pytest.fixture
async def sla_live(start_server):
    """A server that sweeps every quarter second and warns about three seconds ahead, so SLA notices
    arrive while the test watches."""
    running = await start_server(
        logins_per_minute=1000, queue_timeout=120.0, agent_grace=30.0, sla_sweep_seconds=0.25, sla_warning_hours=0.0008,
    )
    await seed_cast(running.services)
    return running


async def test_sla_warning_and_breach_reach_the_console_as_toasts_and_a_tab_badge(browser, sla_live):
    errors = drive.BrowserErrors()
    bob = errors.watch(await drive.console(browser, sla_live.url, "bob@example.test", viewport=DESKTOP))
    # answers in this category are owed within about six seconds: a warning after three, then a breach
    async with sla_live.services.db.transaction() as tx:
        await tx.execute("UPDATE categories SET first_response_hours = 0.0017 WHERE slug = 'technical'")
    reference = await logged(sla_live, "App crashes when placing a bet")

    warning = bob.locator(".toast-sla-warning")
    await expect(warning).to_contain_text(f"SLA warning · {reference}")
    await expect(warning).to_contain_text("App crashes when placing a bet")
    await expect(bob.locator("#complaints-badge")).to_have_text("1")  # counted while Bob is on Chats
    breach = bob.locator(".toast-sla-breach")
    await expect(breach).to_contain_text(f"SLA breach · {reference}", timeout=15_000)
    await expect(breach).to_contain_text("now level 2")
    # the breach re-arms the clock for the new owners; stop here so the next warning does not race the checks
    await sla_live.services.sweeper.stop()
    await expect(bob.locator("#complaints-badge")).to_have_text("2")

    await breach.locator(".toast-action").click()
    await expect(bob.locator("#complaints-badge")).to_be_hidden()
    await expect(bob.locator("#cx-ref")).to_have_text(reference)
    await expect(bob.locator("#cx-level")).to_have_text("Level 2 · Supervisors")
    # level 2 is for supervisors: Bob reads, and is told why he cannot act
    await expect(bob.locator(".cx-readonly")).to_contain_text("Level 2 belongs to supervisors")
    await expect(bob.locator("#cx-composer")).to_be_hidden()
    await expect(bob.locator("#cx-actions")).to_be_hidden()
    await expect(bob.locator(".cx-entry-event", has_text="SLA breach")).to_have_count(1)
    await expect(bob.locator("#cx-rows .cx-row").first.locator(".cx-level")).to_have_text("L2")
    assert errors.errors == []


async def test_complaints_on_a_phone_show_list_then_detail_and_work_by_keyboard(browser, live):
    errors = drive.BrowserErrors()
    first = await logged(live, "Deposit not credited")
    second = await logged(live, "Bonus missing after deposit", category="bonuses")
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test", viewport=drive.PHONE))
    await expect(bob.locator("#sections")).to_be_visible()
    await open_complaints(bob)
    await expect(bob.locator("#cx-rows")).to_be_visible()
    await expect(bob.locator("#cx-detail-pane")).to_be_hidden()

    # keyboard: rows are buttons, arrows move between them, Enter opens
    await bob.locator("#cx-rows .cx-row-main").first.focus()
    await bob.keyboard.press("ArrowDown")
    await expect(bob.locator("#cx-rows .cx-row-main").nth(1)).to_be_focused()
    opened = await bob.locator("#cx-rows .cx-row-main").nth(1).get_attribute("data-reference")
    assert opened in (first, second)
    await bob.keyboard.press("Enter")
    await expect(bob.locator("#cx-ref")).to_have_text(opened)
    await expect(bob.locator("#cx-rows")).to_be_hidden()
    await expect(bob.locator("#cx-subject")).to_be_focused()
    width = await bob.evaluate("() => document.documentElement.scrollWidth")
    assert width <= drive.PHONE["width"]

    await bob.click("#cx-back")
    await expect(bob.locator("#cx-rows")).to_be_visible()
    await expect(bob.locator("#cx-detail-pane")).to_be_hidden()
    await bob.click("#tab-chats")
    await expect(bob.locator(".list-pane")).to_be_visible()
    await expect(bob.locator("#complaints")).to_be_hidden()
    width = await bob.evaluate("() => document.documentElement.scrollWidth")
    assert width <= drive.PHONE["width"]
    assert errors.errors == []


async def test_escalating_a_complaint_someone_raised_meanwhile_says_so_and_raises_it_no_further(browser, live):
    reference = await logged(live, "Bonus wagering counted wrong", category="bonuses")
    sam = await drive.console(browser, live.url, "sam@example.test", viewport=DESKTOP)
    await sam.goto(f"{live.url}/console#complaints/{reference}")
    await expect(sam.locator("#cx-ref")).to_have_text(reference)
    await sam.click("#cx-escalate")
    await expect(sam.locator("#cx-escalate-hint")).to_contain_text("Level 2")
    # while Sam writes the reason, Bob escalates it to level 2 from his own console
    await live.services.complaints.escalate(await staff(live.services), reference, "VIP customer")
    await sam.fill("#cx-escalate-dialog textarea[name=reason]", "Customer threatens to leave")
    await sam.click("#cx-escalate-dialog button[type=submit]")
    await expect(sam.locator("#cx-escalate-dialog .form-error")).to_have_text(
        "This complaint was escalated meanwhile; it is at level 2 now.")
    row = await live.services.db.fetch_one("SELECT level FROM complaints WHERE reference = ?", (reference,))
    assert row == {"level": 2}


async def test_a_long_originating_chat_reads_on_to_its_last_message_and_stays_read_as_the_complaint_changes(browser, live):
    customer = await peers.customer(live.url)
    started = await customer.call("chat:start", {"topic": "withdrawals", "name": "Alice", "body": "line 1"})
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]
    row = await live.services.db.fetch_one("SELECT * FROM customers WHERE id = ?", (customer.received("session")[0]["customer_id"],))
    for n in range(2, 601):
        await live.services.chats.post_customer_message(row, conversation_id, peers.client_id(), f"line {n}")
    ended = await customer.call("chat:end", {"conversation_id": conversation_id, "resolved": False})
    assert ended["ok"], ended
    reference = ended["conversation"]["complaint_reference"]
    errors = drive.BrowserErrors()
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test", viewport=DESKTOP))
    await bob.goto(f"{live.url}/console#complaints/{reference}")
    await expect(bob.locator("#cx-ref")).to_have_text(reference)

    origin = bob.locator(".cx-origin")
    await origin.locator("summary").click()
    lines = origin.locator(".cx-chat-line")
    await expect(lines).to_have_count(500)
    await expect(origin.locator(".cx-origin-meta")).to_contain_text("500+ messages")
    await origin.get_by_role("button", name="Show more messages").click()
    await expect(lines).to_have_count(600)
    await expect(lines.last).to_contain_text("line 600")
    await expect(origin.locator(".cx-origin-meta")).to_contain_text("600 messages")
    await expect(origin.get_by_role("button", name="Show more messages")).to_have_count(0)

    await write(bob, "note", "Read the whole chat")  # the detail is drawn again from the server's answer
    await expect(bob.locator(".cx-entry-note")).to_have_count(1)
    await expect(origin).to_have_attribute("open", "")
    await expect(lines).to_have_count(600)
    await customer.close()
    assert errors.errors == []


async def test_a_supervisor_decides_a_compensation_on_a_complaint_the_customer_closed_meanwhile(browser, live):
    customer, reference = await chat_complaint(live.url, "My payout is two weeks late")
    services = live.services
    proposal = await services.complaints.propose_compensation(
        await staff(services), reference, amount_minor=1500, currency="EUR", reason="Late payout")
    await services.complaints.resolve(await staff(services), reference, "Re-sent, with 15 EUR on top once approved.")
    accepted = await customer.call("complaint:reply", {"reference": reference, "decision": "accept"})
    assert accepted["ok"] and accepted["complaint"]["status"] == "closed", accepted
    errors = drive.BrowserErrors()
    sam = errors.watch(await drive.console(browser, live.url, "sam@example.test", viewport=DESKTOP))
    await sam.goto(f"{live.url}/console#complaints/{reference}")
    await expect(sam.locator("#cx-status")).to_have_text("Closed")
    await expect(sam.locator(".cx-readonly")).to_have_text(
        "This complaint is closed; only the compensation proposed before it closed is still to be decided.")
    await expect(sam.locator("#cx-actions button")).to_have_count(0)
    item = sam.locator(f"#cx-comp-list .cx-comp[data-id='{proposal['id']}']")
    await item.locator(".cx-approve").click()
    await expect(item.locator(".cx-comp-state")).to_have_text("Approved")
    await expect(sam.locator(".cx-readonly")).to_have_text("This complaint is closed; its record stays as it is.")
    await expect(sam.locator("#cx-comp-form")).to_be_hidden()
    shown = await customer.call("complaint:get", {"reference": reference})
    assert [c["status"] for c in shown["complaint"]["compensations"]] == ["approved"], shown
    await customer.close()
    assert errors.errors == []


async def test_an_assignment_chosen_while_a_colleague_took_the_complaint_is_refused_and_shows_who_has_it(browser, live):
    errors = drive.BrowserErrors()
    reference = await logged(live, "Deposit not credited")
    sam = errors.watch(await drive.console(browser, live.url, "sam@example.test", viewport=DESKTOP))
    await open_complaints(sam)
    await sam.locator("#cx-rows .cx-row", has_text=reference).click()
    await expect(sam.locator("#cx-owner")).to_contain_text("Unassigned")

    # Sam chooses Carol in the dialog; before Sam confirms, Bob takes the complaint himself
    await sam.click("#cx-assign")
    await sam.locator("#cx-assign-choices .choice", has_text="Carol").locator("input").check()
    bob = await staff(live.services, "bob@example.test")
    await live.services.complaints.assign(bob, reference, bob.id)
    await expect(sam.locator("#cx-owner")).to_contain_text("Bob")  # the page follows live
    await sam.click("#cx-assign-dialog button[type=submit]")
    await expect(sam.locator("#cx-assign-dialog .form-error")).to_have_text(
        f"{reference} went to Bob a moment ago, so your change was not made.")
    await expect(sam.locator("#cx-owner")).to_contain_text("Bob")
    held = await live.services.db.fetch_one("SELECT assignee_id FROM complaints WHERE reference = ?", (reference,))
    assert held["assignee_id"] == bob.id  # type: ignore[index]

    # looked at again, Sam's choice goes through
    await sam.click("#cx-assign-dialog [data-close]")
    await sam.click("#cx-assign")
    await sam.locator("#cx-assign-choices .choice", has_text="Carol").locator("input").check()
    await sam.click("#cx-assign-dialog button[type=submit]")
    await expect(sam.locator("#cx-owner")).to_contain_text("Carol")
    assert errors.errors == []


async def test_a_resolution_written_while_the_customer_wrote_is_held_back_until_their_message_is_read(browser, live):
    """The console's view of the thread missed the customer's new message (its refresh had not come
    back): resolving then is refused and says why, the new message shows, the text is kept, and the
    resolution goes out once the agent has seen it."""
    customer, reference = await chat_complaint(live.url, "Withdrawal W-77 is stuck")
    bob = await drive.console(browser, live.url, "bob@example.test", viewport=DESKTOP)
    await open_complaints(bob)
    await bob.locator("#cx-rows .cx-row .cx-row-main").first.click()
    await expect(bob.locator("#cx-ref")).to_have_text(reference)
    await bob.click("#cx-start")
    await expect(bob.locator("#cx-status")).to_have_text("In progress")

    held = asyncio.Event()

    async def hold(route):  # the console's next reads of this complaint wait, as on a slow network
        await held.wait()
        await route.continue_()

    await bob.route(f"**/api/complaints/{reference}", hold)
    answered = await customer.call("complaint:reply", {"reference": reference, "body": "It was sent to the card ending in 4411"})
    assert answered["ok"], answered
    await bob.click("#cx-resolve")
    await bob.fill("#cx-body", "We re-sent the withdrawal to your bank account today.")
    await bob.click("#cx-send")
    await expect(bob.locator("#cx-composer .cx-error")).to_contain_text("The customer wrote meanwhile")
    held.set()
    await expect(bob.locator(".cx-entry-customer .cx-card-body")).to_have_text(["It was sent to the card ending in 4411"])
    await expect(bob.locator("#cx-body")).to_have_value("We re-sent the withdrawal to your bank account today.")
    await expect(bob.locator("#cx-status")).to_have_text("In progress")
    await bob.fill("#cx-body", "We re-sent the withdrawal to the card ending in 4411 today.")
    await bob.click("#cx-send")
    await expect(bob.locator("#cx-status")).to_have_text("Resolved")
    await expect(bob.locator(".cx-entry-reply .cx-card-body")).to_have_text(["We re-sent the withdrawal to the card ending in 4411 today."])
    await bob.unroute(f"**/api/complaints/{reference}")
    await customer.close()


async def test_a_link_to_a_complaint_opened_while_signed_out_leads_to_it_after_signing_in(browser, live):
    # the link in an escalation e-mail: the sign-in page keeps where it was going, the complaint included
    reference = await logged(live, "Bonus not credited after deposit")
    errors = drive.BrowserErrors()
    context = await drive.new_context(browser, viewport=DESKTOP)
    page = errors.watch(await context.new_page())
    await page.goto(f"{live.url}/console#complaints/{reference}")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.fill("input[name=email]", "sam@example.test")
    await page.fill("input[name=password]", drive.CAST_PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{live.url}/console#complaints/{reference}")
    await expect(page.locator("#cx-ref")).to_have_text(reference)
    assert errors.errors == []
    await context.close()


async def test_a_complaint_under_a_retired_category_keeps_its_name_and_can_be_found_but_none_is_filed_under_it(browser, live):
    bonus = await logged(live, "Free spins never credited", category="bonuses")
    await logged(live, "App crashes on login", category="technical")
    await retire_category(live.services, "bonuses")
    bob = await drive.console(browser, live.url, "bob@example.test", viewport=DESKTOP)
    await open_complaints(bob)

    rows = bob.locator("#cx-rows .cx-row")
    await expect(rows).to_have_count(2)
    row = rows.filter(has_text="Free spins never credited")
    await expect(row.locator(".cx-row-category")).to_have_text("Bonuses and promotions")
    await bob.select_option("#cx-f-category", label="Bonuses and promotions (retired)")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator(".cx-ref")).to_have_text(bonus)
    await rows.first.locator(".cx-row-main").click()
    await expect(bob.locator("#cx-facts")).to_contain_text("Bonuses and promotions")

    # moving it elsewhere offers the active categories and its own; a new complaint only the active ones
    await bob.click("#cx-category")
    options = bob.locator("#cx-category-dialog select option")
    await expect(options.first).to_have_text("Bonuses and promotions")
    await expect(bob.locator("#cx-category-dialog select")).to_have_value("bonuses")
    await bob.keyboard.press("Escape")
    await bob.click("#cx-log")
    logged_options = await bob.locator("#cx-log-dialog select[name=category] option").all_inner_texts()
    assert "Bonuses and promotions" not in logged_options and "Technical faults and bugs" in logged_options, logged_options
