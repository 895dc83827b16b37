"""One server per database file, however the file is named: a relative path, a path through another
folder or a symbolic link all reach the same file, and the second server must be refused all the same."""

from __future__ import annotations

import os

import pytest

from tests.procs import ServerProcesses, free_port, get_health, run_cli

SECRET = {"CHATSERVER_SECRET_KEY": "one-server-per-database-file-secret"}


@pytest.mark.slow
async def test_a_second_server_naming_the_same_file_another_way_is_refused(procs: ServerProcesses) -> None:
    first = await procs.server(env=SECRET, name="first").start()  # --db is an absolute path
    folder = first.db.parent
    (folder / "sub").mkdir()
    os.symlink(first.db, folder / "linked.db")
    spellings = {
        "relative": (first.db.name, folder),
        "through another folder": (f"sub/../{first.db.name}", folder),
        "symbolic link": (str(folder / "linked.db"), folder),
    }
    for how, (name, cwd) in spellings.items():
        result = run_cli("serve", "--db", name, "--port", str(free_port()), env=SECRET, cwd=cwd, timeout=15)
        assert result.returncode == 1, (how, result.returncode, result.stdout, result.stderr)
        assert "another chatserver is serving" in result.stderr, (how, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
    assert await get_health(first.url) == 200
