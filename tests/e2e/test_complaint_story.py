"""The whole complaint process on the real server, through the doors each person really uses.

A customer's chat goes unanswered at night and becomes a complaint, acknowledged by e-mail through a
real SMTP server. In the morning an agent picks it up through the JSON API and asks a question; the
customer answers on the tracking page from the e-mail. The agent proposes compensation, a supervisor
approves, the agent resolves; the customer asks for more in the widget, the complaint reopens, is
resolved again, and the customer accepts and rates it on the tracking page.
"""

from __future__ import annotations

import re
from typing import Any, AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from chatserver import keys
from chatserver.app import create_app
from chatserver.services.container import Services
from tests import conftest, peers
from tests.conftest import eventually
from tests.procs import HOST, free_port
from tests.smtp import SmtpServer, smtp_server

CUSTOMER_EMAIL = "nina@example.test"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def night(tmp_path, smtp) -> AsyncIterator[tuple[str, Services]]:
    """The server at night: agents exist but nobody is online, and a chat may wait one second."""
    port = free_port()
    settings = conftest.test_settings(
        tmp_path, host=HOST, port=port, queue_timeout=1.0,
        smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none", mail_from="Support <support@example.test>",
    )
    server = TestServer(create_app(settings), host=HOST, port=port)
    await server.start_server()
    services = server.app[keys.SERVICES]
    await conftest.seed_cast(services)
    try:
        yield f"http://{HOST}:{port}", services
    finally:
        await server.close()


