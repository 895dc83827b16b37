"""Imports point downward: domain <- store <- (mail) <- services <- transport <- app/cli."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "chatserver"

FORBIDDEN = {
    "domain": ("chatserver.store", "chatserver.services", "chatserver.transport", "chatserver.app", "aiohttp", "socketio", "aiosqlite", "asyncio"),
    "store": ("chatserver.services", "chatserver.transport", "chatserver.app", "aiohttp", "socketio"),
    "services": ("chatserver.transport", "chatserver.app", "aiohttp", "socketio"),
    # mail renders and sends what the outbox holds; services wire it, never the other way round
    "mail": ("chatserver.services", "chatserver.transport", "chatserver.app", "aiohttp", "socketio"),
    # webhooks sign and deliver what the store holds (aiohttp only as a client); services wire it
    "webhooks": ("chatserver.services", "chatserver.transport", "chatserver.app", "socketio"),
    # observability watches the services (their events); the transport wires it in
    "observability": ("chatserver.transport", "chatserver.app", "socketio"),
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_higher_ones(layer):
    offenders = []
    for path in (ROOT / layer).rglob("*.py"):
        for name in imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_only_the_store_writes_sql():
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "store" in path.relative_to(ROOT).parts:
            continue
        text = path.read_text(encoding="utf-8")
        for keyword in ("INSERT INTO", "UPDATE ", "DELETE FROM", "CREATE TABLE"):
            if keyword in text and "execute" in text:
                offenders.append(f"{path.relative_to(ROOT)}: {keyword}")
    assert offenders == []
