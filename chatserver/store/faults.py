"""Which SQLite errors are storage faults, by SQLite's own result code.

A storage fault means the file cannot be written or read right now (locked, read-only, full, failing
or corrupt): the request is answered `unavailable` and the health check turns red. Everything else
(a constraint the schema refused, a mistake in our SQL) is not a storage fault and must not be
disguised as one: constraint errors are the callers' to handle, bugs answer `internal`.
"""

from __future__ import annotations

import sqlite3

LOCKED = "locked"
READ_ONLY = "read_only"
DISK_FULL = "disk_full"
IO_ERROR = "io_error"
CORRUPT = "corrupt"
CANNOT_OPEN = "cannot_open"
# the file the server opened is no longer at its path (deleted, or replaced by another): writes would
# land in a file nobody will open again, and be lost at the next start
FILE_GONE = "file_gone"
OUT_OF_MEMORY = "out_of_memory"
UNKNOWN = "storage"

# primary result codes from sqlite3.h
_KINDS = {
    3: READ_ONLY,  # SQLITE_PERM
    5: LOCKED,  # SQLITE_BUSY
    6: LOCKED,  # SQLITE_LOCKED
    7: OUT_OF_MEMORY,  # SQLITE_NOMEM
    8: READ_ONLY,  # SQLITE_READONLY
    10: IO_ERROR,  # SQLITE_IOERR (a write refused by the file system lands here too)
    11: CORRUPT,  # SQLITE_CORRUPT
    13: DISK_FULL,  # SQLITE_FULL
    14: CANNOT_OPEN,  # SQLITE_CANTOPEN
    15: LOCKED,  # SQLITE_PROTOCOL
    26: CORRUPT,  # SQLITE_NOTADB
}

# faults that do not go away by themselves: the file must be checked or restored by someone
LASTING = frozenset({CORRUPT, FILE_GONE})


def fault_kind(exc: BaseException) -> str | None:
    """The kind of storage fault `exc` is, or None when it is not one."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.DataError)):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        # raised by the sqlite3 module itself rather than by SQLite: only an operational one is storage
        return UNKNOWN if isinstance(exc, sqlite3.OperationalError) else None
    return _KINDS.get(code & 0xFF)


def describe(exc: BaseException) -> str:
    """The error as an operator wants to read it: SQLite's message and its code's name."""
    name = getattr(exc, "sqlite_errorname", None)
    return f"{exc} ({name})" if name else str(exc)
