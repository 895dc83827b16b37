"""Screenshots of the widget and the console, made by driving the real server in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the demo server on a free port with a throw-away database, plays a short support scene
(customers queue up, Bob answers, Anna rates the help), then follows a complaint from the widget to
its tracking page, and saves PNGs at desktop and phone sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import sys
import tempfile
import uuid
from datetime import timedelta
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
from chatserver.domain.models import iso, parse_iso  # noqa: E402
from chatserver.services.auth import ConsoleUser  # noqa: E402
from chatserver.store import users  # noqa: E402
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


async def shoot(page: Page, out: Path, name: str, full_page: bool = False) -> None:
    if "/console" in page.url:  # notifications fade after a few seconds; the picture is of the work
        for _ in range(40):  # (a CSP without 'unsafe-eval' rules out wait_for_function with a string)
            if not await page.locator("#toasts .toast").count():
                break
            await page.wait_for_timeout(200)
    await page.wait_for_timeout(450)  # let transitions settle
    await page.screenshot(path=str(out / f"{name}.png"), full_page=full_page)
    print("saved", out / f"{name}.png")


async def both_sizes(page: Page, out: Path, name: str, full_page: bool = False) -> None:
    """The same moment at desktop and phone sizes; the page is left at desktop size."""
    await shoot(page, out, f"{name}-desktop", full_page)
    await page.set_viewport_size(PHONE)
    await shoot(page, out, f"{name}-phone", full_page)
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


async def staff(services: Any, email: str) -> ConsoleUser:
    row = await users.by_email(services.db, email)
    return ConsoleUser.from_row(row)


async def file_complaint(frame: Any, subject: str, body: str) -> str:
    await frame.locator("#complaint-new").click()
    await frame.locator("#cf-category").select_option("withdrawals")
    await frame.locator("#cf-subject").fill(subject)
    await frame.locator("#cf-body").fill(body)
    await frame.locator("#cf-submit").click()
    reference = await frame.locator("#complaint-sent .reference-value").inner_text()
    await frame.locator("#complaint-sent .btn").click()
    return reference


async def complaint_states(browser: Browser, url: str, out: Path, services: Any) -> None:
    """Marta files a complaint in the widget; Bob asks, she answers, Sam approves a goodwill payment,
    Bob resolves it; then the same complaint on its tracking page, before and after she accepts."""
    bob, sam = await staff(services, BOB[0]), await staff(services, "sam@demo.test")
    ctx = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = await ctx.new_page()
    await page.goto(f"{url}/")
    await page.wait_for_function("window.Chatserver && window.Chatserver.version")
    await page.evaluate("Chatserver.open()")
    frame = page.frame_locator("iframe[title]")
    await frame.locator("#tab-complaints").click()
    # an earlier complaint, long settled, so the list shows a history
    earlier = await file_complaint(frame, "Free bet from the weekend promotion not credited", "I qualified on Saturday but got nothing.")
    await services.complaints.resolve(bob, earlier, "The free bet of 10 EUR has been added to your account. Sorry for the trouble.")
    owner = (await services.db.fetch("SELECT customer_id FROM complaints WHERE reference = ?", (earlier,)))[0]["customer_id"]
    await services.complaints.customer_reply(await services.auth.customer(owner), earlier, None, "accept")
    reference = await file_complaint(
        frame, "Withdrawal of 250 EUR still pending after 6 days",
        "I requested a withdrawal of 250 EUR to my bank account on Monday. The status still says pending and nobody has told me why.",
    )
    await frame.locator(".complaint-open >> nth=1").wait_for()
    await both_sizes(page, out, "widget-complaints")

    await services.complaints.start(bob, reference)
    await services.complaints.reply(
        bob, reference, "Hello Marta, I'm sorry for the wait. I've asked our payments team to trace the transfer.",
    )
    await services.complaints.reply(
        bob, reference, "Could you confirm the last four digits of the bank account you withdrew to?", ask_customer=True,
    )
    await frame.locator(".complaint-open", has_text=reference).click()
    await frame.locator(".case-notice:has-text('We need your answer')").wait_for()
    await frame.locator(".case-scroller").evaluate("el => { el.scrollTop = 0; }")
    await both_sizes(page, out, "widget-complaint-open")
    await frame.locator("#case-input").fill("Sure, it ends in 4417. It's the same account I always use.")
    await frame.locator("#case-input").press("Enter")
    await frame.locator(".case-bar .pill:has-text('In progress')").wait_for()
    await both_sizes(page, out, "widget-complaint-thread")

    proposal = await services.complaints.propose_compensation(
        bob, reference, amount_minor=1500, currency="EUR", reason="Goodwill credit for the delay",
    )
    await services.complaints.decide_compensation(sam, proposal["id"], approve=True, note=None)
    await services.complaints.resolve(
        bob, reference,
        "Your bank returned the first transfer because of a name mismatch. We have corrected it and sent the 250 EUR again today; "
        "it usually arrives within 1–2 business days.",
    )
    await frame.locator(".case-card--decide").wait_for()
    await frame.locator(".case-card--decide").scroll_into_view_if_needed()
    await both_sizes(page, out, "widget-complaint-resolved")

    track = await ctx.new_page()
    await track.goto(f"{url}/track/{reference}?key={services.complaints.tracking_key(reference)}")
    await both_sizes(track, out, "track-resolved", full_page=True)
    await track.click("button[value=accept]")
    await track.wait_for_url("**done=accepted**")
    await track.click(".track-star >> nth=4")
    await track.fill("#track-comment", "Took a while, but Bob kept me informed.")
    await both_sizes(track, out, "track-rating", full_page=True)
    await ctx.close()


CAROL = ("carol@demo.test", "demo-carol-2026")
SAM = ("sam@demo.test", "demo-sam-2026")
WIDE = {"width": 1440, "height": 900}


async def backdate(services: Any, reference: str, hours: float) -> None:
    """Move a complaint's creation and due times into the past, so the list shows a working day's spread."""
    row = (await services.db.fetch("SELECT * FROM complaints WHERE reference = ?", (reference,)))[0]
    shift = timedelta(hours=hours)
    moved = {k: iso(parse_iso(row[k]) - shift) if row[k] else None for k in ("created_at", "first_response_due", "response_due", "resolution_due")}
    async with services.db.transaction() as tx:
        await tx.execute(
            "UPDATE complaints SET created_at = ?, first_response_due = ?, response_due = ?, resolution_due = ? WHERE reference = ?",
            (*moved.values(), reference),
        )
        await tx.execute("UPDATE complaint_entries SET created_at = ? WHERE complaint_id = ? AND created_at < ?", (moved["created_at"], row["id"], moved["created_at"]))


async def console_complaints(browser: Browser, url: str, out: Path, services: Any) -> None:
    """The console's complaints workspace: Carol turns a chat into a complaint and works it, Sam sees
    the compensation to decide; list and detail at desktop and phone sizes."""
    await services.sweeper.stop()  # the staged overdue complaint would otherwise be escalated mid-scene
    carol_user, dmitri = await staff(services, CAROL[0]), await staff(services, "dmitri@demo.test")
    log = services.complaints.log
    staged = [
        (await log(dmitri, category="account_access", subject="Account locked after password reset", channel="phone",
                   body="Customer called: locked out since resetting the password yesterday; the SMS code never arrives.",
                   customer_name="Olga Petrova", customer_email="olga.p@example.com"))["reference"],
        (await log(carol_user, category="technical", subject="Cash-out button missing on a settled accumulator", channel="email",
                   body="Screenshot attached in the e-mail: the cash-out button disappeared on Saturday.",
                   customer_name="James Carter", customer_email="j.carter@example.com"))["reference"],
        (await log(dmitri, category="withdrawals", subject="Third withdrawal to Revolut delayed this month", channel="email",
                   body="Third delay in a month; the customer is considering closing the account.",
                   customer_name="Lena Fischer", customer_email="lena.f@example.com"))["reference"],
        (await log(carol_user, category="bonuses", subject="Wagering progress reset after app update", channel="phone",
                   body="Welcome bonus wagering shows 0 % after updating the app; it was at 60 %.", customer_name="Tomás Silva"))["reference"],
    ]
    await services.complaints.start(dmitri, staged[0])
    await services.complaints.assign(await staff(services, SAM[0]), staged[0], carol_user.id)
    await services.complaints.reply(carol_user, staged[3], "Could you tell us which app version you updated to?", ask_customer=True)
    await services.complaints.escalate(dmitri, staged[2], "Third delay this month for the same customer; needs the payments lead.")
    for reference, hours in zip(staged, (20, 6, 27, 3)):
        await backdate(services, reference, hours)

    # Carol takes Jonas's chat and closes it as a complaint with a summary
    ctx = await browser.new_context(viewport=WIDE)
    carol = await ctx.new_page()
    await login(carol, url, *CAROL)
    await carol.click("#presence [data-status=online]")
    jonas = socketio.AsyncClient(reconnection=False)
    await jonas.connect(url, namespaces=["/customer"], transports=["websocket"], auth={"locale": "en"})
    started = await jonas.call("chat:start", {
        "topic": "bet_settlement", "name": "Jonas Berg", "email": "jonas.berg@example.com",
        "body": "My accumulator was settled as lost, but the Leeds match was postponed. That leg should be void.",
    }, namespace="/customer")
    conversation_id = started["conversation"]["id"]
    await carol.click("#my-chats .chat-item-main:has-text('Jonas')")
    await carol.wait_for_selector("#transcript .line-customer")
    await carol.fill("#composer-input", "Hi Jonas, I'm Carol. Let me look at how that accumulator was settled.")
    await carol.press("#composer-input", "Enter")
    await jonas.call("message:send", {"conversation_id": conversation_id, "client_id": str(uuid.uuid4()), "body": "Thanks. The bet ID is ACC-88213."}, namespace="/customer")
    await carol.wait_for_selector("#transcript .line-customer >> nth=1")
    await carol.fill("#composer-input", "I can see it. The trading team has to re-settle it, so I'm opening a complaint for you — you'll get the reference by e-mail.")
    await carol.press("#composer-input", "Enter")
    await carol.click("#close-chat")
    await carol.check("#close-dialog input[value=complaint]")
    await carol.select_option("#close-category", "bet_settlement")
    await carol.fill("#close-summary", "Accumulator ACC-88213 settled as lost; the Leeds match was postponed, so that leg should be void")
    await carol.click("#close-submit")
    await carol.wait_for_selector("#closed-note:has-text('complaint')")
    reference = (await services.db.fetch("SELECT reference FROM complaints WHERE conversation_id = ?", (conversation_id,)))[0]["reference"]
    await services.complaints.start(carol_user, reference)
    await services.complaints.reply(carol_user, reference, "Hello Jonas, your complaint is with our trading team. We'll re-settle the bet and let you know today.")
    await services.complaints.note(carol_user, reference, "Trading confirms the Leeds–Burnley match was postponed: rule 4.2, the leg is void. Re-settlement pays 148.20 EUR instead of 0.")
    await services.complaints.propose_compensation(carol_user, reference, amount_minor=1000, currency="EUR", reason="Goodwill free bet for the wrong settlement")

    await carol.goto(f"{url}/console#complaints/{reference}")
    await carol.wait_for_selector("#cx-thread .cx-entry-note")
    await carol.click(".cx-origin summary")
    await shoot(carol, out, "console-complaints-desktop")

    sam_ctx = await browser.new_context(viewport=WIDE)
    sam = await sam_ctx.new_page()
    await login(sam, url, *SAM)
    await sam.goto(f"{url}/console#complaints/{reference}")
    await sam.wait_for_selector("#cx-comp-list .cx-approve")
    await sam.select_option("#cx-f-status", "in_progress")
    await sam.wait_for_selector("#cx-rows .cx-row")
    await shoot(sam, out, "console-complaint-supervisor-desktop")
    await sam_ctx.close()

    phone_ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = await phone_ctx.new_page()
    await login(phone, url, *CAROL)
    await phone.goto(f"{url}/console#complaints")
    await phone.wait_for_selector("#cx-rows .cx-row >> nth=3")
    await shoot(phone, out, "console-complaints-phone")
    await phone.click(f"#cx-rows [data-reference='{reference}']")
    await phone.wait_for_selector("#cx-thread .cx-entry-note")
    await shoot(phone, out, "console-complaint-phone")
    await phone_ctx.close()
    await jonas.disconnect()
    await ctx.close()


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
                    await complaint_states(browser, url, out, services)
                    await console_complaints(browser, url, out, services)
                finally:
                    await browser.close()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    asyncio.run(main(Path(parser.parse_args().out)))
