"""Screenshots of the widget and the console, made by driving the real server in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the demo server on a free port with a throw-away database, plays a short support scene
(customers queue up, Bob answers, Anna rates the help) and saves PNGs at desktop and phone sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chatserver import keys  # noqa: E402
from chatserver.app import create_app  # noqa: E402
from chatserver.config import Settings, resolve_secret_key  # noqa: E402
from chatserver.demo import seed_demo  # noqa: E402
from chatserver.services.container import build_services, close_services  # noqa: E402

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BOB = ("bob@demo.test", "demo-bob-2026")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_server(folder: Path) -> tuple[web.AppRunner, str, Any]:
    port = free_port()
    settings = Settings(
        db=str(folder / "demo.db"), port=port, secret_key="screenshots", uvloop=False, gc_tuning=False,
        logins_per_minute=1000, chat_starts_per_minute=1000, queue_timeout=3600,
    )
    services = await build_services(settings, resolve_secret_key(settings))
    try:
        await seed_demo(services)
    finally:
        await close_services(services)
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}", runner.app[keys.SERVICES]


class Customer:
    """A python Socket.IO customer that fills the queue around the browser customer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.conversation_id: str | None = None

    async def start(self, name: str, topic: str, body: str) -> None:
        await self.sio.connect(self.url, namespaces=["/customer"], transports=["websocket"], auth={"locale": "en"})
        ack = await self.sio.call("chat:start", {"topic": topic, "name": name, "body": body}, namespace="/customer")
        self.conversation_id = ack["conversation"]["id"]

    async def end(self) -> None:
        await self.sio.call("chat:end", {"conversation_id": self.conversation_id, "resolved": True}, namespace="/customer")

    async def close(self) -> None:
        await self.sio.disconnect()


async def login(page: Page, url: str, email: str, password: str) -> None:
    await page.goto(f"{url}/login?next=/console")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{url}/console")
    await page.wait_for_selector("#presence [aria-checked=true]")


async def shoot(page: Page, out: Path, name: str) -> None:
    if "/console" in page.url:  # notifications fade after a few seconds; the picture is of the work
        for _ in range(40):  # (a CSP without 'unsafe-eval' rules out wait_for_function with a string)
            if not await page.locator("#toasts .toast").count():
                break
            await page.wait_for_timeout(200)
    await page.wait_for_timeout(450)  # let transitions settle
    await page.screenshot(path=str(out / f"{name}.png"))
    print("saved", out / f"{name}.png")


async def both_sizes(page: Page, out: Path, name: str) -> None:
    """The same moment at desktop and phone sizes; the page is left at desktop size."""
    await shoot(page, out, f"{name}-desktop")
    await page.set_viewport_size(PHONE)
    await shoot(page, out, f"{name}-phone")
    await page.set_viewport_size(DESKTOP)
    await page.wait_for_timeout(300)


