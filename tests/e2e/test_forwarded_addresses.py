"""Forwarded addresses on the real server: behind a trusted proxy every per-address limit follows the
real client, not the proxy; from any other peer the same headers change nothing.

The trusted proxy is a real peer: requests leave from 127.0.0.1, the address in `trusted_proxies`,
carrying the headers a reverse proxy adds. The stranger leaves from 127.0.0.2 with the same headers.
Clients behind the proxy are documentation addresses (203.0.113.0/24, 198.51.100.0/24).
"""

from __future__ import annotations

import itertools

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestServer

from chatserver.app import create_app
from chatserver.observability.access_log import AccessLogger

from tests import complaint_steps as steps
from tests import peers
from tests.addresses import PeerFrom, customer_from, from_address, login, rate_limited
from tests.conftest import eventually, seed_cast
from tests.conftest import test_settings as settings_for
from tests.json_logs import JsonLog
from tests.peers import CAST_PASSWORD, login_cookie

PROXY = "127.0.0.1"
STRANGER = "127.0.0.2"
ALICE = "203.0.113.10"  # a customer behind the proxy
BOB_AT_HOME = "203.0.113.20"  # someone else behind the same proxy
_spoofs = itertools.count(1)


def spoofed() -> dict[str, str]:
    """A new made-up client address every time, as a script dodging a limit would send."""
    n = next(_spoofs)
    return {"X-Forwarded-For": f"198.51.100.{n % 250 + 1}", "X-Real-IP": f"198.51.100.{n % 250 + 1}",
            "Forwarded": f"for=198.51.100.{n % 250 + 1}"}


def forwarded_for(address: str, *, prepended: str | None = None) -> dict[str, str]:
    """What the proxy sends for a client; `prepended` is what the client itself put in front."""
    chain = f"{prepended}, {address}" if prepended else address
    return {"X-Forwarded-For": chain, "X-Forwarded-Proto": "http"}


@pytest.fixture
async def proxied(start_server):
    """A server behind a proxy on 127.0.0.1, with small limits so that they show."""
    server = await start_server(trusted_proxies=(PROXY,), logins_per_minute=3, chat_starts_per_minute=3, socket_connects_per_minute=4)
    await seed_cast(server.services)
    return server


async def test_login_limit_follows_the_client_behind_the_proxy_and_ignores_spoofed_headers(proxied):
    url = proxied.url
    async with from_address(PROXY) as proxy, from_address(STRANGER) as stranger:
        for n in range(3):
            status, _ = await login(proxy, url, f"nobody{n}@example.test", "wrong", forwarded_for(ALICE))
            assert status == 401
        # the fourth from Alice is refused; her own extra hop in front does not make her someone else
        status, html = await login(proxy, url, "nobody9@example.test", "wrong", forwarded_for(ALICE, prepended="198.51.100.77"))
        assert status == 429 and "Too many attempts" in html
        # the proxy itself is not limited: someone else behind it signs in
        status, _ = await login(proxy, url, "bob@example.test", CAST_PASSWORD, forwarded_for(BOB_AT_HOME))
        assert status == 303

        # a stranger claiming a new address on every attempt is still one address
        for n in range(3):
            status, _ = await login(stranger, url, f"someone{n}@example.test", "wrong", spoofed())
            assert status == 401
        for n in range(3):
            status, _ = await login(stranger, url, "carol@example.test", CAST_PASSWORD, spoofed())
            assert status == 429


async def test_chat_start_limit_follows_the_client_behind_the_proxy_and_ignores_spoofed_headers(start_server):
    server = await start_server(trusted_proxies=(PROXY,), chat_starts_per_minute=3)
    await seed_cast(server.services)
    opened: list[peers.Peer] = []
    async with from_address(PROXY) as proxy, from_address(STRANGER) as stranger:
        async def start(http: aiohttp.ClientSession, headers: dict[str, str]) -> dict:
            customer = await customer_from(server.url, http, headers)
            opened.append(customer)
            return await customer.call("chat:start", {"body": "hello"})

        for _ in range(3):
            assert (await start(proxy, forwarded_for(ALICE)))["ok"]
        refused = await start(proxy, forwarded_for(ALICE, prepended="198.51.100.3"))
        assert rate_limited(refused) and "address" in refused["error"]["message"], refused
        assert (await start(proxy, forwarded_for(BOB_AT_HOME)))["ok"]  # the proxy's own address is not the key

        for _ in range(3):
            assert (await start(stranger, spoofed()))["ok"]
        for _ in range(2):
            assert rate_limited(await start(stranger, spoofed()))
    for customer in opened:
        await customer.close()


