"""What a long queue costs: `python -m bench.long_queue` (part of `make bench`).

    python -m bench.long_queue                   # 100, 1,000 and 3,000 chats waiting
    python -m bench.long_queue --sizes 500,5000

An outage at a betting site can queue thousands of customers at once. In this process, on a fresh
SQLite file with nobody online, chats are started through the services until the queue holds each
size; then measured: one more start (storing it, routing, telling every waiting customer their
place; median of 50), and building and encoding the two pushes that follow queue changes (at most
four a second each): the consoles' `queue:snapshot` and the monitor's `monitor:snapshot`.
Results are printed and written to var/bench/long-queue-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.run import write_results

STARTS_MEASURED = 50


async def measure(size: int) -> dict[str, Any]:
    from chatserver.config import Settings
    from chatserver.services.container import build_services, close_services

    with tempfile.TemporaryDirectory() as folder:
        services = await build_services(Settings(db=str(Path(folder) / "queue.db"), queue_timeout=86_400), "bench")
        try:
            async def start(n: int) -> float:
                customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
                began = time.perf_counter()
                await services.chats.start(customer, topic=None, body=f"waiting {n}", name=None, email=None, address=f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
                return time.perf_counter() - began

            for n in range(size - STARTS_MEASURED):
                await start(n)
            starts = [await start(n) for n in range(size - STARTS_MEASURED, size)]
            await services.monitor.snapshot()  # the monitor learns the customers' names once
            began = time.perf_counter()
            console = services.monitor.console_queue()
            console_built = time.perf_counter()
            monitor = await services.monitor.snapshot()
            monitor_built = time.perf_counter()
            pushes = {"queue:snapshot": _push(console, console_built - began), "monitor:snapshot": _push(monitor, monitor_built - console_built)}
            return {"queued": size, "start_ms_median": round(statistics.median(starts) * 1000, 2), "pushes": pushes}
        finally:
            await close_services(services)


def _push(payload: dict[str, Any], build_seconds: float) -> dict[str, Any]:
    began = time.perf_counter()
    encoded = json.dumps(payload, separators=(",", ":"))
    return {"build_ms": round(build_seconds * 1000, 2), "encode_ms": round((time.perf_counter() - began) * 1000, 2), "bytes": len(encoded)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,3000")
    args = parser.parse_args()
    results = [asyncio.run(measure(int(size))) for size in args.sizes.split(",")]
    print(f"{'queued':>7} {'start ms':>9} {'console push ms':>16} {'bytes':>8} {'monitor push ms':>16} {'bytes':>8}")
    for r in results:
        c, m = r["pushes"]["queue:snapshot"], r["pushes"]["monitor:snapshot"]
        print(f"{r['queued']:>7} {r['start_ms_median']:>9} {c['build_ms'] + c['encode_ms']:>16.2f} {c['bytes']:>8} "
              f"{m['build_ms'] + m['encode_ms']:>16.2f} {m['bytes']:>8}")
    write_results("long-queue", results)


if __name__ == "__main__":
    main()
