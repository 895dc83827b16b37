"""SLA rules with a fake clock: due times, warnings, breaches, escalation, re-arming, auto-close, idempotency."""

from datetime import datetime, timedelta, timezone

import pytest

from chatserver.domain import sla
from chatserver.domain.complaints import check_compensation, check_score, check_text, plausible_email
from chatserver.domain.errors import Invalid

T0 = datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
WARN = 2 * H
FIRST, RESOLUTION = 24 * H, 48 * H


def state(status="new", level=1, response=T0 + FIRST, resolution=T0 + RESOLUTION):
    return sla.SlaState(status, level, response, resolution)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.mark.parametrize(
    "now_hours, expected",
    [
        (0, []),
        (21.99, []),
        (22, [("warning", "response", 24)]),  # exactly warn_before ahead
        (23.5, [("warning", "response", 24)]),
        (24, [("breach", "response", 24)]),  # the breach replaces its own warning
        (30, [("breach", "response", 24)]),
        (46, [("breach", "response", 24), ("warning", "resolution", 48)]),
        (48, [("breach", "response", 24), ("breach", "resolution", 48)]),
        (500, [("breach", "response", 24), ("breach", "resolution", 48)]),  # down for weeks: still once each
    ],
)
def test_warnings_and_breaches_at_each_moment(now_hours, expected):
    notices = sla.sla_notices(state(), at(now_hours), WARN)
    assert [(n.kind, n.target, (n.due_at - T0) / H) for n in notices] == expected


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_settled_complaints_owe_nothing(status):
    assert sla.sla_notices(state(status), at(500), WARN) == []


@pytest.mark.parametrize("status", ["new", "in_progress", "reopened"])
def test_open_complaints_are_watched_in_every_status_the_team_has_the_turn(status):
    assert [n.kind for n in sla.sla_notices(state(status), at(24), WARN)] == ["breach"]


def test_nothing_comes_due_while_the_team_waits_for_the_customers_answer():
    assert sla.sla_notices(state("awaiting_customer"), at(500), WARN) == []


@pytest.mark.parametrize(
    "due_hours, paused_hours, now_hours, expected_hours",
    [
        (48, 10, 30, 68),  # waited 20 h: the resolution is due 20 h later
        (48, 10, 10, 48),  # answered at once
        (48, 48, 60, 48),  # asked at the very moment it fell due: that one was missed already
        (48, 50, 60, 48),  # asked after it was missed: the breach stands, none fires again
        (48, None, 60, 48),  # waiting since before the pause was recorded: nothing to add
    ],
)
def test_the_wait_for_the_customer_moves_the_resolution_out_by_as_long(due_hours, paused_hours, now_hours, expected_hours):
    paused_at = None if paused_hours is None else at(paused_hours)
    assert sla.resumed_resolution_due(at(due_hours), paused_at, at(now_hours)) == at(expected_hours)


def test_no_answer_owed_means_only_the_resolution_target_is_watched():
    notices = sla.sla_notices(state(response=None), at(47), WARN)
    assert [(n.kind, n.target) for n in notices] == [("warning", "resolution")]


def test_a_zero_warning_lead_gives_breaches_only():
    assert sla.sla_notices(state(), at(23.99), timedelta(0)) == []
    assert [n.kind for n in sla.sla_notices(state(), at(24), timedelta(0))] == ["breach"]


@pytest.mark.parametrize(
    "fired, now_hours, expected",
    [
        (set(), 24, [("breach", "response")]),
        ({("breach", "response", at(24))}, 24, []),
        ({("breach", "response", at(24))}, 30, []),
        # a warning fired for an older due time says nothing about the new one
        ({("warning", "response", at(10))}, 23, [("warning", "response")]),
        ({("warning", "response", at(24))}, 23, []),
        ({("warning", "response", at(24))}, 24, [("breach", "response")]),
        ({("breach", "response", at(24)), ("warning", "resolution", at(48))}, 47, []),
        ({("breach", "response", at(24))}, 48, [("breach", "resolution")]),
    ],
)
def test_pending_notices_skip_those_already_fired(fired, now_hours, expected):
    pending = sla.pending_notices(state(), at(now_hours), WARN, fired)
    assert [(n.kind, n.target) for n in pending] == expected


