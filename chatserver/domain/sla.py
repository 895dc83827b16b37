"""SLA decisions for complaints: due times, warnings, breaches, escalation and auto-close. Pure: `now` is passed in.

Two due times: `response_due` (the next answer owed, None when none is) and `resolution_due`.
A warning fires `warn_before` ahead of a due time, a breach at it; none fires while the team waits
for the customer's answer, and that wait moves the resolution due time out. A breach escalates one level
(capped at 3) and gives the new owners a fresh response clock, so a further breach escalates again;
breaches that were already past when the current level took over are recorded but raise nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Collection

from chatserver.domain.complaint_lifecycle import MAX_LEVEL

WARNING, BREACH = "warning", "breach"
RESPONSE, RESOLUTION = "response", "resolution"
KINDS = (WARNING, BREACH)
TARGETS = (RESPONSE, RESOLUTION)

# nothing is owed on these: no warnings, no breaches
SETTLED = ("resolved", "closed")
# the team waits for the customer: the clocks stand still (the answer is theirs to give)
PAUSED = ("awaiting_customer",)

# who owns a complaint above level 1 (level 1 is the category's own group)
LEVEL_GROUPS = {2: "supervisors", 3: "management"}
# the staff role that makes up each level's group
LEVEL_ROLES = {1: "agent", 2: "supervisor", 3: "admin"}


@dataclass(frozen=True, slots=True)
class SlaState:
    status: str
    level: int
    response_due: datetime | None
    resolution_due: datetime | None


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str  # warning | breach
    target: str  # response | resolution
    due_at: datetime

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.kind, self.target, self.due_at)


@dataclass(frozen=True, slots=True)
class Dues:
    response_due: datetime | None
    resolution_due: datetime | None


@dataclass(frozen=True, slots=True)
class Escalation:
    level: int
    owner_group: str
    raised: bool  # False at the top level: the breach is recorded, the level stays


def sla_notices(state: SlaState, now: datetime, warn_before: timedelta) -> list[Notice]:
    """The notices due at `now`: per target a breach once its due time has come, else a warning once
    within `warn_before` of it. A breach makes its own warning moot, so it is never sent late."""
    if state.status in SETTLED or state.status in PAUSED:
        return []
    notices = []
    for target, due in ((RESPONSE, state.response_due), (RESOLUTION, state.resolution_due)):
        if due is None:
            continue
        if now >= due:
            notices.append(Notice(BREACH, target, due))
        elif now >= due - warn_before:
            notices.append(Notice(WARNING, target, due))
    return sorted(notices, key=lambda n: (n.due_at, TARGETS.index(n.target)))


def pending_notices(
    state: SlaState, now: datetime, warn_before: timedelta, fired: Collection[tuple[str, str, datetime]]
) -> list[Notice]:
    """The notices due now that have not fired yet (`fired` holds (kind, target, due_at) keys)."""
    return [notice for notice in sla_notices(state, now, warn_before) if notice.key not in fired]


def owner_group(level: int, category_group: str) -> str:
    return category_group if level <= 1 else LEVEL_GROUPS[min(level, MAX_LEVEL)]


def escalate(level: int, category_group: str) -> Escalation:
    """One level up, never past the top."""
    new_level = min(level + 1, MAX_LEVEL)
    return Escalation(new_level, owner_group(new_level, category_group), new_level != level)


def breach_raises_level(due_at: datetime, level_since: datetime | None) -> bool:
    """A breach escalates only if its due time passed while the current level held the complaint.

    Two targets missed at once (a category whose answer and resolution are both due in 24 h), or a
    backlog found after downtime, is one failure of one set of owners: it raises the level once, and
    the new owners are not blamed for a time that had passed before they got the complaint."""
    return level_since is None or due_at > level_since


def initial_dues(created_at: datetime, first_response: timedelta, resolution: timedelta) -> Dues:
    return Dues(created_at + first_response, created_at + resolution)


def dues_after(action: str, dues: Dues, now: datetime, first_response: timedelta, resolution: timedelta) -> Dues:
    """Due times after an action.

    - a public reply (reply, ask_customer, resolve) gives the answer owed;
    - a customer's message asks for one, but never pushes back an answer already owed;
    - clarify reopens: a fresh answer and a fresh resolution target;
    - a breach, or a manual escalation while an answer is owed, gives the new owners a fresh response clock;
    - accepted or closed: nothing owed.
    """
    fresh_response = now + first_response
    if action in ("reply", "ask_customer", "resolve", "accept", "auto_close"):
        return Dues(None, dues.resolution_due)
    if action == "customer_reply":
        owed = dues.response_due
        return Dues(min(owed, fresh_response) if owed else fresh_response, dues.resolution_due)
    if action == "clarify":
        return Dues(fresh_response, now + resolution)
    if action == "breach":
        return Dues(fresh_response, dues.resolution_due)
    if action == "escalate" and dues.response_due is not None:
        return Dues(fresh_response, dues.resolution_due)
    return dues


def resumed_resolution_due(due: datetime, paused_at: datetime | None, now: datetime) -> datetime:
    """The resolution due time once the customer's turn is over: moved out by the time the team waited
    for them. One already missed when the wait began stays as it was, so its breach is not fired again
    for a new due time."""
    if paused_at is None or due <= paused_at or now <= paused_at:
        return due
    return due + (now - paused_at)


def should_auto_close(
    status: str, resolved_at: datetime | None, now: datetime, after: timedelta, paused_at: datetime | None = None,
    last_public_at: datetime | None = None,
) -> bool:
    """A resolved complaint the customer left alone for `after` closes by itself; so does one whose
    question to the customer went unanswered for as long, counted from the team's last word to them
    (`last_public_at`: a reminder sent while waiting gives the customer the whole period again)."""
    if status == "resolved":
        return resolved_at is not None and now >= resolved_at + after
    if status in PAUSED:
        return paused_at is not None and now >= max(paused_at, last_public_at or paused_at) + after
    return False


def recipients_role(level: int) -> str:
    """The staff role that owns a complaint at `level` (and hears of its warnings when unassigned)."""
    return LEVEL_ROLES[min(max(level, 1), MAX_LEVEL)]
