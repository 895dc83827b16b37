"""Secure cookies: the console session cookie and the login CSRF cookie carry `Secure` whenever the
client reached the server over HTTPS, directly over TLS or through a trusted proxy that says so, and
keep `HttpOnly` and their `SameSite`. An untrusted peer's `X-Forwarded-Proto` changes nothing.

The TLS server is the real app with a self-signed certificate made here with the `openssl` command.
"""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
from http.cookies import Morsel, SimpleCookie
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from chatserver import keys
from chatserver.app import create_app
from tests.addresses import PeerFrom, from_address
from tests.conftest import seed_cast
from tests.conftest import test_settings as settings_for
from tests.machine import cannot_run_here
from tests.peers import CAST_PASSWORD

PROXY = "127.0.0.1"
STRANGER = "127.0.0.2"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, valid for a day."""
    if shutil.which("openssl") is None:
        cannot_run_here("no openssl command to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def cookies_set(response: aiohttp.ClientResponse) -> dict[str, Morsel]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        jar.load(header)
    return dict(jar)


async def sign_in(http: aiohttp.ClientSession, base_url: str, headers: dict[str, str] | None = None) -> tuple[Morsel, Morsel]:
    """The login page's CSRF cookie and, after the real form, the session cookie."""
    async with http.get(f"{base_url}/login", headers=headers or {}) as page:
        assert page.status == 200
        csrf = cookies_set(page)["cs_csrf"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)  # type: ignore[union-attr]
    async with http.post(
        f"{base_url}/login", data={"email": "bob@example.test", "password": CAST_PASSWORD, "csrf_token": token, "next": "/console"},
        headers={**(headers or {}), "Cookie": f"cs_csrf={csrf.value}"}, allow_redirects=False,
    ) as response:
        assert response.status == 303, await response.text()
        return csrf, cookies_set(response)["cs_session"]


def assert_flags(csrf: Morsel, session: Morsel, *, secure: bool) -> None:
    assert bool(csrf["secure"]) is secure and bool(session["secure"]) is secure, (csrf.OutputString(), session.OutputString())
    # the rest stays as it is, whatever the scheme
    assert csrf["httponly"] and csrf["samesite"] == "Strict" and csrf["path"] == "/login"
    assert session["httponly"] and session["samesite"] == "Lax" and session["path"] == "/"


async def test_over_tls_the_session_and_login_csrf_cookies_are_secure(tmp_path):
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))  # verified, not waved through
    server = TestServer(create_app(settings_for(tmp_path)), host="127.0.0.1")
    await server.start_server(ssl=server_tls)
    try:
        await seed_cast(server.app[keys.SERVICES])
        url = str(server.make_url("")).rstrip("/")
        assert url.startswith("https://")
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_tls), cookie_jar=aiohttp.DummyCookieJar()) as http:
            csrf, session = await sign_in(http, url)
        assert_flags(csrf, session, secure=True)
        # and the console's socket works over TLS with that cookie, from its own https origin
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_tls), cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            agent = await PeerFrom(url, "/agent", http).connect(headers={"Cookie": f"cs_session={session.value}", "Origin": url})
            await agent.wait_for("session")
            await agent.close()
    finally:
        await server.close()


async def test_behind_a_trusted_proxy_forwarded_https_makes_the_cookies_secure(start_server):
    server = await start_server(trusted_proxies=(PROXY,))
    await seed_cast(server.services)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.10", "X-Forwarded-Host": "support.example.test"}
    async with from_address(PROXY) as proxy:
        csrf, session = await sign_in(proxy, server.url, https)
        assert_flags(csrf, session, secure=True)
        # the same proxy forwarding plain HTTP: not secure
        csrf, session = await sign_in(proxy, server.url, {**https, "X-Forwarded-Proto": "http"})
        assert_flags(csrf, session, secure=False)


@pytest.mark.parametrize("trusted", [(), (PROXY,)], ids=["no-trusted-proxy", "another-peer-trusted"])
async def test_an_untrusted_peers_forwarded_proto_does_not_make_cookies_secure(start_server, trusted):
    server = await start_server(trusted_proxies=trusted)
    await seed_cast(server.services)
    spoofs = [
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.10"},
        {"X-Forwarded-Proto": "https, https", "X-Forwarded-Host": "support.example.test"},
        {"Forwarded": "proto=https;for=203.0.113.10"},
        {"X-Forwarded-Ssl": "on", "X-Forwarded-Scheme": "https", "Front-End-Https": "on"},
    ]
    async with from_address(STRANGER) as stranger:
        for headers in spoofs:
            csrf, session = await sign_in(stranger, server.url, headers)
            assert_flags(csrf, session, secure=False)


async def test_the_cookie_secure_setting_still_forces_secure_over_plain_http(start_server):
    server = await start_server(cookie_secure=True)
    await seed_cast(server.services)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        csrf, session = await sign_in(http, server.url)
        assert_flags(csrf, session, secure=True)
