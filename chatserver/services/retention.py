"""Housekeeping on the sweep's tick: what nothing needs any more leaves the database.

Every connect without a token makes a customer, so a script reconnecting in a loop (inside the
connect limits) would otherwise grow the customers table by the hundred thousand a day. Anonymous
customers who never chatted nor filed a complaint are removed a day after they were made, unless
their widget is open right now; one who comes back later is refused their old token, and the
widget carries on as a new visitor, which is all they were. Expired console sessions go too.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Callable

from chatserver.domain.models import iso
from chatserver.services.clock import Clock
from chatserver.store import retention
from chatserver.store.db import Database

log = logging.getLogger(__name__)

IDLE_CUSTOMER_AGE = timedelta(days=1)
BATCH = 500  # customers looked at per transaction: a short write, then others get their turn
START = ("", "")  # before any (created_at, id)


def nobody() -> set[str]:
    return set()


class Retention:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        # the customers whose widget is open now (the customer namespace sets it at start-up)
        self.connected_customers: Callable[[], set[str]] = nobody
        # customers made before this point were all looked at: kept ones stay kept, so a tick walks
        # only what was made since (after a restart, everything once)
        self._looked_at = START

    async def tidy(self) -> int:
        """Remove what is due; returns how many customers were removed."""
        now = self.clock()
        before: str = iso(now - IDLE_CUSTOMER_AGE)  # type: ignore[assignment]
        removed = 0
        while True:
            count, last = await retention.remove_idle_customers(
                self.db, after=self._looked_at, before=before, keep=self.connected_customers, limit=BATCH,
            )
            removed += count
            if last is None:
                break
            self._looked_at = last
        # the next tick starts where everything older than `before` was looked at; a customer made
        # at exactly `before` is looked at again, harmlessly
        self._looked_at = max(self._looked_at, (before, ""))
        await retention.remove_expired_sessions(self.db, now=iso(now))  # type: ignore[arg-type]
        if removed:
            log.info("removed %d customers who never chatted nor complained", removed)
        return removed
