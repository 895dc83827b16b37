"""E-mail notices: rendering in every language, and the worker delivering the outbox to a real SMTP server."""

from __future__ import annotations

import asyncio
import logging
from html.parser import HTMLParser
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest

from chatserver.config import Settings
from chatserver.domain.models import iso, parse_iso
from chatserver.mail.render import FIELDS, STAFF_KINDS, InvalidRecipient, header_text, render
from chatserver.mail.transport import LogTransport, SmtpTransport, transport_for
from chatserver.mail.worker import BACKOFF, MAX_ATTEMPTS, MailWorker, retry_delay
from chatserver.services.events import COMPLAINT_CREATED, EventBus
from chatserver.store import outbox
from chatserver.store.db import Database
from tests.browser.hostile import PAYLOADS
from tests.conftest import eventually
from tests.faults import HeldWriteLock
from tests.procs import free_port
from tests.smtp import SmtpServer, smtp_server
from tests.clock import FakeClock

REF = "C-2026-000123"
TRACK = f"https://chat.example.test/track/{REF}?key=0123456789abcdef&lang=x"
FROM = "Support <support@example.test>"
DATA: dict[str, dict[str, Any]] = {
    "complaint_ack": {
        "reference": REF, "subject": "Withdrawal <b>W-1</b> stuck", "category": "withdrawals", "tracking_url": TRACK,
        "first_response_due": "2026-03-02T14:00:00.000Z", "resolution_due": "2026-03-03T14:00:00.000Z",
    },
    "complaint_reply": {"reference": REF, "body": "We found it.\nIt is on its way <today>.", "tracking_url": TRACK},
    "complaint_question": {
        "reference": REF, "body": "Which card did you use?", "tracking_url": TRACK, "close_by": "2026-03-09T14:00:00.000Z",
    },
    "complaint_resolved": {"reference": REF, "body": "Refunded in full.", "tracking_url": TRACK, "close_by": "2026-03-09T14:00:00.000Z"},
    "complaint_compensation": {
        "reference": REF, "amount_minor": 125050, "currency": "EUR", "reason": "Late payout <b>W-1</b>", "tracking_url": TRACK,
    },
    "complaint_closed": {"reference": REF, "tracking_url": TRACK},
    "complaint_escalated": {"reference": REF, "subject": "Withdrawal stuck", "level": 2, "reason": "response overdue"},
    "complaint_sla_warning": {"reference": REF, "subject": "Withdrawal stuck", "target": "response", "due_at": "2026-03-02T14:00:00.000Z"},
}
# a word only that language's text has
WORDS = {"en": "complaint", "ru": "жалоб", "pl": "reklamac"}


# -- rendering (pure) ----------------------------------------------------------------------


@pytest.mark.parametrize("locale, amount", [("en", "€1,250.50"), ("ru", "1\u00a0250,50\u00a0€"), ("pl", "1250,50\u00a0€")])
def test_an_approved_compensation_is_written_in_the_readers_own_way(locale, amount):
    message = render("complaint_compensation", locale, DATA["complaint_compensation"], mail_from=FROM, recipient="anna@example.test")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert amount in text and amount in html
    assert "Late payout <b>W-1</b>" in text and "Late payout &lt;b&gt;W-1&lt;/b&gt;" in html
    assert TRACK.replace("&", "&amp;") in html


@pytest.mark.parametrize("locale", ["en", "ru", "pl"])
@pytest.mark.parametrize("kind", sorted(outbox.KINDS))
def test_every_kind_renders_in_every_language(kind, locale):
    message = render(kind, locale, DATA[kind], mail_from=FROM, recipient="anna@example.test")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert message["Subject"].startswith(f"[{REF}] ")
    assert message["To"] == "anna@example.test" and message["From"] == FROM
    assert message["Content-Language"] == locale
    assert REF in text and REF in html
    assert WORDS[locale] in (message["Subject"] + text).lower()
    if "tracking_url" in DATA[kind]:
        assert TRACK in text
        assert f'href="{TRACK.replace("&", "&amp;")}"' in html
    else:
        assert "/track/" not in text + html


