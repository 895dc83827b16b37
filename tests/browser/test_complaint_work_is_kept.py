"""Nothing an agent writes on a complaint is lost or stored twice: a retry after an answer lost on
the way back, another complaint, a reload, a sign-in that ended or changed, words typed while a reply
is on its way."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, Route, expect

from tests.browser import drive
from tests.browser.test_console_complaints import logged
from tests.complaint_steps import note, staff

pytestmark = pytest.mark.browser
LONG = " ".join(["We traced your withdrawal with the payments team."] * 6)


async def opened(page: Page, url: str, reference: str) -> None:
    await page.goto(f"{url}/console#complaints/{reference}")
    await expect(page.locator("#cx-ref")).to_have_text(reference)


async def started(live, subject: str, *, category: str = "technical") -> str:
    reference = await logged(live, subject, category=category)
    await live.services.complaints.start(await staff(live.services), reference)
    return reference


async def bodies(live, reference: str) -> list[str]:
    rows = await live.services.db.fetch(
        "SELECT e.body FROM complaint_entries e JOIN complaints c ON c.id = e.complaint_id"
        " WHERE c.reference = ? AND e.kind IN ('reply', 'note') ORDER BY e.seq", (reference,))
    return [row["body"] for row in rows]


async def answer_lost(route: Route) -> None:
    """The write reaches the server; its answer never reaches the page."""
    if route.request.method != "POST":
        await route.continue_()
        return
    await route.fetch()
    await route.abort("connectionreset")


async def test_a_reply_whose_answer_was_lost_is_stored_once_when_sent_again(browser, live):
    errors = drive.BrowserErrors()
    reference = await started(live, "Deposit not credited")
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test"))
    await opened(bob, live.url, reference)
    for mode, text in (("reply", LONG), ("note", "Payments ref PX-55812"), ("resolution", "We re-sent it today.")):
        await bob.click(f"#cx-composer [data-mode={mode}]")
        await bob.fill("#cx-body", text)
        await bob.route("**/api/complaints/**", answer_lost)
        await bob.click("#cx-send")
        await expect(bob.locator("#cx-composer .cx-error")).to_contain_text("cannot be reached")
        await expect(bob.locator("#cx-body")).to_have_value(text)
        await bob.unroute("**/api/complaints/**")
        await bob.click("#cx-send")  # the agent cannot know it went through: they send again
        await expect(bob.locator("#cx-body")).to_have_value("")
        await expect(bob.locator("#cx-composer .cx-error")).to_be_hidden()
    await expect(bob.locator("#cx-status")).to_have_text("Resolved")
    assert await bodies(live, reference) == [LONG, "Payments ref PX-55812", "We re-sent it today."]
    await expect(bob.locator("#cx-thread .cx-card-body")).to_have_count(4)  # as received, and the three
    assert errors.errors == []


async def two_complaints_open(browser, live):
    """Two complaints filed; Bob's console (its page errors watched) has the first open."""
    errors = drive.BrowserErrors()
    first = await started(live, "Deposit not credited")
    second = await started(live, "Bonus missing", category="bonuses")
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test"))
    await opened(bob, live.url, first)
    return errors, bob, first, second


