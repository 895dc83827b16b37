"""Web addresses in messages and complaint threads are links, in Chromium against the real server: the
widget's transcript and complaints, the console's transcript and complaint thread, the tracking page.
Only http(s) addresses become links, each opens in a new tab without an opener or a referrer, reads
exactly as written, and a long one wraps inside its bubble on a desktop and on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Frame, FrameLocator, Page, expect

from chatserver.domain.links import find_links
from tests import peers
from tests.browser import drive
from tests.browser.hostile import LINKS, Tripwire, hostile_server, signed_in
from tests.complaint_steps import staff
from tests.links_cases import CASES, LONG

pytestmark = pytest.mark.browser

REL = "noopener noreferrer nofollow"
ATTRIBUTES = sorted(["href", "target", "rel", "dir", "class"])
WIDE = {"width": 1366, "height": 800}

_BODIES = """
(els) => els.map((el) => ({
  text: el.textContent,
  nodes: [...el.childNodes].map((n) => (n.nodeType === Node.TEXT_NODE ? '#text' : n.tagName)),
  links: [...el.querySelectorAll('a')].map((a) => ({
    text: a.textContent, protocol: a.protocol, rel: a.rel, target: a.target, attributes: a.getAttributeNames().sort(),
  })),
}))
"""


async def links_in(where: Page | FrameLocator, selector: str, texts: set[str]) -> int:
    """Every element matching `selector` holds one of `texts`, as text nodes and the links the finder
    expects in it: http(s) only, in a new tab, nothing else. Returns how many links were checked."""
    found: list[dict[str, Any]] = await where.locator(selector).evaluate_all(_BODIES)
    assert found, selector
    checked = 0
    for body in found:
        assert body["text"] in texts, body["text"]
        assert set(body["nodes"]) <= {"#text", "A"}, body["nodes"]
        expected = [piece.text for piece in find_links(body["text"]) if piece.href]
        assert [link["text"] for link in body["links"]] == expected
        for link in body["links"]:
            assert link["protocol"] in ("http:", "https:"), link
            assert (link["rel"], link["target"], link["attributes"]) == (REL, "_blank", ATTRIBUTES), link
            checked += 1
    return checked


# -- the finder itself -------------------------------------------------------------------------------


async def test_the_widget_and_the_console_find_links_as_the_cases_say(browser, live):
    context = await drive.new_context(browser)
    page = await context.new_page()
    await page.goto(f"{live.url}/login")
    results = await page.evaluate(
        """async (texts) => {
          const widget = await import('/widget/assets/app/dom.js');
          const console = await import('/static/console/dom.js');
          const pieces = texts.map((text) => widget.findLinks(text).map((p) => [p.text, Boolean(p.href), p.href || null]));
          const nodes = widget.linkify('Read https://x.test/a, then reply.').map((n) => n.outerHTML || n.data);
          return { pieces, shared: console.linkify === widget.linkify, nodes };
        }""",
        [text for text, _ in CASES],
    )
    assert results["shared"]  # one implementation: the console imports the widget's
    for (text, expected), got in zip(CASES, results["pieces"]):
        assert [(part, is_link) for part, is_link, _ in got] == expected, text
        for part, _, href in got:
            if href:
                assert href.startswith(("http://", "https://")), href
                assert href.lower().startswith("https://www.") if part.lower().startswith("www.") else href.startswith(part[:5].lower())
    assert results["nodes"] == [
        "Read ",
        f'<a href="https://x.test/a" target="_blank" rel="{REL}" dir="ltr" class="text-link">https://x.test/a</a>',
        ", then reply.",
    ]


# -- chats -------------------------------------------------------------------------------------------


async def test_addresses_in_a_chat_are_working_links_in_the_console_and_the_widget(browser, live):
    errors = drive.BrowserErrors()
    bob = errors.watch(await drive.console(browser, live.url, "bob@example.test"))
    context = await drive.new_context(browser)
    page = errors.watch(await context.new_page())
    frame = await drive.open_widget(page, live.url)
    target = f"{live.url}/login?from=chat"
    await drive.start_chat(frame, f"The page {target} says my bet was void.", name="Alice")

    # the customer's address is a link in the console, and opens in a new tab with no way back to the console
    await drive.open_chat_in_console(bob, "Alice")
    link = bob.locator("#transcript .line-customer .bubble a")
    await expect(link).to_have_text(target)
    await expect(link).to_have_attribute("href", target)
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", REL)
    async with bob.context.expect_page() as opened:
        await link.click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == target
    assert await tab.evaluate("() => window.opener === null && document.referrer === ''")
    await tab.close()

    # the agent's answer is a link in the widget, with the same rel and target
    await bob.fill("#composer-input", "See www.example.test/rules#void, section 4.")
    await bob.press("#composer-input", "Enter")
    answer = frame.locator(".msg--agent .bubble a")
    await expect(answer).to_have_text("www.example.test/rules#void")
    await expect(answer).to_have_attribute("href", "https://www.example.test/rules#void")
    await expect(answer).to_have_attribute("target", "_blank")
    await expect(answer).to_have_attribute("rel", REL)
    await expect(frame.locator(".msg--customer .bubble a")).to_have_attribute("href", target)

    # an internal note is linked for staff and never reaches the customer
    await bob.click("#composer [data-mode=note]")
    await bob.fill("#composer-input", "Rule text: https://intranet.example.test/void-bets")
    await bob.press("#composer-input", "Enter")
    note = bob.locator("#transcript .line-note .bubble a")
    await expect(note).to_have_attribute("href", "https://intranet.example.test/void-bets")
    await expect(note).to_have_attribute("rel", REL)
    await drive.send_from_widget(frame, "Thanks")
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_count(2)
    await expect(frame.locator("#log")).not_to_contain_text("intranet")
    assert errors.errors == []


async def test_hostile_addresses_make_only_web_links_and_nothing_runs(browser, start_server):
    """Every hostile address as a customer's message, an agent's reply and an internal note in a chat,
    then as the complaint's text, customer messages, replies and notes in its thread: in the widget,
    the console and the tracking page, only the expected http(s) links, and nothing ran."""
    server = await hostile_server(start_server)
    texts = set(LINKS.values())
    tripwire = Tripwire()
    bob = await signed_in(browser, tripwire, server.url, "bob@example.test", "/console")
    await bob.click("#presence [data-status=online]")
    context = await tripwire.arm(await drive.new_context(browser))
    page = await context.new_page()
    frame = await drive.open_widget(page, server.url)

    first, *rest = LINKS.values()
    await drive.start_chat(frame, first, name="Alice")
    for sent, text in enumerate(rest, start=2):
        await drive.send_from_widget(frame, text)
        await expect(frame.locator(".msg--customer:not(.is-pending) .bubble")).to_have_count(sent)
    await drive.open_chat_in_console(bob, "Alice")
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_count(len(LINKS))
    for mode in ("reply", "note"):
        await bob.click(f"#composer [data-mode={mode}]")
        for text in LINKS.values():
            await bob.fill("#composer-input", text)
            await bob.press("#composer-input", "Enter")
    await expect(bob.locator("#transcript .line-note:not(.is-pending) .bubble")).to_have_count(len(LINKS))
    await expect(frame.locator(".msg--agent .bubble")).to_have_count(len(LINKS))
    checked = await links_in(bob, "#transcript .bubble", texts)
    checked += await links_in(frame, "#log .bubble", texts)
    await tripwire.assert_clean(bob, page)

    customer = await peers.customer(server.url)
    submitted = (await customer.call("complaint:submit", {"category": "withdrawals", "subject": "Void bet", "body": first}))["complaint"]
    reference = submitted["reference"]
    bob_user = await staff(server.services)
    for text in LINKS.values():
        assert (await customer.call("complaint:reply", {"reference": reference, "body": text}))["ok"]
        await server.services.complaints.reply(bob_user, reference, text)
        await server.services.complaints.note(bob_user, reference, text)
    await bob.goto(f"{server.url}/console#complaints/{reference}")
    await expect(bob.locator("#cx-thread .cx-entry-note")).to_have_count(len(LINKS))
    checked += await links_in(bob, "#cx-thread .cx-card-body", texts)

    track = await context.new_page()
    await track.goto(f"{server.url}/track/{reference}?key={submitted['tracking_key']}")
    await expect(track.locator(".track-line--reply .track-bubble")).to_have_count(len(LINKS))
    checked += await links_in(track, ".track-bubble", texts)
    assert checked > 40
    await tripwire.assert_clean(bob, page, track)
    await customer.close()


# -- complaints --------------------------------------------------------------------------------------


async def test_a_reply_with_an_address_is_a_link_on_the_tracking_page_and_in_the_widget(browser, live):
    errors = drive.BrowserErrors()
    context = await drive.new_context(browser)
    page = errors.watch(await context.new_page())
    frame = await drive.open_widget(page, live.url)
    await frame.locator("#tab-complaints").click()
    await frame.locator("#complaint-new").click()
    await frame.locator("#cf-category").select_option("withdrawals")
    await frame.locator("#cf-subject").fill("Withdrawal stuck")
    await frame.locator("#cf-body").fill("Pending since Monday.")
    await frame.locator("#cf-submit").click()
    reference = await frame.locator("#complaint-sent .reference-value").inner_text()
    await frame.locator("#complaint-sent .btn").click()
    await live.services.complaints.reply(await staff(live.services), reference, "Track the payout at https://pay.example.test/w/7781.")

    await frame.locator(".complaint-open", has_text=reference).click()
    in_widget = frame.locator("#complaint-detail .bubble a")
    await expect(in_widget).to_have_attribute("href", "https://pay.example.test/w/7781")
    await expect(in_widget).to_have_attribute("rel", REL)

    customer = await peers.customer(live.url)
    submitted = (await customer.call("complaint:submit", {"category": "withdrawals", "subject": "Payout", "body": "Late"}))["complaint"]
    await live.services.complaints.reply(await staff(live.services), submitted["reference"], "Track the payout at https://pay.example.test/w/7781.")
    page = errors.watch(await context.new_page())
    await page.goto(f"{live.url}/track/{submitted['reference']}?key={submitted['tracking_key']}")
    link = page.locator(".track-line--reply .track-bubble a")
    await expect(link).to_have_text("https://pay.example.test/w/7781")
    await expect(link).to_have_attribute("href", "https://pay.example.test/w/7781")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", REL)
    await expect(page.locator(".track-line--reply .track-bubble")).to_have_text("Track the payout at https://pay.example.test/w/7781.")
    assert errors.errors == []
    await customer.close()


# -- layout ------------------------------------------------------------------------------------------


async def fits(where: Page | Frame, selector: str) -> None:
    """Nothing scrolls sideways: the list, the page, and every link inside its bubble."""
    assert await where.evaluate(
        """(selector) => {
          const list = document.querySelector(selector);
          const inside = [...list.querySelectorAll('a')].every((a) => {
            const box = a.getBoundingClientRect(), bubble = a.parentElement.getBoundingClientRect();
            return box.width > 0 && box.right <= bubble.right + 1 && box.left >= bubble.left - 1;
          });
          return inside && list.scrollWidth <= list.clientWidth && document.documentElement.scrollWidth <= innerWidth;
        }""",
        selector,
    )


@pytest.mark.parametrize("size, viewport", [("desktop", WIDE), ("phone", drive.PHONE)])
async def test_a_long_address_wraps_inside_its_bubble(browser, live, tmp_path: Path, size, viewport):
    bob = await drive.console(browser, live.url, "bob@example.test", viewport=viewport)
    context = await drive.new_context(browser, viewport=viewport)
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await drive.start_chat(frame, f"This link fails: {LONG}", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await bob.fill("#composer-input", f"It works for me: {LONG}?")
    await bob.press("#composer-input", "Enter")
    await expect(frame.locator(".msg--agent .bubble a")).to_have_text(LONG)
    await expect(bob.locator("#transcript .line-agent:not(.is-pending) .bubble a")).to_have_text(LONG)

    widget = page.frame(url=lambda url: "/widget/frame" in url)
    assert widget is not None
    await fits(widget, "#log")
    await fits(bob, "#transcript")
    await page.screenshot(path=str(tmp_path / f"widget-long-link-{size}.png"))
    await bob.screenshot(path=str(tmp_path / f"console-long-link-{size}.png"))
