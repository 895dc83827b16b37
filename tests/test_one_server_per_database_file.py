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


def test_a_server_started_through_a_link_signs_with_the_key_of_the_file_it_serves(tmp_path) -> None:
    # the generated key sits beside the file itself, like the lock: through the link or not, one key,
    # so staff stay signed in and tracking links keep working whichever path the service uses
    from chatserver.config import Settings, resolve_secret_key

    real = tmp_path / "data" / "chat.db"
    real.parent.mkdir()
    real.touch()
    (tmp_path / "link.db").symlink_to(real)
    through_link = resolve_secret_key(Settings(db=str(tmp_path / "link.db")))
    assert resolve_secret_key(Settings(db=str(real))) == through_link
    assert sorted(p.name for p in real.parent.iterdir()) == ["chat.db", "chat.db.secret"]
    assert not (tmp_path / "link.db.secret").exists()

    # a key an earlier version made beside a link is still the one used through that link
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "file.db").touch()
    (legacy / "old-link.db").symlink_to(legacy / "file.db")
    (legacy / "old-link.db.secret").write_text("k" * 64, encoding="utf-8")
    assert resolve_secret_key(Settings(db=str(legacy / "old-link.db"))) == "k" * 64
