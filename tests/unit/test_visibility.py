"""Who sees complaint changes: every console; the customer only public ones, without staff internals."""

import json

import pytest

from chatserver.services import events as ev
from chatserver.services.events import Event
from chatserver.transport.visibility import AGENT_NS, ALL_AGENTS, CUSTOMER_NS, customer_room, emits_for

NOTE = "internal: customer looks like a repeat refund abuser"


def complaint_row(**overrides):
    row = {
        "id": "cp_1", "reference": "C-2026-000007", "status": "in_progress", "category": "withdrawals",
        "subject": "Withdrawal pending", "body": "Pending for a week", "level": 1, "source": "form",
        "channel": "web_form", "conversation_id": None, "customer_id": "cu_alice", "customer_name": "Alice",
        "email": "alice@example.test", "locale": "en", "owner_group": "payments", "assignee_id": "u_bob",
        "assignee_name": "Bob", "created_at": "2026-03-02T09:00:00Z", "first_response_due": "2026-03-03T09:00:00Z",
        "response_due": None, "resolution_due": "2026-03-04T09:00:00Z", "first_response_at": "2026-03-02T10:00:00Z",
        "resolved_at": None, "closed_at": None, "updated_at": "2026-03-02T10:00:00Z",
        "last_public_at": "2026-03-02T10:00:00Z", "rating": None, "rating_comment": None, "rated_at": None,
    }
    row.update(overrides)
    return row


def entry(kind, body):
    return {"id": "ce_1", "complaint_id": "cp_1", "seq": 3, "kind": kind, "author": "Bob", "author_id": "u_bob",
            "body": body, "created_at": "2026-03-02T10:00:00Z"}


def updated(*, public, entry_row=None, customer_id="cu_alice", action="reply"):
    return Event(ev.COMPLAINT_UPDATED, {
        "complaint": complaint_row(customer_id=customer_id), "customer_id": customer_id, "action": action,
        "entry": entry_row, "public": public, "compensation": None,
    })


def test_a_public_change_reaches_every_console_and_the_complaints_own_customer():
    emits = emits_for(updated(public=True, entry_row=entry("reply", "We are on it")))
    assert [(e.namespace, e.room, e.event) for e in emits] == [
        (AGENT_NS, ALL_AGENTS, "complaint:updated"),
        (CUSTOMER_NS, customer_room("cu_alice"), "complaint:updated"),
    ]
    staff, customer = emits[0].payload["complaint"], emits[1].payload["complaint"]
    assert staff["assignee"] == {"id": "u_bob", "name": "Bob"} and staff["owner_group"] == "payments"
    assert customer["reference"] == "C-2026-000007" and customer["status"] == "in_progress"
    # the customer view carries nothing about who works on it or how to reach other people
    for internal in ("assignee", "owner_group", "customer_id", "email", "id", "customer_name"):
        assert internal not in customer, internal


def test_an_internal_note_reaches_consoles_only():
    emits = emits_for(updated(public=False, entry_row=entry("note", NOTE), action="note"))
    assert [(e.namespace, e.room) for e in emits] == [(AGENT_NS, ALL_AGENTS)]
    assert NOTE not in json.dumps([e.payload for e in emits])  # the view itself never carries thread entries


@pytest.mark.parametrize("public", [True, False])
def test_a_complaint_without_a_widget_customer_reaches_consoles_only(public):
    emits = emits_for(updated(public=public, customer_id=None))
    assert [e.namespace for e in emits] == [AGENT_NS]


def test_a_new_complaint_appears_in_every_console_and_nowhere_else():
    event = Event(ev.COMPLAINT_CREATED, {"complaint": complaint_row(status="new", assignee_id=None), "customer_id": "cu_alice"})
    emits = emits_for(event)
    assert [(e.namespace, e.room, e.event) for e in emits] == [(AGENT_NS, ALL_AGENTS, "complaint:updated")]
    assert emits[0].payload["complaint"]["assignee"] is None


@pytest.mark.parametrize("kind", ["warning", "breach"])
def test_sla_notices_reach_staff_only(kind):
    event = Event(ev.COMPLAINT_SLA, {
        "complaint": complaint_row(level=2), "kind": kind, "target": "response", "due_at": "2026-03-03T09:00:00Z", "level": 2,
    })
    emits = emits_for(event)
    assert [(e.namespace, e.room, e.event) for e in emits] == [(AGENT_NS, ALL_AGENTS, "complaint:sla")]
    assert emits[0].payload == {
        "reference": "C-2026-000007", "kind": kind, "target": "response", "level": 2, "subject": "Withdrawal pending",
    }
