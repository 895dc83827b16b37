"""Error pages on the real server: a person in a browser who opens an address we do not have, asks a page
the wrong way, or is refused a supervisors' page sees a small page in the product's look, with the same
security headers as every other page. API clients, scripts and Socket.IO keep exactly the answers they
had: aiohttp's plain text, or the JSON API's own error shape.

Cast: agent bob and supervisor sam (conftest), admin ada (added here).
"""

from __future__ import annotations

import aiohttp

from tests.admin_steps import ADA, add_admin
from tests.peers import login_cookie
from tests.security_headers import header_problems

# what Chromium sends when a person opens an address
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
# what other clients send: aiohttp's and curl's default, a JSON client, nothing at all
NOT_BROWSERS = ("*/*", "application/json", "text/html;q=0", None)


async def fetch(url: str, method: str = "GET", accept: str | None = BROWSER, cookie: str | None = None) -> tuple[int, dict[str, str], str]:
    headers = {"Accept": accept} if accept is not None else {"Accept": ""}
    if cookie:
        headers["Cookie"] = cookie
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), skip_auto_headers=("Accept",)) as http:
        async with http.request(method, url, headers=headers, allow_redirects=False) as response:
            return response.status, dict(response.headers), await response.text()


def assert_a_page(path: str, headers: dict[str, str], body: str) -> None:
    assert headers["Content-Type"].startswith("text/html"), headers
    assert header_problems(path, headers) == []
    assert headers.get("Cache-Control") == "no-store"
    assert 'class="auth-card"' in body and "Chatserver" in body
    assert "<script" not in body  # a card and its stylesheet, nothing to run


async def test_a_browser_opening_an_unknown_address_sees_a_page_not_found(server):
    for path in ("/nope", "/no/such/page?x=1", "/widget/assets/no-such-file.js", "/reports/nope"):
        status, headers, body = await fetch(server.url + path)
        assert status == 404, path
        assert_a_page(path, headers, body)
        assert "<h1>Page not found</h1>" in body
        assert 'href="/"' in body and 'href="/console"' in body
        assert "404: Not Found" not in body
    # under /track/ the address may carry a key: the page is styled and still sends no referrer
    status, headers, body = await fetch(server.url + "/track/CX-0000/no-such-form?key=secret")
    assert status == 404
    assert_a_page("/track/CX-0000/no-such-form", headers, body)
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "secret" not in body
    # a HEAD gets the same status and headers without the page
    status, headers, body = await fetch(server.url + "/nope", method="HEAD")
    assert (status, body) == (404, "") and headers["Content-Type"].startswith("text/html")


async def test_what_a_handler_said_about_the_missing_thing_stays_on_the_page(server):
    await add_admin(server.services)
    admin = await login_cookie(server.url, ADA)
    status, headers, body = await fetch(server.url + "/admin/users/no-such-user", cookie=admin)
    assert status == 404
    assert_a_page("/admin/users/no-such-user", headers, body)
    assert "<h1>Page not found</h1>" in body and "No such user." in body
    # the same refusal to a client that did not ask for HTML is the plain text it always was
    status, headers, body = await fetch(server.url + "/admin/users/no-such-user", accept="*/*", cookie=admin)
    assert (status, headers["Content-Type"].split(";")[0], body) == (404, "text/plain", "No such user.")


async def test_a_page_asked_the_wrong_way_answers_405_as_a_page_with_the_allowed_methods(server):
    status, headers, body = await fetch(server.url + "/console", method="DELETE")
    assert status == 405
    assert_a_page("/console", headers, body)
    assert "This page cannot do that" in body
    assert set(headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    status, headers, body = await fetch(server.url + "/login", method="PUT")
    assert status == 405 and "POST" in headers["Allow"]
    assert_a_page("/login", headers, body)


async def test_clients_that_do_not_ask_for_html_keep_the_plain_answers(server):
    for accept in NOT_BROWSERS:
        status, headers, body = await fetch(server.url + "/nope", accept=accept)
        assert (status, headers["Content-Type"].split(";")[0], body) == (404, "text/plain", "404: Not Found"), accept
        assert header_problems("/nope", headers) == []
        status, headers, body = await fetch(server.url + "/console", method="DELETE", accept=accept)
        assert (status, headers["Content-Type"].split(";")[0], body) == (405, "text/plain", "405: Method Not Allowed"), accept
        assert header_problems("/console", headers) == []


async def test_the_api_and_socket_io_answer_a_browser_as_they_answer_everyone(server):
    """The JSON API's 404 and 405 stay in the contract's error shape; Socket.IO's answers are its own."""
    for method, path in (
        ("GET", "/api/nope"), ("GET", "/api"), ("DELETE", "/api/complaints"), ("GET", "/api/complaints/CX-NOPE"),
    ):
        as_browser = await fetch(server.url + path, method=method)
        as_client = await fetch(server.url + path, method=method, accept="application/json")
        assert as_browser[0] in (401, 404, 405), (path, as_browser)
        assert as_browser[1]["Content-Type"].startswith("application/json"), path
        assert (as_browser[0], as_browser[2]) == (as_client[0], as_client[2]), path
        assert '"error"' in as_browser[2] and "Page not found" not in as_browser[2]
    status, _, body = await fetch(server.url + "/api/nope")
    assert status == 404 and body == '{"error": {"code": "not_found", "message": "no such API route"}}'
    for method, path in (("GET", "/socket.io/"), ("GET", "/socket.io/nope"), ("DELETE", "/socket.io/"), ("GET", "/socket.io")):
        as_browser = await fetch(server.url + path, method=method)
        as_client = await fetch(server.url + path, method=method, accept="*/*")
        assert (as_browser[0], as_browser[1].get("Content-Type"), as_browser[2]) == (
            as_client[0], as_client[1].get("Content-Type"), as_client[2]
        ), path
        assert "Page not found" not in as_browser[2]


async def test_an_agent_refused_a_supervisors_page_sees_the_not_allowed_page(server):
    agent = await login_cookie(server.url, "bob@example.test")
    for path in ("/reports", "/reports?from=2026-11-01&to=2026-11-07", "/monitor"):
        for accept in (BROWSER, "*/*"):  # the refusal is a page for everyone who has a console session
            status, headers, body = await fetch(server.url + path, accept=accept, cookie=agent)
            assert status == 403, path
            assert_a_page(path.split("?")[0], headers, body)
            assert "You cannot open this page" in body
            assert "This page is for supervisors and admins. Your role is agent." in body
            assert 'href="/console"' in body and "Back to the console" in body
            assert "data-kpi" not in body
    # a supervisor still gets the page itself
    supervisor = await login_cookie(server.url, "sam@example.test")
    status, _, body = await fetch(server.url + "/reports", cookie=supervisor)
    assert status == 200 and "<h1>Reports</h1>" in body
