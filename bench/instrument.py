"""`python -m bench.instrument serve ...`: chatserver with measuring aids for bench/run.py.

Which aids is set by environment variables, each naming an output file:
- BENCH_PROFILE=OUT.pstats: cProfile (slows the server about twofold: it says where the time
  goes, not how fast it is). Read with `python -m pstats OUT.pstats`.
- BENCH_GC_TRACE=OUT.json: every garbage collection (generation, pause, objects collected) and
  event-loop stalls (a 10 ms ticker that reports how late it ran); costs next to nothing. A watchdog
  thread also samples what the event-loop thread is running whenever the ticker is 50 ms overdue, so
  that the longest stalls come with the code that caused them.
- BENCH_GC_THRESHOLD=a,b,c: these collector thresholds instead of the ones `chatserver serve`
  sets with gc tuning on, to try other values without a code change.
The profile and the trace cover only the measured window: they start on SIGUSR1 and stop and write on SIGUSR2
(with BENCH_PROFILE_SETUP=1 the profile starts at start-up, to see where connection set-up goes).
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

STALL_MS = 50.0  # a tick this late gets its stack sampled


class GcTrace:
    TICK = 0.010

    def __init__(self, out: str) -> None:
        self.out = out
        self.active = False
        self.events: list[tuple[float, int, float, int]] = []
        self.lags: list[float] = []
        self._start = 0.0
        self._began = 0.0
        self._task: asyncio.Task | None = None
        self._last_tick = 0.0
        self._main = threading.main_thread().ident
        self.stall_stacks: Counter[tuple[str, ...]] = Counter()  # sampled stacks of overdue ticks, 10 ms each
        gc.callbacks.append(self._callback)
        threading.Thread(target=self._watchdog, name="stall-watchdog", daemon=True).start()

    def _watchdog(self) -> None:
        """While a tick is overdue, sample the event-loop thread's stack every 10 ms."""
        while True:
            time.sleep(self.TICK)
            if not self.active or time.perf_counter() - self._last_tick < (self.TICK + STALL_MS / 1000):
                continue
            frame = sys._current_frames().get(self._main)  # type: ignore[arg-type]
            if frame is not None:
                stack = traceback.extract_stack(frame)
                self.stall_stacks[tuple(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in stack[-12:])] += 1

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if not self.active:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.events.append((round(time.perf_counter() - self._began, 3), info["generation"], (time.perf_counter() - self._start) * 1000, info["collected"]))

    async def _ticker(self) -> None:
        expected = time.perf_counter() + self.TICK
        while self.active:
            self._last_tick = time.perf_counter()
            await asyncio.sleep(self.TICK)
            now = time.perf_counter()
            self.lags.append((now - expected) * 1000)
            expected = now + self.TICK

    def start(self) -> None:
        self.events.clear()
        self.lags.clear()
        self.stall_stacks.clear()
        self._last_tick = time.perf_counter()
        self._began = time.perf_counter()
        self.active = True
        try:
            self._task = asyncio.get_running_loop().create_task(self._ticker())
        except RuntimeError:
            self._task = None

    def stop(self) -> None:
        self.active = False
        seconds = time.perf_counter() - self._began
        by_gen: dict[int, list[float]] = {0: [], 1: [], 2: []}
        for _, gen, ms, _ in self.events:
            by_gen[gen].append(ms)
        lags = sorted(self.lags)
        summary = {
            "seconds": round(seconds, 2),
            "gc": {
                str(gen): {"count": len(v), "total_ms": round(sum(v), 1), "max_ms": round(max(v), 1) if v else 0.0}
                for gen, v in by_gen.items()
            },
            "gc_over_10ms": [e for e in self.events if e[2] > 10][:50],
            "loop_lag_ms": {
                "ticks": len(lags),
                "p50": round(lags[int(0.50 * (len(lags) - 1))], 2) if lags else None,
                "p95": round(lags[int(0.95 * (len(lags) - 1))], 1) if lags else None,
                "p99": round(lags[int(0.99 * (len(lags) - 1))], 1) if lags else None,
                "max": round(lags[-1], 1) if lags else None,
                "over_50ms": sum(1 for x in lags if x > 50),
                "over_100ms": sum(1 for x in lags if x > 100),
            },
            # where the event loop was while it was late: [samples of 10 ms, innermost frames last]
            "stall_stacks": [[n, list(stack)] for stack, n in self.stall_stacks.most_common(15)],
            "gc_threshold": gc.get_threshold(),
            "gc_frozen": gc.get_freeze_count(),
            "gc_counts_now": gc.get_count(),
        }
        with open(self.out, "w", encoding="utf-8") as handle:
            json.dump(summary, handle, indent=1)


def main() -> int:
    from chatserver.cli import main as chatserver_main

    if os.environ.get("BENCH_GC_THRESHOLD"):
        values = tuple(int(x) for x in os.environ["BENCH_GC_THRESHOLD"].split(","))
        set_threshold = gc.set_threshold
        set_threshold(*values)
        gc.set_threshold = lambda *_: set_threshold(*values)  # type: ignore[assignment]

    profile_out = os.environ.get("BENCH_PROFILE")
    gc_out = os.environ.get("BENCH_GC_TRACE")
    profiler = cProfile.Profile() if profile_out else None
    trace = GcTrace(gc_out) if gc_out else None

    def start(*_: object) -> None:
        if trace is not None:
            trace.start()
        if profiler is not None:
            profiler.enable()

    def stop(*_: object) -> None:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_out)
        if trace is not None:
            trace.stop()

    if profiler is not None and os.environ.get("BENCH_PROFILE_SETUP"):
        profiler.enable()  # from start-up: connection set-up included
    # signal.signal handlers run on the main thread between bytecodes, inside the running loop
    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    return chatserver_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
