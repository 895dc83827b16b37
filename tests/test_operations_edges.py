"""Running the server: settings that must stop a start, ports and files it cannot have, databases
from older and newer versions, and backups to places that cannot take them."""

from __future__ import annotations

import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from chatserver.config import SettingsError, load_settings
from chatserver.store import db as db_module
from chatserver.store.backup import BackupError, backup_database, check_file
from chatserver.store.db import Database, DatabaseUnusable, available_migrations
from tests.procs import HOST, ServerProcesses, free_port, run_cli

SECRET = {"CHATSERVER_SECRET_KEY": "operations-edges-secret"}
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


def test_every_documented_variable_and_the_config_file_variable_are_known(tmp_path: Path) -> None:
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
    ],
)
def test_a_value_the_server_cannot_use_is_refused_and_named(variable: str, value: str, setting: str) -> None:
    with pytest.raises(SettingsError, match=f"'{setting}'"):
        load_settings({variable: value})


def test_sensible_values_around_the_new_limits_still_load() -> None:
    settings = load_settings({
        "CHATSERVER_QUEUE_TIMEOUT": "86400", "CHATSERVER_AGENT_GRACE": "0", "CHATSERVER_COMPLAINT_AUTOCLOSE_DAYS": "365",
        "CHATSERVER_LOG_LEVEL": "Debug", "CHATSERVER_SMTP_PORT": "465", "CHATSERVER_PUBLIC_URL": "https://help.example.com/support/",
        "CHATSERVER_ALLOWED_ORIGINS": "https://shop.example/, http://localhost:3000", "CHATSERVER_SECRET_KEY": "",
    })
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
async def test_a_production_start_creates_no_demo_users(procs: ServerProcesses) -> None:
    server = await procs.server(env=SECRET).start()
    await server.stop()
    with sqlite3.connect(server.db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    conn.close()


