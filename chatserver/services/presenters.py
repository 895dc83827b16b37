"""Rows to the contract's public objects. Secrets (token hashes, session ids) never leave here."""

from __future__ import annotations

from typing import Any

from chatserver.store.db import Row


def message(row: Row, *, for_agent: bool) -> dict[str, Any]:
    public = {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        # customers count only what they may see: a note leaves no gap in their numbers
        "seq": row["seq"] if for_agent else row["public_seq"],
        "sender": row["sender"],
        "author": row["author"],
        "body": row["body"],
        "created_at": row["created_at"],
        "client_id": row["client_id"],
    }
    if for_agent:
        public["internal"] = bool(row["internal"])
    return public


def conversation(
    row: Row, agent_name: str | None = None, complaint_reference: str | None = None, *, for_customer: bool = False
) -> dict[str, Any]:
    agent: dict[str, Any] | None = None
    if row["agent_id"]:
        # customers learn who helps them, not the agent's internal id
        agent = {"name": agent_name} if for_customer else {"id": row["agent_id"], "name": agent_name}
    return {
        "id": row["id"],
        "status": row["status"],
        "topic": row["topic"],
        "locale": row["locale"],
        "created_at": row["created_at"],
        "agent": agent,
        "outcome": row["outcome"],
        "complaint_reference": complaint_reference,
        "last_seq": row["last_public_seq"] if for_customer else row["last_seq"],
    }


def customer(row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row["id"],
        "name": row["name"],
        "email": row["email"],
        "locale": row["locale"],
        "verified": bool(row["verified"]),
        "external_id": row["external_id"],
    }


def complaint(row: Row) -> dict[str, Any]:
    return {
        "reference": row["reference"],
        "status": row["status"],
        "category": row["category"],
        "subject": row["subject"],
        "level": row["level"],
        "created_at": row["created_at"],
        "first_response_due": row["first_response_due"],
        "resolution_due": row["resolution_due"],
        "source": row["source"],
        "channel": row["channel"],
        "conversation_id": row["conversation_id"],
    }


def _rating(row: Row) -> dict[str, Any] | None:
    if row.get("rating") is None:
        return None
    return {"score": row["rating"], "comment": row.get("rating_comment"), "rated_at": row.get("rated_at")}


def complaint_customer(row: Row) -> dict[str, Any]:
    """What the complaint's own customer sees: no owner, assignee, notes or contact internals.
    The body is theirs only when they wrote it (the form); otherwise it is the team's summary."""
    public = complaint(row)
    public.update(
        {
            "body": row["body"] if row["source"] == "form" else None,
            "response_due": row.get("response_due"),
            "updated_at": row.get("updated_at") or row["created_at"],
            "resolved_at": row.get("resolved_at"),
            "closed_at": row.get("closed_at"),
            "rating": _rating(row),
        }
    )
    return public


def complaint_staff(row: Row) -> dict[str, Any]:
    """Everything the console needs about one complaint (`assignee_name` comes from a join when present)."""
    public = complaint(row)
    due_times = [d for d in (row.get("response_due"), row["resolution_due"]) if d]
    settled = row["status"] in ("resolved", "closed")
    waiting = row["status"] == "awaiting_customer"  # nothing comes due while the customer has the turn
    public.update(
        {
            "id": row["id"],
            "body": row["body"],
            "owner_group": row.get("owner_group"),
            "assignee": {"id": row["assignee_id"], "name": row.get("assignee_name")} if row.get("assignee_id") else None,
            "customer_id": row["customer_id"],
            "customer_name": row.get("customer_name"),
            "email": row["email"],
            "locale": row.get("locale"),
            "response_due": row.get("response_due"),
            # the soonest time something is owed; None once nothing is, or while the customer has the turn
            "due_at": None if settled or waiting or not due_times else min(due_times),
            "first_response_at": row["first_response_at"],
            "resolved_at": row["resolved_at"],
            "closed_at": row.get("closed_at"),
            "updated_at": row.get("updated_at") or row["created_at"],
            "last_public_at": row.get("last_public_at"),
            "rating": _rating(row),
        }
    )
    return public


def complaint_entry(row: Row, *, for_customer: bool) -> dict[str, Any]:
    """One thread entry. Customers get no seq (gaps would hint at notes) and no staff ids."""
    public = {"id": row["id"], "kind": row["kind"], "author": row["author"], "body": row["body"], "created_at": row["created_at"]}
    if not for_customer:
        public["seq"] = row["seq"]
        public["author_id"] = row["author_id"]
    return public


def compensation(row: Row, *, for_customer: bool) -> dict[str, Any]:
    """Customers see an approved compensation's amount and reason, not who proposed or decided it."""
    public: dict[str, Any] = {
        "id": row["id"],
        "reference": row.get("reference"),
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "reason": row["reason"],
        "status": row["status"],
        "decided_at": row["decided_at"],
    }
    if not for_customer:
        public.update(
            {
                "proposed_by": {"id": row["proposed_by"], "name": row.get("proposed_by_name")},
                "proposed_at": row["proposed_at"],
                "decided_by": {"id": row["decided_by"], "name": row.get("decided_by_name")} if row["decided_by"] else None,
                "decision_note": row["decision_note"],
            }
        )
    return public


def audit_event(row: Row, actor_name: str | None = None) -> dict[str, Any]:
    return {"id": row["id"], "at": row["at"], "actor": row["actor"], "actor_name": actor_name, "action": row["action"], "details": row["details"]}


def category(row: Row) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "names": {"en": row["name_en"], "ru": row["name_ru"], "pl": row["name_pl"]},
        "first_response_hours": row["first_response_hours"],
        "resolution_hours": row["resolution_hours"],
        "active": bool(row["active"]),
    }
