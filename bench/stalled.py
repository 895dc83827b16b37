"""Consoles that stop reading, next to a chat load: `python -m bench.stalled` (part of `make bench`).

    python -m bench.stalled                  # 1,000 customers + 100 agents at 500 msg/s, 40 consoles
    python -m bench.stalled --consoles 100 --seconds 30

A fresh database with agents and warm chats (bench/setup.py); `chatserver serve` pinned to CPU 0 under
bench/instrument.py (event-loop lag); the Node load generator (bench/loadgen.mjs) on CPU 1; this process
(CPU 1) keeps one supervisor's queue monitor open and reading throughout. After a window that is not
reported, three windows of the same chat load:

1. base: the chat load and the monitor;
2. consoles: plus N consoles that keep up (half queue monitors, half agents' second tabs), reading and
   discarding every frame;
3. stalled: plus the same N consoles, stopped reading (tests/stalled.py: they still answer the
   heartbeat, so only the send queue's bound could end them).

Window 3 against window 2 is what slow consumers cost everyone else; against window 1, what N more
consoles cost at all. Reported per window: chat ack latency, event-loop lag, server CPU, the server's
RSS growth, and the send queues at the window's end (bytes waiting, the largest, connections dropped).
Results are printed and written to var/bench/stalled-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bench.busy import Readers, watch_monitor
from bench.run import ROOT, LoadGen, Server, cpu_seconds, keep_off_the_server_cpu, rss_kb, wait_quiet
from tests.stalled import StalledClient  # the client the slow-consumer tests use

SUPERVISOR = ("stalled-supervisor@bench.test", "stalled-supervisor-password")
QUEUE_FIGURES = {
    "chatserver_socket_send_queue_bytes": "queued_bytes",
    "chatserver_socket_send_queue_largest_bytes": "largest_bytes",
    "chatserver_slow_connections_dropped_total": "dropped",
}


async def prepare(server: Server, customers: int, agents: int) -> tuple[list[str], list[str], str]:
    """Agents with warm chats, and a supervisor's API token for the monitors."""
    from chatserver.config import Settings
    from chatserver.services.container import build_services, close_services

    from bench.setup import seats_per_agent, seed

    settings = Settings(db=str(server.db), secret_key=server.secret)
    agent_tokens, customer_tokens = await seed(settings, agents, seats_per_agent(customers, agents), warm_customers=customers)
    services = await build_services(settings, server.secret)
    try:
        row = await services.auth.create_user(email=SUPERVISOR[0], name="Stalled Bench", role="supervisor", password=SUPERVISOR[1])
        token = await services.auth.issue_api_token(row["id"], "bench stalled")
    finally:
        await close_services(services)
    return agent_tokens, customer_tokens, token


async def consoles(url: str, token: str, agent_tokens: list[str], count: int) -> list[StalledClient]:
    """`count` consoles: queue monitors and second tabs of agents who are under load."""
    opened = []
    for n in range(count):
        if n % 2 == 0:
            opened.append(await StalledClient(url, "/monitor").connect(auth={"token": token}))
        else:
            opened.append(await StalledClient(url, "/agent").connect(auth={"token": agent_tokens[n % len(agent_tokens)]}))
    return opened


