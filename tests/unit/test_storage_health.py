"""Which SQLite errors are storage faults, and what the health check knows and when it looks again.

The errors are real ones, raised by SQLite on small files in a temporary folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

import pytest

from chatserver.store import faults
from chatserver.store.health import PROBE_EVERY, StorageHealth


def raised(action: Callable[[], object]) -> BaseException:
    with pytest.raises(sqlite3.Error) as caught:
        action()
    return caught.value


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "f.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        conn.execute("INSERT INTO t VALUES (1, 'x')")
    conn.close()
    return path


def test_a_lock_held_by_another_connection_is_locked(db: Path) -> None:
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    writer = sqlite3.connect(db, timeout=0.05, isolation_level=None)
    try:
        assert faults.fault_kind(raised(lambda: writer.execute("INSERT INTO t VALUES (2, 'y')"))) == faults.LOCKED
    finally:
        holder.close()
        writer.close()


def test_a_read_only_connection_is_read_only(db: Path) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    exc = raised(lambda: conn.execute("INSERT INTO t VALUES (2, 'y')"))
    conn.close()
    assert faults.fault_kind(exc) == faults.READ_ONLY
    assert faults.describe(exc) == "attempt to write a readonly database (SQLITE_READONLY)"


def test_a_file_that_is_not_a_database_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the pages you are looking for\n" * 100)
    conn = sqlite3.connect(path)
    exc = raised(lambda: conn.execute("SELECT * FROM sqlite_master").fetchall())
    conn.close()
    assert type(exc) is sqlite3.DatabaseError  # not an OperationalError: it used to answer internal
    assert faults.fault_kind(exc) == faults.CORRUPT


def test_a_missing_folder_cannot_be_opened(tmp_path: Path) -> None:
    exc = raised(lambda: sqlite3.connect(tmp_path / "nowhere" / "x.db").execute("SELECT 1"))
    assert faults.fault_kind(exc) == faults.CANNOT_OPEN


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO t VALUES (1, 'again')",  # a constraint: the caller's business (a conflict)
        "INSERT INTO t VALUES (2, NULL)",
        "SELECT * FROM no_such_table",  # our mistake: internal, not the storage's
        "SELEC 1",
    ],
)
def test_constraints_and_mistakes_in_sql_are_not_storage_faults(db: Path, statement: str) -> None:
    conn = sqlite3.connect(db)
    exc = raised(lambda: conn.execute(statement))
    conn.close()
    assert faults.fault_kind(exc) is None


def test_errors_that_are_not_sqlites_are_not_storage_faults() -> None:
    assert faults.fault_kind(ValueError("no active connection")) is None
    assert faults.fault_kind(sqlite3.OperationalError("raised without a code")) == faults.UNKNOWN


# -- the health state ---------------------------------------------------------------------------------


def test_health_is_green_until_a_write_fails_and_looks_again_only_when_what_it_knows_is_stale() -> None:
    health = StorageHealth()
    assert health.report().ok and health.probe_due(0.0)  # nothing known yet
    health.succeeded(10.0)
    assert health.report().ok and not health.probe_due(10.0 + PROBE_EVERY / 2)
    assert health.probe_due(10.0 + PROBE_EVERY)  # nobody wrote for a while: look

    health.failed(faults.DISK_FULL, "database or disk is full (SQLITE_FULL)", 20.0)
    report = health.report()
    assert (report.ok, report.problem, report.message) == (False, "disk_full", "database or disk is full (SQLITE_FULL)")
    assert not health.probe_due(20.0 + PROBE_EVERY / 2)  # just failed: red without looking
    assert health.probe_due(20.0 + PROBE_EVERY)  # the cause may be gone: look
    health.succeeded(22.0)
    assert health.report().ok


def test_a_corruption_stays_red_whatever_succeeds_afterwards_and_is_not_probed_away() -> None:
    health = StorageHealth()
    health.failed(faults.CORRUPT, "database disk image is malformed (SQLITE_CORRUPT)", 1.0)
    health.succeeded(2.0)  # a write to another table
    health.failed(faults.LOCKED, "database is locked (SQLITE_BUSY)", 3.0)
    health.succeeded(4.0)
    assert health.report().problem == "corrupt"
    assert not health.probe_due(100.0)
