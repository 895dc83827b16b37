"""The monitor's figures as pure functions: today's counters, the queue over the day, SLA risk and
complaints per week, with `now` passed in."""

from datetime import datetime, timedelta, timezone

import pytest

from chatserver.domain import floor
from chatserver.domain.floor import ChatTimes

DAY = datetime(2026, 3, 11, tzinfo=timezone.utc)  # a Wednesday
M = timedelta(minutes=1)
H = timedelta(hours=1)


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return DAY + timedelta(hours=hours, minutes=minutes)


def chat(created, *, assigned=None, first_response=None, closed=None, status=None, outcome=None, rating=None, taken=None):
    """A chat that waited from `created` until an agent took it (`taken`, else `assigned`): `assigned`
    is when its current agent got it, later than `taken` after a transfer."""
    if status is None:
        status = "closed" if closed else ("active" if assigned else "queued")
    return ChatTimes(created, created, assigned, taken or assigned, first_response, closed, status, outcome, rating)


def test_day_start_is_midnight_utc_of_now():
    assert floor.day_start(datetime(2026, 3, 11, 23, 59, tzinfo=timezone.utc)) == DAY
    # 00:30 in Warsaw is still the 10th in UTC
    warsaw = timezone(timedelta(hours=1))
    assert floor.day_start(datetime(2026, 3, 11, 0, 30, tzinfo=warsaw)) == DAY - timedelta(days=1)


def test_today_counters_from_rows():
    chats = [
        # answered after 2 minutes' wait, first reply 3 minutes after the start, rated 5
        chat(at(9), assigned=at(9, 2), first_response=at(9, 3), closed=at(9, 20), outcome="resolved", rating=5),
        # answered after 4 minutes, rated 2
        chat(at(10), assigned=at(10, 4), first_response=at(10, 5), closed=at(10, 30), outcome="resolved", rating=2),
        # the customer left the queue
        chat(at(11), closed=at(11, 1), outcome="abandoned"),
        # nobody took it in time: a complaint
        chat(at(12), closed=at(12, 10), outcome="complaint"),
        # still waiting, and one with an agent who has not written yet
        chat(at(13)),
        chat(at(13, 5), assigned=at(13, 6)),
        # yesterday's chat is not today's
        chat(at(-2), assigned=at(-2, 1), first_response=at(-2, 2), closed=at(-1), outcome="resolved", rating=5),
    ]
    counters = floor.today_counters(chats, DAY, complaints_created=3)
    assert counters == {
        "chats_started": 6,
        "answered": 2,
        "abandoned": 1,
        "unanswered": 1,
        "avg_wait_seconds": round((120 + 240 + 60) / 3, 1),
        "avg_first_response_seconds": 240.0,
        "complaints_created": 3,
        "ratings": 2,
        "csat_share": 0.5,
        "csat_average": 3.5,
    }


def test_counters_of_an_empty_day_have_no_averages():
    counters = floor.today_counters([], DAY, complaints_created=0)
    assert counters["chats_started"] == 0
    assert counters["avg_wait_seconds"] is None and counters["csat_share"] is None and counters["csat_average"] is None


def test_queue_timeline_weights_each_bucket_by_time_waited():
    chats = [
        chat(at(0, 5), assigned=at(0, 20)),  # waits 00:05-00:20: 10 min in the first bucket, 5 in the second
        chat(at(0, 10), assigned=at(0, 14)),  # waits 4 min in the first
        chat(at(0, 25)),  # still waiting at now
    ]
    timeline = floor.queue_timeline(chats, DAY, at(0, 40))
    assert [b["start"] for b in timeline] == ["2026-03-11T00:00:00.000Z", "2026-03-11T00:15:00.000Z", "2026-03-11T00:30:00.000Z"]
    first, second, third = timeline
    assert first["queue_avg"] == round((10 + 4) / 15, 2) and first["queue_peak"] == 2
    assert first["wait_avg_seconds"] == 240.0 and first["wait_max_seconds"] == 240.0  # only the 4-minute wait ended here
    # one left at 00:20 before the next came at 00:25: never two at once
    assert second["queue_avg"] == round((5 + 5) / 15, 2) and second["queue_peak"] == 1
    assert second["wait_avg_seconds"] == 900.0
    # the last bucket is 10 minutes old: the waiting chat filled all of it; its wait has not ended
    assert third["queue_avg"] == 1.0 and third["queue_peak"] == 1 and third["wait_avg_seconds"] is None


def test_queue_timeline_counts_a_chat_waiting_since_before_midnight():
    timeline = floor.queue_timeline([chat(at(-0.5), assigned=at(0, 10))], DAY, at(0, 20))
    assert timeline[0]["queue_avg"] == round(10 / 15, 2) and timeline[0]["queue_peak"] == 1
    assert timeline[0]["wait_max_seconds"] == 40 * 60


