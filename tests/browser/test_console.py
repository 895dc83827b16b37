"""The operator console: presence and capacity, the queue, notes, canned answers, transfer, resync, phone."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from playwright.async_api import expect

from tests import peers
from tests.browser import drive

pytestmark = pytest.mark.browser


async def test_queue_take_capacity_and_new_chat_notification(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test", online=False)
    await bob.click("#presence [data-status=away]")
    await expect(bob.locator("#capacity")).to_have_text("0 of 2 chats")
    page, frame = await drive.customer_starts(browser, live.url, "Is the bonus still active?", "Alice")
    queued = bob.locator("#queue .queue-item")
    await expect(queued).to_have_count(1)
    await expect(queued).to_contain_text("Payments and withdrawals")
    await queued.locator("button", has_text="Take").click()
    await expect(bob.locator("#chat-name")).to_have_text("Alice")
    await expect(bob.locator("#capacity")).to_have_text("1 of 2 chats")
    await expect(bob.locator("#queue .queue-item")).to_have_count(0)
    await expect(frame.locator(".status--active")).to_be_visible()

    # a message for a chat that is not open: unread count and a title badge
    page2, frame2 = await drive.customer_starts(browser, live.url, "Second customer here", "Eve")
    await bob.locator("#queue .queue-item button").click()
    await expect(bob.locator("#chat-name")).to_have_text("Eve")
    await drive.send_from_widget(frame, "Hello? Any news?")
    alice = bob.locator("#my-chats .chat-item", has_text="Alice")
    await expect(alice.locator(".unread")).to_have_text("1")
    await expect(bob).to_have_title("(1) Console · Chatserver")
    await alice.locator(".chat-item-main").click()
    await expect(bob).to_have_title("Console · Chatserver")


async def test_internal_notes_and_canned_answers(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    page, frame = await drive.customer_starts(browser, live.url, "Where is my money?", "Alice")
    await drive.open_chat_in_console(bob, "Alice")

    await bob.click(".composer-modes [data-mode=note]")
    await bob.fill("#composer-input", "Payments team says it left on Tuesday")
    await bob.press("#composer-input", "Enter")
    note = bob.locator("#transcript .line-note")
    await expect(note).to_contain_text("Internal note")
    await bob.click(".composer-modes [data-mode=reply]")

    await bob.locator("#composer-input").press_sequentially("/withd")
    options = bob.locator("#canned-list [role=option]")
    await expect(options.first).to_contain_text("/withdraw")
    await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#composer-input")).to_have_value("Your withdrawal has been approved on our side. Depending on your bank it arrives within 1–3 business days; e-wallets are usually faster.")
    await bob.press("#composer-input", "Enter")
    await expect(frame.locator(".msg--agent .bubble")).to_have_text(["Your withdrawal has been approved on our side. Depending on your bank it arrives within 1–3 business days; e-wallets are usually faster."])
    await page.wait_for_timeout(300)
    assert "Payments team" not in await frame.locator("body").inner_text()


async def test_a_shortcut_sent_before_its_suggestions_arrive_becomes_the_answer_not_a_message(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    page, frame = await drive.customer_starts(browser, live.url, "Where is my money?", "Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await bob.fill("#composer-input", "/withdraw")
    await bob.press("#composer-input", "Enter")  # at once: the suggestion list has not been drawn yet
    await expect(bob.locator("#composer-input")).to_have_value(re.compile(r"^Your withdrawal has been approved"))
    await page.wait_for_timeout(300)
    assert "/withdraw" not in await frame.locator("body").inner_text()


async def test_transfer_to_a_colleague(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    carol = await drive.console(browser, live.url, "carol@example.test", online=False)
    await carol.click("#presence [data-status=away]")  # carol gets nothing by routing...
    page, frame = await drive.customer_starts(browser, live.url, "Please help", "Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await carol.click("#presence [data-status=online]")  # ...until she is back
    await bob.reload()  # colleagues' presence comes with the session
    await drive.open_chat_in_console(bob, "Alice")
    await bob.click("#transfer")
    choice = bob.locator("#transfer-choices .choice", has_text="Carol")
    await choice.locator("input").check()
    await bob.click("#transfer-submit")
    await expect(bob.locator("#my-chats .chat-item")).to_have_count(0)
    await drive.open_chat_in_console(carol, "Alice")
    await expect(carol.locator("#transcript .line-customer .bubble")).to_have_text(["Please help"])
    await expect(frame.locator(".status--active .status-title")).to_have_text("Carol")


async def test_console_resyncs_by_itself_after_a_lost_connection(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    page, frame = await drive.customer_starts(browser, live.url, "First", "Alice")
    await drive.open_chat_in_console(bob, "Alice")

    await bob.context.set_offline(True)
    await expect(bob.locator("#banner")).to_be_visible()
    await drive.send_from_widget(frame, "Sent while the agent was away")
    await bob.fill("#composer-input", "Typed while offline")
    await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#transcript .line.is-pending")).to_have_count(1)

    await bob.context.set_offline(False)
    await expect(bob.locator("#banner")).to_be_hidden(timeout=15_000)
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(["First", "Sent while the agent was away"])
    await expect(frame.locator(".msg--agent .bubble")).to_have_text(["Typed while offline"])
    await expect(bob.locator("#transcript .line-agent .bubble")).to_have_text(["Typed while offline"])


async def test_a_chat_the_customer_ended_while_the_console_was_offline_shows_their_last_words(browser, live):
    """Back online, the console fetches what the customer wrote before ending the chat, and the answer
    typed meanwhile, which never reached the chat, says it was not sent instead of sending forever."""
    bob = await drive.console(browser, live.url, "bob@example.test")
    alice = await peers.customer(live.url)
    started = await alice.call("chat:start", {"name": "Alice"})
    conversation_id = started["conversation"]["id"]
    first = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": "First"})
    assert first["ok"], first
    await drive.open_chat_in_console(bob, "Alice")
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(["First"])

    await bob.context.set_offline(True)
    await expect(bob.locator("#banner")).to_be_visible()
    await bob.fill("#composer-input", "Typed while offline")
    await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#transcript .line.is-pending")).to_have_count(1)
    last = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": "Never mind, found it"})
    assert last["ok"], last
    ended = await alice.call("chat:end", {"conversation_id": conversation_id, "resolved": True})
    assert ended["ok"], ended

    await bob.context.set_offline(False)
    await expect(bob.locator("#banner")).to_be_hidden(timeout=15_000)
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(["First", "Never mind, found it"])
    await expect(bob.locator("#transcript .line.is-pending.is-failed .bubble")).to_have_text(["Typed while offline"])
    await expect(bob.locator("#transcript .line.is-pending:not(.is-failed)")).to_have_count(0)
    await expect(bob.locator("#composer")).to_be_hidden()
    await expect(bob.locator("#closed-note")).to_contain_text("The customer ended the chat — resolved.")  # not "no longer assigned"
    await alice.close()


async def test_an_answer_typed_while_the_connection_was_down_survives_a_reload_of_the_console(browser, live):
    """Like the widget, the console keeps what it has not got acknowledged across a reload: the agent
    who reloads to get the connection back does not lose the answer they wrote meanwhile."""
    bob = await drive.console(browser, live.url, "bob@example.test")
    alice = await peers.customer(live.url)
    started = await alice.call("chat:start", {"name": "Alice"})
    first = await alice.call("message:send", {"conversation_id": started["conversation"]["id"], "client_id": peers.client_id(), "body": "Hello?"})
    assert first["ok"], first
    await drive.open_chat_in_console(bob, "Alice")

    # the server cannot be reached, though the console's page still loads
    async def unreachable(ws):
        await ws.close()

    socket_io = re.compile(r".*/socket\.io/.*")
    await bob.route_web_socket(socket_io, unreachable)
    await bob.route(socket_io, lambda route: route.abort())
    await bob.context.set_offline(True)
    await expect(bob.locator("#banner")).to_be_visible()
    await bob.fill("#composer-input", "Typed before the reload")
    await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#transcript .line.is-pending")).to_have_count(1)
    await bob.context.set_offline(False)
    await bob.reload()
    await expect(bob.locator("#no-chat")).to_be_visible()
    await bob.wait_for_timeout(1000)
    rows = await live.services.db.fetch("SELECT body FROM messages WHERE sender = 'agent'")
    assert rows == []  # nothing got through yet

    await bob.unroute_all()
    await bob.close()  # route_web_socket has no undo: the agent opens the console again in a new tab
    bob = await bob.context.new_page()
    await bob.goto(f"{live.url}/console")
    await alice.wait_for("message:new", lambda m: m["body"] == "Typed before the reload", timeout=15)
    await drive.open_chat_in_console(bob, "Alice")
    await expect(bob.locator("#transcript .line-agent .bubble")).to_have_text(["Typed before the reload"])
    await expect(bob.locator("#transcript .line.is-pending")).to_have_count(0)
    await alice.close()


# where the console keeps each answer not yet acknowledged, one key per answer
UNSENT = "chatserver.console.unsent."


async def test_answers_typed_in_two_consoles_at_once_while_the_connection_is_down_all_survive_a_reload(browser, live):
    """Two consoles of one agent share the browser's storage: answers written in both at the same
    moment while the server cannot be reached are all kept, and each reaches the customer once."""
    bob_first = await drive.console(browser, live.url, "bob@example.test")
    bob_second = await bob_first.context.new_page()
    await bob_second.goto(f"{live.url}/console")
    alice = await peers.customer(live.url)
    started = await alice.call("chat:start", {"name": "Alice", "body": "Hello?"})
    assert started["ok"], started
    for page in (bob_first, bob_second):
        await drive.open_chat_in_console(page, "Alice")

    async def unreachable(ws):
        await ws.close()

    socket_io = re.compile(r".*/socket\.io/.*")
    for page in (bob_first, bob_second):
        await page.route_web_socket(socket_io, unreachable)
        await page.route(socket_io, lambda route: route.abort())
    await bob_first.context.set_offline(True)
    for page in (bob_first, bob_second):
        await expect(page.locator("#banner")).to_be_visible()
    written = []
    for n in range(4):
        at = await bob_first.evaluate("() => Date.now() + 200")
        bodies = [f"first console {n}", f"second console {n}"]
        await asyncio.gather(*(page.locator("#composer").evaluate(drive.SEND_AT, [body, at]) for page, body in zip((bob_first, bob_second), bodies)))
        written += bodies
    for page in (bob_first, bob_second):
        await expect(page.locator("#transcript .line.is-pending")).to_have_count(4)

    # both close; the agent opens the console again once the server can be reached
    await bob_first.context.set_offline(False)
    context = bob_first.context
    await bob_first.close()
    await bob_second.close()
    bob = await context.new_page()
    await bob.goto(f"{live.url}/console")
    await drive.open_chat_in_console(bob, "Alice")
    await expect(bob.locator("#transcript .line.is-pending")).to_have_count(0, timeout=15_000)
    await bob.wait_for_timeout(500)  # a late resend would show up by now
    rows = await live.services.db.fetch("SELECT body FROM messages WHERE sender = 'agent' ORDER BY seq")
    assert sorted(row["body"] for row in rows) == sorted(written)
    await expect(bob.locator("#transcript .line-agent .bubble")).to_have_count(len(written))
    await alice.close()


CHAT_DRAFTS = "chatserver.console.chat-draft."


async def test_a_chat_draft_stays_with_its_chat_and_its_mode_across_chats_and_reloads_until_sent(browser, live):
    """What the agent typed and did not send stays with its chat, as a reply or as a note: another chat
    starts empty as a reply, a note begun in one chat never turns into a reply after switching or a
    reload, a sent draft is gone for good, and the drafts of chats that ended go with them."""
    bob = await drive.console(browser, live.url, "bob@example.test")
    alice, dave = await peers.customer(live.url), await peers.customer(live.url)
    for peer, name in ((alice, "Alice"), (dave, "Dave")):
        started = await peer.call("chat:start", {"name": name, "body": "Where is my money?"})
        assert started["ok"], started
    dave_chat = started["conversation"]["id"]
    composer, text = bob.locator("#composer"), bob.locator("#composer-input")

    await drive.open_chat_in_console(bob, "Alice")
    await bob.click("#composer [data-mode=note]")
    await text.fill("KYC pending: do not promise a date")
    await drive.open_chat_in_console(bob, "Dave")
    await expect(text).to_have_value("")
    await expect(composer).to_have_attribute("data-mode", "reply")
    await text.fill("Checking your withdrawal now")

    for _ in range(2):  # switching back and forth, then after a reload
        await drive.open_chat_in_console(bob, "Alice")
        await expect(text).to_have_value("KYC pending: do not promise a date")
        await expect(composer).to_have_attribute("data-mode", "note")
        await drive.open_chat_in_console(bob, "Dave")
        await expect(text).to_have_value("Checking your withdrawal now")
        await expect(composer).to_have_attribute("data-mode", "reply")
        await bob.reload()

    # the note goes out as a note, and is no draft any more
    await drive.open_chat_in_console(bob, "Alice")
    await text.press("Enter")
    await expect(bob.locator("#transcript .line-note:not(.is-pending) .bubble")).to_have_text(["KYC pending: do not promise a date"])
    await bob.reload()
    await drive.open_chat_in_console(bob, "Alice")
    await expect(text).to_have_value("")
    await expect(composer).to_have_attribute("data-mode", "reply")
    rows = await live.services.db.fetch("SELECT body, internal FROM messages WHERE sender = 'agent'")
    assert [(row["body"], row["internal"]) for row in rows] == [("KYC pending: do not promise a date", 1)]

    # Dave's chat ends unanswered: the draft that can no longer be sent is dropped at the next session
    assert (await dave.call("chat:end", {"conversation_id": dave_chat, "resolved": True}))["ok"]
    await expect(bob.locator("#my-chats .chat-item", has_text="Dave")).to_contain_text("Closed")
    await bob.reload()
    await expect(bob.locator("#my-chats .chat-item", has_text="Alice")).to_be_visible()
    kept = await bob.evaluate(f"() => Object.keys(localStorage).filter((key) => key.startsWith('{CHAT_DRAFTS}'))")
    assert kept == []
    for peer in (alice, dave):
        await peer.close()


async def test_the_agents_other_console_says_who_closed_the_chat(browser, live):
    """The close reaches every console of the agent: the one that did not close it says who did,
    the agent themself or a supervisor, instead of putting it on the customer."""
    bob = await drive.console(browser, live.url, "bob@example.test")
    again = await drive.console(browser, live.url, "bob@example.test", online=False)  # a second window
    alice = await peers.customer(live.url)
    started = await alice.call("chat:start", {"name": "Alice", "body": "Where is my money?"})
    assert started["ok"], started
    await drive.open_chat_in_console(bob, "Alice")
    await drive.open_chat_in_console(again, "Alice")

    await bob.click("#close-chat")
    await bob.click("#close-submit")
    await expect(bob.locator("#closed-note")).to_contain_text("You closed this chat as resolved.")
    await expect(again.locator("#closed-note")).to_contain_text("You closed this chat as resolved.")

    eve = await peers.customer(live.url)
    started = await eve.call("chat:start", {"name": "Eve", "body": "Card declined"})
    assert started["ok"], started
    await expect(again.locator("#my-chats .chat-item", has_text="Eve")).to_be_visible()
    sam = await peers.agent(live.url, "sam@example.test", online=False)
    closed = await sam.call("chat:close", {"conversation_id": started["conversation"]["id"], "outcome": "resolved"})
    assert closed["ok"], closed
    await expect(again.locator(".toast", has_text="closed")).to_have_text("Sam closed the chat with Eve.")
    await drive.open_chat_in_console(again, "Eve")
    await expect(again.locator("#closed-note")).to_contain_text("Sam closed this chat as resolved.")
    await expect(bob.locator("#my-chats .chat-item", has_text="Eve")).to_contain_text("Closed")

    dana = await peers.customer(live.url)
    started = await dana.call("chat:start", {"name": "Dana", "body": "Never mind"})
    assert started["ok"], started
    await drive.open_chat_in_console(again, "Dana")
    ended = await dana.call("chat:end", {"conversation_id": started["conversation"]["id"], "resolved": True})
    assert ended["ok"], ended
    await expect(again.locator("#closed-note")).to_contain_text("The customer ended the chat — resolved.")
    for peer in (alice, eve, dana, sam):
        await peer.close()


async def test_a_chat_the_customer_calls_unsolved_after_the_close_shows_its_complaint_in_the_console(browser, live):
    bob, alice, started = await drive.in_chat_with(browser, live.url, "Where is my money?")
    await bob.click("#close-chat")
    await bob.click("#close-submit")
    await expect(bob.locator("#closed-note")).to_contain_text("You closed this chat as resolved.")

    answered = await alice.call("chat:end", {"conversation_id": started["conversation"]["id"], "resolved": False})
    assert answered["ok"], answered
    reference = answered["complaint"]["reference"]
    await expect(bob.locator("#closed-note")).to_contain_text(f"The customer said the problem was not solved. A complaint was created: {reference}.")
    await expect(bob.locator(".toast", has_text="not solved")).to_contain_text(f"Alice said the problem was not solved. A complaint was created: {reference}.")
    await expect(bob.locator("#closed-note a")).to_have_text(reference)
    await expect(complaints_panel(bob).locator("code")).to_have_text([reference])
    await alice.close()


def complaints_panel(page):
    """The customer panel's list of the customer's complaints."""
    return page.locator("#details-body .detail-section", has=page.locator("h3", has_text="Complaints"))


async def test_a_chat_that_becomes_a_complaint_shows_it_in_the_customer_panel_and_links_to_it(browser, live):
    """Ended "not solved" by the customer, or closed as a complaint by the agent: the panel's complaints
    are read again, and the reference in the note opens the complaint in the complaints view."""
    bob, alice, started = await drive.in_chat_with(browser, live.url, "Where is my payout?")
    panel = complaints_panel(bob)
    await expect(panel).to_contain_text("No complaints.")
    await expect(panel.locator(".count")).to_have_text("0")

    ended = await alice.call("chat:end", {"conversation_id": started["conversation"]["id"], "resolved": False})
    assert ended["ok"], ended
    reference = ended["conversation"]["complaint_reference"]
    await expect(bob.locator("#closed-note")).to_contain_text(f"The customer ended the chat. A complaint was created: {reference}.")
    await expect(panel.locator(".count")).to_have_text("1")
    await expect(panel.locator("code")).to_have_text([reference])
    link = bob.locator("#closed-note a")
    await expect(link).to_have_text(reference)
    await link.click()
    await expect(bob).to_have_url(re.compile(f"#complaints/{reference}$"))
    await expect(bob.locator("#tab-complaints")).to_have_attribute("aria-selected", "true")
    await expect(bob.locator("#cx-ref")).to_have_text(reference)

    # the agent closes another customer's chat as a complaint
    await bob.click("#tab-chats")
    eve = await peers.customer(live.url)
    started = await eve.call("chat:start", {"name": "Eve", "body": "The bet was settled wrong"})
    assert started["ok"], started
    await drive.open_chat_in_console(bob, "Eve")
    await expect(panel).to_contain_text("No complaints.")
    await bob.click("#close-chat")
    await bob.check("#close-dialog input[value=complaint]")
    await bob.fill("#close-summary", "Settled as a loss though the match was void")
    await bob.click("#close-submit")
    link = bob.locator("#closed-note a")
    await expect(link).to_have_text(re.compile(r"^C-\d{4}-\d{6}$"))
    second = await link.inner_text()
    await expect(bob.locator("#closed-note")).to_contain_text(f"You closed this chat as a complaint: {second}.")
    await expect(panel.locator("code")).to_have_text([second])
    await link.click()
    await expect(bob.locator("#cx-ref")).to_have_text(second)
    for peer in (alice, eve):
        await peer.close()


async def test_a_message_refused_in_another_chat_is_marked_there_not_under_the_open_one(browser, live):
    """Back online, an answer for a chat that ended meanwhile is refused while the agent has another
    chat open: the refusal marks that message, in its own chat, in words the agent reads."""
    bob = await drive.console(browser, live.url, "bob@example.test")
    alice = await peers.customer(live.url)
    first = await alice.call("chat:start", {"name": "Alice", "body": "Where is my money?"})
    eve = await peers.customer(live.url)
    second = await eve.call("chat:start", {"name": "Eve", "body": "Card declined"})
    assert first["ok"] and second["ok"], (first, second)
    await drive.open_chat_in_console(bob, "Alice")
    await expect(bob.locator("#my-chats .chat-item")).to_have_count(2)

    await bob.context.set_offline(True)
    await expect(bob.locator("#banner")).to_be_visible()
    await bob.fill("#composer-input", "Let me check that for you")
    await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#transcript .line.is-pending")).to_have_count(1)
    await drive.open_chat_in_console(bob, "Eve")
    ended = await alice.call("chat:end", {"conversation_id": first["conversation"]["id"], "resolved": True})
    assert ended["ok"], ended

    await bob.context.set_offline(False)
    await expect(bob.locator("#banner")).to_be_hidden(timeout=15_000)
    # the refusal came: what was kept for a resend is gone
    await bob.wait_for_function(f"() => !Object.keys(localStorage).some((key) => key.startsWith('{UNSENT}'))")
    await expect(bob.locator("#chat-name")).to_have_text("Eve")
    await expect(bob.locator("#composer-error")).to_be_hidden()
    await drive.open_chat_in_console(bob, "Alice")
    failed = bob.locator("#transcript .line.is-failed")
    await expect(failed.locator(".bubble")).to_have_text(["Let me check that for you"])
    await expect(failed.locator(".line-meta")).to_have_text("Not sent: the chat had ended")
    assert "no open conversation" not in await bob.locator("body").inner_text()
    await alice.close()
    await eve.close()


async def test_messages_still_sending_when_the_chat_is_moved_away_are_reported_and_never_resent(browser, live):
    """A supervisor moves a chat while the agent's answers are still on their way (the server keeps
    answering "try again"): the agent is told which chat and how many did not go out, the text stays
    readable, and nothing is sent into the chat once it is no longer theirs, not even after a reload."""
    bob = await drive.console(browser, live.url, "bob@example.test")
    refusing = {"on": True}

    def storage_busy(ws):
        server = ws.connect_to_server()

        def from_page(frame):
            send = re.match(r'^42/agent,(\d+)\["message:send"', frame) if isinstance(frame, str) else None
            if send and refusing["on"]:
                refusal = {"ok": False, "error": {"code": "unavailable", "message": "storage is busy, try again"}}
                ws.send(f"43/agent,{send.group(1)}[{json.dumps(refusal)}]")
            else:
                server.send(frame)

        ws.on_message(from_page)

    await bob.route_web_socket(re.compile(r".*/socket\.io/.*"), storage_busy)
    await bob.reload()
    alice = await peers.customer(live.url)
    started = await alice.call("chat:start", {"name": "Alice", "body": "Where is my money?"})
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]
    await drive.open_chat_in_console(bob, "Alice")
    for body in ("Let me check", "It left on Tuesday"):
        await bob.fill("#composer-input", body)
        await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#transcript .line.is-pending")).to_have_count(2)

    carol = await peers.agent(live.url, "carol@example.test")
    sam = await peers.agent(live.url, "sam@example.test", online=False)
    carol_id = next(c["id"] for c in (await sam.wait_for("session"))["colleagues"] if c["name"] == "Carol")
    moved = await sam.call("chat:transfer", {"conversation_id": conversation_id, "to_agent_id": carol_id})
    assert moved["ok"], moved
    await expect(bob.locator(".toast", has_text="transferred")).to_have_text("Chat with Alice was transferred. 2 messages you wrote did not go out.")
    await expect(bob.locator("#transcript .line.is-failed .bubble")).to_have_text(["Let me check", "It left on Tuesday"])
    await expect(bob.locator("#transcript .line.is-pending:not(.is-failed)")).to_have_count(0)
    assert await bob.evaluate(f"() => Object.keys(localStorage).filter((key) => key.startsWith('{UNSENT}'))") == []

    # the server answers again, and the chat even comes back: what did not go out stays unsent
    refusing["on"] = False
    await carol.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id)
    back = await sam.call("chat:transfer", {"conversation_id": conversation_id, "to_agent_id": next(
        c["id"] for c in (await sam.wait_for("session"))["colleagues"] if c["name"] == "Bob")})
    assert back["ok"], back
    await expect(bob.locator("#my-chats .chat-item", has_text="Alice")).not_to_contain_text("Closed")
    await bob.wait_for_timeout(2500)  # longer than a retry's pause
    rows = await live.services.db.fetch("SELECT body FROM messages WHERE sender = 'agent'")
    assert rows == []
    for peer in (alice, carol, sam):
        await peer.close()


async def test_console_on_a_phone_switches_between_list_chat_and_details(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test", viewport=drive.PHONE)
    page, frame = await drive.customer_starts(browser, live.url, "Hi from my phone", "Alice")
    await expect(bob.locator("#my-chats")).to_be_visible()
    await expect(bob.locator("#chat-pane")).to_be_hidden()
    await bob.locator("#my-chats .chat-item-main", has_text="Alice").click()
    await expect(bob.locator("#transcript .bubble")).to_have_text(["Hi from my phone"])
    await expect(bob.locator("#my-chats")).to_be_hidden()
    await bob.click("#show-details")
    await expect(bob.locator("#details-body .profile-name")).to_have_text("Alice")
    await bob.click("#hide-details")
    await bob.click("#back")
    await expect(bob.locator("#my-chats")).to_be_visible()
    width = await bob.evaluate("() => document.documentElement.scrollWidth")
    assert width <= drive.PHONE["width"]

    # a chat longer than the screen opens at its newest message, whole, above the customer's typing line
    for i in range(8):
        await drive.send_from_widget(frame, f"More detail {i}: the withdrawal went to my card ending 4417 on Monday")
    await expect(bob.locator("#my-chats .chat-item-main", has_text="Alice")).to_contain_text("More detail 7")
    await frame.locator("#composer-input").press_sequentially("And one more thing", delay=200)  # past the widget's typing throttle
    await expect(bob.locator("#my-chats .chat-item-preview.is-typing")).to_be_visible()
    await bob.locator("#my-chats .chat-item-main", has_text="Alice").click()
    await expect(bob.locator("#typing")).to_be_visible()
    await bob.wait_for_function("""() => {
        const list = document.getElementById('transcript');
        return list.lastElementChild.getBoundingClientRect().bottom <= list.getBoundingClientRect().bottom;
    }""")


async def test_the_console_shows_which_customers_have_left_and_when_they_come_back(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    page, _ = await drive.customer_starts(browser, live.url, "Where is my payout?", "Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await expect(bob.locator("#chat-presence")).to_be_hidden()
    context = page.context
    await page.close()  # the customer closes the tab
    await expect(bob.locator("#chat-presence")).to_have_text(re.compile(r"^Left \d+s ago$"))
    await expect(bob.locator("#my-chats .chat-item", has_text="Alice").locator(".tag")).to_have_text("Left")
    await drive.open_widget(await context.new_page(), live.url)  # and comes back
    await expect(bob.locator("#chat-presence")).to_be_hidden()
    await expect(bob.locator("#my-chats .chat-item", has_text="Alice").locator(".tag")).to_have_count(0)

    # a waiting chat whose customer left is marked in the queue: routing passes it over until they return
    await bob.click("#presence [data-status=away]")
    eve_page, _ = await drive.customer_starts(browser, live.url, "Bonus missing", "Eve")
    waiting = bob.locator("#queue .queue-item")
    await expect(waiting).to_have_count(1)
    await expect(waiting.locator(".tag", has_text="Left")).to_have_count(0)
    await eve_page.close()
    await expect(waiting.locator(".tag", has_text="Left")).to_be_visible()