@pytest.mark.parametrize(
    "level, new_level, group, raised",
    [(1, 2, "supervisors", True), (2, 3, "management", True), (3, 3, "management", False)],
)
def test_a_breach_escalates_one_level_and_stops_at_the_top(level, new_level, group, raised):
    assert sla.escalate(level, "payments") == sla.Escalation(new_level, group, raised)


@pytest.mark.parametrize("level, group", [(1, "payments"), (2, "supervisors"), (3, "management")])
def test_owner_group_per_level(level, group):
    assert sla.owner_group(level, "payments") == group


@pytest.mark.parametrize("level, role", [(1, "agent"), (2, "supervisor"), (3, "admin")])
def test_the_role_that_owns_each_level(level, role):
    assert sla.recipients_role(level) == role


def test_initial_dues_come_from_the_category_targets():
    assert sla.initial_dues(T0, FIRST, RESOLUTION) == sla.Dues(at(24), at(48))


OWED = sla.Dues(at(24), at(48))
NONE_OWED = sla.Dues(None, at(48))


@pytest.mark.parametrize(
    "action, dues, now_hours, expected",
    [
        ("reply", OWED, 5, NONE_OWED),
        ("ask_customer", OWED, 5, NONE_OWED),
        ("resolve", OWED, 5, NONE_OWED),
        ("accept", NONE_OWED, 60, NONE_OWED),
        ("auto_close", NONE_OWED, 300, NONE_OWED),
        # the customer answers: the next answer is owed first_response_hours later
        ("customer_reply", NONE_OWED, 10, sla.Dues(at(34), at(48))),
        # but writing again never pushes back an answer already owed
        ("customer_reply", OWED, 10, OWED),
        ("customer_reply", sla.Dues(at(40), at(48)), 10, sla.Dues(at(34), at(48))),
        # clarify reopens: a fresh answer and a fresh resolution target
        ("clarify", NONE_OWED, 60, sla.Dues(at(84), at(108))),
        # a breach gives the new owners a fresh response clock; the resolution target stays
        ("breach", OWED, 24, sla.Dues(at(48), at(48))),
        ("breach", NONE_OWED, 48, sla.Dues(at(72), at(48))),
        # a manual escalation re-arms only an answer that is owed
        ("escalate", OWED, 20, sla.Dues(at(44), at(48))),
        ("escalate", NONE_OWED, 20, NONE_OWED),
        ("note", OWED, 20, OWED),
        ("assign", OWED, 20, OWED),
        ("start", OWED, 20, OWED),
        ("propose_compensation", OWED, 20, OWED),
    ],
)
def test_due_times_after_each_action(action, dues, now_hours, expected):
    assert sla.dues_after(action, dues, at(now_hours), FIRST, RESOLUTION) == expected


def test_a_night_of_missed_answers_escalates_once_per_failure_and_fires_each_due_time_once():
    """Walk a complaint through breaches with the fake clock: each due time fires once, and the two
    targets missed together at 48 h raise the level once."""
    level, since, dues, fired, log = 1, None, sla.initial_dues(T0, FIRST, RESOLUTION), set(), []
    for hour in range(0, 100):
        now = at(hour)
        for notice in sla.pending_notices(sla.SlaState("new", level, *(dues.response_due, dues.resolution_due)), now, WARN, fired):
            fired.add(notice.key)
            if notice.kind == "breach":
                if sla.breach_raises_level(notice.due_at, since):
                    level, since = sla.escalate(level, "payments").level, now
                dues = sla.dues_after("breach", dues, now, FIRST, RESOLUTION)
            log.append((hour, notice.kind, notice.target, level))
    assert log == [
        (22, "warning", "response", 1), (24, "breach", "response", 2),
        (46, "warning", "response", 2), (46, "warning", "resolution", 2),
        (48, "breach", "response", 3), (48, "breach", "resolution", 3),
        (70, "warning", "response", 3), (72, "breach", "response", 3),
        (94, "warning", "response", 3), (96, "breach", "response", 3),
    ]


