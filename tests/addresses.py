"""Clients that leave from a chosen loopback address (127.0.0.2, 127.0.0.3, ...), so the server sees
another peer: a customer elsewhere, or a reverse proxy on 127.0.0.1 that forwards for someone."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import socketio

from tests import peers


def from_address(address: str) -> aiohttp.ClientSession:
    """An HTTP session whose connections leave from `address` on loopback."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(address, 0)), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


class PeerFrom(peers.Peer):
    """A Socket.IO peer whose connection leaves from another loopback address."""

    def __init__(self, base_url: str, namespace: str, http: aiohttp.ClientSession) -> None:
        super().__init__(base_url, namespace)
        self.sio = socketio.AsyncClient(reconnection=False, http_session=http)
        self.sio.on("*", self._record, namespace=namespace)
        self.sio.on("connect_error", self._refused, namespace=namespace)


async def customer_from(base_url: str, http: aiohttp.ClientSession, headers: dict[str, str] | None = None) -> peers.Peer:
    peer = await PeerFrom(base_url, "/customer", http).connect(headers=headers)
    await peer.wait_for("session")
    return peer


async def login(
    http: aiohttp.ClientSession, base_url: str, email: str, password: str, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """The real login form (CSRF token included): the status and the page."""
    async with http.get(f"{base_url}/login", headers=headers or {}) as page:
        html = await page.text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    async with http.post(
        f"{base_url}/login", data={"email": email, "password": password, "csrf_token": token, "next": "/console"},
        allow_redirects=False, headers=headers or {},
    ) as response:
        return response.status, await response.text()


def rate_limited(ack: Any) -> bool:
    return isinstance(ack, dict) and ack.get("ok") is False and ack["error"]["code"] == "rate_limited"
