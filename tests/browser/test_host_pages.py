"""The widget on operators' real pages: their CSS, their CSP, their ways of adding the tag, and
browsers that refuse the chat frame its storage."""

from __future__ import annotations

import time

import pytest
from playwright.async_api import expect

from chatserver.services.auth import identity_signature
from tests.browser import drive
from tests.conftest import seed_cast

pytestmark = pytest.mark.browser

def signed(external_id: str) -> dict:
    expires = int(time.time()) + 3600
    return {"external_id": external_id, "expires": expires, "signature": identity_signature("identity-secret", external_id, expires)}


# what a browser that blocks third-party storage does to the chat frame: every use of localStorage throws
STORAGE_REFUSED = """(() => {
  if (location.origin !== %r) return;
  Object.defineProperty(window, 'localStorage', {
    configurable: true,
    get() { throw new DOMException("Failed to read the 'localStorage' property from 'Window': Access is denied for this document.", 'SecurityError'); },
  });
})();"""


async def test_without_storage_the_chat_survives_a_lost_connection_for_the_page_view(browser, start_server, operator_site):
    server = await start_server(allowed_origins=(operator_site.origin,), chat_starts_per_minute=1000)
    await seed_cast(server.services)
    operator_site.html = f'<!doctype html><title>Casino</title><body><script src="{server.url}/widget.js" async></script></body>'
    bob = await drive.console(browser, server.url, "bob@example.test")
    errors = drive.BrowserErrors()
    context = await drive.new_context(browser)
    await context.add_init_script(STORAGE_REFUSED % server.url)
    page = errors.watch(await context.new_page())
    await page.goto(f"{operator_site.origin}/")
    frame = await drive.open_widget(page)
    assert await frame.locator("body").evaluate("() => { try { localStorage; return false; } catch { return true; } }")
    await drive.start_chat(frame, "Hello", name="Alice")
    await drive.open_chat_in_console(bob, "Alice")
    await bob.locator("#composer-input").fill("Hi Alice")
    await bob.locator("#composer-input").press("Enter")
    await expect(frame.locator("#log .bubble")).to_have_text(["Hello", "Hi Alice"])

    # the connection drops and comes back: still Alice, still this chat, and what she wrote meanwhile arrives
    await context.set_offline(True)
    await expect(frame.locator("#banner")).to_be_visible()
    await drive.send_from_widget(frame, "Written while offline")
    await context.set_offline(False)
    await expect(frame.locator("#banner")).to_be_hidden(timeout=15_000)
    await expect(bob.locator("#transcript .line-customer .bubble")).to_have_text(["Hello", "Written while offline"])
    await expect(frame.locator("#log .bubble")).to_have_text(["Hello", "Hi Alice", "Written while offline"])
    await expect(frame.locator(".status--active .status-title")).to_have_text("Bob")
    assert len(await server.services.db.fetch("SELECT id FROM customers")) == 1
    assert errors.errors == []
    await context.close()


# Operators' pages as they are: the tag added twice or late, and CSS written with no widget in mind.
TAG = '<script src="{u}/widget.js"{attrs}></script>'
HOST_PAGES = {
    "tag-twice": "<body><p>Odds</p>" + TAG + TAG + "</body>",
    "tag-async-and-defer-in-head": "<head>" + TAG.replace("{attrs}", " async") + TAG.replace("{attrs}", " defer") + "</head><body><p>Odds</p></body>",
    "tag-added-after-load-twice": (
        "<body><p>Odds</p><script src=\"/add.js\"></script></body>"
    ),
    "all-unset": "<head><style>* { all: unset }</style></head><body><p>Odds</p>" + TAG + "</body>",
    "iframes-hidden": "<head><style>iframe { display: none !important }</style></head><body><p>Odds</p>" + TAG + "</body>",
    "empty-divs-hidden": "<head><style>div:empty { display: none }</style></head><body><p>Odds</p>" + TAG + "</body>",
    "top-z-index-header": (
        "<head><style>header { position: fixed; inset: 0 0 auto 0; height: 60px; z-index: 2147483647; background: #eee }</style></head>"
        "<body><header>Casino</header><p>Odds</p>" + TAG + "</body>"
    ),
    "rtl": "<html dir=\"rtl\" lang=\"ar\"><body><p>Odds</p>" + TAG + "</body></html>",
    "transformed-long-body": "<head><style>body { transform: translateZ(0); min-height: 3000px }</style></head><body><p>Odds</p>" + TAG + "</body>",
    "body-replaced-by-navigation": "<body><p>Odds</p>" + TAG + "<script src=\"/navigate.js\"></script></body>",
}
HOST_SCRIPTS = {
    # a tag manager adding the tag once the page has loaded, and again
    "/add.js": "addEventListener('load', () => { for (let i = 0; i < 2; i++) { const s = document.createElement('script');"
               " s.src = %(u)r + '/widget.js'; document.body.appendChild(s); } });",
    # a single-page site's navigation (Turbo): a new <body> takes the old one's place, its tag included
    "/navigate.js": "addEventListener('load', () => setTimeout(() => { const b = document.createElement('body');"
                    " b.innerHTML = '<p>Deposits</p>'; document.documentElement.replaceChild(b, document.body);"
                    " const s = document.createElement('script'); s.src = %(u)r + '/widget.js'; b.appendChild(s);"
                    " window.navigated = true; }, 200));",
}


