"""The customer's side of a complaint, against the real server: the widget's socket events and the
tracking page's forms. Bob (agent) and Sam (supervisor) act through the server's services."""

from __future__ import annotations

import re

import aiohttp
import pytest

from tests import complaint_steps as steps
from tests import peers


async def call_ok(peer, event, data):
    ack = await peer.call(event, data)
    assert ack["ok"], ack
    return ack["complaint"]


def kinds(complaint):
    return [(e["kind"], e["body"]) for e in complaint["entries"]]


# -- the widget's socket events ------------------------------------------------------------------


async def test_a_customer_follows_their_complaint_from_question_to_rating(server):
    alice = await peers.customer(server.url)
    submitted = await steps.submit(alice)
    reference = submitted["reference"]

    opened = await call_ok(alice, "complaint:get", {"reference": reference})
    assert opened["status"] == "new" and opened["entries"] == [] and opened["body"] == "I asked for 300 EUR on the 2nd."
    assert opened["tracking_key"] == submitted["tracking_key"]

    await steps.note(server.services, reference, "Internal: payments ticket PX-1")
    await steps.ask(server.services, reference, "Which bank account did you use?")
    asked = await call_ok(alice, "complaint:get", {"reference": reference})
    assert asked["status"] == "awaiting_customer"
    assert kinds(asked) == [("reply", "Which bank account did you use?"), ("status", "awaiting_customer")]
    assert "PX-1" not in str(asked)  # notes never reach the customer

    replied = await call_ok(alice, "complaint:reply", {"reference": reference, "body": "The one ending 4417."})
    assert replied["status"] == "in_progress"
    assert kinds(replied)[-2:] == [("customer", "The one ending 4417."), ("status", "in_progress")]

    await steps.compensate(server.services, reference, 2500, "EUR", "For the delay")
    await steps.resolve(server.services, reference, "The payment was re-sent today.")
    clarified = await call_ok(alice, "complaint:reply", {"reference": reference, "decision": "clarify", "body": "When will it arrive?"})
    assert clarified["status"] == "reopened"
    assert [(c["amount_minor"], c["currency"], c["status"]) for c in clarified["compensations"]] == [(2500, "EUR", "approved")]

    await steps.resolve(server.services, reference, "It arrives within two business days.")
    accepted = await call_ok(alice, "complaint:reply", {"reference": reference, "decision": "accept"})
    assert accepted["status"] == "closed" and accepted["closed_at"]

    rated = await call_ok(alice, "complaint:rate", {"reference": reference, "score": 5, "comment": "Fair outcome"})
    assert rated["rating"]["score"] == 5 and rated["rating"]["comment"] == "Fair outcome"
    again = await alice.call("complaint:rate", {"reference": reference, "score": 1})
    assert again["ok"] is False and again["error"]["code"] == "conflict"
    await alice.close()


async def test_a_decision_only_fits_a_resolved_complaint(server):
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice)
    for decision in ("accept", "clarify"):
        ack = await alice.call("complaint:reply", {"reference": complaint["reference"], "decision": decision, "body": "?"})
        assert ack["ok"] is False and ack["error"]["code"] == "conflict", ack
    ack = await alice.call("complaint:rate", {"reference": complaint["reference"], "score": 4})
    assert ack["error"]["code"] == "conflict"
    await alice.close()


async def test_another_customer_cannot_read_or_act_on_the_complaint(server):
    alice = await peers.customer(server.url)
    eve = await peers.customer(server.url)
    complaint = await steps.resolved(server.services, alice)
    reference = complaint["reference"]
    for event, data in [
        ("complaint:get", {"reference": reference}),
        ("complaint:reply", {"reference": reference, "body": "let me in"}),
        ("complaint:reply", {"reference": reference, "decision": "accept"}),
        ("complaint:rate", {"reference": reference, "score": 1}),
        ("complaint:get", {"reference": "C-2026-999999"}),
    ]:
        ack = await eve.call(event, data)
        assert ack == {"ok": False, "error": {"code": "not_found", "message": ack["error"]["message"]}}, (event, ack)
    # unknown and someone else's look the same
    unknown = await eve.call("complaint:get", {"reference": "C-2026-999999"})
    others = await eve.call("complaint:get", {"reference": reference})
    assert unknown == others
    still = await call_ok(alice, "complaint:get", {"reference": reference})
    assert still["status"] == "resolved" and all(e["kind"] != "customer" for e in still["entries"])
    for peer in (alice, eve):
        await peer.close()