async def send_queues(url: str) -> dict[str, float]:
    """The send-queue figures of GET /metrics (a direct local request needs no token)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/metrics") as response:
            text = await response.text()
    return {QUEUE_FIGURES[s.name]: s.value for family in text_string_to_metric_families(text) for s in family.samples
            if s.name in QUEUE_FIGURES}


async def window(name: str, server: Server, loadgen: LoadGen, trace: Path, opened: list[StalledClient], reading: bool) -> dict[str, Any]:
    readers = [asyncio.ensure_future(console.keep_reading()) for console in opened] if reading else []
    if not reading:
        for console in opened:
            console.stall()  # answers the heartbeat blindly: only the send queue's bound may end it
    before = await send_queues(server.url)
    rss0, cpu0, wall0 = rss_kb(server.pid), cpu_seconds(server.pid), time.monotonic()
    os.kill(server.pid, signal.SIGUSR1)
    await loadgen.command("go")
    load = await loadgen.expect("result", timeout=120)
    os.kill(server.pid, signal.SIGUSR2)
    cpu, wall = cpu_seconds(server.pid) - cpu0, time.monotonic() - wall0
    after = await send_queues(server.url)
    rss1 = rss_kb(server.pid)
    for task in readers:
        task.cancel()
    await asyncio.sleep(1.0)  # the trace is written on SIGUSR2
    lag = json.loads(trace.read_text())["loop_lag_ms"]
    return {
        "window": name, "consoles": len(opened), "reading": reading, "load": load, "lag": lag,
        "server_cpu_pct": round(100 * cpu / wall, 1), "rss_growth_kb": rss1 - rss0,
        "queues": {"queued_bytes": after.get("queued_bytes", 0.0), "largest_bytes": after.get("largest_bytes", 0.0),
                   "dropped": after.get("dropped", 0.0) - before.get("dropped", 0.0)},
    }


def report(result: dict[str, Any]) -> str:
    load, lag, queues = result["load"], result["lag"], result["queues"]
    what = "chat load + monitor"
    if result["consoles"]:
        what += f" + {result['consoles']} consoles " + ("reading" if result["reading"] else "that stopped reading")
    return "\n".join([
        f"== {result['window']}: {what}",
        f"  chat ack ms p50 / p99 / max: {load['ack_ms']['p50']} / {load['ack_ms']['p99']} / {load['ack_ms']['max']}; "
        f"end-to-end p99 {load['e2e_ms']['p99']}; achieved {load['achieved_rate']:.0f} msg/s; lost {load['lost_acked']}, "
        f"timeouts {load['ack_timeouts']}",
        f"  event-loop lag ms p99 / max: {lag['p99']} / {lag['max']}; server CPU {result['server_cpu_pct']}% of its core; "
        f"RSS {result['rss_growth_kb'] / 1024:+.1f} MB over the window",
        f"  send queues at the end: {queues['queued_bytes'] / 1024:.0f} KB waiting, the largest {queues['largest_bytes'] / 1024:.0f} KB; "
        f"{queues['dropped']:.0f} connections dropped",
    ])


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="chatserver-stalled-"))
    trace = workdir / "trace.json"
    server = Server(workdir, {}, {"BENCH_GC_TRACE": str(trace)})
    loadgen: LoadGen | None = None
    monitor_stop = asyncio.Event()
    opened: list[StalledClient] = []
    try:
        agent_tokens, customer_tokens, token = await prepare(server, args.customers, args.agents)
        server.start()
        await server.wait_healthy()
        loadgen = LoadGen({
            "url": server.url, "agentTokens": agent_tokens, "customerTokens": customer_tokens, "customers": args.customers,
            "rate": args.rate, "seconds": args.seconds, "connectConcurrency": 50, "hardTimeoutMs": int((600 + 4 * (args.seconds + 60)) * 1000),
        })
        await loadgen.start(workdir)
        await loadgen.expect("ready", timeout=300)
        monitor = asyncio.ensure_future(watch_monitor(server.url, token, Readers(), monitor_stop))
        await window("warm-up", server, loadgen, trace, [], True)
        results = []
        for name, count, reading in (("base", 0, True), ("consoles", args.consoles, True), ("stalled", args.consoles, False)):
            if count and not opened:
                opened = await consoles(server.url, token, agent_tokens, count)
            await wait_quiet(server.pid, loadgen.pid, 30)
            result = await window(name, server, loadgen, trace, opened if count else [], reading)
            print(report(result), flush=True)
            results.append(result)
        monitor_stop.set()
        await monitor
        for problem in server.log_problems()[:10]:
            print(f"  server log: {problem[:200]}")
        return results
    finally:
        for console in opened:
            await console.close()
        if loadgen is not None:
            await loadgen.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stalled", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rate", type=float, default=500.0, help="aggregate message:send per second")
    parser.add_argument("--consoles", type=int, default=40, help="consoles that keep up, then stop reading")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured window")
    args = parser.parse_args(argv)
    keep_off_the_server_cpu()
    started = datetime.now(timezone.utc)
    print(f"chatserver stalled-consoles bench {started:%Y-%m-%d %H:%M} UTC: {args.customers} customers + {args.agents} agents at "
          f"{args.rate:.0f} msg/s, {args.consoles} consoles, {args.seconds:.0f} s windows", flush=True)
    results = asyncio.run(run(args))
    out = ROOT / "var" / "bench" / f"stalled-{started:%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"started": started.isoformat(), "results": results}, indent=2))
    print(f"\nresults: {out}")
    return 0 if len(results) == 3 else 1


if __name__ == "__main__":
    sys.exit(main())
