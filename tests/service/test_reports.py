"""ReportService on a real SQLite file with seeded rows (tests/report_rows.py); every expected number is
worked out by hand next to it.

The week: 2026-11-01 to 2026-11-07 (UTC); the clock stands at 2026-11-08 12:00.
Complaints (created, category, channel, level, assignee; first answer, resolution; status):
  C1 11-01 10:00 withdrawals  chat     L1 bob    answered +1 h,    resolved +10 h           closed,  rated 5
  C2 11-01 12:00 withdrawals  web_form L2 sam    answered +30 h,   resolved +50 h           closed,  rated 2
  C3 11-02 09:00 account      email    L1 carol  answered +2 h,    resolved +20 h (due 24 h) resolved
  C4 11-03 08:00 bonuses      phone    L1 bob    answered +4 h,    resolution due 11-05      in progress
  C5 11-07 20:00 bonuses      web_form L1 -      nothing yet (answer due 11-08 20:00)        new
  C6 11-05 10:00 withdrawals  chat     L3 -      answered +3 h,    resolved +20 h, reopened +25 h (due +73 h = 11-08 11:00)
  C7 11-06 00:00 account      web_form L1 carol  answered +30 min, reopened +12 h (due +36 h), resolved +30 h, closed, rated 4
  and two withdrawals just outside the week (10-31 23:59:59.999 and 11-08 00:00).
Chats: 11-01 09:00 withdrawals bob 30 s rated 5; 09:30 no topic carol 90 s (became a complaint) rated 3;
  11-02 14:00 bonuses bob 10 s; 11-03 15:00 withdrawals abandoned; 11-07 23:00 account carol 45 s rated 4;
  one chat on 10-31 outside.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest

from chatserver.config import Settings
from chatserver.domain.errors import Forbidden, Invalid
from chatserver.domain.reports import Filters, Period
from chatserver.services import reports as report_module
from chatserver.services.auth import ConsoleUser
from chatserver.services.container import build_services, close_services
from tests.report_rows import History, seed_week

BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
NOW = BASE + timedelta(days=7, hours=12)
WEEK = Period(date(2026, 11, 1), date(2026, 11, 7))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def services(tmp_path):
    built = await build_services(Settings(db=str(tmp_path / "reports.db")), "secret", Clock(NOW))
    yield built
    await close_services(built)


@pytest.fixture
async def people(services):
    users = {}
    for name, role in (("bob", "agent"), ("carol", "agent"), ("sam", "supervisor"), ("ada", "admin")):
        row = await services.auth.create_user(email=f"{name}@example.test", name=name.title(), role=role, password="s3cret-pass")
        users[name] = ConsoleUser.from_row(row)
    return users


@pytest.fixture
async def week(services, people):
    return await seed_week(services.db, BASE, {name: user.id for name, user in people.items()})


async def test_the_weeks_numbers(services, people, week):
    report = await services.reports.summary(people["sam"], WEEK, Filters())
    assert report["period"] == {"from": "2026-11-01", "to": "2026-11-07", "days": 7, "preset": None, "timezone": "UTC"}
    assert report["generated_at"] == "2026-11-08T12:00:00.000Z"

    cx = report["complaints"]
    assert cx["total"] == 7  # C1-C7; the two just outside are not counted
    # first answers, to the minute: 30, 60, 120, 180, 240, 1800 min → ranks 2 and 3 → (120 + 180) / 2 min
    assert cx["first_response"] == {"count": 6, "median_seconds": 9000.0, "p90_seconds": 61200.0}  # p90: 240 + 0.5 * 1560 min
    # resolved or closed now: C1 10 h, C3 20 h, C7 30 h, C2 50 h (C6 is reopened, not resolved)
    assert cx["resolution"] == {"count": 4, "median_seconds": 90000.0, "p90_seconds": 158400.0}  # 25 h; 30 + 0.7 * 20 h
    # first answer within 24 h: C1 C3 C4 C6 C7 met, C2 (30 h) missed, C5 not due until 11-08 20:00
    assert cx["sla"]["first_response"] == {"met": 5, "missed": 1, "pending": 1, "percent": 83.3}
    # resolution: C1 C3 C7 (30 h ≤ 36 h after the reopening) met; C2 late, C4 and C6 past due; C5 not due
    assert cx["sla"]["resolution"] == {"met": 3, "missed": 3, "pending": 1, "percent": 50.0}
    assert cx["escalated"] == {"count": 2, "of": 7, "percent": 28.6}  # C2 (level 2), C6 (level 3)
    assert cx["reopened"] == {"count": 2, "of": 5, "percent": 40.0}  # C6, C7 of the five ever resolved

    ch = report["chats"]
    assert {k: ch[k] for k in ("total", "answered", "resolved", "complaint", "abandoned", "open")} == {
        "total": 5, "answered": 4, "resolved": 3, "complaint": 1, "abandoned": 1, "open": 0,
    }
    # 10, 30, 45, 90 s: median (30 + 45) / 2; p90 at rank 2.7: 45 + 0.7 * 45
    assert ch["first_response"] == {"count": 4, "median_seconds": 37.5, "p90_seconds": 76.5}

    # approved and decided in the week: C1 10.00, C2 5.00 and 2.50 for the complaint of 10-31; not the
    # PLN one (decided 11-08), the rejected or the undecided one
    assert report["compensation"] == [{"currency": "EUR", "amount_minor": 1750, "count": 3}]

    # in the categories' order; the chat without a topic counts as "other"
    assert [(c["slug"], c["chats"], c["complaints"]) for c in report["categories"]] == [
        ("withdrawals", 2, 3), ("account_access", 1, 2), ("bonuses", 1, 2), ("other", 1, 0),
    ]
    assert report["categories"][0]["name"] == "Payments and withdrawals"
    days = {d["date"]: d for d in report["days"]}
    assert list(days) == [f"2026-11-0{i}" for i in range(1, 8)]
    assert days["2026-11-01"]["complaints"] == 2 and days["2026-11-01"]["complaints_by_category"] == {"withdrawals": 2}
    assert days["2026-11-01"]["chats"] == 2 and days["2026-11-01"]["chats_by_category"] == {"withdrawals": 1, "other": 1}
    assert days["2026-11-04"] == {"date": "2026-11-04", "chats": 0, "complaints": 0, "chats_by_category": {}, "complaints_by_category": {}}
    assert [d["complaints"] for d in report["days"]] == [2, 1, 1, 0, 1, 1, 1]
    assert [d["chats"] for d in report["days"]] == [2, 1, 1, 0, 0, 0, 1]


async def test_satisfaction_says_whose_ratings(services, people, week):
    csat = (await services.reports.summary(people["sam"], WEEK, Filters()))["csat"]
    # chat ratings: 5 (bob, withdrawals), 3 (carol, no topic), 4 (carol, account access)
    assert csat["chats"]["overall"] == {"ratings": 3, "average": 4.0, "satisfied_percent": 66.7}
    assert [(a["name"], a["ratings"], a["average"], a["satisfied_percent"]) for a in csat["chats"]["by_agent"]] == [
        ("Bob", 1, 5.0, 100.0), ("Carol", 2, 3.5, 50.0),
    ]
    assert [(c["slug"], c["average"]) for c in csat["chats"]["by_category"]] == [("withdrawals", 5.0), ("account_access", 4.0), ("other", 3.0)]
    # complaint ratings: 5 (C1 bob), 2 (C2 sam), 4 (C7 carol)
    assert csat["complaints"]["overall"] == {"ratings": 3, "average": 3.67, "satisfied_percent": 66.7}
    assert [(a["name"], a["average"]) for a in csat["complaints"]["by_agent"]] == [("Bob", 5.0), ("Carol", 4.0), ("Sam", 2.0)]
    assert [(c["slug"], c["ratings"], c["average"], c["satisfied_percent"]) for c in csat["complaints"]["by_category"]] == [
        ("withdrawals", 2, 3.5, 50.0), ("account_access", 1, 4.0, 100.0),
    ]


async def test_filters(services, people, week):
    summary = services.reports.summary
    sam = people["sam"]
    withdrawals = await summary(sam, WEEK, Filters(category="withdrawals"))
    assert withdrawals["complaints"]["total"] == 3 and withdrawals["chats"]["total"] == 2  # C1 C2 C6; two chats
    assert [c["slug"] for c in withdrawals["categories"]] == ["withdrawals"]
    assert withdrawals["compensation"] == [{"currency": "EUR", "amount_minor": 1750, "count": 3}]
    other = await summary(sam, WEEK, Filters(category="other"))
    assert other["chats"]["total"] == 1 and other["complaints"]["total"] == 0  # the chat without a topic

    bob = await summary(sam, WEEK, Filters(agent=people["bob"].id))
    assert bob["complaints"]["total"] == 2 and bob["chats"]["total"] == 2  # C1 C4 assigned; two chats answered
    assert bob["chats"]["first_response"]["median_seconds"] == 20.0  # 10 and 30 s
    assert bob["compensation"] == [{"currency": "EUR", "amount_minor": 1000, "count": 1}]

    level2 = await summary(sam, WEEK, Filters(level=2))
    assert level2["complaints"]["total"] == 1 and level2["compensation"] == [{"currency": "EUR", "amount_minor": 500, "count": 1}]
    assert level2["chats"]["total"] == 5  # chats have no level: the filter leaves them alone

    forms = await summary(sam, WEEK, Filters(channel="web_form"))
    assert forms["complaints"]["total"] == 3  # C2 C5 C7
    assert forms["complaints"]["sla"]["first_response"] == {"met": 1, "missed": 1, "pending": 1, "percent": 50.0}
    assert forms["days"][6]["complaints_by_category"] == {"bonuses": 1}


async def test_one_day_and_the_period_edges(services, people, week):
    first_day = await services.reports.summary(people["sam"], Period(date(2026, 11, 1), date(2026, 11, 1)), Filters())
    assert first_day["complaints"]["total"] == 2 and first_day["chats"]["total"] == 2
    last_day = await services.reports.summary(people["sam"], Period(date(2026, 11, 8), date(2026, 11, 8)), Filters())
    assert last_day["complaints"]["total"] == 1  # the one at 11-08 00:00 belongs to the 8th
    assert last_day["complaints"]["sla"]["first_response"]["met"] == 1


async def test_a_report_read_while_complaints_arrive_adds_up(services, people):
    """Its total, its days and its categories count the same complaints, however busy the desk."""
    h = History(services.db, BASE)
    arriving = True

    async def arrive() -> None:
        n = 0
        while arriving:
            await h.complaint(1 + n / 1000, category="withdrawals" if n % 2 else "bonuses")
            n += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(arrive())
    try:
        for _ in range(20):
            report = await services.reports.summary(people["sam"], Period(date(2026, 11, 1), date(2026, 11, 1)), Filters())
            total = report["complaints"]["total"]
            assert sum(d["complaints"] for d in report["days"]) == total
            assert sum(c["complaints"] for c in report["categories"]) == total
            assert report["complaints"]["sla"]["first_response"]["missed"] == total  # none answered, all due by now
            await asyncio.sleep(0)
    finally:
        arriving = False
        await task


async def test_a_complaint_just_filed_is_in_the_console_list_while_reports_are_read(services, people):
    """Reports keep their reads together without holding the complaint list to the moment they began."""
    h = History(services.db, BASE)
    reading = True

    async def read_reports() -> None:
        while reading:
            await services.reports.summary(people["sam"], Period(date(2026, 11, 1), date(2026, 11, 1)), Filters())

    task = asyncio.create_task(read_reports())
    try:
        for n in range(30):
            complaint_id = await h.complaint(1 + n / 1000, category="withdrawals")
            listed = await services.complaints.list(people["sam"], sort="newest", limit=1)
            assert [c["id"] for c in listed["complaints"]] == [complaint_id], n
            await asyncio.sleep(0)
    finally:
        reading = False
        await task


async def test_only_supervisors_and_admins_read_reports(services, people, week):
    with pytest.raises(Forbidden):
        await services.reports.summary(people["bob"], WEEK, Filters())
    with pytest.raises(Forbidden):
        await services.reports.export(people["carol"], "complaints", WEEK, Filters())
    assert (await services.reports.summary(people["ada"], WEEK, Filters()))["complaints"]["total"] == 7


async def test_unknown_filters_are_invalid(services, people, week):
    with pytest.raises(Invalid, match="unknown category"):
        await services.reports.summary(people["sam"], WEEK, Filters(category="nope"))
    with pytest.raises(Invalid, match="unknown agent"):
        await services.reports.summary(people["sam"], WEEK, Filters(agent="u_nobody"))


async def test_the_service_decides_the_presets_from_its_clock(services):
    assert services.reports.period("today", None, None) == Period(date(2026, 11, 8), date(2026, 11, 8), "today")
    assert services.reports.period(None, "2026-11-01", "2026-11-07") == Period(date(2026, 11, 1), date(2026, 11, 7), "custom")
    with pytest.raises(Invalid):
        services.reports.period(None, "2026-11-07", "2026-11-01")


async def test_exports_page_through_everything_in_order(services, people, week, monkeypatch):
    monkeypatch.setattr(report_module, "EXPORT_PAGE", 2)  # four pages for seven complaints
    export = await services.reports.export(people["sam"], "complaints", WEEK, Filters())
    assert export.filename == "complaints-2026-11-01-to-2026-11-07.csv"
    pages = [page async for page in export.pages]
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    rows = [dict(zip(export.columns, row)) for page in pages for row in page]
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)
    assert len({r["reference"] for r in rows}) == 7
    assert rows[0]["assignee"] == "Bob" and rows[1]["assignee"] == "Sam" and rows[-1]["assignee"] == ""

    chats = await services.reports.export(people["sam"], "chats", WEEK, Filters(agent=people["carol"].id))
    records = [dict(zip(chats.columns, row)) for page in [p async for p in chats.pages] for row in page]
    assert [(r["category"], r["topic"], r["first_response_seconds"], r["rating"], r["agent"]) for r in records] == [
        ("other", None, 90, 3, "Carol"), ("account_access", "account_access", 45, 4, "Carol"),
    ]


async def test_the_report_reads_what_the_services_write(services, people, tmp_path):
    """Escalation, reopening, answers and ratings as the complaint service records them."""
    clock = services.complaints.clock
    clock.now = BASE + timedelta(hours=9)
    bob, sam = people["bob"], people["sam"]
    logged = await services.complaints.log(bob, category="withdrawals", subject="Payout missing", body="W-77", channel="phone")
    reference = logged["reference"]
    clock.now += timedelta(hours=2)
    await services.complaints.reply(bob, reference, "We are checking with the bank.")
    clock.now += timedelta(hours=3)
    await services.complaints.resolve(bob, reference, "The payout was sent again.")
    clock.now += timedelta(hours=1)
    key = services.complaints.tracking_key(reference)
    await services.complaints.track_act(reference, key, body="Still nothing", decision="clarify")
    clock.now += timedelta(hours=1)
    await services.complaints.escalate(bob, reference, "Needs the payments lead")
    clock.now += timedelta(hours=5)
    await services.complaints.resolve(sam, reference, "Refunded.")
    await services.complaints.track_act(reference, key, body=None, decision="accept")
    await services.complaints.track_rate(reference, key, 4, None)
    clock.now = NOW

    report = await services.reports.summary(sam, WEEK, Filters())
    cx = report["complaints"]
    assert cx["total"] == 1
    assert cx["first_response"]["median_seconds"] == 2 * 3600
    assert cx["resolution"]["median_seconds"] == 12 * 3600  # the second resolution, 12 h after creation
    assert cx["escalated"] == {"count": 1, "of": 1, "percent": 100.0}
    assert cx["reopened"] == {"count": 1, "of": 1, "percent": 100.0}
    assert cx["sla"]["first_response"]["met"] == 1 and cx["sla"]["resolution"]["met"] == 1
    assert report["csat"]["complaints"]["by_agent"] == [
        {"id": sam.id, "name": "Sam", "ratings": 1, "average": 4.0, "satisfied_percent": 100.0}
    ]  # escalation took it from bob; Sam resolved it at level 2 without picking it up first, so it is his


async def test_recurring_problems_flag_a_category_well_above_its_usual_week(services, people):
    h = History(services.db, BASE - timedelta(days=56))  # week 8 before this one starts here
    # eight weeks before: technical 2 a week, withdrawals 10 ± 1; this week (the 7 days to 11-08 00:00)
    # technical 9 (over 2 + 2·√2 = 4.83), withdrawals 13 (under 10 + 2·√10 = 16.32)
    for week_index in range(8):
        start = week_index * 7 * 24
        for i in range(2):
            await h.complaint(start + i, category="technical")  # the first at the very edge: 8 whole weeks
        for i in range(10 + (1 if week_index % 2 else -1)):
            await h.complaint(start + 20 + i, category="withdrawals")
    for i in range(9):
        await h.complaint(8 * 7 * 24 + 30 + i, category="technical")
    for i in range(13):
        await h.complaint(8 * 7 * 24 + 40 + i, category="withdrawals")
    recurring = (await services.reports.summary(people["sam"], WEEK, Filters()))["recurring"]
    assert recurring["week"] == {"start": "2026-11-01T00:00:00.000Z", "end": "2026-11-08T00:00:00.000Z"}
    assert recurring["history_weeks"] == 8
    found = {r["slug"]: r for r in recurring["categories"]}
    assert found["technical"] == {
        "slug": "technical", "name": "Technical faults and bugs", "this_week": 9, "previous": [2] * 8,
        "mean": 2.0, "sd": 0.0, "threshold": 4.83, "flagged": True,
    }
    assert found["withdrawals"]["this_week"] == 13 and found["withdrawals"]["previous"] == [11, 9] * 4
    assert found["withdrawals"]["mean"] == 10.0 and found["withdrawals"]["sd"] == 1.07 and not found["withdrawals"]["flagged"]
    assert recurring["categories"][0]["slug"] == "technical"  # flagged ones first
    assert set(found) == {"technical", "withdrawals"}  # categories with no complaints at all are left out

    # a report on an earlier period looks at the week up to its own end
    earlier = await services.reports.summary(people["sam"], Period(date(2026, 10, 1), date(2026, 10, 31)), Filters())
    assert earlier["recurring"]["week"]["end"] == "2026-11-01T00:00:00.000Z"
    assert not any(r["flagged"] for r in earlier["recurring"]["categories"])


async def test_too_little_history_flags_nothing(services, people, week):
    recurring = (await services.reports.summary(people["sam"], WEEK, Filters()))["recurring"]
    assert recurring["history_weeks"] == 0  # the first complaint ever is 10-31
    assert not any(r["flagged"] for r in recurring["categories"])
    assert recurring["rule"] == {"weeks": 8, "sd_factor": 2.0, "min_count": 5, "min_rise": 1.25, "min_history_weeks": 4}
