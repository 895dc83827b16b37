"""A customer on the demo page and an agent in the console talk, in two real Chromium contexts."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests import peers
from tests.browser import drive
from chatserver.app import SIO
from tests.conftest import eventually

pytestmark = pytest.mark.browser


async def test_customer_and_agent_exchange_messages_with_typing_both_ways(browser, live):
    errors = drive.BrowserErrors()
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test"))
    context = await drive.new_context(browser)
    page = errors.watch(await context.new_page())
    frame = await drive.open_widget(page, live.url)

    await drive.start_chat(frame, "My withdrawal has been pending since Monday", name="Alice")
    await expect(frame.locator(".msg--customer .bubble")).to_have_text(["My withdrawal has been pending since Monday"])

    # the console is told without a reload, and Bob opens the chat
    await drive.open_chat_in_console(bob, "Alice")
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(["My withdrawal has been pending since Monday"])
    await expect(frame.locator(".status--active .status-title")).to_have_text("Bob")

    # agent typing shows in the widget, then the reply arrives
    await bob.locator("#composer-input").press_sequentially("Checking it", delay=30)
    await expect(frame.locator("#typing")).to_be_visible()
    await expect(frame.locator("#typing-text")).to_contain_text("Bob")
    await bob.locator("#composer-input").press_sequentially(" now", delay=30)
    await bob.locator("#composer-input").press("Enter")
    await expect(frame.locator(".msg--agent .bubble")).to_have_text(["Checking it now"])
    await expect(frame.locator("#typing")).to_be_hidden()

    # customer typing shows in the console, then the answer arrives
    await frame.locator("#composer-input").press_sequentially("Thank you", delay=30)
    await expect(bob.locator("#typing")).to_be_visible()
    await expect(bob.locator("#typing-text")).to_have_text("Alice is typing…")
    await frame.locator("#composer-input").press("Enter")
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(
        ["My withdrawal has been pending since Monday", "Thank you"]
    )
    await expect(frame.locator(".msg--customer.is-last-own .msg-state-text")).to_have_text("Sent")
    assert errors.errors == []


async def test_reload_mid_chat_shows_the_whole_conversation_once(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    context = await drive.new_context(browser)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "First question", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await bob.locator("#composer-input").fill("First answer")
    await bob.locator("#composer-input").press("Enter")
    await expect(frame.locator(".msg--agent .bubble")).to_have_text(["First answer"])
    await drive.send_from_widget(frame, "Second question")
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_count(2)

    await page.reload()
    frame = await drive.open_widget(page)
    bubbles = frame.locator("#log .bubble")
    await expect(bubbles).to_have_text(["First question", "First answer", "Second question"])
    await expect(frame.locator(".status--active")).to_be_visible()

    # and the chat goes on after the reload
    await drive.send_from_widget(frame, "Still there?")
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(
        ["First question", "Second question", "Still there?"]
    )
    await expect(bubbles).to_have_count(4)


async def test_a_reload_with_an_unsent_message_still_shows_everything_before_it(browser, live):
    """The unsent message is resent first and comes back with the newest seq; the history before it
    must still be fetched, not skipped as if it were already there."""
    bob = await drive.console(browser, live.url, "bob@example.test")
    context = await drive.new_context(browser)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "First question", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await bob.locator("#composer-input").fill("First answer")
    await bob.locator("#composer-input").press("Enter")
    await expect(frame.locator(".msg--agent .bubble")).to_have_text(["First answer"])
    conversation_id = (await live.services.db.fetch_one("SELECT id FROM conversations"))["id"]
    # kept as a widget from before kept it, in one list: the reloaded widget still sends it
    await frame.locator("#log").evaluate(
        """(_, id) => localStorage.setItem('chatserver.pending', JSON.stringify([{client_id: 'c-unsent-1',
              conversation_id: id, body: 'Written just before the reload', created_at: new Date().toISOString()}]))""",
        conversation_id,
    )

    await page.reload()
    frame = await drive.open_widget(page)
    await expect(frame.locator("#log .bubble")).to_have_text(["First question", "First answer", "Written just before the reload"])
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(["First question", "Written just before the reload"])


async def test_message_written_offline_arrives_exactly_once(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    context = await drive.new_context(browser)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "Hello", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")

    await context.set_offline(True)
    await expect(frame.locator("#banner")).to_be_visible()
    await drive.send_from_widget(frame, "Written while offline")
    pending = frame.locator(".msg.is-pending .bubble")
    await expect(pending).to_have_text(["Written while offline"])
    assert await drive.unsent_bodies(frame) == ["Written while offline"]
    await page.wait_for_timeout(1000)
    await expect(bob.locator("#transcript .bubble", has_text="Written while offline")).to_have_count(0)

    await context.set_offline(False)
    await expect(frame.locator("#banner")).to_be_hidden(timeout=15_000)
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(["Hello", "Written while offline"])
    await expect(frame.locator("#log .bubble")).to_have_text(["Hello", "Written while offline"])
    await expect(frame.locator(".msg.is-pending")).to_have_count(0)
    assert await drive.unsent_bodies(frame) == []

    rows = await live.services.db.fetch("SELECT COUNT(*) AS n FROM messages WHERE body = ?", ("Written while offline",))
    assert rows[0]["n"] == 1
    await page.wait_for_timeout(500)  # a late duplicate would show up by now
    await expect(bob.locator("#transcript .bubble", has_text="Written while offline")).to_have_count(1)


async def test_a_chat_closed_while_the_widget_was_offline_still_shows_the_agents_last_words(browser, live):
    """The agent answered and closed the chat while the customer's connection was down: back online,
    the widget fetches what was said before the end, and a message that never got there says so."""
    bob = await peers.agent(live.url, "bob@example.test")
    context = await drive.new_context(browser)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "Where is my refund?", name="Alice")
    assigned = await bob.wait_for("chat:assigned")
    conversation_id = assigned["conversation"]["id"]
    await expect(frame.locator(".status--active")).to_be_visible()

    await context.set_offline(True)
    await expect(frame.locator("#banner")).to_be_visible()
    await drive.send_from_widget(frame, "Are you still there?")
    await expect(frame.locator(".msg.is-pending .bubble")).to_have_text(["Are you still there?"])
    for body in ("It went out this morning.", "Anything else I can do?"):
        ack = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": body})
        assert ack["ok"], ack
    closed = await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"})
    assert closed["ok"], closed

    await context.set_offline(False)
    await expect(frame.locator("#banner")).to_be_hidden(timeout=15_000)
    await expect(frame.locator(".msg:not(.is-pending) .bubble")).to_have_text(
        ["Where is my refund?", "It went out this morning.", "Anything else I can do?"])
    # never stored: it could not reach a closed chat, and it does not pretend to be on its way
    await expect(frame.locator(".msg.is-pending.is-failed .bubble")).to_have_text(["Are you still there?"])
    await expect(frame.locator(".msg.is-pending:not(.is-failed)")).to_have_count(0)
    await expect(frame.locator("#composer")).to_be_hidden()
    # the agent closed it as resolved: the customer still has the last word, as if they had been there
    await expect(frame.locator(".end-card--ask .end-title")).to_have_text("Was your problem solved?")
    await expect(frame.locator(".end-card--ask .link", has_text="Continue chatting")).to_have_count(0)
    await frame.locator(".end-card--ask .btn-secondary").click()
    await expect(frame.locator("#complaint-reference")).to_have_text(re.compile(r"^C-\d{4}-\d{6}$"))
    rows = await live.services.db.fetch("SELECT source FROM complaints WHERE conversation_id = ?", (conversation_id,))
    assert rows == [{"source": "chat_not_solved"}]
    await bob.close()


async def test_a_chat_an_agent_turned_into_a_complaint_while_the_widget_was_offline_shows_its_reference(browser, live):
    bob = await peers.agent(live.url, "bob@example.test")
    context = await drive.new_context(browser)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "My bonus vanished", name="Alice")
    conversation_id = (await bob.wait_for("chat:assigned"))["conversation"]["id"]
    await expect(frame.locator(".status--active")).to_be_visible()

    await context.set_offline(True)
    await expect(frame.locator("#banner")).to_be_visible()
    closed = await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "complaint", "summary": "Bonus removed"})
    assert closed["ok"], closed
    await context.set_offline(False)
    reference = closed["complaint"]["reference"]
    await expect(frame.locator("#complaint-reference")).to_have_text(reference, timeout=15_000)
    follow = frame.locator(".end-card--complaint a")
    assert (await follow.get_attribute("href")).startswith(f"/track/{reference}?key=")
    await bob.close()


async def test_a_chat_started_in_one_tab_shows_in_the_customers_other_tab(browser, live):
    """Two tabs of one site share the customer: the chat started in one appears in the other, with the
    agent's answers and the unread count, without a reload."""
    bob = await peers.agent(live.url, "bob@example.test")
    context = await drive.new_context(browser)
    first_page = await context.new_page()
    first = await drive.open_widget(first_page, live.url)
    await expect(first.locator("#start-body")).to_be_visible()
    await eventually(lambda: first.locator("#log").evaluate("() => Boolean(localStorage.getItem('chatserver.token'))"))
    second_page = await context.new_page()
    await second_page.goto(f"{live.url}/")  # the launcher stays closed: the customer reads the first tab
    second_launcher = second_page.locator("button.launcher")
    await expect(second_launcher).to_be_visible()
    customers = live.server.app[SIO].namespace_handlers["/customer"]
    await eventually(lambda: len(customers.connections) == 2)  # a returning customer's tab connects at once
    await first_page.bring_to_front()

    await drive.start_chat(first, "My deposit is missing", name="Alice")
    assigned = await bob.wait_for("chat:assigned")
    second = second_page.frame_locator("#chatserver-frame")
    await expect(second.locator("#live")).to_have_js_property("hidden", False)  # taken up while still closed
    ack = await bob.call("message:send", {"conversation_id": assigned["conversation"]["id"], "client_id": peers.client_id(), "body": "Let me look"})
    assert ack["ok"], ack
    await expect(first.locator(".msg--agent .bubble")).to_have_text(["Let me look"])

    await expect(second_page.locator(".badge")).to_have_text("1")
    second = await drive.open_widget(second_page)
    await expect(second.locator("#live")).to_be_visible()
    await expect(second.locator("#log .bubble")).to_have_text(["My deposit is missing", "Let me look"])
    await expect(second.locator(".status--active .status-title")).to_have_text("Bob")
    # and the chat goes on from either tab
    await drive.send_from_widget(second, "Thanks")
    await expect(first.locator("#log .bubble")).to_have_text(["My deposit is missing", "Let me look", "Thanks"])
    await bob.close()


