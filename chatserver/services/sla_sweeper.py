"""The SLA sweep: warnings, breaches (escalations) and auto-close, computed from what the database holds.

Every notice acts in its own transaction, and only after inserting its row into `sla_notices`
(INSERT OR IGNORE): a restart, a second sweep or a clock step can neither skip nor repeat one, and
a breach that fell due while the server was down fires once after start.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from chatserver.domain import dates, sla
from chatserver.domain.errors import Unavailable
from chatserver.domain.models import iso, parse_iso
from chatserver.services import complaint_changes as changes
from chatserver.services import complaint_notices as notices
from chatserver.services import events as ev
from chatserver.services.events import EventBus
from chatserver.store import audit, complaints
from chatserver.store.db import Database, Row, Tx

if TYPE_CHECKING:
    from chatserver.services.complaints import ComplaintService
    from chatserver.services.retention import Retention

log = logging.getLogger(__name__)

SLICE = 200  # candidates checked between two turns of the event loop (about 2 ms of work)
TARGET_WORDS = {"response": "first answer", "resolution": "resolution"}


async def sweep(
    db: Database, bus: EventBus, now: datetime, *, warn_before: timedelta, autoclose_after: timedelta,
    tracking_url: Callable[[str], str],
) -> list[dict[str, Any]]:
    """Fire what is due at `now`; returns what fired: {reference, kind, target, due_at, level}
    (kind warning | breach | auto_close; target and due_at are None for auto_close)."""
    horizon: str = iso(now + warn_before)  # type: ignore[assignment]
    fired_keys: dict[str, set[tuple[str, str, datetime]]] = defaultdict(set)
    for n in await complaints.fired_notices(db, horizon):
        fired_keys[n["complaint_id"]].add((n["kind"], n["target"], parse_iso(n["due_at"])))  # type: ignore[arg-type]
    fired: list[dict[str, Any]] = []
    for n, row in enumerate(await complaints.sla_candidates(db, horizon), start=1):
        for notice in sla.pending_notices(changes.sla_state(row), now, warn_before, fired_keys[row["id"]]):
            done = await _fire(db, bus, row["id"], notice, now, warn_before)
            if done is not None:
                fired.append(done)
        if n % SLICE == 0:
            # every open complaint past due is a candidate at every sweep (thousands on a busy desk):
            # let the event loop serve others between slices
            await asyncio.sleep(0)
    for row in await complaints.autoclose_candidates(db, iso(now - autoclose_after)):  # type: ignore[arg-type]
        done = await _auto_close(db, bus, row["id"], now, autoclose_after, tracking_url)
        if done is not None:
            fired.append(done)
    return fired


async def _fire(
    db: Database, bus: EventBus, complaint_id: str, notice: sla.Notice, now: datetime, warn_before: timedelta
) -> dict[str, Any] | None:
    step: changes.Step | None = None
    due_at: str = iso(notice.due_at)  # type: ignore[assignment]
    async with db.transaction() as tx:
        row = await complaints.with_names(tx, complaint_id=complaint_id)
        # acted on meanwhile (answered, resolved, re-armed): this notice is no longer due
        if row is None or notice not in sla.sla_notices(changes.sla_state(row), now, warn_before):
            return None
        stamp: str = iso(now)  # type: ignore[assignment]
        if not await complaints.record_notice(
            tx, complaint_id=complaint_id, kind=notice.kind, target=notice.target, due_at=due_at, now=stamp
        ):
            return None
        if notice.kind == sla.WARNING:
            await _warn(tx, row, notice.target, due_at, stamp)
            after = row
        else:
            step = await _breach(tx, bus, row, notice, now)
            after = step.row
        announced = await bus.stage(
            tx, ev.COMPLAINT_SLA, complaint=after, kind=notice.kind, target=notice.target, due_at=due_at, level=after["level"],
        )
    # in the order staged, so live screens hear it as webhook receivers do: the change, then its cause
    if step is not None:
        await changes.publish(bus, step)
    await bus.publish_event(announced)
    return {"reference": after["reference"], "kind": notice.kind, "target": notice.target, "due_at": due_at, "level": after["level"]}


async def _warn(tx: Tx, row: Row, target: str, due_at: str, stamp: str) -> None:
    """A warning changes nothing on the complaint: it is audited and its owners get an e-mail."""
    await audit.record(
        tx, actor="system", action="complaint.sla_warning", subject=row["id"], now=stamp,
        details={"reference": row["reference"], "from": row["status"], "to": row["status"], "public": False,
                 "target": target, "due_at": due_at},
    )
    await notices.to_staff(
        tx, row, await notices.warning_recipients(tx, row), "complaint_sla_warning",
        {"reference": row["reference"], "subject": row["subject"], "target": target, "due_at": due_at}, stamp,
    )


async def _breach(tx: Tx, bus: EventBus, row: Row, notice: sla.Notice, now: datetime) -> changes.Step:
    """A missed due time: one level up, away from its assignee (the top level stays, but its owners hear
    again), and a fresh response clock for the owners."""
    category = await complaints.category(tx, row["category"])
    raised = sla.escalate(row["level"], category["owner_group"])  # type: ignore[index]
    if not sla.breach_raises_level(notice.due_at, parse_iso(row["level_since"])):
        raised = sla.Escalation(row["level"], row["owner_group"], False)
    updates: dict[str, Any] = {"level": raised.level, "owner_group": raised.owner_group}
    if raised.raised:
        updates.update(assignee_id=None, level_since=iso(now))
    # read by staff in the history and the escalation e-mail: in words, as the e-mails write dates
    reason = f"SLA breach: the {TARGET_WORDS.get(notice.target, notice.target)} was due {dates.when(iso(notice.due_at), 'en')}"
    step = await changes.apply(
        tx, bus, row, "sla_breach", changes.SYSTEM, now, lifecycle_action="escalate", dues_action="breach",
        entry_kind="system", body=f"{reason}; level {raised.level}", updates=updates,
        details={"target": notice.target, "due_at": iso(notice.due_at), "from_level": row["level"], "to_level": raised.level},
    )
    await changes.tell_new_owners(tx, step.row, reason)
    return step


async def _auto_close(
    db: Database, bus: EventBus, complaint_id: str, now: datetime, autoclose_after: timedelta,
    tracking_url: Callable[[str], str],
) -> dict[str, Any] | None:
    async with db.transaction() as tx:
        row = await complaints.with_names(tx, complaint_id=complaint_id)
        if row is None or not sla.should_auto_close(
            row["status"], parse_iso(row["resolved_at"]), now, autoclose_after, parse_iso(row["paused_at"]),
            parse_iso(row["last_public_at"]),
        ):
            return None
        step = await changes.apply(tx, bus, row, "auto_close", changes.SYSTEM, now)
        # the follow-up: a customer who went quiet is asked how it went (and may still rate it)
        await notices.to_customer(
            tx, step.row, "complaint_closed",
            {"reference": row["reference"], "tracking_url": tracking_url(row["reference"])},
            step.row["updated_at"],
        )
    await changes.publish(bus, step)
    return {"reference": row["reference"], "kind": "auto_close", "target": None, "due_at": None, "level": row["level"]}


class SlaSweeper:
    """Runs the sweep at start, then every `interval` seconds, until stopped.

    The first sweep runs beside the server rather than before it listens: after a long outage it may
    have days of warnings, breaches and auto-closes to fire (tens of seconds on a large desk), and the
    chat must not wait for that. Each notice is recorded once, so nothing fires twice meanwhile."""

    def __init__(self, complaint_service: "ComplaintService", interval: float, retention: "Retention | None" = None) -> None:
        self.complaints = complaint_service
        self.interval = interval
        self.retention = retention  # housekeeping on the same tick, after the sweep
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await self._sweep_once()  # first: what fell due while the server was down
            await self._tidy_once()
            await asyncio.sleep(self.interval)

    async def _tidy_once(self) -> None:
        if self.retention is None:
            return
        try:
            await self.retention.tidy()
        except Unavailable:
            log.warning("housekeeping stopped by a storage failure; the next tick goes on")
        except Exception:
            log.exception("housekeeping failed")

    async def _sweep_once(self) -> None:
        try:
            fired = await self.complaints.sweep()
        except Unavailable:  # what is due stays due: the next tick fires it, once
            log.warning("SLA sweep stopped by a storage failure; the next sweep tries again")
            return
        except Exception:
            log.exception("SLA sweep failed")
            return
        if fired:
            log.info("SLA sweep: %s", ", ".join(f"{f['reference']} {f['kind']}" for f in fired))
