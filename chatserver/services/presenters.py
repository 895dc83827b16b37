"""Rows to the contract's public objects. Secrets (token hashes, session ids) never leave here."""

from __future__ import annotations

from typing import Any

from chatserver.store.db import Row


def message(row: Row, *, for_agent: bool) -> dict[str, Any]:
    public = {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "seq": row["seq"],
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
        "last_seq": row["last_seq"],
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


def category(row: Row) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "names": {"en": row["name_en"], "ru": row["name_ru"], "pl": row["name_pl"]},
        "first_response_hours": row["first_response_hours"],
        "resolution_hours": row["resolution_hours"],
    }
