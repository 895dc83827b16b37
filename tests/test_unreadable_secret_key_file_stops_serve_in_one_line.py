"""A secret key file beside the database that cannot be read as a key (binary bytes, a folder, no
permission) stops `serve` with one line naming it, like one that holds too little: never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.procs import free_port, run_cli


def one_clear_line(result, *words: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("chatserver: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def binary(path: Path) -> None:
    path.write_bytes(b"\xff\xfe" + os.urandom(46))  # not UTF-8 text


def folder(path: Path) -> None:
    path.mkdir()


# (a file without read permission takes the same path, an OSError, but the server runs as root in CI,
# which reads any file, so it is not among the cases)
@pytest.mark.parametrize("spoil", [binary, folder])
def test_a_secret_key_file_that_cannot_be_read_stops_serve_in_one_line(tmp_path: Path, spoil) -> None:
    secret = tmp_path / "chat.db.secret"
    spoil(secret)
    result = run_cli("serve", "--db", str(tmp_path / "chat.db"), "--port", str(free_port()), cwd=tmp_path, timeout=20)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    one_clear_line(result, str(secret))
