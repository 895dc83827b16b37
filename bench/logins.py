"""What a burst of sign-ins costs everyone else: `python -m bench.logins` (part of `make bench`).

    python -m bench.logins                  # bursts of 10 and 30 wrong passwords, 5 of each
    python -m bench.logins --bursts 10 --sizes 10,30,60

A password check (argon2id) takes about 0.1 s of CPU on purpose. A fresh database with one agent;
`chatserver serve` pinned to CPU 0 with the sign-in limit lifted; this process on CPU 1 sends bursts
of simultaneous sign-ins with a wrong password while a probe asks `/healthz` every 10 ms (any other
page, socket event or chat message waits for the event loop the same way). Reported per burst size:
how long the burst took and the probe's latency during the bursts (median, p99, max).
Results are printed and written to var/bench/logins-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

from bench.run import ROOT, Server, keep_off_the_server_cpu

AGENT = ("logins-agent@bench.test", "the-right-password")


async def prepare(server: Server) -> None:
    from chatserver.config import Settings
    from chatserver.services.container import build_services, close_services

    services = await build_services(Settings(db=str(server.db), secret_key=server.secret), server.secret)
    try:
        await services.auth.create_user(email=AGENT[0], name="Agent", role="agent", password=AGENT[1])
    finally:
        await close_services(services)


async def wrong_sign_in(url: str) -> int:
    """One browser's attempt: the sign-in page (for its CSRF cookie), then the form."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(url + "/login") as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert token is not None, "no CSRF token on the sign-in page"
        form = {"email": AGENT[0], "password": "a-wrong-password", "csrf_token": token.group(1)}
        async with http.post(url + "/login", data=form, allow_redirects=False) as answer:
            return answer.status


async def probe(url: str, stop: asyncio.Event, latencies: list[float]) -> None:
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            began = time.perf_counter()
            async with http.get(url + "/healthz") as answer:
                await answer.read()
            latencies.append((time.perf_counter() - began) * 1000)
            await asyncio.sleep(0.01)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def measure(url: str, size: int, bursts: int) -> dict[str, Any]:
    durations, latencies, statuses = [], [], set()
    for _ in range(bursts):
        stop, seen = asyncio.Event(), []  # type: ignore[var-annotated]
        prober = asyncio.create_task(probe(url, stop, seen))
        await asyncio.sleep(0.2)
        began = time.perf_counter()
        statuses |= set(await asyncio.gather(*(wrong_sign_in(url) for _ in range(size))))
        durations.append(time.perf_counter() - began)
        stop.set()
        await prober
        latencies += seen
        await asyncio.sleep(0.5)
    assert statuses == {401}, f"expected every attempt to be a wrong password (401), got {statuses}"
    return {"burst": size, "bursts": bursts, "burst_seconds": round(statistics.median(durations), 2),
            "probes": len(latencies), "probe_latency": summary(latencies)}


async def main(bursts: int, sizes: list[int]) -> dict[str, Any]:
    keep_off_the_server_cpu()
    workdir = Path(tempfile.mkdtemp(prefix="bench-logins-"))
    server = Server(workdir, {"CHATSERVER_LOGINS_PER_MINUTE": "1000000"})
    try:
        await prepare(server)
        server.start()
        await server.wait_healthy()
        return {"results": [await measure(server.url, size, bursts) for size in sizes]}
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bursts", type=int, default=5, help="bursts of each size (default 5)")
    parser.add_argument("--sizes", default="10,30", help="sign-ins per burst, comma-separated (default 10,30)")
    args = parser.parse_args()
    report = asyncio.run(main(args.bursts, [int(s) for s in args.sizes.split(",")]))
    for row in report["results"]:
        latency = row["probe_latency"]
        print(f"{row['burst']:>3} wrong sign-ins at once: {row['burst_seconds']:.2f} s a burst; other requests meanwhile "
              f"median {latency['median_ms']} ms, p99 {latency['p99_ms']} ms, max {latency['max_ms']} ms ({row['probes']} probes)")
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (out / f"logins-{stamp}.json").write_text(json.dumps(report, indent=2))