@pytest.mark.parametrize(
    "event, payload, code",
    [
        ("complaint:get", {}, "invalid"),
        ("complaint:get", {"reference": 7}, "invalid"),
        ("complaint:get", {"reference": {"$ne": ""}}, "invalid"),
        ("complaint:get", ["C-2026-000001"], "invalid"),
        ("complaint:get", "C-2026-000001", "invalid"),
        ("complaint:reply", {"reference": "REF"}, "invalid"),
        ("complaint:reply", {"reference": "REF", "body": "   "}, "invalid"),
        ("complaint:reply", {"reference": "REF", "decision": "clarify"}, "invalid"),
        ("complaint:reply", {"reference": "REF", "decision": "maybe", "body": "x"}, "invalid"),
        ("complaint:reply", {"reference": "REF", "body": 5}, "invalid"),
        ("complaint:reply", {"reference": "REF", "body": "x" * 4001}, "too_large"),
        ("complaint:rate", {"reference": "REF", "score": 0}, "invalid"),
        ("complaint:rate", {"reference": "REF", "score": 6}, "invalid"),
        ("complaint:rate", {"reference": "REF", "score": "5"}, "invalid"),
        ("complaint:rate", {"reference": "REF", "score": True}, "invalid"),
        ("complaint:rate", {"reference": "REF", "score": 4.5}, "invalid"),
        ("complaint:rate", {"reference": "REF", "score": 4, "comment": ["x"]}, "invalid"),
    ],
)
async def test_malformed_payloads_get_an_error_ack_and_the_socket_stays(server, event, payload, code):
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice)
    if isinstance(payload, dict) and payload.get("reference") == "REF":
        payload = {**payload, "reference": complaint["reference"]}
    ack = await alice.call(event, payload)
    assert ack["ok"] is False and ack["error"]["code"] == code, ack
    assert (await alice.call("complaint:get", {"reference": complaint["reference"]}))["ok"]
    await alice.close()


async def test_a_complaint_with_a_blank_subject_or_body_is_refused_and_nothing_is_filed(server):
    # the widget's form, like the API and the console, takes no complaint that says nothing
    alice = await peers.customer(server.url)
    for subject, body in (("\u00a0  ", "My withdrawal is late"), ("Late withdrawal", "\u2003\n\t")):  # a burst of 3 submits
        ack = await alice.call("complaint:submit", {"category": "withdrawals", "subject": subject, "body": body})
        assert ack["ok"] is False and ack["error"]["code"] == "invalid" and "must not be empty" in ack["error"]["message"], ack
    assert await server.services.db.fetch("SELECT reference FROM complaints") == []
    filed = await steps.submit(alice, subject="  Late withdrawal  ", body="  W-7781 pending  ")
    assert (filed["subject"], filed["body"]) == ("Late withdrawal", "W-7781 pending")
    await alice.close()


# -- the tracking page's forms -------------------------------------------------------------------


class Tracking:
    """One complaint's tracking page, driven like a browser without scripts would."""

    def __init__(self, http: aiohttp.ClientSession, base: str, complaint: dict) -> None:
        self.http = http
        self.base = base
        self.reference = complaint["reference"]
        self.key = complaint["tracking_key"]

    @property
    def url(self) -> str:
        return f"{self.base}/track/{self.reference}?key={self.key}"

    async def page(self, url: str | None = None) -> str:
        async with self.http.get(url or self.url) as response:
            assert response.status == 200
            return await response.text()

    async def post(self, form: str, data: dict, headers: dict | None = None, key: str | None = None):
        fields = {"key": self.key if key is None else key, **data}
        response = await self.http.post(
            f"{self.base}/track/{self.reference}/{form}", data=fields, headers=headers or {}, allow_redirects=False
        )
        return response, await response.text()

    async def sent(self, form: str, data: dict, done: str) -> str:
        """Post a form from the page itself; it redirects back with a notice. Returns the page then."""
        response, _ = await self.post(form, data, headers={"Origin": self.base})
        assert response.status == 303, await response.text()
        location = response.headers["Location"]
        assert location == f"/track/{self.reference}?key={self.key}&done={done}"
        assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
        return await self.page(self.base + location)