def test_queue_peak_carries_into_buckets_without_changes():
    timeline = floor.queue_timeline([chat(at(0, 1), assigned=at(1, 1))], DAY, at(1, 10))
    assert [b["queue_peak"] for b in timeline] == [1, 1, 1, 1, 1]
    assert [b["queue_avg"] for b in timeline][1:4] == [1.0, 1.0, 1.0]


def test_back_to_back_waits_do_not_count_as_two_at_once():
    chats = [chat(at(0, 1), assigned=at(0, 5)), chat(at(0, 5), assigned=at(0, 9))]
    assert floor.queue_timeline(chats, DAY, at(0, 10))[0]["queue_peak"] == 1


WARN = 2 * H


@pytest.mark.parametrize(
    "status, response_in, resolution_in, expected",
    [
        ("new", 5, 30, None),
        ("new", 2, 30, "at_risk"),  # exactly at the warning lead
        ("in_progress", 0.5, 30, "at_risk"),
        ("new", 0, 30, "breached"),  # due now is due
        ("new", -3, 30, "breached"),
        ("in_progress", None, 1, "at_risk"),  # no answer owed; the resolution is near
        ("awaiting_customer", None, -1, None),  # the customer has the turn: the clocks stand still
        ("reopened", None, -1, "breached"),
        ("resolved", -10, -5, None),  # settled complaints owe nothing
        ("closed", None, -5, None),
    ],
)
def test_sla_risk(status, response_in, resolution_in, expected):
    now = at(12)
    due = lambda hours: None if hours is None else now + timedelta(hours=hours)  # noqa: E731
    assert floor.sla_risk(status, due(response_in), due(resolution_in), now, WARN) == expected


def test_risk_by_level_counts_each_complaint_once():
    now = at(12)
    rows = [
        {"level": 1, "status": "new", "response_due": "2026-03-11T13:00:00Z", "resolution_due": "2026-03-12T12:00:00Z"},
        {"level": 1, "status": "new", "response_due": "2026-03-11T11:00:00Z", "resolution_due": "2026-03-11T11:30:00Z"},
        {"level": 2, "status": "in_progress", "response_due": None, "resolution_due": "2026-03-11T10:00:00Z"},
        {"level": 3, "status": "resolved", "response_due": None, "resolution_due": "2026-03-11T10:00:00Z"},
    ]
    assert floor.risk_by_level(rows, now, WARN) == {
        "1": {"at_risk": 1, "breached": 1},
        "2": {"at_risk": 0, "breached": 1},
        "3": {"at_risk": 0, "breached": 0},
    }


def test_weekly_by_category_groups_days_into_monday_weeks():
    now = at(15)  # Wednesday 11 March; this week began Monday 9 March
    counts = [
        ("withdrawals", "2026-03-09", 2),
        ("withdrawals", "2026-03-11", 1),
        ("withdrawals", "2026-03-08", 4),  # Sunday: the week before
        ("technical", "2026-01-19", 3),  # the first of the eight weeks
        ("technical", "2026-01-18", 9),  # older: left out
    ]
    weekly = floor.weekly_by_category(counts, now)
    assert weekly["weeks"][0] == "2026-01-19" and weekly["weeks"][-1] == "2026-03-09" and len(weekly["weeks"]) == 8
    assert weekly["series"]["withdrawals"] == [0, 0, 0, 0, 0, 0, 4, 3]
    assert weekly["series"]["technical"] == [3, 0, 0, 0, 0, 0, 0, 0]


def test_idle_time_runs_from_the_later_of_assignment_and_message():
    assert floor.idle_since(at(9), at(10)) == at(10)
    assert floor.idle_since(at(11), at(10)) == at(11)
    assert floor.idle_since(None, None) is None
    assert floor.seconds_between(at(10), at(10, 5)) == 300
    assert floor.seconds_between(None, at(10)) is None
    assert floor.seconds_between(at(10, 1), at(10)) == 0  # a clock step back never shows negative time


def test_a_chat_transferred_after_its_wait_waited_only_until_it_was_first_taken():
    # taken at 09:01, transferred to a colleague at 09:30: one minute in the queue, not half an hour
    transferred = chat(at(9), taken=at(9, 1), assigned=at(9, 30), first_response=at(9, 2))
    assert floor.today_counters([transferred], DAY, complaints_created=0)["avg_wait_seconds"] == 60.0
    first, second, *_ = floor.queue_timeline([transferred], at(9), at(9, 40))
    assert (first["queue_avg"], first["wait_avg_seconds"]) == (round(1 / 15, 2), 60.0)
    assert (second["queue_avg"], second["queue_peak"]) == (0, 0)
