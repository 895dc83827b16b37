"""Widget settings, the identity secret and API tokens: saved in admin, in force at once, kept over restarts."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import aiohttp
import pytest
import socketio

from chatserver.domain.models import parse_iso
from chatserver.services.auth import identity_signature
from chatserver.store import audit
from tests import peers
from tests.admin_steps import (
    ADA, Browserless, add_admin, field_errors, input_value, notices, shown_secret, text_of, textarea_value,
)
from tests.conftest import StartServer, eventually, seed_cast
from tests.peers import Peer

ROOT = Path(__file__).resolve().parents[2]
WIDGET = {
    "allowed_origins": "https://www.voltabet.example\nhttp://localhost:3000/", "brand_color": "#1D4ED8",
    "greeting_en": "Welcome to VoltaBet!", "greeting_ru": "", "greeting_pl": "", "queue_timeout": "45",
}


async def start(start_server: StartServer, **overrides):  # type: ignore[no-untyped-def]
    server = await start_server(**overrides)
    await seed_cast(server.services)
    await add_admin(server.services)
    return server, await Browserless.login(server.url, ADA)


async def frame(url: str, query: str = "locale=en") -> tuple[str, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/widget/frame?{query}") as response:
            html = await response.text()
            csp = response.headers["Content-Security-Policy"]
    boot = json.loads(re.search(r'<script type="application/json" id="boot">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    return csp, boot


async def loader(url: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/widget.js") as response:
            return await response.text()


async def test_widget_settings_apply_at_once_without_a_restart(start_server):
    server, ada = await start(start_server, allowed_origins=("https://configured.example",))
    csp, boot = await frame(server.url)
    assert "frame-ancestors 'self' https://configured.example" in csp and "voltabet" not in csp
    assert boot["catalog"]["home.greeting"] == "Hi there!" and boot["color"] == "#0a7d5a"

    page = await ada.submit("/admin/widget", WIDGET)
    assert notices(page) == ["Widget settings saved; they apply now."]
    assert textarea_value(page, "allowed_origins") == "https://www.voltabet.example\nhttp://localhost:3000"
    assert input_value(page, "brand_color") == "#1d4ed8"
    assert text_of(page).count("Set here") == 3

    csp, boot = await frame(server.url)
    assert "frame-ancestors 'self' https://www.voltabet.example http://localhost:3000;" in csp + ";"
    assert "configured.example" not in csp
    assert boot["catalog"]["home.greeting"] == "Welcome to VoltaBet!"
    assert boot["color"] == "#1d4ed8"  # the loader's built-in colour gives way to the brand colour
    _, boot = await frame(server.url, "locale=ru&color=%23ff0000")
    assert boot["catalog"]["home.greeting"] == "Здравствуйте!" and boot["color"] == "#ff0000"  # a tag's colour wins
    assert "'#1d4ed8'" in await loader(server.url)
    async with aiohttp.ClientSession() as http:  # a language switched inside the widget gets it too
        async with http.get(f"{server.url}/widget/assets/i18n/en.json") as response:
            assert (await response.json())["home.greeting"] == "Welcome to VoltaBet!"
        async with http.get(f"{server.url}/widget/assets/i18n/pl.json") as response:
            assert (await response.json())["home.greeting"] == "Dzień dobry!"

    # the queue timeout applies to chats queued from now on
    assert server.services.dispatcher.queue_timeout == 45 and server.services.chats.queue_timeout == 45
    alice = await peers.customer(server.url)
    started = await alice.call("chat:start", {"body": "anyone there?"})
    row = await server.services.db.fetch_one("SELECT queued_at, wait_deadline FROM conversations WHERE id = ?", (started["conversation"]["id"],))
    assert (parse_iso(row["wait_deadline"]) - parse_iso(row["queued_at"])).total_seconds() == 45  # type: ignore[index,operator]
    await alice.close()

    entry = [e for e in await audit.for_subject(server.services.db, "widget") if e["action"] == "settings.widget_saved"][-1]
    assert entry["details"]["queue_timeout"] == {"from": 30.0, "to": 45.0}

    page = await ada.submit("/admin/widget/reset")
    assert notices(page) == ["Widget settings are back to the configured values."]
    csp, boot = await frame(server.url)
    assert "https://configured.example" in csp and "voltabet" not in csp
    assert boot["catalog"]["home.greeting"] == "Hi there!"
    assert server.services.dispatcher.queue_timeout == 30
    await ada.close()


async def test_saved_settings_outlive_a_restart_and_values_equal_to_the_configuration_are_not_stored(start_server):
    server, ada = await start(start_server, allowed_origins=("https://configured.example",))
    page = await ada.submit("/admin/widget", dict(WIDGET, allowed_origins="https://configured.example", queue_timeout="30", greeting_en=""))
    assert server.services.runtime.widget.overridden == frozenset({"brand_color"})
    assert "From configuration" in text_of(page)
    await ada.submit("/admin/widget", WIDGET)
    await ada.close()
    await server.server.close()

    again = await start_server(allowed_origins=("https://configured.example",))
    csp, boot = await frame(again.url)
    assert "https://www.voltabet.example" in csp and boot["catalog"]["home.greeting"] == "Welcome to VoltaBet!"
    assert again.services.dispatcher.queue_timeout == 45


async def test_the_widget_form_names_every_wrong_field_and_keeps_what_was_typed(start_server):
    server, ada = await start(start_server)
    status, page, _ = await ada.post("/admin/widget", {
        "allowed_origins": "https://ok.example\nbad origin; script-src *", "brand_color": "blue",
        "greeting_en": "x" * 121, "greeting_ru": "", "greeting_pl": "", "queue_timeout": "5",
    })
    assert status == 400
    assert field_errors(page) == {
        "allowed_origins": "“bad origin; script-src *” is not an origin. Write the scheme and host only, like https://www.example.com.",
        "brand_color": "Enter a colour as # and six hex digits, like #0a7d5a.",
        "greeting_en": "Keep the greeting to 120 characters or fewer.",
        "queue_timeout": "The queue timeout must be between 10 and 86400.",
    }
    assert textarea_value(page, "allowed_origins") == "https://ok.example\nbad origin; script-src *"
    assert input_value(page, "brand_color") == "blue"
    for wrong in ("https://shop.example/path", "javascript:alert(1)", "https://shop.example:99999", "ftp://shop.example"):
        status, page, _ = await ada.post("/admin/widget", dict(WIDGET, allowed_origins=wrong))
        assert status == 400 and "allowed_origins" in field_errors(page), wrong
    csp, _ = await frame(server.url)
    assert "frame-ancestors 'self';" in csp + ";"
    assert server.services.runtime.widget.overridden == frozenset()
    await ada.close()


async def test_rotating_the_identity_secret_refuses_old_signatures_and_accepts_new_ones(start_server):
    server, ada = await start(start_server)

    def identity(secret: str) -> dict:
        expires = int(time.time()) + 600
        return {"external_id": "player-7", "expires": expires, "signature": identity_signature(secret, "player-7", expires)}

    await (await peers.customer(server.url, identity=identity("identity-secret"))).close()  # the configured one works
    status, page, _ = await ada.get("/admin/identity")
    assert "The configured secret is in use" in text_of(page)

    page = await ada.submit("/admin/identity/rotate", {})
    assert notices(page) == ["Tick the box to confirm: signatures made with the current secret stop working at once."]
    assert server.services.runtime.identity.source == "config"

    page = await ada.submit("/admin/identity/rotate", {"confirm": "yes"})
    first = shown_secret(page)
    assert len(first) == 64
    status, again, _ = await ada.get("/admin/identity")
    assert first not in again and "A secret generated here is in use" in text_of(again)
    with pytest.raises(socketio.exceptions.ConnectionError, match="signature is not valid"):
        await Peer(server.url, "/customer").connect(auth={"identity": identity("identity-secret")})
    verified = await peers.customer(server.url, identity=identity(first))
    customer_id = verified.received("session")[0]["customer_id"]
    await verified.close()

    second = shown_secret(await ada.submit("/admin/identity/rotate", {"confirm": "yes"}))
    with pytest.raises(socketio.exceptions.ConnectionError, match="signature is not valid"):
        await Peer(server.url, "/customer").connect(auth={"identity": identity(first)})
    same_person = await peers.customer(server.url, identity=identity(second))
    assert same_person.received("session")[0]["customer_id"] == customer_id
    await same_person.close()

    # kept only to verify: the retired one is erased, and the trail never holds a value
    rows = await server.services.db.fetch("SELECT secret, retired_at FROM identity_secrets ORDER BY created_at")
    assert [(r["secret"], r["retired_at"] is None) for r in rows] == [(None, False), (second, True)]
    trail = await audit.for_subject(server.services.db, "identity_secret")
    assert [e["action"] for e in trail] == ["identity_secret.rotated"] * 2
    assert first not in str(trail) and second not in str(trail)
    await ada.close()

    # a restart keeps the generated secret, not the configured fallback
    await server.server.close()
    again = await start_server()
    await (await peers.customer(again.url, identity=identity(second))).close()


async def test_api_tokens_are_shown_once_work_for_their_user_and_stop_when_revoked(start_server):
    server, ada = await start(start_server)
    sam = (await server.services.db.fetch_one("SELECT id FROM users WHERE email = 'sam@example.test'"))["id"]  # type: ignore[index]
    status, page, _ = await ada.post("/admin/tokens", {"label": "", "user_id": "u_nobody"})
    assert status == 400
    assert field_errors(page) == {
        "user_id": "Choose the active user the integration acts as.",
        "label": "Enter a label that says what uses the token.",
    }
    page = await ada.submit("/admin/tokens", {"label": "CRM sync", "user_id": sam})
    token = shown_secret(page)
    assert token.startswith("cs_") and "CRM sync" in text_of(page)
    status, listing, _ = await ada.get("/admin/tokens")
    assert token not in listing and "Sam · supervisor" in text_of(listing)

    async def api_status() -> int:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/api/complaints", headers={"Authorization": f"Bearer {token}"}) as response:
                return response.status

    assert await api_status() == 200
    token_id = re.search(r'action="/admin/tokens/([^/]+)/revoke"', listing).group(1)  # type: ignore[union-attr]
    page = await ada.submit(f"/admin/tokens/{token_id}/revoke")
    assert notices(page) == ["Token “CRM sync” revoked; it no longer works."]
    assert await api_status() == 401
    page = await ada.submit(f"/admin/tokens/{token_id}/revoke")
    assert notices(page) == ["The token “CRM sync” was already revoked."]
    assert [e["action"] for e in await audit.for_subject(server.services.db, token_id)] == ["api_token.created", "api_token.revoked"]
    await ada.close()


async def explains_nothing(monitor: Peer) -> bool:
    """A monitor request the socket answers: routing:explain of a chat that does not exist."""
    answer = await monitor.call("routing:explain", {"conversation_id": "c_none"})
    return answer.get("error", {}).get("code") == "not_found"


async def test_revoking_an_api_token_closes_the_sockets_it_opened_at_once_and_no_others(start_server):
    # a leaked token is revoked to stop its holder now, not when their socket next drops
    server, ada = await start(start_server)
    sam = (await server.services.db.fetch_one("SELECT id FROM users WHERE email = 'sam@example.test'"))["id"]  # type: ignore[index]
    leaked = shown_secret(await ada.submit("/admin/tokens", {"label": "leaked", "user_id": sam}))
    kept = shown_secret(await ada.submit("/admin/tokens", {"label": "wallboard", "user_id": sam}))
    leaked_monitor = await Peer(server.url, "/monitor").connect(auth={"token": leaked})
    leaked_agent = await Peer(server.url, "/agent").connect(auth={"token": leaked})
    wallboard = await Peer(server.url, "/monitor").connect(auth={"token": kept})
    sam_console = await peers.agent(server.url, "sam@example.test")  # Sam's own signed-in console
    assert await explains_nothing(leaked_monitor)  # the token works until it is revoked

    _, listing, _ = await ada.get("/admin/tokens")
    leaked_id = re.search(r'leaked.*?action="/admin/tokens/([^/]+)/revoke"', listing, re.S).group(1)  # type: ignore[union-attr]
    assert notices(await ada.submit(f"/admin/tokens/{leaked_id}/revoke")) == ["Token “leaked” revoked; it no longer works."]
    await eventually(lambda: not leaked_monitor.sio.connected and not leaked_agent.sio.connected)
    with pytest.raises(socketio.exceptions.ConnectionError, match="unauthorized"):
        await Peer(server.url, "/monitor").connect(auth={"token": leaked})
    # the same person's other token and signed-in console are untouched
    assert wallboard.sio.connected and sam_console.sio.connected
    assert await explains_nothing(wallboard)
    assert (await sam_console.call("presence:set", {"status": "online"}))["ok"]
    for peer in (leaked_monitor, leaked_agent, wallboard, sam_console):
        await peer.close()
    await ada.close()


def test_admin_templates_and_scripts_have_no_inline_scripts_handlers_or_styles():
    for path in [*ROOT.glob("chatserver/templates/admin/*.html"), *ROOT.glob("chatserver/static/admin/*.js")]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            for tag in re.findall(r"<script\b[^>]*>", text):
                assert "src=" in tag, f"inline script in {path.name}: {tag}"
            assert not re.search(r"\son[a-z]+\s*=", text), f"inline event handler in {path.name}"
            assert not re.search(r"\sstyle\s*=", text), f"style attribute in {path.name}"
            assert "|safe" not in text and "| safe" not in text, f"|safe in {path.name}"
        else:
            assert "innerHTML" not in text and "eval(" not in text, path.name
