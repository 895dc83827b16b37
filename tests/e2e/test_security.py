"""Who may do what: ownership, console authentication, identities, hostile payloads, limits."""

import asyncio
import time
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import make_mocked_request

from chatserver import keys
from chatserver.domain.errors import Forbidden
from chatserver.domain.models import iso
from chatserver.services.auth import identity_signature
from chatserver.transport.console_auth import console_user
from tests import peers
from tests.conftest import eventually
from tests.peers import Peer, client_id, login_cookie


async def test_one_customer_cannot_touch_another_customers_conversation(server):
    bob, alice, conversation_id = await peers.active_chat(server.url, body="my private problem")
    eve = await peers.customer(server.url)
    attempts = [
        ("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "hijack"}),
        ("history", {"conversation_id": conversation_id}),
        ("chat:end", {"conversation_id": conversation_id, "resolved": False}),
        ("rating", {"conversation_id": conversation_id, "score": 1}),
    ]
    for event, payload in attempts:
        ack = await eve.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "not_found", (event, ack)
    await eve.emit("typing", {"conversation_id": conversation_id, "typing": True})
    await asyncio.sleep(0.2)
    assert bob.received("typing") == []
    history = await alice.call("history", {"conversation_id": conversation_id})
    assert [m["body"] for m in history["messages"]] == ["my private problem"]
    assert eve.received("message:new") == []

    # once the chat is closed, answering "not resolved" would turn it into a complaint: only Alice may
    closed = await bob.call("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"})
    assert closed["ok"], closed
    await alice.wait_for("chat:closed")
    for event, payload in [
        ("chat:end", {"conversation_id": conversation_id, "resolved": False}),
        ("rating", {"conversation_id": conversation_id, "score": 1, "comment": "not mine to rate"}),
        ("history", {"conversation_id": conversation_id}),
        ("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "reopen"}),
    ]:
        ack = await eve.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "not_found", (event, ack)
    assert await server.services.db.fetch("SELECT id FROM complaints WHERE conversation_id = ?", (conversation_id,)) == []
    assert await server.services.db.fetch("SELECT * FROM ratings WHERE conversation_id = ?", (conversation_id,)) == []
    for peer in (bob, alice, eve):
        await peer.close()


async def test_an_agent_cannot_act_on_a_chat_assigned_to_a_colleague(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    carol = await peers.agent(server.url, "carol@example.test", online=False)
    for event, payload in [
        ("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "mine now"}),
        ("history", {"conversation_id": conversation_id}),
        ("chat:close", {"conversation_id": conversation_id, "outcome": "resolved"}),
        ("chat:transfer", {"conversation_id": conversation_id}),
        ("typing", {"conversation_id": conversation_id, "typing": True}),
    ]:
        ack = await carol.call(event, payload)
        assert ack["error"]["code"] == "forbidden", (event, ack)
    # taking a chat is for waiting ones: a colleague's active chat cannot be pulled away
    taken = await carol.call("chat:take", {"conversation_id": conversation_id})
    assert taken["ok"] is False and taken["error"]["code"] in ("forbidden", "conflict"), taken
    await asyncio.sleep(0.2)
    assert alice.received("typing") == [] and alice.received("message:new") == []
    row = await server.services.db.fetch_one("SELECT agent_id, status FROM conversations WHERE id = ?", (conversation_id,))
    assert row == {"agent_id": bob.received("session")[0]["agent"]["id"], "status": "active"}, row
    for peer in (bob, alice, carol):
        await peer.close()


async def test_customer_tokens_are_minted_by_the_server(server):
    with pytest.raises(socketio.exceptions.ConnectionError) as refused:
        await Peer(server.url, "/customer").connect(auth={"token": "a-token-i-made-up"})
    assert "unknown customer token" in str(refused.value)
    alice = await peers.customer(server.url)
    token = alice.received("session")[0]["token"]
    assert len(token) >= 40  # 256 random bits, URL-safe
    await alice.close()


async def test_signed_identity_binds_the_person_and_a_typed_email_never_does(server):
    expires = int(time.time()) + 600
    identity = {"external_id": "player-42", "name": "Alice Verified", "email": "alice@example.test", "expires": expires,
                "signature": identity_signature("identity-secret", "player-42", expires)}
    first = await peers.customer(server.url, identity=identity)
    customer_id = first.received("session")[0]["customer_id"]
    await first.call("complaint:submit", {"category": "withdrawals", "subject": "Withdrawal", "body": "late"})
    await first.close()
    second_device = await peers.customer(server.url, identity=identity)
    assert second_device.received("session")[0]["customer_id"] == customer_id
    assert len((await second_device.call("complaint:list", {}))["complaints"]) == 1

    stranger = await peers.customer(server.url)
    await stranger.call("chat:start", {"body": "hi", "email": "alice@example.test", "name": "Alice Verified"})
    assert (await stranger.call("complaint:list", {}))["complaints"] == []

    forged = dict(identity, signature="0" * 64)
    with pytest.raises(socketio.exceptions.ConnectionError, match="signature"):
        await Peer(server.url, "/customer").connect(auth={"identity": forged})
    stale = dict(identity, expires=int(time.time()) - 5)
    stale["signature"] = identity_signature("identity-secret", "player-42", stale["expires"])
    with pytest.raises(socketio.exceptions.ConnectionError, match="expired"):
        await Peer(server.url, "/customer").connect(auth={"identity": stale})
    for peer in (second_device, stranger):
        await peer.close()


async def test_a_signature_in_any_text_is_refused_as_not_valid_without_an_error_logged(server, caplog):
    """`hmac.compare_digest` raises on text that is not ASCII: a signature of accented letters or a
    lone surrogate is refused for what it is (a wrong signature, text that is not text), never as an
    internal error with a traceback."""
    expires = int(time.time()) + 600
    for signature in ("é" * 64, "\ud800" * 8, "Ａ" * 64):
        forged = {"external_id": "player-42", "expires": expires, "signature": signature}
        with pytest.raises(socketio.exceptions.ConnectionError, match="signature") as refused:
            await Peer(server.url, "/customer").connect(auth={"identity": forged})
        assert "'internal'" not in str(refused.value)
    assert [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []
    canary = await peers.customer(server.url)
    assert (await canary.call("chat:start", {"body": "still here?"}))["ok"]
    await canary.close()


async def test_a_new_player_opening_several_tabs_at_once_gets_one_customer_record_in_all_of_them(server, caplog):
    expires = int(time.time()) + 600
    identity = {"external_id": "player-77", "name": "Pat", "expires": expires,
                "signature": identity_signature("identity-secret", "player-77", expires)}
    tabs = [Peer(server.url, "/customer") for _ in range(4)]
    connected = await asyncio.gather(*(tab.connect(auth={"identity": identity}) for tab in tabs), return_exceptions=True)
    try:
        assert [r for r in connected if isinstance(r, Exception)] == []
        sessions = [await tab.wait_for("session") for tab in tabs]
        assert len({session["customer_id"] for session in sessions}) == 1
        assert (await server.services.db.fetch("SELECT count(*) AS n FROM customers WHERE external_id = 'player-77'"))[0]["n"] == 1
        assert "IntegrityError" not in caplog.text
    finally:
        for tab in tabs:
            await tab.close()


async def test_console_namespaces_refuse_without_a_session_or_from_a_foreign_origin(server):
    for namespace in ("/agent", "/monitor"):
        with pytest.raises(socketio.exceptions.ConnectionError, match="log in"):
            await Peer(server.url, namespace).connect()
        with pytest.raises(socketio.exceptions.ConnectionError, match="log in"):
            await Peer(server.url, namespace).connect(headers={"Cookie": "cs_session=s_forged.deadbeef"})
    cookie = await login_cookie(server.url, "bob@example.test")
    with pytest.raises(socketio.exceptions.ConnectionError, match="supervisors"):
        await Peer(server.url, "/monitor").connect(headers={"Cookie": cookie})

    # cross-site WebSocket hijacking: a page elsewhere makes the browser send a valid cookie
    supervisor = await login_cookie(server.url, "sam@example.test")
    for namespace, session in (("/agent", cookie), ("/monitor", supervisor)):
        for transport in ("websocket", "polling"):
            for origin in ("https://evil.example", "null", server.url + ".evil.example", server.url.replace("http:", "https:")):
                refusal = await connect_from(server.url, namespace, transport, {"Cookie": session, "Origin": origin})
                assert refusal is not None, (namespace, transport, origin)
            # the same cookie from the server's own origin connects: the origin was the reason
            assert await connect_from(server.url, namespace, transport, {"Cookie": session, "Origin": server.url}) is None


async def test_a_foreign_origin_is_refused_at_the_handshake_and_again_by_the_console_namespaces(server):
    # two layers, each proven alone: python-engineio's origin check refuses the handshake before any
    # namespace is reached, and the console namespaces check the origin again themselves
    cookie = await login_cookie(server.url, "sam@example.test")
    async with aiohttp.ClientSession() as http:
        for origin in ("https://evil.example", "null"):
            headers = {"Cookie": cookie, "Origin": origin}
            async with http.get(f"{server.url}/socket.io/?EIO=4&transport=polling", headers=headers) as polling:
                assert polling.status == 400, origin
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{server.url}/socket.io/?EIO=4&transport=websocket", headers=headers)
            assert refused.value.status == 400, origin
        async with http.get(f"{server.url}/socket.io/?EIO=4&transport=polling", headers={"Cookie": cookie, "Origin": server.url}) as own:
            assert own.status == 200
    app = server.server.app
    for origin in ("https://evil.example", "null", server.url.replace("http:", "https:")):
        request = make_mocked_request("GET", "/socket.io/", headers={"Host": server.url.removeprefix("http://"), "Origin": origin}, app=app)
        environ = {"HTTP_ORIGIN": origin, "HTTP_COOKIE": cookie, "aiohttp.request": request}
        with pytest.raises(Forbidden, match="own pages"):
            await console_user(environ, None, server.services.auth, app[keys.SECRET_KEY])


async def connect_from(url: str, namespace: str, transport: str, headers: dict[str, str]) -> str | None:
    """Connect one namespace over one transport: None when accepted, else the refusal."""
    sio = socketio.AsyncClient(reconnection=False)
    try:
        await sio.connect(url, namespaces=[namespace], headers=headers, transports=[transport], wait_timeout=5)
        return None
    except socketio.exceptions.ConnectionError as exc:
        return str(exc)
    finally:
        await sio.disconnect()


async def test_logout_ends_the_session_and_its_open_sockets(server):
    import aiohttp
    import re

    cookie = await login_cookie(server.url, "bob@example.test")
    bob = await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
    await bob.wait_for("session")
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        async with http.get(f"{server.url}/console") as page:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
        async with http.post(f"{server.url}/logout", data={"csrf_token": "wrong"}, allow_redirects=False) as refused:
            assert refused.status == 403
        async with http.post(f"{server.url}/logout", data={"csrf_token": csrf}, allow_redirects=False) as done:
            assert done.status == 303
    for _ in range(50):
        if not bob.sio.connected:
            break
        await asyncio.sleep(0.05)
    assert not bob.sio.connected
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})



async def test_a_sign_in_that_runs_out_closes_the_sockets_it_opened_and_they_cannot_come_back(server):
    """A sign-in lasts twelve hours; here it has two seconds left when the console and monitor open."""
    cookie = await login_cookie(server.url, "sam@example.test")
    async with server.services.db.transaction() as tx:
        await tx.execute("UPDATE console_sessions SET expires_at = ?", (iso(datetime.now(timezone.utc) + timedelta(seconds=2)),))
    console = await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
    await console.wait_for("session")
    monitor = await Peer(server.url, "/monitor").connect(headers={"Cookie": cookie})
    await monitor.wait_for("monitor:snapshot")
    assert (await console.call("presence:set", {"status": "online"}))["ok"]
    await eventually(lambda: not console.sio.connected and not monitor.sio.connected, timeout=6)
    for namespace in ("/agent", "/monitor"):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await Peer(server.url, namespace).connect(headers={"Cookie": cookie})

DEEP: list = []
for _ in range(200):
    DEEP = [DEEP]

HOSTILE_PAYLOADS = [
    None, "", "text", 42, 3.5, True, [], ["a"], {"$gt": ""}, {"conversation_id": {"$ne": None}},
    {"conversation_id": ["x"]}, {"conversation_id": 12, "client_id": 3, "body": 5},
    {"conversation_id": "' OR 1=1--", "client_id": "x", "body": "y"},
    {"conversation_id": "x" * 10_000}, {"body": "\ud800"}, {"conversation_id": "a", "client_id": "b", "body": "\ud83d"},
    {"score": "5", "conversation_id": "x"}, {"score": 99, "conversation_id": "x"}, {"typing": "yes", "conversation_id": "x"},
    {"status": "god"}, {"outcome": "deleted", "conversation_id": "x"}, {"after_seq": -1, "conversation_id": "x"},
    {"conversation_id": "x", "client_id": "y", "body": "z", "deep": DEEP},
]
CUSTOMER_EVENTS = ["chat:start", "message:send", "history", "chat:end", "rating", "complaint:submit", "complaint:list", "typing"]
AGENT_EVENTS = ["presence:set", "message:send", "history", "chat:close", "chat:transfer", "chat:take", "typing"]


async def test_malformed_payloads_get_error_acks_and_the_server_keeps_serving(server):
    bob, alice, conversation_id = await peers.active_chat(server.url, body="hello")
    mallory = await peers.customer(server.url)
    mallet = await peers.agent(server.url, "carol@example.test", online=False)
    refused = 0
    for peer, events in ((mallory, CUSTOMER_EVENTS), (mallet, AGENT_EVENTS)):
        for event in events + ["no:such:event", "x" * 500]:
            for payload in HOSTILE_PAYLOADS:
                ack = await peer.call(event, payload)
                assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (event, payload, ack)
                if not ack["ok"]:
                    # a contract code, never an unhandled failure
                    assert ack["error"]["code"] in ("invalid", "not_found", "rate_limited", "too_large", "forbidden", "conflict"), (event, payload, ack)
                    refused += 1
                elif event not in ("chat:start", "complaint:list", "typing", "presence:set"):
                    raise AssertionError(f"{event} accepted {payload!r}: {ack}")
            assert peer.sio.connected
    assert refused > 300
    # everyone else was served all along
    ack = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "still works"})
    assert ack["ok"]
    await bob.wait_for("message:new", lambda m: m["body"] == "still works")
    rows = await server.services.db.fetch("SELECT body FROM messages WHERE conversation_id = ?", (conversation_id,))
    assert [r["body"] for r in rows] == ["hello", "still works"]
    for peer in (bob, alice, mallory, mallet):
        await peer.close()


