"""Who sees which event: one pure function from a service event to the emits it causes.

Rooms: `c:{customer_id}` holds a customer's tabs in /customer; `a:{user_id}` an agent's tabs in
/agent; `agents` every console. Internal notes and tracking keys never reach the wrong side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatserver.services import events as ev
from chatserver.services import presenters
from chatserver.services.events import Event

CUSTOMER_NS = "/customer"
AGENT_NS = "/agent"
MONITOR_NS = "/monitor"


@dataclass(frozen=True, slots=True)
class Emit:
    namespace: str
    room: str
    event: str
    payload: dict[str, Any]
    # the socket whose request caused this already has the result in its ack: skip it
    skip_origin: bool = False


def customer_room(customer_id: str) -> str:
    return f"c:{customer_id}"


def agent_room(user_id: str) -> str:
    return f"a:{user_id}"


ALL_AGENTS = "agents"


def _closer_for_customer(closed_by: dict[str, Any] | None) -> dict[str, Any] | None:
    """Who closed a chat, as its customer may know it: which side, and staff by the name they sign with."""
    return {"side": closed_by["side"], "name": closed_by["name"]} if closed_by else None


def _without_key(complaint: dict[str, Any] | None) -> dict[str, Any] | None:
    if complaint is None:
        return None
    return {k: v for k, v in complaint.items() if k != "tracking_key"}


def emits_for(event: Event) -> list[Emit]:
    d = event.data
    out: list[Emit] = []
    if event.name == ev.MESSAGE_POSTED:
        message = d["message"]
        if d.get("agent_id"):
            out.append(Emit(AGENT_NS, agent_room(d["agent_id"]), "message:new", presenters.message(message, for_agent=True), skip_origin=True))
        if not message["internal"]:
            out.append(Emit(CUSTOMER_NS, customer_room(d["customer_id"]), "message:new", presenters.message(message, for_agent=False), skip_origin=True))
    elif event.name == ev.TYPING:
        payload = {"conversation_id": d["conversation_id"], "typing": d["typing"], "author": d["author"]}
        if d["side"] == "customer" and d.get("agent_id"):
            out.append(Emit(AGENT_NS, agent_room(d["agent_id"]), "typing", payload))
        elif d["side"] == "agent":
            out.append(Emit(CUSTOMER_NS, customer_room(d["customer_id"]), "typing", payload))
    elif event.name == ev.CONVERSATION_ASSIGNED:
        conversation = d["conversation"]
        agent = d["agent"]
        public = presenters.conversation(conversation, agent["name"])
        out.append(
            Emit(
                AGENT_NS,
                agent_room(agent["id"]),
                "chat:assigned",
                {
                    # a chat a supervisor hands over may be one whose customer has left
                    "conversation": dict(public, customer_away_since=d.get("customer_away_since")),
                    "customer": presenters.customer(d["customer"]),
                    "messages": [presenters.message(m, for_agent=True) for m in d["messages"]],
                    "more": d["more"],
                },
            )
        )
        out.append(
            Emit(
                CUSTOMER_NS,
                customer_room(conversation["customer_id"]),
                "chat:assigned",
                {"conversation_id": conversation["id"], "agent": {"name": agent["name"]}},
            )
        )
    elif event.name == ev.CONVERSATION_UNASSIGNED:
        if d.get("agent_id"):
            out.append(
                Emit(AGENT_NS, agent_room(d["agent_id"]), "chat:unassigned", {"conversation_id": d["conversation_id"], "reason": d["reason"]})
            )
        if d.get("message"):
            room = customer_room(d["customer_id"])
            out.append(Emit(CUSTOMER_NS, room, "message:new", presenters.message(d["message"], for_agent=False)))
            out.append(Emit(CUSTOMER_NS, room, "chat:requeued", {"conversation_id": d["conversation_id"], "reason": d["reason"]}))
    elif event.name == ev.QUEUE_POSITIONS:
        for update in d["updates"]:
            out.append(
                Emit(
                    CUSTOMER_NS,
                    customer_room(update["customer_id"]),
                    "queue:update",
                    {k: update[k] for k in ("conversation_id", "position", "eta_seconds", "deadline_at")},
                )
            )
    elif event.name == ev.CONVERSATION_CLOSED:
        conversation = d["conversation"]
        complaint = d.get("complaint")
        out.append(
            Emit(
                CUSTOMER_NS,
                customer_room(d["customer_id"]),
                "chat:closed",
                {
                    "conversation_id": conversation["id"],
                    "outcome": conversation["outcome"],
                    "complaint_reference": conversation["complaint_reference"],
                    "complaint": complaint,
                    "closed_by": _closer_for_customer(d.get("closed_by")),
                },
            )
        )
        if d.get("agent_id"):
            out.append(
                Emit(
                    AGENT_NS,
                    agent_room(d["agent_id"]),
                    "chat:updated",
                    dict(conversation, complaint=_without_key(complaint), closed_by=d.get("closed_by")),
                )
            )
    elif event.name == ev.CUSTOMER_PRESENCE:
        if d.get("agent_id"):
            payload = {"conversation_id": d["conversation_id"], "away_since": d["away_since"]}
            out.append(Emit(AGENT_NS, agent_room(d["agent_id"]), "chat:customer", payload))
    elif event.name == ev.AGENT_CHANGED:
        agent = d["agent"]
        out.append(Emit(AGENT_NS, agent_room(agent["id"]), "agent:updated", agent))
    elif event.name in (ev.COMPLAINT_CREATED, ev.COMPLAINT_UPDATED):
        out.extend(_complaint_changed(event))
    elif event.name == ev.COMPLAINT_SLA:
        complaint = d["complaint"]
        notice = {"reference": complaint["reference"], "kind": d["kind"], "target": d["target"], "level": d["level"]}
        out.append(Emit(AGENT_NS, ALL_AGENTS, "complaint:sla", dict(notice, subject=complaint["subject"])))
    return out


def _complaint_changed(event: Event) -> list[Emit]:
    """Every console sees every change (reading complaints is open to all staff); the complaint's own
    customer sees public changes only, in the customer view, which has no notes, owners or assignee."""
    d = event.data
    complaint = d["complaint"]
    out = [Emit(AGENT_NS, ALL_AGENTS, "complaint:updated", {"complaint": presenters.complaint_staff(complaint)})]
    if event.name == ev.COMPLAINT_UPDATED and d.get("public") is True and d.get("customer_id"):
        view = presenters.complaint_customer(complaint)
        out.append(Emit(CUSTOMER_NS, customer_room(d["customer_id"]), "complaint:updated", {"complaint": view}))
    return out
