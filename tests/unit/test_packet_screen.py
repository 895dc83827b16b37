"""Which long-polling bodies are Engine.IO payloads: the rest close their session (transport/server.py)."""

import pytest

from chatserver.transport.server import is_polling_payload


@pytest.mark.parametrize(
    ("body", "payload"),
    [
        (b"", True),
        (b"40/customer,", True),
        (b'40/customer,\x1e42/customer,1["complaint:list",{}]', True),
        (b"2\x1e3\x1e6", True),
        (b"bAAEC", True),  # base64 binary, as long-polling carries it
        ("4" + "é" * 10, True),
        (b"x", False),  # not a packet type
        (b"7hello", False),  # beyond Engine.IO's seven types
        (b"4\x1e", False),  # an empty packet after the separator
        (b"\x1e", False),
        (b"b!!!!", False),  # not base64
        ("bé", False),  # nor is text that is not ASCII, which base64 refuses before decoding
        ("4\x1eb４", False),
        (b"\xff\xfe", False),  # not UTF-8
        (b"d=40", False),  # JSONP, which no supported client sends
        (b"\x1e".join([b"6"] * 17), False),  # more packets than engineio decodes
    ],
)
def test_only_engineio_payloads_pass(body, payload):
    assert is_polling_payload(body.encode() if isinstance(body, str) else body) is payload
