"""Running the server: settings that must stop a start, ports and files it cannot have, databases
from older and newer versions, and backups to places that cannot take them."""

from __future__ import annotations

import re
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from chatserver.config import SettingsError, load_settings
from chatserver.store import db as db_module
from chatserver.store.backup import BackupError, backup_database, check_file
from chatserver.store.db import Database, DatabaseUnusable, add_sql_functions, available_migrations
from tests.procs import HOST, ServerProcesses, free_port, get_health, run_cli

ROOT = Path(__file__).resolve().parent.parent
SECRET = {"CHATSERVER_SECRET_KEY": "operations-edges-secret-kkkkkkkkkkkkkkkk"}
NOW = "2024-01-01T00:00:00Z"
LATEST = max(version for version, _, _ in available_migrations())


def one_clear_line(result, *words: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("chatserver: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


# -- settings -----------------------------------------------------------------------------------

def test_a_misspelt_chatserver_variable_stops_start_up_and_is_named(tmp_path: Path) -> None:
    # CHATSERVER_TRUSTED_PROXY (no S) would leave every visitor counted as the proxy's one address
    result = run_cli("serve", "--db", str(tmp_path / "chat.db"), env={"CHATSERVER_TRUSTED_PROXY": "127.0.0.1"}, cwd=tmp_path)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    one_clear_line(result, "CHATSERVER_TRUSTED_PROXY")
    assert not (tmp_path / "chat.db").exists()


# a row of the settings table whose default is a value one could type (not "none" or a description)
DOCUMENTED_DEFAULT = re.compile(r"^\| `(CHATSERVER_\w+)`(?: \*\(extension\)\*)? \| `([^`]+)` \|", re.MULTILINE)


def test_every_documented_variable_is_known_and_its_documented_default_is_the_default() -> None:
    """Each variable the settings table names is one the server takes (none stops a start as unknown),
    and setting one to the default the table gives changes nothing."""
    table = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    variables = re.findall(r"^\| `(CHATSERVER_\w+)`(?:, `(CHATSERVER_\w+)`)?", table, re.MULTILINE)
    named = {name for row in variables for name in row if name}
    assert len(named) > 40
    for variable in sorted(named - {"CHATSERVER_CONFIG"}):
        try:
            load_settings({variable: "1"})  # a value it may refuse, but as a value, not as an unknown name
        except SettingsError as refused:
            assert "unknown setting" not in str(refused), variable
    built_in = load_settings({})
    defaults = DOCUMENTED_DEFAULT.findall(table)
    assert len(defaults) > 30
    for variable, documented in defaults:
        if documented == "http://HOST:PORT":
            continue  # a pattern, not a value
        setting = variable.removeprefix("CHATSERVER_").lower()
        assert getattr(load_settings({variable: documented}), setting) == getattr(built_in, setting), (variable, documented)


def test_the_config_file_variable_is_read(tmp_path: Path) -> None:
    config = tmp_path / "chatserver.toml"
    config.write_text("port = 9000\n", encoding="utf-8")
    settings = load_settings({"CHATSERVER_CONFIG": str(config), "CHATSERVER_SMTP_PASSWORD": "x", "CHATSERVER_LOG_LEVEL": "WARNING"})
    assert settings.port == 9000 and settings.smtp_password == "x"


def test_an_empty_host_is_refused_rather_than_listening_on_every_address() -> None:
    # asyncio binds "" to 0.0.0.0 and ::, which would put a server meant for 127.0.0.1 on the network
    with pytest.raises(SettingsError, match="'host'"):
        load_settings({"CHATSERVER_HOST": ""})


def test_an_empty_database_path_stops_start_up_instead_of_serving_a_throwaway_database(tmp_path: Path) -> None:
    for command in ("migrate", "serve", "check"):
        result = run_cli(command, env={"CHATSERVER_DB": "", **SECRET}, cwd=tmp_path)
        assert result.returncode == 2, (command, result.returncode, result.stdout, result.stderr)
        one_clear_line(result, "'db'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "variable, value, setting",
    [
        ("CHATSERVER_QUEUE_TIMEOUT", "nan", "queue_timeout"),
        ("CHATSERVER_QUEUE_TIMEOUT", "inf", "queue_timeout"),
        # 31,000 years: the deadline of every chat start would be past the year 9999
        ("CHATSERVER_QUEUE_TIMEOUT", "1e12", "queue_timeout"),
        ("CHATSERVER_AGENT_GRACE", "nan", "agent_grace"),
        ("CHATSERVER_SLA_SWEEP_SECONDS", "inf", "sla_sweep_seconds"),
        ("CHATSERVER_SLA_WARNING_HOURS", "nan", "sla_warning_hours"),
        ("CHATSERVER_COMPLAINT_AUTOCLOSE_DAYS", "1e9", "complaint_autoclose_days"),
        ("CHATSERVER_FIRST_RESPONSE_HOURS", "-5", "first_response_hours"),
        ("CHATSERVER_RESOLUTION_HOURS", "0", "resolution_hours"),
        ("CHATSERVER_DB_BUSY_TIMEOUT", "nan", "db_busy_timeout"),
        ("CHATSERVER_SMTP_PORT", "0", "smtp_port"),
        ("CHATSERVER_SMTP_PORT", "70000", "smtp_port"),
        ("CHATSERVER_LOG_LEVEL", "verbose", "log_level"),
        ("CHATSERVER_LOG_LEVEL", "", "log_level"),
        ("CHATSERVER_PUBLIC_URL", "support.example.com", "public_url"),
        ("CHATSERVER_ALLOWED_ORIGINS", "https://shop.example, shop2.example", "allowed_origins"),
        ("CHATSERVER_ALLOWED_ORIGINS", "https://shop.example; script-src *", "allowed_origins"),
        ("CHATSERVER_ALLOWED_ORIGINS", "https://shop.example:\u0668\u0660", "allowed_origins"),
        # a newline must never reach a header or a link
        ("CHATSERVER_PUBLIC_URL", "https://help.example.com\n", "public_url"),
        # a short secret lets anyone holding one tracking key test guesses offline for every other
        ("CHATSERVER_SECRET_KEY", "changeme", "secret_key"),
        ("CHATSERVER_SECRET_KEY", " " * 40, "secret_key"),
        ("CHATSERVER_IDENTITY_SECRET", "shared-with-the-site", "identity_secret"),
        # an unquoted comma makes two senders; the mail would go out from the first, a bare name
        ("CHATSERVER_MAIL_FROM", "Acme Bet, Support <support@acme.example>", "mail_from"),
        ("CHATSERVER_MAIL_FROM", "support", "mail_from"),
        ("CHATSERVER_MAIL_FROM", "Support <>", "mail_from"),
        ("CHATSERVER_MAIL_FROM", "a@acme.example, b@acme.example", "mail_from"),
    ],
)
def test_a_value_the_server_cannot_use_is_refused_and_named(variable: str, value: str, setting: str) -> None:
    with pytest.raises(SettingsError, match=f"'{setting}'"):
        load_settings({variable: value})


def test_a_short_secret_key_stops_serve_in_one_line_that_says_how_to_make_one(tmp_path: Path) -> None:
    result = run_cli("serve", "--db", str(tmp_path / "chat.db"), env={"CHATSERVER_SECRET_KEY": "changeme"}, cwd=tmp_path)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    one_clear_line(result, "'secret_key' is too short (8 characters)", "secrets.token_hex(32)")
    assert not (tmp_path / "chat.db").exists()


def test_sensible_values_around_the_new_limits_still_load() -> None:
    settings = load_settings({
        "CHATSERVER_QUEUE_TIMEOUT": "86400", "CHATSERVER_AGENT_GRACE": "0", "CHATSERVER_COMPLAINT_AUTOCLOSE_DAYS": "365",
        "CHATSERVER_LOG_LEVEL": "Debug", "CHATSERVER_SMTP_PORT": "465", "CHATSERVER_PUBLIC_URL": "https://help.example.com/support/",
        "CHATSERVER_ALLOWED_ORIGINS": "https://shop.example/, http://localhost:3000", "CHATSERVER_SECRET_KEY": "",
    })
    assert load_settings({"CHATSERVER_SECRET_KEY": "k" * 32, "CHATSERVER_IDENTITY_SECRET": "i" * 32}).secret_key == "k" * 32
    assert settings.base_url == "https://help.example.com/support"
    assert settings.allowed_origins == ("https://shop.example/", "http://localhost:3000")
    assert load_settings({"CHATSERVER_PUBLIC_URL": ""}).base_url == "http://127.0.0.1:8080"


# -- start-up ---------------------------------------------------------------------------------

def test_a_port_another_process_listens_on_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--db", str(tmp_path / "chat.db"), "--port", str(port), env=SECRET, cwd=tmp_path)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    one_clear_line(result, f"cannot listen on {HOST}:{port}", "in use")


@pytest.mark.slow
async def test_a_second_server_on_the_same_database_is_refused_and_the_first_serves_on(procs: ServerProcesses) -> None:
    # two routers over one file would seat the same waiting chats twice and fire every deadline twice
    first = await procs.server(env=SECRET, name="first").start()
    for command in ("serve", "demo"):
        result = run_cli(command, "--db", str(first.db), "--port", str(free_port()), env=SECRET, cwd=first.db.parent)
        assert result.returncode == 1, (command, result.returncode, result.stdout, result.stderr)
        one_clear_line(result, "another chatserver is serving", str(first.db))
    with sqlite3.connect(first.db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0  # the refused demo seeded nobody
    conn.close()
    assert await get_health(first.url) == 200
    # the tools meant to run beside a server still do
    assert run_cli("check", "--db", str(first.db), env=SECRET).returncode == 0
    first.kill()  # however the first one ends, the lock goes with it
    second = await procs.server(db=first.db, env=SECRET, name="second").start()
    await second.stop()


@pytest.mark.slow
async def test_a_production_start_creates_no_demo_users(procs: ServerProcesses) -> None:
    server = await procs.server(env=SECRET).start()
    await server.stop()
    with sqlite3.connect(server.db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    conn.close()


# -- migrations -------------------------------------------------------------------------------

def schema_upto(path: Path, last: int) -> sqlite3.Connection:
    """A file as version `last` of the schema left it (migrations 1..last, recorded as the server does)."""
    conn = sqlite3.connect(path, isolation_level=None)
    add_sql_functions(conn)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for version, name, sql in available_migrations():
        if version <= last:
            conn.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_version VALUES ({version}, '{name}', '{NOW}');\nCOMMIT;")
    return conn


def fill_with_first_schema_rows(conn: sqlite3.Connection) -> None:
    """Users, customers, a closed chat with a staff note and a complaint, a queued chat: columns of 001 only."""
    conn.execute("INSERT INTO users (id, email, name, role, password_hash, status_since, created_at) VALUES ('u1', 'ann@example.test', 'Ann', 'agent', 'h', ?, ?)", (NOW, NOW))
    for cid in ("c1", "c2"):
        conn.execute("INSERT INTO customers (id, token_hash, created_at) VALUES (?, ?, ?)", (cid, f"hash-{cid}", NOW))
    conn.execute("INSERT INTO conversations (id, customer_id, status, agent_id, created_at) VALUES ('v1', 'c1', 'closed', 'u1', ?)", (NOW,))
    conn.execute("INSERT INTO conversations (id, customer_id, status, created_at, queued_at, wait_deadline) VALUES ('v2', 'c2', 'queued', ?, ?, ?)", (NOW, NOW, NOW))
    for seq, (sender, internal) in enumerate([("customer", 0), ("agent", 1), ("agent", 0), ("customer", 0)], 1):
        conn.execute(
            "INSERT INTO messages (id, conversation_id, seq, sender, author, body, internal, created_at) VALUES (?, 'v1', ?, ?, 'x', 'hi', ?, ?)",
            (f"m{seq}", seq, sender, internal, NOW),
        )
    conn.execute("INSERT INTO messages (id, conversation_id, seq, sender, author, body, created_at) VALUES ('m9', 'v2', 1, 'customer', 'x', 'hello?', ?)", (NOW,))
    if "public_seq" in {row[1] for row in conn.execute("PRAGMA table_info(messages)")}:
        # a schema that already numbers what customers see: number these as the server would have
        conn.executescript("""
            UPDATE messages SET public_seq = (SELECT COUNT(*) FROM messages p WHERE p.conversation_id = messages.conversation_id
                                              AND p.internal = 0 AND p.seq <= messages.seq) WHERE internal = 0;
            UPDATE conversations SET last_public_seq = COALESCE((SELECT MAX(public_seq) FROM messages WHERE conversation_id = conversations.id), 0);
        """)
    if conn.execute("SELECT 1 FROM categories WHERE slug = 'other'").fetchone() is None:
        conn.execute("INSERT INTO categories (slug, name_en, name_ru, name_pl) VALUES ('legacy', 'Legacy', 'Legacy', 'Legacy')")
    category = conn.execute("SELECT slug FROM categories ORDER BY slug LIMIT 1").fetchone()[0]
    conn.execute(
        "INSERT INTO complaints (id, reference, conversation_id, customer_id, category, subject, source, created_at, first_response_due, resolution_due)"
        " VALUES ('k1', 'C-2024-000001', 'v1', 'c1', ?, 'Lost bet', 'chat', ?, ?, ?)", (category, NOW, NOW, NOW),
    )
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'complaint_search'").fetchone():
        # a schema that already keeps search text: fold it as the server does when it writes a complaint
        conn.execute("INSERT INTO complaint_search (complaint_id, folded) SELECT id, searchable(reference || char(10) || subject"
                     " || char(10) || COALESCE(body, '')) FROM complaints")


@pytest.mark.parametrize("last", range(1, LATEST))
async def test_a_database_from_every_earlier_schema_with_data_migrates_and_passes_the_checks(last: int, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = schema_upto(path, last)
    fill_with_first_schema_rows(conn)
    conn.close()
    db = Database(str(path))
    applied = await db.prepare()
    assert applied == [name for version, name, _ in available_migrations() if version > last]
    assert await db.migrate() == []  # a second start applies nothing
    await db.close()
    report = check_file(path)
    assert report.ok, report.problems
    assert report.counts == {"conversations": 2, "messages": 5, "complaints": 1}
    with sqlite3.connect(path) as conn:
        # customers' numbering skips the staff note; the counters match what is stored
        assert conn.execute("SELECT id, public_seq FROM messages ORDER BY id").fetchall() == [
            ("m1", 1), ("m2", None), ("m3", 2), ("m4", 3), ("m9", 1),
        ]
        # a complaint from before search kept folded text is found like a new one
        assert conn.execute("SELECT complaint_id, folded FROM complaint_search").fetchall() == [("k1", "c-2024-000001\nlost bet\n")]
        assert conn.execute("SELECT id, last_seq, last_public_seq FROM conversations ORDER BY id").fetchall() == [("v1", 4, 3), ("v2", 1, 1)]
    conn.close()


async def test_a_resolution_turned_down_before_the_upgrade_no_longer_counts_as_the_resolution(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = schema_upto(path, 14)
    fill_with_first_schema_rows(conn)
    # k1 resolved, then the customer asked for more (and it closed unanswered); k2 resolved again after
    # that; k3 resolved and accepted
    for kid, reference in (("k2", "C-2024-000002"), ("k3", "C-2024-000003")):
        conn.execute(
            "INSERT INTO complaints (id, reference, customer_id, category, subject, source, created_at, first_response_due, resolution_due)"
            " SELECT ?, ?, customer_id, category, subject, source, created_at, first_response_due, resolution_due FROM complaints WHERE id = 'k1'",
            (kid, reference),
        )
    stories = {"k1": ["resolved", "reopened", "awaiting_customer", "closed"], "k2": ["resolved", "reopened", "resolved"], "k3": ["resolved", "closed"]}
    for kid, statuses in stories.items():
        conn.execute("UPDATE complaints SET status = ?, resolved_at = ? WHERE id = ?", (statuses[-1], NOW, kid))
        for seq, status in enumerate(statuses, 1):
            conn.execute(
                "INSERT INTO complaint_entries (id, complaint_id, seq, kind, author, body, created_at) VALUES (?, ?, ?, 'status', 'x', ?, ?)",
                (f"{kid}-{seq}", kid, seq, status, NOW),
            )
    conn.close()
    db = Database(str(path))
    await db.prepare()
    assert await db.fetch("SELECT id, resolved_at FROM complaints ORDER BY id") == [
        {"id": "k1", "resolved_at": None}, {"id": "k2", "resolved_at": NOW}, {"id": "k3", "resolved_at": NOW},
    ]
    await db.close()


async def test_a_migration_that_fails_halfway_leaves_nothing_of_itself_and_the_next_start_applies_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chat.db"
    db = Database(str(path))
    await db.prepare()
    await db.close()
    real = list(available_migrations())
    broken = (LATEST + 1, f"{LATEST + 1:03d}_broken.sql", "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);")
    monkeypatch.setattr(db_module, "available_migrations", lambda: [*real, broken])
    with pytest.raises(DatabaseUnusable, match=f"applying {broken[1]}"):
        await Database(str(path)).prepare()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall() == []
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == LATEST
    conn.close()
    fixed = (broken[0], broken[1], "CREATE TABLE half_done (x INTEGER);\nINSERT INTO half_done VALUES (1);")
    monkeypatch.setattr(db_module, "available_migrations", lambda: [*real, fixed])
    again = Database(str(path))
    assert await again.prepare() == [fixed[1]]
    assert await again.fetch("SELECT x FROM half_done") == [{"x": 1}]
    await again.close()


def test_a_database_a_newer_version_made_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    assert run_cli("migrate", "--db", str(path), cwd=tmp_path).returncode == 0
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (?, 'from_the_future.sql', ?)", (LATEST + 1, NOW))
    conn.close()
    before = path.read_bytes()
    for args in (["migrate"], ["serve", "--port", str(free_port())]):
        result = run_cli(*args, "--db", str(path), env=SECRET, cwd=tmp_path)
        assert result.returncode == 1, (args, result.returncode, result.stdout, result.stderr)
        one_clear_line(result, str(path), f"schema version {LATEST + 1}", f"({LATEST})")
    assert path.read_bytes() == before


# -- backup, check, restore -------------------------------------------------------------------

@pytest.fixture
def live(tmp_path: Path) -> Path:
    """A current database with some rows, as the server leaves it (WAL)."""
    path = tmp_path / "live.db"
    conn = schema_upto(path, LATEST)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("INSERT INTO customers (id, token_hash, created_at) VALUES ('c1', 'h1', ?)", (NOW,))
    conn.execute("INSERT INTO conversations (id, customer_id, status, created_at) VALUES ('v1', 'c1', 'closed', ?)", (NOW,))
    for seq in range(1, 401):
        conn.execute(
            "INSERT INTO messages (id, conversation_id, seq, public_seq, sender, author, body, created_at) VALUES (?, 'v1', ?, ?, 'customer', 'A', ?, ?)",
            (f"m{seq}", seq, seq, "x" * 500, NOW),
        )
    conn.close()
    return path


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_backup_onto_a_directory_is_refused_in_one_line_and_the_directory_is_left_alone(live: Path, tmp_path: Path, force: bool) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    result = run_cli("backup", str(folder), "--db", str(live), *(["--force"] if force else []), cwd=tmp_path)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    one_clear_line(result, "is a directory")
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_a_backup_into_a_folder_that_cannot_be_written_fails_in_one_line(live: Path, tmp_path: Path, immutable) -> None:
    folder = tmp_path / "sealed"
    folder.mkdir()
    immutable.set(folder)
    result = run_cli("backup", str(folder / "copy.db"), "--db", str(live), cwd=tmp_path)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    one_clear_line(result, str(folder))
    with pytest.raises(BackupError, match="cannot write"):
        backup_database(live, folder / "copy.db")


def test_check_refuses_a_backup_cut_short_or_damaged(live: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    assert backup_database(live, copy).ok
    whole = copy.read_bytes()
    cut = tmp_path / "cut.db"
    cut.write_bytes(whole[: len(whole) // 2])
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(whole[: len(whole) // 2] + b"\x00" * 4096 + whole[len(whole) // 2 + 4096:])
    for broken in (cut, damaged):
        result = run_cli("check", "--db", str(broken), cwd=tmp_path)
        assert result.returncode == 1, (broken.name, result.returncode, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "passed" not in result.stdout, result


def test_the_documented_restore_over_a_newer_file_with_its_wal_brings_back_the_backup(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    conn = schema_upto(db, LATEST - 1)  # the backup is older than the code: the start migrates it
    fill_with_first_schema_rows(conn)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    backup = tmp_path / "backup.db"
    assert run_cli("backup", str(backup), "--db", str(db), cwd=tmp_path).returncode == 0
    # later work, part of it only in the WAL, that the restore must undo
    later = sqlite3.connect(db, isolation_level=None)
    later.execute("PRAGMA wal_autocheckpoint = 0")
    later.execute("DELETE FROM complaints")
    later.execute("UPDATE conversations SET status = 'closed'")
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    for suffix in ("", "-wal", "-shm"):  # what a crashed server leaves: the file with its WAL beside it
        shutil.copy(f"{db}{suffix}", snapshot / f"chat.db{suffix}")
    later.close()
    for suffix in ("", "-wal", "-shm"):
        shutil.copy(snapshot / f"chat.db{suffix}", f"{db}{suffix}")
    # 2. copy the backup over the file and remove the -wal and -shm; 3. check; 4. start
    shutil.copy(backup, db)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink()
    assert run_cli("check", "--db", str(db), cwd=tmp_path).returncode == 0
    assert run_cli("migrate", "--db", str(db), cwd=tmp_path).returncode == 0
    report = check_file(db)
    assert report.ok and report.counts == {"conversations": 2, "messages": 5, "complaints": 1}, report
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM conversations WHERE id = 'v2'").fetchone()[0] == "queued"
    conn.close()


# -- users ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "flag, value, words",
    [("--skills", "withdrawals,withdrawl", ["withdrawl"]), ("--languages", "en,english", ["english"])],
    ids=["misspelt-skill", "unknown-language"],
)
def test_user_add_refuses_a_skill_or_language_the_router_would_never_match(flag: str, value: str, words: list[str], tmp_path: Path) -> None:
    # an agent whose only skill is a typo would never be offered a chat, and nothing would say why
    db = tmp_path / "chat.db"
    result = run_cli(
        "user", "add", "--db", str(db), "--email", "ann@example.test", "--name", "Ann", "--role", "agent", flag, value,
        env=SECRET, cwd=tmp_path,
    )
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    one_clear_line(result, *words)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    conn.close()
    fine = run_cli(
        "user", "add", "--db", str(db), "--email", "ann@example.test", "--name", "Ann", "--role", "agent",
        "--skills", "withdrawals, bonuses", "--languages", "en,pl", env=SECRET, cwd=tmp_path,
    )
    assert fine.returncode == 0, fine.stderr


def test_user_add_refuses_an_address_no_mail_reaches(tmp_path: Path) -> None:
    # SLA warnings and escalations are mailed to staff: bob@localhost would have them go nowhere, unsaid
    db = tmp_path / "chat.db"
    result = run_cli(
        "user", "add", "--db", str(db), "--email", "bob@localhost", "--name", "Bob", "--role", "agent",
        env=SECRET, cwd=tmp_path,
    )
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    one_clear_line(result, "e-mail address is not valid")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    conn.close()


def test_two_first_starts_at_once_agree_on_one_secret_key(tmp_path: Path) -> None:
    # `user add` beside a first `serve`: both find no key file and make one; the second to link its
    # file in place must take the first one's key, not crash, nor sign with a key nobody keeps
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from chatserver.config import Settings, resolve_secret_key

    starts = 8
    for attempt in range(40):
        db = tmp_path / f"first-{attempt}.db"
        barrier = Barrier(starts)

        def first_start() -> str:
            barrier.wait()
            return resolve_secret_key(Settings(db=str(db)))

        with ThreadPoolExecutor(starts) as pool:
            keys = list(pool.map(lambda _: first_start(), range(starts)))
        kept = Path(f"{db}.secret").read_text(encoding="utf-8")
        assert keys == [kept] * starts, attempt
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
