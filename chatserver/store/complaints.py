"""Complaint rows and references, their threads, compensation, ratings and SLA notices."""

from __future__ import annotations

from typing import Any

from chatserver.domain.complaint_lifecycle import OPEN_STATUSES
from chatserver.domain.sla import PAUSED
from chatserver.domain.text import searchable
from chatserver.store.db import Database, Row, Tx
from chatserver.store.ids import new_id


async def next_number(tx: Tx, year: int) -> int:
    row = await tx.fetch_one(
        "INSERT INTO complaint_counters (year, last_number) VALUES (?, 1)"
        " ON CONFLICT (year) DO UPDATE SET last_number = last_number + 1 RETURNING last_number",
        (year,),
    )
    assert row is not None
    return int(row["last_number"])


async def create(tx: Tx, **fields: Any) -> Row:
    complaint_id = new_id("cp")
    columns = ["id", *fields]
    await tx.execute(
        f"INSERT INTO complaints ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        (complaint_id, *fields.values()),
    )
    words = "\n".join((fields["reference"], fields["subject"], fields.get("body") or ""))
    await tx.execute("INSERT INTO complaint_search (complaint_id, folded) VALUES (?, ?)", (complaint_id, searchable(words)))
    return await tx.fetch_one("SELECT * FROM complaints WHERE id = ?", (complaint_id,))  # type: ignore[return-value]


async def by_request(db: Database | Tx, client_id: str) -> tuple[str, Row] | None:
    """Who filed the complaint a request with this `client_id` filed, and that complaint."""
    row = await db.fetch_one(
        "SELECT r.author AS request_author, c.* FROM complaint_requests r JOIN complaints c ON c.id = r.complaint_id"
        " WHERE r.client_id = ?", (client_id,),
    )
    return (row.pop("request_author"), row) if row else None


async def remember_request(tx: Tx, client_id: str, author: str, complaint_id: str) -> None:
    await tx.execute("INSERT INTO complaint_requests (client_id, author, complaint_id) VALUES (?, ?, ?)", (client_id, author, complaint_id))