def serve_script(source: str):
    async def handle(route, request) -> None:
        await route.fulfill(body=source, content_type="text/javascript")
    return handle


@pytest.mark.parametrize("name", HOST_PAGES.keys())
async def test_one_launcher_in_view_and_clickable_on_any_operator_page(browser, start_server, operator_site, name):
    server = await start_server(allowed_origins=(operator_site.origin,), chat_starts_per_minute=1000)
    await seed_cast(server.services)
    operator_site.html = "<!doctype html>" + HOST_PAGES[name].replace("{attrs}", "").replace("{u}", server.url)
    errors = drive.BrowserErrors()
    context = await drive.new_context(browser)
    for path, source in HOST_SCRIPTS.items():
        await context.route(f"{operator_site.origin}{path}", serve_script(source % {"u": server.url}))
    page = errors.watch(await context.new_page())
    await page.goto(f"{operator_site.origin}/")
    if name == "body-replaced-by-navigation":
        await page.wait_for_function("() => window.navigated")
    launcher = page.locator("button.launcher")
    await expect(launcher).to_be_visible()
    await page.wait_for_timeout(500)  # any second copy of the loader has run by now

    assert await page.locator("[data-chatserver]").count() == 1
    assert len([f for f in page.frames if "/widget/frame" in f.url]) == 1
    # in the viewport's corner, and nothing of the page's over it
    box = await launcher.bounding_box()
    viewport = page.viewport_size
    assert box and 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], box
    assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], box
    on_top = await page.evaluate(
        """([x, y]) => { const host = document.elementFromPoint(x, y);
             const hit = host && host.shadowRoot ? host.shadowRoot.elementFromPoint(x, y) : host;
             return Boolean(hit && hit.closest && hit.closest('button.launcher')); }""",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    frame = page.frame_locator("#chatserver-frame")
    await expect(frame.locator("#tab-chat")).to_be_visible()
    await drive.start_chat(frame, "Where is my deposit?")
    assert errors.errors == []
    await context.close()


# records every CSP violation in every frame of the page
CSP_WATCH = """window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


async def test_the_widget_works_on_a_page_whose_csp_allows_only_the_chat_server(browser, start_server, operator_site):
    """The policy README.md gives operators and nothing more: the chat server in script-src and
    frame-src, no inline style, no connect-src, no other origin; the page's own call to identify()
    runs under its nonce."""
    server = await start_server(allowed_origins=(operator_site.origin,), chat_starts_per_minute=1000)
    await seed_cast(server.services)
    operator_site.headers = {
        "Content-Security-Policy": f"default-src 'none'; script-src {server.url} 'nonce-n0nce'; frame-src {server.url}"
    }
    identity = signed("player-5")
    operator_site.html = (
        f'<!doctype html><title>Casino</title><body><p>Odds</p><script src="{server.url}/widget.js"></script>'
        f"<script nonce=\"n0nce\">Chatserver.identify({{external_id: 'player-5', expires: {identity['expires']}, "
        f"signature: '{identity['signature']}'}});</script></body>"
    )
    errors = drive.BrowserErrors()
    context = await drive.new_context(browser)
    await context.add_init_script(CSP_WATCH)
    page = errors.watch(await context.new_page())
    await page.goto(f"{operator_site.origin}/")
    frame = await drive.open_widget(page)
    await drive.start_chat(frame, "Where is my deposit?")
    await expect(page.locator("button.launcher")).to_have_css("background-color", "rgb(10, 125, 90)")  # its styles apply
    owner = await server.services.db.fetch_one("SELECT c.external_id FROM conversations v JOIN customers c ON c.id = v.customer_id")
    assert owner["external_id"] == "player-5"
    assert await page.evaluate("() => window.__violations") == []
    assert await frame.locator("body").evaluate("() => window.__violations") == []
    assert errors.errors == []
    await context.close()
