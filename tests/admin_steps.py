"""An admin in a real HTTP client: signed in through the form, reading pages and posting their forms
with the CSRF token each page carries. Cast: admin ada, added next to conftest's bob, carol and sam."""

from __future__ import annotations

import html
import re
from typing import Any

import aiohttp

from chatserver.services.container import Services
from tests.peers import CAST_PASSWORD, login_cookie

ADA = "ada@example.test"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def add_admin(services: Services, email: str = ADA, name: str = "Ada") -> str:
    row = await services.auth.create_user(email=email, name=name, role="admin", password=CAST_PASSWORD, max_chats=2)
    await services.dispatcher.refresh_agent(row["id"])
    return row["id"]


class Browserless:
    """Someone's console cookie in an aiohttp session that neither follows redirects nor keeps cookies."""

    def __init__(self, base_url: str, cookie: str) -> None:
        self.base_url = base_url
        self.http = aiohttp.ClientSession(headers={"Cookie": cookie}, cookie_jar=aiohttp.DummyCookieJar())
        self.last_page = ""

    @classmethod
    async def login(cls, base_url: str, email: str, password: str = CAST_PASSWORD) -> "Browserless":
        return cls(base_url, await login_cookie(base_url, email, password))

    async def get(self, path: str) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(self.base_url + path, allow_redirects=False) as response:
            text = await response.text()
        if response.status == 200:
            self.last_page = text
        return response.status, text, response

    async def csrf(self, path: str = "/admin/users") -> str:
        status, text, _ = await self.get(path)
        assert status == 200, (path, status, text[:300])
        return CSRF.search(text).group(1)  # type: ignore[union-attr]

    async def post(self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, *,
                   csrf: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, str, aiohttp.ClientResponse]:
        """Post a form; the token comes from the admin's users page unless given ('' sends none)."""
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        token = await self.csrf() if csrf is None else csrf
        if token:
            fields.append(("csrf_token", token))
        async with self.http.post(self.base_url + path, data=fields, allow_redirects=False, headers=headers or {}) as response:
            text = await response.text()
        return response.status, text, response

    async def submit(self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None) -> str:
        """Post, expect the redirect, follow it, return the page it shows (with its notice)."""
        status, text, response = await self.post(path, data)
        assert status == 303, (path, status, notices_and_errors(text))
        location = response.headers["Location"]
        status, page, _ = await self.get(location)
        assert status == 200, (location, status)
        return page

    async def close(self) -> None:
        await self.http.close()


def text_of(page: str) -> str:
    """The page's visible words, for asserting on messages."""
    without_tags = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S))
    return re.sub(r"\s+", " ", html.unescape(without_tags)).strip()


def field_errors(page: str) -> dict[str, str]:
    """Each field's error message, by field name."""
    return {
        name: html.unescape(message)
        for name, message in re.findall(r'<p class="field-error" id="e-([\w]+)">([^<]*)</p>', page)
    }


def notices_and_errors(page: str) -> list[str]:
    found = re.findall(r'<div class="notice[^"]*"[^>]*>\s*<p>([^<]*)</p>', page)
    return [html.unescape(n) for n in found] + [f"{k}: {v}" for k, v in field_errors(page).items()]


def notices(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<div class="notice[^"]*"[^>]*>\s*<p>([^<]*)</p>', page)]


def shown_secret(page: str) -> str:
    match = re.search(r'class="secret-value" type="text" value="([^"]+)"', page)
    assert match, notices_and_errors(page)
    return html.unescape(match.group(1))


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input id="f-{name}" name="{name}" type="[^"]+" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def textarea_value(page: str, name: str) -> str | None:
    match = re.search(rf'<textarea id="f-{name}" name="{name}"[^>]*>([^<]*)</textarea>', page)
    return html.unescape(match.group(1)) if match else None


def user_id_in(page: str, name: str) -> str:
    match = re.search(rf'href="/admin/users/(u_[^"]+)">{re.escape(name)}</a>', page)
    assert match, f"no user {name} on the page"
    return match.group(1)
