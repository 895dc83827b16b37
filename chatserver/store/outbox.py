"""The notification outbox: rows written with the change they announce, delivered afterwards."""

from __future__ import annotations

import json
from typing import Any

from chatserver.store.db import Tx
from chatserver.store.ids import new_id

# What a notice is about; the mail renderer has a template for each.
KINDS = (
    "complaint_ack",  # the complaint was received: reference and tracking link
    "complaint_reply",  # a public reply from the team
    "complaint_resolved",  # the resolution
    "complaint_escalated",  # to the staff who now own a complaint
    "complaint_sla_warning",  # to the staff who own a complaint that is nearly due
)


async def enqueue(
    tx: Tx,
    *,
    kind: str,
    recipient: str,
    now: str,
    locale: str = "en",
    complaint_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> str:
    """Queue one notice inside the caller's transaction; returns its id."""
    assert kind in KINDS, f"unknown notice kind {kind}"
    notice_id = new_id("ob")
    await tx.execute(
        "INSERT INTO outbox (id, kind, recipient, locale, complaint_id, data, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (notice_id, kind, recipient, locale, complaint_id, json.dumps(data or {}, ensure_ascii=False), now, now),
    )
    return notice_id
