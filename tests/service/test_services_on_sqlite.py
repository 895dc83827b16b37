"""Services and store on a real SQLite file, without the network."""

import asyncio
import sqlite3
import threading
from datetime import datetime, timezone

import pytest

from chatserver.config import Settings
from chatserver.services import auth as auth_module
from chatserver.domain.errors import Conflict, Invalid, Unauthorized
from chatserver.services.container import build_services, close_services
from chatserver.store import conversations
from chatserver.store.db import Database, available_migrations
from tests.clock import FakeClock


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 12, 31, 23, 59, 0, tzinfo=timezone.utc))


@pytest.fixture
async def services(tmp_path, clock):
    settings = Settings(db=str(tmp_path / "svc.db"), queue_timeout=600, agent_grace=60)
    built = await build_services(settings, "secret", clock)
    yield built
    await close_services(built)


async def test_every_migration_applies_to_an_empty_file_and_is_recorded(tmp_path):
    db = Database(str(tmp_path / "empty.db"))
    await db.open()
    applied = await db.migrate()
    assert applied == [name for _, name, _ in available_migrations()]
    assert await db.migrate() == []
    versions = await db.fetch("SELECT version FROM schema_version ORDER BY version")
    assert [v["version"] for v in versions] == [v for v, _, _ in available_migrations()]
    mode = await db.fetch("PRAGMA journal_mode")
    assert mode[0]["journal_mode"] == "wal"
    await db.close()


async def test_passwords_are_hashed_and_login_checks_them(services):
    row = await services.auth.create_user(email="bob@example.test", name="Bob", role="agent", password="s3cret-pass")
    assert row["password_hash"].startswith("$argon2id$")
    user = await services.auth.login("BOB@example.test", "s3cret-pass")
    assert user.id == row["id"] and user.session_id and user.csrf_token
    with pytest.raises(Unauthorized):
        await services.auth.login("bob@example.test", "wrong")
    with pytest.raises(Unauthorized):
        await services.auth.login("nobody@example.test", "s3cret-pass")
    with pytest.raises(Conflict):
        await services.auth.create_user(email="bob@example.test", name="Bob 2", role="agent", password="another-pass")
    with pytest.raises(Invalid):
        await services.auth.create_user(email="x@example.test", name="X", role="root", password="another-pass")


async def test_password_checks_run_off_the_event_loop_a_few_at_a_time(services, monkeypatch):
    # argon2 costs about 0.1 s of CPU a check: on the loop, a burst of sign-ins would stall every chat
    await services.auth.create_user(email="bob@example.test", name="Bob", role="agent", password="s3cret-pass")
    loop_thread = threading.get_ident()
    running, most, threads = 0, 0, set()
    count = threading.Lock()
    real = auth_module.password_matches

    def watched(stored_hash: str, password: str) -> bool:
        nonlocal running, most
        with count:
            running += 1
            most = max(most, running)
            threads.add(threading.get_ident())
        try:
            return real(stored_hash, password)
        finally:
            with count:
                running -= 1

    monkeypatch.setattr(auth_module, "password_matches", watched)
    attempts = [services.auth.login("bob@example.test", "wrong-pass") for _ in range(6)]
    attempts += [services.auth.login("nobody@example.test", "wrong-pass"), services.auth.login("bob@example.test", "s3cret-pass")]
    answers = await asyncio.gather(*attempts, return_exceptions=True)
    assert [type(a).__name__ for a in answers] == ["Unauthorized"] * 7 + ["ConsoleUser"]
    assert loop_thread not in threads and threads
    assert most <= auth_module.PASSWORD_CHECKS_AT_ONCE


async def test_complaint_due_times_and_reference_come_from_the_category_at_creation(services, clock):
    customer, _ = await services.auth.resolve_customer(token=None, locale="pl", identity=None)
    created = await services.complaints.submit_form(customer=customer, category="account_access", subject="Locked", body="2FA", email="a@b.test")
    assert created["reference"] == "C-2026-000001"
    assert created["created_at"] == "2026-12-31T23:59:00.000Z"
    assert created["first_response_due"] == "2027-01-01T23:59:00.000Z"
    assert created["resolution_due"] == "2027-01-01T23:59:00.000Z"  # account access: 24 h resolution
    clock.advance(minutes=2)
    next_year = await services.complaints.submit_form(customer=customer, category="other", subject="S", body="B", email=None)
    assert next_year["reference"] == "C-2027-000001"  # numbering restarts each year
    assert next_year["resolution_due"] == "2027-01-03T00:01:00.000Z"


async def test_the_database_refuses_a_second_open_conversation_for_one_customer(services):
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    results = await asyncio.gather(*(services.chats.start(customer, topic=None, body=f"hi {i}", name=None, email=None) for i in range(5)))
    assert len({r["conversation"]["id"] for r in results}) == 1
    rows = await services.db.fetch("SELECT COUNT(*) AS n FROM conversations WHERE customer_id = ?", (customer["id"],))
    assert rows[0]["n"] == 1