async def test_a_draft_stays_with_its_complaint_and_its_writer_across_complaints_reloads_and_signing_in_again(browser, live):
    errors, bob, first, second = await two_complaints_open(browser, live)
    await bob.click("#cx-composer [data-mode=note]")
    await bob.fill("#cx-body", LONG)
    await bob.fill("#cx-comp-amount", "25,50")
    await bob.select_option("#cx-comp-currency", "GBP")
    await bob.fill("#cx-comp-reason", "Late payout; goodwill for the week lost")

    async def kept() -> None:
        await expect(bob.locator("#cx-body")).to_have_value(LONG)
        await expect(bob.locator("#cx-composer")).to_have_attribute("data-mode", "note")
        await expect(bob.locator("#cx-comp-amount")).to_have_value("25,50")
        await expect(bob.locator("#cx-comp-currency")).to_have_value("GBP")
        await expect(bob.locator("#cx-comp-reason")).to_have_value("Late payout; goodwill for the week lost")

    await opened(bob, live.url, second)  # each complaint has its own
    await expect(bob.locator("#cx-body")).to_have_value("")
    await expect(bob.locator("#cx-comp-amount")).to_have_value("")
    await expect(bob.locator("#cx-comp-reason")).to_have_value("")
    await opened(bob, live.url, first)
    await kept()
    await bob.reload()
    await expect(bob.locator("#cx-ref")).to_have_text(first)
    await kept()

    # signed out from another tab: the console goes to the sign-in page; signed in again, it is there
    other = await bob.context.new_page()
    await other.goto(f"{live.url}/console")
    await other.click("form.logout button")
    await bob.wait_for_url("**/login**")
    await other.close()
    # a colleague signing in on this browser meanwhile sees none of it
    await drive.sign_in(bob, live.url, "carol@example.test")
    await opened(bob, live.url, first)
    await expect(bob.locator("#cx-body")).to_have_value("")
    await expect(bob.locator("#cx-comp-reason")).to_have_value("")
    await bob.click("form.logout button")
    await drive.sign_in(bob, live.url, "bob@example.test")
    await opened(bob, live.url, first)
    await kept()

    # once stored, a draft is gone for good
    await bob.click("#cx-send")
    await expect(bob.locator(".cx-entry-note .cx-card-body")).to_have_text([LONG])
    await bob.click("#cx-comp-form button[type=submit]")
    await expect(bob.locator("#cx-comp-list .cx-comp-money")).to_have_text(["£25.50"])
    await bob.reload()
    await expect(bob.locator("#cx-ref")).to_have_text(first)
    await expect(bob.locator("#cx-comp-list .cx-comp")).to_have_count(1)
    await expect(bob.locator("#cx-body")).to_have_value("")
    await expect(bob.locator("#cx-comp-amount")).to_have_value("")
    await expect(bob.locator("#cx-comp-reason")).to_have_value("")
    assert errors.errors == []


async def test_words_typed_while_a_reply_is_on_its_way_stay_and_a_sent_reply_never_comes_back_as_a_draft(browser, live):
    errors, bob, first, second = await two_complaints_open(browser, live)
    gate = asyncio.Event()

    async def slow(route: Route) -> None:  # a slow network: writes wait until the test lets them go
        if route.request.method == "POST":
            await gate.wait()
        await route.continue_()

    await bob.route("**/api/complaints/**", slow)
    await bob.fill("#cx-body", "We are checking it with the bank.")
    await bob.click("#cx-send")
    await bob.locator("#cx-body").press("End")
    await bob.locator("#cx-body").press_sequentially(" Also: which card did you use?")
    gate.set()
    await expect(bob.locator(".cx-entry-reply .cx-card-body")).to_have_text(["We are checking it with the bank."])
    await expect(bob.locator("#cx-body")).to_have_value("Also: which card did you use?")

    # sent, and the agent opens another complaint before the answer: coming back, the box is empty
    gate.clear()
    await bob.fill("#cx-body", "Which card did you use?")
    await bob.click("#cx-send")
    await opened(bob, live.url, second)
    gate.set()
    await expect(bob.locator("#cx-send")).to_be_enabled()  # its answer has come
    await opened(bob, live.url, first)
    await expect(bob.locator(".cx-entry-reply .cx-card-body")).to_have_count(2)
    await expect(bob.locator("#cx-body")).to_have_value("")
    await bob.unroute("**/api/complaints/**")
    assert errors.errors == []


async def test_an_ended_or_replaced_sign_in_is_explained_and_the_text_outlives_the_reload_it_asks_for(browser, live):
    errors = drive.BrowserErrors()
    reference = await started(live, "Deposit not credited")
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test"))
    await opened(bob, live.url, reference)
    await bob.fill("#cx-body", LONG)
    async with live.services.db.transaction() as tx:  # the session ends (its 12 hours are up)
        await tx.execute("DELETE FROM console_sessions")
    await bob.click("#cx-send")
    error = bob.locator("#cx-composer .cx-error")
    await expect(error).to_have_text("Your session has ended. Reload the page and sign in again; what you typed here is kept.")
    # signed in again in another tab: this page still carries the old session's token
    other = await drive.sign_in(await bob.context.new_page(), live.url, "bob@example.test")
    await other.close()
    await bob.click("#cx-send")
    await expect(error).to_have_text("You signed in again since this page opened. Reload the page; what you typed here is kept.")
    await expect(bob.locator("#cx-body")).to_have_value(LONG)
    await bob.reload()
    await expect(bob.locator("#cx-ref")).to_have_text(reference)
    await expect(bob.locator("#cx-body")).to_have_value(LONG)
    await bob.click("#cx-send")
    await expect(bob.locator("#cx-body")).to_have_value("")
    assert await bodies(live, reference) == [LONG]
    assert errors.errors == []