async def by_conversation(db: Database | Tx, conversation_id: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM complaints WHERE conversation_id = ?", (conversation_id,))


async def by_reference(db: Database | Tx, reference: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM complaints WHERE reference = ?", (reference,))


# a customer's complaints listed (the widget's list, a console's look at who they are): the newest,
# however many a script filed over the weeks
CUSTOMER_LIST_MAX = 50


async def list_for_customer(db: Database, customer_id: str, limit: int = CUSTOMER_LIST_MAX) -> list[Row]:
    return await db.fetch(
        "SELECT * FROM complaints WHERE customer_id = ? ORDER BY created_at DESC, reference DESC LIMIT ?", (customer_id, limit)
    )


async def categories(db: Database | Tx, active_only: bool = True) -> list[Row]:
    where = " WHERE active = 1" if active_only else ""
    return await db.fetch(f"SELECT * FROM categories{where} ORDER BY position, slug")


async def category(db: Database | Tx, slug: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM categories WHERE slug = ?", (slug,))


# -- one complaint, with the names people see ------------------------------------------------

_WITH_NAMES = (
    "SELECT c.*, u.name AS assignee_name FROM complaints c LEFT JOIN users u ON u.id = c.assignee_id"
)
# columns a service may change after creation
_MUTABLE = frozenset(
    {
        "status", "level", "level_since", "category", "owner_group", "assignee_id", "response_due", "resolution_due", "paused_at",
        "first_response_at", "resolved_at", "closed_at", "updated_at", "last_public_at",
    }
)


async def get(db: Database | Tx, complaint_id: str) -> Row | None:
    return await db.fetch_one("SELECT * FROM complaints WHERE id = ?", (complaint_id,))


async def with_names(db: Database | Tx, *, reference: str | None = None, complaint_id: str | None = None) -> Row | None:
    """A complaint with its assignee's name, by reference or by id."""
    if reference is not None:
        return await db.fetch_one(f"{_WITH_NAMES} WHERE c.reference = ?", (reference,))
    return await db.fetch_one(f"{_WITH_NAMES} WHERE c.id = ?", (complaint_id,))


async def update(tx: Tx, complaint_id: str, **fields: Any) -> None:
    unknown = set(fields) - _MUTABLE
    assert not unknown, f"not changeable: {unknown}"
    if fields:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await tx.execute(f"UPDATE complaints SET {assignments} WHERE id = ?", (*fields.values(), complaint_id))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# the soonest of the two due times; those waiting for the customer follow (their clocks stand still),
# and settled complaints, which owe nothing, come last
_DUE_ORDER = (
    "CASE WHEN c.status IN ('resolved', 'closed') THEN 2 WHEN c.status = 'awaiting_customer' THEN 1 ELSE 0 END,"
    " MIN(COALESCE(c.response_due, c.resolution_due), c.resolution_due), c.created_at"
)


async def search(
    db: Database,
    *,
    status: str | None = None,
    category: str | None = None,
    level: int | None = None,
    assignee_id: str | None = None,
    unassigned: bool = False,
    text: str | None = None,
    sort: str = "due",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Row], int]:
    """One page of complaints matching every given filter, and how many match in all."""
    where, params = [], []  # type: ignore[var-annotated]
    if status is not None:
        where.append("c.status = ?")
        params.append(status)
    if category is not None:
        where.append("c.category = ?")
        params.append(category)
    if level is not None:
        where.append("c.level = ?")
        params.append(level)
    if unassigned:
        where.append("c.assignee_id IS NULL")
    elif assignee_id is not None:
        where.append("c.assignee_id = ?")
        params.append(assignee_id)
    if text:
        # in any letter case, Russian and Polish included (migration 016)
        where.append("c.id IN (SELECT complaint_id FROM complaint_search WHERE folded LIKE ? ESCAPE '\\')")
        params.append(_like(searchable(text)))
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = _DUE_ORDER if sort == "due" else "c.created_at DESC, c.reference DESC"
    total = await db.fetch_one(f"SELECT COUNT(*) AS n FROM complaints c{clause}", params)
    rows = await db.fetch(f"{_WITH_NAMES}{clause} ORDER BY {order} LIMIT ? OFFSET ?", (*params, limit, offset))
    return rows, int(total["n"]) if total else 0


# -- the thread ------------------------------------------------------------------------------


async def add_entry(
    tx: Tx, *, complaint_id: str, kind: str, author: str, author_id: str | None, body: str, now: str,
    client_id: str | None = None,
) -> Row:
    """Append one entry; seq is the next number in this complaint's thread (the writer lock serializes)."""
    entry_id = new_id("ce")
    await tx.execute(
        "INSERT INTO complaint_entries (id, complaint_id, seq, kind, author, author_id, body, created_at, client_id)"
        " SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ? FROM complaint_entries WHERE complaint_id = ?",
        (entry_id, complaint_id, kind, author, author_id, body, now, client_id, complaint_id),
    )
    return await tx.fetch_one("SELECT * FROM complaint_entries WHERE id = ?", (entry_id,))  # type: ignore[return-value]


async def entry_by_client_id(tx: Tx, complaint_id: str, client_id: str) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM complaint_entries WHERE complaint_id = ? AND client_id = ?", (complaint_id, client_id),
    )


async def customer_wrote_after(tx: Tx, complaint_id: str, seq: int) -> bool:
    """Whether the customer added to the thread after entry `seq`."""
    row = await tx.fetch_one(
        "SELECT 1 FROM complaint_entries WHERE complaint_id = ? AND kind = 'customer' AND seq > ? LIMIT 1", (complaint_id, seq),
    )
    return row is not None


async def customer_entries_unanswered(tx: Tx, complaint_id: str) -> int:
    """The customer's entries since the team's last public reply (all of them if it never replied)."""
    row = await tx.fetch_one(
        "SELECT COUNT(*) AS n FROM complaint_entries WHERE complaint_id = ?1 AND kind = 'customer' AND seq >"
        " COALESCE((SELECT MAX(seq) FROM complaint_entries WHERE complaint_id = ?1 AND kind = 'reply'), 0)",
        (complaint_id,),
    )
    return int(row["n"]) if row else 0


async def entries(db: Database | Tx, complaint_id: str, kinds: tuple[str, ...] | None = None) -> list[Row]:
    if kinds is None:
        return await db.fetch("SELECT * FROM complaint_entries WHERE complaint_id = ? ORDER BY seq", (complaint_id,))
    marks = ", ".join("?" for _ in kinds)
    return await db.fetch(
        f"SELECT * FROM complaint_entries WHERE complaint_id = ? AND kind IN ({marks}) ORDER BY seq",
        (complaint_id, *kinds),
    )


# -- compensation ----------------------------------------------------------------------------

_COMPENSATION_WITH_NAMES = (
    "SELECT m.*, c.reference AS reference, p.name AS proposed_by_name, d.name AS decided_by_name"
    " FROM compensations m JOIN complaints c ON c.id = m.complaint_id"
    " LEFT JOIN users p ON p.id = m.proposed_by LEFT JOIN users d ON d.id = m.decided_by"
)


async def add_compensation(
    tx: Tx, *, complaint_id: str, amount_minor: int, currency: str, reason: str, proposed_by: str, now: str
) -> Row:
    compensation_id = new_id("cm")
    await tx.execute(
        "INSERT INTO compensations (id, complaint_id, amount_minor, currency, reason, proposed_by, proposed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (compensation_id, complaint_id, amount_minor, currency, reason, proposed_by, now),
    )
    return await compensation(tx, compensation_id)  # type: ignore[return-value]


async def compensation(db: Database | Tx, compensation_id: str) -> Row | None:
    return await db.fetch_one(f"{_COMPENSATION_WITH_NAMES} WHERE m.id = ?", (compensation_id,))


async def open_compensation_like(
    tx: Tx, *, complaint_id: str, amount_minor: int, currency: str, reason: str, proposed_by: str
) -> Row | None:
    """An undecided proposal of this complaint with the same amount, currency, reason and author."""
    return await tx.fetch_one(
        f"{_COMPENSATION_WITH_NAMES} WHERE m.complaint_id = ? AND m.status = 'proposed' AND m.amount_minor = ?"
        " AND m.currency = ? AND m.reason = ? AND m.proposed_by = ?",
        (complaint_id, amount_minor, currency, reason, proposed_by),
    )


async def decide_compensation(
    tx: Tx, compensation_id: str, *, approve: bool, decided_by: str, note: str | None, now: str
) -> bool:
    """Only a proposal still open can be decided; False when someone decided it first."""
    changed = await tx.execute(
        "UPDATE compensations SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?"
        " WHERE id = ? AND status = 'proposed'",
        ("approved" if approve else "rejected", decided_by, now, note, compensation_id),
    )
    return changed == 1


async def compensations(db: Database | Tx, complaint_id: str, status: str | None = None) -> list[Row]:
    if status is None:
        return await db.fetch(f"{_COMPENSATION_WITH_NAMES} WHERE m.complaint_id = ? ORDER BY m.proposed_at", (complaint_id,))
    return await db.fetch(
        f"{_COMPENSATION_WITH_NAMES} WHERE m.complaint_id = ? AND m.status = ? ORDER BY m.proposed_at",
        (complaint_id, status),
    )


# -- the customer's rating -------------------------------------------------------------------


async def save_rating(tx: Tx, complaint_id: str, *, score: int, comment: str | None, now: str) -> bool:
    """Once, on a closed complaint; False when it was rated already."""
    changed = await tx.execute(
        "UPDATE complaints SET rating = ?, rating_comment = ?, rated_at = ?, updated_at = ?"
        " WHERE id = ? AND status = 'closed' AND rating IS NULL",
        (score, comment, now, now, complaint_id),
    )
    return changed == 1


# -- SLA sweeps ------------------------------------------------------------------------------

# open statuses named one by one, so that each is a range on the (status, due time) indexes; a NOT IN
# walked every complaint ever (0.35 s a sweep on a year of history instead of 0.06 s)
# open and not waiting for the customer: the complaints whose clocks run
RUNNING_STATUS_IN = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES if s not in PAUSED) + ")"
_OWING = f"{RUNNING_STATUS_IN} AND (response_due <= ? OR resolution_due <= ?)"


