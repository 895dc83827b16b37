"""Fixtures: the real server on a free port with a real SQLite file, and a memorable cast.

Cast: customers alice and eve; agents bob (2 chats) and carol (2 chats); supervisor sam.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp.test_utils import TestServer

from chatserver import keys
from chatserver.app import create_app
from chatserver.config import Settings
from chatserver.services.container import Services
from tests.peers import CAST_PASSWORD

if TYPE_CHECKING:
    from tests.faults import ImmutableFlags
    from tests.procs import ServerProcesses

CAST = [
    ("bob@example.test", "Bob", "agent", 2),
    ("carol@example.test", "Carol", "agent", 2),
    ("sam@example.test", "Sam", "supervisor", 2),
]


@dataclass
class RunningServer:
    url: str
    services: Services
    settings: Settings
    server: TestServer


def test_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        db=str(tmp_path / "chat.db"), secret_key="test-secret", queue_timeout=30.0, agent_grace=0.5,
        identity_secret="identity-secret", uvloop=False, gc_tuning=False, logins_per_minute=1000,
    )
    values.update(overrides)
    return Settings(**values)


async def seed_cast(services: Services, cast: list[tuple[str, str, str, int]] = CAST) -> dict[str, str]:
    ids = {}
    for email, name, role, max_chats in cast:
        row = await services.auth.create_user(email=email, name=name, role=role, password=CAST_PASSWORD, max_chats=max_chats)
        await services.dispatcher.refresh_agent(row["id"])
        ids[name.lower()] = row["id"]
    return ids


StartServer = Callable[..., Awaitable[RunningServer]]


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[StartServer]:
    """Start the real app on a free port; settings can be overridden per test."""
    servers: list[TestServer] = []

    async def start(**overrides: Any) -> RunningServer:
        settings = test_settings(tmp_path, **overrides)
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return RunningServer(str(server.make_url("")).rstrip("/"), server.app[keys.SERVICES], settings, server)

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def server(start_server: StartServer) -> RunningServer:
    running = await start_server()
    await seed_cast(running.services)
    return running


@pytest.fixture
async def procs(tmp_path: Path) -> AsyncIterator["ServerProcesses"]:
    """Server subprocesses for restart and CLI tests; all are stopped at teardown."""
    from tests.procs import ServerProcesses

    group = ServerProcesses(tmp_path)
    try:
        yield group
    finally:
        group.close()


@pytest.fixture
async def closing() -> AsyncIterator[list[Any]]:
    """Clients (anything with an async `close()`) registered here are closed at teardown, whatever happened."""
    opened: list[Any] = []
    try:
        yield opened
    finally:
        for client in opened:
            try:
                await asyncio.wait_for(client.close(), 5)
            except Exception:
                pass


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs for this test only (tests/faults.py); skips where mounting is not permitted."""
    from tests.faults import mounted_tmpfs

    with mounted_tmpfs(tmp_path / "small-disk") as mount:
        yield mount


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator["ImmutableFlags"]:
    """Makes files immutable (chattr +i) and always clears the flag; skips where chattr cannot."""
    from tests.faults import immutable_flags

    with immutable_flags(tmp_path) as flags:
        yield flags


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
