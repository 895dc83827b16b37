"""Reconnect loops on the real server: connects are limited per address, refused with the contract's
`rate_limited`, and event limits belong to the customer or user, so reconnecting never refills them.

`peers.raw_session` speaks Engine.IO and Socket.IO packets directly, as a script that wanted to dodge
the session limit would: one session, namespace connects in a loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
import socketio

from tests import peers
from tests.addresses import PeerFrom, customer_from, from_address, rate_limited
from tests.conftest import eventually, seed_cast
from tests.peers import Peer, client_id, login_cookie, raw_session


async def new_session_status(http: aiohttp.ClientSession, base_url: str) -> tuple[int, Any]:
    """Open an Engine.IO session by long-polling, as a browser's first request does."""
    async with http.get(f"{base_url}/socket.io/?EIO=4&transport=polling") as response:
        body = await response.text()
        return response.status, json.loads(body) if response.content_type == "application/json" else body


async def customers_in(server) -> int:
    return (await server.services.db.fetch("SELECT COUNT(*) AS n FROM customers"))[0]["n"]


async def test_a_reconnect_loop_from_one_address_is_refused_with_rate_limited(start_server):
    server = await start_server(socket_connects_per_minute=5)
    await seed_cast(server.services)
    accepted: list[Peer] = []
    refusals: list[str] = []
    for _ in range(12):
        peer = Peer(server.url, "/customer")
        try:
            accepted.append(await peer.connect())
        except socketio.exceptions.ConnectionError as exc:
            refusals.append(str(exc))
    assert len(accepted) == 5
    # a client reconnecting in full hears the contract's answer first...
    assert all("rate_limited" in text for text in refusals[:5]), refusals
    # ...and new sessions beyond twice the limit are turned away before they are opened
    assert all("rate_limited" not in text for text in refusals[5:]), refusals
    async with aiohttp.ClientSession() as http:
        status, body = await new_session_status(http, server.url)
    assert status == 429 and body["code"] == "rate_limited", body
    # the loop made no more customers than it was allowed connections
    assert await customers_in(server) == 5

    for peer in accepted:
        await peer.close()


async def test_namespace_connects_on_one_session_are_limited_across_all_namespaces(start_server):
    server = await start_server(socket_connects_per_minute=4)
    await seed_cast(server.services)
    cookie = await login_cookie(server.url, "sam@example.test")
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        ws, socket = await raw_session(http, server.url)
        answers = []
        for namespace in ("/customer", "/agent", "/monitor", "/customer", "/agent", "/monitor", "/customer"):
            answer = await socket.connect(namespace)
            answers.append(answer)
            if "sid" in answer:
                await socket.leave(namespace)
        await ws.close()
    assert ["sid" in a for a in answers] == [True] * 4 + [False] * 3, answers
    # refused before the cookie is looked at, with the contract's error object
    assert [a["data"]["code"] for a in answers[4:]] == ["rate_limited"] * 3, answers
    assert await customers_in(server) == 2


async def test_reconnecting_does_not_refill_a_customers_event_limits(server):
    alice = await peers.customer(server.url)
    token = alice.received("session")[0]["token"]
    started = await alice.call("chat:start", {"body": "hello"})
    conversation_id = started["conversation"]["id"]

    def message(n: int) -> dict[str, str]:
        return {"conversation_id": conversation_id, "client_id": client_id(), "body": f"flood {n}"}

    acks = [await alice.call("message:send", message(n)) for n in range(21)]
    assert all(ack["ok"] for ack in acks[:20]) and rate_limited(acks[20]), acks[-1]
    # a new connection with the same token carries on where the last one left off
    await alice.close()
    again = await peers.customer(server.url, token=token)
    assert rate_limited(await again.call("message:send", message(21)))
    # so does a second tab open at the same time
    second_tab = await peers.customer(server.url, token=token)
    assert rate_limited(await second_tab.call("message:send", message(22)))
    # the bucket still refills with time, for people
    await asyncio.sleep(0.3)
    assert (await again.call("message:send", message(23)))["ok"]
    # someone else has their own
    eve = await peers.customer(server.url)
    assert (await eve.call("chat:start", {"body": "me too"}))["ok"]
    for peer in (again, second_tab, eve):
        await peer.close()


