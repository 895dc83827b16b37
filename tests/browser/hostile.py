"""Hostile text for stored-XSS tests, and a tripwire that notices if any of it ran or became markup.

Every payload tries to run `__xss('<label>')` (a function the tripwire defines in every frame) or
`alert()`. The page's CSP would block most inline script even if text reached an HTML sink, so the
tripwire does not rely on execution alone: it also records CSP violations (script that was blocked
is script that got into the page) and scans every frame for elements and attributes that only markup
could have made (event-handler attributes, `javascript:` links, inline scripts, `<img src=x>`).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from playwright.async_api import Browser, BrowserContext, Dialog, Locator, Page, expect

from tests import peers
from tests.browser import drive
from tests.complaint_steps import SAM, staff
from tests.conftest import RunningServer, StartServer, seed_cast

# label -> payload; each is also checked to show literally where people read it
PAYLOADS: dict[str, str] = {
    "script": "<script>__xss('script')</script>",
    "img": "<img src=x onerror=__xss('img')>",
    "svg": "<svg onload=__xss('svg')><circle r=9></circle></svg>",
    "attr-dq": "\"><img src=x onerror=__xss('attr-dq')>",
    "attr-sq": "' autofocus onfocus=__xss('attr-sq') x='",
    "js-url": "javascript:__xss('js-url')//",
    "link": "<a href=\"javascript:alert('link')\">open</a>",
    "csti": "{{constructor.constructor('__xss(\"csti\")')()}} ${7*7}",
    "iframe": "<iframe srcdoc=\"<script>parent.__xss('srcdoc')</script>\"></iframe>",
    "textarea": "</textarea><img src=x onerror=alert('textarea')>",
    "rtl": "\u202egnp.exe\u202c \u200bBob\u200d (agent)\u2066<b>x</b>",
    # an override nobody closes: it must not turn around what the page writes after it
    "rlo": "Refund\u202e for Sam",
}
RLO = PAYLOADS["rlo"]
NAMES = list(PAYLOADS.values())
# Addresses in messages that try to become a link to something other than a web page, or a link whose
# text is not the address it opens: each may make only http(s) links, with text the finder expects
# (tests/links_cases.py), and no HTML. The override before an address is closed after it, so the
# bidi check above sees the address alone: it reads left to right only if the link isolates it.
LINKS: dict[str, str] = {
    "js": "javascript:alert('js') javascript:https://x.test",
    "attr-break": "https://x.test/\"><img src=x onerror=__xss('attr-break')>",
    "attr-quote": "https://x.test/'onmouseover='__xss(1)'",
    "data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg== data:text/html,<script>__xss('data')</script>",
    "schemes": "vbscript:msgbox(1) file:///etc/passwd ftp://x.test/",
    "credentials": "https://user:pass@x.test/ https://bank.test@evil.test/login www.bank.test@evil.test",
    "punctuation": "(see https://x.test/a_(b)). 'https://x.test/q'! https://x.test/x: www.x.test, ok?",
    "markup": "https://x.test/?a=1&b=<b>2</b> <a href=\"javascript:__xss('a')\">https://x.test/a</a>",
    "rtl": "\u0645\u0631\u062d\u0628\u0627 https://x.test/\u0645\u0633\u0627\u0631 \u0634\u0643\u0631\u0627",
    "rlo": "\u202ehttps://x.test/evil\u202c and https://x.test/a\u202egnp.exe\u202c",
}
# Addresses that mail can reach (the intake refuses any other) but that are still hostile as text and
# in a mailto: link: every character before the @ is RFC 5322 atext.
EMAILS: dict[str, str] = {
    "template": "{{7*7}}@x.test",
    "headers": "victim?cc=thief&subject=refund&body=click@x.test",
    "attr": "x'onmouseover='alert`1`'@x.test",
    "quote": "'autofocus/onfocus='alert`2`'//@x.test",
}

_INIT = """
(() => {
  const hits = [];
  Object.defineProperty(window, '__xssHits', { value: hits });
  window.__xss = (tag) => hits.push('ran:' + tag);
  document.addEventListener('securitypolicyviolation',
    (e) => hits.push('csp:' + e.violatedDirective + ':' + (e.sample || e.blockedURI)), true);
})();
"""

# page text written after a payload with an open U+202E that the browser lays out right to left: the
# override leaked out of the visitor's text and turned the page's own words around
_BIDI = """
(payload) => {
  const leaks = [];
  const controls = /[\u202a-\u202e\u2066-\u2069]/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const box = (node, i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1); return r.getBoundingClientRect(); };
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data;
    const at = text.indexOf(payload);
    let start = 0;
    if (at >= 0) start = at + payload.length;
    else if (controls.test(text)) continue;  // another payload: someone's own text, turned as they wrote it
    for (let i = start; i < text.length - 1; i++) {
      if (!/[A-Za-z]/.test(text[i]) || !/[A-Za-z]/.test(text[i + 1])) continue;
      const a = box(node, i), b = box(node, i + 1);
      if (!a.width || !b.width || Math.abs(a.top - b.top) > 2) continue;
      if (a.left > b.left) leaks.push(`${node.parentElement.tagName}.${node.parentElement.className}: ${text.slice(start, start + 40)}`);
      break;
    }
  }
  return leaks;
}
"""

# markup that only an HTML sink could have made, in one frame
_SCAN = """
() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${el.tagName} ${name}`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(name)
          && /^\\s*(javascript|vbscript|data:text)/i.test(attr.value)) found.push(`${el.tagName} ${name}=${attr.value}`);
    }
    if (el.tagName === 'SCRIPT' && !el.src && el.type !== 'application/json') found.push('inline script');
    if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') found.push('img src=x');
    if (el.tagName === 'IFRAME' && el.hasAttribute('srcdoc')) found.push('iframe srcdoc');
  }
  return { found, hits: [...(window.__xssHits || [])], pwned: window.__pwned === undefined ? null : String(window.__pwned) };
}
"""


class Tripwire:
    """Arms a browser context: dialogs, page errors, CSP violations and injected markup are recorded."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.checks = 0

    async def arm(self, context: BrowserContext) -> BrowserContext:
        await context.add_init_script(_INIT)
        context.on("page", self.watch)
        for page in context.pages:
            self.watch(page)
        return context

    def watch(self, page: Page) -> Page:
        def dialog(d: Dialog) -> None:
            self.events.append(f"dialog {d.type}: {d.message}")
            asyncio.ensure_future(d.dismiss())

        page.on("dialog", dialog)
        page.on("pageerror", lambda exc: self.events.append(f"page error on {page.url}: {exc}"))
        return page

    async def assert_clean(self, *pages: Page) -> None:
        """Nothing ran, nothing was blocked, nothing became markup, in any frame of these pages."""
        problems = list(self.events)
        for page in pages:
            for frame in page.frames:
                result: dict[str, Any] = await frame.evaluate(_SCAN)
                leaks: list[str] = await frame.evaluate(_BIDI, RLO)
                self.checks += 1
                problems += [f"{frame.url}: {item}" for item in result["found"] + result["hits"]]
                problems += [f"{frame.url}: turned around by {RLO!r}: {leak}" for leak in leaks]
                if result["pwned"] is not None:
                    problems.append(f"{frame.url}: window.__pwned = {result['pwned']}")
        assert problems == [], problems


async def hostile_server(start_server: StartServer, **more: Any) -> RunningServer:
    """The server with the cast, and limits that leave room for many hostile customers."""
    server = await start_server(
        logins_per_minute=1000, chat_starts_per_minute=1000, waiting_chats_per_address=1000, queue_timeout=600.0, agent_grace=30.0, **more,
    )
    await seed_cast(server.services)
    return server


async def signed_in(browser: Browser, tripwire: Tripwire, url: str, email: str, target: str, viewport: dict[str, int] = drive.DESKTOP) -> Page:
    """Someone signed in through the real form, on `target`, in a context the tripwire watches."""
    context = await tripwire.arm(await drive.new_context(browser, viewport=viewport))
    return await drive.sign_in(await context.new_page(), url, email, target=target)


async def literally(locator: Locator, text: str) -> None:
    """The element reads exactly `text`: every character kept, nothing interpreted."""
    await expect(locator).to_have_count(1)
    assert await locator.evaluate("el => el.textContent") == text


async def all_texts(locator: Locator) -> list[str]:
    return await locator.evaluate_all("els => els.map(el => el.textContent)")


async def hostile_complaints(server: RunningServer) -> list[dict[str, Any]]:
    """For every payload: a complaint from a chat the customer ended unsolved, and one from the form
    with a customer reply, a compensation (reason and decision note), an escalation reason, and, once
    resolved and accepted, a rating comment. Returns the form complaints with what each carries."""
    services = server.services
    bob, sam = await staff(services), await staff(services, SAM)
    made = []
    emails = itertools.cycle(EMAILS.values())
    for label, text in PAYLOADS.items():
        customer = await peers.customer(server.url)
        email = next(emails)
        started = await customer.call("chat:start", {"topic": "withdrawals", "name": text, "email": email, "body": text})
        assert started["ok"], started
        ended = await customer.call("chat:end", {"conversation_id": started["conversation"]["id"], "resolved": False})
        assert ended["ok"], ended
        submitted = await customer.call("complaint:submit", {"category": "withdrawals", "subject": text, "body": text, "email": email})
        assert submitted["ok"], submitted
        reference = submitted["complaint"]["reference"]
        assert (await customer.call("complaint:reply", {"reference": reference, "body": text}))["ok"]
        proposal = await services.complaints.propose_compensation(bob, reference, amount_minor=1500, currency="EUR", reason=text)
        await services.complaints.decide_compensation(sam, proposal["id"], approve=True, note=text)
        await services.complaints.escalate(bob, reference, text)
        await services.complaints.resolve(sam, reference, "Paid back today.")
        assert (await customer.call("complaint:reply", {"reference": reference, "decision": "accept"}))["ok"]
        rated = await customer.call("complaint:rate", {"reference": reference, "score": 2, "comment": text})
        assert rated["ok"], rated
        made.append({"label": label, "text": text, "email": email, "reference": reference,
                     "chat_reference": ended["conversation"]["complaint_reference"], "key": submitted["complaint"]["tracking_key"]})
        await customer.close()
    return made
