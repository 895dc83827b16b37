"""Event-loop lag: a timer that should fire every 100 ms, and how late it actually fires.

A handler that blocks (CPU work, a synchronous call) delays every timer and every socket at once;
the delay of this one timer measures it for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Callable


class LoopLagProbe:
    def __init__(self, observe: Callable[[float], None], interval: float = 0.1) -> None:
        self.observe = observe
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag-probe")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.observe(max(0.0, loop.time() - due))
