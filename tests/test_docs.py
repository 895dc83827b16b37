"""Docs keep up with the code: every setting and every Socket.IO event is documented."""

import ast
import re
from dataclasses import fields
from pathlib import Path

from chatserver.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    missing = [f.name for f in fields(Settings) if f"CHATSERVER_{f.name.upper()}" not in PROTOCOL]
    assert missing == []


def _event_names_in(path: Path) -> set[str]:
    """String keys of `self.routes = {...}` and the names in emit(...) calls."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "routes" for t in node.targets):
            if isinstance(node.value, ast.Dict):
                names.update(k.value for k in node.value.keys if isinstance(k, ast.Constant))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("emit", "Emit") or (
            isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Emit"
        ):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.fullmatch(r"[a-z]+(:[a-z]+)?", arg.value):
                    names.add(arg.value)
    return names


def test_every_socket_event_is_documented():
    transport = ROOT / "chatserver" / "transport"
    events = set()
    for path in transport.glob("*.py"):
        events |= _event_names_in(path)
    assert {"chat:start", "message:send", "presence:set", "message:new", "monitor:snapshot"} <= events
    missing = sorted(e for e in events if f"`{e}`" not in PROTOCOL)
    assert missing == []