async def test_connect_limit_follows_the_client_behind_the_proxy_and_ignores_spoofed_headers(proxied):
    url = proxied.url
    opened: list[peers.Peer] = []
    async with from_address(PROXY) as proxy, from_address(STRANGER) as stranger:
        async def connect(http: aiohttp.ClientSession, headers: dict[str, str]) -> peers.Peer:
            peer = await PeerFrom(url, "/customer", http).connect(headers=headers)
            opened.append(peer)
            return peer

        for _ in range(4):
            await connect(proxy, forwarded_for(ALICE))
        with pytest.raises(socketio.exceptions.ConnectionError, match="rate_limited"):
            await connect(proxy, forwarded_for(ALICE, prepended="198.51.100.4"))
        await (await connect(proxy, forwarded_for(BOB_AT_HOME))).wait_for("session")

        for _ in range(4):
            await connect(stranger, spoofed())
        for _ in range(3):
            with pytest.raises(socketio.exceptions.ConnectionError, match="rate_limited"):
                await connect(stranger, spoofed())
    for peer in opened:
        await peer.close()


async def test_tracking_page_limit_follows_the_client_behind_the_proxy_and_ignores_spoofed_headers(proxied):
    alice = await peers.customer(proxied.url)
    # two complaints, written to in turn: a thread also holds at most 20 of the customer's messages
    # before the team answers, and only the limit per address is under test here
    complaints = [await steps.submit(alice), await steps.submit(alice, subject="Second one")]
    origin = {"Origin": proxied.url}

    async def post(http: aiohttp.ClientSession, headers: dict[str, str], body: str, n: int = 0) -> int:
        complaint = complaints[n % 2]
        async with http.post(f"{proxied.url}/track/{complaint['reference']}/reply", data={"key": complaint["tracking_key"], "body": body},
                             headers={**origin, **headers}, allow_redirects=False) as response:
            return response.status

    async with from_address(PROXY) as proxy, from_address(STRANGER) as stranger:
        for n in range(20):
            assert await post(proxy, forwarded_for(ALICE), f"news {n}?", n) == 303
        assert await post(proxy, forwarded_for(ALICE, prepended="198.51.100.5"), "one more") == 429
        assert await post(proxy, forwarded_for(BOB_AT_HOME), "from someone else") == 303

        for complaint in complaints:  # the team answers: the customer may write as many again
            await proxied.services.complaints.reply(await steps.staff(proxied.services), complaint["reference"], "We are on it")
        for n in range(20):
            assert await post(stranger, spoofed(), f"spoofed {n}", n) == 303
        for n in range(3):
            assert await post(stranger, spoofed(), f"spoofed again {n}", n) == 429
    await alice.close()


async def test_metrics_stay_local_only_whatever_a_peer_claims(start_server):
    server = await start_server(trusted_proxies=(PROXY,))
    untrusting = await start_server(db=server.settings.db.replace("chat.db", "other.db"))

    async def scrape(http: aiohttp.ClientSession, base_url: str, headers: dict[str, str]) -> int:
        async with http.get(f"{base_url}/metrics", headers=headers) as response:
            return response.status

    async with from_address(PROXY) as local, from_address(STRANGER) as stranger:
        assert await scrape(local, server.url, {}) == 200  # on this host, through no proxy
        assert await scrape(local, untrusting.url, {}) == 200
        # through the trusted proxy, even for someone on this host: came through a proxy
        assert await scrape(local, server.url, forwarded_for("127.0.0.1")) == 403
        assert await scrape(local, server.url, forwarded_for(ALICE)) == 403
        # another peer cannot talk its way in by naming this host
        for headers in ({"X-Forwarded-For": "127.0.0.1"}, {"X-Real-IP": "::1"}, {"Forwarded": "for=127.0.0.1"}, {}):
            assert await scrape(stranger, server.url, headers) == 403
            assert await scrape(stranger, untrusting.url, headers) == 403


