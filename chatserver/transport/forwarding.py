"""Who is on the other end of a request: the direct peer, or, when that peer is a trusted reverse
proxy, the client it forwards for (`X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host`).

Forwarding headers are ordinary request headers that anyone can send. They are read only when the
direct peer is listed in `trusted_proxies`; from any other peer they are ignored, so they can neither
dodge a per-address limit nor make a request look secure, local or same-origin. Every per-address
limit, the Secure-cookie decision, the origin checks and the metrics' local-only check ask here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Iterable, Mapping
from urllib.parse import urlsplit

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from chatserver import keys

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# headers a proxy adds: their presence means the request came through one
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host")
SCHEMES = frozenset({"http", "https"})
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")
Headers = CIMultiDictProxy[str] | CIMultiDict[str]


def parse_address(text: str | None) -> Address | None:
    """An IP address, IPv4-mapped IPv6 as plain IPv4; None for anything else."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The reverse proxies whose forwarding headers are believed (addresses or CIDRs)."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks: tuple[Network, ...] = tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)


NO_PROXIES = TrustedProxies()


# One IPv6 host is usually given a whole /64 and can use a new address for every request, so per-address
# limits count the /64: otherwise each of them would start with a full allowance.
IPV6_LIMIT_PREFIX = 64


def limit_key(address: str) -> str:
    """What a per-address limit counts: an IPv4 address, or the IPv6 /64 around an IPv6 address."""
    parsed = parse_address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_LIMIT_PREFIX), strict=False))
    return str(parsed)


@dataclass(frozen=True, slots=True)
class Client:
    address: str  # the client's IP: the peer's, unless a trusted proxy forwarded for someone
    scheme: str  # "http" or "https", as the client reached the service
    host: str  # the Host the client asked for
    proxied: bool  # a trusted proxy forwarded the request: its forwarding headers were read

    @property
    def limit_key(self) -> str:
        return limit_key(self.address)


_CLIENT = web.RequestKey("client", Client)


def _last(headers: Headers, name: str) -> str | None:
    """The right-most value of a list header: the one the nearest proxy wrote."""
    values = [part.strip() for value in headers.getall(name, []) for part in value.split(",")]
    values = [v for v in values if v]
    return values[-1] if values else None


def _forwarded_for(headers: Headers, proxies: TrustedProxies) -> Address | None:
    """Right to left through X-Forwarded-For: skip our own proxies, the first other hop is the client.
    Hops left of it were written by the client itself and mean nothing. A hop that is not an address
    means a proxy we trust wrote nonsense: believe none of it."""
    hops = [part.strip() for value in headers.getall("X-Forwarded-For", []) for part in value.split(",")]
    client: Address | None = None
    for hop in reversed([h for h in hops if h]):
        address = parse_address(hop)
        if address is None:
            return None
        client = address
        if not proxies.trusts(address):
            break
    return client


def resolve(peer: str | None, scheme: str, host: str, headers: Headers, proxies: TrustedProxies) -> Client:
    """The client behind one request, from its direct peer, its own scheme and Host, and its headers."""
    peer_address = parse_address(peer)
    direct = Client(str(peer_address) if peer_address else (peer or "unknown"), scheme, host, proxied=False)
    if not proxies.trusts(peer_address) or not any(name in headers for name in FORWARDING_HEADERS):
        return direct
    client = _forwarded_for(headers, proxies)
    proto = (_last(headers, "X-Forwarded-Proto") or "").lower()
    forwarded_host = _last(headers, "X-Forwarded-Host") or ""
    return Client(
        address=str(client) if client is not None else direct.address,
        scheme=proto if proto in SCHEMES else scheme,
        host=forwarded_host if _HOST.match(forwarded_host) else host,
        proxied=True,
    )


def _proxies(request: web.Request) -> TrustedProxies:
    return request.config_dict.get(keys.TRUSTED_PROXIES) or NO_PROXIES


def client_of(request: web.Request) -> Client:
    """The client behind an HTTP request (Socket.IO connects included), worked out once per request."""
    known = request.get(_CLIENT)
    if known is not None:
        return known
    client = resolve(request.remote, request.scheme, request.host, request.headers, _proxies(request))
    request[_CLIENT] = client
    return client


def client_of_environ(environ: Mapping[str, object]) -> Client:
    """The client behind a Socket.IO connect (python-engineio hands over the aiohttp request)."""
    request = environ.get("aiohttp.request")
    if isinstance(request, web.Request):
        return client_of(request)
    return Client(str(environ.get("REMOTE_ADDR", "unknown")), "http", str(environ.get("HTTP_HOST", "")), proxied=False)


def came_through_a_proxy(request: web.Request) -> bool:
    """Any proxy header at all, believed or not: the request may have started anywhere."""
    return any(name in request.headers for name in (*PROXY_HEADERS, *FORWARDING_HEADERS))


def engineio_origin_allowed(origin: str | None, environ: Mapping[str, object]) -> bool:
    """python-engineio's own origin check (`cors_allowed_origins`), by the same rule as the rest:
    its built-in one believes X-Forwarded-Host and -Proto from anyone."""
    request = environ.get("aiohttp.request")
    return bool(origin) and isinstance(request, web.Request) and is_own_origin(str(origin), request)


def own_origins(request: web.Request) -> set[str]:
    """This server's origin as a browser sees it: as reached directly, as the trusted proxy says the
    client reached it, or at the configured public URL."""
    client = client_of(request)
    origins = {f"{request.scheme}://{request.host}", f"{client.scheme}://{client.host}"}
    public_url = request.config_dict[keys.SETTINGS].public_url
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return {origin.lower() for origin in origins}


def is_own_origin(origin: str, request: web.Request) -> bool:
    return origin.lower() in own_origins(request)

