"""Reports on a large history: `python -m bench.reports` (part of `make bench`).

    python -m bench.reports                 # seed once (about 2-3 minutes), then time a month's report
    python -m bench.reports --runs 15       # more runs
    python -m bench.reports --plans         # also print EXPLAIN QUERY PLAN for every query of the summary
    python -m bench.reports --reseed        # throw the cached history away and seed again

The history (bench/seed_history.py: a year to 2026-12-01 with 1 million complaints and about 5 million
messages) is cached in var/bench/reports-history-<key>.db; the key changes with the seeding code, so a
stale file is never reused. Then, with the clock fixed at the end of the history:

- the service call `ReportService.summary` for November 2026, unfiltered and with filters;
- the HTTP routes on a real server on 127.0.0.1: `GET /api/reports/summary` (API token) and the page
  `GET /reports` (console session), each answer read whole;
- a whole month's CSV export of complaints (streamed in keyset pages), with the event loop's longest
  stall meanwhile.

Each is run once to warm up, then `--runs` times: p50 and max are printed (milliseconds) and written as
JSON to var/bench/reports-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp.test_utils import TestServer

from bench import seed_history
from chatserver import keys
from chatserver.app import create_app
from chatserver.config import Settings
from chatserver.domain.reports import Filters, Period
from chatserver.services.auth import ConsoleUser
from chatserver.services.container import build_services, close_services
from chatserver.store.db import Database
from chatserver.transport import cookies

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
END = datetime(2026, 12, 1, tzinfo=timezone.utc)
MONTH = Period(date(2026, 11, 1), date(2026, 11, 30))
BENCH_EMAIL, BENCH_PASSWORD = "bench-supervisor@history.test", "bench-supervisor-password"


def cache_path(size: seed_history.Size) -> Path:
    source = Path(seed_history.__file__).read_bytes()
    key = hashlib.sha256(source + repr(size).encode() + END.isoformat().encode()).hexdigest()[:12]
    return CACHE / f"reports-history-{key}.db"


def ensure_history(size: seed_history.Size, reseed: bool) -> Path:
    path = cache_path(size)
    if path.exists() and not reseed:
        print(f"history: {path.relative_to(ROOT)} (cached)")
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("reports-history-*.db*"):
        old.unlink()
    partial = path.with_suffix(".partial")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    print(f"history: seeding {path.relative_to(ROOT)} ({size.complaints:,} complaints, {size.chats:,} chats)…", flush=True)
    started = time.monotonic()
    counts = seed_history.seed_history(partial, size=size, end=END, progress=True)
    partial.rename(path)  # only a complete history is ever reused
    print(f"history: seeded in {time.monotonic() - started:.0f} s: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    return path


def fixed_clock() -> datetime:
    return END


def settings_for(path: Path) -> Settings:
    return Settings(db=str(path), secret_key="bench-reports", uvloop=False, gc_tuning=False, logins_per_minute=1000)


async def timed(label: str, runs: int, call: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    await call()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    result = {"label": label, "first_ms": round(first, 1), "p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "runs": runs}
    print(f"  {label:58} first {first:7.1f}   p50 {result['p50_ms']:7.1f}   max {result['max_ms']:7.1f}", flush=True)
    return result


class PlanPrinter(Database):
    """A Database that prints each read's query plan before running it."""

    async def fetch(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        plan = await super().fetch("EXPLAIN QUERY PLAN " + sql, params)
        print("\n" + " ".join(sql.split())[:160] + " …")
        for row in plan:
            print("   ", row["detail"])
        return await super().fetch(sql, params)


async def bench_service(path: Path, runs: int, plans: bool) -> list[dict[str, Any]]:
    services = await build_services(settings_for(path), "bench-reports", fixed_clock)
    results = []
    try:
        service = services.reports
        supervisor = await _supervisor(services)
        options = await service.options()
        agent = next(a["id"] for a in options["agents"] if a["role"] == "agent")
        print(f"service: ReportService.summary, {MONTH.first} to {MONTH.last}")
        cases = [
            ("month, no filter", Filters()),
            ("month, category withdrawals", Filters(category="withdrawals")),
            ("month, one agent", Filters(agent=agent)),
            ("month, level 2, channel web_form", Filters(level=2, channel="web_form")),
        ]
        for label, filters in cases:
            results.append(await timed(f"service {label}", runs, lambda f=filters: service.summary(supervisor, MONTH, f)))
        year = Period(date(2025, 12, 1), date(2026, 11, 30))
        results.append(await timed("service year (365 days), no filter", max(3, runs // 3), lambda: service.summary(supervisor, year, Filters())))
        if plans:
            printer = PlanPrinter(str(path))
            await printer.open()
            try:
                service.db = printer
                await service.summary(supervisor, MONTH, Filters())
                print()
            finally:
                service.db = services.db
                await printer.close()
    finally:
        await close_services(services)
    return results


async def _supervisor(services: Any) -> ConsoleUser:
    from chatserver.store import users

    row = await users.by_email(services.db, BENCH_EMAIL)
    if row is None:
        row = await services.auth.create_user(email=BENCH_EMAIL, name="Bench Supervisor", role="supervisor", password=BENCH_PASSWORD)
    return ConsoleUser.from_row(row)


async def bench_http(path: Path, runs: int) -> list[dict[str, Any]]:
    app = create_app(settings_for(path), clock=fixed_clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    results = []
    try:
        services = app[keys.SERVICES]
        supervisor = await _supervisor(services)
        token = await services.auth.issue_api_token(supervisor.id, "bench")
        session = await services.auth.login(BENCH_EMAIL, BENCH_PASSWORD)
        cookie = cookies.sign(app[keys.SECRET_KEY], session.session_id)  # type: ignore[arg-type]
        base = str(server.make_url("")).rstrip("/")
        query = f"from={MONTH.first}&to={MONTH.last}"
        async with aiohttp.ClientSession() as http:

            async def get(url: str, headers: dict[str, str]) -> int:
                async with http.get(url, headers=headers, allow_redirects=False) as response:
                    body = await response.read()
                    assert response.status == 200, (url, response.status, body[:300])
                    return len(body)

            api = {"Authorization": f"Bearer {token}"}
            page = {"Cookie": f"{cookies.SESSION_COOKIE}={cookie}"}
            print(f"HTTP: {base}")
            results.append(await timed("GET /api/reports/summary (month)", runs, lambda: get(f"{base}/api/reports/summary?{query}", api)))
            results.append(await timed("GET /reports (month, HTML page)", runs, lambda: get(f"{base}/reports?{query}", page)))
            results.append(await export(http, f"{base}/reports/export/complaints.csv?{query}", api))
    finally:
        await server.close()
    return results


async def export(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> dict[str, Any]:
    """One month of complaints as CSV, read as it streams, while a ticker measures the event loop's stalls."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(0.005)
            worst = max(worst, (loop.time() - before - 0.005) * 1000)

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    size = lines = 0
    async with http.get(url, headers=headers) as response:
        assert response.status == 200, response.status
        async for chunk in response.content.iter_chunked(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
    elapsed = (time.perf_counter() - started) * 1000
    done.set()
    await tick
    print(f"  GET /reports/export/complaints.csv (month)                 {elapsed:7.1f} ms, {lines - 1:,} rows, "
          f"{size / 1e6:.1f} MB, longest event-loop stall {worst:.1f} ms", flush=True)
    return {"label": "export complaints.csv (month)", "ms": round(elapsed, 1), "rows": lines - 1, "bytes": size, "max_stall_ms": round(worst, 1)}


async def run(path: Path, args: argparse.Namespace) -> None:
    print(f"database: {path.stat().st_size / 1e9:.2f} GB; clock fixed at {END.isoformat()}; load average {os.getloadavg()[0]:.2f}")
    results = await bench_service(path, args.runs, args.plans)
    results += await bench_http(path, args.runs)
    out = CACHE / f"reports-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"database": path.name, "load_average": os.getloadavg(), "results": results}, indent=2))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--reseed", action="store_true")
    arguments = parser.parse_args()
    history = ensure_history(seed_history.Size(), arguments.reseed)  # before the loop: seeding runs its own
    asyncio.run(run(history, arguments))