async def test_the_tracking_page_takes_a_reply_a_clarification_an_acceptance_and_a_rating(server):
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice, subject="Deposit D-1 missing")
    await steps.ask(server.services, complaint["reference"], "Which card did you pay with?")
    async with aiohttp.ClientSession() as http:
        page = Tracking(http, server.url, complaint)
        html = await page.page()
        assert 'action="/track/' in html and f'name="key" value="{page.key}"' in html
        assert "Which card did you pay with?" in html and "We need your answer" in html

        html = await page.sent("reply", {"body": "Visa <ending> 4417"}, "replied")
        assert "Your message has been sent." in html
        assert "Visa &lt;ending&gt; 4417" in html
        assert '<span class="status-pill status-in_progress">In progress</span>' in html

        await steps.compensate(server.services, complaint["reference"], 123450, "EUR", "Goodwill for the wait")
        await steps.resolve(server.services, complaint["reference"], "The deposit is credited.")
        html = await page.page()
        assert "Is your complaint resolved?" in html and 'value="accept"' in html and 'value="clarify"' in html
        assert "€1,234.50" in html and "Goodwill for the wait" in html

        # asking for more needs a message; the page says so and keeps the form
        response, html = await page.post("reply", {"decision": "clarify", "body": "  "}, headers={"Origin": server.url})
        assert response.status == 400 and "Please tell us what is still unclear." in html and 'role="alert"' in html

        html = await page.sent("reply", {"decision": "clarify", "body": "Credited to which wallet?"}, "clarified")
        assert "reopened your complaint" in html and "status-pill status-reopened" in html

        await steps.resolve(server.services, complaint["reference"], "The main wallet.")
        html = await page.sent("reply", {"decision": "accept", "body": ""}, "accepted")
        assert "Your complaint is now closed." in html and 'action="/track/' in html and 'name="score"' in html

        response, html = await page.post("rate", {"score": "9"}, headers={"Origin": server.url})
        assert response.status == 400 and "Please choose a rating from 1 to 5." in html

        html = await page.sent("rate", {"score": "4", "comment": "Took a while"}, "rated")
        assert "You rated our handling 4 of 5." in html and 'name="score"' not in html

        # a stale form after the fact: shown again with a clear message, nothing changes
        response, html = await page.post("rate", {"score": "1"}, headers={"Origin": server.url})
        assert response.status == 409 and "This complaint has just changed." in html
    detail = await call_ok(alice, "complaint:get", {"reference": complaint["reference"]})
    assert detail["rating"]["score"] == 4
    assert [e["body"] for e in detail["entries"] if e["kind"] == "customer"] == ["Visa <ending> 4417", "Credited to which wallet?"]
    await alice.close()


async def test_the_tracking_page_speaks_the_chosen_language_after_a_form(server):
    anna = await peers.customer(server.url, locale="pl")
    complaint = await steps.submit(anna)
    async with aiohttp.ClientSession() as http:
        page = Tracking(http, server.url, complaint)
        assert "Napisz do nas" in await page.page()
        response, _ = await page.post("reply", {"body": "Dzień dobry", "lang": "ru"}, headers={"Origin": server.url})
        assert response.status == 303 and response.headers["Location"].endswith("&lang=ru&done=replied")
        html = await page.page(server.url + response.headers["Location"])
        assert "Сообщение отправлено." in html and "Вы" in html
    await anna.close()


