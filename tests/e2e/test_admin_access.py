"""Only admins reach /admin, and every admin form needs the session's CSRF token from this server's pages."""

from __future__ import annotations

import re

import pytest

from chatserver.services.admin.validate import TokenValues
from chatserver.store import users
from tests.admin_steps import ADA, Browserless, add_admin, text_of
from tests.conftest import RunningServer


def routes(server: RunningServer, ids: dict[str, str]) -> tuple[list[str], list[str]]:
    """Every /admin route the application has (webhooks included), with real ids where they matter."""
    real = {"user_id": ids["bob"], "slug": "withdrawals", "answer_id": "ca_en_hello", "article_id": "faq_en_limits",
            "token_id": ids["token"]}
    gets, posts = [], []
    for route in server.server.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if not (path == "/admin" or path.startswith("/admin/")):
            continue
        path = re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: real.get(m.group(1), "x_unknown"), path)
        if route.method == "GET":
            gets.append(path)
        elif route.method == "POST":
            posts.append(path)
    assert len(gets) >= 16 and len(posts) >= 16, (gets, posts)
    return gets, posts


@pytest.fixture
async def site(server: RunningServer) -> tuple[RunningServer, dict[str, str]]:
    ids = {}
    for name in ("bob", "sam"):
        row = await users.by_email(server.services.db, f"{name}@example.test")
        ids[name] = row["id"]  # type: ignore[index]
    ids["ada"] = await add_admin(server.services)
    ids["token"], _ = await server.services.admin.tokens.issue(ids["ada"], TokenValues(ids["sam"], "CRM sync"))
    return server, ids


async def unchanged(server: RunningServer, ids: dict[str, str]) -> None:
    bob = await server.services.admin.users.get(ids["bob"])
    assert bob["active"] and bob["name"] == "Bob" and bob["role"] == "agent"
    assert [t["revoked_at"] for t in await server.services.admin.tokens.list()] == [None]
    assert server.services.runtime.identity.source == "config"
    assert server.services.runtime.widget.overridden == frozenset()


@pytest.mark.parametrize("email", ["bob@example.test", "sam@example.test"])
async def test_agents_and_supervisors_get_403_on_every_admin_route(site, email):
    server, ids = site
    gets, posts = routes(server, ids)
    someone = await Browserless.login(server.url, email)
    try:
        for path in gets:
            status, page, _ = await someone.get(path)
            assert status == 403, (path, status)
            assert "Administration is for admins" in text_of(page)
        # their own session's token does not help: the role is checked first
        status, console, _ = await someone.get("/console")
        token = console.split('name="csrf-token" content="')[1].split('"')[0]
        for path in posts:
            status, _, _ = await someone.post(path, {"name": "x"}, csrf=token)
            assert status == 403, (path, status)
    finally:
        await someone.close()
    await unchanged(server, ids)


async def test_without_a_session_pages_redirect_to_sign_in_and_forms_do_nothing(site):
    server, ids = site
    gets, posts = routes(server, ids)
    anonymous = Browserless(server.url, "")
    try:
        for path in gets:
            status, _, response = await anonymous.get(path)
            assert status == 303 and response.headers["Location"] == f"/login?next={path}", (path, status)
        for path in posts:
            status, _, response = await anonymous.post(path, {"name": "x"}, csrf="anything")
            # a form post cannot be sent again after signing in: no way back to its address
            assert status == 303 and response.headers["Location"] == "/login", (path, status, response.headers["Location"])
    finally:
        await anonymous.close()
    await unchanged(server, ids)


async def test_every_admin_form_refuses_a_missing_or_wrong_csrf_token(site):
    server, ids = site
    _, posts = routes(server, ids)
    ada = await Browserless.login(server.url, ADA)
    try:
        for path in posts:
            for token in ("", "not-the-token"):
                status, page, _ = await ada.post(path, {"name": "Renamed", "password_mode": "generate"}, csrf=token)
                assert status == 403, (path, repr(token), status)
                assert "The form expired" in text_of(page)
        # a form another site makes the admin's browser send is refused even with the right token
        token = await ada.csrf()
        for path in posts:
            status, _, _ = await ada.post(
                path, {"name": "Renamed", "password_mode": "generate"}, csrf=token,
                headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
            )
            assert status == 403, (path, status)
    finally:
        await ada.close()
    await unchanged(server, ids)


async def test_admin_pages_are_not_cached_and_keep_the_page_policy(site):
    server, _ = site
    ada = await Browserless.login(server.url, ADA)
    try:
        status, _, response = await ada.get("/admin/users")
        assert status == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    finally:
        await ada.close()
