"""A question the customer never answers: how the complaint it closes counts in reports, and when it closes.

The SLA clocks stand still while the team waits for the customer; after the auto-close period an
unanswered question closes the complaint without a resolution. Reports must count that closed
complaint as what it was (missed when its resolution was missed before the question, met otherwise),
never as pending, and closing must not turn a missed resolution into a pending one. The auto-close
period counts from the team's last word to the customer, not from the first question.

Cast and fixtures as in test_complaint_service.py (withdrawals: an answer within 24 h, a resolution
within 48 h).
"""

from __future__ import annotations

from datetime import timedelta

from chatserver.domain.reports import Filters, Period
from tests.service.test_complaint_service import NIGHT, alice, cast, clock, form, outbox, services  # noqa: F401

WEEKS = Period(NIGHT.date(), NIGHT.date() + timedelta(days=27))


async def resolution_sla(services, cast) -> dict:
    report = await services.reports.summary(cast.sam, WEEKS, Filters())
    return report["complaints"]["sla"]["resolution"]


async def test_a_resolution_missed_before_the_question_stays_missed_when_the_silence_closes_the_complaint(
    services, cast, alice, clock
):
    reference = (await form(services, alice))["reference"]
    cs = services.complaints
    clock.advance(hours=50)  # the 48 h resolution target is gone
    await cs.sweep()  # its breach fires (level 2)
    await cs.reply(cast.sam, reference, "Which payment method did you use?", ask_customer=True)
    assert await resolution_sla(services, cast) == {"met": 0, "missed": 1, "pending": 0, "percent": 0.0}

    clock.advance(days=7)
    assert [f["kind"] for f in await cs.sweep()] == ["auto_close"]
    assert (await cs.detail(cast.sam, reference))["status"] == "closed"
    assert await resolution_sla(services, cast) == {"met": 0, "missed": 1, "pending": 0, "percent": 0.0}


async def test_a_complaint_the_silence_closed_in_time_is_met_not_pending_for_ever(services, cast, alice, clock):
    reference = (await form(services, alice))["reference"]
    cs = services.complaints
    clock.advance(hours=10)
    await cs.reply(cast.carol, reference, "Which payment method did you use?", ask_customer=True)
    clock.advance(days=7)
    assert [f["kind"] for f in await cs.sweep()] == ["auto_close"]
    # closed while 38 of its 48 hours were still the team's: nothing is pending on a closed complaint
    assert await resolution_sla(services, cast) == {"met": 1, "missed": 0, "pending": 0, "percent": 100.0}


async def test_the_auto_close_period_counts_from_the_teams_last_word_to_the_customer(services, cast, alice, clock):
    reference = (await form(services, alice))["reference"]
    cs = services.complaints
    await cs.reply(cast.carol, reference, "Which payment method did you use?", ask_customer=True)
    clock.advance(days=6)
    reminded = await cs.reply(cast.carol, reference, "A reminder: which payment method did you use?")
    assert reminded["status"] == "awaiting_customer"

    clock.advance(days=1)  # a week after the question, a day after the reminder: still open
    assert await cs.sweep() == []
    assert (await cs.detail(cast.carol, reference))["status"] == "awaiting_customer"
    assert await outbox(services, "complaint_closed") == []

    clock.advance(days=6)
    clock.advance(seconds=-1)
    assert await cs.sweep() == []
    clock.advance(seconds=1)  # a week after the reminder
    assert [f["kind"] for f in await cs.sweep()] == ["auto_close"]
    assert len(await outbox(services, "complaint_closed")) == 1