async def test_queue_position_updates_live(browser, live):
    first_page = await (await drive.new_context(browser)).new_page()
    first = await drive.open_widget(first_page, live.url)
    await drive.start_chat(first, "I was here first", name="Eve")
    await expect(first.locator(".status--queued .status-title")).to_have_text("You're next in the queue")
    # nobody is online: no made-up estimate, and the customer is told what happens if nobody comes
    await expect(first.locator(".status--queued .status-sub")).to_have_text("An agent will join as soon as one is free")
    await expect(first.locator("#queue-deadline")).to_have_text(re.compile(
        r"^If no agent is free by \d{1,2}:\d{2}( [AP]M)?, we'll register your question as a complaint, and you can follow our answer here\.$"))

    second_page = await (await drive.new_context(browser)).new_page()
    second = await drive.open_widget(second_page, live.url)
    await drive.start_chat(second, "Me too", name="Alice")
    await expect(second.locator(".status--queued .status-title")).to_have_text("You are number 2 in the queue")

    await first.locator(".status--queued .btn").click()
    await first.locator(".end-card--leave .btn-danger").click()
    await expect(second.locator(".status--queued .status-title")).to_have_text("You're next in the queue")


async def test_unread_badge_on_the_launcher_while_the_chat_is_closed(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    page = await (await drive.new_context(browser)).new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "Hello", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")

    await frame.locator("#composer-input").press("Escape")  # the widget closes; focus returns to the launcher
    launcher = page.locator("button.launcher")
    await expect(launcher).to_have_attribute("aria-expanded", "false")
    await expect(launcher).to_be_focused()
    for text in ("One moment please", "Found it"):
        await bob.fill("#composer-input", text)
        await bob.press("#composer-input", "Enter")
    await expect(page.locator(".badge")).to_have_text("2")
    await expect(launcher).to_have_attribute("aria-label", "Open chat, 2 unread")

    await launcher.click()
    await expect(page.locator(".badge")).to_be_hidden()
    await expect(frame.locator(".msg--agent .bubble")).to_have_text(["One moment please", "Found it"])


# the visitor's own clock may be hours off; the notice is decided on the server's
VISITOR_CLOCK_TWO_HOURS_FAST = """(() => {
  const RealDate = Date, skew = 2 * 3600 * 1000;
  class VisitorDate extends RealDate {
    constructor(...args) { if (args.length) super(...args); else super(RealDate.now() + skew); }
    static now() { return RealDate.now() + skew; }
  }
  globalThis.Date = VisitorDate;
})();"""


@pytest.mark.parametrize("visitor_clock", ["right", "two hours fast"])
async def test_a_customer_waiting_for_a_busy_agent_sees_the_estimate_and_no_complaint_notice(browser, start_server, visitor_clock):
    # an hour before a waiting chat becomes a complaint: Bob's next free seat comes well before that
    running, busy = await drive.bob_at_capacity(start_server)

    context = await drive.new_context(browser)
    if visitor_clock != "right":
        await context.add_init_script(VISITOR_CLOCK_TWO_HOURS_FAST)
    page = await context.new_page()
    frame = await drive.open_widget(page, running.url)
    await drive.start_chat(frame, "Is anyone there?", name="Alice")
    status = frame.locator(".status--queued")
    await expect(status.locator(".status-title")).to_have_text("You're next in the queue")
    await expect(status.locator(".status-sub")).to_have_text(re.compile(r"^(about \d+ minutes?|less than a minute)$"))
    await expect(frame.locator("#queue-deadline")).to_have_count(0)
    assert "null" not in await status.inner_text()
    for peer in busy:
        await peer.close()


async def test_a_supervisor_taking_over_clears_the_previous_agents_typing_line_at_once(browser, live):
    errors = drive.BrowserErrors()
    bob = await peers.agent(live.url, "bob@example.test")
    sam_console = await peers.agent(live.url, "sam@example.test", online=False)  # open, so he can take over
    sam = await peers.agent(live.url, "sam@example.test", namespace="/monitor")
    page = errors.watch(await (await drive.new_context(browser)).new_page())
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, "My bet was settled as lost", name="Alice")
    chat = (await bob.wait_for("chat:assigned"))["conversation"]["id"]
    await bob.emit("typing", {"conversation_id": chat, "typing": True})
    await expect(frame.locator("#typing-text")).to_contain_text("Bob")

    taken = await sam.call("chat:takeover", {"conversation_id": chat})
    assert taken["ok"], taken
    # Bob no longer has the chat: what he was typing will never come, so the line goes with him
    await expect(frame.locator(".status--active .status-title")).to_have_text("Sam")
    await expect(frame.locator("#typing")).to_be_hidden(timeout=1500)
    assert errors.errors == []
    for peer in (bob, sam, sam_console):
        await peer.close()