async def sla_candidates(db: Database, horizon: str) -> list[Row]:
    """Open complaints with a due time at or before `horizon` (now plus the warning lead)."""
    return await db.fetch(f"SELECT * FROM complaints WHERE {_OWING} ORDER BY created_at", (horizon, horizon))


async def fired_notices(db: Database, horizon: str) -> list[Row]:
    """The notices already fired for the complaints `sla_candidates` returns."""
    return await db.fetch(
        f"SELECT n.complaint_id, n.kind, n.target, n.due_at FROM sla_notices n"
        f" WHERE n.complaint_id IN (SELECT id FROM complaints WHERE {_OWING})",
        (horizon, horizon),
    )


async def record_notice(tx: Tx, *, complaint_id: str, kind: str, target: str, due_at: str, now: str) -> bool:
    """True only for the first to record this notice: that one acts on it."""
    inserted = await tx.execute(
        "INSERT OR IGNORE INTO sla_notices (complaint_id, kind, target, due_at, fired_at) VALUES (?, ?, ?, ?, ?)",
        (complaint_id, kind, target, due_at, now),
    )
    return inserted == 1


async def autoclose_candidates(db: Database, before: str) -> list[Row]:
    """Resolved at or before `before`, or waiting for the customer's answer since then (and not written
    to since: the team's last word to them starts the wait again)."""
    return await db.fetch(
        "SELECT * FROM complaints WHERE status = 'resolved' AND resolved_at <= ?"
        " UNION ALL SELECT * FROM complaints WHERE status = 'awaiting_customer' AND paused_at <= ?"
        " AND COALESCE(last_public_at, paused_at) <= ?",
        (before, before, before),
    )


# -- the staff who own a level ---------------------------------------------------------------


async def staff_with_role(db: Database | Tx, role: str) -> list[Row]:
    """Active console users of one role, with their skills (JSON text) for the category check."""
    return await db.fetch(
        "SELECT id, email, name, role, skills FROM users WHERE active = 1 AND role = ? ORDER BY name", (role,)
    )
