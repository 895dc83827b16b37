"""The real server as a subprocess: start it, wait for /healthz, stop it gently or kill it.

Every process goes through a `ServerProcesses` group whose `close()` (called from a fixture's
teardown) ends whatever is still running. Output goes to files, never to pipes, so a chatty
server can never block on a full pipe; `output()` reads it back for assertions and diagnostics.
Only 127.0.0.1 is used. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import aiohttp

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A port nobody listens on right now (the kernel's pick for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without inherited CHATSERVER_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def chatserver_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "chatserver", *args]


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, input: str | None = None, cwd: Path | None = None,
    timeout: float = 30.0,
) -> subprocess.CompletedProcess[str]:
    """Run a short-lived `chatserver ...` command to completion."""
    return subprocess.run(
        chatserver_command(*args), env=clean_env(env), input=input, capture_output=True, text=True,
        timeout=timeout, cwd=cwd,
    )


async def get_health(url: str, timeout: float = 1.0) -> int | None:
    """The status of GET {url}/healthz, or None when nothing answers."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            async with http.get(f"{url}/healthz") as response:
                await response.read()
                return response.status
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        return None


class ServerProcess:
    """One `chatserver serve|demo` subprocess with its output in files under `workdir`."""

    def __init__(
        self, workdir: Path, *, command: str = "serve", db: Path | None = None, port: int | None = None,
        env: Mapping[str, str] | None = None, args: Sequence[str] = (), name: str = "server",
        flags: bool = True,
    ) -> None:
        self.workdir = workdir
        self.command = command
        self.db = db
        self.port = port
        self.env = dict(env or {})
        self.args = list(args)
        self.name = name
        self.flags = flags  # pass --db/--port on the command line (False: the settings come from env/config)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._stdout_path: Path | None = None
        self._stderr_path: Path | None = None

    @property
    def url(self) -> str:
        assert self.port is not None
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self) -> None:
        """Start the process without waiting for it to be ready."""
        assert not self.running(), "already running"
        self.starts += 1
        argv = [self.command]
        if self.flags and self.db is not None:
            argv += ["--db", str(self.db)]
        if self.flags and self.port is not None:
            argv += ["--port", str(self.port)]
        argv += self.args
        self._stdout_path = self.workdir / f"{self.name}.{self.starts}.stdout"
        self._stderr_path = self.workdir / f"{self.name}.{self.starts}.stderr"
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                chatserver_command(*argv), env=clean_env(self.env), stdout=out, stderr=err,
                stdin=subprocess.DEVNULL, cwd=self.workdir,
            )

    async def start(self, timeout: float = START_TIMEOUT) -> "ServerProcess":
        """Start and wait until GET /healthz answers 200."""
        self.spawn()
        await self.wait_healthy(timeout)
        return self

    async def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode} before it was healthy\n{self.output()}"
                )
            if await get_health(self.url) == 200:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} was not healthy within {timeout}s\n{self.output()}")
            await asyncio.sleep(0.05)

    async def wait_output(self, needle: str, timeout: float = START_TIMEOUT) -> str:
        """Wait until stdout contains `needle`; returns stdout."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.stdout()
            if needle in text:
                return text
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode} before printing {needle!r}\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not print {needle!r} within {timeout}s\n{self.output()}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)

    async def stop(self, sig: int = signal.SIGINT, timeout: float = STOP_TIMEOUT) -> int:
        """Ask the server to shut down; kill it (and fail) when it does not within `timeout`."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"{self.name} did not stop within {timeout}s of {signal.Signals(sig).name}\n{self.output()}")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def stdout(self) -> str:
        return self._stdout_path.read_text(errors="replace") if self._stdout_path and self._stdout_path.exists() else ""

    def stderr(self) -> str:
        return self._stderr_path.read_text(errors="replace") if self._stderr_path and self._stderr_path.exists() else ""

    def output(self) -> str:
        return f"--- stdout ---\n{self.stdout()[-4000:]}\n--- stderr ---\n{self.stderr()[-8000:]}"

    def all_stderr(self) -> str:
        """stderr of every start of this server, oldest first."""
        parts = []
        for n in range(1, self.starts + 1):
            path = self.workdir / f"{self.name}.{n}.stderr"
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)


class ServerProcesses:
    """Every server a test starts; `close()` ends those still running (for fixture teardown)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.servers: list[ServerProcess] = []

    def server(self, *, command: str = "serve", db: Path | None = None, port: int | None = None,
               env: Mapping[str, str] | None = None, args: Sequence[str] = (), name: str | None = None,
               flags: bool = True) -> ServerProcess:
        """A server on a fresh port and (unless given) a fresh database file, not yet started.

        With `flags=False` the port and database are not passed as --port/--db: the caller sets
        them through CHATSERVER_* variables or a --config file, and `port` only tells where to look."""
        name = name or f"server{len(self.servers) + 1}"
        db = db if db is not None else self.workdir / f"{name}.db"
        port = port if port is not None else free_port()
        server = ServerProcess(self.workdir, command=command, db=db, port=port, env=env, args=args, name=name, flags=flags)
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in self.servers:
            if server.running():
                server.kill()


async def create_users(db: Path, users: Sequence[tuple[str, str, str, int]], password: str, **settings: Any) -> dict[str, str]:
    """Create console users directly in `db` (the conftest pattern, without a running server).

    Returns name.lower() -> user id. Run it while no server uses the file, or before the first start.
    """
    from chatserver.config import Settings
    from chatserver.services.container import build_services, close_services

    services = await build_services(Settings(db=str(db), uvloop=False, gc_tuning=False, **settings), "unused-secret")
    try:
        ids = {}
        for email, name, role, max_chats in users:
            row = await services.auth.create_user(email=email, name=name, role=role, password=password, max_chats=max_chats)
            ids[name.lower()] = row["id"]
        return ids
    finally:
        await close_services(services)


__all__ = [
    "HOST", "ServerProcess", "ServerProcesses", "chatserver_command", "clean_env", "create_users", "free_port",
    "get_health", "run_cli",
]
