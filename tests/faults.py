"""Storage faults made real for tests: a write lock held by another connection, a full file system,
an immutable file, a damaged table; and the checks the fault tests share.

Everything injected here is undone by its own `clear()` or by the context manager that made it, so
a failing test leaves no mounted file system and no immutable file behind.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any, Iterator, Protocol

import aiohttp

from tests.machine import cannot_run_here

TMPFS_SIZE = "16m"


class Fault(Protocol):
    detail: str  # what /healthz says while it lasts

    def inject(self) -> None: ...

    def clear(self) -> None: ...


class HeldWriteLock:
    """Another process (this test) holds a write transaction on the file for as long as it likes."""

    detail = "locked"

    def __init__(self, db: Path) -> None:
        self.db = db
        self.conn: sqlite3.Connection | None = None

    def inject(self) -> None:
        self.conn = sqlite3.connect(self.db, isolation_level=None, timeout=10)
        self.conn.execute("BEGIN IMMEDIATE")

    def clear(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None


class FullDisk:
    """A filler file takes every free byte of the small file system that holds the database."""

    detail = "disk_full"

    def __init__(self, mount: Path) -> None:
        self.filler = mount / "filler"

    def inject(self) -> None:
        fill_up(self.filler)

    def clear(self) -> None:
        self.filler.unlink(missing_ok=True)


class ImmutableFile:
    """`chattr +i` on the database and its WAL: the running server's writes fail with EPERM."""

    detail = "io_error"

    def __init__(self, db: Path, flags: "ImmutableFlags") -> None:
        self.paths = [db, Path(f"{db}-wal")]
        self.flags = flags

    def inject(self) -> None:
        for path in self.paths:
            self.flags.set(path)

    def clear(self) -> None:
        self.flags.clear_all()


def fill_up(path: Path) -> None:
    """Write until the file system says ENOSPC, in smaller and smaller pieces, down to single bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1):
            chunk = b"\0" * size
            try:
                while True:
                    os.write(fd, chunk)
            except OSError as exc:
                if exc.errno != 28:  # ENOSPC
                    raise
    finally:
        os.close(fd)


class ImmutableFlags:
    """Files made immutable by a test; teardown always clears the flag (or pytest could not delete them)."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def set(self, path: Path) -> None:
        subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
        self.paths.append(path)

    def clear_all(self) -> None:
        for path in self.paths:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        self.paths.clear()


@contextlib.contextmanager
def immutable_flags(tmp_path: Path) -> Iterator[ImmutableFlags]:
    """chattr +i, cleared at the end whatever happened; skips when the file system cannot do it."""
    probe = tmp_path / "chattr-probe"
    probe.write_text("x")
    done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, text=True)
    if done.returncode != 0:
        cannot_run_here(f"chattr +i is not supported here: {done.stderr.strip()}")
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    flags = ImmutableFlags()
    try:
        yield flags
    finally:
        flags.clear_all()


@contextlib.contextmanager
def mounted_tmpfs(where: Path, size: str = TMPFS_SIZE) -> Iterator[Path]:
    """A tmpfs of `size` at `where`, unmounted at the end (lazily if something still holds it);
    skips when mounting is not permitted (no CAP_SYS_ADMIN)."""
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        cannot_run_here(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def corrupt_table(db: Path, table: str) -> None:
    """Overwrite the table's root page with bytes no b-tree page starts with (the file is at rest)."""
    with sqlite3.connect(db) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
    conn.close()
    assert not Path(f"{db}-wal").exists(), "the WAL must be checkpointed into the file first"
    with open(db, "r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * page_size)


async def health_of(url: str, timeout: float = 10) -> tuple[int, Any]:
    """GET /healthz: (status, body)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
        async with http.get(f"{url}/healthz") as response:
            return response.status, await response.json()


def unavailable(ack: Any) -> bool:
    """An error ack with the code `unavailable`."""
    return isinstance(ack, dict) and ack.get("ok") is False and ack["error"]["code"] == "unavailable"


@contextlib.contextmanager
def read_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only look at the file beside the running server (WAL lets a reader in during every fault)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()
