"""Visitor text is text everywhere; pages allow no inline script; only allowed sites may frame the chat."""

from __future__ import annotations

import re
import time
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import expect

from chatserver.services.auth import identity_signature
from tests.browser import drive
from tests.browser.hostile import EMAILS, NAMES, Tripwire, all_texts, signed_in
from tests.browser.conftest import OperatorSite
from tests.conftest import seed_cast

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">'
HOSTILE_BODY = "{{7*7}} ${7*7} <script>window.__pwned=2</script><b onmouseover=alert(1)>bold</b>"
TEMPLATE_INJECTION = "{{constructor.constructor('window.__pwned=3')()}}"


@pytest.mark.browser
async def test_visitor_markup_shows_literally_in_the_console_and_nothing_runs(browser, live):
    """Typed into the real widget: a hostile name and e-mail, then every payload as a message."""
    tripwire = Tripwire()
    bob = await signed_in(browser, tripwire, live.url, "bob@example.test", "/console")
    await bob.click("#presence [data-status=online]")
    context = await tripwire.arm(await drive.new_context(browser))
    page = await context.new_page()
    frame = await drive.open_widget(page, live.url)
    await frame.locator(".chip").first.click()
    await frame.locator("#start-body").fill(HOSTILE_BODY)
    await frame.locator("#start-more summary").click()
    await frame.locator("#start-name").fill(HOSTILE_NAME)
    await frame.locator("#start-email").fill(EMAILS["attr"])
    await frame.locator("#start-submit").click()
    await expect(frame.locator("#live")).to_be_visible()
    sent = [HOSTILE_BODY, TEMPLATE_INJECTION, *NAMES]
    for body in sent[1:]:
        await drive.send_from_widget(frame, body)
        await expect(frame.locator("#log .bubble").last).to_have_text(body)

    await drive.open_chat_in_console(bob, HOSTILE_NAME)
    bubbles = bob.locator("#transcript .line-customer .bubble")
    await expect(bubbles).to_have_count(len(sent))
    assert await all_texts(bubbles) == sent
    await expect(bob.locator("#my-chats .chat-item-name")).to_have_text([HOSTILE_NAME])
    await expect(bob.locator("#details-body .profile-name")).to_have_text(HOSTILE_NAME)
    await expect(bob.locator("#details-body .facts dd").first).to_have_text(EMAILS["attr"])
    assert await all_texts(frame.locator("#log .bubble")) == sent

    # {{7*7}} evaluated would read 49; the times beside the bubbles may contain 49 by chance
    assert not [text for text in await all_texts(bob.locator("#transcript .bubble")) if "49" in text]
    await bob.locator("#transcript .bubble").first.hover()
    await frame.locator("#log .bubble").first.hover()
    await tripwire.assert_clean(bob, page)


@pytest.mark.browser
async def test_only_allowed_sites_may_frame_the_chat(browser, start_server, operator_site):
    server = await start_server(allowed_origins=("https://casino.example",))
    await seed_cast(server.services)
    operator_site.html = f'<!doctype html><title>Not allowed</title><script src="{server.url}/widget.js"></script>'
    context = await drive.new_context(browser)
    page = await context.new_page()
    await page.goto(f"{operator_site.origin}/")
    await expect(page.locator("button.launcher")).to_be_visible()  # the loader runs anywhere...
    await page.locator("button.launcher").click()
    await page.wait_for_timeout(800)
    frame = page.frame_locator("#chatserver-frame")
    assert await frame.locator("#start-body").count() == 0  # ...but the chat refuses to be framed here


async def test_every_page_has_a_csp_that_forbids_inline_scripts(start_server):
    server = await start_server(allowed_origins=("https://casino.example", "bad origin; script-src *"))
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/login", "/widget/frame", "/widget/config", "/widget.js"):
            async with http.get(server.url + path) as response:
                assert response.status == 200, path
                csp = response.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        async with http.get(server.url + "/widget/frame") as response:
            csp = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'self' https://casino.example" in csp
            assert "bad origin" not in csp and "X-Frame-Options" not in response.headers
        async with http.get(server.url + "/") as response:
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        async with http.get(server.url + "/widget/assets/../chatserver/app.py") as response:
            assert response.status == 404


# ways to turn a string into markup or code; the page's own scripts use none of them
HTML_SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment",
              "DOMParser", "srcdoc", "eval(", "new Function")
# a string handed to a timer or an event-handler property or attribute is code too
CODE_STRINGS = re.compile(r"""set(Timeout|Interval)\(\s*['"`]|\.on[a-z]+\s*=\s*['"`]|setAttribute\(\s*['"`]on[a-z]""")


