"""Complaint references and SLA due times."""

from datetime import datetime, timezone

import pytest

from chatserver.domain import complaints as rules
from chatserver.domain.complaints import category_for_topic, due_times, format_reference

T = datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "year, number, reference",
    [(2026, 1, "C-2026-000001"), (2026, 123, "C-2026-000123"), (2027, 999999, "C-2027-999999")],
)
def test_reference_format(year, number, reference):
    assert format_reference(year, number) == reference


@pytest.mark.parametrize(
    "first_hours, resolution_hours, first_due, resolution_due",
    [
        (24, 48, "2026-11-24T23:30:00+00:00", "2026-11-25T23:30:00+00:00"),
        (24, 24, "2026-11-24T23:30:00+00:00", "2026-11-24T23:30:00+00:00"),
        (1.5, 36, "2026-11-24T01:00:00+00:00", "2026-11-25T11:30:00+00:00"),
    ],
)
def test_due_times_are_absolute_utc(first_hours, resolution_hours, first_due, resolution_due):
    due = due_times(T, first_hours, resolution_hours)
    assert due.first_response_due.isoformat() == first_due
    assert due.resolution_due.isoformat() == resolution_due


@pytest.mark.parametrize(
    "topic, category",
    [("withdrawals", "withdrawals"), (None, "other"), ("made-up", "other")],
)
def test_category_for_topic(topic, category):
    assert category_for_topic(topic, {"withdrawals", "other"}) == category


def test_an_address_gets_five_acknowledgements_a_day_from_customers_and_twenty_from_staff():
    assert [rules.acknowledgement_allowed("form", n) for n in range(7)] == [True] * 5 + [False] * 2
    assert not rules.acknowledgement_allowed("chat_not_solved", 5)
    assert [rules.acknowledgement_allowed("agent_logged", n) for n in (5, 19, 20, 500)] == [True, True, False, False]
    assert rules.ACKNOWLEDGEMENT_WINDOW.total_seconds() == 24 * 3600
