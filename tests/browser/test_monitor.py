"""The queue monitor in Chromium: live by push, assigning from the monitor into an open console,
routing explained, the capacity override, take-over and presence, and the phone layout."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from chatserver.services.monitor import CONSOLE_QUEUE_SHOWN, MONITOR_QUEUE_SHOWN
from tests import peers
from tests.admin_steps import add_admin
from tests.browser import drive
from tests.complaint_steps import staff
from tests.peers import CAST_PASSWORD

pytestmark = pytest.mark.browser


async def monitor_page(browser: Browser, url: str, *, viewport: dict[str, int] = drive.DESKTOP, errors: drive.BrowserErrors | None = None) -> Page:
    """Sam logged in through the real form, on /monitor, with the live socket up."""
    context = await drive.new_context(browser, viewport=viewport)
    page = await context.new_page()
    if errors is not None:
        errors.watch(page)
    await page.goto(f"{url}/login?next=/monitor")
    await page.fill("input[name=email]", "sam@example.test")
    await page.fill("input[name=password]", CAST_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{url}/monitor")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    return page


async def test_a_new_chat_appears_live_and_the_supervisor_assigns_it_into_the_agents_console(browser, live):
    errors = drive.BrowserErrors()
    sam = await monitor_page(browser, live.url, errors=errors)
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test", online=False))
    await bob.click("#presence [data-status=away]")  # console open, but routing gives him nothing
    await expect(sam.locator("#agents [data-agent-id] .agent-name", has_text="Bob")).to_be_visible()
    await expect(sam.locator("#queue-empty")).to_be_visible()
    # nobody waited today: both axes of the queue chart count in whole chats and minutes, 0 and 1
    await sam.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('queue-chart'))")
    ticks = await sam.evaluate("() => Object.values(Chart.getChart(document.getElementById('queue-chart')).scales).filter((s) => s.id !== 'x').map((s) => s.ticks.map((t) => t.value))")
    assert ticks == [[0, 1], [0, 1]]

    customer = errors.watch(await (await drive.new_context(browser)).new_page())
    frame = await drive.open_widget(customer, live.url)
    await drive.start_chat(frame, "My withdrawal is stuck", name="Alice <b>Smith</b>")

    # pushed in, no reload: the waiting chat, its topic, and the counters
    row = sam.locator("#queue-rows tr", has_text="Alice <b>Smith</b>")
    await expect(row).to_have_count(1)
    await expect(row.locator(".q-topic")).to_have_text("Payments and withdrawals")
    await expect(sam.locator("#k-queued")).to_have_text("1")
    assert await sam.locator("#queue-rows b").count() == 0  # visitor text is text

    # why it waits: everyone considered, nobody eligible
    await row.locator(".link-button").click()
    drawer = sam.locator("#drawer")
    await expect(drawer.locator(".decision").first).to_contain_text("Waited in the queue")
    await expect(drawer.locator(".candidates tr", has_text="Bob")).to_contain_text("Away")

    await row.get_by_role("button", name="Assign…").click()
    dialog = sam.locator("#agent-dialog")
    await expect(dialog).to_be_visible()
    await dialog.locator("label.choice", has_text="Bob").click()
    await dialog.get_by_role("button", name="Assign").click()
    await expect(dialog).to_be_hidden()

    # the agent's open console receives it; the monitor and the widget follow
    await expect(bob.locator("#my-chats .chat-item-main", has_text="Alice")).to_be_visible()
    await expect(sam.locator("#queue-empty")).to_be_visible()
    await expect(sam.locator("#agents [data-agent-id]", has_text="Bob").locator(".agent-chat")).to_contain_text("Alice")
    await expect(frame.locator(".status--active")).to_be_visible()
    # the open panel explains the new placement
    await expect(drawer.locator(".decision").first).to_contain_text("Bob")
    await expect(drawer.locator(".decision-rule").first).to_contain_text("Assigned by Sam")
    assert errors.errors == []


async def test_capacity_override_and_errors_show_in_the_dialog(browser, live):
    bob = await peers.agent(live.url, "bob@example.test")  # two seats
    customers = [await peers.customer(live.url) for _ in range(3)]
    for i, customer in enumerate(customers):
        assert (await customer.call("chat:start", {"body": f"chat {i}", "name": f"Customer {i}"}))["ok"]
    sam = await monitor_page(browser, live.url)
    row = sam.locator("#queue-rows tr", has_text="Customer 2")
    await expect(row).to_have_count(1)
    await expect(sam.locator("#agents [data-agent-id]", has_text="Bob").locator(".load-text")).to_contain_text("2 / 2")

    await row.get_by_role("button", name="Assign…").click()
    dialog = sam.locator("#agent-dialog")
    await expect(dialog.locator("label.choice", has_text="Carol")).to_contain_text("No console open")
    await expect(dialog.locator("label.choice", has_text="Carol").locator("input")).to_be_disabled()
    await dialog.locator("label.choice", has_text="Bob").click()
    await expect(sam.locator("#agent-force-row")).to_be_visible()
    await dialog.get_by_role("button", name="Assign").click()
    await expect(dialog.locator(".form-error")).to_contain_text("at capacity")
    await expect(dialog).to_be_visible()
    await sam.check("#agent-force")
    await dialog.get_by_role("button", name="Assign").click()
    await expect(dialog).to_be_hidden()
    await bob.wait_for("chat:assigned", lambda d: d["customer"]["name"] == "Customer 2")
    await expect(sam.locator("#agents [data-agent-id]", has_text="Bob").locator(".load-text")).to_contain_text("3 / 2")
    for peer in (bob, *customers):
        await peer.close()


async def test_take_over_into_the_supervisors_console_and_set_an_agent_away(browser, live):
    bob_page = await drive.console(browser, live.url, "bob@example.test")
    sam = await monitor_page(browser, live.url)
    sam_console = await sam.context.new_page()  # the same login, in another tab
    await sam_console.goto(f"{live.url}/console")
    await expect(sam_console.locator("#presence [aria-checked=true]")).to_have_count(1)
    alice = await peers.customer(live.url)
    assert (await alice.call("chat:start", {"body": "help please", "name": "Alice"}))["ok"]
    await expect(bob_page.locator("#my-chats .chat-item-main", has_text="Alice")).to_be_visible()

    bob_card = sam.locator("#agents [data-agent-id]", has_text="Bob")
    await bob_card.locator(".agent-chat", has_text="Alice").click()
    await sam.locator("#drawer").get_by_role("button", name="Take over").click()
    confirm = sam.locator("#confirm-dialog")
    await expect(confirm).to_contain_text("Bob loses the chat")
    await confirm.get_by_role("button", name="Take over").click()
    await expect(confirm).to_be_hidden()
    await expect(sam_console.locator("#my-chats .chat-item-main", has_text="Alice")).to_be_visible()
    await expect(bob_page.locator("#my-chats .chat-item")).to_have_count(0)

    await bob_card.locator(".menu-button").click()
    await bob_card.locator(".menu-list [data-status=away]").click()
    await expect(bob_page.locator("#presence [data-status=away]")).to_have_attribute("aria-checked", "true")
    await expect(bob_card.locator(".agent-status-text")).to_have_text("Away")
    await alice.close()


async def test_the_monitor_on_a_phone_stacks_into_one_column(browser, live):
    customer = await peers.customer(live.url)
    assert (await customer.call("chat:start", {"body": "hello", "name": "Phone Alice", "topic": "bonuses"}))["ok"]
    sam = await monitor_page(browser, live.url, viewport=drive.PHONE)
    row = sam.locator("#queue-rows tr", has_text="Phone Alice")
    await expect(row).to_be_visible()
    await expect(row.get_by_role("button", name="Assign…")).to_be_visible()
    width = await sam.evaluate("() => document.documentElement.scrollWidth")
    assert width <= drive.PHONE["width"]
    await row.locator(".link-button").click()
    await expect(sam.locator("#drawer")).to_be_visible()
    box = await sam.locator("#drawer").bounding_box()
    assert box is not None and round(box["width"]) == drive.PHONE["width"]  # the panel takes the whole screen
    await customer.close()


async def test_agent_cards_show_a_whole_name_where_it_fits_and_end_a_name_too_long_in_an_ellipsis(browser, live):
    await add_admin(live.services, name="Alexandra Montgomery")
    await add_admin(live.services, email="max@example.test", name="Maximiliana Alexandrovna Konstantinopolskaya-Wolfeschlegelsteinhausen")
    sam = await monitor_page(browser, live.url, viewport={"width": 1440, "height": 800})
    await expect(sam.locator("#agents [data-agent-id]")).to_have_count(5)
    cut = "(e) => e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight"
    assert not await sam.locator(".agent-name", has_text="Alexandra Montgomery").evaluate(cut)
    assert not await sam.locator(".agent-name", has_text="Sam").evaluate(cut)  # with its '(you)'
    assert await sam.locator(".agent-name", has_text="Maximiliana").evaluate(cut)  # two lines, then '…'
    assert await sam.evaluate("() => document.documentElement.scrollWidth") <= 1440


async def test_an_agent_gets_a_403_page_at_the_monitor(browser, live):
    bob = await drive.console(browser, live.url, "bob@example.test", online=False)
    response = await bob.goto(f"{live.url}/monitor")
    assert response is not None and response.status == 403


async def test_a_long_queue_shows_its_front_and_its_whole_count_on_the_monitor_and_the_console(browser, live):
    waiting = MONITOR_QUEUE_SHOWN + 30
    for n in range(waiting):
        customer, _ = await live.services.auth.resolve_customer(token=None, locale=None, identity=None)
        await live.services.chats.start(customer, topic=None, body=f"waiting {n + 1}", name=f"Waiting {n + 1}", email=None)
    errors = drive.BrowserErrors()
    sam = await monitor_page(browser, live.url, errors=errors)
    await expect(sam.locator("#queue-rows tr")).to_have_count(MONITOR_QUEUE_SHOWN)
    await expect(sam.locator("#queue-count")).to_have_text(str(waiting))
    await expect(sam.locator("#k-queued")).to_have_text(str(waiting))
    await expect(sam.locator("#queue-rest")).to_have_text(f"Showing the first {MONITOR_QUEUE_SHOWN} of {waiting} waiting chats.")
    await expect(sam.locator("#k-longest")).to_contain_text("Longest")
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test", online=False))
    await expect(bob.locator("#queue .queue-item")).to_have_count(CONSOLE_QUEUE_SHOWN)
    await expect(bob.locator("#queue-count")).to_have_text(str(waiting))
    await expect(bob.locator("#queue-rest")).to_have_text(f"and {waiting - CONSOLE_QUEUE_SHOWN} more waiting behind them")
    assert errors.errors == []


async def test_moving_a_chat_someone_moved_meanwhile_says_where_it_went_and_moves_it_no_further(browser, live):
    errors = drive.BrowserErrors()
    bob_agent, alice, conversation_id = await peers.active_chat(live.url)
    carol = await peers.agent(live.url, "carol@example.test")
    await carol.call("presence:set", {"status": "away"})
    sam_console = await peers.agent(live.url, "sam@example.test")
    sam = await monitor_page(browser, live.url, errors=errors)
    await sam.locator(f".agent-chat[data-conversation-id='{conversation_id}']").click()
    await sam.locator("#drawer").get_by_role("button", name="Move…").click()
    dialog = sam.locator("#agent-dialog")
    await expect(dialog).to_be_visible()
    # while Sam chooses, someone else moves the chat from Bob to Carol
    ids = {a.name: a.id for a in live.services.dispatcher.agents.values()}
    await live.services.supervision.move(await staff(live.services, "sam@example.test"), conversation_id, ids["Carol"], from_agent_id=ids["Bob"])
    await dialog.locator("label.choice", has_text="Sam").click()
    await dialog.get_by_role("button", name="Move").click()
    await expect(dialog.locator(".form-error")).to_have_text("the chat moved to Carol meanwhile")
    assert live.services.dispatcher.conversation(conversation_id).agent_id == ids["Carol"]
    for peer in (bob_agent, alice, carol, sam_console):
        await peer.close()
    assert errors.errors == []
