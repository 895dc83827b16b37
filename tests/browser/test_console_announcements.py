"""What the console's transcript (a live region) announces: each message once, however often the chat
is drawn again. A MutationObserver records every node added inside a live region (tests/browser/announced.py)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests import peers
from tests.browser import announced, drive

pytestmark = pytest.mark.browser


def times(texts: list[str], needle: str) -> int:
    return sum(needle in text for text in texts)


async def test_a_message_still_sending_is_announced_once_however_often_the_chat_is_drawn(browser, live):
    bob, alice, _ = await drive.in_chat_with(browser, live.url, "Where is my money?")
    await announced.record(bob)

    await bob.context.set_offline(True)
    await expect(bob.locator("#banner")).to_be_visible()
    await bob.fill("#composer-input", "Let me check that for you")
    await bob.press("#composer-input", "Enter")
    pending = bob.locator("#transcript .line.is-pending")
    await expect(pending.locator(".line-meta")).to_have_text("Sending…")
    for _ in range(3):  # each click draws the chat again
        await bob.locator("#my-chats .chat-item-main", has_text="Alice").click()
    await expect(pending).to_have_count(1)
    assert times(await announced.taken(bob, "transcript"), "Let me check that for you") == 1

    await bob.context.set_offline(False)
    await expect(bob.locator("#banner")).to_be_hidden(timeout=15_000)
    await expect(bob.locator("#transcript .line-agent:not(.is-pending) .bubble")).to_have_text(["Let me check that for you"])
    await alice.wait_for("message:new")
    await bob.locator("#my-chats .chat-item-main", has_text="Alice").click()
    assert times(await announced.taken(bob, "transcript"), "Let me check that for you") == 0
    await alice.close()


async def test_a_message_that_was_not_sent_is_announced_as_such_once_not_on_every_redraw(browser, live):
    bob, alice, first = await drive.in_chat_with(browser, live.url, "Where is my money?")

    await bob.context.set_offline(True)
    await expect(bob.locator("#banner")).to_be_visible()
    await bob.fill("#composer-input", "Let me check that for you")
    await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#transcript .line.is-pending")).to_have_count(1)
    assert (await alice.call("chat:end", {"conversation_id": first["conversation"]["id"], "resolved": True}))["ok"]
    await bob.context.set_offline(False)
    failed = bob.locator("#transcript .line.is-failed")
    await expect(failed.locator(".line-meta")).to_have_text("Not sent: the chat had ended", timeout=15_000)

    await announced.record(bob)
    # another customer writes: the console is drawn again, the open chat with it
    eve = await peers.customer(live.url)
    assert (await eve.call("chat:start", {"name": "Eve", "body": "Card declined"}))["ok"]
    await expect(bob.locator("#my-chats .chat-item", has_text="Eve")).to_be_visible()
    await bob.locator("#my-chats .chat-item-main", has_text="Alice").click()
    await expect(bob.locator("#chat-name")).to_have_text("Alice")
    await expect(failed).to_have_count(1)
    assert times(await announced.taken(bob, "transcript"), "Let me check that for you") == 0
    await alice.close()
    await eve.close()


async def test_how_a_chat_ended_and_who_is_typing_are_said_once_and_keep_the_focus_however_often_the_console_redraws(browser, live):
    bob, alice, first = await drive.in_chat_with(browser, live.url, "Where is my money?")
    await announced.record(bob)
    # the customer types: each signal draws the chat again, and the line says it once
    for _ in range(3):
        await alice.emit("typing", {"conversation_id": first["conversation"]["id"], "typing": True})
        await expect(bob.locator("#typing")).to_be_visible()
        await bob.locator("#my-chats .chat-item-main", has_text="Alice").click()
    said = await announced.taken(bob)
    assert times(said, "is typing") <= 1 and times(said, "of 2 chats") == 0, said  # nor the unchanged capacity

    assert (await alice.call("chat:end", {"conversation_id": first["conversation"]["id"], "resolved": True}))["ok"]
    remove = bob.locator("#closed-note button", has_text="Remove from list")
    await remove.focus()
    # other customers start chats: the console is drawn again each time
    others = [await peers.customer(live.url) for _ in range(2)]
    for n, other in enumerate(others):
        assert (await other.call("chat:start", {"name": f"Other {n}", "body": "Card declined"}))["ok"]
        await expect(bob.locator("#my-chats .chat-item", has_text=f"Other {n}")).to_be_visible()
    await expect(remove).to_be_focused()  # the button was not swapped for a new one under the focus
    assert times(await announced.taken(bob, "closed-note"), "The customer ended the chat") == 1
    for peer in (alice, *others):
        await peer.close()