async def test_reconnecting_does_not_refill_an_agents_event_limits(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    acks = [await bob.call("typing", {"conversation_id": conversation_id, "typing": n % 2 == 0}) for n in range(11)]
    assert acks[:10] == [{"ok": True}] * 10 and rate_limited(acks[10]), acks
    await bob.close()
    again = await peers.agent(server.url, "bob@example.test")
    assert rate_limited(await again.call("typing", {"conversation_id": conversation_id, "typing": True}))
    for peer in (again, alice):
        await peer.close()


async def test_another_address_is_served_while_one_is_refused(start_server):
    server = await start_server(socket_connects_per_minute=3)
    await seed_cast(server.services)
    mine = [await peers.customer(server.url) for _ in range(3)]
    with pytest.raises(socketio.exceptions.ConnectionError, match="rate_limited"):
        await Peer(server.url, "/customer").connect()
    async with from_address("127.0.0.2") as elsewhere:
        other = await customer_from(server.url, elsewhere)
        assert (await other.call("chat:start", {"body": "I live elsewhere"}))["ok"]
        status, _ = await new_session_status(elsewhere, server.url)
        assert status == 200
        agent = await PeerFrom(server.url, "/agent", elsewhere).connect(headers={"Cookie": await login_cookie(server.url, "bob@example.test")})
        await agent.wait_for("session")
        for peer in (other, agent):
            await peer.close()
    for peer in mine:
        await peer.close()


async def test_a_refused_address_is_served_again_once_the_limit_refills(start_server):
    server = await start_server(socket_connects_per_minute=60)  # one a second
    for _ in range(60):
        await (await Peer(server.url, "/customer").connect()).close()
    with pytest.raises(socketio.exceptions.ConnectionError, match="rate_limited"):
        await Peer(server.url, "/customer").connect()
    await asyncio.sleep(1.1)
    back = await peers.customer(server.url)
    await back.close()


async def test_reloads_and_a_shared_nat_stay_inside_the_default_limit(server):
    """One person reloading thirty times in a row, while forty others behind the same address open
    the chat: nobody is refused at the default setting."""
    alice = await peers.customer(server.url)
    token = alice.received("session")[0]["token"]
    assert (await alice.call("chat:start", {"body": "hi"}))["ok"]
    await alice.close()
    for _ in range(30):
        reloaded = await peers.customer(server.url, token=token)
        assert reloaded.received("session")[0]["conversation"] is not None
        await reloaded.close()
    neighbours = await asyncio.gather(*(peers.customer(server.url) for _ in range(40)))
    for peer in neighbours:
        await peer.close()


async def open_raw(http: aiohttp.ClientSession, base_url: str) -> aiohttp.ClientWebSocketResponse | int:
    """A WebSocket Engine.IO session held open, or the status that refused it."""
    try:
        ws, _ = await raw_session(http, base_url)
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status
    return ws


async def test_an_address_holds_only_so_many_open_connections_and_gets_them_back_as_they_close(start_server):
    """A script that opens connections slowly and keeps them alive is bounded by what it holds, not
    only by how fast it connects; every way a connection can end gives its place back."""
    server = await start_server(socket_sessions_per_address=6, socket_connects_per_minute=10_000)
    await seed_cast(server.services)
    async with aiohttp.ClientSession() as http:
        held = [await open_raw(http, server.url) for _ in range(6)]
        assert all(isinstance(ws, aiohttp.ClientWebSocketResponse) for ws in held), held
        # the seventh is refused, over WebSocket, over long-polling and through the real client
        assert await open_raw(http, server.url) == 429
        status, body = await new_session_status(http, server.url)
        assert status == 429 and body["code"] == "rate_limited" and "open connections" in body["message"], body
        with pytest.raises(socketio.exceptions.ConnectionError):
            await Peer(server.url, "/customer").connect()
        # another address is served meanwhile
        async with from_address("127.0.0.2") as elsewhere:
            other = await customer_from(server.url, elsewhere)
            assert (await other.call("chat:start", {"body": "I live elsewhere"}))["ok"]
            await other.close()

        # six ways to end: an Engine.IO close packet, a dropped TCP connection, a frame that is not
        # the protocol, a real client leaving, a namespace refused so the client leaves, the server
        # ending a signed-out agent's socket
        await held[0].send_str("1")
        await held[1].close()
        await held[2].send_str("not a packet")
        for ws in held[3:]:
            await ws.close()
        customer = await peers.customer(server.url)
        await customer.close()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await Peer(server.url, "/customer").connect(auth={"token": "made-up"})
        cookie = await login_cookie(server.url, "bob@example.test")
        agent = await Peer(server.url, "/agent").connect(headers={"Cookie": cookie})
        await agent.wait_for("session")
        assert await peers.sign_out(server.url, cookie) == 303
        await eventually(lambda: not agent.sio.connected)

        # all six places are free again, and no more than six
        async def all_back() -> list[aiohttp.ClientWebSocketResponse | int]:
            for _ in range(50):
                again = [await open_raw(http, server.url) for _ in range(7)]
                if [isinstance(ws, int) for ws in again] == [False] * 6 + [True]:
                    return again
                for ws in again:
                    if not isinstance(ws, int):
                        await ws.close()
                await asyncio.sleep(0.1)
            raise AssertionError(f"places not given back: {again}")

        again = await all_back()
        assert again[6] == 429
        for ws in again[:6]:
            await ws.close()


async def test_connections_opened_all_at_once_are_held_to_the_limit_too(start_server):
    server = await start_server(socket_sessions_per_address=5, socket_connects_per_minute=10_000)
    async with aiohttp.ClientSession() as http:
        results = await asyncio.gather(*(open_raw(http, server.url) for _ in range(25)))
        opened = [ws for ws in results if not isinstance(ws, int)]
        assert len(opened) == 5, results
        assert all(status in {401, 429} for status in results if isinstance(status, int)), results
        for ws in opened:
            await ws.close()
        # the refused ones left nothing counted behind
        async def five_again() -> bool:
            for _ in range(50):
                again = [await open_raw(http, server.url) for _ in range(5)]
                ok = all(not isinstance(ws, int) for ws in again)
                for ws in again:
                    if not isinstance(ws, int):
                        await ws.close()
                if ok:
                    return True
                await asyncio.sleep(0.1)
            return False

        assert await five_again()
