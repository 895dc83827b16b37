"""Webhook signatures, the receiver's check, the retry schedule and which URLs may be targets: pure functions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chatserver.webhooks import addresses, signing
from chatserver.webhooks.worker import MAX_ATTEMPTS, retry_delay

SECRET = "whsec_known-vector-secret"
TIMESTAMP = 1767225600  # 2026-01-01T00:00:00Z
BODY = b'{"id":"dl_test","event":"ping","created_at":"2026-01-01T00:00:00.000Z","data":{}}'
# openssl: printf '%s' "1767225600.$BODY" | openssl dgst -sha256 -hmac whsec_known-vector-secret
KNOWN = "v1=6b77b12a2c0e886a5d01a146390a40e2fb3a1dd0280c28fe30503af7b1db6c1f"


def test_the_signature_matches_a_known_vector():
    assert signing.signature(SECRET, TIMESTAMP, BODY) == KNOWN


def test_headers_carry_event_delivery_timestamp_and_signature():
    headers = signing.headers(SECRET, event="ping", delivery_id="dl_test", timestamp=TIMESTAMP, body=BODY)
    assert headers == {
        "Content-Type": "application/json",
        "X-Chatserver-Event": "ping",
        "X-Chatserver-Delivery": "dl_test",
        "X-Chatserver-Timestamp": "1767225600",
        "X-Chatserver-Signature": KNOWN,
    }


def test_a_receiver_accepts_the_real_thing_within_five_minutes():
    assert signing.verify(SECRET, BODY, str(TIMESTAMP), KNOWN, now=TIMESTAMP + 299)
    assert signing.verify(SECRET, BODY, str(TIMESTAMP), KNOWN, now=TIMESTAMP - 299)
    # during a secret change a sender may send several; one match is enough
    assert signing.verify(SECRET, BODY, str(TIMESTAMP), f"v1=deadbeef, {KNOWN}", now=TIMESTAMP)


@pytest.mark.parametrize(
    "secret, body, timestamp, header, now",
    [
        ("whsec_other", BODY, str(TIMESTAMP), KNOWN, TIMESTAMP),  # another receiver's secret
        (SECRET, BODY.replace(b"ping", b"pong"), str(TIMESTAMP), KNOWN, TIMESTAMP),  # body changed on the way
        (SECRET, BODY, str(TIMESTAMP + 1), KNOWN, TIMESTAMP),  # timestamp changed: it is signed too
        (SECRET, BODY, str(TIMESTAMP), KNOWN, TIMESTAMP + 301),  # replayed too late
        (SECRET, BODY, str(TIMESTAMP), KNOWN, TIMESTAMP - 301),  # from the future
        (SECRET, BODY, "", KNOWN, TIMESTAMP),
        (SECRET, BODY, "-1", KNOWN, TIMESTAMP),
        (SECRET, BODY, "1767225600.5", KNOWN, TIMESTAMP),
        (SECRET, BODY, str(TIMESTAMP), None, TIMESTAMP),
        (SECRET, BODY, str(TIMESTAMP), KNOWN[3:], TIMESTAMP),  # the scheme prefix is part of it
        (SECRET, BODY, str(TIMESTAMP), "v1=ĳ", TIMESTAMP),  # non-ASCII must not crash the comparison
        (SECRET, BODY, "²", KNOWN, TIMESTAMP),  # a digit to isdigit(), not to int(): must not crash either
        # the right number in Arabic-Indic digits: int() reads it, but it is not the text that was signed
        (SECRET, BODY, "".join(chr(0x660 + int(d)) for d in str(TIMESTAMP)), KNOWN, TIMESTAMP),
    ],
)
def test_a_receiver_refuses_anything_else(secret, body, timestamp, header, now):
    assert not signing.verify(secret, body, timestamp, header, now=now)


def test_secrets_are_random_and_recognisable():
    first, second = signing.new_secret(), signing.new_secret()
    assert first != second and first.startswith("whsec_") and len(first) >= 6 + 43


def test_backoff_is_10s_1m_5m_30m_2h_6h_then_give_up():
    assert [retry_delay(n) for n in range(1, MAX_ATTEMPTS + 1)] == [
        timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5),
        timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6), None,
    ]
    assert MAX_ATTEMPTS == 7 and retry_delay(0) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example.com/hooks/chatserver", "http://93.184.215.14:8080/in?x=1", "https://[2a00:1450:4001::1]/x",
        "https://crm.example.com./x", "https://[64:ff9b::5db8:d70e]/x",  # a trailing dot; NAT64 to a public address
        "https://api2.example.com/v2", "https://1password.example/x",  # digits inside names are fine
        "https://bücher.example/x",  # an international name
    ],
)
def test_public_http_targets_are_accepted(url):
    assert addresses.check_url(f"  {url} ", allow_private=False) == url


@pytest.mark.parametrize(
    "url, says",
    [
        ("", "Enter"),
        ("ftp://example.com/x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https:///path", "no host"),
        ("https://user:pw@example.com/", "passwords"),
        ("https://example.com/#top", "fragment"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://exa mple.com/", "spaces"),
        ("http://127.0.0.1:8080/", "private, loopback"),
        ("http://[::1]/", "private, loopback"),
        ("http://[::ffff:127.0.0.1]/", "private, loopback"),
        ("http://10.1.2.3/", "private, loopback"),
        ("http://192.168.0.10/", "private, loopback"),
        ("http://169.254.169.254/latest/meta-data/", "private, loopback"),  # cloud metadata
        ("http://100.64.0.1/", "private, loopback"),
        ("http://0.0.0.0/", "private, loopback"),
        ("http://localhost:8080/", "public host"),
        ("http://api.localhost/", "public host"),
        ("http://redis.internal/", "public host"),
        ("http://metadata/", "public host"),
        ("http://2130706433/", "four decimal numbers"),  # 127.0.0.1 written as a number
        ("http://127.1/", "four decimal numbers"),  # and in the short form resolvers accept
        ("http://0x7f.0.0.1/", "four decimal numbers"),
        ("http://10.0.0.1./", "four decimal numbers"),
        ("http://foo.localhost./", "public host"),  # a trailing dot names the same host
        ("http://localhost./", "public host"),
        ("http://[64:ff9b::7f00:1]:8080/", "private, loopback"),  # NAT64 to 127.0.0.1
        ("http://[64:ff9b::a9fe:a9fe]/", "private, loopback"),  # NAT64 to the cloud metadata address
        ("http://[64:ff9b:1::a00:1]/", "private, loopback"),  # a site's own NAT64
        ("http://[2002:7f00:1::]/", "private, loopback"),  # 6to4 around 127.0.0.1
        ("http://[2002:a00:1::1]/", "private, loopback"),  # and around 10.0.0.1
        ("http://[::7f00:1]/", "private, loopback"),  # IPv4-compatible 127.0.0.1
        ("http://[::a9fe:a9fe]/", "private, loopback"),
        ("https://" + "a" * 2000 + ".com/", "2000"),
        # what IDNA makes of a name is what is sent: these full stops and digits become an IP address
        ("http://127.0.0\u30021:8080/", "private, loopback"),  # an ideographic full stop
        ("http://10\uff0e0\uff0e0\uff0e1/", "private, loopback"),  # fullwidth full stops
        ("http://169.254.169\uff61254/", "private, loopback"),  # a halfwidth ideographic one
        ("http://\uff11\uff12\uff17.0.0.1/", "private, loopback"),  # fullwidth digits
    ],
)
def test_other_targets_are_refused_with_a_reason(url, says):
    with pytest.raises(addresses.BadTarget) as refused:
        addresses.check_url(url, allow_private=False)
    assert says in str(refused.value)


def test_private_targets_are_allowed_only_when_the_setting_says_so():
    assert addresses.check_url("http://127.0.0.1:9000/hook", allow_private=True) == "http://127.0.0.1:9000/hook"
    with pytest.raises(addresses.BadTarget):
        addresses.check_url("file:///etc/passwd", allow_private=True)