async def widget_states(browser: Browser, url: str, out: Path, services: Any) -> None:
    agent_ctx = await browser.new_context(viewport=DESKTOP)
    console = await agent_ctx.new_page()
    await login(console, url, *BOB)
    await console.click("#presence [data-status=online]")

    # Bob (3 seats) is busy with three chats and one more customer waits: Anna will be second.
    fillers = [Customer(url) for _ in range(4)]
    people = [
        ("Marek Nowak", "bet_settlement", "My accumulator was settled as lost but the match was postponed."),
        ("Olga Petrova", "account_access", "I can't log in, the SMS code never arrives."),
        ("James Carter", "bonuses", "How much do I still need to wager on my welcome bonus?"),
        ("Lena Fischer", "technical", "The live stream freezes on my phone."),
    ]
    for customer, (name, topic, body) in zip(fillers, people):
        await customer.start(name, topic, body)
    await console.wait_for_selector("#my-chats .chat-item >> nth=2")
    for who, text in (("Marek", "I'm checking the settlement with our trading team now."), ("Olga", "Let me resend the code for you.")):
        await console.click(f"#my-chats .chat-item-main:has-text('{who}')")
        await console.fill("#composer-input", text)
        await console.press("#composer-input", "Enter")

    ctx = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = await ctx.new_page()
    await page.goto(f"{url}/")
    await page.wait_for_function("window.Chatserver && window.Chatserver.version")
    await both_sizes(page, out, "widget-closed")

    await page.evaluate("Chatserver.open()")
    frame = page.frame_locator("iframe[title]")
    await frame.locator("#start-body").wait_for()
    await both_sizes(page, out, "widget-open")

    await frame.locator(".chip:has-text('Payments')").click()
    await frame.locator("#start-body").fill("Hi! I requested a withdrawal of 250 EUR on Monday and it is still pending. Can you check?")
    await frame.locator("#start-more summary").click()
    await frame.locator("#start-name").fill("Anna Kowalska")
    await frame.locator("#start-email").fill("anna.k@example.com")
    await frame.locator("#start-submit").click()
    await frame.locator(".status--queued").wait_for()
    await frame.locator(".msg--customer .msg-state-text:has-text('Sent')").wait_for()
    await both_sizes(page, out, "widget-queued")

    # Two chats end: the waiting customer and then Anna reach Bob.
    await fillers[2].end()
    await fillers[3].end()
    await frame.locator(".status--active").wait_for(timeout=10000)
    await console.click("#my-chats .chat-item-main:has-text('Anna')")
    await console.wait_for_selector("#transcript .line-customer")
    await console.fill("#composer-input", "/with")
    await console.wait_for_selector("#canned-list .canned-item")
    await console.keyboard.press("Enter")
    await console.fill("#composer-input", "Hi Anna, I'm Bob. I can see your withdrawal of 250 EUR — it was approved this morning and is on its way to your bank.")
    await console.press("#composer-input", "Enter")
    await console.click(".composer-modes [data-mode=note]")
    await console.fill("#composer-input", "Approved by payments at 09:12, bank transfer ref PX-55812.")
    await console.press("#composer-input", "Enter")
    await console.click(".composer-modes [data-mode=reply]")
    await frame.locator(".msg--agent").wait_for()
    await frame.locator("#composer-input").fill("Great, thank you! How long does the bank usually take?")
    await frame.locator("#composer-input").press("Enter")
    await console.wait_for_selector("#transcript .line-customer >> nth=1")
    await console.type("#composer-input", "Usually 1–3 business days", delay=20)
    await frame.locator("#typing:not([hidden])").wait_for()
    await both_sizes(page, out, "widget-chatting")
    await shoot(console, out, "console-desktop")

    phone_ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = await phone_ctx.new_page()
    await login(phone, url, *BOB)
    await phone.wait_for_selector("#my-chats .chat-item")
    await shoot(phone, out, "console-phone-list")
    await phone.click("#my-chats .chat-item-main:has-text('Anna')")
    await phone.wait_for_selector("#transcript .line-customer")
    await shoot(phone, out, "console-phone-chat")
    await phone_ctx.close()

    await console.press("#composer-input", "Enter")
    await frame.locator(".status--active .btn").click()
    await frame.locator(".end-card--ask .btn-primary").click()
    await frame.locator(".end-card--rate").wait_for()
    await frame.locator(".star >> nth=4").click()
    await frame.locator("#rate-comment").fill("Quick and clear, thanks Bob!")
    await both_sizes(page, out, "widget-rating")
    await frame.locator(".end-card--rate .btn-primary").click()
    await frame.locator(".end-card--thanks").wait_for()
    await both_sizes(page, out, "widget-rated")
    await shoot(console, out, "console-closed-desktop")
    for customer in fillers:
        await customer.close()
    await ctx.close()
    await agent_ctx.close()


async def main(out: Path) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        runner, url, services = await start_server(Path(tmp))
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                try:
                    await widget_states(browser, url, out, services)
                finally:
                    await browser.close()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    asyncio.run(main(Path(parser.parse_args().out)))
