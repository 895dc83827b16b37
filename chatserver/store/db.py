"""SQLite through aiosqlite: WAL, foreign keys, one writer behind a lock, numbered migrations."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, AsyncIterator, Iterable, Sequence

import aiosqlite

from chatserver.domain.errors import Unavailable

log = logging.getLogger(__name__)

Row = dict[str, Any]


def _storage_failure(exc: sqlite3.Error) -> Unavailable:
    log.error("storage failure: %s", exc)
    return Unavailable("storage is unavailable right now; nothing was saved, try again")


class Tx:
    """One open write transaction on the writer connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows = await self._conn.execute_fetchall(sql, params)
        return [dict(row) for row in rows]

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None


class Database:
    """A writer connection (all writes, serialized by a lock) and a reader connection."""

    def __init__(self, path: str, synchronous: str = "NORMAL") -> None:
        self.path = path
        self.synchronous = synchronous.upper()
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.last_failure: str | None = None

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA foreign_keys = ON")
        return conn

    async def open(self) -> None:
        self._writer = await self._connect()
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self._writer.execute(f"PRAGMA synchronous = {self.synchronous}")
        self._reader = await self._connect()

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @property
    def writer(self) -> aiosqlite.Connection:
        assert self._writer is not None, "database is not open"
        return self._writer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """BEGIN IMMEDIATE ... COMMIT under the write lock; storage faults become Unavailable."""
        async with self._write_lock:
            conn = self.writer
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                self.last_failure = str(exc)
                raise _storage_failure(exc) from exc
            try:
                yield Tx(conn)
                await conn.execute("COMMIT")
                self.last_failure = None
            except BaseException as exc:
                try:
                    await conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.OperationalError):
                    self.last_failure = str(exc)
                    raise _storage_failure(exc) from exc
                raise

    async def write_returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """One self-contained statement (its own implicit transaction) under the write lock."""
        async with self._write_lock:
            try:
                rows = await self.writer.execute_fetchall(sql, params)
            except sqlite3.OperationalError as exc:
                self.last_failure = str(exc)
                raise _storage_failure(exc) from exc
            self.last_failure = None
            return [dict(row) for row in rows]

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        assert self._reader is not None, "database is not open"
        try:
            rows = await self._reader.execute_fetchall(sql, params)
        except sqlite3.OperationalError as exc:
            raise _storage_failure(exc) from exc
        return [dict(row) for row in rows]

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def healthy(self) -> bool:
        try:
            await self.fetch("SELECT 1")
        except Unavailable:
            return False
        return self.last_failure is None

    # -- migrations -------------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        """Apply pending numbered migrations in order; returns the names applied."""
        conn = self.writer
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in await conn.execute_fetchall("SELECT version FROM schema_version")}
        applied: list[str] = []
        for version, name, sql in available_migrations():
            if version in done:
                continue
            async with self._write_lock:
                # executescript commits first; wrap the file so it lands whole or not at all
                script = (
                    "BEGIN IMMEDIATE;\n"
                    + sql
                    + f"\nINSERT INTO schema_version VALUES ({version}, '{name}', strftime('%Y-%m-%dT%H:%M:%fZ','now'));\nCOMMIT;"
                )
                try:
                    await conn.executescript(script)
                except sqlite3.Error:
                    await conn.execute("ROLLBACK") if conn.in_transaction else None
                    raise
            applied.append(name)
        return applied


class BackgroundReads(Database):
    """A read-only connection of its own for reads that take long and can wait: reports and exports.

    They never queue in front of the reads chat needs (history, sessions, the monitor), and the
    connection's thread runs at a lower CPU priority, so that on a busy core the scheduler serves chat
    first (at 500 messages a second with a report and an export running on the same core, the median
    ack went from 26-75 ms to 4-7 ms: docs/benchmarks.md).
    """

    NICENESS = 10

    async def open(self) -> None:
        self._reader = await self._connect()
        await self._reader.execute("PRAGMA query_only = ON")
        lower_priority(self._reader, self.NICENESS)

    @property
    def writer(self) -> aiosqlite.Connection:
        raise TypeError("background reads never write")

    async def migrate(self) -> list[str]:
        raise TypeError("background reads never write")


def lower_priority(conn: aiosqlite.Connection, niceness: int) -> None:
    """Raise the nice value of the connection's thread (Linux, where nice is per thread; elsewhere nothing)."""
    thread_id = getattr(getattr(conn, "_thread", None), "native_id", None)
    if thread_id is None or sys.platform != "linux":
        return
    try:
        os.setpriority(os.PRIO_PROCESS, thread_id, min(19, os.getpriority(os.PRIO_PROCESS, thread_id) + niceness))
    except OSError as exc:
        log.warning("could not lower the priority of background reads: %s", exc)


def available_migrations() -> Iterable[tuple[int, str, str]]:
    folder = resources.files("chatserver.store") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    for path in files:
        version = int(path.name.split("_", 1)[0])
        yield version, path.name, path.read_text(encoding="utf-8")
