"""Delivers the outbox: pending notices are rendered and handed to the transport, oldest first.

Delivery is at least once. SMTP cannot be exactly once: the row is marked sent right after the
server accepts the message, so a crash between the two sends it again after restart (with the
same Message-ID, which lets mail clients fold the copies). A notice is never lost: rows are
written with the change they announce, and the backlog is delivered at start.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from chatserver.config import Settings
from chatserver.delivery import Clock, DeliveryLoop
from chatserver.delivery import retry_delay as _retry_delay
from chatserver.domain.models import iso, parse_iso
from chatserver.mail.render import InvalidRecipient, render, stamp
from chatserver.mail.transport import AddressRefused, ServerUnavailable, Transport, transport_for
from chatserver.store import outbox
from chatserver.store.db import Database, Row

log = logging.getLogger("chatserver.mail")

# Waits after the 1st..5th failed attempt; the 6th failure gives up. Only failures of the notice itself
# count; while the server cannot be reached or refuses us, the worker holds every notice on the same
# waits, the last repeated until it answers.
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6))
MAX_ATTEMPTS = len(BACKOFF) + 1


def retry_delay(attempts: int) -> timedelta | None:
    return _retry_delay(BACKOFF, attempts)


class MailWorker(DeliveryLoop):
    """Delivers the outbox (see chatserver/delivery.py for the loop: start, notify, stop).

    on_event calls notify() for every complaint event, as any of them may have queued a notice.
    """

    task_name = "mail-worker"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        transport: Transport | None = None,
        *,
        poll_seconds: float = 30.0,
        batch: int = 50,
    ) -> None:
        super().__init__(db, clock, poll_seconds=poll_seconds, log=log)
        self.settings = settings
        self.transport = transport or transport_for(settings)
        self.batch = batch
        # while the server cannot be reached, nothing is tried before this (on the same backoff)
        self._hold_until: datetime | None = None
        self._unavailable_in_a_row = 0

    async def on_event(self, event: Any) -> None:
        """An EventBus subscriber for MAIL_EVENTS: the change may have queued a notice."""
        self.notify()

    async def next_attempt_at(self) -> str | None:
        due = await outbox.next_attempt_at(self.db)
        if due is not None and self._hold_until is not None and parse_iso(due) < self._hold_until:  # type: ignore[operator]
            return iso(self._hold_until)
        return due

    async def deliver_due(self) -> int:
        """Deliver every notice due now; returns how many were accepted. Tests call it directly."""
        if self._hold_until is not None and self.clock() < self._hold_until:
            return 0
        sent = 0
        while not self.stopping:
            rows = await outbox.pending(self.db, iso(self.clock()), self.batch)  # type: ignore[arg-type]
            for row in rows:
                if self.stopping:
                    break
                try:
                    sent += await self._deliver(row)
                except ServerUnavailable:
                    # one attempt said it for all: a hung server, or one refusing our login, must not cost one per waiting notice
                    self._unavailable_in_a_row += 1
                    self._hold_until = self.clock() + (retry_delay(min(self._unavailable_in_a_row, len(BACKOFF))) or BACKOFF[-1])
                    return sent
                self._unavailable_in_a_row, self._hold_until = 0, None
            if len(rows) < self.batch:
                break
        return sent

    async def _deliver(self, row: Row) -> int:
        """One row: sent, or a failure recorded with its next try. Never raises for the row's sake,
        except ServerUnavailable (after recording it), which concerns every row."""
        try:
            message = render(
                row["kind"], row["locale"], json.loads(row["data"] or "{}"),
                mail_from=self.settings.mail_from, recipient=row["recipient"], base_url=self.settings.base_url,
            )
            stamp(message, notice_id=row["id"], when=self.clock())
            await self.transport.send(message, message["To"].addresses[0].addr_spec)
        except (InvalidRecipient, AddressRefused) as exc:  # no retry makes the address deliverable
            await self._failed(row, exc, give_up=True)
            return 0
        except ServerUnavailable as exc:
            # not this notice's failure: it keeps its attempts, however long the server stays away,
            # and goes out first once it answers
            await outbox.note_error(self.db, row["id"], error=f"{type(exc).__name__}: {exc}")
            raise
        except Exception as exc:  # whatever went wrong, it is this row's problem, not the others'
            await self._failed(row, exc, give_up=False)
            return 0
        await outbox.mark_sent(self.db, row["id"], now=iso(self.clock()))  # type: ignore[arg-type]
        return 1

    async def _failed(self, row: Row, exc: Exception, *, give_up: bool) -> None:
        attempts = row["attempts"] + 1
        delay = None if give_up else retry_delay(attempts)
        error = f"{type(exc).__name__}: {exc}"
        retry_at = iso(self.clock() + delay) if delay else None
        await outbox.mark_failed(self.db, row["id"], error=error, retry_at=retry_at)
        if retry_at is None:
            log.error("mail %s (%s) to %r failed for good after %d attempts: %s",
                      row["id"], row["kind"], row["recipient"], attempts, error)
        else:
            log.warning("mail %s (%s) attempt %d failed, next at %s: %s", row["id"], row["kind"], attempts, retry_at, error)
