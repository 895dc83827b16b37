"""Screenshots of the widget and the console, made by driving the real server in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the demo server on a free port with a throw-away database, plays a short support scene
(customers queue up, Bob answers, Anna rates the help), then follows a complaint from the widget to
its tracking page, then shows the console's complaints workspace and the queue monitor (on a server of its
own), and saves PNGs at desktop and phone sizes.
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
        logins_per_minute=1000, chat_starts_per_minute=1000, waiting_chats_per_address=1000, queue_timeout=3600,
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


MONITOR_TOPICS = ["withdrawals", "bet_settlement", "account_access", "technical", "bonuses", "support_quality", "rules_terms", "other"]


async def seed_floor_history(services: Any) -> None:
    """Today's earlier chats (waits, answers, ratings) and eight weeks of complaints, written straight
    into the database so that the monitor's counters and charts have a day behind them."""
    import random

    from chatserver.store.ids import new_id

    rng = random.Random(7)
    now = services.clock()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes_today = max(30, int((now - midnight).total_seconds() // 60) - 20)
    async with services.db.transaction() as tx:
        for i in range(max(24, minutes_today // 9)):
            # busier in the second half of the day so far, like a floor warming up
            start = midnight + timedelta(minutes=int(minutes_today * (rng.random() ** 0.7)))
            customer_id = new_id("cu")
            await tx.execute(
                "INSERT INTO customers (id, token_hash, name, locale, created_at) VALUES (?, ?, ?, 'en', ?)",
                (customer_id, new_id("h"), f"Earlier customer {i}", iso(start)),
            )
            wait = timedelta(seconds=rng.choice([5, 20, 45, 70, 110, 160, 240, 320]))
            outcome = "abandoned" if rng.random() < 0.08 else "resolved"
            assigned = None if outcome == "abandoned" else start + wait
            answered = assigned + timedelta(seconds=rng.randint(15, 90)) if assigned else None
            closed = (answered or start + wait) + timedelta(minutes=rng.randint(3, 14))
            conversation_id = new_id("cv")
            await tx.execute(
                "INSERT INTO conversations (id, customer_id, status, topic, locale, created_at, queued_at, assigned_at,"
                " first_response_at, closed_at, outcome) VALUES (?, ?, 'closed', ?, 'en', ?, ?, ?, ?, ?, ?)",
                (conversation_id, customer_id, rng.choice(MONITOR_TOPICS[:5]), iso(start), iso(start), iso(assigned),
                 iso(answered), iso(closed), outcome),
            )
            if answered and rng.random() < 0.6:
                score = rng.choice([5, 5, 5, 4, 4, 4, 3, 2])
                await tx.execute(
                    "INSERT INTO ratings (conversation_id, score, created_at) VALUES (?, ?, ?)", (conversation_id, score, iso(closed))
                )
    sam = await staff(services, SAM[0])
    weights = {"withdrawals": 6, "bet_settlement": 3, "account_access": 2, "technical": 3, "bonuses": 2, "support_quality": 1, "rules_terms": 1}
    for week in range(8):
        for category, weight in weights.items():
            # withdrawals climb over the last weeks: the kind of pattern the chart is for
            count = max(0, int(weight * rng.uniform(0.4, 1.0) + (week * 0.9 if category == "withdrawals" else 0)))
            for _ in range(count):
                created = now - timedelta(days=7 * (7 - week) + rng.uniform(0.2, 6.5))
                if created > now - timedelta(hours=3):
                    continue
                ref = (await services.complaints.log(sam, category=category, subject="Earlier complaint", body="-", channel="email"))["reference"]
                async with services.db.transaction() as tx:
                    await tx.execute(
                        "UPDATE complaints SET created_at = ?, status = 'closed', closed_at = ?, response_due = NULL WHERE reference = ?",
                        (iso(created), iso(created + timedelta(hours=20)), ref),
                    )


async def monitor_states(browser: Browser, url: str, out: Path, services: Any) -> None:
    """Sam's queue monitor on a busy morning: agents at capacity, customers waiting, complaints at risk,
    the day's queue and eight weeks of complaints; then the routing explanation of one waiting chat."""
    await services.sweeper.stop()  # the staged overdue complaints would otherwise be escalated mid-scene
    await seed_floor_history(services)
    ids = {row["name"].split()[0].lower(): row["id"] for row in await users.list_active(services.db)}
    agents = {}
    for name in ("dmitri", "bob", "carol", "sam"):
        client = socketio.AsyncClient(reconnection=False)
        token = await services.auth.issue_api_token(ids[name], "screenshots")
        await client.connect(url, namespaces=["/agent"], transports=["websocket"], auth={"token": token})
        agents[name] = client

    async def presence(name: str, status: str) -> None:
        await agents[name].call("presence:set", {"status": status}, namespace="/agent")

    customers: list[Any] = []

    async def arrive(name: str, topic: str, locale: str, body: str) -> str:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(url, namespaces=["/customer"], transports=["websocket"], auth={"locale": locale})
        ack = await client.call("chat:start", {"topic": topic, "name": name, "body": body}, namespace="/customer")
        customers.append(client)
        return ack["conversation"]["id"]

    await presence("sam", "away")
    await presence("dmitri", "online")
    first = await arrive("Ivan Petrov", "withdrawals", "ru", "Вывод средств задерживается уже третий день.")
    await presence("dmitri", "away")
    await presence("bob", "online")
    await presence("carol", "online")
    people = [
        ("Marek Nowak", "bet_settlement", "pl", "Mój zakład został rozliczony błędnie."),
        ("Olga Petrova", "account_access", "ru", "I can't log in, the SMS code never arrives."),
        ("James Carter", "bonuses", "en", "How much do I still need to wager on my welcome bonus?"),
        ("Lena Fischer", "technical", "en", "The live stream freezes on my phone."),
        ("Tomás Silva", "withdrawals", "en", "My withdrawal to Skrill is still pending."),
        ("Anna Kowalska", "withdrawals", "pl", "Wypłata 250 EUR wciąż oczekuje."),
        ("Jonas Berg", "bet_settlement", "en", "The Leeds leg should have been void."),
        ("Sofia Rossi", "technical", "en", "The app crashes when I open my bets."),
        ("Noah Williams", "account_access", "en", "I need to change my e-mail address."),
        ("Yuki Tanaka", "bonuses", "en", "My free spins disappeared."),
    ]
    placed = [first]
    for person in people:
        placed.append(await arrive(*person))
    await asyncio.sleep(0.5)
    # give the scene a past: chats began minutes ago, the waiting ones have waited a while
    now = services.clock()
    waits = [timedelta(minutes=m, seconds=s) for m, s in ((6, 12), (3, 40), (1, 5), (0, 25))]
    async with services.db.transaction() as tx:
        for i, conversation_id in enumerate(placed):
            live = services.dispatcher.conversation(conversation_id)
            if live.status == "queued":
                moment = now - waits.pop(0)
                live.queued_at = moment
                await tx.execute("UPDATE conversations SET created_at = ?, queued_at = ? WHERE id = ?", (iso(moment), iso(moment), conversation_id))
            else:
                assigned = now - timedelta(minutes=4 + 3 * i)
                live.assigned_at = assigned
                live.queued_at = assigned - timedelta(seconds=20 + 7 * i)
                await tx.execute(
                    "UPDATE conversations SET created_at = ?, queued_at = ?, assigned_at = ? WHERE id = ?",
                    (iso(live.queued_at), iso(live.queued_at), iso(assigned), conversation_id),
                )
        for name, minutes, idle in (("dmitri", 38, 9), ("bob", 52, 4), ("carol", 17, 2), ("sam", 95, None)):
            agent = services.dispatcher.agents[ids[name]]
            agent.status_since = now - timedelta(minutes=minutes)
            agent.last_assigned_at = now - timedelta(minutes=idle) if idle else None
    for name, conversation_id, text in (
        ("bob", placed[1], "Let me check the settlement with our trading team."),
        ("carol", placed[2], "I've resent the code; it can take a minute."),
    ):
        await agents[name].call(
            "message:send", {"conversation_id": conversation_id, "client_id": str(uuid.uuid4()), "body": text}, namespace="/agent"
        )

    # complaints close to or past their due times, at two levels
    log = services.complaints.log
    dmitri, sam_user, carol_user = await staff(services, "dmitri@demo.test"), await staff(services, SAM[0]), await staff(services, CAROL[0])
    staged = [
        (dmitri, "withdrawals", "Third withdrawal to Revolut delayed this month", "Lena Fischer", -3.2),
        (carol_user, "bet_settlement", "Accumulator settled as lost though a match was postponed", "Jonas Berg", -0.6),
        (dmitri, "account_access", "Account locked after password reset", "Olga Petrova", 0.4),
        (carol_user, "technical", "Cash-out button missing on a settled accumulator", "James Carter", 1.1),
        (dmitri, "bonuses", "Wagering progress reset after app update", "Tomás Silva", 1.7),
    ]
    references = []
    for user, category, subject, customer_name, due_in in staged:
        ref = (await log(user, category=category, subject=subject, body=subject, channel="email", customer_name=customer_name))["reference"]
        references.append(ref)
        async with services.db.transaction() as tx:
            await tx.execute(
                "UPDATE complaints SET created_at = ?, response_due = ? WHERE reference = ?",
                (iso(now - timedelta(hours=22)), iso(now + timedelta(hours=due_in)), ref),
            )
    await services.complaints.assign(sam_user, references[2], ids["carol"])
    await services.complaints.escalate(sam_user, references[0], "Third delay this month; needs the payments lead.")
    async with services.db.transaction() as tx:
        await tx.execute("UPDATE complaints SET response_due = ? WHERE reference = ?", (iso(now - timedelta(hours=1.4)), references[0]))

    ctx = await browser.new_context(viewport=WIDE)
    page = await ctx.new_page()
    await page.goto(f"{url}/login?next=/monitor")
    await page.fill("input[name=email]", SAM[0])
    await page.fill("input[name=password]", SAM[1])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{url}/monitor")
    await page.wait_for_selector("#queue-rows tr >> nth=3")
    await page.wait_for_selector("#risk-list .risk-item >> nth=4")
    await page.wait_for_timeout(600)
    await shoot(page, out, "monitor-desktop")
    await shoot(page, out, "monitor-full-desktop", full_page=True)
    await page.click(".agent-chat:has-text('Marek')")  # routed by language: the explanation says so
    await page.wait_for_selector("#drawer .decision")
    await shoot(page, out, "monitor-explain-desktop")
    await page.click("#drawer-close")
    await page.click("#queue-rows tr >> nth=0 >> text=Assign…")
    await page.wait_for_selector("#agent-dialog[open]")
    await page.check("#agent-choices input[value='" + ids["bob"] + "']")
    await shoot(page, out, "monitor-assign-desktop")
    await page.click("#agent-dialog [data-close]")
    await ctx.close()

    phone_ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = await phone_ctx.new_page()
    await phone.goto(f"{url}/login?next=/monitor")
    await phone.fill("input[name=email]", SAM[0])
    await phone.fill("input[name=password]", SAM[1])
    await phone.click("button[type=submit]")
    await phone.wait_for_url(f"{url}/monitor")
    await phone.wait_for_selector("#queue-rows tr >> nth=3")
    await phone.wait_for_selector("#risk-list .risk-item")
    await phone.wait_for_timeout(600)
    await shoot(phone, out, "monitor-phone")
    await shoot(phone, out, "monitor-full-phone", full_page=True)
    await phone.click("#queue-rows tr >> nth=0 >> .link-button")
    await phone.wait_for_selector("#drawer .decision")
    await shoot(phone, out, "monitor-explain-phone")
    await phone_ctx.close()
    for client in [*customers, *agents.values()]:
        await client.disconnect()


ADMIN = ("admin@demo.test", "demo-admin-2026")


async def admin_pages(browser: Browser, url: str, out: Path, services: Any) -> None:
    """Administration: the users list, a refused new-user form, categories and widget settings."""
    context = await browser.new_context(viewport=WIDE)
    page = await context.new_page()
    await page.goto(f"{url}/login?next=/admin/users")
    await page.fill("input[name=email]", ADMIN[0])
    await page.fill("input[name=password]", ADMIN[1])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{url}/admin/users")

    async def wide_and_phone(name: str) -> None:
        await shoot(page, out, f"{name}-desktop")
        await page.set_viewport_size(PHONE)
        await shoot(page, out, f"{name}-phone")
        await page.set_viewport_size(WIDE)

    await wide_and_phone("admin-users")
    await page.goto(f"{url}/admin/users/new")
    await page.fill("#f-name", "Dana Novak")
    await page.fill("#f-email", "dana.voltabet.example")
    await page.fill("#f-max_chats", "80")
    await page.locator("label.check", has_text="Polish").click()
    await page.locator("label.radio", has_text="Type a password").click()
    await page.fill("#f-password", "dana")
    await page.click("button:has-text('Create user')")
    await page.wait_for_selector("#error-summary")
    await page.evaluate("() => document.activeElement && document.activeElement.blur()")
    await wide_and_phone("admin-user-errors")
    await page.goto(f"{url}/admin/categories")
    await wide_and_phone("admin-categories")
    await page.goto(f"{url}/admin/widget")
    await page.fill("#f-allowed_origins", "https://www.voltabet.example\nhttps://m.voltabet.example")
    await page.fill("#f-greeting_en", "Welcome to VoltaBet! How can we help?")
    await page.click("button:has-text('Save settings')")
    await page.wait_for_selector(".notice-success")
    await wide_and_phone("admin-widget")
    await context.close()


async def webhook_pages(browser: Browser, url: str, out: Path, services: Any) -> None:
    """Webhooks in admin: receivers, a delivery log with a success, a retry and a failure, the secret notice."""
    from chatserver.domain.models import iso as to_iso
    from chatserver.webhooks.worker import BACKOFF
    from tests.webhook_receiver import webhook_receiver

    # the demo receivers run on this machine, which webhooks refuse by default
    services.webhooks.allow_private = services.webhook_worker.allow_private = True
    admin = ConsoleUser.from_row(await users.by_email(services.db, ADMIN[0]))  # type: ignore[arg-type]
    async with webhook_receiver() as crm, webhook_receiver() as flaky:
        flaky.answers = [500] * 10
        await services.webhooks.register(admin, url=crm.url, events=["chat.started", "chat.closed", "complaint.created", "complaint.updated"],
                                         description="CRM sync: tickets follow chats and complaints")
        await services.webhooks.register(admin, url=flaky.url, events=["complaint.sla_warning", "complaint.sla_breach", "complaint.created"],
                                         description="On-call alerts (answers 500 while its deploy is broken)")
        legacy, _ = await services.webhooks.register(admin, url="https://legacy-bi.voltabet.example/ingest", events=["chat.closed"],
                                                     description="Old BI import, retired")
        await services.webhooks.set_active(admin, legacy["id"], False)
        customer = Customer(url)
        await customer.start("Ola", "withdrawals", "My withdrawal is still pending")
        await customer.end()
        await customer.close()
        anonymous, _ = await services.auth.resolve_customer(token=None, locale="en", identity=None)
        await services.complaints.submit_form(customer=anonymous, category="withdrawals", subject="Withdrawal W-88 is late",
                                              body="A week now", email=None)
        for _ in range(50):
            rows = await services.db.fetch("SELECT state, attempts FROM webhook_deliveries")
            if rows and all(r["state"] == "delivered" or r["attempts"] >= 1 for r in rows):
                break
            await asyncio.sleep(0.1)
        # one alert has used up its retries, as it would after a day of failures
        failing = await services.db.fetch("SELECT id FROM webhook_deliveries WHERE state = 'pending' ORDER BY created_at LIMIT 1")
        for row in failing:
            await services.db.write_returning(
                "UPDATE webhook_deliveries SET state = 'failed', attempts = ?, next_attempt_at = ? WHERE id = ? RETURNING id",
                (len(BACKOFF) + 1, to_iso(services.clock()), row["id"]),
            )

        context = await browser.new_context(viewport=WIDE)
        page = await context.new_page()
        await page.goto(f"{url}/login?next=/admin/webhooks")
        await page.fill("input[name=email]", ADMIN[0])
        await page.fill("input[name=password]", ADMIN[1])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{url}/admin/webhooks")
        await shoot(page, out, "admin-webhooks-desktop", full_page=True)
        await page.set_viewport_size(PHONE)
        await shoot(page, out, "admin-webhooks-phone", full_page=True)
        await page.set_viewport_size(WIDE)
        await page.fill("#f-url", "https://hooks.voltabet.example/chatserver")
        await page.fill("#f-description", "Data warehouse")
        await page.locator("label.wh-event", has_text="chat.closed").click()
        await page.click("button:has-text('Add webhook')")
        await page.wait_for_selector(".notice-success")
        await shoot(page, out, "admin-webhook-secret-desktop")
        await context.close()


async def reports_pages(browser: Browser, out: Path, folder: Path) -> None:
    """Sam's reports on ten weeks of history that end now (bench/seed_history.py at a small size, with an
    outage in the last week): the last 30 days, the whole page at desktop size, the top and the charts on a phone."""
    from datetime import datetime, timezone

    from bench.seed_history import Size, seed_history_async

    folder.mkdir()
    runner, url, services = await start_server(folder)
    try:
        await services.sweeper.stop()  # the history's open complaints are not this scene's business
        size = Size(complaints=14_000, chats=12_000, customers=3_000, agents=12, supervisors=2, days=70)
        await seed_history_async(services.settings.db, size=size, end=datetime.now(timezone.utc), bulk=False)
        for name, viewport in (("desktop", WIDE), ("phone", PHONE)):
            ctx = await browser.new_context(viewport=viewport, is_mobile=name == "phone", has_touch=name == "phone")
            page = await ctx.new_page()
            await page.goto(f"{url}/login?next=/reports")
            await page.fill("input[name=email]", SAM[0])
            await page.fill("input[name=password]", SAM[1])
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{url}/reports")
            await page.goto(f"{url}/reports?preset=30d")
            await page.wait_for_selector("#chart-days")
            if name == "desktop":
                await shoot(page, out, "reports-desktop", full_page=True)
            else:
                await shoot(page, out, "reports-phone")
                await page.locator("#by-day-title").scroll_into_view_if_needed()
                await page.evaluate("() => window.scrollBy(0, -70)")  # clear of the sticky bar
                await shoot(page, out, "reports-phone-charts")
            await ctx.close()
    finally:
        await runner.cleanup()


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
                    # the monitor's scene needs a floor of its own: a fresh server and database
                    (Path(tmp) / "monitor").mkdir()
                    monitor_runner, monitor_url, monitor_services = await start_server(Path(tmp) / "monitor")
                    try:
                        await monitor_states(browser, monitor_url, out, monitor_services)
                    finally:
                        await monitor_runner.cleanup()
                    await admin_pages(browser, url, out, services)  # it changes the widget's settings
                    await webhook_pages(browser, url, out, services)
                    await reports_pages(browser, out, Path(tmp) / "reports")  # ten weeks of history of its own
                finally:
                    await browser.close()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    asyncio.run(main(Path(parser.parse_args().out)))
