"""Small steps the browser tests share: log into the console, open the widget, start a chat."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, FrameLocator, Page, expect

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
