"""Event-loop lag under chat load while a monitor watches, reports are read and a large CSV export streams:
`python -m bench.busy` (part of `make bench`).

    python -m bench.busy                    # 1,000 customers + 100 agents at 500 msg/s, two 20 s windows
    python -m bench.busy --rate 1000 --seconds 30

On a copy of the reports benchmark's year of history (bench/seed_history.py, cached by bench.reports:
1 million complaints, 5 million messages), `chatserver serve` runs pinned to CPU 0 under
bench/instrument.py, whose 10 ms ticker records how late the event loop runs it (the lag) inside each
measured window. The Node load generator (bench/loadgen.mjs, CPU 1) keeps customers and agents, seeded
into assigned chats, writing at the target rate. This process (CPU 1) is a supervisor with the queue
monitor open (`monitor:snapshot` after every change, `monitor:floor` from the database). After a
window that is not reported (caches warm up), two are measured:

1. chat: the chat load and the monitor only;
2. busy: the same, plus a month's complaints export (`/reports/export/complaints.csv`, 97,000 rows,
   24 MB) streamed again and again, and the month's summary (`/api/reports/summary`) and the reports
   page (`/reports`) asked in turn, one request a second.

Lag is reported as p50 / p99 / max of the ticks against the 100 ms target, with chat latency and what
the readers got done. Results are printed and written to var/bench/busy-<timestamp>.json.
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
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from bench import seed_history
from bench.reports import CACHE, ensure_history
from bench.run import (
    ROOT, SERVER_CPU, LoadGen, Server, cpu_seconds, cpu_ticks, keep_off_the_server_cpu, others_pct, rss_kb, wait_quiet,
)

LAG_TARGET_MS = 100.0
SWEEP_SECONDS = 30.0  # CHATSERVER_SLA_SWEEP_SECONDS' default
MONTH = (date(2026, 11, 1), date(2026, 11, 30))  # the history's last full month
SUPERVISOR = ("busy-supervisor@bench.test", "busy-supervisor-password")


@dataclass
class Readers:
    """What the supervisor side got done in a window."""

    exports: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    snapshots: int = 0
    floors: int = 0
    errors: list[str] = field(default_factory=list)


async def prepare(workdir: Path, history: Path, customers: int, agents: int, secret: str) -> tuple[Path, list[str], list[str], str, str]:
    """A copy of the history with agents, warm chats and a supervisor (API token and console session)."""
    from chatserver.config import Settings
    from chatserver.services.container import build_services, close_services
    from chatserver.transport import cookies

    from bench.setup import seats_per_agent, seed

    db = workdir / "bench.db"
    started = time.monotonic()
    shutil.copyfile(history, db)  # the cached history stays as seeded; the live server writes to the copy
    os.sync()  # 3 GB of dirty pages would make the kernel throttle the server's own writes (its log) later
    print(f"  copied the history ({db.stat().st_size / 1e9:.1f} GB) in {time.monotonic() - started:.0f} s", flush=True)
    settings = Settings(db=str(db), secret_key=secret)
    agent_tokens, customer_tokens = await seed(settings, agents, seats_per_agent(customers, agents), warm_customers=customers)
    services = await build_services(settings, secret)
    try:
        row = await services.auth.create_user(email=SUPERVISOR[0], name="Busy Supervisor", role="supervisor", password=SUPERVISOR[1])
        token = await services.auth.issue_api_token(row["id"], "bench busy")
        session = await services.auth.login(*SUPERVISOR)
        cookie = f"{cookies.SESSION_COOKIE}={cookies.sign(secret, session.session_id)}"  # type: ignore[arg-type]
    finally:
        await close_services(services)
    return db, agent_tokens, customer_tokens, token, cookie


async def watch_monitor(url: str, token: str, readers: Readers, stop: asyncio.Event) -> None:
    sio = socketio.AsyncClient(reconnection=False)

    def snapshot(_: Any) -> None:
        readers.snapshots += 1

    def figures(_: Any) -> None:
        readers.floors += 1

    sio.on("monitor:snapshot", snapshot, namespace="/monitor")
    sio.on("monitor:floor", figures, namespace="/monitor")
    await sio.connect(url, namespaces=["/monitor"], auth={"token": token}, transports=["websocket"], wait_timeout=30)
    try:
        await stop.wait()
    finally:
        await sio.disconnect()


async def export_again_and_again(http: aiohttp.ClientSession, url: str, token: str, readers: Readers, stop: asyncio.Event) -> None:
    query = f"from={MONTH[0]}&to={MONTH[1]}"
    while not stop.is_set():
        started = time.monotonic()
        size = lines = chunks = 0
        try:
            async with http.get(f"{url}/reports/export/complaints.csv?{query}", headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status != 200:
                    readers.errors.append(f"export answered {response.status}")
                    await asyncio.sleep(1)
                    continue
                async for data, end_of_chunk in response.content.iter_chunks():
                    size += len(data)
                    lines += data.count(b"\n")
                    chunks += end_of_chunk
        except aiohttp.ClientError as exc:
            readers.errors.append(f"export: {exc}")
            continue
        readers.exports.append({"seconds": round(time.monotonic() - started, 2), "rows": lines - 1, "bytes": size, "http_chunks": chunks})


async def read_reports(http: aiohttp.ClientSession, url: str, token: str, cookie: str, readers: Readers, stop: asyncio.Event) -> None:
    query = f"from={MONTH[0]}&to={MONTH[1]}"
    asks = [
        ("GET /api/reports/summary", f"{url}/api/reports/summary?{query}", {"Authorization": f"Bearer {token}"}),
        ("GET /reports", f"{url}/reports?{query}", {"Cookie": cookie}),
    ]
    turn = 0
    while not stop.is_set():
        label, target, headers = asks[turn % len(asks)]
        turn += 1
        started = time.monotonic()
        try:
            async with http.get(target, headers=headers, allow_redirects=False) as response:
                await response.read()
                if response.status != 200:
                    readers.errors.append(f"{label} answered {response.status}")
        except aiohttp.ClientError as exc:
            readers.errors.append(f"{label}: {exc}")
        readers.reports.append({"what": label, "seconds": round(time.monotonic() - started, 3)})
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass


async def settle(server: Server, limit: float = 900.0) -> float:
    """Wait until the start-up backlog is worked off: the history ends days before today, so the first
    SLA sweeps escalate and close thousands of complaints, and the mail worker then has tens of
    thousands of notices to deliver. The windows measure the steady state after that: no notice
    pending and no sweep that fired anything for longer than a sweep interval."""
    started = time.monotonic()
    quiet_since, fired = time.monotonic(), -1
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < limit:
            async with http.get(f"{server.url}/metrics") as response:
                text = await response.text()
            pending = next((float(line.split()[-1]) for line in text.splitlines() if line.startswith("chatserver_mail_outbox_pending ")), 0.0)
            sweeps = server.log_path.read_text(errors="replace").count("SLA sweep:")
            if pending > 0 or sweeps != fired:
                quiet_since, fired = time.monotonic(), sweeps
            elif time.monotonic() - quiet_since > SWEEP_SECONDS + 5:
                break
            await asyncio.sleep(2.0)
    return round(time.monotonic() - started, 1)


async def window(name: str, server: Server, loadgen: LoadGen, seconds: float, busy: bool, token: str, cookie: str, trace: Path) -> dict[str, Any]:
    readers = Readers()
    stop = asyncio.Event()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=60)) as http:
        tasks = [asyncio.ensure_future(watch_monitor(server.url, token, readers, stop))]
        await asyncio.sleep(1.0)  # the monitor's first snapshot and figures are not part of the window
        if busy:
            tasks.append(asyncio.ensure_future(export_again_and_again(http, server.url, token, readers, stop)))
            tasks.append(asyncio.ensure_future(read_reports(http, server.url, token, cookie, readers, stop)))
        cpu0, wall0, ticks0 = cpu_seconds(server.pid), time.monotonic(), cpu_ticks()
        os.kill(server.pid, signal.SIGUSR1)
        await loadgen.command("go")
        load = await loadgen.expect("result", timeout=seconds + 60)
        os.kill(server.pid, signal.SIGUSR2)
        cpu, wall = cpu_seconds(server.pid) - cpu0, time.monotonic() - wall0
        others, steal = others_pct(ticks0, cpu_ticks(), SERVER_CPU, cpu, wall)
        stop.set()
        await asyncio.gather(*tasks)
    await asyncio.sleep(1.0)  # the trace is written on SIGUSR2
    lag = json.loads(trace.read_text())
    return {
        "window": name, "busy": busy, "load": load, "lag": lag["loop_lag_ms"], "gc": lag["gc"], "stalls": lag.get("stall_stacks", []),
        "server_cpu_pct": round(100 * cpu / wall, 1), "rss_kb": rss_kb(server.pid),
        "others_on_server_cpu_pct": others, "steal_pct": steal,
        "monitor": {"snapshots": readers.snapshots, "floors": readers.floors},
        "exports": readers.exports, "reports": readers.reports, "errors": readers.errors[:10],
    }


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{1000 * ordered[len(ordered) // 2]:.0f} / {1000 * ordered[-1]:.0f}"


def report(result: dict[str, Any]) -> str:
    load, lag = result["load"], result["lag"]
    out = [f"== {result['window']}: " + ("chat load + monitor + reports + export" if result["busy"] else "chat load + monitor")]
    out.append(f"  event-loop lag ms p50 / p95 / p99 / max: {lag['p50']} / {lag['p95']} / {lag['p99']} / {lag['max']} "
               f"({lag['ticks']} ticks of 10 ms; over 50 ms: {lag['over_50ms']}, over 100 ms: {lag['over_100ms']})")
    out.append(f"  chat: offered {load['offered_rate']:.0f} msg/s, achieved {load['achieved_rate']:.0f}; ack ms p50/p99/max "
               f"{load['ack_ms']['p50']} / {load['ack_ms']['p99']} / {load['ack_ms']['max']}; end-to-end p50/p99/max "
               f"{load['e2e_ms']['p50']} / {load['e2e_ms']['p99']} / {load['e2e_ms']['max']}; lost {load['lost_acked']}, "
               f"ack errors {load['ack_errors']}, timeouts {load['ack_timeouts']}")
    out.append(f"  server CPU {result['server_cpu_pct']}% of its core (other processes {result['others_on_server_cpu_pct']}%, "
               f"steal {result['steal_pct']}%), RSS {result['rss_kb'] / 1024:.0f} MB; "
               f"monitor got {result['monitor']['snapshots']} snapshots and {result['monitor']['floors']} figure updates")
    if result["busy"]:
        exports = result["exports"]
        if exports:
            out.append(f"  exports: {len(exports)} complete, {exports[0]['rows']:,} rows and {exports[0]['bytes'] / 1e6:.1f} MB each in "
                       f"{exports[0]['http_chunks']} HTTP chunks, seconds p50/max {_ms([e['seconds'] for e in exports])} ms")
        for what in ("GET /api/reports/summary", "GET /reports"):
            times = [r["seconds"] for r in result["reports"] if r["what"] == what]
            out.append(f"  {what}: {len(times)} answered, ms p50/max {_ms(times)}")
    for samples, stack in result.get("stalls", [])[:5]:
        out.append(f"  stalled {10 * samples} ms in: {' <- '.join(reversed(stack[-4:]))}")
    for error in result["errors"]:
        out.append(f"  error: {error}")
    gcs = result["gc"]
    out.append("  garbage collections in the window: " + ", ".join(f"gen{g} {v['count']}x max {v['max_ms']} ms" for g, v in gcs.items()))
    ok = lag["max"] is not None and lag["max"] <= LAG_TARGET_MS
    out.append(f"  -> target event-loop lag <= {LAG_TARGET_MS:.0f} ms at every tick: {'MET' if ok else 'MISSED'} (max {lag['max']} ms, p99 {lag['p99']} ms)")
    return "\n".join(out)


async def run(args: argparse.Namespace, history: Path) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="chatserver-busy-", dir=CACHE))
    trace = workdir / "trace.json"
    secret = os.urandom(16).hex()
    server: Server | None = None
    loadgen: LoadGen | None = None
    try:
        db, agent_tokens, customer_tokens, token, cookie = await prepare(workdir, history, args.customers, args.agents, secret)
        server = Server(workdir, {"CHATSERVER_SECRET_KEY": secret}, {"BENCH_GC_TRACE": str(trace)})
        server.db = db
        server.secret = secret
        started = time.monotonic()
        server.start()
        await server.wait_healthy(timeout=600)  # the first SLA sweep over the history runs before the server listens
        print(f"  server up in {time.monotonic() - started:.0f} s; start-up backlog delivered after {await settle(server):.0f} s more", flush=True)
        loadgen = LoadGen({
            "url": server.url, "agentTokens": agent_tokens, "customerTokens": customer_tokens, "customers": args.customers,
            "rate": args.rate, "seconds": args.seconds, "connectConcurrency": 50,
            "hardTimeoutMs": int((600 + 2 * (args.seconds + 90)) * 1000),
        })
        await loadgen.start(workdir)
        ready = await loadgen.expect("ready", timeout=300)
        print(f"  {ready['customers']['in_chat']} customers in chats with {ready['agents']['connected']} agents", flush=True)
        # a window not reported: the first minutes of load on a copied file read index pages from disk
        warm = await window("warm-up", server, loadgen, args.seconds, False, token, cookie, trace)
        print(f"  warm-up window: event-loop lag max {warm['lag']['max']} ms, ack p99 {warm['load']['ack_ms']['p99']} ms", flush=True)
        results = []
        for name, busy in (("chat", False), ("busy", True)):
            os.sync()  # what the backlog and the last window wrote is on disk before the next one
            waited = await wait_quiet(server.pid, loadgen.pid, 30)
            result = await window(name, server, loadgen, args.seconds, busy, token, cookie, trace)
            result["waited_for_quiet_s"] = waited
            print(report(result), flush=True)
            results.append(result)
        await loadgen.stop()
        for problem in server.log_problems()[:10]:
            print(f"  server log: {problem[:200]}")
        return results
    finally:
        if loadgen is not None:
            await loadgen.close()
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.busy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rate", type=float, default=500.0, help="aggregate message:send per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured window")
    args = parser.parse_args(argv)
    keep_off_the_server_cpu()
    history = ensure_history(seed_history.Size(), reseed=False)
    started = datetime.now(timezone.utc)
    print(f"chatserver busy-loop bench {started:%Y-%m-%d %H:%M} UTC: {args.customers} customers + {args.agents} agents at "
          f"{args.rate:.0f} msg/s, {args.seconds:.0f} s windows", flush=True)
    results = asyncio.run(run(args, history))
    out = ROOT / "var" / "bench" / f"busy-{started:%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"started": started.isoformat(), "results": results}, indent=2))
    print(f"\nresults: {out}")
    return 0 if len(results) == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
