"""Text that is no Unicode (what a decoder may make of a request's bytes: lone surrogates) or that holds
a NUL: refused as the client's fault, never reaching a store, a page or a comparison that would fail on it."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests import hostile
from tests.admin_steps import ADA, Browserless, add_admin
from tests.complaint_steps import tracked

# "\ud800" in UTF-7 ("+2AA-", its "+" percent-encoded) and as a Python escape
SURROGATE_CHARSETS = [("utf-7", "%2B2AA-"), ("unicode_escape", "%5Cud800")]


def errors_since(caplog: pytest.LogCaptureFixture, logged: int) -> list[str]:
    return [r.getMessage() for r in caplog.records[logged:] if r.levelno >= logging.ERROR]


async def raw_request(url: str, target: bytes, headers: bytes, method: bytes = b"GET", body: bytes = b"") -> tuple[int, bytes]:
    """One request with header bytes as given (an HTTP client would encode them): the status and the body."""
    where = urlsplit(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        writer.write(
            method + b" " + target + b" HTTP/1.1\r\nHost: " + where.netloc.encode() + b"\r\nConnection: close\r\n"
            + headers + b"Content-Length: %d\r\n\r\n" % len(body) + body
        )
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), content


async def refused_writing_nothing(http, url: str, db: Path, caplog: pytest.LogCaptureFixture, reason: str, **post) -> None:
    """The form at `url` is answered 400 saying `reason`, with no error logged and not a row changed."""
    before, logged = hostile.fingerprint(db), len(caplog.records)
    async with http.post(url, allow_redirects=False, **post) as response:
        text = await response.text()
    assert response.status == 400 and reason in text, (url, response.status, text[:300])
    assert not errors_since(caplog, logged), url
    assert hostile.fingerprint(db) == before, url


def multipart_in(charset: str, fields: dict[str, str]) -> bytes:
    parts = [
        f'--b\r\nContent-Disposition: form-data; name="{name}"\r\nContent-Type: text/plain; charset={charset}\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return ("".join(parts) + "--b--\r\n").encode()


@pytest.mark.parametrize("charset, surrogate", SURROGATE_CHARSETS)
async def test_a_form_whose_charset_decodes_to_lone_surrogates_is_refused_and_writes_nothing(server, caplog, charset, surrogate):
    reference, key = await tracked(server.url, server.services)
    await add_admin(server.services)
    admin = await Browserless.login(server.url, ADA)
    visitor = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    db = Path(server.settings.db)
    try:
        forms = [
            (visitor, f"/track/{reference}/reply", f"key={key}&body={surrogate}"),
            (admin.http, "/admin/canned", f"shortcut=hi&locale=en&title={surrogate}&body=Hello&active=on&csrf_token={await admin.csrf()}"),
            (admin.http, "/admin/widget", f"brand_color=%23112233&greeting_en={surrogate}&queue_timeout=60&csrf_token={await admin.csrf()}"),
        ]
        for http, path, body in forms:
            await refused_writing_nothing(
                http, server.url + path, db, caplog, "not Unicode text", data=body.encode(),
                headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}", "Origin": server.url},
            )
    finally:
        await visitor.close()
        await admin.http.close()


async def test_a_multipart_field_whose_charset_decodes_to_lone_surrogates_is_refused(server, caplog):
    reference, key = await tracked(server.url, server.services)
    db = Path(server.settings.db)
    before, logged = hostile.fingerprint(db), len(caplog.records)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.post(
            f"{server.url}/track/{reference}/reply", data=multipart_in("utf-7", {"key": key, "body": "+2AA-"}),
            headers={"Content-Type": "multipart/form-data; boundary=b", "Origin": server.url},
        ) as response:
            assert response.status == 400 and "not Unicode text" in await response.text()
    assert not errors_since(caplog, logged)
    assert hostile.fingerprint(db) == before


async def test_a_form_with_a_nul_character_is_refused_and_writes_nothing(server, caplog):
    """The sockets refuse NUL in every text; a form must not store one either: a canned answer holding
    it could never be sent in a chat, and a rating comment carries it into the CSV export."""
    reference, key = await tracked(server.url, server.services)
    await add_admin(server.services)
    admin = await Browserless.login(server.url, ADA)
    db = Path(server.settings.db)
    try:
        for path, fields in [
            (f"/track/{reference}/reply", {"key": key, "body": "Still\x00waiting"}),
            (f"/track/{reference}/rate", {"key": key, "score": "4", "comment": "ok\x00"}),
            ("/admin/canned", {"shortcut": "nul", "locale": "en", "title": "Hello", "body": "Hello\x00there", "active": "on"}),
        ]:
            token = {"csrf_token": await admin.csrf()} if path.startswith("/admin") else {}
            await refused_writing_nothing(
                admin.http, server.url + path, db, caplog, "NUL character", data={**fields, **token}, headers={"Origin": server.url},
            )
    finally:
        await admin.http.close()


async def test_a_form_in_another_real_charset_is_still_read(server):
    """Latin-1 decodes to proper text: the customer's words arrive as they wrote them."""
    reference, key = await tracked(server.url, server.services)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.post(
            f"{server.url}/track/{reference}/reply", data=f"key={key}&body=Gr%FC%DFe".encode(), allow_redirects=False,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=latin-1", "Origin": server.url},
        ) as response:
            assert response.status == 303, await response.text()
    view, _ = await server.services.complaints.track(reference, key)
    assert any(entry.get("body") == "Grüße" for entry in view["entries"]), view["entries"]


