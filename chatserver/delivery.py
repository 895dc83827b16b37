"""The background loop that mail and webhooks share: deliver the rows due now, then sleep until told
that new rows wait, until the next retry falls due, or `poll_seconds` at most.

One task per process; rows are not leased, so one process per database. Subclasses say what a pass
delivers and when their next retry is due; stop() lets the delivery in flight finish for a moment,
then cancels it (it stays pending and goes again at the next start).

A pass runs only while the database takes writes: a delivery that cannot be recorded as done would be
sent again at every pass for as long as a storage fault lasts. A fault that begins in the middle of a
pass costs one repeat of that delivery, after the fault (at least once, as always).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Callable, Sequence

from chatserver.domain.errors import Unavailable
from chatserver.domain.models import parse_iso
from chatserver.store.db import Database

Clock = Callable[[], datetime]

# a retry due "now" still waits this long, so a burst of failures cannot spin the loop
MIN_IDLE_SECONDS = 0.05
# how soon to look again while the database refuses writes
STORAGE_RETRY_SECONDS = 2.0
# how long a stop lets a delivery in flight finish, counted from when the stop began; one cut short
# stays pending and goes out after the restart
STOP_GRACE_SECONDS = 5.0


def retry_delay(backoff: Sequence[timedelta], attempts: int) -> timedelta | None:
    """How long to wait after `attempts` failed attempts; None once there are no more tries."""
    return backoff[attempts - 1] if 1 <= attempts <= len(backoff) else None


class DeliveryLoop:
    task_name = "delivery"

    def __init__(self, db: Database, clock: Clock, *, poll_seconds: float, log: logging.Logger) -> None:
        self.db = db
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.log = log
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._stop_began: float | None = None
        self._paused = False  # by a storage fault: said once in the log, and once when it is over

    # -- what a subclass provides -------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Deliver every row due now; returns how many went through."""
        raise NotImplementedError

    async def next_attempt_at(self) -> str | None:
        """When the earliest pending row falls due (ISO time), or None."""
        raise NotImplementedError

    async def before_pass(self) -> None:
        """Housekeeping before each pass."""

    async def after_stop(self) -> None:
        """Release what the deliveries held (connections)."""

    # -- life cycle -------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stopping

    def start(self) -> None:
        if self._task is not None:
            return
        self._stopping = False
        self._stop_began = None
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    def begin_stop(self) -> None:
        """No new pass and no new delivery from now; what is in flight may finish within the grace."""
        if self._stop_began is None:
            self._stop_began = asyncio.get_running_loop().time()
        self._stopping = True
        self._wake.set()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Wait for what is in flight until `grace` after the stop began (begin_stop), then cut it short."""
        task, self._task = self._task, None
        if task is not None:
            self.begin_stop()
            assert self._stop_began is not None
            left = max(0.0, grace - (asyncio.get_running_loop().time() - self._stop_began))
            try:
                await asyncio.wait_for(asyncio.shield(task), left)
            except asyncio.TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.after_stop()

    def notify(self) -> None:
        """New rows may be waiting."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                if not await self.db.healthy():
                    raise Unavailable("the database does not take writes")
                if self._paused:
                    self._paused = False
                    self.log.info("%s resumed", self.task_name)
                await self.before_pass()
                await self.deliver_due()
                idle = await self._idle_seconds()
            except Unavailable:
                if not self._paused:
                    self._paused = True
                    self.log.warning("%s paused while the database does not take writes", self.task_name)
                idle = min(self.poll_seconds, STORAGE_RETRY_SECONDS)
            except Exception:
                self.log.exception("%s pass failed", self.task_name)
                idle = self.poll_seconds
            if self._stopping:
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), idle)

    async def _idle_seconds(self) -> float:
        """Until the next retry falls due, at most `poll_seconds`."""
        due = parse_iso(await self.next_attempt_at())
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(MIN_IDLE_SECONDS, (due - self.clock()).total_seconds()))
