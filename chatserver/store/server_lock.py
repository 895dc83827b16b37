"""One server per database file.

The router keeps the queue, presence, seats and timers in its process's memory (services/dispatch.py),
so a second `serve` on the same file would route the same waiting chats again, seat agents past their
capacity and fire every deadline twice, while both looked healthy. A server holds an exclusive lock
on `<db>.lock` for as long as its process lives; the kernel lets go of it however the process ends.
The lock sits beside the file the path leads to, so a symbolic link to the database (which SQLite
follows, sharing its journal) meets the same lock.
`backup`, `check`, `migrate` and `user add` take no lock: they are meant to run beside a server.
"""

from __future__ import annotations

import fcntl
import os

from chatserver.store.db import DatabaseUnusable


class DatabaseInUse(DatabaseUnusable):
    """Another server holds the database."""


def hold(db_path: str) -> int | None:
    """Lock the database for this process; the descriptor stays open until the process ends. None
    when there is nothing to lock (an in-memory database) or the lock file cannot be made, in which
    case opening the database says what is wrong with the place."""
    if db_path == ":memory:":
        return None
    try:
        fd = os.open(f"{os.path.realpath(db_path)}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseInUse(f"another chatserver is serving {db_path}; stop it first (one server per database)") from None
    return fd