@pytest.mark.parametrize("kind", ["complaint_question", "complaint_resolved"])
@pytest.mark.parametrize("locale, date", [("en", "9 Mar 2026, 14:00 UTC"), ("ru", "9 мар. 2026, 14:00 UTC"), ("pl", "9 mar 2026, 14:00 UTC")])
def test_a_question_or_resolution_says_by_when_silence_closes_the_complaint(kind, locale, date):
    message = render(kind, locale, DATA[kind], mail_from=FROM, recipient="anna@example.test")
    for part in ("plain", "html"):
        assert date in message.get_body((part,)).get_content()
    # queued before the date was sent along: the letter leaves that sentence out rather than say "by ."
    older = render(kind, locale, {k: v for k, v in DATA[kind].items() if k != "close_by"}, mail_from=FROM, recipient="a@example.test")
    text = older.get_body(("plain",)).get_content()
    assert "UTC" not in text and " .\n" not in text and REF in text


def test_every_kind_has_a_template():
    assert set(FIELDS) == set(outbox.KINDS)


def test_visitor_text_is_escaped_in_html_and_kept_as_written_in_text():
    message = render("complaint_ack", "en", DATA["complaint_ack"], mail_from=FROM, recipient="anna@example.test")
    html = message.get_body(("html",)).get_content()
    assert "Withdrawal &lt;b&gt;W-1&lt;/b&gt; stuck" in html and "<b>W-1</b>" not in html
    assert "Withdrawal <b>W-1</b> stuck" in message.get_body(("plain",)).get_content()
    reply = render("complaint_reply", "en", DATA["complaint_reply"], mail_from=FROM, recipient="anna@example.test")
    assert "on its way &lt;today&gt;." in reply.get_body(("html",)).get_content()


