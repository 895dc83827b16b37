"""Routing decisions as tables: who is eligible, who wins and why, in what order the queue drains."""

from datetime import datetime, timedelta, timezone

import pytest

from chatserver.domain.models import AgentState, QueueEntry
from chatserver.domain.routing import PRIORITY_NORMAL, PRIORITY_RETURNED, choose_agent, ineligibility, order_queue

T0 = datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc)


def agent(id, status="online", connected=True, active=0, max_chats=3, skills=(), languages=(), last=None):
    return AgentState(id, id.title(), status, connected, active, max_chats, frozenset(skills), frozenset(languages), last)


def entry(id="c1", topic=None, locale=None, priority=PRIORITY_NORMAL, at=T0):
    return QueueEntry(id, topic, locale, priority, at)


@pytest.mark.parametrize(
    "candidate, chat, reason",
    [
        (agent("bob"), entry(), None),
        (agent("bob", status="offline"), entry(), "offline"),
        (agent("bob", status="away"), entry(), "away"),
        (agent("bob", connected=False), entry(), "disconnected"),
        (agent("bob", active=3, max_chats=3), entry(), "at_capacity"),
        (agent("bob", max_chats=0), entry(), "at_capacity"),
        (agent("bob", skills={"bonuses"}), entry(topic="withdrawals"), "not_skilled_for_topic"),
        (agent("bob", skills={"withdrawals"}), entry(topic="withdrawals"), None),
        (agent("bob", skills={"withdrawals"}), entry(topic=None), None),
        (agent("bob", skills=()), entry(topic="withdrawals"), None),
    ],
)
def test_eligibility(candidate, chat, reason):
    assert ineligibility(candidate, chat) == reason


@pytest.mark.parametrize(
    "agents, chat, chosen, rule",
    [
        # least loaded wins
        ([agent("bob", active=2), agent("carol", active=1)], entry(), "carol", "least_loaded"),
        # load is relative to capacity: 2 of 4 beats 1 of 1... and 1 of 3 beats 2 of 4
        ([agent("bob", active=2, max_chats=4), agent("carol", active=1, max_chats=3)], entry(), "carol", "least_loaded"),
        # tie on load: the one who waited longest since the last assignment
        (
            [agent("bob", last=T0 - timedelta(minutes=1)), agent("carol", last=T0 - timedelta(minutes=9))],
            entry(),
            "carol",
            "least_loaded",
        ),
        # never assigned beats recently assigned
        ([agent("bob", last=T0), agent("carol")], entry(), "carol", "least_loaded"),
        # language match preferred even when more loaded
        ([agent("bob", languages={"en"}), agent("carol", active=2, languages={"ru"})], entry(locale="ru"), "carol", "language_match_least_loaded"),
        # no speaker: anyone eligible
        ([agent("bob", languages={"en"})], entry(locale="pl"), "bob", "least_loaded"),
        # skills gate before load
        ([agent("bob", skills={"bonuses"}), agent("carol", active=2)], entry(topic="withdrawals"), "carol", "least_loaded"),
        # nobody eligible
        ([agent("bob", status="away"), agent("carol", active=3)], entry(), None, "no_eligible_agent"),
        ([], entry(), None, "no_eligible_agent"),
    ],
)
def test_choose_agent(agents, chat, chosen, rule):
    decision = choose_agent(chat, agents)
    assert decision.chosen_agent_id == chosen
    assert decision.rule == rule


def test_decision_explains_every_candidate():
    agents = [
        agent("bob", active=1),
        agent("carol"),
        agent("dave", status="away"),
        agent("erin", active=3),
        agent("fay", connected=False),
        agent("gus", languages={"ru"}),
    ]
    decision = choose_agent(entry(locale="ru"), agents)
    reasons = {c.agent_id: c.reason for c in decision.candidates}
    assert reasons == {
        "bob": "language_mismatch",
        "carol": "language_mismatch",
        "dave": "away",
        "erin": "at_capacity",
        "fay": "disconnected",
        "gus": "chosen",
    }
    fay = [c for c in decision.candidates if c.agent_id == "fay"][0]
    assert fay.status == "disconnected" and not fay.eligible


def test_losing_reasons_among_eligible():
    decision = choose_agent(entry(), [agent("bob", active=1), agent("carol", last=T0), agent("dave")])
    reasons = {c.agent_id: c.reason for c in decision.candidates}
    assert reasons == {"bob": "more_loaded", "carol": "assigned_more_recently", "dave": "chosen"}


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([entry("a", at=T0 + timedelta(seconds=2)), entry("b", at=T0)], ["b", "a"]),
        ([entry("a", at=T0), entry("b", at=T0 + timedelta(seconds=5), priority=PRIORITY_RETURNED)], ["b", "a"]),
        ([entry("b", at=T0), entry("a", at=T0)], ["a", "b"]),  # same instant: stable by id
        (
            [
                entry("new", at=T0 + timedelta(minutes=3)),
                entry("returned-late", at=T0 + timedelta(minutes=2), priority=PRIORITY_RETURNED),
                entry("returned-early", at=T0 + timedelta(minutes=1), priority=PRIORITY_RETURNED),
                entry("old", at=T0),
            ],
            ["returned-early", "returned-late", "old", "new"],
        ),
    ],
)
def test_queue_order(entries, expected):
    assert [e.conversation_id for e in order_queue(entries)] == expected