async def test_forwarded_host_and_proto_count_as_own_origin_only_from_a_trusted_proxy(start_server):
    server = await start_server(trusted_proxies=(PROXY,))
    await seed_cast(server.services)
    public = "https://support.example.test"
    as_proxied = {"Origin": public, "X-Forwarded-Host": "support.example.test", "X-Forwarded-Proto": "https",
                  "X-Forwarded-For": ALICE}
    cookie = await login_cookie(server.url, "bob@example.test")
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice)
    form = f"{server.url}/track/{complaint['reference']}/reply"

    async with from_address(PROXY) as proxy, from_address(STRANGER) as stranger:
        # through the proxy: the browser's origin is the public one, and it is ours
        agent = await PeerFrom(server.url, "/agent", proxy).connect(headers={"Cookie": cookie, **as_proxied})
        await agent.wait_for("session")
        async with proxy.get(f"{server.url}/api/complaints", headers={"Cookie": cookie, **as_proxied}) as response:
            assert response.status == 200
        async with proxy.post(form, data={"key": complaint["tracking_key"], "body": "via the proxy"},
                              headers=as_proxied, allow_redirects=False) as response:
            assert response.status == 303

        # the same headers from a stranger: another site's page, refused everywhere
        with pytest.raises(socketio.exceptions.ConnectionError):
            await PeerFrom(server.url, "/agent", stranger).connect(headers={"Cookie": cookie, **as_proxied})
        async with stranger.get(f"{server.url}/api/complaints", headers={"Cookie": cookie, **as_proxied}) as response:
            assert response.status == 403
        async with stranger.post(form, data={"key": complaint["tracking_key"], "body": "from elsewhere"},
                                 headers=as_proxied, allow_redirects=False) as response:
            assert response.status == 403
    await agent.close()
    await alice.close()


async def test_the_configured_public_url_is_an_own_origin_without_any_forwarding_header(start_server):
    server = await start_server(public_url="https://support.example.test")
    await seed_cast(server.services)
    cookie = await login_cookie(server.url, "bob@example.test")
    agent = await peers.Peer(server.url, "/agent").connect(headers={"Cookie": cookie, "Origin": "https://support.example.test"})
    await agent.wait_for("session")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await peers.Peer(server.url, "/agent").connect(headers={"Cookie": cookie, "Origin": "https://evil.example"})
    await agent.close()


async def test_ipv6_clients_are_limited_by_their_64_so_fresh_addresses_do_not_buy_fresh_allowances(start_server):
    """One IPv6 host usually holds a whole /64: a new address from it for every chat start must not
    start with a full allowance each time."""
    server = await start_server(trusted_proxies=(PROXY,), chat_starts_per_minute=3)
    await seed_cast(server.services)
    opened: list[peers.Peer] = []
    async with from_address(PROXY) as proxy:
        async def start(address: str) -> dict:
            customer = await customer_from(server.url, proxy, forwarded_for(address))
            opened.append(customer)
            return await customer.call("chat:start", {"body": "hello"})

        for n in range(1, 4):
            assert (await start(f"2001:db8:aa:1::{n}"))["ok"]
        for address in ("2001:db8:aa:1::99", "2001:db8:aa:1:ffff:ffff:ffff:fffe"):
            assert rate_limited(await start(address)), address
        assert (await start("2001:db8:aa:2::1"))["ok"]  # the next /64 is someone else
    for customer in opened:
        await customer.close()


async def test_the_access_log_names_the_client_behind_the_proxy_and_keeps_the_proxy_as_peer(tmp_path):
    """One line per request that an operator can act on: the address to block is the client's, and a
    spoofed header from anyone else changes nothing in the log either."""
    log = JsonLog("chatserver.test.forwarded_access")
    server = TestServer(create_app(settings_for(tmp_path, trusted_proxies=(PROXY,))), host="127.0.0.1")
    await server.start_server(access_log_class=AccessLogger, access_log=log.logger)
    url = str(server.make_url("")).rstrip("/")
    try:
        async with from_address(PROXY) as proxy, from_address(STRANGER) as stranger:
            async with proxy.get(f"{url}/healthz", headers=forwarded_for(ALICE)) as answer:
                assert answer.status == 200
            async with stranger.get(f"{url}/healthz", headers=spoofed()) as answer:
                assert answer.status == 200
        await eventually(lambda: len(log.lines()) == 2)
    finally:
        await server.close()
    lines = log.lines()
    assert [(line["path"], line["remote"], line["peer"]) for line in lines] == [
        ("/healthz", ALICE, PROXY), ("/healthz", STRANGER, STRANGER),
    ]