class Markup(HTMLParser):
    """The tags and attribute names of an HTML part, and its link targets: what text could never add."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, tuple[str, ...]]] = []
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, tuple(name for name, _ in attrs)))
        self.links += [value or "" for name, value in attrs if name in ("href", "src")]


# every field of a notice that people write: customers (subject, body) and staff (replies, reasons)
WRITTEN = [(kind, field) for kind, fields in FIELDS.items() for field in fields if field in ("subject", "body", "reason", "category")]


@pytest.mark.parametrize("label", sorted(PAYLOADS))
@pytest.mark.parametrize(("kind", "field"), WRITTEN, ids=lambda v: str(v))
def test_hostile_text_in_any_written_field_of_any_notice_adds_no_markup_and_reads_as_written(kind, field, label):
    payload = PAYLOADS[label]
    plain = render(kind, "en", {**DATA[kind], field: "harmless words"}, mail_from=FROM, recipient="anna@example.test")
    hostile = render(kind, "en", {**DATA[kind], field: payload}, mail_from=FROM, recipient="anna@example.test")
    made, got = Markup(plain.get_body(("html",)).get_content()), Markup(hostile.get_body(("html",)).get_content())
    assert got.tags == made.tags and got.links == made.links  # the same elements, attributes and links
    # the text part shows what was written; a one-line fact without the controls that could turn it around
    text = hostile.get_body(("plain",)).get_content()
    assert payload in text or header_text(payload, 300) in text
    subject = hostile["Subject"]
    assert "\n" not in subject and "\r" not in subject
    if kind not in STAFF_KINDS:
        assert subject == plain["Subject"]  # a customer's subject line is ours alone


def test_customer_subjects_carry_only_our_words_and_the_reference():
    message = render("complaint_ack", "en", DATA["complaint_ack"], mail_from=FROM, recipient="anna@example.test")
    assert message["Subject"] == f"[{REF}] We received your complaint"


@pytest.mark.parametrize("locale", ["de", "", "pt-BR", "RU"])
def test_an_unknown_locale_falls_back_to_english(locale):
    message = render("complaint_escalated", locale, DATA["complaint_escalated"], mail_from=FROM, recipient="sam@example.test")
    expected = "ru" if locale == "RU" else "en"
    assert message["Content-Language"] == expected


def test_dates_are_shown_in_utc_and_missing_values_leave_their_row_out():
    data = {**DATA["complaint_ack"], "resolution_due": None, "category": ""}
    text = render("complaint_ack", "en", data, mail_from=FROM, recipient="a@example.test").get_body(("plain",)).get_content()
    assert "First answer by: 2 Mar 2026, 14:00 UTC" in text  # as the tracking page writes it
    assert "Resolution by" not in text and "Category" not in text


@pytest.mark.parametrize("locale, shown", [("ru", "2 мар. 2026, 14:00 UTC"), ("pl", "2 mar 2026, 14:00 UTC")])
def test_dates_in_e_mails_read_as_on_the_tracking_page_in_the_customers_language(locale, shown):
    text = render("complaint_ack", locale, DATA["complaint_ack"], mail_from=FROM, recipient="a@example.test").get_body(("plain",)).get_content()
    assert shown in text


def test_only_web_links_become_buttons():
    data = {**DATA["complaint_reply"], "tracking_url": "javascript:alert(1)"}
    message = render("complaint_reply", "en", data, mail_from=FROM, recipient="a@example.test")
    assert "javascript:" not in message.get_body(("html",)).get_content()


def test_a_subject_with_a_line_break_cannot_add_a_header():
    data = {**DATA["complaint_escalated"], "subject": "Refund\r\nBcc: evil@x\nX-Evil: 1"}
    message = render("complaint_escalated", "en", data, mail_from=FROM, recipient="sam@example.test")
    assert message.get_all("To") == ["sam@example.test"]
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
    assert "Refund Bcc: evil@x X-Evil: 1" in message["Subject"]
    # once serialized, still one To and no Bcc
    wire = message.as_bytes()
    assert wire.count(b"\nTo:") == 1 and b"\nBcc:" not in wire


@pytest.mark.parametrize(
    "recipient",
    ["anna@example.test\r\nBcc: evil@x", "anna@example.test, evil@x", "Anna <anna@example.test>", "not-an-address", "a@b@c", ""],
)
def test_a_recipient_must_be_one_bare_address(recipient):
    with pytest.raises(InvalidRecipient):
        render("complaint_ack", "en", DATA["complaint_ack"], mail_from=FROM, recipient=recipient)


def test_header_text_drops_controls_and_bidi_overrides():
    assert header_text("a\x00b\tc\u2028d\u202ee\x85f") == "a b c d e f"
    assert len(header_text("x" * 500)) == 200


def test_backoff_is_30s_2m_10m_1h_6h_then_give_up():
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6), None]
    assert MAX_ATTEMPTS == 6 and len(BACKOFF) == 5


def test_the_transport_is_smtp_only_when_a_host_is_set():
    assert isinstance(transport_for(Settings()), LogTransport)
    smtp = transport_for(Settings(smtp_host="mail.example.test", smtp_port=465, smtp_security="tls"))
    assert isinstance(smtp, SmtpTransport) and (smtp.host, smtp.port, smtp.security) == ("mail.example.test", 465, "tls")


# -- the worker on SQLite with a real SMTP server ------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc))


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = Database(str(tmp_path / "mail.db"))
    await database.open()
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def settings_for(smtp: SmtpServer | None, **more: Any) -> Settings:
    port = smtp.port if smtp else free_port()  # nobody listens on a fresh free port
    return Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", mail_from=FROM, **more)


async def enqueue(db: Database, clock: FakeClock, kind: str = "complaint_ack", recipient: str = "anna@example.test", **data: Any) -> str:
    async with db.transaction() as tx:
        return await outbox.enqueue(
            tx, kind=kind, recipient=recipient, now=iso(clock()), locale=data.pop("locale", "en"),  # type: ignore[arg-type]
            data={**DATA[kind], **data},
        )


async def row(db: Database, notice_id: str) -> dict[str, Any]:
    found = await db.fetch_one("SELECT * FROM outbox WHERE id = ?", (notice_id,))
    assert found is not None
    return found


async def test_pending_notices_arrive_oldest_first_and_are_marked_sent(db, clock, smtp):
    ids = []
    for n, kind in enumerate(["complaint_ack", "complaint_reply", "complaint_resolved"]):
        ids.append(await enqueue(db, clock, kind, recipient=f"c{n}@example.test", locale="ru"))
        clock.advance(seconds=1)
    worker = MailWorker(db, settings_for(smtp), clock)
    assert await worker.deliver_due() == 3
    got = smtp.inbox.messages
    assert [m.recipients for m in got] == [["c0@example.test"], ["c1@example.test"], ["c2@example.test"]]
    assert got[0].sender == "support@example.test"
    assert got[0].message["Subject"] == f"[{REF}] Мы получили вашу жалобу"
    assert TRACK in got[0].text and "Спасибо" in got[0].text
    assert "It is on its way <today>." in got[1].text
    assert got[0].message["Message-ID"] == f"<{ids[0]}@example.test>"
    for notice_id in ids:
        stored = await row(db, notice_id)
        assert (stored["state"], stored["sent_at"], stored["attempts"], stored["last_error"]) == ("sent", iso(clock()), 1, None)
    assert await worker.deliver_due() == 0  # nothing is sent twice


async def test_a_notice_not_yet_due_waits(db, clock, smtp):
    notice = await enqueue(db, clock)
    await db.write_returning("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (iso(clock() + timedelta(minutes=1)), notice))
    worker = MailWorker(db, settings_for(smtp), clock)
    assert await worker.deliver_due() == 0
    clock.advance(minutes=1)
    assert await worker.deliver_due() == 1


async def test_an_unreachable_server_leaves_the_row_pending_with_a_later_try(db, clock):
    notice = await enqueue(db, clock)
    worker = MailWorker(db, settings_for(None), clock)
    assert await worker.deliver_due() == 0
    stored = await row(db, notice)
    # the server's failure, not the notice's: none of its attempts is used, and the worker waits
    assert stored["state"] == "pending" and stored["attempts"] == 0 and stored["sent_at"] is None
    assert parse_iso(await worker.next_attempt_at()) == clock() + timedelta(seconds=30)  # type: ignore[arg-type]
    assert "ServerUnavailable" in stored["last_error"]
    assert await worker.deliver_due() == 0  # not due again yet
    assert (await row(db, notice))["last_error"] == stored["last_error"]


async def test_after_six_failed_attempts_the_row_fails_and_says_so(db, clock, smtp, caplog):
    # the mailbox keeps saying "try again later": the notice is tried on the backoff, then given up
    smtp.inbox.defer.add("anna@example.test")
    notice = await enqueue(db, clock)
    worker = MailWorker(db, settings_for(smtp), clock)
    started = clock()
    with caplog.at_level(logging.WARNING, logger="chatserver.mail"):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await worker.deliver_due()
            stored = await row(db, notice)
            assert stored["attempts"] == attempt and "452" in stored["last_error"]
            if attempt < MAX_ATTEMPTS:
                assert stored["state"] == "pending"
                assert parse_iso(stored["next_attempt_at"]) == clock() + BACKOFF[attempt - 1]
                clock.now = parse_iso(stored["next_attempt_at"])  # type: ignore[assignment]
    assert stored["state"] == "failed"
    assert clock() - started == sum(BACKOFF, timedelta())
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and notice in errors[0].getMessage()
    clock.advance(days=1)
    await worker.deliver_due()
    assert (await row(db, notice))["attempts"] == MAX_ATTEMPTS  # a failed row is left alone
    assert smtp.inbox.messages == []


async def test_a_server_away_for_days_loses_no_notice_and_sends_them_oldest_first_when_it_answers(db, clock):
    # a mail server down over a long weekend: no notice uses up its attempts on it, the oldest included,
    # which is the one tried each round
    notices = []
    for n in range(3):
        notices.append(await enqueue(db, clock, recipient=f"player{n}@example.test"))
        clock.advance(seconds=1)
    worker = MailWorker(db, settings_for(None), clock)  # nobody listens there
    rounds = 0
    while clock() - parse_iso((await row(db, notices[0]))["created_at"]) < timedelta(days=3):  # type: ignore[operator]
        assert await worker.deliver_due() == 0
        rounds += 1
        clock.now = parse_iso(await worker.next_attempt_at())  # type: ignore[assignment]
    assert rounds > MAX_ATTEMPTS
    stored = [await row(db, n) for n in notices]
    assert [(r["state"], r["attempts"]) for r in stored] == [("pending", 0)] * 3
    assert "ServerUnavailable" in stored[0]["last_error"]  # the operator sees why it waits
    with smtp_server() as smtp:
        worker.transport = MailWorker(db, settings_for(smtp), clock).transport  # the server is back
        assert await worker.deliver_due() == 3
        assert [m.recipients[0] for m in smtp.inbox.messages] == [f"player{n}@example.test" for n in range(3)]


async def test_one_refused_recipient_does_not_hold_up_the_others_and_is_not_tried_again(db, clock, smtp):
    # a 5xx to RCPT says the mailbox does not exist: retrying for hours would change nothing
    smtp.inbox.refuse.add("gone@example.test")
    first = await enqueue(db, clock, recipient="gone@example.test")
    clock.advance(seconds=1)
    second = await enqueue(db, clock, recipient="anna@example.test")
    worker = MailWorker(db, settings_for(smtp), clock)
    assert await worker.deliver_due() == 1
    assert [m.recipients for m in smtp.inbox.messages] == [["anna@example.test"]]
    refused = await row(db, first)
    assert (refused["state"], refused["attempts"]) == ("failed", 1) and "550" in refused["last_error"]
    assert (await row(db, second))["state"] == "sent"


async def test_an_unreachable_server_is_tried_once_for_all_waiting_notices_then_after_the_backoff(db, clock):
    # a hung or down server costs one timeout a round, not one per notice waiting behind it
    notices = []
    for n in range(4):
        notices.append(await enqueue(db, clock, recipient=f"player{n}@example.test"))
        clock.advance(seconds=1)
    with smtp_server() as smtp:
        down = settings_for(None)  # nobody listens there
        worker = MailWorker(db, down, clock)
        assert await worker.deliver_due() == 0
        assert [(await row(db, n))["attempts"] for n in notices] == [0, 0, 0, 0]
        hold = parse_iso(await worker.next_attempt_at())  # type: ignore[arg-type]
        assert hold == clock() + timedelta(seconds=30)
        assert await worker.deliver_due() == 0 and [(await row(db, n))["attempts"] for n in notices] == [0, 0, 0, 0]
        clock.now = hold  # type: ignore[assignment]
        worker.transport = MailWorker(db, settings_for(smtp), clock).transport  # the server is back
        assert await worker.deliver_due() == 4
        assert sorted(m.recipients[0] for m in smtp.inbox.messages) == [f"player{n}@example.test" for n in range(4)]


async def test_an_unusable_address_fails_at_once(db, clock, smtp, caplog):
    notice = await enqueue(db, clock, recipient="anna@example.test\r\nBcc: evil@x")
    worker = MailWorker(db, settings_for(smtp), clock)
    with caplog.at_level(logging.ERROR, logger="chatserver.mail"):
        assert await worker.deliver_due() == 0
    stored = await row(db, notice)
    assert (stored["state"], stored["attempts"]) == ("failed", 1) and "InvalidRecipient" in stored["last_error"]
    assert smtp.inbox.messages == []


async def test_a_subject_with_a_header_injection_reaches_exactly_one_recipient(db, clock, smtp):
    await enqueue(db, clock, "complaint_escalated", recipient="sam@example.test", subject="Refund\r\nBcc: evil@x")
    await MailWorker(db, settings_for(smtp), clock).deliver_due()
    [got] = smtp.inbox.messages
    assert got.recipients == ["sam@example.test"]
    assert got.message["Bcc"] is None and got.message.get_all("To") == ["sam@example.test"]
    assert got.message["Subject"] == f"[{REF}] Complaint escalated to you: Refund Bcc: evil@x"


async def test_a_new_worker_on_the_same_database_sends_what_was_pending(tmp_path, clock, smtp):
    path = str(tmp_path / "restart.db")
    first_db = Database(path)
    await first_db.open()
    await first_db.migrate()
    failed_once = await enqueue(first_db, clock, recipient="early@example.test")
    await MailWorker(first_db, settings_for(None), clock).deliver_due()  # the server was down
    never_tried = await enqueue(first_db, clock, recipient="late@example.test")
    await first_db.close()  # the process dies here

    clock.advance(minutes=1)
    db = Database(path)
    await db.open()
    worker = MailWorker(db, settings_for(smtp), clock, poll_seconds=3600)
    worker.start()  # no notify: the backlog is delivered at start
    try:
        await eventually(lambda: len(smtp.inbox.messages) == 2)
        assert {m.recipients[0] for m in smtp.inbox.messages} == {"early@example.test", "late@example.test"}
        await eventually(lambda: _all_sent(db, [failed_once, never_tried]))
    finally:
        await worker.stop()
        await db.close()


async def _all_sent(db: Database, ids: list[str]) -> bool:
    states = [(await row(db, notice))["state"] for notice in ids]
    return states == ["sent"] * len(ids)


async def test_a_complaint_event_wakes_the_worker(db, clock, smtp):
    bus = EventBus()
    worker = MailWorker(db, settings_for(smtp), clock, poll_seconds=3600)
    bus.subscribe(worker.on_event)
    worker.start()
    try:
        await asyncio.sleep(0.05)  # the first pass found nothing; now it sleeps for an hour
        await enqueue(db, clock)
        await bus.publish(COMPLAINT_CREATED, complaint={}, customer_id=None)
        await eventually(lambda: len(smtp.inbox.messages) == 1, timeout=3)
    finally:
        await worker.stop()


async def test_a_retry_is_picked_up_when_it_falls_due_without_a_notify(db, smtp):
    clock = FakeClock(datetime.now(timezone.utc))  # real time: the worker sleeps until the retry
    notice = await enqueue(db, clock)
    retry_at = datetime.now(timezone.utc) + timedelta(milliseconds=300)
    await db.write_returning("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (iso(retry_at), notice))
    worker = MailWorker(db, settings_for(smtp), lambda: datetime.now(timezone.utc), poll_seconds=3600)
    worker.start()
    try:
        await eventually(lambda: len(smtp.inbox.messages) == 1, timeout=3)
    finally:
        await worker.stop()


async def test_stop_is_clean_and_idempotent(db, clock, smtp):
    worker = MailWorker(db, settings_for(smtp), clock)
    await worker.stop()  # never started
    worker.start()
    worker.start()  # one task only
    await worker.stop()
    await worker.stop()
    await enqueue(db, clock)
    worker.notify()
    await asyncio.sleep(0.05)
    assert smtp.inbox.messages == []  # a stopped worker sends nothing


async def test_smtp_login_is_used_when_a_user_is_set(db, clock):
    with smtp_server(auth=True) as server:
        notice = await enqueue(db, clock)
        settings = settings_for(server, smtp_user="mailer", smtp_password="s3cret")
        assert await MailWorker(db, settings, clock).deliver_due() == 1
        assert server.inbox.logins == [("mailer", "s3cret")]
        assert (await row(db, notice))["state"] == "sent"


@pytest.mark.parametrize("fault", ["wrong password", "sender refused"])
async def test_a_server_refusing_our_login_or_sender_is_asked_once_for_all_waiting_notices(db, clock, fault):
    # neither says anything about the recipient: every waiting notice would be refused alike, one
    # connection and one failed login each, and each would lose one of its attempts
    notices = []
    for n in range(4):
        notices.append(await enqueue(db, clock, recipient=f"player{n}@example.test"))
        clock.advance(seconds=1)
    with smtp_server(auth=True) as server:
        password = "wrong" if fault == "wrong password" else "s3cret"
        server.inbox.refuse_senders = fault == "sender refused"
        worker = MailWorker(db, settings_for(server, smtp_user="mailer", smtp_password=password), clock)
        assert await worker.deliver_due() == 0
        assert [(await row(db, n))["attempts"] for n in notices] == [0, 0, 0, 0]
        first = await row(db, notices[0])
        assert first["state"] == "pending" and ("Authentication" in first["last_error"] or "SenderRefused" in first["last_error"])
        hold = parse_iso(await worker.next_attempt_at())  # type: ignore[arg-type]
        assert hold == clock() + timedelta(seconds=30)
        # the operator fixes it; after the wait every notice goes out
        server.inbox.refuse_senders = False
        clock.now = hold  # type: ignore[assignment]
        worker.transport = MailWorker(db, settings_for(server, smtp_user="mailer", smtp_password="s3cret"), clock).transport
        assert await worker.deliver_due() == 4
        assert sorted(m.recipients[0] for m in server.inbox.messages) == [f"player{n}@example.test" for n in range(4)]


async def test_without_an_smtp_host_the_mail_is_written_to_the_log(db, clock, caplog):
    await enqueue(db, clock, "complaint_reply", recipient="anna@example.test")
    worker = MailWorker(db, Settings(mail_from=FROM), clock)
    with caplog.at_level(logging.INFO, logger="chatserver.mail"):
        assert await worker.deliver_due() == 1
    [record] = [r for r in caplog.records if r.name == "chatserver.mail" and r.levelno == logging.INFO]
    logged = record.getMessage()
    assert "anna@example.test" in logged and f"[{REF}] A reply to your complaint" in logged
    assert "It is on its way <today>." in logged and TRACK in logged


async def test_a_notice_that_cannot_be_marked_sent_during_a_storage_fault_is_not_sent_again_until_the_fault_ends(tmp_path, clock, smtp):
    path = str(tmp_path / "fault.db")
    db = Database(path, busy_timeout=0.3)
    await db.open()
    await db.migrate()
    notice = await enqueue(db, clock)
    # another connection holds the write lock: the notice goes out, but cannot be marked sent
    lock = HeldWriteLock(Path(path))
    lock.inject()
    worker = MailWorker(db, settings_for(smtp), clock, poll_seconds=0.2)
    worker.start()
    try:
        await eventually(lambda: len(smtp.inbox.messages) == 1)
        await asyncio.sleep(3)  # many polls while the fault lasts: none of them sends it again
        assert len(smtp.inbox.messages) == 1
        assert (await row(db, notice))["state"] == "pending"
        lock.clear()
        await eventually(lambda: _all_sent(db, [notice]))
        # at least once: the one repeat of the delivery the fault cut short, and no more
        assert len(smtp.inbox.messages) == 2
        assert len({m.message["Message-ID"] for m in smtp.inbox.messages}) == 1
    finally:
        lock.clear()
        await worker.stop()
        await db.close()


@pytest.mark.parametrize("fault", ["no STARTTLS", "no AUTH"])
async def test_a_server_lacking_the_encryption_or_login_we_asked_for_is_asked_once_for_all_waiting_notices(db, clock, smtp, fault):
    # the operator asked for STARTTLS (the default) or a login the server does not offer: every
    # waiting notice would meet the same, and must not lose its attempts one connection each
    notices = []
    for n in range(4):
        notices.append(await enqueue(db, clock, recipient=f"player{n}@example.test"))
        clock.advance(seconds=1)
    wrong = settings_for(smtp).with_overrides(smtp_security="starttls") if fault == "no STARTTLS" else settings_for(smtp, smtp_user="mailer", smtp_password="s3cret")
    worker = MailWorker(db, wrong, clock)
    assert await worker.deliver_due() == 0
    assert [(await row(db, n))["attempts"] for n in notices] == [0, 0, 0, 0]
    assert (await row(db, notices[0]))["state"] == "pending"
    hold = parse_iso(await worker.next_attempt_at())  # type: ignore[arg-type]
    assert hold == clock() + timedelta(seconds=30)
    # the operator fixes the setting; after the wait every notice goes out
    clock.now = hold  # type: ignore[assignment]
    worker.transport = MailWorker(db, settings_for(smtp), clock).transport
    assert await worker.deliver_due() == 4
    assert sorted(m.recipients[0] for m in smtp.inbox.messages) == [f"player{n}@example.test" for n in range(4)]


async def test_a_relay_refusing_us_is_no_mailbox_refused_for_good_and_the_notices_go_out_once_it_takes_them(db, clock, smtp):
    # "554 5.7.1 Relay access denied" answers RCPT for every address while the relay wants a login we
    # did not give: it says nothing about the mailboxes, so no notice may be given up for it at once
    smtp.inbox.deny_relay = True
    notices = []
    for n in range(3):
        notices.append(await enqueue(db, clock, recipient=f"player{n}@example.test"))
        clock.advance(seconds=1)
    worker = MailWorker(db, settings_for(smtp), clock)
    assert await worker.deliver_due() == 0
    for notice in notices:
        stored = await row(db, notice)
        assert stored["state"] == "pending" and "Relay access denied" in stored["last_error"]
    # the operator fixes the relay; the retry sends every notice
    smtp.inbox.deny_relay = False
    clock.advance(minutes=1)
    assert await worker.deliver_due() == 3
    assert sorted(m.recipients[0] for m in smtp.inbox.messages) == [f"player{n}@example.test" for n in range(3)]


async def test_a_message_the_server_hangs_up_on_uses_up_its_own_attempts_and_holds_up_no_other(db, clock, smtp):
    # the server greets us, takes the sender and the recipient, then drops the connection on this one
    # message: it answers for everyone else, so the others go out and this notice is given up in time
    smtp.inbox.hang_up.add("poison@example.test")
    poison = await enqueue(db, clock, recipient="poison@example.test")
    clock.advance(seconds=1)
    fine = await enqueue(db, clock, recipient="anna@example.test")
    worker = MailWorker(db, settings_for(smtp), clock)
    assert await worker.deliver_due() == 1
    assert [m.recipients for m in smtp.inbox.messages] == [["anna@example.test"]]
    assert (await row(db, fine))["state"] == "sent"
    for _ in range(MAX_ATTEMPTS * 2):
        due = await worker.next_attempt_at()
        if due is None:
            break
        clock.now = parse_iso(due)  # type: ignore[assignment]
        await worker.deliver_due()
    stored = await row(db, poison)
    assert (stored["state"], stored["attempts"]) == ("failed", MAX_ATTEMPTS)
