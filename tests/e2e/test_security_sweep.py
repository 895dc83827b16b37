"""Security sweep on the real server: no secret in anything staff clients receive, opaque random ids,
the page policy on every page, and a login that never bounces off site.

Cast: agents bob and carol, supervisor sam (from conftest), admin ada (added here); customers alice and eve.
"""

from __future__ import annotations

import json
import re
import string
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from yarl import URL

from chatserver.services.auth import identity_signature
from tests import peers
from tests.admin_steps import ADA, add_admin
from tests.complaint_steps import tracked
from tests.peers import Peer, client_id, login_cookie
from tests.security_headers import header_problems


class Recorder:
    """Everything staff-side clients received: socket events, acks and API bodies."""

    def __init__(self) -> None:
        self.payloads: list[Any] = []
        self.peers: list[Peer] = []

    def watch(self, peer: Peer) -> Peer:
        self.peers.append(peer)
        return peer

    async def call(self, peer: Peer, event: str, data: Any = None) -> Any:
        ack = await peer.call(event, data)
        self.payloads.append(ack)
        return ack

    def everything(self) -> str:
        received = [data for peer in self.peers for _, data in peer.events]
        return json.dumps([received, self.payloads], ensure_ascii=False)


async def test_no_secret_reaches_any_payload(server):
    await add_admin(server.services)
    ids = {row["name"].lower(): row["id"] for row in await server.services.db.fetch("SELECT id, name FROM users")}
    tokens = {name: await server.services.auth.issue_api_token(user_id, "sweep") for name, user_id in ids.items()}
    seen = Recorder()

    bob_cookie = await login_cookie(server.url, "bob@example.test")
    bob = seen.watch(await Peer(server.url, "/agent").connect(headers={"Cookie": bob_cookie}))
    await bob.wait_for("session")
    await seen.call(bob, "presence:set", {"status": "online"})
    sam_cookie = await login_cookie(server.url, "sam@example.test")
    sam = seen.watch(await Peer(server.url, "/monitor").connect(headers={"Cookie": sam_cookie}))
    await sam.wait_for("monitor:snapshot")

    expires = int(time.time()) + 600
    signature = identity_signature("identity-secret", "player-7", expires)
    alice = await peers.customer(server.url, identity={
        "external_id": "player-7", "name": "Alice", "email": "alice@example.test", "expires": expires,
        "signature": signature,
    })
    alice_token = alice.received("session")[0]["token"]
    started = await alice.call("chat:start", {"body": "my withdrawal is late", "name": "Alice", "email": "alice@example.test"})
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]
    await bob.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id)
    assert (await seen.call(bob, "message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "Looking"}))["ok"]
    assert (await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "thanks"}))["ok"]
    await bob.wait_for("message:new", lambda d: d["body"] == "thanks")
    await seen.call(bob, "history", {"conversation_id": conversation_id})
    await sam.wait_for("monitor:snapshot", lambda s: any(a["name"] == "Bob" for a in s["agents"]))

    submitted = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Withdrawal", "body": "still late"})
    assert submitted["ok"], submitted
    reference = submitted["complaint"]["reference"]
    assert (await seen.call(bob, "chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}))["ok"]

    async with aiohttp.ClientSession() as http:
        async def api(method: str, path: str, who: str, body: Any = None) -> Any:
            async with http.request(method, server.url + path, json=body,
                                    headers={"Authorization": f"Bearer {tokens[who]}"}) as response:
                assert response.status in (200, 201), (path, response.status, await response.text())
                payload = await response.json()
            seen.payloads.append(payload)
            return payload

        await api("POST", "/api/complaints", "bob", {"category": "withdrawals", "subject": "By phone",
                                                     "body": "Called", "channel": "phone"})
        listed = await api("GET", "/api/complaints", "sam")
        assert reference in [c["reference"] for c in listed["complaints"]]
        for complaint in listed["complaints"]:
            await api("GET", f"/api/complaints/{complaint['reference']}", "ada")
        await api("GET", "/api/users", "ada")
        await api("GET", "/api/categories", "bob")
        await api("GET", "/api/reports/summary", "sam")

    # a second console session: the session event of a fresh connection, and the monitor after a change
    carol = seen.watch(await peers.agent(server.url, "carol@example.test"))
    await sam.wait_for("monitor:snapshot", lambda s: any(a["name"] == "Carol" and a["status"] == "online" for a in s["agents"]))

    session_ids = [row["id"] for row in await server.services.db.fetch("SELECT id FROM console_sessions")]
    assert len(session_ids) >= 3
    secrets_ = {
        "customer token": alice_token,
        "bob's cs_session cookie": bob_cookie.split("=", 1)[1],
        "sam's cs_session cookie": sam_cookie.split("=", 1)[1],
        "identity secret": server.settings.identity_secret,
        "secret key": server.settings.secret_key,
        **{f"session id {i}": sid for i, sid in enumerate(session_ids)},
        **{f"api token of {name}": token for name, token in tokens.items()},
    }
    # identity rows hold the secret currently in force, which may differ from the setting
    for row in await server.services.db.fetch("SELECT * FROM identity_secrets"):
        for key in row.keys():
            if "secret" in key and isinstance(row[key], str) and len(row[key]) >= 8:
                secrets_[f"identity_secrets.{key}"] = row[key]
    everything = seen.everything()
    assert len(seen.payloads) > 10 and "my withdrawal is late" in everything and reference in everything
    leaked = [name for name, value in secrets_.items() if value and value in everything]
    assert leaked == []
    for peer in (bob, sam, carol, alice):
        await peer.close()


ID_SHAPE = re.compile(r"^([a-z]+)_([A-Za-z0-9_-]+)$")
URLSAFE = set(string.ascii_letters + string.digits + "-_")


def assert_opaque_and_random(kind: str, ids_in_creation_order: list[str]) -> None:
    assert len(ids_in_creation_order) >= 12, kind
    assert len(set(ids_in_creation_order)) == len(ids_in_creation_order), f"{kind}: duplicate ids"
    suffixes = []
    for value in ids_in_creation_order:
        match = ID_SHAPE.match(value)
        assert match, f"{kind}: {value!r} is not prefix_random"
        suffix = match.group(2)
        assert not suffix.isdigit(), f"{kind}: {value!r} is a number"
        assert set(suffix) <= URLSAFE and len(suffix) * 6 >= 96, f"{kind}: {value!r} carries under 96 bits"
        suffixes.append(suffix)
    assert len({match.group(1) for match in map(ID_SHAPE.match, ids_in_creation_order)}) == 1, kind
    # no common increasing pattern: not sorted in creation order, no shared leading part, many symbols used
    assert suffixes != sorted(suffixes) and suffixes != sorted(suffixes, reverse=True), f"{kind}: ids grow with time"
    shared = 0
    while all(len(s) > shared and s[shared] == suffixes[0][shared] for s in suffixes):
        shared += 1
    assert shared == 0, f"{kind}: every id starts with {suffixes[0][:shared]!r}"
    for position in range(len(suffixes[0])):
        column = {s[position] for s in suffixes if len(s) > position}
        assert len(column) > 1, f"{kind}: position {position} never changes"
    assert len(set("".join(suffixes))) >= 40, f"{kind}: too few distinct symbols"


async def test_ids_are_opaque_and_random(server):
    bob = await peers.agent(server.url, "bob@example.test", online=False)
    wire: dict[str, list[str]] = {"conversations": [], "messages": [], "complaints": [], "customers": []}
    for n in range(14):
        visitor = await peers.customer(server.url)
        wire["customers"].append(visitor.received("session")[0]["customer_id"])
        started = await visitor.call("chat:start", {"body": f"question {n}"})
        assert started["ok"], started
        wire["conversations"].append(started["conversation"]["id"])
        sent = await visitor.call("message:send", {"conversation_id": started["conversation"]["id"], "client_id": client_id(), "body": "more"})
        assert sent["ok"], sent
        wire["messages"].append(sent["message"]["id"])
        submitted = await visitor.call("complaint:submit", {"category": "withdrawals", "subject": f"Complaint {n}", "body": "late"})
        assert submitted["ok"], submitted
        if "id" in submitted["complaint"]:  # the customer's view names the complaint by its reference only
            wire["complaints"].append(submitted["complaint"]["id"])
        await visitor.close()
    await bob.close()

    for table, seen_on_the_wire in wire.items():
        stored = [row["id"] for row in await server.services.db.fetch(f"SELECT id FROM {table} ORDER BY rowid")]
        assert set(seen_on_the_wire) <= set(stored), table
        if seen_on_the_wire:
            assert_opaque_and_random(table, seen_on_the_wire)
        assert_opaque_and_random(f"{table} (stored)", stored)


async def test_every_page_sends_security_headers(server):
    await add_admin(server.services)
    reference, key = await tracked(server.url, server.services)
    admin = await login_cookie(server.url, ADA)
    agent = await login_cookie(server.url, "bob@example.test")

    pages = [  # method, path, whose session, the status expected
        ("GET", "/", None, 200),
        ("GET", "/login", None, 200),
        ("GET", "/console", admin, 200),
        ("GET", "/monitor", admin, 200),
        ("GET", "/reports", admin, 200),
        ("GET", "/admin/users", admin, 200),
        ("GET", f"/track/{reference}?key={key}", None, 200),
        ("GET", "/widget/frame", None, 200),
        ("GET", "/api/openapi.json", None, 200),
        ("GET", "/favicon.ico", None, 200),
        ("GET", "/static/brand/icon.svg", None, 200),
        # refusals are pages too: a redirect to sign in, a 403, 404s, a 405, an API error
        ("GET", "/admin/users", None, 303),
        ("GET", "/monitor", agent, 403),
        ("GET", "/no/such/page", None, 404),
        ("GET", "/widget/assets/no-such-file.js", None, 404),
        ("GET", f"/track/{reference}?key=wrong", None, 404),
        ("GET", f"/track/{reference}/no-such-form", None, 404),  # the router's refusals under /track/
        ("PUT", f"/track/{reference}?key={key}", None, 405),  # keep no-referrer too
        ("DELETE", "/console", admin, 405),
        ("GET", "/api/complaints", None, 401),
    ]
    problems = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        for method, path, cookie, expected in pages:
            headers = {"Cookie": cookie} if cookie else {}
            async with http.request(method, server.url + path, headers=headers, allow_redirects=False) as response:
                assert response.status == expected, (method, path, response.status)
                problems += header_problems(path, response.headers)
                # what a signed-in person or a key-holder sees is kept by no cache, shared or back-button
                if response.status == 200 and (cookie or path.startswith(("/track/", "/login"))):
                    if response.headers.get("Cache-Control") != "no-store":
                        problems.append(f"{method} {path}: Cache-Control {response.headers.get('Cache-Control')!r}")
    assert problems == [], "\n".join(problems)


HOSTILE_NEXT = [
    "https://evil.example",
    "https://evil.example/console",
    "//evil.example",
    "//evil.example/console",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\t//evil.example",
    "/%2F%2Fevil.example",
    "javascript:alert(document.domain)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:evil.example",
    "///evil.example",
    "",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
async def test_login_next_cannot_redirect_off_site(server, target):
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{server.url}/login", params={"next": target}) as page:
            html = await page.text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        shown = re.search(r'name="next" value="([^"]*)"', html)
        if shown:
            assert shown.group(1).startswith("/") and not shown.group(1).startswith(("//", "/\\")), shown.group(1)
        async with http.post(
            f"{server.url}/login", allow_redirects=False,
            data={"email": "bob@example.test", "password": peers.CAST_PASSWORD, "csrf_token": token, "next": target},
        ) as response:
            assert response.status == 303, await response.text()
            location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")) and "\\" not in location, location
    # what a browser would make of it: still this server
    resolved = urlsplit(str(URL(server.url).join(URL(location))))
    assert (resolved.scheme, resolved.netloc) == ("http", urlsplit(server.url).netloc), location


async def test_login_without_or_with_a_wrong_csrf_token_signs_nobody_in(server):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{server.url}/login") as page:
            await page.text()
        for token in (None, "wrong-token"):
            data = {"email": "bob@example.test", "password": peers.CAST_PASSWORD, "next": "/console"}
            if token is not None:
                data["csrf_token"] = token
            async with http.post(f"{server.url}/login", data=data, allow_redirects=False) as response:
                assert response.status == 403
                assert "cs_session" not in response.cookies
    # a fresh client that never fetched the form has no token cookie at all
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/login", allow_redirects=False, data={
            "email": "bob@example.test", "password": peers.CAST_PASSWORD, "csrf_token": "guess", "next": "/console",
        }) as response:
            assert response.status == 403 and "cs_session" not in response.cookies
    assert await server.services.db.fetch("SELECT id FROM console_sessions") == []
