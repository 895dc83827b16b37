"""Webhook signatures: HMAC-SHA256 over `"{timestamp}.{body}"`, and the check a receiver makes.

The timestamp is signed with the body, so a captured request cannot be replayed later than the
receiver's tolerance; the delivery id in the body lets a receiver drop the copies that
at-least-once delivery may bring.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from chatserver.domain.same_secret import same_secret

SCHEME = "v1"
TOLERANCE_SECONDS = 300
EVENT_HEADER = "X-Chatserver-Event"
DELIVERY_HEADER = "X-Chatserver-Delivery"
TIMESTAMP_HEADER = "X-Chatserver-Timestamp"
SIGNATURE_HEADER = "X-Chatserver-Signature"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """256 random bits, with a prefix that makes a leaked one easy to recognise."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def headers(secret: str, *, event: str, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str, body: bytes, timestamp: str | None, signature_header: str | None, *, now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver runs on the raw body (before parsing it): the signature matches and the
    timestamp is within `tolerance` seconds of `now`. Several `v1=` values (comma-separated) may be
    sent; one match is enough."""
    # ASCII digits only: isdigit() also takes "²", which int() refuses, and other scripts' digits,
    # which int() reads as the number although they are not the text that was signed
    if not timestamp or not signature_header or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    expected = signature(secret, int(timestamp), body)
    return any(same_secret(expected, part.strip()) for part in signature_header.split(","))
