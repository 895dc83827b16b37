"""`chatserver backup` and `chatserver check`: a consistent copy of a live database, and the checks
that tell a sound database file from a broken one."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import socketio

from chatserver.store.backup import BackupError, backup_database, check_file, sequence_problems
from chatserver.store.db import add_sql_functions, available_migrations
from tests import peers
from tests.peers import CAST_PASSWORD, Peer, client_id
from tests.procs import ServerProcesses, create_users, run_cli

SECRET = "backup-test-secret-kkkkkkkkkkkkkkkkkkkkk"
NOW = "2026-03-02T09:00:00.000Z"


# -- hand-made databases ------------------------------------------------------------------------

def make_db(path: Path) -> sqlite3.Connection:
    """The real schema (every migration), no server."""
    conn = sqlite3.connect(path, isolation_level=None)
    add_sql_functions(conn)
    for _, _, sql in available_migrations():
        conn.executescript(sql)
    return conn


def add_conversation(conn: sqlite3.Connection, cid: str, seqs: list[int], notes: tuple[int, ...] = ()) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO customers (id, token_hash, created_at) VALUES (?, ?, ?)", (f"cu-{cid}", f"h-{cid}", NOW)
    )
    conn.execute(
        "INSERT INTO conversations (id, customer_id, status, created_at) VALUES (?, ?, 'closed', ?)", (cid, f"cu-{cid}", NOW)
    )
    public_seq = 0
    for seq in seqs:  # the trigger keeps last_seq and last_public_seq current, as in the server
        internal = seq in notes
        public_seq += 0 if internal else 1
        conn.execute(
            "INSERT INTO messages (id, conversation_id, seq, public_seq, sender, author, body, internal, created_at)"
            " VALUES (?, ?, ?, ?, 'customer', 'A', ?, ?, ?)",
            (f"{cid}-{seq}", cid, seq, None if internal else public_seq, f"body {seq}", int(internal), NOW),
        )


@pytest.fixture
def sound(tmp_path: Path) -> Path:
    path = tmp_path / "sound.db"
    conn = make_db(path)
    add_conversation(conn, "c1", [1, 2, 3, 4], notes=(2,))  # a staff note: customers count 1, 2, 3
    add_conversation(conn, "c2", [])
    add_conversation(conn, "c3", [1])
    conn.close()
    return path


def test_a_sound_database_passes_the_checks(sound: Path) -> None:
    report = check_file(sound)
    assert report.ok, report.problems
    assert report.counts == {"conversations": 3, "messages": 5, "complaints": 0}


@pytest.mark.parametrize(
    "breakage, expected",
    [
        ("DELETE FROM messages WHERE id = 'c1-2'", "conversation c1"),                         # a gap
        ("UPDATE conversations SET last_seq = 7 WHERE id = 'c3'", "conversation c3"),          # last_seq ahead
        ("UPDATE conversations SET last_seq = 0 WHERE id = 'c1'", "conversation c1"),          # last_seq behind
        ("UPDATE messages SET seq = 5 WHERE id = 'c3-1'", "conversation c3"),                   # does not start at 1
        ("UPDATE messages SET conversation_id = 'gone' WHERE id = 'c3-1'", "no conversation"),  # orphan message
        ("UPDATE messages SET public_seq = 4 WHERE id = 'c1-4'", "last_public_seq"),          # a gap customers see
        ("UPDATE conversations SET last_public_seq = 2 WHERE id = 'c1'", "last_public_seq"),  # customers' count behind
    ],
    ids=["gap", "last-seq-ahead", "last-seq-behind", "not-from-1", "orphan", "public-gap", "public-count-behind"],
)
def test_sequence_check_names_each_breakage(sound: Path, breakage: str, expected: str) -> None:
    with sqlite3.connect(sound) as conn:
        conn.execute(breakage)
    with sqlite3.connect(sound) as conn:
        problems = sequence_problems(conn)
    assert any(expected in p for p in problems), problems


def test_sequence_check_finds_duplicate_seq_and_references_without_their_unique_indexes(tmp_path: Path) -> None:
    # the schema forbids both; a damaged or hand-edited file may still hold them
    path = tmp_path / "loose.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE conversations (id TEXT PRIMARY KEY, last_seq INTEGER);
            CREATE TABLE messages (id TEXT PRIMARY KEY, conversation_id TEXT, seq INTEGER);
            CREATE TABLE complaints (id TEXT PRIMARY KEY, reference TEXT);
            INSERT INTO conversations VALUES ('c1', 2);
            INSERT INTO messages VALUES ('m1', 'c1', 1), ('m2', 'c1', 1);
            INSERT INTO complaints VALUES ('k1', 'C-2026-000001'), ('k2', 'C-2026-000001');
            """
        )
        problems = sequence_problems(conn)
    assert any("conversation c1" in p and "1 distinct seq" in p for p in problems), problems
    assert any("C-2026-000001 is used 2 times" in p for p in problems), problems


