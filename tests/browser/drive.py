"""Small steps the browser tests share: log into the console, open the widget, start a chat."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from playwright.async_api import Browser, BrowserContext, FrameLocator, Page, expect

from tests import peers
from tests.conftest import seed_cast
from tests.peers import CAST_PASSWORD

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000


class BrowserErrors:
    """Collects script errors and dialogs: a test fails if the page threw or something called alert()."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("dialog", lambda dialog: self.errors.append(f"dialog opened: {dialog.message}"))
        return page


async def new_context(browser: Browser, *, viewport: dict[str, int] = DESKTOP, locale: str = "en-US") -> BrowserContext:
    context = await browser.new_context(viewport=viewport, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    return context


async def sign_in(page: Page, url: str, email: str, *, password: str = CAST_PASSWORD, target: str = "/console") -> Page:
    """Sign in through the real form and wait until `target` is open."""
    await page.goto(f"{url}/login?next={target}")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{url}{target}")
    return page


async def console(browser: Browser, url: str, email: str, *, online: bool = True, viewport: dict[str, int] = DESKTOP) -> Page:
    """An agent logged in through the real form, on /console, connected (and online)."""
    context = await new_context(browser, viewport=viewport)
    page = await sign_in(await context.new_page(), url, email)
    await expect(page.locator("#presence [aria-checked=true]")).to_have_count(1)
    if online:
        await page.click("#presence [data-status=online]")
        await expect(page.locator("#presence [data-status=online]")).to_have_attribute("aria-checked", "true")
    return page


async def open_widget(page: Page, url: str | None = None) -> FrameLocator:
    """Open the demo page (unless already there), click the launcher, return the chat frame."""
    if url is not None:
        await page.goto(f"{url}/")
    launcher = page.locator("button.launcher")
    await expect(launcher).to_be_visible()
    if await launcher.get_attribute("aria-expanded") != "true":
        await launcher.click()
    frame = page.frame_locator("#chatserver-frame")
    await expect(frame.locator("#tab-chat")).to_be_visible()
    return frame


async def start_chat(frame: FrameLocator, body: str, *, name: str | None = None, topic_index: int | None = 0) -> None:
    if topic_index is not None:
        await frame.locator(".chip").nth(topic_index).click()
    await frame.locator("#start-body").fill(body)
    if name is not None:
        await frame.locator("#start-more summary").click()
        await frame.locator("#start-name").fill(name)
    await frame.locator("#start-submit").click()
    await expect(frame.locator("#live")).to_be_visible()


async def customer_starts(browser: Browser, url: str, body: str, name: str) -> tuple[Page, FrameLocator]:
    """A customer in a browser of their own opens the widget and starts a chat."""
    page = await (await new_context(browser)).new_page()
    frame = await open_widget(page, url)
    await start_chat(frame, body, name=name)
    return page, frame


async def chatting(
    browser: Browser, url: str, name: str = "Alice", *, before_start: Callable[[FrameLocator], Awaitable[Any]] | None = None,
) -> tuple[Page, Page, FrameLocator]:
    """Bob's console and a customer's widget, chatting: (bob, the customer's page, the widget frame).
    `before_start` runs on the frame before the chat starts."""
    bob = await console(browser, url, "bob@example.test")
    page = await (await new_context(browser)).new_page()
    frame = await open_widget(page, url)
    if before_start is not None:
        await before_start(frame)
    await start_chat(frame, "My bet was settled as lost", name=name)
    await open_chat_in_console(bob, name)
    await expect(frame.locator(".status--active")).to_be_visible()
    return bob, page, frame


async def in_chat_with(browser: Browser, url: str, body: str, name: str = "Alice") -> tuple[Page, peers.Peer, dict[str, Any]]:
    """Bob's console with the chat a customer (a python-socketio peer) started open in it:
    (bob, the customer, their `chat:start` answer)."""
    bob = await console(browser, url, "bob@example.test")
    customer = await peers.customer(url)
    started = await customer.call("chat:start", {"name": name, "body": body})
    assert started["ok"], started
    await open_chat_in_console(bob, name)
    return bob, customer, started


async def bob_at_capacity(start_server: Any) -> tuple[Any, list[peers.Peer]]:
    """A server whose only agent, Bob, is busy with as many chats as he takes (two): the next customer
    waits, with an estimate. Returns the server and the peers to close (Bob and his two customers)."""
    running = await start_server(chat_starts_per_minute=1000, waiting_chats_per_address=1000, queue_timeout=3600.0)
    await seed_cast(running.services)
    bob = await peers.agent(running.url, "bob@example.test")
    busy = [await peers.customer(running.url) for _ in range(2)]
    for n, customer in enumerate(busy):
        assert (await customer.call("chat:start", {"body": f"first {n}"}))["ok"]
    await bob.wait_for("chat:assigned")
    return running, [bob, *busy]


async def send_from_widget(frame: FrameLocator, body: str) -> None:
    await frame.locator("#composer-input").fill(body)
    await frame.locator("#composer-input").press("Enter")


async def open_chat_in_console(agent: Page, customer_name: str) -> None:
    item = agent.locator("#my-chats .chat-item-main", has_text=customer_name)
    await expect(item).to_be_visible()
    await item.click()
    await expect(agent.locator("#chat-name")).to_have_text(customer_name)


async def unsent_bodies(frame: FrameLocator) -> list[str]:
    """What the widget keeps in its storage to send again (one key per message), oldest first."""
    return await frame.locator("#log").evaluate(
        """() => Object.keys(localStorage).filter((key) => key.startsWith('chatserver.pending.'))
             .map((key) => JSON.parse(localStorage.getItem(key)))
             .sort((a, b) => (a.created_at > b.created_at) - (a.created_at < b.created_at)).map((m) => m.body)"""
    )


# fills the composer and submits it at the instant `at` (epoch ms): two tabs or consoles sending at once
SEND_AT = """async (_, [body, at]) => {
  document.getElementById('composer-input').value = body;
  await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
  document.getElementById('composer').requestSubmit();
}"""