async def test_a_second_console_on_the_same_complaint_neither_wipes_a_draft_nor_brings_back_a_sent_one(browser, live):
    """Two consoles of one agent show the same complaint. A live update redraws the one nobody types
    in: what it shows is not written over the draft kept for the complaint, neither an empty box over
    words typed in the other console nor a reply the other console has since sent."""
    errors = drive.BrowserErrors()
    reference = await started(live, "Deposit not credited")
    typing = errors.watch(await drive.console(browser, live.url, "bob@example.test"))
    await opened(typing, live.url, reference)
    idle = errors.watch(await typing.context.new_page())
    await opened(idle, live.url, reference)
    await typing.fill("#cx-body", LONG)
    await typing.close()  # the agent closes the console they typed in; the other stays open

    await note(live.services, reference, "Payments ref PX-55812")  # a colleague's note: both consoles redraw
    await expect(idle.locator(".cx-entry-note .cx-card-body")).to_have_text(["Payments ref PX-55812"])
    typing = errors.watch(await idle.context.new_page())
    await opened(typing, live.url, reference)
    await expect(typing.locator("#cx-body")).to_have_value(LONG)

    # the idle console now shows the draft too; it is sent from the other one, and stays sent
    await idle.reload()
    await expect(idle.locator("#cx-body")).to_have_value(LONG)
    await typing.click("#cx-send")
    await expect(typing.locator("#cx-body")).to_have_value("")
    await expect(idle.locator(".cx-entry-reply .cx-card-body")).to_have_text([LONG])
    await typing.reload()
    await expect(typing.locator("#cx-ref")).to_have_text(reference)
    await expect(typing.locator(".cx-entry-reply .cx-card-body")).to_have_text([LONG])
    await expect(typing.locator("#cx-body")).to_have_value("")
    assert await bodies(live, reference) == ["Payments ref PX-55812", LONG]
    assert errors.errors == []


async def test_a_reply_and_a_proposal_sent_from_another_console_do_not_come_back_in_the_first(browser, live):
    """Bob writes a reply and a compensation on a complaint, moves on, and sends both from his second
    console. Back on that complaint in the first console, the forms are empty: what shows there is
    what is kept, not what this page remembered typing, so nothing is offered to be sent twice."""
    errors, bob, first, second = await two_complaints_open(browser, live)
    await bob.fill("#cx-body", LONG)
    await bob.fill("#cx-comp-amount", "25")
    await bob.fill("#cx-comp-reason", "Late payout")
    await opened(bob, live.url, second)

    other = errors.watch(await bob.context.new_page())
    await opened(other, live.url, first)
    await expect(other.locator("#cx-body")).to_have_value(LONG)
    await other.click("#cx-send")
    await expect(other.locator(".cx-entry-reply .cx-card-body")).to_have_text([LONG])
    await other.click("#cx-comp-form button[type=submit]")
    await expect(other.locator("#cx-comp-list .cx-comp")).to_have_count(1)
    await expect(other.locator("#cx-comp-reason")).to_have_value("")

    await opened(bob, live.url, first)
    await expect(bob.locator(".cx-entry-reply .cx-card-body")).to_have_text([LONG])
    await expect(bob.locator("#cx-comp-list .cx-comp")).to_have_count(1)
    await expect(bob.locator("#cx-body")).to_have_value("")
    await expect(bob.locator("#cx-comp-amount")).to_have_value("")
    await expect(bob.locator("#cx-comp-reason")).to_have_value("")
    assert errors.errors == []
