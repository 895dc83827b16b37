"""Run the benchmark: `python -m bench.run` (the standard scenarios) or one scenario by flags.

    python -m bench.run                                   # scenarios a, b, c (about 3-4 minutes)
    python -m bench.run --customers 1000 --agents 100 --rate 1000 --seconds 20
    python -m bench.run --compare                         # scenario a once per tuning variant
    python -m bench.run --idle 5000 --variant deflate     # idle memory only

Each scenario gets a fresh SQLite file with M agents and API tokens (bench/setup.py), then
`chatserver serve` pinned to CPU 0 (`taskset -c 0`) and the Node load generator
(bench/loadgen.mjs) pinned to CPU 1; this process also stays on CPU 1. Only 127.0.0.1 is used.
Server memory is VmRSS from /proc/<pid>/status, CPU is utime+stime from /proc/<pid>/stat (all
threads, so SQLite's writer thread counts). Results are printed and written as JSON to
var/bench/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def write_results(name: str, results: object) -> Path:
    """Results as JSON in var/bench/<name>-<UTC time>.json, the file named on stdout."""
    out = ROOT / "var" / "bench" / f"{name}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written to {out.relative_to(ROOT)}")
    return out
LOADGEN = Path(__file__).resolve().parent / "loadgen.mjs"
SERVER_CPU = 0
LOADGEN_CPU = 1
CLK_TCK = os.sysconf("SC_CLK_TCK")

# name -> settings that differ from the shipped defaults (uvloop, gc tuning on; deflate off)
VARIANTS: dict[str, dict[str, str]] = {
    "tuned": {},
    "deflate": {"CHATSERVER_WEBSOCKET_COMPRESSION": "1"},
    "gc-default": {"CHATSERVER_GC_TUNING": "0"},
    "no-uvloop": {"CHATSERVER_UVLOOP": "0"},
    "untuned": {"CHATSERVER_WEBSOCKET_COMPRESSION": "1", "CHATSERVER_GC_TUNING": "0", "CHATSERVER_UVLOOP": "0",
                "CHATSERVER_SOCKETIO_FAST_PATH": "0"},
    # python-socketio's stock packet class (json module, binary walk) and manager (a task per recipient)
    "stock-socketio": {"CHATSERVER_SOCKETIO_FAST_PATH": "0"},
    # other collector thresholds than cli.py's (10000, 50, 100), through bench/instrument.py
    "gc-100k": {"BENCH_GC_THRESHOLD": "100000,50,100"},
}
COMPARE_DEFAULT = ["tuned", "stock-socketio", "deflate", "gc-default", "no-uvloop", "untuned"]
TUNING_ENV = ("CHATSERVER_WEBSOCKET_COMPRESSION", "CHATSERVER_GC_TUNING", "CHATSERVER_UVLOOP", "CHATSERVER_SOCKETIO_FAST_PATH")


@dataclass
class Scenario:
    name: str
    customers: int
    agents: int
    rate: float
    seconds: float
    variant: str = "tuned"
    idle_only: bool = False
    # customers already in assigned chats at server start (bench/setup.py) instead of chat:start
    warm: bool = False
    target_p99_ms: float | None = None
    target_zero_loss: bool = False
    idle_seconds: float = 5.0
    profile_to: str | None = None
    trace_gc: bool = False
    settle_seconds: float = 3.0
    quiet_wait: float = 30.0
    agent_share: float = 0.5
    body_bytes: int = 100


@dataclass
class Result:
    scenario: Scenario
    data: dict[str, Any] = field(default_factory=dict)


# -- /proc ----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (every thread), in seconds."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_split(pid: int) -> dict[str, float]:
    """CPU seconds of the main thread and of all other threads (SQLite's), user and system."""
    split = {"main": 0.0, "threads": 0.0, "user": 0.0, "system": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            raw = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        fields = raw[raw.rindex(")") + 2 :].split()
        user, system = int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK
        split["main" if task.name == str(pid) else "threads"] += user + system
        split["user"] += user
        split["system"] += system
    return split


def cpu_ticks() -> dict[int, tuple[int, int]]:
    """Per CPU: (busy, steal) clock ticks since boot, from /proc/stat."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            v = [int(x) for x in values]
            idle = v[3] + v[4]
            steal = v[7] if len(v) > 7 else 0
            out[int(name[3:])] = (sum(v[:8]) - idle - steal, steal)
    return out


def others_pct(t0: dict[int, tuple[int, int]], t1: dict[int, tuple[int, int]], cpu: int, own_seconds: float, wall: float) -> tuple[float, float]:
    """(% of `cpu` used by everything but our process, % stolen by the hypervisor) over a window."""
    busy = (t1[cpu][0] - t0[cpu][0]) / CLK_TCK
    steal = (t1[cpu][1] - t0[cpu][1]) / CLK_TCK
    return round(max(0.0, 100 * (busy - own_seconds) / wall), 1), round(100 * steal / wall, 1)


async def wait_quiet(server_pid: int, loadgen_pid: int, max_seconds: float, limit_pct: float = 10.0) -> float:
    """Wait (at most `max_seconds`) until other processes use under `limit_pct` of either CPU for
    two seconds running: other test suites or browsers on the machine distort tail latencies.
    Returns the seconds waited."""
    began = time.monotonic()
    quiet = 0
    while time.monotonic() - began < max_seconds:
        t0, s0, g0, me0, w0 = cpu_ticks(), cpu_seconds(server_pid), cpu_seconds(loadgen_pid), cpu_seconds(os.getpid()), time.monotonic()
        await asyncio.sleep(1.0)
        t1, s1, g1, me1, w1 = cpu_ticks(), cpu_seconds(server_pid), cpu_seconds(loadgen_pid), cpu_seconds(os.getpid()), time.monotonic()
        server_side = others_pct(t0, t1, SERVER_CPU, s1 - s0, w1 - w0)[0]
        loadgen_side = others_pct(t0, t1, LOADGEN_CPU, (g1 - g0) + (me1 - me0), w1 - w0)[0]
        quiet = quiet + 1 if server_side < limit_pct and loadgen_side < limit_pct else 0
        if quiet >= 2:
            break
    return round(time.monotonic() - began, 1)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the bench process dies, however it dies, so that
    no server or load generator outlives it (PR_SET_PDEATHSIG survives exec)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def keep_off_the_server_cpu() -> None:
    """This process runs beside the load generator, never on the server's core."""
    try:
        os.sched_setaffinity(0, {LOADGEN_CPU})
    except (AttributeError, OSError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the server -----------------------------------------------------------------------------


class Server:
    def __init__(self, workdir: Path, env_overrides: dict[str, str], instrument: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.instrument = dict(instrument or {})
        self.instrument.update({k: v for k, v in env_overrides.items() if k.startswith("BENCH_")})
        self.signals = any(k in self.instrument for k in ("BENCH_PROFILE", "BENCH_GC_TRACE"))
        self.db = workdir / "bench.db"
        self.port = free_port()
        self.secret = secrets.token_hex(32)
        self.env_overrides = env_overrides
        self.log_path = workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
        env.update(
            {
                "CHATSERVER_SECRET_KEY": self.secret,
                # every simulated customer comes from 127.0.0.1: lift the per-address limits
                "CHATSERVER_CHAT_STARTS_PER_MINUTE": "10000000",
                "CHATSERVER_CUSTOMER_EVENTS_PER_ADDRESS_PER_MINUTE": "10000000",
                "CHATSERVER_SOCKET_CONNECTS_PER_MINUTE": "10000000",
                "CHATSERVER_SOCKET_SESSIONS_PER_ADDRESS": "10000000",
                "CHATSERVER_WAITING_CHATS_PER_ADDRESS": "10000000",
                # nothing may time out into a complaint or lose its agent during a run
                "CHATSERVER_QUEUE_TIMEOUT": "86400",
                "CHATSERVER_AGENT_GRACE": "3600",
            }
        )
        env.update(self.env_overrides)
        return env

    def start(self) -> None:
        exe = Path(sys.executable).parent / "chatserver"
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "chatserver"]
        env = self.env()
        if self.instrument:
            command = [sys.executable, "-m", "bench.instrument"]
            env.update(self.instrument)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        command += ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--db", str(self.db)]
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(SERVER_CPU), *command], env=env, cwd=self.workdir,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )
        log.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def wait_healthy(self, timeout: float = 60.0) -> None:
        import aiohttp

        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    async with http.get(self.url + "/healthz", timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the server did not become healthy in {timeout}s:\n{self.log_tail()}")

    async def negotiates_deflate(self) -> bool:
        """Offer permessage-deflate like a browser does and see whether the server takes it."""
        import aiohttp

        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(self.url + "/socket.io/?EIO=4&transport=websocket", compress=15) as ws:
                negotiated = bool(ws.compress)
                await ws.close()
        return negotiated

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_problems(self) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [l for l in text.splitlines() if " ERROR " in l or " CRITICAL " in l or "Traceback" in l]


# -- the load generator ---------------------------------------------------------------------


class LoadGen:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr_path: Path | None = None

    async def start(self, workdir: Path) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed; the load generator needs Node.js")
        self.stderr_path = workdir / "loadgen.err"
        err = open(self.stderr_path, "wb")
        config = workdir / "loadgen.json"  # thousands of tokens do not fit in one argument
        config.write_text(json.dumps(self.config))
        self.proc = await asyncio.create_subprocess_exec(
            "taskset", "-c", str(LOADGEN_CPU), node, str(LOADGEN), str(config),
            cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
            limit=16 * 1024 * 1024, preexec_fn=_die_with_parent,
        )
        err.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def expect(self, phase: str, timeout: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        for _ in range(10_000):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                line = await asyncio.wait_for(self.proc.stdout.readline(), remaining)
            except asyncio.TimeoutError:
                break
            if not line:
                raise RuntimeError(f"the load generator exited while waiting for {phase!r}: {self.stderr_tail()}")
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            if message.get("phase") == "error":
                raise RuntimeError(f"load generator failed: {message.get('error')}")
            if message.get("phase") == phase:
                return message
        raise RuntimeError(f"the load generator sent no {phase!r} within {timeout:.0f}s")

    async def command(self, text: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((text + "\n").encode())
        await self.proc.stdin.drain()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            await self.command("quit")
            await asyncio.wait_for(self.proc.wait(), 30)
        except (asyncio.TimeoutError, BrokenPipeError, ConnectionResetError):
            self.proc.kill()
            await self.proc.wait()

    async def close(self) -> None:
        """Stop for a `finally:` block: whatever went wrong before, never raises."""
        try:
            await self.stop()
        except Exception:
            pass

    def stderr_tail(self) -> str:
        if self.stderr_path is None:
            return ""
        try:
            return self.stderr_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


# -- one scenario ---------------------------------------------------------------------------


async def run_scenario(sc: Scenario) -> Result:
    from chatserver.config import Settings
    from bench.setup import seats_per_agent, seed

    result = Result(sc)
    d = result.data
    workdir = Path(tempfile.mkdtemp(prefix="chatserver-bench-"))
    env = dict(VARIANTS[sc.variant])
    instrument = {}
    if sc.profile_to:
        instrument["BENCH_PROFILE"] = sc.profile_to
    if sc.trace_gc:
        instrument["BENCH_GC_TRACE"] = str(workdir / "gc-trace.json")
    server = Server(workdir, env, instrument)
    loadgen: LoadGen | None = None
    try:
        max_chats = seats_per_agent(sc.customers, sc.agents) if sc.agents else 0
        t = time.monotonic()
        tokens, customer_tokens = await seed(
            Settings(db=str(server.db), secret_key=server.secret), sc.agents, max_chats,
            warm_customers=sc.customers if sc.warm and not sc.idle_only else 0,
        )
        d["seed_seconds"] = round(time.monotonic() - t, 2)
        d["max_chats"] = max_chats
        server.start()
        await server.wait_healthy()
        d["deflate_negotiated"] = await server.negotiates_deflate()
        await asyncio.sleep(1.0)
        d["rss_start_kb"] = rss_kb(server.pid)

        connections = sc.customers + sc.agents
        loadgen = LoadGen(
            {
                "url": server.url, "agentTokens": tokens, "customerTokens": customer_tokens, "customers": sc.customers, "rate": sc.rate,
                "seconds": sc.seconds, "agentShare": sc.agent_share, "bodyBytes": sc.body_bytes,
                "idleOnly": sc.idle_only, "connectConcurrency": 50,
                "hardTimeoutMs": int((180 + connections * 0.1 + sc.idle_seconds + sc.settle_seconds + sc.seconds + 60) * 1000),
            }
        )
        cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
        await loadgen.start(workdir)
        ready = await loadgen.expect("ready", timeout=120 + connections * 0.1)
        d["setup"] = ready
        d["setup_server_cpu_s"] = round(cpu_seconds(server.pid) - cpu0, 2)
        d["setup_wall_s"] = round(time.monotonic() - wall0, 2)
        connected = ready["agents"]["connected"] + ready["customers"]["connected"]
        d["connections"] = connected
        if connected < connections:
            print(f"  warning: only {connected} of {connections} connected; first error: "
                  f"{ready['customers']['firstError'] or ready['agents']['firstError']}", flush=True)

        await asyncio.sleep(sc.settle_seconds)
        d["rss_connected_kb"] = rss_kb(server.pid)
        d["kb_per_connection"] = round((d["rss_connected_kb"] - d["rss_start_kb"]) / max(1, connected), 1)
        c0, w0 = cpu_seconds(server.pid), time.monotonic()
        await asyncio.sleep(sc.idle_seconds)
        d["idle_server_cpu_pct"] = round(100 * (cpu_seconds(server.pid) - c0) / (time.monotonic() - w0), 2)

        if not sc.idle_only:
            if sc.quiet_wait > 0:
                d["waited_for_quiet_s"] = await wait_quiet(server.pid, loadgen.pid, sc.quiet_wait)
            split0, ticks0 = cpu_split(server.pid), cpu_ticks()
            s0, g0, w0 = cpu_seconds(server.pid), cpu_seconds(loadgen.pid), time.monotonic()
            if server.signals:
                os.kill(server.pid, signal.SIGUSR1)
            await loadgen.command("go")
            load = await loadgen.expect("result", timeout=sc.seconds + 60)
            s1, g1, w1 = cpu_seconds(server.pid), cpu_seconds(loadgen.pid), time.monotonic()
            if server.signals:
                os.kill(server.pid, signal.SIGUSR2)
                await asyncio.sleep(1.0)
                if sc.trace_gc:
                    d["gc_trace"] = json.loads((workdir / "gc-trace.json").read_text())
            split1, ticks1 = cpu_split(server.pid), cpu_ticks()
            d["interference_pct"] = {
                "server_cpu_others": others_pct(ticks0, ticks1, SERVER_CPU, s1 - s0, w1 - w0)[0],
                "server_cpu_steal": others_pct(ticks0, ticks1, SERVER_CPU, s1 - s0, w1 - w0)[1],
                "loadgen_cpu_others": others_pct(ticks0, ticks1, LOADGEN_CPU, g1 - g0, w1 - w0)[0],
            }
            d["load"] = load
            d["server_cpu_split_pct"] = {k: round(100 * (split1[k] - split0[k]) / (w1 - w0), 1) for k in split0}
            d["window_s"] = round(w1 - w0, 2)
            d["server_cpu_pct"] = round(100 * (s1 - s0) / (w1 - w0), 1)
            d["loadgen_cpu_pct"] = round(100 * (g1 - g0) / (w1 - w0), 1)
            d["server_cpu_us_per_msg"] = round(1e6 * (s1 - s0) / max(1, load["sent"]), 1)
            d["rss_after_load_kb"] = rss_kb(server.pid)
        await loadgen.stop()
        d["server_log_problems"] = server.log_problems()[:10]
    finally:
        if loadgen is not None:
            await loadgen.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


# -- reporting ------------------------------------------------------------------------------


def _lat(p: dict[str, Any] | None) -> str:
    if not p:
        return "-"
    return f"{p['p50']:.1f} / {p['p95']:.1f} / {p['p99']:.1f} / {p['max']:.1f}"


def noisy(d: dict[str, Any]) -> bool:
    """Other processes (or the hypervisor) took a noticeable share of either core in the window."""
    busy = d.get("interference_pct")
    if not busy:
        return False
    return busy["server_cpu_others"] > 5 or busy["server_cpu_steal"] > 5 or busy["loadgen_cpu_others"] > 15


def verdict(result: Result) -> list[str]:
    sc, d = result.scenario, result.data
    notes: list[str] = []
    load = d.get("load")
    if load is not None:
        p99 = load["e2e_ms"]["p99"] if load.get("e2e_ms") else float("inf")
        lost = load["lost_acked"] + load["unacked"] + load["ack_errors"]
        if sc.target_p99_ms is not None:
            ok = p99 <= sc.target_p99_ms
            notes.append(f"target p99 end-to-end <= {sc.target_p99_ms:.0f} ms: {'MET' if ok else 'MISSED'} ({p99:.1f} ms)")
        if sc.target_zero_loss:
            ok = lost == 0 and load["duplicates"] == 0
            notes.append(f"target zero loss: {'MET' if ok else 'MISSED'} ({lost} lost/failed, {load['duplicates']} duplicated)")
        if load["achieved_rate"] < 0.95 * sc.rate:
            notes.append(f"achieved {load['achieved_rate']:.0f} msg/s, below the {sc.rate:.0f} msg/s target")
        if d.get("loadgen_cpu_pct", 0) > 70:
            notes.append(f"load generator at {d['loadgen_cpu_pct']}% of its core: it may be a bottleneck")
    if sc.idle_only:
        ok = d["kb_per_connection"] <= 60
        notes.append(f"target <= 60 KB per idle connection: {'MET' if ok else 'MISSED'} ({d['kb_per_connection']} KB)")
    return notes


def report(result: Result) -> str:
    sc, d = result.scenario, result.data
    out = []
    kind = "idle connections" if sc.idle_only else f"{sc.rate:.0f} msg/s for {sc.seconds:.0f} s"
    if sc.warm and not sc.idle_only:
        kind += ", warm start (chats seeded before the server started)"
    out.append(f"== {sc.name}: {sc.customers} customers + {sc.agents} agents, {kind}, variant {sc.variant} "
               f"(permessage-deflate negotiated: {'yes' if d.get('deflate_negotiated') else 'no'})")
    setup = d["setup"]
    out.append(f"  connect ms p50/p95/p99/max   customers {_lat(setup['customers']['connect_ms'])}"
               + (f"   agents {_lat(setup['agents']['connect_ms'])}" if sc.agents else ""))
    if not sc.idle_only and not sc.warm:
        out.append(f"  chat:start -> assigned ms   {_lat(setup['customers']['assign_ms'])}"
                   f"   ({setup['customers']['in_chat']} in chats; setup {d['setup_wall_s']} s wall, {d['setup_server_cpu_s']} s server CPU)")
    errors = setup["customers"]["errors"] + setup["agents"]["errors"]
    if errors:
        out.append(f"  connect errors: {errors} (first: {setup['customers']['firstError'] or setup['agents']['firstError']})")
    out.append(f"  server RSS  {d['rss_start_kb'] / 1024:.1f} MB empty -> {d['rss_connected_kb'] / 1024:.1f} MB with "
               f"{d['connections']} connections = {d['kb_per_connection']} KB per connection "
               f"({d['kb_per_connection'] * 1000 / 1024:.1f} MB per 1,000)"
               + (f"; {d['rss_after_load_kb'] / 1024:.1f} MB after the load" if "rss_after_load_kb" in d else ""))
    if sc.warm and not sc.idle_only:
        out.append(f"  set-up: {setup['customers']['in_chat']} customers back in their chats in {d['setup_wall_s']} s wall, {d['setup_server_cpu_s']} s server CPU")
    out.append(f"  idle server CPU {d['idle_server_cpu_pct']}% of one core"
               + (f"; waited {d['waited_for_quiet_s']} s for a quiet machine" if d.get("waited_for_quiet_s") else ""))
    load = d.get("load")
    if load is not None:
        out.append(f"  ack ms p50/p95/p99/max          {_lat(load['ack_ms'])}")
        out.append(f"  end-to-end ms p50/p95/p99/max   {_lat(load['e2e_ms'])}")
        out.append(f"  messages  sent {load['sent']}  acked {load['acked']}  delivered {load['delivered']}  "
                   f"lost {load['lost_acked']}  duplicated {load['duplicates']}  ack errors {load['ack_errors']} {load['ack_error_codes'] or ''}  "
                   f"ack timeouts {load['ack_timeouts']}  out of order {load['out_of_order']}")
        out.append(f"  rate  offered {load['offered_rate']:.0f} msg/s, achieved {load['achieved_rate']:.0f} msg/s "
                   f"(last delivery {load['delivery_seconds']:.2f} s after the first send)")
        out.append(f"  server CPU {d['server_cpu_pct']}% of its core = {d['server_cpu_us_per_msg']} us per message;  "
                   f"load generator CPU {d['loadgen_cpu_pct']}% of its core, at most {load['max_behind']} sends behind its schedule")
        busy = d["interference_pct"]
        out.append(f"  other processes on the server's CPU {busy['server_cpu_others']}% (steal {busy['server_cpu_steal']}%), "
                   f"on the load generator's CPU {busy['loadgen_cpu_others']}%"
                   + ("  <- NOISY: figures disturbed by other work on this machine" if noisy(d) else ""))
        split = d["server_cpu_split_pct"]
        out.append(f"  server CPU split: event-loop thread {split['main']}%, other threads (SQLite) {split['threads']}%; "
                   f"user {split['user']}%, system {split['system']}%")
    trace = d.get("gc_trace")
    if trace:
        gcs = trace["gc"]
        out.append("  garbage collections in the window: " + ", ".join(
            f"gen{g} {v['count']}x total {v['total_ms']} ms max {v['max_ms']} ms" for g, v in gcs.items())
            + f"; event-loop lag p99 {trace['loop_lag_ms']['p99']} ms max {trace['loop_lag_ms']['max']} ms")
    for problem in d.get("server_log_problems", []):
        out.append(f"  server log: {problem[:200]}")
    for note in verdict(result):
        out.append(f"  -> {note}")
    return "\n".join(out)


def _noise_cell(d: dict[str, Any]) -> str:
    busy = d.get("interference_pct")
    if not busy:
        return "-"
    cell = f"{busy['server_cpu_others']} / {busy['server_cpu_steal']} / {busy['loadgen_cpu_others']}"
    return cell + (" NOISY" if noisy(d) else "")


def _gc_cell(trace: dict[str, Any] | None) -> str:
    if not trace:
        return "not traced"
    parts = [f"gen{g}: {v['count']}, max {v['max_ms']:.0f} ms" for g, v in trace["gc"].items() if v["count"]]
    return "; ".join(parts) or "none"


def comparison_table(results: list[Result]) -> str:
    rows = ["| variant | deflate | gc tuning | uvloop | socketio fast path | e2e p50 / p95 / p99 / max ms | ack p99 ms | achieved msg/s | lost / dup | server CPU µs/msg | server CPU % | KB/conn | loadgen CPU % | other work on server CPU / steal / on loadgen CPU % | GC pauses in window |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        env = VARIANTS[r.scenario.variant]
        d, load = r.data, r.data.get("load", {})
        yes = lambda key, default: "on" if env.get(key, default) == "1" else "off"  # noqa: E731
        rows.append(
            f"| {r.scenario.variant} | {yes('CHATSERVER_WEBSOCKET_COMPRESSION', '0')} | {yes('CHATSERVER_GC_TUNING', '1')} | "
            f"{yes('CHATSERVER_UVLOOP', '1')} | {yes('CHATSERVER_SOCKETIO_FAST_PATH', '1')} | {_lat(load.get('e2e_ms'))} | {load['ack_ms']['p99'] if load.get('ack_ms') else '-'} | "
            f"{load.get('achieved_rate', 0):.0f} | {load.get('lost_acked', '-')} / {load.get('duplicates', '-')} | "
            f"{d.get('server_cpu_us_per_msg', '-')} | {d.get('server_cpu_pct', '-')} | {d['kb_per_connection']} | {d.get('loadgen_cpu_pct', '-')} | "
            f"{_noise_cell(d)} | {_gc_cell(d.get('gc_trace'))} |"
        )
    return "\n".join(rows)


# -- main -----------------------------------------------------------------------------------


def code_version() -> str:
    """The commit under test, with '+dirty' when the working tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def standard(seconds: float) -> list[Scenario]:
    return [
        Scenario("a", 1000, 100, 1000, seconds, target_p99_ms=50, target_zero_loss=True),
        # warm: chat:start routing at 500 agents is too slow to set up 5,000 chats live (docs/benchmarks.md)
        Scenario("b", 5000, 500, 500, seconds, target_p99_ms=100, target_zero_loss=True, warm=True),
        # idle: 30 s covers a whole Engine.IO heartbeat cycle (25 s ping interval)
        Scenario("c", 5000, 0, 0, 0, idle_only=True, idle_seconds=30),
        Scenario("c", 5000, 0, 0, 0, variant="deflate", idle_only=True, idle_seconds=30),
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, help="customers (with --agents, --rate: run this one scenario)")
    parser.add_argument("--agents", type=int, default=None)
    parser.add_argument("--rate", type=float, default=None, help="aggregate message:send per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the measured window (default 20)")
    parser.add_argument("--warm", action="store_true", help="customers start already chatting (seeded before the server starts) instead of chat:start")
    parser.add_argument("--idle", type=int, metavar="N", help="only connect N customers and measure idle memory and CPU")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="tuned", help="server tuning (default: tuned = shipped defaults)")
    parser.add_argument("--compare", action="store_true", help="run scenario a (or the given one) once per variant")
    parser.add_argument("--variants", help="comma-separated variants for --compare (default: tuned,stock-socketio,deflate,gc-default,no-uvloop,untuned; also gc-100k)")
    parser.add_argument("--repeat", type=int, default=1, help="run each scenario this many times")
    parser.add_argument("--target-p99", type=float, default=None, help="p99 end-to-end target in ms for a custom scenario")
    parser.add_argument("--profile", metavar="OUT", help="run the server under cProfile and write pstats to OUT (slows it down)")
    parser.add_argument("--quiet-wait", type=float, default=30.0, metavar="S",
                        help="before each measured window wait up to S seconds for other processes to go quiet (default 30, 0: never)")
    parser.add_argument("--no-trace-gc", dest="trace_gc", action="store_false",
                        help="do not record garbage collections and event-loop stalls in the measured window (recorded by default; "
                             "the server then runs under bench/instrument.py, the same code plus a gc callback and a 10 ms ticker)")
    parser.add_argument("--json", help="write results here (default var/bench/<timestamp>.json)")
    return parser


def _terminate(signum: int, _frame: object) -> None:
    # unwinds through run_scenario's finally blocks: the server and load generator are stopped
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    keep_off_the_server_cpu()
    if os.cpu_count() and os.cpu_count() < 2:  # type: ignore[operator]
        print("bench: needs at least 2 CPUs (server on CPU 0, load generator on CPU 1)", file=sys.stderr)
        return 2

    scenarios: list[Scenario]
    if args.idle:
        scenarios = [Scenario("idle", args.idle, 0, 0, 0, variant=args.variant, idle_only=True, idle_seconds=30)]
    elif args.customers is not None:  # one scenario (with --compare: once per variant)
        agents = args.agents if args.agents is not None else max(1, args.customers // 10)
        rate = args.rate if args.rate is not None else 1000.0
        scenarios = [Scenario("custom", args.customers, agents, rate, args.seconds, variant=args.variant,
                              target_p99_ms=args.target_p99, target_zero_loss=True, warm=args.warm)]
    elif args.compare:
        rate = args.rate if args.rate is not None else 1000.0
        scenarios = [Scenario("a", 1000, 100, rate, args.seconds, target_p99_ms=50, target_zero_loss=True, warm=args.warm)]
    else:
        scenarios = standard(args.seconds)
        for sc in scenarios:
            sc.variant = sc.variant if sc.idle_only else args.variant
    if args.compare:
        names = args.variants.split(",") if args.variants else list(COMPARE_DEFAULT)
        unknown = [n for n in names if n not in VARIANTS]
        if unknown:
            print(f"bench: unknown variants {unknown}; choose from {sorted(VARIANTS)}", file=sys.stderr)
            return 2
        base = scenarios[0]
        scenarios = [Scenario(**{**base.__dict__, "variant": n}) for n in names]
    for sc in scenarios:
        sc.trace_gc = args.trace_gc
        sc.quiet_wait = args.quiet_wait
    # repeats interleave (a b c a b c), so that a noisy minute does not hit one variant only
    scenarios = [Scenario(**sc.__dict__) for _ in range(max(1, args.repeat)) for sc in scenarios]
    if args.profile:
        if len(scenarios) != 1:
            print("bench: --profile needs exactly one scenario", file=sys.stderr)
            return 2
        scenarios[0].profile_to = str(Path(args.profile).resolve())

    started = datetime.now(timezone.utc)
    version = code_version()
    print(f"chatserver bench {started:%Y-%m-%d %H:%M} UTC, code {version}: server on CPU {SERVER_CPU}, load generator on CPU {LOADGEN_CPU}, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}",
          flush=True)
    results: list[Result] = []
    for sc in scenarios:
        print(f"\nrunning {sc.name} ({sc.customers}+{sc.agents}, variant {sc.variant}) ...", flush=True)
        try:
            result = asyncio.run(run_scenario(sc))
        except Exception as exc:  # one failed scenario must not hide the others
            print(f"  FAILED: {exc}", flush=True)
            continue
        results.append(result)
        print(report(result), flush=True)
    if args.compare and results:
        print("\n" + comparison_table(results))

    out = Path(args.json) if args.json else ROOT / "var" / "bench" / f"{started:%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(
        {"started": started.isoformat(), "code": version, "cpus": os.cpu_count(),
         "results": [{"scenario": r.scenario.__dict__, **r.data} for r in results]}, indent=2))
    print(f"\nresults: {out}")
    return 0 if len(results) == len(scenarios) else 1


if __name__ == "__main__":
    sys.exit(main())