async def test_values_of_the_wrong_type_are_invalid_even_where_they_could_be_read_as_the_right_one(server):
    # on the caller's own open chat, so that only the type can be the reason: a lenient parser would
    # take "false" as False and file a complaint, "5" as a score, 1 as typing
    bob, alice, conversation_id = await peers.active_chat(server.url, body="hello")
    mine = {"conversation_id": conversation_id}
    attempts = [
        (alice, "chat:end", {**mine, "resolved": "false"}), (alice, "chat:end", {**mine, "resolved": 0}),
        (alice, "message:send", {**mine, "client_id": client_id(), "body": 5}),
        (alice, "message:send", {**mine, "client_id": 3, "body": "hi"}),
        (alice, "history", {**mine, "after_seq": "0"}), (alice, "history", {**mine, "after_seq": 1.0}),
        (alice, "typing", {**mine, "typing": "yes"}), (alice, "typing", {**mine, "typing": 1}),
        (alice, "rating", {**mine, "score": "5"}),
        (bob, "history", {**mine, "after_seq": "0"}), (bob, "typing", {**mine, "typing": 1}),
        (bob, "message:send", {**mine, "client_id": client_id(), "body": 5}),
        (bob, "presence:set", {"status": ["online"]}),
    ]
    for peer, event, payload in attempts:
        ack = await peer.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", (event, payload, ack)
    row = await server.services.db.fetch_one("SELECT status, complaint_id FROM conversations WHERE id = ?", (conversation_id,))
    assert row is not None and row["status"] == "active" and row["complaint_id"] is None
    rows = await server.services.db.fetch("SELECT body FROM messages WHERE conversation_id = ?", (conversation_id,))
    assert [r["body"] for r in rows] == ["hello"]
    for peer in (bob, alice):
        await peer.close()