# what aiohttp makes of header bytes that are not UTF-8: lone surrogates ("\udcff\udcfe")
NOT_UTF8 = b"\xff\xfe"


@pytest.mark.parametrize("path, refused", [
    ("/console", 303), ("/admin/users", 303), ("/reports", 303), ("/api/complaints", 401), ("/reports/export/chats.csv", 401),
])
async def test_a_session_cookie_whose_bytes_are_not_utf8_is_no_session(server, caplog, path, refused):
    for cookie in (b"cs_session=" + NOT_UTF8 + b".abc", b'cs_session="' + NOT_UTF8 + b'.abc"'):
        logged = len(caplog.records)
        status, _ = await raw_request(server.url, path.encode(), b"Cookie: " + cookie + b"\r\n")
        assert status == refused, (path, cookie, status)
        assert not errors_since(caplog, logged), (path, cookie)


async def test_a_console_socket_with_a_session_cookie_whose_bytes_are_not_utf8_is_unauthorized(server, caplog):
    cookie = b'Cookie: cs_session="' + NOT_UTF8 + b'.abc"\r\n'
    logged = len(caplog.records)
    _, opened = await raw_request(server.url, b"/socket.io/?EIO=4&transport=polling", cookie)
    target = b"/socket.io/?EIO=4&transport=polling&sid=" + re.search(rb'"sid":"([^"]+)"', opened).group(1)  # type: ignore[union-attr]
    status, _ = await raw_request(server.url, target, cookie + b"Content-Type: text/plain\r\n", b"POST", b"40/agent,{}")
    assert status == 200
    _, answer = await raw_request(server.url, target, cookie)
    assert b'44/agent,' in answer and b'"code":"unauthorized"' in answer, answer
    assert not errors_since(caplog, logged)


@pytest.mark.parametrize("path", ["/api/complaints", "/api/reports/summary", "/reports/export/complaints.csv"])
async def test_an_api_token_whose_bytes_are_not_utf8_is_unauthorized(server, caplog, path):
    logged = len(caplog.records)
    status, body = await raw_request(server.url, path.encode(), b"Authorization: Bearer " + NOT_UTF8 + b"\r\n")
    assert status == 401 and b'"code": "unauthorized"' in body, (status, body)
    assert not errors_since(caplog, logged)


async def test_a_sign_in_token_cookie_whose_bytes_are_not_utf8_is_replaced_by_a_fresh_one(server, caplog):
    logged = len(caplog.records)
    status, page = await raw_request(server.url, b"/login", b"Cookie: cs_csrf=" + NOT_UTF8 + b"\r\n")
    assert status == 200 and re.search(rb'name="csrf_token" value="[A-Za-z0-9_-]{43}"', page), page[:500]
    assert not errors_since(caplog, logged)
