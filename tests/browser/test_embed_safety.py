"""The widget embedded on an operator's page: only the page that embeds it and the chat server talk to it.

The loader and the chat frame speak by postMessage. A hostile frame on the operator's page (an ad, a
visitor's embed) can post to both; it must neither drive the chat, nor swap or drop the signed-in
visitor, nor hear anything back.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.async_api import expect

from chatserver.services.auth import identity_signature
from tests.browser import drive
from tests.browser.conftest import OperatorSite
from tests.conftest import seed_cast

LISTENER = (
    "<!doctype html><title>Ad</title><body>ad<script>window.got = [];"
    "addEventListener('message', (e) => window.got.push({origin: e.origin, data: e.data}));</script></body>"
)


def signed(external_id: str) -> dict:
    expires = int(time.time()) + 3600
    return {"external_id": external_id, "expires": expires, "signature": identity_signature("identity-secret", external_id, expires)}


def host_page(server_url: str, ad_origin: str, identity: dict) -> str:
    return (
        f'<!doctype html><title>Casino</title><body><iframe id="ad" src="{ad_origin}/"></iframe>'
        f'<script src="{server_url}/widget.js"></script>'
        f"<script>Chatserver.identify({{external_id: '{identity['external_id']}', name: 'Piotr', "
        f"expires: {identity['expires']}, signature: '{identity['signature']}'}});</script></body>"
    )


@pytest.mark.browser
async def test_a_hostile_frame_on_the_host_page_can_neither_drive_the_widget_nor_swap_the_visitor(
    browser, start_server, operator_site
):
    server = await start_server(allowed_origins=(operator_site.origin,))
    await seed_cast(server.services)
    ad = await OperatorSite().start()
    try:
        ad.html = LISTENER
        operator_site.html = host_page(server.url, ad.origin, signed("player-7"))
        context = await drive.new_context(browser)
        page = await context.new_page()
        await page.goto(f"{operator_site.origin}/")
        await expect(page.locator("button.launcher")).to_be_visible()
        chat = page.frame_locator("#chatserver-frame")
        await expect(chat.locator("#tab-chat")).to_be_attached()
        ad_frame = next(f for f in page.frames if f.url.startswith(ad.origin))
        await page.wait_for_function("() => document.querySelector('[data-chatserver]') !== null")

        # the ad speaks to the loader as if it were the chat, and to every frame as if it were the host
        attacker = signed("attacker-1")
        await ad_frame.evaluate(
            """(attacker) => {
                parent.postMessage({chatserver: 1, type: 'ready'}, '*');
                parent.postMessage({chatserver: 1, type: 'open'}, '*');
                parent.postMessage({chatserver: 1, type: 'unread', count: 7}, '*');
                for (let i = 0; i < parent.frames.length; i++) {
                    const target = parent.frames[i];
                    if (target === window) continue;
                    target.postMessage({chatserver: 1, type: 'identify', identity: attacker}, '*');
                    target.postMessage({chatserver: 1, type: 'init', identity: attacker, open: true, locale: 'pl'}, '*');
                    target.postMessage({chatserver: 1, type: 'locale', locale: 'ru'}, '*');
                }
            }""",
            attacker,
        )
        await page.wait_for_timeout(1000)
        launcher = page.locator("button.launcher")
        await expect(launcher).to_have_attribute("aria-expanded", "false")  # not opened by the ad
        assert await page.locator("[data-chatserver]").evaluate("(host) => host.shadowRoot.querySelector('.badge').hidden")

        # the visitor's chat is still theirs, in their language, under the identity the host page gave
        frame = await drive.open_widget(page)
        await expect(frame.locator("#tab-chat")).to_have_text("Chat")
        await drive.start_chat(frame, "Where is my deposit?")
        owner = await server.services.db.fetch_one(
            "SELECT c.external_id FROM conversations v JOIN customers c ON c.id = v.customer_id"
        )
        assert owner["external_id"] == "player-7"
        assert await server.services.db.fetch("SELECT id FROM customers WHERE external_id = 'attacker-1'") == []

        # and the ad heard nothing: neither the identity, nor the token, nor the unread count
        assert await ad_frame.evaluate("() => window.got") == []
        await context.close()
    finally:
        assert ad.server is not None
        await ad.server.close()


@pytest.mark.browser
async def test_the_customer_token_never_travels_in_an_address_a_referer_or_a_message_to_the_host(
    browser, start_server, operator_site
):
    """A visitor chats, files a complaint and follows its tracking link, on an operator's page that logs
    every message the widget posts to it. The token stays in the iframe's storage; the tracking key goes
    only to the tracking page, and from there in no Referer."""
    server = await start_server(allowed_origins=(operator_site.origin,), chat_starts_per_minute=1000)
    await seed_cast(server.services)
    operator_site.html = (
        "<!doctype html><title>Casino</title><body><script>window.heard = [];"
        "addEventListener('message', (e) => window.heard.push(JSON.stringify(e.data)));</script>"
        f'<script src="{server.url}/widget.js"></script></body>'
    )
    context = await drive.new_context(browser)
    requests: list[tuple[str, str]] = []  # (address, Referer) of everything every page of the visitor asks for
    context.on("request", lambda r: requests.append((r.url, r.headers.get("referer", ""))))
    page = await context.new_page()
    await page.goto(f"{operator_site.origin}/")
    frame = await drive.open_widget(page)
    await drive.start_chat(frame, "Where is my deposit?")
    await drive.send_from_widget(frame, "It has been a week")
    await expect(frame.locator("#log .bubble").last).to_have_text("It has been a week")

    await frame.locator("#tab-complaints").click()
    await frame.locator("#complaint-new").click()
    await frame.locator("#cf-category").select_option("withdrawals")
    await frame.locator("#cf-subject").fill("Withdrawal pending")
    await frame.locator("#cf-body").fill("Still pending.")
    await frame.locator("#cf-submit").click()
    await frame.locator("#complaint-sent .btn").click()
    await frame.locator(".complaint-open").first.click()
    async with context.expect_page() as opened:
        await frame.locator(".case-foot a").click()
    tracking = await opened.value
    await expect(tracking.locator("#track-title")).to_be_visible()
    await tracking.locator(".track-langs a[lang=pl]").click()  # the page's own links carry the key too
    await expect(tracking.locator(".track-page")).to_have_attribute("lang", "pl")

    token = json.loads(await frame.locator("body").evaluate("() => localStorage.getItem('chatserver.token')"))
    key = (await server.services.db.fetch_one("SELECT reference FROM complaints"))["reference"]
    key = server.services.complaints.tracking_key(key)
    assert token and key
    assert [url for url, referer in requests if token in url or token in referer] == []
    assert [referer for _, referer in requests if key in referer] == []
    assert {url.split("?")[0].rsplit("/", 1)[0] for url, _ in requests if key in url} == {f"{server.url}/track"}
    heard = await page.evaluate("() => window.heard")
    assert heard and [m for m in heard if token in m or key in m] == []
    await context.close()


# A visitor's comment on the operator's page, kept by a sanitiser that allows id and name: each names an
# element after something the loader reads from `window` or `document`, which such elements shadow.
SHADOWING_MARKUP = {
    "api-form": '<form id="Chatserver"><input name="version"><input name="identify"></form>',
    "api-links": '<a id="Chatserver" name="version" href="#a">a</a><a id="Chatserver" href="#b">b</a>',
    "body": '<img name="body" src="/cat.png" alt="">',
    "createElement": '<img name="createElement" src="/cat.png" alt="">',
    "createElementNS": '<img name="createElementNS" src="/cat.png" alt="">',
    "documentElement": '<img name="documentElement" src="/cat.png" alt="">',
    "listeners": '<form name="addEventListener"></form><form name="dispatchEvent"></form>',
}


@pytest.mark.browser
@pytest.mark.parametrize("markup", SHADOWING_MARKUP.values(), ids=SHADOWING_MARKUP.keys())
async def test_markup_on_the_host_page_that_shadows_what_the_loader_uses_does_not_take_the_chat_away(
    browser, start_server, operator_site, markup
):
    server = await start_server(allowed_origins=(operator_site.origin,))
    await seed_cast(server.services)
    identity = signed("player-9")
    operator_site.html = (
        f'<!doctype html><title>Casino</title><body><p>Nice odds! {markup}</p><script src="{server.url}/widget.js"></script>'
        f"<script>Chatserver.identify({{external_id: 'player-9', expires: {identity['expires']}, "
        f"signature: '{identity['signature']}'}});</script></body>"
    )
    errors = drive.BrowserErrors()
    context = await drive.new_context(browser)
    page = errors.watch(await context.new_page())
    await page.goto(f"{operator_site.origin}/")
    frame = await drive.open_widget(page)
    await drive.start_chat(frame, "Where is my deposit?")
    owner = await server.services.db.fetch_one("SELECT c.external_id FROM conversations v JOIN customers c ON c.id = v.customer_id")
    assert owner["external_id"] == "player-9"  # the host page's identify() reached the chat
    assert errors.errors == []
    await context.close()
