"""A complaint from the widget's form reaches the customer by e-mail, through a real SMTP server."""

from __future__ import annotations

import re
from typing import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from chatserver import keys
from chatserver.app import create_app
from tests import conftest, peers
from tests.conftest import eventually
from tests.procs import HOST, free_port
from tests.smtp import SmtpServer, smtp_server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def mail_server(tmp_path, smtp) -> AsyncIterator[str]:
    """The real app on a port chosen up front, so its default public URL (http://host:port) is its real address."""
    port = free_port()
    settings = conftest.test_settings(
        tmp_path, host=HOST, port=port, smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none",
        mail_from="Support <support@example.test>",
    )
    server = TestServer(create_app(settings), host=HOST, port=port)
    await server.start_server()
    try:
        yield f"http://{HOST}:{port}"
    finally:
        await server.close()


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
    port = free_port()
    settings = conftest.test_settings(
        tmp_path, host=HOST, port=port, smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none",
        mail_from="Support <support@example.test>",
    )
    server = TestServer(create_app(settings), host=HOST, port=port)
    await server.start_server()
    try:
        services = server.app[keys.SERVICES]
        ids = await conftest.seed_cast(services)
        base = f"http://{HOST}:{port}"
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
    finally:
        await server.close()

    [to_sam] = [m for m in smtp.inbox.messages if "sam@example.test" in m.recipients]
    assert to_sam.message["Reply-To"] is None
    assert "thief@evil.test" not in "".join(f"{name}: {value}" for name, value in to_sam.message.items() if name != "Subject")
    assert str(to_sam.message["Subject"]).startswith(f"[{reference}] Complaint escalated to you: ")
    assert "\n" not in str(to_sam.message["Subject"]) and "\r" not in str(to_sam.message["Subject"])