async def test_a_seat_is_reserved_atomically_in_the_database(services, clock):
    agent = await services.auth.create_user(email="bob@example.test", name="Bob", role="agent", password="s3cret-pass", max_chats=1)
    ids = []
    for _ in range(3):
        customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
        async with services.db.transaction() as tx:
            row = await conversations.create_queued(tx, customer_id=customer["id"], topic=None, locale="en", now="2026-12-31T23:59:00.000Z", deadline="2027-01-01T00:09:00.000Z")
        ids.append(row["id"])

    async def reserve(conversation_id):
        async with services.db.transaction() as tx:
            return await conversations.assign(tx, conversation_id=conversation_id, agent_id=agent["id"], max_chats=1, now="2026-12-31T23:59:00.000Z")

    assert sorted(await asyncio.gather(*(reserve(i) for i in ids))) == [False, False, True]


async def test_messages_get_consecutive_seq_and_resends_are_deduplicated(services):
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    started = await services.chats.start(customer, topic=None, body=None, name=None, email=None)
    conversation_id = started["conversation"]["id"]
    sent = await asyncio.gather(*(services.chats.post_customer_message(customer, conversation_id, f"c{i % 10}", f"m{i % 10}") for i in range(30)))
    assert sorted({m["seq"] for m in sent}) == list(range(1, 11))
    rows = await services.db.fetch("SELECT seq FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation_id,))
    assert [r["seq"] for r in rows] == list(range(1, 11))
    with pytest.raises(sqlite3.IntegrityError):
        async with services.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO messages (id, conversation_id, seq, sender, author, body, created_at) VALUES ('m_x', ?, 3, 'system', 's', 'dup', 'now')",
                (conversation_id,),
            )


async def test_a_storage_failure_is_an_unavailable_error_and_nothing_is_half_written(services):
    customer, _ = await services.auth.resolve_customer(token=None, locale=None, identity=None)
    started = await services.chats.start(customer, topic=None, body="hello", name=None, email=None)
    conversation_id = started["conversation"]["id"]
    await services.db.writer.execute("PRAGMA query_only = ON")
    from chatserver.domain.errors import Unavailable

    with pytest.raises(Unavailable):
        await services.chats.post_customer_message(customer, conversation_id, "c1", "lost?")
    with pytest.raises(Unavailable):
        await services.chats.end_by_customer(customer, conversation_id, resolved=False)
    assert not await services.db.healthy()
    await services.db.writer.execute("PRAGMA query_only = OFF")
    stored = await services.chats.post_customer_message(customer, conversation_id, "c1", "lost?")
    assert stored["seq"] == 2
    assert await services.db.healthy()
    complaints = await services.db.fetch("SELECT COUNT(*) AS n FROM complaints")
    assert complaints[0]["n"] == 0


async def test_an_existing_chat_with_staff_notes_is_numbered_for_its_customer_when_the_file_is_upgraded(tmp_path):
    # a file written before customers had their own count: the upgrade numbers what they may see
    path = tmp_path / "upgrade.db"
    earlier = [(version, name, sql) for version, name, sql in available_migrations() if version < 13]
    with sqlite3.connect(path) as conn:
        for _, _, sql in earlier:
            conn.executescript(sql)
        conn.execute("INSERT INTO customers (id, token_hash, created_at) VALUES ('cu1', 'h', '2026-12-01T10:00:00.000Z')")
        conn.execute("INSERT INTO conversations (id, customer_id, status, created_at) VALUES ('cv1', 'cu1', 'closed', '2026-12-01T10:00:00.000Z')")
        for seq, internal in ((1, 0), (2, 1), (3, 0), (4, 1), (5, 0)):
            conn.execute(
                "INSERT INTO messages (id, conversation_id, seq, sender, author, body, internal, created_at)"
                " VALUES (?, 'cv1', ?, 'agent', 'Bob', ?, ?, '2026-12-01T10:00:00.000Z')",
                (f"m{seq}", seq, f"line {seq}", internal),
            )
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        conn.executemany("INSERT INTO schema_version VALUES (?, ?, 'then')", [(version, name) for version, name, _ in earlier])
    db = Database(str(path))
    await db.open()
    assert [name for name in await db.migrate()][0].startswith("013_")
    rows = await db.fetch("SELECT seq, public_seq FROM messages WHERE conversation_id = 'cv1' ORDER BY seq")
    assert [(r["seq"], r["public_seq"]) for r in rows] == [(1, 1), (2, None), (3, 2), (4, None), (5, 3)]
    assert (await db.fetch_one("SELECT last_seq, last_public_seq FROM conversations WHERE id = 'cv1'")) == {"last_seq": 5, "last_public_seq": 3}
    await db.close()
