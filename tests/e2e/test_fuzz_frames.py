"""Raw garbage at the Engine.IO and Socket.IO layers, below any python-socketio client.

The server runs as a subprocess (`tests/procs.py`) with JSON logs, so its own log is read for the
property that matters most: no handler crashed, whatever arrived (`hostile.log_problems`). Each garbage input goes over a
fresh WebSocket (or long-polling session) that has joined /customer; afterwards that connection
may be closed, still answer, or say nothing (a lie about binary attachments holds its next frames),
and all three are fine. What must hold: nothing else suffers (a canary chat keeps being served) and
the log has no error and no traceback.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import aiohttp
import pytest
from hypothesis import strategies as st

from chatserver.app import SIO
from tests import hostile
from tests.conftest import CAST
from tests.peers import CAST_PASSWORD, Canary
from tests.procs import ServerProcess, create_users

pytestmark = pytest.mark.slow

FRAME_LIMIT = 64 * 1024  # the server's max_http_buffer_size
GENERATED = 240
PROBE = '42/customer,777["complaint:list",{}]'


async def serve(procs: Any) -> ServerProcess:
    server = procs.server(env={"CHATSERVER_LOG_FORMAT": "json", "CHATSERVER_SECRET_KEY": "frames-secret-kkkkkkkkkkkkkkkkkkkkkkkkkk"})
    await create_users(server.db, CAST, CAST_PASSWORD)
    return await server.start()


class Raw:
    """One hand-rolled Engine.IO v4 WebSocket that has joined /customer; it sends whatever it is given."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, url: str, join: str | None = "/customer") -> "Raw":
        ws = await http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket", max_msg_size=0, autoclose=False)
        opened = await ws.receive(timeout=5)
        assert opened.type == aiohttp.WSMsgType.TEXT and opened.data.startswith("0{"), opened
        raw = cls(ws)
        if join:
            await ws.send_str(f"40{join},")
            await raw.expect(lambda text: text.startswith(f"40{join},"))
        return raw

    async def expect(self, match: Any, timeout: float = 5) -> str:
        """The first text frame `match` accepts; "closed" or "silent" when none comes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            try:
                msg = await self.ws.receive(timeout=left)
            except asyncio.TimeoutError:
                break
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                return "closed"
            if msg.type == aiohttp.WSMsgType.TEXT and (msg.data == "1" or msg.data.startswith("41/customer,")):
                return "closed"  # Engine.IO's close, or the namespace's disconnect
            if msg.type == aiohttp.WSMsgType.TEXT and msg.data == "2":
                await self.ws.send_str("3")  # the server's ping
            elif msg.type == aiohttp.WSMsgType.TEXT and match(msg.data):
                return msg.data
        return "silent"

    async def send(self, frame: str | bytes) -> bool:
        """False when the connection is already gone."""
        try:
            if isinstance(frame, bytes):
                await self.ws.send_bytes(frame)
            else:
                await self.ws.send_str(frame)
        except (ConnectionError, aiohttp.ClientError, RuntimeError):
            return False
        return True

    async def outcome(self, timeout: float = 0.5) -> str:
        """answered, closed or silent: what the connection does with a probe after the garbage."""
        if not await self.send(PROBE):
            return "closed"
        got = await self.expect(lambda text: text.startswith("43/customer,777["), timeout)
        return got if got in ("closed", "silent") else "answered"

    async def wait_closed(self, timeout: float = 5) -> bool:
        """Whether the server ends the WebSocket itself within `timeout`, whatever it says before."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            try:
                msg = await self.ws.receive(timeout=left)
            except asyncio.TimeoutError:
                return False
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                return True
        return False

    async def close(self) -> None:
        await self.ws.close()


