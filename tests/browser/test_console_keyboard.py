"""The console with a keyboard only: live updates and finished chats never drop the agent's focus on the page."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser import drive

pytestmark = pytest.mark.browser


async def test_the_chat_list_and_the_queue_keep_the_focus_while_they_update(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test", online=False)
    await bob.click("#presence [data-status=away]")
    _, alice = await drive.customer_starts(browser, live.url, "Where is my money?", "Alice")
    await bob.locator("#queue .queue-item button", has_text="Take").click()
    await expect(bob.locator("#chat-name")).to_have_text("Alice")
    await drive.customer_starts(browser, live.url, "Is the bonus still active?", "Eve")
    take = bob.locator("#queue .queue-item button", has_text="Take")
    await expect(take).to_have_count(1)

    # on Take in the queue when news arrives (the lists are drawn again): still there
    await take.focus()
    await drive.send_from_widget(alice, "Hello? Any news?")
    await expect(bob.locator("#my-chats .chat-item .unread")).to_have_count(0)  # Alice's chat is open
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_count(2)
    await expect(take).to_be_focused()

    # on a chat in the list: still there after the next update, and Enter or Space opens it
    await take.press("Enter")
    await expect(bob.locator("#chat-name")).to_have_text("Eve")
    item = bob.locator("#my-chats .chat-item-main", has_text="Alice")
    await item.focus()
    await drive.send_from_widget(alice, "Still waiting")
    await expect(bob.locator("#my-chats .chat-item", has_text="Alice").locator(".unread")).to_have_text("1")
    await expect(item).to_be_focused()
    await bob.keyboard.press("Space")
    await expect(bob.locator("#chat-name")).to_have_text("Alice")


async def test_closing_transferring_and_removing_chats_leaves_the_focus_on_what_is_next(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test")
    await drive.customer_starts(browser, live.url, "Where is my money?", "Alice")
    await drive.customer_starts(browser, live.url, "Is the bonus still active?", "Eve")
    await drive.open_chat_in_console(bob, "Alice")

    # closed with the keyboard: the dialog goes, and so does "Close chat"; the focus is on what is left to do
    await bob.locator("#close-chat").focus()
    await bob.keyboard.press("Enter")
    await expect(bob.locator("#close-dialog")).to_be_visible()
    await bob.locator("#close-submit").focus()
    await bob.keyboard.press("Enter")
    remove = bob.locator("#closed-note button", has_text="Remove from list")
    await expect(remove).to_be_visible()
    await expect(bob.locator("#close-chat")).to_be_hidden()
    await expect(bob.locator("#closed-note")).to_be_focused()  # how it ended is read out; Enter does nothing there
    await bob.keyboard.press("Enter")
    await expect(remove).to_be_visible()
    await bob.keyboard.press("Tab")
    await expect(remove).to_be_focused()

    # removed from the list: on the chat still in it
    await bob.keyboard.press("Enter")
    eve = bob.locator("#my-chats .chat-item-main", has_text="Eve")
    await expect(bob.locator("#my-chats .chat-item")).to_have_count(1)
    await expect(eve).to_be_focused()

    # transferred back to the queue: the chat pane empties, the focus moves to the queue it went to
    await bob.keyboard.press("Enter")
    await expect(bob.locator("#chat-name")).to_have_text("Eve")
    await bob.click("#presence [data-status=away]")  # else routing may hand the chat straight back to him
    await bob.locator("#transfer").focus()
    await bob.keyboard.press("Enter")
    await bob.locator("#transfer-submit").focus()
    await bob.keyboard.press("Enter")
    await expect(bob.locator("#my-chats .chat-item")).to_have_count(0)
    await expect(bob.locator("#chat")).to_be_hidden()
    await expect(bob.locator("body")).not_to_be_focused()
    focused = await bob.evaluate("() => document.activeElement.checkVisibility() && document.activeElement.closest('#chats-section') !== null")
    assert focused


async def test_a_chat_the_customer_ends_while_the_agent_types_takes_the_focus_to_how_it_ended_not_to_a_button(browser, live):
    bob, alice, started = await drive.in_chat_with(browser, live.url, "Never mind, found it")
    await bob.locator("#composer-input").press_sequentially("Glad you found")
    assert (await alice.call("chat:end", {"conversation_id": started["conversation"]["id"], "resolved": True}))["ok"]
    note = bob.locator("#closed-note")
    await expect(note).to_contain_text("The customer ended the chat")
    await expect(note).to_be_focused()
    await bob.keyboard.press("Enter")  # meant to send the answer: the ended chat stays in view
    await expect(bob.locator("#chat-name")).to_have_text("Alice")
    await expect(bob.locator("#my-chats .chat-item", has_text="Alice")).to_contain_text("Closed")
    await alice.close()


async def test_a_refused_sign_in_is_read_out_where_the_keyboard_lands(browser, live):
    page = await (await drive.new_context(browser)).new_page()
    await page.goto(f"{live.url}/login")
    await page.fill("input[name=email]", "bob@example.test")
    await page.fill("input[name=password]", "not his password")
    await page.keyboard.press("Enter")
    error = page.get_by_role("alert")
    await expect(error).to_have_text("wrong e-mail or password")
    # the page comes back with the focus in the address field, which names what went wrong; so does the password field
    email, password = page.get_by_label("E-mail"), page.get_by_label("Password")
    await expect(email).to_be_focused()
    await expect(email).to_have_accessible_description("wrong e-mail or password")
    await expect(password).to_have_accessible_description("wrong e-mail or password")
