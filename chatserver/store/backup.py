"""Online backup of the SQLite file and the checks a copy (or any database file) must pass.

Plain `sqlite3`, no event loop: the CLI runs this beside a live server, in its own process.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from chatserver.store.db import available_migrations

COUNTED_TABLES = ("conversations", "messages", "complaints")
MAX_LISTED = 20  # problems listed per check; the rest are only counted


class BackupError(Exception):
    """A backup or check that cannot be done; the message says why, for the operator."""


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection; never creates a missing file (a typo must not yield an empty database)."""
    if not path.is_file():
        raise BackupError(f"no database file at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def schema_problems(conn: sqlite3.Connection) -> list[str]:
    """A file a newer chatserver migrated: this one would refuse to serve it, so it is no good here."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone():
        return []
    newest = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    known = max(version for version, _, _ in available_migrations())
    if newest is not None and newest > known:
        return [f"schema version {newest} is newer than this chatserver knows ({known}); use the version that made it"]
    return []


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else [f"integrity: {row}" for row in rows]


def _numbering_problems(conn: sqlite3.Connection, seq: str, last: str, counted: str) -> list[str]:
    """Conversations whose counted messages are not numbered 1..conversations.{last} by {seq} exactly once."""
    # count == distinct == last with min 1 and max last means exactly 1..last
    broken = conn.execute(
        f"""
        SELECT c.id, c.{last}, COUNT(m.id), COUNT(DISTINCT m.{seq}), MIN(m.{seq}), MAX(m.{seq})
          FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id AND {counted}
         GROUP BY c.id
        HAVING COUNT(m.id) != COUNT(DISTINCT m.{seq}) OR COUNT(m.id) != c.{last}
            OR (COUNT(m.id) > 0 AND (MIN(m.{seq}) != 1 OR MAX(m.{seq}) != c.{last}))
        """
    ).fetchall()
    return [
        f"sequence: conversation {cid} has {last} {value} but {n} messages ({distinct} distinct {seq}, from {lo} to {hi})"
        for cid, value, n, distinct, lo, hi in broken
    ]


def sequence_problems(conn: sqlite3.Connection) -> list[str]:
    """Each conversation's messages are seq 1..last_seq exactly once; references unique; no dangling keys."""
    problems = _numbering_problems(conn, "seq", "last_seq", "1")
    # the same for what customers see, the messages that are not notes (a file from before
    # migration 013 has no such numbers to check)
    if any(column[1] == "public_seq" for column in conn.execute("PRAGMA table_info(messages)")):
        problems += _numbering_problems(conn, "public_seq", "last_public_seq", "m.internal = 0")
    orphans = conn.execute(
        "SELECT COUNT(*) FROM messages WHERE conversation_id NOT IN (SELECT id FROM conversations)"
    ).fetchone()[0]
    if orphans:
        problems.append(f"sequence: {orphans} messages belong to no conversation")
    for reference, n in conn.execute(
        "SELECT reference, COUNT(*) FROM complaints GROUP BY reference HAVING COUNT(*) > 1"
    ):
        problems.append(f"complaints: reference {reference} is used {n} times")
    dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
    for table, rowid, parent, _ in dangling[:MAX_LISTED]:
        problems.append(f"foreign key: {table} row {rowid} points to a missing {parent} row")
    if len(dangling) > MAX_LISTED:
        problems.append(f"foreign key: {len(dangling) - MAX_LISTED} more dangling rows")
    return _capped(problems)


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED:
        return problems
    return problems[:MAX_LISTED] + [f"... and {len(problems) - MAX_LISTED} more problems"]


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in COUNTED_TABLES}


def check_file(path: Path) -> CheckReport:
    """Integrity and sequence checks of a database file nobody needs to stop for (read-only)."""
    conn = open_readonly(path)
    try:
        report = CheckReport(problems=integrity_problems(conn) + schema_problems(conn))
        if report.ok:  # the other queries mean little on a damaged file
            report.problems += sequence_problems(conn)
            report.counts = row_counts(conn)
        return report
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable chatserver database: {exc}") from exc
    finally:
        conn.close()


def backup_database(
    source: Path, target: Path, *, force: bool = False, pages: int = 256, pause: float = 0.005
) -> CheckReport:
    """Copy `source` to `target` with SQLite's online backup, check the copy, then move it into place.

    The copy is built in a temporary file beside `target`, so `target` is either absent (or the old
    file) or a complete, checked copy: never half-written.
    """
    target = target.absolute()
    if target.is_dir():
        raise BackupError(f"{target} is a directory; name the file to write, such as {target / 'chat.db'}")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; pass --force to replace it")
    if not target.parent.is_dir():
        raise BackupError(f"no directory {target.parent}")
    if target.exists() and source.exists() and os.path.samefile(source, target):
        raise BackupError("the backup cannot replace the database itself")
    src = open_readonly(source)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        src.close()
        raise BackupError(f"cannot write in {target.parent}: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _copy(src, tmp, pages, pause)
        report = check_file(tmp)
        if not report.ok:
            raise BackupError("the copy failed its checks:\n  " + "\n  ".join(report.problems))
        _fsync(tmp)
        _place(tmp, target, force)
        _fsync(target.parent)
        return report
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"backup failed: {exc}") from exc
    finally:
        src.close()
        tmp.unlink(missing_ok=True)


def _copy(src: sqlite3.Connection, tmp: Path, pages: int, pause: float) -> None:
    # One read transaction held for the whole copy: every step reads the same WAL snapshot, so the
    # copy is consistent and never restarts because the server committed meanwhile. In WAL mode this
    # reader does not block the server's writer; the pause between steps leaves it disk time.
    src.execute("BEGIN")
    try:
        src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.backup(dst, pages=pages, sleep=pause)
            # a single self-contained file: no -wal beside it to lose when it is moved or copied
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.execute("COMMIT")


def _place(tmp: Path, target: Path, force: bool) -> None:
    if force:
        os.replace(tmp, target)
        return
    try:
        # a hard link fails if something appeared at `target` meanwhile; rename would replace it
        os.link(tmp, target)
    except FileExistsError:
        raise BackupError(f"{target} already exists; pass --force to replace it") from None
    except OSError:
        # file systems without hard links: a last look, then rename
        if target.exists():
            raise BackupError(f"{target} already exists; pass --force to replace it") from None
        os.replace(tmp, target)


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # directories cannot be fsynced everywhere; the data file already was
    finally:
        os.close(fd)