@pytest.mark.parametrize(
    "due_hours, since_hours, raises",
    [
        (24, None, True),  # never escalated: the first owners missed it
        (48, 24, True),  # fell due after the level changed: the new owners missed it
        (24, 24, False),  # the other target of the breach that just raised the level
        (24, 30, False),  # already past when the level changed (found after downtime, or escalated by hand)
    ],
)
def test_a_breach_raises_the_level_only_against_the_owners_who_held_it(due_hours, since_hours, raises):
    since = None if since_hours is None else at(since_hours)
    assert sla.breach_raises_level(at(due_hours), since) is raises


@pytest.mark.parametrize(
    "status, resolved_hours, now_hours, closes",
    [
        ("resolved", 0, 7 * 24, True),
        ("resolved", 0, 7 * 24 - 0.01, False),
        ("resolved", None, 1000, False),
        ("reopened", 0, 1000, False),
        ("closed", 0, 1000, False),
    ],
)
def test_auto_close_after_the_customer_left_a_resolution_alone(status, resolved_hours, now_hours, closes):
    resolved_at = None if resolved_hours is None else at(resolved_hours)
    assert sla.should_auto_close(status, resolved_at, at(now_hours), timedelta(days=7)) is closes


@pytest.mark.parametrize(
    "paused_hours, now_hours, closes",
    [(0, 7 * 24, True), (0, 7 * 24 - 0.01, False), (None, 1000, False)],
)
def test_auto_close_after_a_question_to_the_customer_went_unanswered(paused_hours, now_hours, closes):
    paused_at = None if paused_hours is None else at(paused_hours)
    assert sla.should_auto_close("awaiting_customer", None, at(now_hours), timedelta(days=7), paused_at) is closes


@pytest.mark.parametrize("amount, currency", [(0, "EUR"), (10**9 + 1, "EUR"), (-5, "EUR"), (True, "EUR"), (1.5, "EUR"),
                                              (100, "eur"), (100, "EURO"), (100, "E1R"), (100, "")])
def test_compensation_amounts_and_currencies_are_checked(amount, currency):
    with pytest.raises(Invalid):
        check_compensation(amount, currency)


@pytest.mark.parametrize("amount, currency", [(1, "EUR"), (10**9, "PLN")])
def test_compensation_limits_are_inclusive(amount, currency):
    check_compensation(amount, currency)


@pytest.mark.parametrize("score", [0, 6, True, 2.5])
def test_scores_are_one_to_five(score):
    with pytest.raises(Invalid):
        check_score(score)


def test_texts_are_stripped_non_empty_and_limited():
    assert check_text("  hi ", "body", 5) == "hi"
    for bad in ("", "   ", None, "x" * 6):
        with pytest.raises(Invalid):
            check_text(bad, "body", 5)


@pytest.mark.parametrize(
    "address, ok",
    [("anna@example.test", True), ("a@b", False), ("a b@example.test", False), ("x@example.test\r\nBcc: y@z.test", False),
     ("a@example.test,b@example.test", False), ("", False), (None, False)],
)
def test_only_one_plain_address_is_accepted_for_mail(address, ok):
    assert plausible_email(address) is ok


@pytest.mark.parametrize(
    "last_public_hours, now_hours, closes",
    [(6 * 24, 7 * 24, False), (6 * 24, 13 * 24, True), (6 * 24, 13 * 24 - 0.01, False), (None, 7 * 24, True)],
)
def test_a_reminder_sent_while_waiting_gives_the_customer_the_whole_period_again(last_public_hours, now_hours, closes):
    last_public_at = None if last_public_hours is None else at(last_public_hours)
    assert sla.should_auto_close("awaiting_customer", None, at(now_hours), timedelta(days=7), at(0), last_public_at) is closes
