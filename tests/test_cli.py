"""The `chatserver` command line as operators use it: real subprocesses, real files, real ports."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests import peers
from tests.peers import CAST_PASSWORD, Peer
from tests.procs import ServerProcesses, free_port, get_health, run_cli

SECRET = {"CHATSERVER_SECRET_KEY": "cli-test-secret-kkkkkkkkkkkkkkkkkkkkkkkk"}

# -- help ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "command, mentions",
    [
        ([], ["serve", "demo", "migrate", "user"]),
        (["serve"], ["--host", "--port", "--db", "--config"]),
        (["demo"], ["--port", "--db"]),
        (["migrate"], ["--db"]),
        (["user", "add"], ["--email", "--name", "--role", "--max-chats", "--password-stdin"]),
    ],
    ids=["chatserver", "serve", "demo", "migrate", "user-add"],
)
def test_help_exits_zero(command: list[str], mentions: list[str], tmp_path: Path) -> None:
    result = run_cli(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: chatserver"), result.stdout
    for word in mentions:
        assert word in result.stdout, (word, result.stdout)
    assert not list(tmp_path.iterdir()), "--help must not create files"

# -- migrate ------------------------------------------------------------------------------------

def test_migrate_creates_the_schema_and_a_second_run_is_up_to_date(tmp_path: Path) -> None:
    db = tmp_path / "data" / "chat.db"
    db.parent.mkdir()
    first = run_cli("migrate", "--db", str(db), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied: "), first.stdout
    assert "001_init.sql" in first.stdout, first.stdout

    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert {"users", "customers", "conversations", "messages", "complaints", "schema_version"} <= tables, tables
    assert versions and versions == sorted(set(versions)) and versions[0] == 1, versions

    second = run_cli("migrate", "--db", str(db), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout, second.stdout
    with sqlite3.connect(db) as conn:
        again = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert again == versions

def test_migrate_honours_chatserver_db(tmp_path: Path) -> None:
    db = tmp_path / "from-env.db"
    result = run_cli("migrate", env={"CHATSERVER_DB": str(db)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert db.exists()
    assert not (tmp_path / "chatserver.db").exists()

# -- user add -----------------------------------------------------------------------------------

def user_add(db: Path, email: str, *extra: str, password: str | None = None, name: str = "Bob", role: str = "agent"):
    args = ["user", "add", "--db", str(db), "--email", email, "--name", name, "--role", role, *extra]
    if password is not None:
        args.append("--password-stdin")
    return run_cli(*args, env=SECRET, input=None if password is None else password + "\n", cwd=db.parent)

def generated_password(stdout: str) -> str:
    found = re.findall(r"password \(shown once\): (\S+)", stdout)
    assert len(found) == 1, stdout
    return found[0]

@pytest.mark.slow
async def test_user_add_creates_users_who_can_log_in(procs: ServerProcesses, tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    typed = user_add(db, "bob@example.test", "--max-chats", "2", password=CAST_PASSWORD, name="Bob")
    assert typed.returncode == 0, typed.stderr
    assert "created agent bob@example.test" in typed.stdout, typed.stdout
    assert CAST_PASSWORD not in typed.stdout + typed.stderr, "a typed password must never be echoed"
    assert "shown once" not in typed.stdout

    made = user_add(db, "sam@example.test", name="Sam", role="supervisor")
    assert made.returncode == 0, made.stderr
    password = generated_password(made.stdout)

    server = procs.server(db=db, env=SECRET)
    await server.start()
    opened: list[Peer] = []
    try:
        cookie = await peers.login_cookie(server.url, "bob@example.test", CAST_PASSWORD)
        assert cookie.startswith("cs_session=")
        bob = await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
        opened.append(bob)
        session = await bob.wait_for("session")
        assert session["agent"]["name"] == "Bob" and session["agent"]["role"] == "agent", session
        assert session["agent"]["max_chats"] == 2, session

        cookie = await peers.login_cookie(server.url, "sam@example.test", password)
        sam = await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
        opened.append(sam)
        session = await sam.wait_for("session")
        assert session["agent"]["role"] == "supervisor", session
    finally:
        for peer in opened:
            await peer.close()

def test_user_add_without_password_stdin_prints_a_generated_password_once(tmp_path: Path) -> None:
    result = user_add(tmp_path / "chat.db", "carol@example.test", name="Carol")
    assert result.returncode == 0, result.stderr
    password = generated_password(result.stdout)
    assert len(password) >= 12, password
    assert result.stdout.count(password) == 1, result.stdout
    assert password not in result.stderr

    other = user_add(tmp_path / "chat.db", "dora@example.test", name="Dora")
    assert generated_password(other.stdout) != password, "each generated password must be new"

def test_user_add_duplicate_email_fails_clearly(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    first = user_add(db, "bob@example.test", password=CAST_PASSWORD)
    assert first.returncode == 0, first.stderr

    # e-mail addresses are compared without regard to case or surrounding blanks
    for again in ["bob@example.test", "BOB@Example.test", " bob@example.test "]:
        second = user_add(db, again, password="another-password", name="Robert")
        assert second.returncode != 0, (again, second.stdout)
        assert "already exists" in second.stderr, (again, second.stderr)
        assert "Traceback" not in second.stderr, second.stderr
        assert "created" not in second.stdout, second.stdout

    with sqlite3.connect(db) as conn:
        count = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    assert count == 1

# -- settings -----------------------------------------------------------------------------------

@pytest.mark.slow
async def test_config_file_settings_are_honoured(procs: ServerProcesses, tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "configured.db"
    config = tmp_path / "chatserver.toml"
    config.write_text(f'port = {port}\ndb = "{db}"\nsecret_key = "from-the-file-kkkkkkkkkkkkkkkkkkkkkkkkkk"\nqueue_timeout = 90\n', encoding="utf-8")

    server = procs.server(port=port, db=db, flags=False, args=["--config", str(config)])
    await server.start()
    assert f"http://127.0.0.1:{port}" in server.stdout(), server.output()
    assert db.exists(), "the database from the config file was not used"
    assert not (tmp_path / "chatserver.db").exists()
    assert not db.with_suffix(".db.secret").exists(), "secret_key from the config file was ignored"
    code = await server.stop()
    assert code == 0, server.output()

@pytest.mark.slow
async def test_environment_settings_are_honoured_and_beat_the_config_file(procs: ServerProcesses, tmp_path: Path) -> None:
    file_port, env_port = free_port(), free_port()
    db = tmp_path / "from-env.db"
    config = tmp_path / "chatserver.toml"
    config.write_text(f'port = {file_port}\ndb = "{tmp_path / "from-file.db"}"\n', encoding="utf-8")

    server = procs.server(
        port=env_port, db=db, flags=False, args=["--config", str(config)],
        env={"CHATSERVER_PORT": str(env_port), "CHATSERVER_DB": str(db), **SECRET},
    )
    await server.start()
    assert db.exists()
    assert not (tmp_path / "from-file.db").exists()
    assert await get_health(f"http://127.0.0.1:{file_port}") is None, "also listening on the config file's port"
    code = await server.stop()
    assert code == 0, server.output()

@pytest.mark.parametrize(
    "env, args, setting",
    [
        ({"CHATSERVER_PORT": "abc"}, [], "port"),
        ({"CHATSERVER_PORT": "70000"}, [], "port"),
        ({"CHATSERVER_QUEUE_TIMEOUT": "soon"}, [], "queue_timeout"),
        ({"CHATSERVER_AGENT_GRACE": "-1"}, [], "agent_grace"),
        ({"CHATSERVER_UVLOOP": "maybe"}, [], "uvloop"),
        ({"CHATSERVER_SOCKET_SEND_QUEUE_BYTES": "1000"}, [], "socket_send_queue_bytes"),
        ({"CHATSERVER_SHUTDOWN_TIMEOUT": "-1"}, [], "shutdown_timeout"),
        ({}, ["--port", "abc"], "--port"),
    ],
    ids=["port-abc", "port-range", "queue-timeout", "agent-grace", "bool", "send-queue", "shutdown-timeout", "flag"],
)
def test_an_invalid_setting_exits_2_and_names_it(env: dict[str, str], args: list[str], setting: str, tmp_path: Path) -> None:
    result = run_cli("serve", "--db", str(tmp_path / "chat.db"), *args, env=env, cwd=tmp_path, timeout=15)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert setting in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "chat.db").exists(), "nothing may be created before the settings are valid"

@pytest.mark.parametrize(
    "toml, setting",
    [('port = "abc"\n', "port"), ('no_such_setting = 1\n', "no_such_setting"), ("port = \n", "config")],
    ids=["bad-value", "unknown-key", "bad-toml"],
)
def test_an_invalid_config_file_exits_2_and_names_the_problem(toml: str, setting: str, tmp_path: Path) -> None:
    config = tmp_path / "chatserver.toml"
    config.write_text(toml, encoding="utf-8")
    result = run_cli("serve", "--config", str(config), "--db", str(tmp_path / "chat.db"), cwd=tmp_path, timeout=15)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert setting in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr

# -- demo ---------------------------------------------------------------------------------------

@pytest.mark.slow
async def test_demo_prints_the_logins_and_they_work(procs: ServerProcesses, tmp_path: Path) -> None:
    demo = procs.server(command="demo", env=SECRET)
    demo.spawn()
    stdout = await demo.wait_output("chatserver listening")
    await demo.wait_healthy()

    logins = re.findall(r"^\s+(admin|supervisor|agent)\s+(\S+@\S+)\s+(\S+)\s*$", stdout, flags=re.MULTILINE)
    roles = [role for role, _, _ in logins]
    assert {"admin", "supervisor", "agent"} <= set(roles), stdout
    assert f"http://127.0.0.1:{demo.port}" in stdout, stdout

    # the printed logins are real: an agent from the table signs in and gets a console session
    _, email, password = next(login for login in logins if login[0] == "agent")
    cookie = await peers.login_cookie(demo.url, email, password)
    console = await Peer(demo.url, "/agent").connect(headers={"Cookie": cookie})
    try:
        session = await console.wait_for("session")
        assert session["agent"]["role"] == "agent", session
    finally:
        await console.close()
    code = await demo.stop()
    assert code == 0, demo.output()
