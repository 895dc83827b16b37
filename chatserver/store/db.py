"""SQLite through aiosqlite: WAL, foreign keys, one writer behind a lock, numbered migrations.

Storage faults (store/faults.py) become `Unavailable` after a rollback, and every write's outcome
feeds the health check (store/health.py). A write waits at most `busy_timeout` seconds in all, in
this process's queue and then for SQLite's lock, so that writes queued behind one stuck write are
answered within that time too instead of each waiting it out in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import sys
import time
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, AsyncIterator, Callable, Iterable, Mapping, Sequence

import aiosqlite

from chatserver.domain.errors import Unavailable
from chatserver.domain.text import searchable
from chatserver.store import faults
from chatserver.store.health import Report, StorageHealth

log = logging.getLogger(__name__)

Row = dict[str, Any]
# positional (?) or named (:name) parameters
Params = Sequence[Any] | Mapping[str, Any]

# the health check's own write waits no longer than this for locks: a load balancer gives up early
PROBE_WAIT = 1.0
# below this much free space on the database's file system, health is red before writes fail
MIN_FREE_BYTES = 1 << 20
# SQLite's wait is shortened only for a write that already spent this long in our queue: setting it
# costs a round trip to the connection's thread, which the message path should not pay
BUSY_SLACK_MS = 250

_PROBE = (
    "INSERT INTO health_probe (id, probes) VALUES (1, 1)"
    " ON CONFLICT (id) DO UPDATE SET probes = probes + 1 RETURNING probes"
)


class DatabaseUnusable(Exception):
    """The database cannot be opened, migrated or written at start-up; the message says why."""


class Tx:
    """One open write transaction on the writer connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._committed: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this transaction has committed (never when it rolls back): to wake a
        worker for rows written here, which it could not read before. One that raises is logged: the
        change is committed all the same, and the callbacks after it still run."""
        self._committed.append(callback)

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        rows = await self._conn.execute_fetchall(sql, params)
        return [dict(row) for row in rows]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None


class Database:
    """A writer connection (all writes, serialized by a lock) and a reader connection."""

    def __init__(self, path: str, synchronous: str = "NORMAL", busy_timeout: float = 5.0) -> None:
        self.path = path
        self.synchronous = synchronous.upper()
        self.busy_timeout = busy_timeout
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._queued_writes = 0  # writes waiting for the lock
        self._busy_ms: int | None = None  # the writer connection's busy_timeout right now
        self._health = StorageHealth()
        self._probing: asyncio.Future[None] | None = None
        self._file: tuple[int, int] | None = None  # (device, inode) of the file opened

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for name, (arguments, function) in SQL_FUNCTIONS.items():
            await conn.create_function(name, arguments, function, deterministic=True)
        await conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        await conn.execute("PRAGMA foreign_keys = ON")
        return conn

    async def open(self) -> None:
        try:
            self._writer = await self._connect()
            self._file = _identity(self.path)
            self._busy_ms = int(self.busy_timeout * 1000)
            await self._writer.execute("PRAGMA journal_mode = WAL")
            await self._writer.execute(f"PRAGMA synchronous = {self.synchronous}")
            self._reader = await self._connect()
        except sqlite3.Error as exc:
            # an open connection's thread would keep the process from ever exiting
            await self.close()
            raise DatabaseUnusable(f"cannot open the database {self.path}: {self._why(faults.describe(exc))}") from exc

    async def prepare(self) -> list[str]:
        """Open, migrate, and make sure the file takes writes: what a server needs before it starts.
        Returns the migrations applied; DatabaseUnusable (with everything closed) when it cannot."""
        await self.open()
        try:
            applied = await self.migrate()
            await self.check_writable()
        except BaseException:
            await self.close()
            raise
        return applied

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    await conn.close()
        self._reader = self._writer = None

    @property
    def writer(self) -> aiosqlite.Connection:
        assert self._writer is not None, "database is not open"
        return self._writer

    # -- writing ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _write_slot(self, wait: float, *, queue_timeout_is_fault: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """The writer connection for one write that may wait `wait` seconds in all: behind this
        process's other writes first, then for SQLite's lock (another process may hold it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        if self._write_lock.locked() or self._queued_writes:
            self._queued_writes += 1
            try:
                async with asyncio.timeout(wait):
                    await self._write_lock.acquire()
            except TimeoutError:
                message = f"no turn to write within {wait:g} s: earlier writes are stuck"
                if not queue_timeout_is_fault:
                    raise Unavailable(message) from None
                raise self._refused(faults.LOCKED, message) from None
            finally:
                self._queued_writes -= 1
        else:
            await self._write_lock.acquire()  # free and nobody queued: taken at once, no timer to arm
        try:
            await self._limit_busy_wait(deadline - loop.time())
            yield self.writer
        finally:
            self._write_lock.release()

    async def _limit_busy_wait(self, seconds: float) -> None:
        ms = max(0, int(seconds * 1000))
        if self._busy_ms is not None and abs(ms - self._busy_ms) < BUSY_SLACK_MS:
            return
        await self.writer.execute(f"PRAGMA busy_timeout = {ms}")
        self._busy_ms = ms

    def _check_file(self) -> None:
        """Unavailable when the opened file is no longer the one at its path: an acknowledgement for a
        write there would be a promise the next start cannot keep."""
        if self._file is not None and _identity(self.path) != self._file:
            raise self._refused(
                faults.FILE_GONE, f"{self.path} was removed or replaced while the server ran; restore it and restart"
            )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """BEGIN IMMEDIATE ... COMMIT under the write lock; storage faults become Unavailable."""
        self._check_file()
        async with self._write_slot(self.busy_timeout) as conn:
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._raise_storage_fault(exc)
                raise
            except BaseException:
                # cancelled while BEGIN waited for the lock: it still runs in the connection's thread,
                # and a transaction left open would swallow every later write uncommitted
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
                raise
            tx = Tx(conn)
            try:
                yield tx
                await conn.execute("COMMIT")
            except BaseException as exc:
                # SQLite may have rolled back by itself (disk full, I/O error); then this one has nothing to do
                with contextlib.suppress(sqlite3.Error):
                    await conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    self._raise_storage_fault(exc)
                raise
            self._health.succeeded(time.monotonic())
        for callback in tx._committed:
            # the change is committed: a callback that fails must not make it look refused to the caller
            try:
                callback()
            except Exception:
                log.exception("a callback after a commit failed")

    async def write_returning(
        self, sql: str, params: Params = (), *, wait: float | None = None, queue_timeout_is_fault: bool = True
    ) -> list[Row]:
        """One self-contained statement (its own implicit transaction) under the write lock."""
        wait = self.busy_timeout if wait is None else wait
        self._check_file()
        async with self._write_slot(wait, queue_timeout_is_fault=queue_timeout_is_fault) as conn:
            try:
                rows = await conn.execute_fetchall(sql, params)
            except sqlite3.Error as exc:
                self._raise_storage_fault(exc)
                raise
        self._health.succeeded(time.monotonic())
        return [dict(row) for row in rows]

    # -- reading ------------------------------------------------------------------------------

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        assert self._reader is not None, "database is not open"
        try:
            rows = await self._reader.execute_fetchall(sql, params)
        except sqlite3.Error as exc:
            self._raise_storage_fault(exc)
            raise
        return [dict(row) for row in rows]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator["Database"]:
        """Reads that must agree with each other (a report's totals and its breakdowns): a read-only
        connection of their own, in one read transaction, so every read on it sees the database as of
        the first, whatever is written meanwhile, while reads elsewhere still see each write at once."""
        view = BackgroundReads(self.path, busy_timeout=self.busy_timeout)
        try:
            await view.open()
            await view._reader.execute("BEGIN")  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            await view.close()
            self._raise_storage_fault(exc)
            raise
        try:
            yield view
        finally:
            await view.close()  # its transaction only read: closing ends it

    # -- faults and health --------------------------------------------------------------------

    def _raise_storage_fault(self, exc: sqlite3.Error) -> None:
        """Raise Unavailable when `exc` is a storage fault; return (for the caller to re-raise) when not."""
        kind = faults.fault_kind(exc)
        if kind is not None:
            raise self._refused(kind, faults.describe(exc)) from exc

    def _refused(self, kind: str, message: str) -> Unavailable:
        log.error("storage failure (%s): %s", kind, message)
        self._health.failed(kind, message, time.monotonic())
        return Unavailable("storage is unavailable right now; nothing was saved, try again")

    async def probe(self, wait: float | None = None) -> None:
        """A tiny write of our own; Unavailable (recorded for the health check) when it is refused.
        Waiting in line behind this process's own writes for longer than `wait` proves nothing about
        the storage (a long write holds the lock): that is not recorded."""
        await self.write_returning(_PROBE, wait=wait, queue_timeout_is_fault=wait is None)

    async def check_writable(self) -> None:
        """DatabaseUnusable when the file does not take a write now (read-only, full, locked)."""
        try:
            await self.probe()
        except Unavailable:
            report = self._health.report()
            raise DatabaseUnusable(f"cannot write to the database {self.path}: {self._why(report.message or '')}") from None

    async def health(self) -> Report:
        """Whether the database takes writes: what the last write met, or a probe when that is stale."""
        low = self._short_of_space()
        if low is not None:
            return low
        if self._health.report().problem != faults.FILE_GONE:
            with contextlib.suppress(Unavailable):
                self._check_file()  # a quiet server must see it too (and logs it once)
        if self._health.probe_due(time.monotonic()):
            if self._probing is None or self._probing.done():
                # one probe at a time, however many health checks ask; it finishes even if they give up
                self._probing = asyncio.ensure_future(self._probe_quietly())
            await asyncio.shield(self._probing)
        return self._health.report()

    async def healthy(self) -> bool:
        return (await self.health()).ok

    async def _probe_quietly(self) -> None:
        with contextlib.suppress(Unavailable):
            await self.probe(min(PROBE_WAIT, self.busy_timeout))

    def _why(self, message: str) -> str:
        """SQLite's words, and the likely cause when they do not name it (a full disk often shows as
        an I/O error on the -shm file)."""
        low = self._short_of_space()
        return f"{message}; {low.message}, the disk is full" if low is not None else message

    def _short_of_space(self) -> Report | None:
        if self.path == ":memory:" or self.path.startswith("file:"):
            return None
        try:
            stats = os.statvfs(os.path.dirname(os.path.abspath(self.path)))
        except OSError:
            return None
        free = stats.f_bavail * stats.f_frsize
        if free >= MIN_FREE_BYTES:
            return None
        return Report(False, faults.DISK_FULL, f"{free} bytes free on the database's file system")

    # -- migrations -------------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        """Apply pending numbered migrations in order; returns the names applied.
        DatabaseUnusable, naming the file and the migration, when one cannot be applied."""
        conn = self.writer
        step = "reading schema_version"
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in await conn.execute_fetchall("SELECT version FROM schema_version")}
            migrations = list(available_migrations())
            latest = max(version for version, _, _ in migrations)
            if done and max(done) > latest:
                # a newer chatserver changed this file in ways this code does not know: serving it would
                # write rows the newer schema's rules never allowed
                raise DatabaseUnusable(
                    f"the database {self.path} has schema version {max(done)}, newer than this chatserver knows "
                    f"({latest}); run the version that made it, or restore a backup made by this one"
                )
            applied: list[str] = []
            for version, name, sql in migrations:
                if version in done:
                    continue
                step = f"applying {name}"
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
                        if conn.in_transaction:
                            with contextlib.suppress(sqlite3.Error):
                                await conn.execute("ROLLBACK")
                        raise
                applied.append(name)
        except sqlite3.Error as exc:
            raise DatabaseUnusable(f"cannot migrate the database {self.path} ({step}): {self._why(faults.describe(exc))}") from exc
        return applied


class BackgroundReads(Database):
    """A read-only connection of its own for reads that take long and can wait: reports, exports and
    the complaint list (its search and its order pass over every complaint).

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


def _searchable(value: object) -> object:
    return searchable(value) if isinstance(value, str) else value


# SQL functions of our own, on every connection the server opens: migration 016 folds complaint text
# for search with searchable(), since SQLite's lower() knows ASCII letters only
SQL_FUNCTIONS: dict[str, tuple[int, Callable[..., object]]] = {"searchable": (1, _searchable)}


def add_sql_functions(conn: sqlite3.Connection) -> None:
    """Our SQL functions on a plain sqlite3 connection, for a tool that applies migrations itself."""
    for name, (arguments, function) in SQL_FUNCTIONS.items():
        conn.create_function(name, arguments, function, deterministic=True)


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`; None when there is none (or no file at all: memory)."""
    if path == ":memory:" or path.startswith("file:"):
        return None
    try:
        stats = os.stat(path)
    except OSError:
        return None
    return stats.st_dev, stats.st_ino


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