def test_foreign_key_check_is_part_of_the_sequence_check(sound: Path) -> None:
    with sqlite3.connect(sound) as conn:  # foreign keys are off on this connection
        conn.execute("UPDATE conversations SET customer_id = 'nobody' WHERE id = 'c2'")
    report = check_file(sound)
    assert any("foreign key: conversations" in p for p in report.problems), report.problems


def test_check_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="not a readable"):
        check_file(junk)
    with pytest.raises(BackupError, match="no database file"):
        check_file(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists(), "a check must never create a database"


def test_backup_in_small_steps_is_consistent_while_another_connection_writes(sound: Path, tmp_path: Path) -> None:
    with sqlite3.connect(sound) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for n in range(20):  # enough pages that one-page steps take many rounds
            add_conversation(conn, f"pad{n}", list(range(1, 30)))
    stop = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(sound, isolation_level=None)
        n = 0
        while not stop.is_set():
            n += 1
            conn.execute("BEGIN IMMEDIATE")
            add_conversation(conn, f"live{n}", [1, 2])
            conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = backup_database(sound, tmp_path / "copy.db", pages=1, pause=0.001)
    finally:
        stop.set()
        thread.join(10)
    assert report.ok, report.problems
    again = check_file(tmp_path / "copy.db")
    assert again.ok and again.counts == report.counts
    assert not (tmp_path / "copy.db-wal").exists(), "the copy must be one self-contained file"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == [], "a temporary file was left"


# -- the command line ---------------------------------------------------------------------------

def test_backup_refuses_an_existing_path_without_force(sound: Path, tmp_path: Path) -> None:
    target = tmp_path / "backup.db"
    target.write_bytes(b"an older backup")
    refused = run_cli("backup", str(target), "--db", str(sound), cwd=tmp_path)
    assert refused.returncode == 1, refused
    assert "already exists" in refused.stderr and "--force" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert target.read_bytes() == b"an older backup"

    forced = run_cli("backup", str(target), "--db", str(sound), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert f"wrote {target}" in forced.stdout and "conversations 3, messages 5, complaints 0" in forced.stdout, forced.stdout
    assert check_file(target).ok


def test_a_backup_that_fails_its_checks_is_refused_and_leaves_the_older_backup_alone(sound: Path, tmp_path: Path) -> None:
    # a copy of a damaged database is no backup: the older one must stay where it is
    with sqlite3.connect(sound) as conn:
        conn.execute("DELETE FROM messages WHERE id = 'c1-2'")  # a gap in a conversation's sequence
    target = tmp_path / "backup.db"
    for force in (False, True):
        target.unlink(missing_ok=True)
        if force:
            target.write_bytes(b"an older backup")
        refused = run_cli("backup", str(target), "--db", str(sound), *(["--force"] if force else []), cwd=tmp_path)
        assert refused.returncode == 1, refused
        assert "failed its checks" in refused.stderr and "conversation c1" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        if force:
            assert target.read_bytes() == b"an older backup"
        else:
            assert not target.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == [], "a temporary file was left"


def test_backup_of_a_missing_database_fails_without_creating_it(tmp_path: Path) -> None:
    result = run_cli("backup", str(tmp_path / "b.db"), "--db", str(tmp_path / "nope.db"), cwd=tmp_path)
    assert result.returncode == 1 and "no database file" in result.stderr, result
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_backup_with_an_invalid_setting_exits_2(sound: Path, tmp_path: Path) -> None:
    result = run_cli("backup", str(tmp_path / "b.db"), "--db", str(sound), env={"CHATSERVER_PORT": "abc"}, cwd=tmp_path)
    assert result.returncode == 2 and "port" in result.stderr, result


def test_check_exits_1_on_a_broken_sequence_and_0_on_a_sound_file(sound: Path, tmp_path: Path) -> None:
    good = run_cli("check", "--db", str(sound), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "checks passed" in good.stdout, good.stdout

    with sqlite3.connect(sound) as conn:
        conn.execute("DELETE FROM messages WHERE id = 'c1-2'")
    bad = run_cli("check", "--db", str(sound), cwd=tmp_path)
    assert bad.returncode == 1, bad
    assert "conversation c1" in bad.stderr and "Traceback" not in bad.stderr, bad.stderr


def test_check_refuses_a_file_a_newer_chatserver_made(sound: Path, tmp_path: Path) -> None:
    # restoring it would end at the first start, which refuses it: the check says so before that
    latest = max(version for version, _, _ in available_migrations())
    with sqlite3.connect(sound) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (?, 'from_the_future.sql', ?)", (latest + 1, NOW))
    checked = run_cli("check", "--db", str(sound), cwd=tmp_path)
    assert checked.returncode == 1, checked
    assert f"schema version {latest + 1}" in checked.stderr and "newer" in checked.stderr, checked.stderr
    assert "Traceback" not in checked.stderr


# -- a live server ------------------------------------------------------------------------------


async def stream(peer: Peer, conversation_id: str, acked: dict[str, int], stop: asyncio.Event, interval: float) -> None:
    """Send a message every `interval`, without waiting for acks; acked client_id -> seq."""

    async def send(cid: str) -> None:
        payload = {"conversation_id": conversation_id, "client_id": cid, "body": f"steady {cid}"}
        try:
            ack = await peer.call("message:send", payload, timeout=5)
        except socketio.exceptions.SocketIOError:
            return
        if ack.get("ok"):
            acked[cid] = ack["message"]["seq"]

    pending: set[asyncio.Task] = set()
    while not stop.is_set():
        task = asyncio.ensure_future(send(client_id()))
        pending.add(task)
        task.add_done_callback(pending.discard)
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except asyncio.TimeoutError:
            pass
    await asyncio.gather(*pending, return_exceptions=True)


@pytest.mark.slow
async def test_backup_while_serving_restores_every_acknowledged_message(
    procs: ServerProcesses, closing: list[Peer], tmp_path: Path
) -> None:
    env = {"CHATSERVER_SECRET_KEY": SECRET, "CHATSERVER_AGENT_GRACE": "30", "CHATSERVER_QUEUE_TIMEOUT": "120"}
    server = procs.server(env=env)
    await create_users(server.db, [("bob@example.test", "Bob", "agent", 3)], CAST_PASSWORD)
    await server.start()

    cookie = await peers.login_cookie(server.url, "bob@example.test")
    bob = await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
    closing.append(bob)
    await bob.wait_for("session")
    assert (await bob.call("presence:set", {"status": "online"}))["ok"]
    alice = await peers.customer(server.url)
    closing.append(alice)
    token = alice.received("session")[0]["token"]
    started = await alice.call("chat:start", {"body": "hello", "name": "Alice"})
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]
    await alice.wait_for("chat:assigned")

    acked: dict[str, int] = {}
    stop = asyncio.Event()
    streaming = asyncio.ensure_future(stream(alice, conversation_id, acked, stop, interval=0.05))
    copy = tmp_path / "backups" / "copy.db"
    copy.parent.mkdir()
    try:
        deadline = time.monotonic() + 10
        while len(acked) < 20:
            assert time.monotonic() < deadline and not streaming.done(), f"only {len(acked)} acks"
            await asyncio.sleep(0.02)
        before = dict(acked)  # acknowledged before the backup started: must all be in the copy
        result = await asyncio.to_thread(run_cli, "backup", str(copy), "--db", str(server.db), cwd=tmp_path)
        await asyncio.sleep(0.3)
        during = len(acked)
    finally:
        stop.set()
        await asyncio.wait_for(streaming, 10)
    assert result.returncode == 0, (result.stdout, result.stderr, server.output())
    assert f"wrote {copy}" in result.stdout, result.stdout
    assert during > len(before), "the server stopped answering while the backup ran"
    assert [p.name for p in copy.parent.iterdir()] == ["copy.db"], "only the finished copy may be left"

    checked = run_cli("check", "--db", str(copy), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr

    # restore: a server on the copy serves the history
    restored = procs.server(db=copy, env=env, name="restored")
    await restored.start()
    again = await peers.customer(restored.url, token=token)
    closing.append(again)
    history = await again.call("history", {"conversation_id": conversation_id, "after_seq": 0})
    assert history["ok"], history
    messages = history["messages"]
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    stored = Counter(m["client_id"] for m in messages if m["client_id"])
    missing = [cid for cid in before if stored[cid] != 1]
    assert missing == [], f"acknowledged before the backup but not in the copy exactly once: {missing}"
    by_client = {m["client_id"]: m["seq"] for m in messages if m["client_id"]}
    assert all(by_client[cid] == seq for cid, seq in before.items())


@pytest.mark.parametrize("command, mentions", [(["backup"], ["PATH", "--force", "--db", "--config"]), (["check"], ["--db"])])
def test_help_names_the_options(command: list[str], mentions: list[str], tmp_path: Path) -> None:
    result = run_cli(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0 and all(word in result.stdout for word in mentions), result.stdout
    assert not list(tmp_path.iterdir()), "--help must not create files"
