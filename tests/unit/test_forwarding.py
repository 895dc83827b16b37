"""Who the client is: forwarding headers count only from a trusted proxy, read right to left."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from chatserver.config import SettingsError, load_settings
from chatserver.transport.forwarding import TrustedProxies, limit_key, resolve

PROXY = TrustedProxies(["127.0.0.1", "10.0.0.0/8", "::1"])


def headers(*pairs: tuple[str, str]) -> CIMultiDict[str]:
    return CIMultiDict(pairs)


@pytest.mark.parametrize(
    "peer, sent, address, scheme, host, proxied",
    [
        # an untrusted peer: every forwarding header is ignored, whatever it says
        ("198.51.100.7", [("X-Forwarded-For", "127.0.0.1")], "198.51.100.7", "http", "chat.example", False),
        ("198.51.100.7", [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.example")], "198.51.100.7", "http", "chat.example", False),
        ("127.0.0.2", [("X-Forwarded-For", "203.0.113.9")], "127.0.0.2", "http", "chat.example", False),
        # a trusted proxy: the right-most hop that is not one of ours
        ("127.0.0.1", [("X-Forwarded-For", "203.0.113.9")], "203.0.113.9", "http", "chat.example", True),
        ("127.0.0.1", [("X-Forwarded-For", "1.2.3.4, 203.0.113.9")], "203.0.113.9", "http", "chat.example", True),
        ("127.0.0.1", [("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-For", "203.0.113.9, 10.1.2.3")], "203.0.113.9", "http", "chat.example", True),
        ("127.0.0.1", [("X-Forwarded-For", "10.9.9.9, 10.1.2.3")], "10.9.9.9", "http", "chat.example", True),
        ("::ffff:127.0.0.1", [("X-Forwarded-For", "2001:db8::5")], "2001:db8::5", "http", "chat.example", True),
        # a trusted proxy that forwards nothing, or nonsense: the proxy's own address, never a guess
        ("127.0.0.1", [], "127.0.0.1", "http", "chat.example", False),
        ("127.0.0.1", [("X-Forwarded-For", "1.2.3.4, not-an-address")], "127.0.0.1", "http", "chat.example", True),
        ("127.0.0.1", [("X-Forwarded-For", "203.0.113.9:4711")], "127.0.0.1", "http", "chat.example", True),
        # scheme and host: the nearest proxy's word, only http(s) and a plain host
        ("127.0.0.1", [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "support.example.com")], "127.0.0.1", "https", "support.example.com", True),
        ("127.0.0.1", [("X-Forwarded-Proto", "http, HTTPS")], "127.0.0.1", "https", "chat.example", True),
        ("127.0.0.1", [("X-Forwarded-Proto", "javascript")], "127.0.0.1", "http", "chat.example", True),
        ("127.0.0.1", [("X-Forwarded-Host", "evil.example/path@x")], "127.0.0.1", "http", "chat.example", True),
        ("127.0.0.1", [("X-Forwarded-Host", "[2001:db8::1]:8443")], "127.0.0.1", "http", "[2001:db8::1]:8443", True),
    ],
)
def test_forwarding_headers_count_only_from_a_trusted_proxy(peer, sent, address, scheme, host, proxied):
    client = resolve(peer, "http", "chat.example", headers(*sent), PROXY)
    assert (client.address, client.scheme, client.host, client.proxied) == (address, scheme, host, proxied)


def test_without_trusted_proxies_nothing_forwarded_is_believed():
    client = resolve("127.0.0.1", "http", "chat.example", headers(("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https")), TrustedProxies())
    assert (client.address, client.scheme, client.proxied) == ("127.0.0.1", "http", False)


def test_trusted_proxies_is_a_typed_setting_of_addresses_and_cidrs():
    settings = load_settings({"CHATSERVER_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
    assert load_settings({}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="trusted_proxies"):
        load_settings({"CHATSERVER_TRUSTED_PROXIES": "127.0.0.1,proxy.internal"})
    with pytest.raises(SettingsError, match="socket_connects_per_minute"):
        load_settings({"CHATSERVER_SOCKET_CONNECTS_PER_MINUTE": "0"})


@pytest.mark.parametrize(
    "address, key",
    [
        ("203.0.113.10", "203.0.113.10"),
        ("2001:db8:aa:1::1", "2001:db8:aa:1::/64"),
        ("2001:db8:aa:1:ffff:ffff:ffff:ffff", "2001:db8:aa:1::/64"),
        ("2001:db8:aa:2::1", "2001:db8:aa:2::/64"),
        ("::ffff:203.0.113.10", "203.0.113.10"),
        ("unknown", "unknown"),
    ],
)
def test_per_address_limits_count_ipv4_addresses_and_ipv6_64s(address, key):
    assert limit_key(address) == key