async def test_a_wrong_key_answers_like_an_unknown_complaint(server):
    alice = await peers.customer(server.url)
    eve = await peers.customer(server.url)
    complaint = await steps.resolved(server.services, alice)
    eves = await steps.submit(eve)
    async with aiohttp.ClientSession() as http:
        page = Tracking(http, server.url, complaint)
        async with http.get(f"{server.url}/track/C-2026-999999?key={page.key}") as unknown:
            unknown_html = await unknown.text()
        for form, data, key in [
            ("reply", {"body": "hello"}, "0" * 32),
            ("reply", {"decision": "accept"}, eves["tracking_key"]),
            ("reply", {"decision": "clarify", "body": ""}, ""),  # invalid and wrong: the key decides first
            ("rate", {"score": "5"}, "f" * 32),
        ]:
            response, html = await page.post(form, data, headers={"Origin": server.url}, key=key)
            assert response.status == 404 and html == unknown_html
            assert response.headers["Cache-Control"] == "no-store"
            assert "Withdrawal W-7781" not in html and complaint["reference"] not in html.split("</title>")[-1]
    still = await call_ok(alice, "complaint:get", {"reference": complaint["reference"]})
    assert still["status"] == "resolved"
    for peer in (alice, eve):
        await peer.close()


@pytest.mark.parametrize(
    "headers, allowed",
    [
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),  # opaque and nobody vouches for it
        ({"Referer": "https://evil.example/page"}, False),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "null"}, False),
        ({"Sec-Fetch-Site": "same-site"}, False),
        ({"Origin": "SAME"}, True),
        ({"Referer": "SAME/track/x"}, True),
        # what Chromium sends from the page itself: its no-referrer policy makes the origin opaque
        ({"Sec-Fetch-Site": "same-origin", "Origin": "null"}, True),
        ({}, True),  # not a browser: the key alone decides
    ],
)
async def test_forms_posted_from_another_site_are_refused(server, headers, allowed):
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice)
    headers = {k: v.replace("SAME", server.url) for k, v in headers.items()}
    async with aiohttp.ClientSession() as http:
        page = Tracking(http, server.url, complaint)
        response, html = await page.post("reply", {"body": "Is anyone there?"}, headers=headers)
        if allowed:
            assert response.status == 303
        else:
            assert response.status == 403 and "This form could not be sent" in html
            assert complaint["reference"] not in html.split("</title>")[-1]
    detail = await call_ok(alice, "complaint:get", {"reference": complaint["reference"]})
    assert [e["kind"] for e in detail["entries"]].count("customer") == (1 if allowed else 0)
    await alice.close()


async def test_the_page_stays_private_and_escapes_what_people_wrote(server):
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice, subject="<img src=x onerror=alert(1)>", body="{{constructor.constructor('alert(1)')()}}")
    await steps.answer(server.services, complaint["reference"], "<script>alert(2)</script>")
    async with aiohttp.ClientSession() as http:
        async with http.get(Tracking(http, server.url, complaint).url) as response:
            html = await response.text()
            assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script at all
    await alice.close()


async def test_a_complaint_form_sent_again_with_its_client_id_files_one_complaint(server):
    """The widget's form timed out and the customer pressed Send again: the same client_id is the
    complaint already filed, with one acknowledgement; another customer cannot claim that id."""
    alice = await peers.customer(server.url)
    form = {"category": "withdrawals", "subject": "Withdrawal missing", "body": "Since Monday", "email": "alice@example.test",
            "client_id": "8c1e4f3a-3333-4c1a-9a55-000000000001"}
    first = await alice.call("complaint:submit", form)
    again = await alice.call("complaint:submit", form)
    assert first["ok"] and again["ok"], (first, again)
    assert again["complaint"]["reference"] == first["complaint"]["reference"]
    assert len((await alice.call("complaint:list", {}))["complaints"]) == 1
    acknowledged = await server.services.db.fetch("SELECT recipient FROM outbox WHERE kind = 'complaint_ack'")
    assert acknowledged == [{"recipient": "alice@example.test"}]
    eve = await peers.customer(server.url)
    stolen = await eve.call("complaint:submit", {**form, "email": None})
    assert stolen["ok"] is False and stolen["error"]["code"] == "conflict", stolen
    assert (await eve.call("complaint:list", {}))["complaints"] == []
    for peer in (alice, eve):
        await peer.close()