# -- what is sent ----------------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
CURATED: list[str | bytes] = [
    "", " ", "x", "{}", "null", "-1", "9", "7", "8hello", "b", "b!!!!", "b" + "A" * 5, "4", "4x", "49", "4\x00",
    "40", "41", "42", "43", "44", "45", "46", "47", "48", "4-", "4/",
    '42/customer,["chat:start",{', '42/customer,["chat:start"', '42/customer,[', '42/customer,{"a":1}',
    '42/customer,"text"', '42/customer,123', '42/customer,[]', '42/customer,[null]', '42/customer,[1,2]',
    '42/customer,[{"event":1}]', '42/customer,[["nested"]]', '42/customer,1["connect",{"HTTP_COOKIE":""}]',
    '42/customer,2["disconnect","client disconnect"]', '42/customer,99999999999999999999999["history",{}]',
    '42/customer,-1["complaint:list",{}]', '42/customer,1e5["complaint:list",{}]', '42/customer,NaN',
    '42/customer,["message:send",{"conversation_id":"x","client_id":"y","body":"z","n":1e999}]',
    '42/customer,["history",{"conversation_id":"x","after_seq":' + "9" * 5000 + "}]",
    '42/customer,["history",{"conversation_id":"\\ud800","after_seq":1}]',
    "42/customer," + DEEP[:2000] + DEEP[-2000:], "42/customer,[" + DEEP[:FRAME_LIMIT // 2 - 20] + "]",
    '42/nope,["complaint:list",{}]', '42/agent,1["presence:set",{"status":"online"}]', '42["x"]', '42/,["x"]',
    '42/customer?x=1,1["complaint:list",{}]', "43/customer,5[1,2]", "43/customer,[]", '44/customer,{"message":"x"}',
    '451-/customer,["message:send",{"_placeholder":true,"num":0}]', '451-/customer,1["x",{"_placeholder":true,"num":"a"}]',
    '452-/customer,["x",{"_placeholder":true,"num":5}]', '459999999999-/customer,["x"]', '45999999-/customer,["x"]',
    '4599-/customer,["x",{"_placeholder":true,"num":0}]', '461-/customer,1[{"_placeholder":true,"num":0}]',
    '40/customer,{"token":{"$gt":""}}', '40/customer,["a"]', '40/customer,"token"', '40/customer,{', "40/agent,",
    '40/monitor,{"token":"\\ud800"}', "40/nope,", "40/customer,", "41/customer,", "41/nope,", "41",
    b"", b"\x00", b"\xff\xfe\xfd", b"4" + bytes(range(256)), b'42/customer,["complaint:list",{}]',
]
packet_types = st.sampled_from(list("0123456789") + ["", "x", "-"])
attachments = st.sampled_from(["", "", "1-", "2-", "99999-", "-1-", "a-"])
namespaces = st.sampled_from(["", "/customer,", "/customer,", "/agent,", "/monitor,", "/nope,", "/customer", "/,"])
ack_ids = st.sampled_from(["", "", "1", "0", "99999999999999999999", "-1"])
json_ish = st.one_of(
    hostile.hostile_values.map(lambda v: json.dumps(v, default=repr)),
    st.tuples(hostile.hostile_values.map(lambda v: json.dumps(["chat:start", v], default=repr)), st.integers(0, 60))
    .map(lambda cut: cut[0][: cut[1]]),  # truncated
    st.text(st.characters(codec="utf-8"), max_size=60),
)
socketio_packets = st.builds(lambda *parts: "4" + "".join(parts), packet_types, attachments, namespaces, ack_ids, json_ish)
engineio_packets = st.builds(lambda t, body: t + body, packet_types, st.text(st.characters(codec="utf-8"), max_size=40))
garbage = hostile.weighted(
    (socketio_packets, 6), (engineio_packets, 2), (st.binary(max_size=120), 1),
    (st.text(st.characters(codec="utf-8"), max_size=80), 1),
)


def invalid_utf8_text_frames() -> list[bytes]:
    return [b"\xff", b"4\xc3(", b'42/customer,["\xed\xa0\x80"]', b"\xf8\x88\x80\x80\x80"]


async def test_garbage_websocket_frames_cost_only_their_own_connection(procs):
    server = await serve(procs)
    canary = await Canary.start(server.url)
    inputs: list[str | bytes] = CURATED + hostile.draw(garbage, GENERATED)
    outcomes: Counter[str] = Counter()
    async with aiohttp.ClientSession() as http:
        for n, frame in enumerate(inputs):
            raw = await Raw.open(http, server.url)
            await raw.send(frame)
            outcomes[await raw.outcome()] += 1
            await raw.close()
            if n % 25 == 0:
                await canary.round_trip()
        for frame in invalid_utf8_text_frames():  # a TEXT frame must be UTF-8: the WebSocket layer closes it
            raw = await Raw.open(http, server.url)
            await raw.ws.send_frame(frame, aiohttp.WSMsgType.TEXT)
            outcomes[await raw.outcome()] += 1
            await raw.close()
    await canary.round_trip()
    assert outcomes["closed"] > 0 and outcomes["answered"] > 0, outcomes
    assert hostile.log_problems(server.all_stderr()) == []
    print(f"\n{sum(outcomes.values())} raw frames: {dict(outcomes)}")
    await canary.close()


async def test_oversized_frames_attachment_lies_and_ping_floods_cost_only_their_own_connection(procs):
    server = await serve(procs)
    canary = await Canary.start(server.url)
    big = "y" * FRAME_LIMIT
    async with aiohttp.ClientSession() as http:
        for frame, expected in [
            # beyond max_http_buffer_size: closed before anything reads it
            ("4" + "x" * FRAME_LIMIT, "closed"), (b"\x00" * (FRAME_LIMIT + 1), "closed"),
            ('42/customer,["chat:start",{"body":"' + big + '"}]', "closed"),
            # a binary event announcing more attachments than anyone needs: closed, nothing held for it
            ('459999999999-/customer,["x",{"_placeholder":true,"num":0}]', "closed"),
            ('45999999-/customer,["x",{"_placeholder":true,"num":0}]', "closed"), ('455-/customer,["x"]', "closed"),
            # a few announced and not sent: the frames after it are taken as those attachments
            ('454-/customer,["x",{"_placeholder":true,"num":0}]', "silent"),
            # attachments that arrive, pointing nowhere: closed
            ('451-/customer,["x",{"_placeholder":true,"num":"a"}]', "closed"),
        ]:
            raw = await Raw.open(http, server.url)
            await raw.send(frame)
            assert await raw.outcome() == expected, frame[:60]
            await raw.close()
        # pings and pongs from the client in their thousands: the connection is still served
        raw = await Raw.open(http, server.url)
        for n in range(3000):
            await raw.send("2" if n % 2 else "3")
        assert await raw.outcome(timeout=5) == "answered"
        await canary.round_trip()
        await raw.close()
    await canary.round_trip()
    assert hostile.log_problems(server.all_stderr()) == []
    await canary.close()


async def test_garbage_connect_packets_are_refused_for_that_namespace_only(procs):
    server = await serve(procs)
    canary = await Canary.start(server.url)
    async with aiohttp.ClientSession() as http:
        for packet, namespace, code in [
            ('40/customer,{"token":{"$gt":""}}', "/customer", "invalid"),
            ('40/customer,{"token":"made-up"}', "/customer", "unauthorized"),
            ('40/customer,["a"]', "/customer", "invalid"), ('40/customer,"token"', "/customer", "invalid"),
            ('40/customer,{"identity":{"external_id":"x","expires":1e999,"signature":"00"}}', "/customer", "invalid"),
            ('40/customer,{"identity":{"external_id":"x","expires":' + "9" * 99 + ',"signature":"00"}}', "/customer", "invalid"),
            ('40/agent,{"token":"x\\ud800"}', "/agent", "invalid"), ('40/agent,{"token":["t"]}', "/agent", "invalid"),
            ('40/monitor,{"token":"t"}', "/monitor", "unauthorized"), ("40/agent,", "/agent", "unauthorized"),
            ("40/nope,", "/nope", None), ("40/nope?x=1,{}", "/nope", None),
        ]:
            raw = await Raw.open(http, server.url, join=None)
            await raw.send(packet)
            refused = f"44{namespace},"
            answer = await raw.expect(lambda text: text.startswith((refused, f"40{namespace},")))
            assert answer.startswith(refused), (packet, answer)
            if code is not None:  # ours carry the contract's error object; python-socketio's own a message
                refusal = json.loads(answer[len(refused):])
                assert refusal["data"]["code"] == code, (packet, refusal)
            # the same connection can still join /customer: only that namespace was refused
            await raw.send("40/customer,")
            assert (await raw.expect(lambda text: text.startswith("40/customer,"))).startswith("40/customer,")
            assert await raw.outcome() == "answered"
            await raw.close()
    await canary.round_trip()
    assert hostile.log_problems(server.all_stderr()) == []
    await canary.close()


async def test_garbage_long_polling_posts_cost_only_their_own_session(procs):
    server = await serve(procs)
    canary = await Canary.start(server.url)
    base = f"{server.url}/socket.io/?EIO=4&transport=polling"
    bodies: list[str | bytes] = [b for b in CURATED if b] + hostile.draw(garbage, GENERATED // 2) + [
        "\x1e", "\x1e\x1e", "40/customer,\x1e", "4\x1ex\x1e", '40/customer,\x1e42/customer,["x"\x1e', "b!!\x1e40",
        b"\xff\xfe", "4" + "z" * (FRAME_LIMIT + 1), "bé", "40/customer,\x1eb４",
    ]
    statuses: Counter[int] = Counter()
    async with aiohttp.ClientSession() as http:
        for n, body in enumerate(bodies):
            async with http.get(base) as opened:
                assert opened.status == 200
                sid = json.loads((await opened.text())[1:])["sid"]
            async with http.post(f"{base}&sid={sid}", data="40/customer,") as joined:
                assert joined.status == 200
            async with http.post(f"{base}&sid={sid}", data=body, headers={"Content-Type": "text/plain;charset=UTF-8"}) as answer:
                statuses[answer.status] += 1
                assert answer.status < 500, (body[:40], answer.status, await answer.text())
            if n % 25 == 0:
                await canary.round_trip()
        # sessions that do not exist, and requests that are not Engine.IO at all
        for url, method in [
            (f"{base}&sid=nope", "POST"), (f"{base}&sid=", "POST"), (base.replace("EIO=4", "EIO=3"), "GET"),
            (base.replace("polling", "carrier-pigeon"), "GET"), (f"{base}&sid={'x' * 5000}", "GET"),
            (base, "PUT"), (base, "DELETE"), (base + "&j=1", "GET"),
        ]:
            async with http.request(method, url, data="40/customer,") as answer:
                statuses[answer.status] += 1
                assert answer.status < 500, (method, url[:80], answer.status)
    await canary.round_trip()
    assert statuses[400] > 0 or statuses[413] > 0, statuses
    assert hostile.log_problems(server.all_stderr()) == []
    print(f"\n{sum(statuses.values())} polling requests: {dict(statuses)}")
    await canary.close()


async def test_a_connection_closed_for_a_malformed_packet_is_cut_and_leaves_nothing_behind(server):
    """A client that ignores the close packet and keeps sending must not keep a half-dead session:
    its TCP connection ends, and python-socketio holds no trace of it."""
    sio = server.server.app[SIO]
    canary = await Canary.start(server.url)
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            raw = await Raw.open(http, server.url)
            await raw.send("4garbage")  # undecodable: the server closes this connection
            for namespace in ("/customer", "/agent", "/monitor", "/customer"):
                if not await raw.send(f"40{namespace},"):
                    break
            assert await raw.wait_closed(), "the connection stayed open after the close packet"
            await raw.close()
    await canary.round_trip()
    live = set(sio.eio.sockets)
    leftover = {
        namespace: [sid for sid, eio_sid in rooms.get(None, {}).items() if eio_sid not in live]
        for namespace, rooms in sio.manager.rooms.items()
    }
    assert {ns: sids for ns, sids in leftover.items() if sids} == {}
    assert {ns: sids for ns, sids in sio.manager.pending_connect.items() if sids} == {}
    await canary.close()


HANDSHAKE_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\x7f"), max_size=40)
handshake_headers = st.lists(st.one_of(
    st.tuples(st.just("Cookie"), st.builds(lambda name, text: f"{name}={text}",
                                           st.sampled_from(["cs_session", "cs_csrf", "io"]), HANDSHAKE_HEADER_TEXT)),
    st.tuples(st.just("Cookie"), st.just("cs_session=" + "A" * 22 + "." + "0" * 64)),  # well formed, wrongly signed
    st.tuples(st.just("Origin"), st.sampled_from(["null", "http://evil.example", "%ff", "http://[::1", "http://é.example"])),
    st.tuples(st.just("Host"), st.sampled_from(["[::1", "evil.example", "127.0.0.1:99999", "a b", "xn--"])),
    st.tuples(st.just("Authorization"), st.builds(lambda text: "Bearer " + text, HANDSHAKE_HEADER_TEXT)),
    st.tuples(st.sampled_from(["X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-IP"]),
              HANDSHAKE_HEADER_TEXT),
    st.tuples(st.just("Accept-Language"), HANDSHAKE_HEADER_TEXT),
), min_size=1, max_size=3)


async def test_hostile_handshake_headers_get_a_refusal_or_a_customer_never_a_crash(procs):
    """Cookies, origins, hosts, bearer tokens and forwarding headers a browser would never send, on the
    Engine.IO handshake and each namespace's connect: the console namespaces refuse with the contract's
    error, /customer may connect, the server logs no error and the canary is served."""
    server = await serve(procs)
    canary = await Canary.start(server.url)
    outcomes: Counter[str] = Counter()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        for headers in hostile.draw(handshake_headers, 80):
            try:
                ws = await http.ws_connect(f"{server.url}/socket.io/?EIO=4&transport=websocket", headers=dict(headers),
                                           max_msg_size=0, autoclose=False)
            except aiohttp.WSServerHandshakeError as refused:
                assert refused.status in (400, 403), (headers, refused.status)  # a foreign origin, say
                outcomes[f"handshake {refused.status}"] += 1
                continue
            raw = Raw(ws)
            await raw.expect(lambda text: text.startswith("0{"))
            for namespace in ("/agent", "/monitor", "/customer"):
                await raw.send(f"40{namespace},")
                answer = await raw.expect(lambda text: text.startswith((f"44{namespace},", f"40{namespace},")))
                if namespace == "/customer":
                    outcomes[f"{namespace} {answer[:2]}"] += 1
                    continue
                assert answer.startswith(f"44{namespace},"), (headers, answer)  # no console without a session
                code = json.loads(answer[len(f"44{namespace},"):])["data"]["code"]
                assert code in ("unauthorized", "forbidden", "rate_limited"), (headers, answer)
                outcomes[f"{namespace} {code}"] += 1
            await raw.close()
    await canary.round_trip()
    assert hostile.log_problems(server.all_stderr()) == []
    print(f"\n80 handshakes: {dict(outcomes)}")
    await canary.close()
