"""The complaint state machine and who may act on a complaint at which level. Pure: no I/O."""

from __future__ import annotations

from chatserver.domain.errors import Conflict

STATUSES = ("new", "in_progress", "awaiting_customer", "resolved", "closed", "reopened")
# the team still owes work on these; resolved and closed owe nothing
OPEN_STATUSES = ("new", "in_progress", "awaiting_customer", "reopened")

# actions that change nothing but the record: allowed until the complaint is closed
_UNCHANGED_UNTIL_CLOSED = {status: status for status in STATUSES if status != "closed"}

# action -> {from status: to status}; a pair missing here is refused
TRANSITIONS: dict[str, dict[str, str]] = {
    "start": {"new": "in_progress", "reopened": "in_progress"},
    "ask_customer": {"new": "awaiting_customer", "in_progress": "awaiting_customer", "reopened": "awaiting_customer"},
    "reply": {
        "new": "in_progress",
        "in_progress": "in_progress",
        "awaiting_customer": "awaiting_customer",
        "reopened": "reopened",
    },
    "customer_reply": {
        "awaiting_customer": "in_progress",
        "new": "new",
        "in_progress": "in_progress",
        "reopened": "reopened",
    },
    "resolve": {status: "resolved" for status in OPEN_STATUSES},
    "accept": {"resolved": "closed"},
    "clarify": {"resolved": "reopened"},
    "auto_close": {"resolved": "closed", "awaiting_customer": "closed"},
    "note": _UNCHANGED_UNTIL_CLOSED,
    "escalate": _UNCHANGED_UNTIL_CLOSED,
    "propose_compensation": _UNCHANGED_UNTIL_CLOSED,
    # a proposal made while the complaint was open is decided even after it closed: the customer may
    # accept the answer that promised the compensation before a supervisor got to it
    "decide_compensation": {status: status for status in STATUSES},
    # not named by the process, but they only change the record: same rule as a note
    "assign": _UNCHANGED_UNTIL_CLOSED,
    "set_category": _UNCHANGED_UNTIL_CLOSED,
}
ACTIONS = tuple(TRANSITIONS)

# actions that answer the customer: they settle the answer owed
PUBLIC_REPLIES = ("reply", "ask_customer", "resolve")
# actions taken by the customer (widget or tracking link)
CUSTOMER_ACTIONS = ("customer_reply", "accept", "clarify")

# thread entries a customer sees; notes and system lines are for staff only
ENTRY_KINDS = ("customer", "reply", "note", "status", "system")
PUBLIC_ENTRY_KINDS = ("customer", "reply", "status")

# the highest level each role may act on: agents own level 1, supervisors up to 2, admins (management) all
ROLE_MAX_LEVEL = {"agent": 1, "supervisor": 2, "admin": 3}
MAX_LEVEL = 3


def next_status(status: str, action: str) -> str:
    """The status after `action`, or Conflict when the process does not allow it from `status`."""
    allowed = TRANSITIONS.get(action)
    if allowed is None:
        raise ValueError(f"unknown complaint action {action}")
    if status not in allowed:
        raise Conflict(f"cannot {action} a complaint that is {status}")
    return allowed[status]


def is_public_entry(kind: str) -> bool:
    return kind in PUBLIC_ENTRY_KINDS


def may_act(role: str, level: int) -> bool:
    """Staff write only at or below their level; reading is open to all staff."""
    return level <= ROLE_MAX_LEVEL.get(role, 0)


def may_decide_compensation(role: str) -> bool:
    return role in ("supervisor", "admin")


def check_rating(status: str, already_rated: bool) -> None:
    """A complaint is rated once, after it is closed."""
    if status != "closed":
        raise Conflict(f"cannot rate a complaint that is {status}")
    if already_rated:
        raise Conflict("this complaint has already been rated")