def test_templates_and_widget_have_no_inline_scripts_handlers_or_styles():
    """Every template (pages and admin) and every script of ours: the console, the monitor, reports,
    admin, the widget's loader, app and demo host."""
    files = [
        *ROOT.glob("chatserver/templates/*.html"),
        *ROOT.glob("chatserver/templates/admin/*.html"),
        *ROOT.glob("widget/**/*.js"),
        *(path for path in ROOT.glob("chatserver/static/**/*.js") if "vendor" not in path.parts),
    ]
    scripts = {path.relative_to(ROOT).parts[:3] for path in files if path.suffix == ".js"}
    for folder in ("console", "monitor", "reports", "admin"):
        assert ("chatserver", "static", folder) in scripts, folder  # the glob still finds each front end
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            for tag in re.findall(r"<script\b[^>]*>", text):
                assert "src=" in tag or 'type="application/json"' in tag, f"inline script in {path.name}: {tag}"
            assert not re.search(r"\son[a-z]+\s*=", text), f"inline event handler in {path.name}"
            assert not re.search(r"\sstyle\s*=", text), f"style attribute in {path.name}"
            assert "|safe" not in text and "| safe" not in text and "Markup(" not in text, f"|safe in {path.name}"
            assert "{% autoescape false" not in text, f"autoescape off in {path.name}"
        else:
            found = [sink for sink in HTML_SINKS if sink in text]
            assert found == [], f"{path.relative_to(ROOT)} uses {found}"
            assert not CODE_STRINGS.search(text), f"{path.relative_to(ROOT)} hands a string to be run as code"


def signed_host_page(server_url: str, external_id: str, name: str, *, before: str = "") -> str:
    """An operator's page that embeds the widget and tells it who is signed in (the test secret)."""
    expires = int(time.time()) + 3600
    signature = identity_signature("identity-secret", external_id, expires)
    return (
        f'<!doctype html><title>Casino</title><body>{before}<script src="{server_url}/widget.js"></script>'
        f"<script>Chatserver.identify({{external_id: '{external_id}', name: '{name}', expires: {expires}, "
        f"signature: '{signature}'}});</script></body>"
    )


@pytest.mark.browser
async def test_markup_on_the_host_page_that_shadows_the_loaders_script_cannot_send_the_identity_elsewhere(
    browser, start_server, operator_site
):
    # a visitor's comment on the operator's page, kept by a sanitiser that allows name on <img>:
    # document.currentScript (and querySelector) then name the attacker's elements, not the loader
    server = await start_server(allowed_origins=(operator_site.origin,), logins_per_minute=1000)
    await seed_cast(server.services)
    attacker = await OperatorSite().start()
    try:
        operator_site.html = signed_host_page(
            server.url, "player-7", "Piotr",
            before=f'<p>Nice odds! <img name="currentScript" src="{attacker.origin}/cat.png"><form name="querySelector"></form></p>',
        )
        context = await drive.new_context(browser)
        page = await context.new_page()
        asked_elsewhere: list[str] = []
        page.on("request", lambda r: asked_elsewhere.append(r.url) if r.url.startswith(attacker.origin) and "cat.png" not in r.url else None)
        await page.goto(f"{operator_site.origin}/")
        frame = await drive.open_widget(page)
        await drive.start_chat(frame, "Where is my deposit?")
        assert [f.url for f in page.frames if "/widget/frame" in f.url][0].startswith(server.url + "/widget/frame")
        assert asked_elsewhere == []
        row = await server.services.db.fetch_one("SELECT external_id FROM customers WHERE external_id = 'player-7'")
        assert row is not None  # the signed identity reached the real chat server, and only it
        await context.close()
    finally:
        assert attacker.server is not None
        await attacker.server.close()


@pytest.mark.browser
async def test_signed_identity_from_the_host_reaches_the_console_and_the_token_stays_in_the_iframe(
    browser, start_server, operator_site
):
    server = await start_server(allowed_origins=(operator_site.origin,), logins_per_minute=1000)
    await seed_cast(server.services)
    operator_site.html = signed_host_page(server.url, "player-1042", "Anna Verified", before="<h1>My account</h1>")
    bob = await drive.console(browser, server.url, "bob@example.test")
    context = await drive.new_context(browser)
    page = await context.new_page()
    await page.goto(f"{operator_site.origin}/")
    frame = await drive.open_widget(page)
    await drive.start_chat(frame, "Where is my deposit?")
    await drive.open_chat_in_console(bob, "Anna Verified")
    await expect(bob.locator("#details-body .badge-verified")).to_have_text("Site account verified")
    # the site signs its user id only: the name and e-mail its page passes are not presented as checked
    await expect(bob.locator("#details-body .facts-note")).to_have_text(
        "The site vouches for the user id. Name and e-mail are as its page gave them."
    )
    await expect(bob.locator("#details-body .facts dd").first).to_have_text("player-1042")

    assert await page.evaluate("() => Object.keys(localStorage)") == []  # the host page holds nothing of ours
    token = await frame.locator("body").evaluate("() => localStorage.getItem('chatserver.token')")
    assert token and "player-1042" not in token
    assert token.strip('"') not in await page.content()