class Staff:
    """One staff member's JSON API client (Bearer token)."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http, self.base, self.headers = http, base, {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> dict:
        async with self.http.request(method, self.base + "/api" + path, json=body, headers=self.headers) as response:
            payload = await response.json()
            assert response.status == expect, (method, path, response.status, payload)
            return payload


async def mails_to(smtp: SmtpServer, recipient: str, count: int) -> list:
    await eventually(lambda: len([m for m in smtp.inbox.messages if recipient in m.recipients]) >= count, timeout=10)
    return [m for m in smtp.inbox.messages if recipient in m.recipients]


async def tracking_post(http: aiohttp.ClientSession, link: str, action: str, form: dict[str, str]) -> str:
    """Submit a tracking-page form as the page itself does, and return the page it redirects to."""
    base, query = link.split("?", 1)
    key = query.split("key=", 1)[1]
    async with http.post(f"{base}/{action}", data={"key": key, **form}, allow_redirects=False) as response:
        assert response.status == 303, (action, response.status, await response.text())
        target = response.headers["Location"]
    async with http.get(target if target.startswith("http") else base.split("/track/")[0] + target) as page:
        assert page.status == 200
        return await page.text()


async def test_a_night_time_chat_becomes_a_complaint_that_is_answered_compensated_reopened_and_accepted(night, smtp):
    base, services = night
    nina = await peers.customer(base)
    async with aiohttp.ClientSession() as http:
        ids = {row["name"]: row["id"] for row in await services.db.fetch("SELECT id, name FROM users")}
        bob = Staff(http, base, await services.auth.issue_api_token(ids["Bob"], "story"))
        sam = Staff(http, base, await services.auth.issue_api_token(ids["Sam"], "story"))

        # 02:00: nobody answers the chat; it becomes a complaint with a reference
        started = await nina.call("chat:start", {
            "topic": "withdrawals", "name": "Nina", "email": CUSTOMER_EMAIL,
            "body": "My withdrawal W-5521 of 300 EUR has been pending for five days.",
        })
        assert started["ok"], started
        closed = await nina.wait_for("chat:closed", timeout=10)
        assert closed["outcome"] == "complaint"
        reference = closed["complaint_reference"]
        assert re.fullmatch(r"C-\d{4}-\d{6}", reference)

        # the acknowledgement e-mail carries the reference and a working tracking link
        [ack] = await mails_to(smtp, CUSTOMER_EMAIL, 1)
        assert reference in ack.message["Subject"]
        link = re.search(r"https?://\S+/track/\S+", ack.text).group(0)  # type: ignore[union-attr]
        async with http.get(link) as page:
            assert page.status == 200 and reference in await page.text()

        # 09:00: Bob finds it among new complaints and picks it up
        new = await bob.call("GET", "/complaints?status=new")
        assert [c["reference"] for c in new["complaints"]] == [reference]
        assert new["complaints"][0]["source"] == "chat_unanswered"
        picked = (await bob.call("PATCH", f"/complaints/{reference}", {"status": "in_progress"}))["complaint"]
        assert picked["status"] == "in_progress" and picked["assignee"]["name"] == "Bob"
        assert "W-5521" in picked["conversation"]["messages"][0]["body"]  # the originating chat is in the thread

        # he asks a question (the customer is e-mailed) and notes something for colleagues only
        asked = (await bob.call("POST", f"/complaints/{reference}/replies",
                                {"kind": "question", "body": "Which payment method did you choose?"}, expect=201))["complaint"]
        assert asked["status"] == "awaiting_customer"
        await bob.call("POST", f"/complaints/{reference}/replies",
                       {"kind": "note", "body": "Skrill batch of the 2nd failed"}, expect=201)
        question_mail = (await mails_to(smtp, CUSTOMER_EMAIL, 2))[1]
        assert "Which payment method did you choose?" in question_mail.text

        # Nina answers on the tracking page from her e-mail
        page = await tracking_post(http, link, "reply", {"body": "Skrill, to nina@skrill.example"})
        assert "Skrill, to nina@skrill.example" in page and "Skrill batch" not in page
        assert (await bob.call("GET", f"/complaints/{reference}"))["complaint"]["status"] == "in_progress"

        # compensation: Bob proposes, cannot approve his own, Sam approves
        proposed = (await bob.call("POST", f"/complaints/{reference}/compensations",
                                   {"amount_minor": 2000, "currency": "EUR", "reason": "Five days' delay"}, expect=201))["complaint"]
        [compensation] = proposed["compensations"]
        assert compensation["status"] == "proposed"
        await bob.call("POST", f"/compensations/{compensation['id']}/decision", {"approve": True}, expect=403)
        approved = (await sam.call("POST", f"/compensations/{compensation['id']}/decision",
                                   {"approve": True, "note": "Within policy"}))["complaint"]
        assert approved["compensations"][0]["status"] == "approved"
        assert approved["compensations"][0]["decided_by"]["name"] == "Sam"
        told = (await mails_to(smtp, CUSTOMER_EMAIL, 3))[2]  # Nina hears of it by e-mail, not of the note
        assert "€20.00" in told.text and "Five days' delay" in told.text and "Within policy" not in told.text

        # resolution, e-mailed
        resolution = "The payout was re-sent today; 20 EUR compensation is on your balance."
        resolved = (await bob.call("POST", f"/complaints/{reference}/replies",
                                   {"kind": "resolution", "body": resolution}, expect=201))["complaint"]
        assert resolved["status"] == "resolved"
        assert resolution in (await mails_to(smtp, CUSTOMER_EMAIL, 4))[3].text

        # Nina asks for more in the widget: the complaint reopens and owes an answer again
        clarify = await nina.call("complaint:reply", {"reference": reference, "decision": "clarify",
                                                      "body": "When will the 300 EUR arrive?"})
        assert clarify["ok"], clarify
        assert clarify["complaint"]["status"] == "reopened"
        assert all("Skrill batch" not in entry["body"] for entry in clarify["complaint"]["entries"])
        reopened = (await bob.call("GET", f"/complaints/{reference}"))["complaint"]
        assert reopened["status"] == "reopened" and reopened["response_due"] is not None

        await bob.call("POST", f"/complaints/{reference}/replies",
                       {"kind": "resolution", "body": "Skrill confirms arrival within 24 hours."}, expect=201)

        # she accepts and rates on the tracking page; the approved compensation is shown to her
        page = await tracking_post(http, link, "reply", {"decision": "accept"})
        assert "20" in page and "EUR" in page
        await tracking_post(http, link, "rate", {"score": "5", "comment": "Sorted, thanks"})

        final = (await bob.call("GET", f"/complaints/{reference}"))["complaint"]
        assert final["status"] == "closed" and final["rating"]["score"] == 5
        actions = [event["action"] for event in final["audit"]]
        for expected in ("complaint.created", "complaint.start", "complaint.ask_customer", "complaint.note",
                         "complaint.customer_reply", "complaint.propose_compensation", "complaint.decide_compensation",
                         "complaint.resolve", "complaint.clarify", "complaint.accept", "complaint.rate"):
            assert expected in actions, (expected, actions)
        assert actions.index("complaint.clarify") < len(actions) - 1 - actions[::-1].index("complaint.resolve")
    await nina.close()
