"""The complaint state machine: every (status, action) pair is either a transition or a conflict."""

import pytest

from chatserver.domain import complaint_lifecycle as lc
from chatserver.domain.errors import Conflict

N, P, A, R, C, O = "new", "in_progress", "awaiting_customer", "resolved", "closed", "reopened"

# status -> to-status per action, written out by hand from the process; "-" is refused
EXPECTED = {
    #                        new  in_progress awaiting  resolved closed reopened
    "start":                (P,   "-",        "-",      "-",     "-",   P),
    "ask_customer":         (A,   A,          "-",      "-",     "-",   A),
    "reply":                (P,   P,          A,        "-",     "-",   O),
    "customer_reply":       (N,   P,          P,        "-",     "-",   O),
    "resolve":              (R,   R,          R,        "-",     "-",   R),
    "accept":               ("-", "-",        "-",      C,       "-",   "-"),
    "clarify":              ("-", "-",        "-",      O,       "-",   "-"),
    "auto_close":           ("-", "-",        C,        C,       "-",   "-"),
    "note":                 (N,   P,          A,        R,       "-",   O),
    "escalate":             (N,   P,          A,        R,       "-",   O),
    "propose_compensation": (N,   P,          A,        R,       "-",   O),
    "decide_compensation":  (N,   P,          A,        R,       C,     O),
    "assign":               (N,   P,          A,        R,       "-",   O),
    "set_category":         (N,   P,          A,        R,       "-",   O),
}
ORDER = (N, P, A, R, C, O)
CASES = [(status, action, EXPECTED[action][i]) for action in EXPECTED for i, status in enumerate(ORDER)]


def test_the_table_covers_every_status_and_action():
    assert set(ORDER) == set(lc.STATUSES)
    assert set(EXPECTED) == set(lc.ACTIONS)
    assert len(CASES) == len(lc.STATUSES) * len(lc.ACTIONS)


@pytest.mark.parametrize("status, action, expected", CASES)
def test_every_status_and_action(status, action, expected):
    if expected == "-":
        with pytest.raises(Conflict) as refused:
            lc.next_status(status, action)
        assert refused.value.message == f"cannot {action} a complaint that is {status}"
    else:
        assert lc.next_status(status, action) == expected


def test_an_unknown_action_is_a_programming_error_not_a_conflict():
    with pytest.raises(ValueError):
        lc.next_status("new", "teleport")


@pytest.mark.parametrize(
    "role, level, allowed",
    [
        ("agent", 1, True), ("agent", 2, False), ("agent", 3, False),
        ("supervisor", 1, True), ("supervisor", 2, True), ("supervisor", 3, False),
        ("admin", 1, True), ("admin", 2, True), ("admin", 3, True),
        ("visitor", 1, False),
    ],
)
def test_who_may_act_at_which_level(role, level, allowed):
    assert lc.may_act(role, level) is allowed


@pytest.mark.parametrize("role, allowed", [("agent", False), ("supervisor", True), ("admin", True)])
def test_who_decides_compensation(role, allowed):
    assert lc.may_decide_compensation(role) is allowed


@pytest.mark.parametrize("kind, public", [("customer", True), ("reply", True), ("status", True), ("note", False), ("system", False)])
def test_notes_and_system_lines_never_reach_customers(kind, public):
    assert lc.is_public_entry(kind) is public


@pytest.mark.parametrize(
    "status, rated, refused",
    [(C, False, False), (C, True, True), (R, False, True), (N, False, True), (O, False, True)],
)
def test_a_rating_is_given_once_and_only_when_closed(status, rated, refused):
    if refused:
        with pytest.raises(Conflict):
            lc.check_rating(status, rated)
    else:
        lc.check_rating(status, rated)
