"""Where a webhook may point: http or https, and (unless `webhook_allow_private`) the public internet only.

Why: a form that makes the server send requests is a server-side request forgery lever. Pointed at
127.0.0.1, 10.0.0.0/8, 169.254.169.254 (cloud metadata) or an intranet name, it would let whoever
holds the form reach services that trust the server's place in the network, and read their answers
in the delivery log. So a target is checked when it is saved (for a clear message) and again at every
delivery, against each address its name resolves to then, because what a name points to can change
after it was saved. Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from yarl import URL

MAX_URL = 2000
# names that never lead out of the local network
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".localdomain")


class BadTarget(ValueError):
    """The URL cannot be a webhook target; the message says why, for the form."""


# IPv6 ranges that carry an IPv4 address in their last 32 bits, so reach whatever that address is:
# NAT64's well-known prefix (RFC 6052) and the deprecated IPv4-compatible form (::a.b.c.d)
_LAST_32_BITS_IPV4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))
# NAT64's local-use prefix (RFC 8215): a site's own translator, never the public internet
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to through mapping, 6to4 or NAT64, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _LAST_32_BITS_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:
            return False
        # Python counts 64:ff9b::7f00:1 or 2002:7f00:1:: as global, though they lead to 127.0.0.1
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast


def ends_in_a_number(host: str) -> bool:
    """A host whose last label is a number is an IPv4 address to browsers and resolvers, in whatever
    form (127.1, 0x7f.1, 2130706433); no public name ends so, since top-level domains are letters."""
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return last.isdigit() or (last[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in last[2:]))


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL as it will be used, or BadTarget."""
    url = url.strip()
    if not url:
        raise BadTarget("Enter the receiver's URL.")
    if len(url) > MAX_URL:
        raise BadTarget(f"Keep the URL to {MAX_URL} characters or fewer.")
    try:
        parts = urlsplit(url)
        parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise BadTarget("This is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise BadTarget("The URL must start with http:// or https://.")
    host = (parts.hostname or "").lower()
    if not host:
        raise BadTarget("The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise BadTarget("Leave user names and passwords out of the URL; deliveries are signed instead.")
    if parts.fragment:
        raise BadTarget("Leave the #fragment out of the URL.")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise BadTarget("The URL contains spaces or control characters.")
    if allow_private:
        return url
    host = _host_as_sent(url)
    address = ip_literal(host)
    if address is not None:
        if not is_public(address):
            raise BadTarget("The URL points to a private, loopback or link-local address; webhooks go to public hosts only.")
        return url
    if ends_in_a_number(host):
        raise BadTarget("Write an IP address as four decimal numbers (like 203.0.113.7) or use a host name.")
    name = host.rstrip(".")  # a trailing dot names the same host
    if name == "localhost" or name.endswith(_LOCAL_SUFFIXES) or "." not in name:
        raise BadTarget("The URL must name a public host, not localhost or an intranet name.")
    return url


def _host_as_sent(url: str) -> str:
    """The host the HTTP client connects to. It maps a name through IDNA first, which turns ideographic
    and fullwidth full stops into dots and fullwidth digits into digits: "127.0.0。1" is sent as the IP
    address 127.0.0.1, which goes to no resolver, so only a check of this form of it can refuse it."""
    try:
        return (URL(url).raw_host or "").lower()
    except (ValueError, UnicodeError):
        raise BadTarget("This is not a valid URL.") from None
