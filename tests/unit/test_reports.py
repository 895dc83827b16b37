"""Report arithmetic (domain/reports.py): periods, percentiles, SLA outcomes, rates, satisfaction and the
recurring-problem flag. Pure: no database, no event loop."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import pytest

from chatserver.domain import reports as rules
from chatserver.domain.errors import Invalid
from chatserver.domain.reports import Filters, Period

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=timezone.utc)
TODAY = NOW.date()


# -- periods ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "preset, first, last",
    [
        ("today", date(2026, 11, 23), date(2026, 11, 23)),
        ("7d", date(2026, 11, 17), date(2026, 11, 23)),
        ("30d", date(2026, 10, 25), date(2026, 11, 23)),
        ("month", date(2026, 11, 1), date(2026, 11, 23)),
        (None, date(2026, 10, 25), date(2026, 11, 23)),  # nothing given: the last 30 days
    ],
)
def test_presets_count_back_from_today_included(preset, first, last):
    period = rules.period_for(preset, TODAY)
    assert (period.first, period.last) == (first, last)
    assert period.days == (last - first).days + 1


def test_a_period_is_whole_utc_days_with_an_exclusive_end():
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert period.start == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert period.end == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert period.days == 30 and period.dates()[0] == date(2026, 11, 1) and period.dates()[-1] == date(2026, 11, 30)


def test_dates_without_a_preset_are_custom_and_one_date_is_one_day():
    assert rules.period_for(None, TODAY, date(2026, 1, 5), date(2026, 1, 9)) == Period(date(2026, 1, 5), date(2026, 1, 9), "custom")
    assert rules.period_for("custom", TODAY, date(2026, 1, 5), None) == Period(date(2026, 1, 5), date(2026, 1, 5), "custom")
    # a preset wins over stale dates
    assert rules.period_for("today", TODAY, date(2026, 1, 5), date(2026, 1, 9)).first == TODAY


@pytest.mark.parametrize(
    "preset, first, last, message",
    [
        ("custom", None, None, "give from and to"),
        ("custom", date(2026, 2, 1), date(2026, 1, 1), "before from"),
        (None, date(2024, 1, 1), date(2026, 1, 1), "at most 366 days"),
        ("yesterday", None, None, "preset must be one of"),
    ],
)
def test_bad_periods_are_refused(preset, first, last, message):
    with pytest.raises(Invalid, match=message):
        rules.period_for(preset, TODAY, first, last)


def test_a_leap_year_fits_and_a_day_more_does_not():
    assert rules.check_period(date(2024, 1, 1), date(2024, 12, 31)).days == 366
    with pytest.raises(Invalid):
        rules.check_period(date(2024, 1, 1), date(2025, 1, 1))


@pytest.mark.parametrize("text", ["2026-13-01", "2026-11-31", "yesterday", "2026-1-1", "20261101", "2026-11-01T00:00"])
def test_day_parsing_is_strict(text):
    with pytest.raises(Invalid, match="from must be a date"):
        rules.parse_day(text, "from")


def test_empty_days_are_absent():
    assert rules.parse_day("", "to") is None and rules.parse_day(None, "to") is None
    assert rules.parse_day("2026-02-28", "to") == date(2026, 2, 28)


@pytest.mark.parametrize(
    "filters, message",
    [
        (Filters(category="nope"), "unknown category"),
        (Filters(agent="u_ghost"), "unknown agent"),
        (Filters(level=4), "level must be"),
        (Filters(level=True), "level must be"),  # a bool is not a level
        (Filters(channel="fax"), "channel must be"),
    ],
)
def test_filters_must_name_real_things(filters, message):
    with pytest.raises(Invalid, match=message):
        rules.check_filters(filters, ["withdrawals", "other"], ["u_bob"])


def test_good_filters_pass():
    given = Filters(category="withdrawals", agent="u_bob", level=2, channel="email")
    assert rules.check_filters(given, ["withdrawals"], ["u_bob"]) == given


# -- percentiles ----------------------------------------------------------------------------------------


def expand(pairs):
    return sorted(v for v, n in pairs for _ in range(n))


@pytest.mark.parametrize(
    "values, p, expected",
    [
        ([7], 0.5, 7),
        ([7], 0.9, 7),
        ([1, 2, 3, 4], 0.5, 2.5),  # between the two middle values
        ([1, 2, 3, 4, 5], 0.5, 3),
        ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9, 91),  # rank 8.1: 90 + 0.1 * 10
        ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.5, 55),
        ([0, 100], 0.9, 90),
        ([5, 5, 5, 9], 0.5, 5),
        ([1, 2, 3], 0.0, 1),
        ([1, 2, 3], 1.0, 3),
    ],
)
def test_percentile_interpolates_between_the_nearest_ranks(values, p, expected):
    pairs = [(v, 1) for v in values]
    assert rules.percentile(pairs, p) == pytest.approx(expected)


def test_percentile_of_counted_values_equals_percentile_of_the_values():
    pairs = [(30, 3), (60, 1), (120, 4), (600, 2)]  # 30 30 30 60 120 120 120 120 600 600
    values = expand(pairs)
    for p in (0.1, 0.25, 0.5, 0.75, 0.9):
        rank = (len(values) - 1) * p
        lo, hi = values[math.floor(rank)], values[math.ceil(rank)]
        assert rules.percentile(pairs, p) == pytest.approx(lo + (hi - lo) * (rank - math.floor(rank)))
    assert rules.percentile(pairs, 0.5) == 120  # ranks 4 and 5 are both 120
    assert rules.percentile(pairs, 0.9) == 600


def test_no_values_no_percentile():
    assert rules.percentile([], 0.5) is None
    assert rules.durations([]) == rules.Durations(0, None, None)


def test_durations_sorts_ignores_empty_groups_and_rounds_to_a_tenth():
    stats = rules.durations([(300, 1), (100, 2), (200, 0), (1000, 1)])  # 100 100 300 1000
    assert stats == rules.Durations(4, 200.0, 790.0)  # p90: rank 2.7 → 300 + 0.7 * 700
    assert rules.durations([(1, 1), (2, 1), (4, 1)]).p90 == 3.6


def test_percentile_refuses_nonsense():
    with pytest.raises(ValueError):
        rules.percentile([(1, 1)], 1.5)


# -- SLA outcomes, rates and satisfaction ---------------------------------------------------------------

DUE = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "done, now, outcome",
    [
        (DUE - timedelta(hours=3), NOW, "met"),
        (DUE, NOW, "met"),  # exactly on time is on time
        (DUE + timedelta(seconds=1), NOW, "missed"),
        (None, DUE + timedelta(minutes=1), "missed"),  # still owed after its due time
        (None, DUE, "missed"),
        (None, DUE - timedelta(minutes=1), "pending"),  # not due yet: not counted either way
    ],
)
def test_sla_outcome(done, now, outcome):
    assert rules.sla_outcome(done, DUE, now) == outcome


@pytest.mark.parametrize(
    "paused_at, outcome",
    [(DUE - timedelta(hours=1), "pending"), (DUE, "missed"), (DUE + timedelta(hours=1), "missed")],
)
def test_a_resolution_waiting_for_the_customer_is_missed_only_if_it_was_before_the_wait(paused_at, outcome):
    assert rules.sla_outcome(None, DUE, DUE + timedelta(days=3), paused_at) == outcome


@pytest.mark.parametrize(
    "met, missed, pending, percent",
    [(9, 1, 5, 90.0), (0, 0, 3, None), (2, 1, 0, 66.7), (1, 2, 0, 33.3), (0, 4, 0, 0.0)],
)
def test_compliance_leaves_pending_out(met, missed, pending, percent):
    assert rules.Compliance(met, missed, pending).percent == percent


@pytest.mark.parametrize("part, whole, expected", [(1, 8, 12.5), (0, 5, 0.0), (3, 3, 100.0), (0, 0, None), (1, 3, 33.3)])
def test_percent(part, whole, expected):
    assert rules.percent(part, whole) == expected


@pytest.mark.parametrize(
    "ratings, score_sum, satisfied, expected",
    [
        (0, 0, 0, rules.Satisfaction(0, None, None)),
        (4, 5 + 4 + 2 + 1, 2, rules.Satisfaction(4, 3.0, 50.0)),
        (3, 5 + 5 + 4, 3, rules.Satisfaction(3, 4.67, 100.0)),
    ],
)
def test_satisfaction(ratings, score_sum, satisfied, expected):
    assert rules.satisfaction(ratings, score_sum, satisfied) == expected


# -- recurring problems ------------------------------------------------------------------------------------


def test_week_bounds_newest_first():
    edges = rules.week_bounds(NOW, weeks=2)
    assert edges == [NOW, NOW - timedelta(days=7), NOW - timedelta(days=14), NOW - timedelta(days=21)]


def test_this_week_ends_at_the_period_end_or_now():
    assert rules.recurring_end(datetime(2026, 12, 1, tzinfo=timezone.utc), NOW) == NOW  # the period runs
    past = datetime(2026, 10, 1, tzinfo=timezone.utc)
    assert rules.recurring_end(past, NOW) == past


@pytest.mark.parametrize(
    "first_complaint, covered",
    [
        (None, 0),
        (NOW - timedelta(days=3), 0),  # only this week
        (NOW - timedelta(days=14), 1),  # exactly one whole previous week
        (NOW - timedelta(days=14) + timedelta(seconds=1), 0),
        (NOW - timedelta(days=40), 4),
        (NOW - timedelta(days=400), 8),
    ],
)
def test_history_weeks_counts_whole_weeks_since_the_first_complaint(first_complaint, covered):
    assert rules.history_weeks(NOW, first_complaint) == covered


FLAT = [10, 12, 9, 11, 10, 8, 11, 9]  # mean 10, sd 1.31: the √mean floor (3.16) decides


@pytest.mark.parametrize(
    "this_week, previous, flagged, threshold",
    [
        (17, FLAT, True, 16.32),  # mean 10 + 2 * √10
        (16, FLAT, False, 16.32),  # under the threshold
        (12, [10] * 8, False, 16.32),  # a flat history: +20% is noise, not a pattern
        (30, [2, 30, 1, 25, 3, 28, 2, 1], False, 38.44),  # a jumpy category: its own spread decides
        (4, [0] * 8, False, 0.0),  # below the minimum count
        (5, [0] * 8, True, 0.0),  # a new problem: nothing usually, five this week
        (40, [10, 10, 10], False, None),  # too little history to know what is usual
        (40, [10, 10, 10, 10], True, 16.32),
        # a busy, steady category growing a few percent: past 2 standard deviations, not a quarter above usual
        (3225, [3080, 3037, 3071, 3036, 3117, 3000, 2984, 3027], False, 3154.34),
        (3806, [3080, 3037, 3071, 3036, 3117, 3000, 2984, 3027], True, 3154.34),
    ],
)
def test_recurring_problem_table(this_week, previous, flagged, threshold):
    found = rules.recurring_problem("withdrawals", this_week, previous)
    assert found.flagged is flagged
    assert found.threshold == threshold
    assert found.previous == tuple(previous) and found.this_week == this_week


def test_the_numbers_behind_the_flag():
    found = rules.recurring_problem("technical", 60, [20, 22, 18, 25, 19, 21, 23, 20])
    assert found.mean == 21.0
    assert found.sd == 2.27  # sample standard deviation: √(36 / 7)
    assert found.threshold == pytest.approx(21 + 2 * math.sqrt(21), abs=0.01)  # √21 = 4.58 > 2.2
    assert found.flagged


def test_the_rule_can_be_tuned():
    assert not rules.recurring_problem("x", 17, FLAT, sd_factor=3.0).flagged
    assert not rules.recurring_problem("x", 17, FLAT, min_count=20).flagged
    assert rules.recurring_problem("x", 18, FLAT[:2], min_history=2).flagged  # 11 + 2 * √11 = 17.63
    assert not rules.recurring_problem("x", 17, FLAT, min_rise=2.0).flagged
