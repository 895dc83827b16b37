"""A complaint from the widget's form reaches the customer by e-mail, through a real SMTP server."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from chatserver import keys
from chatserver.app import create_app
from chatserver.config import Settings
from chatserver.services.container import Services
from tests import complaint_steps as steps
from tests import conftest, peers
from tests.clock import FakeClock
from tests.conftest import eventually
from tests.procs import HOST, free_port
from tests.smtp import SmtpServer, smtp_server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@dataclass
class Running:
    services: Services
    url: str
    settings: Settings


@asynccontextmanager
async def running_with_smtp(tmp_path, smtp: SmtpServer, clock: FakeClock | None = None) -> AsyncIterator[Running]:
    """The real app on a port chosen up front, so its default public URL (http://host:port) is its real
    address, sending mail to the test SMTP server."""
    port = free_port()
    settings = conftest.test_settings(
        tmp_path, host=HOST, port=port, smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none",
        mail_from="Support <support@example.test>",
    )
    server = TestServer(create_app(settings, clock) if clock else create_app(settings), host=HOST, port=port)
    await server.start_server()
    try:
        yield Running(server.app[keys.SERVICES], f"http://{HOST}:{port}", settings)
    finally:
        await server.close()


@pytest.fixture
async def mail_server(tmp_path, smtp) -> AsyncIterator[str]:
    async with running_with_smtp(tmp_path, smtp) as running:
        yield running.url


async def test_a_form_complaint_with_an_email_is_acknowledged_by_mail(mail_server, smtp):
    anna = await peers.customer(mail_server, locale="ru")
    try:
        ack = await anna.call(
            "complaint:submit",
            {"category": "withdrawals", "subject": "Вывод\r\nBcc: evil@x", "body": "Жду неделю", "email": "anna@example.test"},
        )
        assert ack["ok"], ack
        reference = ack["complaint"]["reference"]
        await eventually(lambda: len(smtp.inbox.messages) >= 1, timeout=10)
    finally:
        await anna.close()

    [mail] = smtp.inbox.messages
    assert mail.recipients == ["anna@example.test"] and mail.sender == "support@example.test"
    assert mail.message["Subject"] == f"[{reference}] Мы получили вашу жалобу"
    assert mail.message["Bcc"] is None
    assert reference in mail.text and "Вывод Bcc: evil@x" in mail.text

    link = re.search(r"https?://\S+/track/\S+", mail.text).group(0)  # type: ignore[union-attr]
    assert link == f"{mail_server}/track/{reference}?key={ack['complaint']['tracking_key']}"
    assert link.replace("&", "&amp;") in mail.html
    async with aiohttp.ClientSession() as http:
        async with http.get(link) as page:
            assert page.status == 200
            assert reference in await page.text()


async def test_the_acknowledgement_names_the_category_in_the_customers_language(mail_server, smtp):
    # the tracking page and the widget say "Płatności i wypłaty"; the e-mail must not say "withdrawals"
    ola = await peers.customer(mail_server, locale="pl")
    try:
        ack = await ola.call(
            "complaint:submit",
            {"category": "withdrawals", "subject": "Wypłata wisi", "body": "Czekam tydzień", "email": "ola@example.test"},
        )
        assert ack["ok"], ack
        await eventually(lambda: len(smtp.inbox.messages) >= 1, timeout=10)
    finally:
        await ola.close()

    [mail] = smtp.inbox.messages
    assert "Kategoria: Płatności i wypłaty" in mail.text
    assert "Płatności i wypłaty" in mail.html
    assert "withdrawals" not in mail.text + mail.html


async def test_an_encoded_line_break_in_a_customers_subject_adds_no_header_to_the_staffs_mail(tmp_path, smtp):
    # RFC 2047 spelling of "Payout CR LF Reply-To: ...": the mail library decodes encoded words in a header
    # value it is given, so the control characters dropped from the raw text would come back there
    async with running_with_smtp(tmp_path, smtp) as running:
        services, base, settings = running.services, running.url, running.settings
        ids = await conftest.seed_cast(services)
        mallory = await peers.customer(base)
        try:
            subject = "=?utf-8?q?Payout=0D=0AReply-To:_thief@evil.test?="
            filed = await mallory.call("complaint:submit", {"category": "withdrawals", "subject": subject, "body": "Late"})
            assert filed["ok"], filed
        finally:
            await mallory.close()
        reference = filed["complaint"]["reference"]
        token = await services.auth.issue_api_token(ids["bob"], "mail")
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{base}/api/complaints/{reference}/escalate", json={"reason": "Needs a supervisor"},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                assert response.status == 200, await response.text()
        await eventually(lambda: any("sam@example.test" in m.recipients for m in smtp.inbox.messages), timeout=10)

    [to_sam] = [m for m in smtp.inbox.messages if "sam@example.test" in m.recipients]
    assert to_sam.message["Reply-To"] is None
    assert "thief@evil.test" not in "".join(f"{name}: {value}" for name, value in to_sam.message.items() if name != "Subject")
    assert str(to_sam.message["Subject"]).startswith(f"[{reference}] Complaint escalated to you: ")
    assert "\n" not in str(to_sam.message["Subject"]) and "\r" not in str(to_sam.message["Subject"])
    # the button takes Sam to the complaint in the console, not to the customer's tracking page
    console_link = f"{settings.base_url}/console#complaints/{reference}"
    assert console_link in to_sam.text and f'href="{console_link}"' in to_sam.html, to_sam.text
    assert "/track/" not in to_sam.text + to_sam.html


async def test_an_answer_and_a_resolution_written_in_the_same_instant_or_across_a_clock_step_arrive_in_order(tmp_path, smtp):
    # the mail server is away while each customer's acknowledgement, answer and resolution are written:
    # Anna's answer and resolution in the same millisecond, Boris's resolution after the clock stepped
    # back two seconds. When it answers, each gets them in the order they happened.
    smtp.inbox.refuse_senders = True
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    async with running_with_smtp(tmp_path, smtp, clock) as running:
        services = running.services
        await conftest.seed_cast(services)
        base = running.url
        references = {}
        for name in ("anna", "boris"):
            customer = await peers.customer(base)
            try:
                filed = await customer.call("complaint:submit", {
                    "category": "withdrawals", "subject": "Payout late", "body": "Since Monday", "email": f"{name}@example.test",
                })
                assert filed["ok"], filed
                references[name] = filed["complaint"]["reference"]
            finally:
                await customer.close()
        for name in ("anna", "boris"):
            await steps.answer(services, references[name], "We are checking this with the payments team.")
            if name == "boris":
                clock.advance(seconds=-2)  # the system clock corrected back
            await steps.resolve(services, references[name], "The payout was re-sent today.")

        smtp.inbox.refuse_senders = False
        clock.advance(minutes=5)
        services.mail.notify()
        await eventually(lambda: len(smtp.inbox.messages) == 6, timeout=10)

    for name in ("boris", "anna"):
        subjects = [m.message["Subject"] for m in smtp.inbox.messages if m.recipients == [f"{name}@example.test"]]
        assert subjects == [
            f"[{references[name]}] We received your complaint", f"[{references[name]}] A reply to your complaint", f"[{references[name]}] Your complaint has been resolved",
        ], name


async def test_compensation_approved_while_the_team_waits_for_the_customer_says_the_new_date_silence_closes_it(tmp_path, smtp):
    # the approval is the team's word to the customer, so the week of silence counts again from it:
    # its e-mail must say so, or the customer is left with the question's date, which no longer holds
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    async with running_with_smtp(tmp_path, smtp, clock) as running:
        services = running.services
        await conftest.seed_cast(services)
        vera = await peers.customer(running.url, locale="ru")
        try:
            filed = await vera.call("complaint:submit", {
                "category": "withdrawals", "subject": "Вывод", "body": "Жду неделю", "email": "vera@example.test",
            })
            assert filed["ok"], filed
        finally:
            await vera.close()
        reference = filed["complaint"]["reference"]
        await steps.ask(services, reference, "Каким способом вы выводили?")
        clock.advance(days=6)
        await steps.compensate(services, reference, 2000, "EUR", "Задержка")
        await eventually(lambda: len(smtp.inbox.messages) == 3, timeout=10)
        clock.advance(days=1, seconds=1)
        assert await services.complaints.sweep() == []  # the question's date no longer holds
        clock.advance(days=6)
        assert [fired["kind"] for fired in await services.complaints.sweep()] == ["auto_close"]

    question, approval = smtp.inbox.messages[1:3]
    assert "Если мы не получим ответа до 9 мар. 2026, 09:00 UTC, жалоба будет закрыта." in question.text
    assert approval.message["Subject"] == f"[{reference}] Компенсация одобрена"
    assert "Если мы не получим ответа до 15 мар. 2026, 09:00 UTC, жалоба будет закрыта." in approval.text
    assert "15 мар. 2026, 09:00 UTC" in approval.html
