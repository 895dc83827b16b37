"""A database the server cannot use, wholly or in part, with the real server process.

At start-up, `chatserver serve` refuses a file it cannot open, migrate or write (read-only, on a full
disk, locked by another process, not a database) with one line that says why and exit code 1, and
never starts listening. While running, a damaged table answers `unavailable` (never `internal`),
the rest of the server keeps working, and `/healthz` stays red until someone restores the file.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import aiohttp
import pytest
import socketio

from tests import peers
from tests.faults import HeldWriteLock, corrupt_table, fill_up, health_of, unavailable
from tests.peers import CAST_PASSWORD, Peer, client_id
from tests.procs import ServerProcess, ServerProcesses, create_users, run_cli

pytestmark = pytest.mark.slow

SECRET = "unusable-database-secret-kkkkkkkkkkkkkkk"
BUSY_TIMEOUT = 2.0


async def wait_exit(server: ServerProcess, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    assert server.proc is not None
    while server.proc.poll() is None:
        assert time.monotonic() < deadline, f"{server.name} still runs after {timeout}s\n{server.output()}"
        await asyncio.sleep(0.05)
    return server.proc.returncode


@pytest.mark.parametrize(
    "cause, says",
    [
        ("read_only", r"cannot write to the database {db}: attempt to write a readonly database \(SQLITE_READONLY\)"),
        # SQLite words it as an I/O error on its -shm file; the line adds the cause
        ("disk_full", r"cannot (open|write to) the database {db}: .*\(SQLITE_\w+\); 0 bytes free on the database's file system, the disk is full"),
        ("locked", r"cannot write to the database {db}: database is locked \(SQLITE_BUSY\)"),
        ("not_a_database", r"cannot open the database {db}: file is not a database \(SQLITE_NOTADB\)"),
    ],
)
async def test_serve_refuses_to_start_on_a_database_it_cannot_use_and_says_why_in_one_line(
    cause: str, says: str, request: pytest.FixtureRequest, procs: ServerProcesses, tmp_path: Path
) -> None:
    folder = request.getfixturevalue("small_disk") if cause == "disk_full" else tmp_path
    db = folder / "chat.db"
    held: HeldWriteLock | None = None
    if cause == "not_a_database":
        db.write_bytes(b"this is a spreadsheet, not a database\n" * 200)
    else:
        migrated = run_cli("migrate", "--db", str(db))
        assert migrated.returncode == 0, migrated
    if cause == "read_only":
        request.getfixturevalue("immutable").set(db)
    elif cause == "disk_full":
        fill_up(folder / "filler")
    elif cause == "locked":
        held = HeldWriteLock(db)
        held.inject()

    server = procs.server(db=db, env={"CHATSERVER_SECRET_KEY": SECRET, "CHATSERVER_DB_BUSY_TIMEOUT": str(BUSY_TIMEOUT)})
    try:
        server.spawn()
        code = await wait_exit(server)
    finally:
        if held is not None:
            held.clear()
    stderr = server.stderr()
    assert code == 1, server.output()
    assert [line for line in stderr.splitlines() if re.fullmatch(f"chatserver: {says.format(db=re.escape(str(db)))}", line)], stderr
    assert "Traceback" not in stderr, stderr
    assert "listening" not in server.stdout()


# -- a damaged table while the server runs ------------------------------------------------------------


async def test_a_corrupt_table_answers_unavailable_never_internal_and_health_stays_red_until_a_restart(
    procs: ServerProcesses, tmp_path: Path, closing: list[Peer]
) -> None:
    server = procs.server(db=tmp_path / "chat.db", env={"CHATSERVER_SECRET_KEY": SECRET, "CHATSERVER_SLA_SWEEP_SECONDS": "0.5"})
    await server.start()
    alice = await peers.customer(server.url)
    closing.append(alice)
    token = alice.received("session")[0]["token"]
    started = await alice.call("chat:start", {"body": "my withdrawal is late", "name": "Alice"})
    assert started["ok"], started
    chat = started["conversation"]["id"]
    await alice.close()
    assert await server.stop(signal.SIGTERM) == 0  # a clean stop leaves everything in the main file
    corrupt_table(server.db, "messages")  # type: ignore[arg-type]

    await server.start()  # nothing read at start-up touches the messages
    alice = await peers.customer(server.url, token=token)
    closing.append(alice)
    assert alice.received("session")[0]["conversation"]["id"] == chat
    history = await alice.call("history", {"conversation_id": chat, "after_seq": 0})
    assert unavailable(history), history
    sent = await alice.call("message:send", {"conversation_id": chat, "client_id": client_id(), "body": "hello?"})
    assert unavailable(sent), sent

    # the rest of the server still works, but health says the storage needs someone, and keeps saying it
    filed = await alice.call("complaint:submit", {"category": "other", "subject": "Chat broken", "body": "It does not load"})
    assert filed["ok"], filed
    for _ in range(2):
        status, body = await health_of(server.url)
        assert (status, body) == (503, {"status": "unavailable", "reason": "storage", "detail": "corrupt"})
        await asyncio.sleep(1.5)  # longer than the probe interval: a probe elsewhere must not clear it
    check = run_cli("check", "--db", str(server.db))
    assert check.returncode == 1 and "database disk image is malformed" in check.stderr, check
    # a backup of the damaged file is refused, with nothing left behind, and the server is untouched
    copies = tmp_path / "copies"
    copies.mkdir()
    backup = run_cli("backup", str(copies / "copy.db"), "--db", str(server.db))
    assert backup.returncode == 1 and "malformed" in backup.stderr and "Traceback" not in backup.stderr, backup
    assert list(copies.iterdir()) == []

    stderr = server.stderr()
    assert "storage failure (corrupt): database disk image is malformed" in stderr
    assert "Traceback" not in stderr and "handler for" not in stderr, stderr[-6000:]
    assert server.running()


async def test_an_export_cut_short_by_storage_ends_as_a_failed_download_not_a_whole_looking_file(
    procs: ServerProcesses, tmp_path: Path, closing: list[Peer]
) -> None:
    """The CSV's first bytes are out before the rows are read: when the storage then refuses, the download
    must visibly fail rather than end as a file (with an error page inside) that looks complete."""
    db = tmp_path / "chat.db"
    await create_users(db, [("sam@example.test", "Sam", "supervisor", 2)], CAST_PASSWORD)
    server = procs.server(db=db, env={"CHATSERVER_SECRET_KEY": SECRET})
    await server.start()
    customer = await peers.customer(server.url)
    closing.append(customer)
    filed = await customer.call("complaint:submit", {"category": "other", "subject": "Late payout", "body": "Still waiting"})
    assert filed["ok"], filed
    await customer.close()
    assert await server.stop(signal.SIGTERM) == 0
    corrupt_table(db, "complaints")

    await server.start()
    cookie = await peers.login_cookie(server.url, "sam@example.test")
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        async with http.get(f"{server.url}/reports/export/complaints.csv?preset=30d") as response:
            assert response.status == 200 and response.content_type == "text/csv"
            with pytest.raises(aiohttp.ClientPayloadError):
                await response.read()
    stderr = server.stderr()
    assert "export complaints" in stderr and "cut short by a storage failure" in stderr, stderr[-4000:]
    assert "Traceback" not in stderr and "Error handling request" not in stderr, stderr[-6000:]
    assert server.running()


# -- the file removed or replaced while the server runs ------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("how", ["removed", "replaced"])
async def test_a_database_file_removed_or_replaced_while_serving_acknowledges_nothing_more(
    procs: ServerProcesses, tmp_path: Path, closing: list[Peer], how: str
) -> None:
    """The server's connection keeps a removed file (or the one a restore put aside) open: every write
    would still succeed, into a file nobody opens again. An acknowledged message must survive a
    restart, so from the moment the file at the path is not the one opened, nothing is acknowledged."""
    db = tmp_path / "chat.db"
    server = procs.server(db=db, env={"CHATSERVER_SECRET_KEY": SECRET})
    await server.start()
    alice = await peers.customer(server.url)
    closing.append(alice)
    chat = (await alice.call("chat:start", {"body": "my withdrawal is late"}))["conversation"]["id"]
    assert (await alice.call("message:send", {"conversation_id": chat, "client_id": client_id(), "body": "kept"}))["ok"]
    if how == "removed":
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            path.unlink(missing_ok=True)
    else:  # a restore copied over it while the server ran
        backup = run_cli("backup", str(tmp_path / "backup.db"), "--db", str(db))
        assert backup.returncode == 0, backup
        os.replace(tmp_path / "backup.db", db)
    sent = await alice.call("message:send", {"conversation_id": chat, "client_id": client_id(), "body": "lost?"})
    assert unavailable(sent), sent
    with pytest.raises(socketio.exceptions.ConnectionError, match="unavailable"):
        await peers.customer(server.url)  # any write: a new customer cannot be stored either
    status, body = await health_of(server.url)
    assert (status, body) == (503, {"status": "unavailable", "reason": "storage", "detail": "file_gone"})
    stderr = server.stderr()
    assert "storage failure (file_gone)" in stderr and "Traceback" not in stderr, stderr[-4000:]