async def test_oversized_messages_are_refused_as_too_large(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    ack = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "x" * 4001})
    assert ack["error"]["code"] == "too_large"
    fits = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "x" * 4000})
    assert fits["ok"]
    for peer in (bob, alice):
        await peer.close()


async def test_message_floods_are_rate_limited_per_connection(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    acks = await asyncio.gather(*(
        alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": f"spam {i}"})
        for i in range(60)
    ))
    limited = [a for a in acks if not a["ok"]]
    assert limited and all(a["error"]["code"] == "rate_limited" for a in limited)
    assert sum(1 for a in acks if a["ok"]) <= 25
    other = await peers.customer(server.url)
    assert (await other.call("chat:start", {"body": "me too"}))["ok"]
    for peer in (bob, alice, other):
        await peer.close()


async def _raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written: an HTTP client would resolve `..` before sending it."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def test_asset_paths_that_climb_out_of_their_folders_find_nothing(server):
    """Files beside the served folders (the code, package.json, the system's) are never served,
    however the climb is spelt; the files that belong there still are."""
    assert (await _raw_get(server.url, "/widget/assets/app/main.js"))[0] == 200
    assert (await _raw_get(server.url, "/static/brand/icon.svg"))[0] == 200
    climbs = [
        "{root}../chatserver/app.py", "{root}../../package.json", "{root}../package.json",
        "{root}%2e%2e/package.json", "{root}%2E%2E%2Fpackage.json", "{root}..%2f..%2fpackage.json",
        "{root}app/..%2f..%2fpackage.json", "{root}..%5c..%5cpackage.json", "{root}....//package.json",
        "{root}%252e%252e/package.json", "{root}../../../../../../etc/passwd", "{root}%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "{root}/etc/passwd", "{root}%2fetc%2fpasswd", "{root}app/main.js%00.json", "{root}../../chatserver/static/../app.py",
    ]
    for root in ("/widget/assets/", "/static/"):
        for climb in climbs:
            path = climb.format(root=root)
            status, body = await _raw_get(server.url, path)
            assert status in (400, 403, 404), (path, status)
            assert b"socketio" not in body and b"root:" not in body and b'"dependencies"' not in body, path
