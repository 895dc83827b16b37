"""Property-based fuzzing of every page and form route: sign-in, the console and monitor pages, every
admin page and form, reports and exports, the tracking page and its forms, the widget's endpoints,
health and metrics. (The JSON API under /api is fuzzed from its OpenAPI document in test_fuzz_api.py,
the Socket.IO endpoint in test_fuzz_frames.py and test_fuzz_sockets.py.)

The routes come from the running application, so a new page is fuzzed without touching this file.
Form fields and the values a form offers come from the forms on the server's own pages, crawled first,
so that requests get past "unknown field" to the handlers' own checks. Each request is drawn by
Hypothesis: path segments (live ids, traversal, NUL, invalid UTF-8), query strings (invalid percent
escapes too), bodies (urlencoded and multipart with files, invalid UTF-8, unknown charsets, broken
multipart, JSON under a form type, nothing, more than the size cap), cookies, `Host`, `Origin`,
`Referer` and `Accept-Language`, sent as the right person, as nobody or with a forged session.

Properties: no answer is a 5xx and no handler logs an error; every answer, refusals and redirects
included, carries the security headers (tests/security_headers.py); a refusal says why; a refused form and
any GET write nothing; a canary chat and the admin's pages keep working; afterwards the database is
consistent and the router's memory agrees with it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import aiohttp
import pytest
from hypothesis import strategies as st
from yarl import URL

from chatserver.services.admin.validate import TokenValues
from chatserver.transport import cookies
from tests import hostile, peers
from tests.admin_steps import ADA, add_admin
from tests.complaint_steps import closed, resolved, staff, submit
from tests.conftest import RunningServer, StartServer, seed_cast
from tests.peers import CAST_PASSWORD, Canary, login_cookie
from tests.procs import create_users
from tests.security_headers import header_problems

PER_ROUTE = 40
ELSEWHERE = ("/api/", "/socket.io/", "/static/")  # fuzzed by their own tests, or aiohttp's static files
# tables only background work writes (health probes, the outboxes, SLA sweeps, routing records)
QUERY_NAMES = ["next", "lang", "done", "key", "endpoint", "locale", "q", "color", "host", "preset", "from", "to",
               "category", "agent", "level", "channel"]
PLAUSIBLE_QUERY = {
    "lang": ["en", "ru", "pl", "de"], "locale": ["en", "ru", "pl", "xx"], "done": ["replied", "accepted", "rated", "x"],
    "next": ["/console", "/admin/users", "//evil.example", "/\\evil.example", "javascript:alert(1)"],
    "preset": ["today", "7d", "30d", "month", "custom", "year"], "from": ["2026-01-01", "2026-13-45", "0000-00-00"],
    "to": ["2026-12-31", "2026-02-30"], "level": ["1", "3", "4", "-1"], "color": ["#0a7", "#00aa77", "red"],
    "host": ["https://casino.example", "javascript:x"],
}
RAW_QUERIES = ["%", "%zz", "%ff%fe", "a=%00", "key=%E0%80%80", "=&&=&", "next=%2F%2Fevil.example", "lang[]=en&lang=ru",
               "x" * 5000, "a=" + "%41" * 3000]
MAX_REQUEST_LINE = 8190  # aiohttp's max_line_size
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\x7f"), max_size=40)
HOSTS = ["[::1", "evil.example", "127.0.0.1:99999", "a b", "", "xn--", "[fe80::1%25eth0]:80"]
REFERERS = ["http://[::1", "http://", "::::", "http://evil.example/", "null", "%ff", "http://[zz]/x"]

# reads that write their own audit record (GET /reports/export/*.csv): checked for exactly that
RECORDED_READS = frozenset({"/reports/export/complaints.csv", "/reports/export/chats.csv"})
AUDIT = frozenset({"audit_events"})


def exports_recorded(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM audit_events WHERE action = 'user.exported'").fetchone()[0]
    finally:
        conn.close()


# -- the server and what it holds ----------------------------------------------------------------------


@dataclass
class Site:
    server: RunningServer
    admin_cookie: str
    pools: dict[str, list[str]]  # live values by path parameter name
    keys: dict[str, str]  # tracking key by reference
    csrf: str = ""  # the admin session's form token
    forms: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # route pattern -> field -> values offered
    answers: Counter[str] = field(default_factory=Counter)


@pytest.fixture
async def site(start_server: StartServer) -> Site:
    # every request comes "from" a fresh address behind this trusted proxy, so that the per-address
    # limits answer only what they are for; they are proven in test_rate_limits.py
    # the fuzz customer's chat waits (they left, so routing passes it over) for the whole run: its
    # deadline turning it into a complaint would be a write landing in the middle of some request
    server = await start_server(trusted_proxies=("127.0.0.1",), webhook_allow_private=True, queue_timeout=3600.0)
    await seed_cast(server.services)
    await add_admin(server.services)
    services = server.services
    # the people the admin's forms act on: not the admin, not the canary's agent
    targets = await seed_cast(services, [
        ("tess@example.test", "Tess", "agent", 2), ("tom@example.test", "Tom", "supervisor", 2),
        ("ida@example.test", "Ida", "admin", 2),
    ])
    ada = await staff(services, ADA)
    token_ids = [(await services.admin.tokens.issue(ada.id, TokenValues(tid, f"fuzz {n}")))[0]
                 for n, tid in enumerate(targets.values())]
    endpoint, _ = await services.webhooks.register(ada, url="http://127.0.0.1:9/hook", events=["complaint.created"])
    customer = await peers.customer(server.url)
    try:
        await customer.call("chat:start", {"name": "Fuzz", "topic": "withdrawals"})
        complaints = [await submit(customer), await resolved(services, customer), await closed(services, customer)]
    finally:
        await customer.close()
    references = [c["reference"] for c in complaints]
    rows = {
        name: [r["key"] for r in await services.db.fetch(f"SELECT {column} AS key FROM {table} ORDER BY {column}")]
        for name, table, column in [
            ("slug", "categories", "slug"), ("answer_id", "canned_answers", "id"), ("article_id", "faq_articles", "id"),
        ]
    }
    pools = {
        "user_id": list(targets.values()), "token_id": token_ids, "endpoint_id": [endpoint["id"]],
        "reference": references, **rows,
        "path": ["loader.js", "app/main.js", "app/frame.css", "i18n/en.json", "i18n/ru.json"],
    }
    keys = {ref: services.complaints.tracking_key(ref) for ref in references}
    return Site(server, await login_cookie(server.url, ADA), pools, keys)


# -- the routes and their forms --------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # aiohttp's canonical path, e.g. /admin/users/{user_id}

    @property
    def params(self) -> list[tuple[str, str]]:
        """(name, regex) of each path parameter."""
        return [(m.group(1), m.group(2) or "[^/]+") for m in re.finditer(r"\{(\w+)(?::([^}]*))?\}", self.pattern)]

    def matches(self, path: str) -> bool:
        literal = re.split(r"\{\w+(?::[^}]*)?\}", self.pattern)
        params = [f"(?:{regex})" for _, regex in self.params] + [""]
        return re.fullmatch("".join(re.escape(part) + param for part, param in zip(literal, params)), path) is not None

    @property
    def who(self) -> str:
        """Who makes this route's requests when they come from the right person."""
        if self.pattern == "/logout":
            return "fresh-admin"  # a session of its own: a logout ends the session it comes with
        if self.pattern == "/login":
            return "login"
        if self.pattern.startswith(("/admin", "/reports", "/monitor", "/console")):
            return "admin"
        return "anyone"


def routes(server: RunningServer) -> list[Route]:
    found = set()
    for route in server.server.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in ("GET", "POST") and not path.startswith(ELSEWHERE) and path != "/socket.io":
            found.add(Route(route.method, path))
    return sorted(found, key=lambda r: (r.pattern, r.method))


class FormReader(HTMLParser):
    """Each form's action, method and fields, with the values the page offers for them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, list[str]]]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), a.get("method", "get").lower(), {}))
        elif not self.forms:
            return
        elif tag in ("input", "button") and a.get("name"):
            self.forms[-1][2].setdefault(a["name"], []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select":
            self._select = a.get("name")
            if self._select:
                self.forms[-1][2].setdefault(self._select, [])
        elif tag == "option" and self._select:
            self.forms[-1][2][self._select].append(a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1][2].setdefault(a["name"], [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms and data.strip():
            self.forms[-1][2][self._textarea].append(data)


async def crawl(site: Site, http: aiohttp.ClientSession, all_routes: list[Route]) -> None:
    """Read every GET page with live values, as the admin (and the tracking pages with their keys), and
    note each form's fields under the route its action goes to."""
    pages = []
    for route in all_routes:
        if route.method != "GET" or route.who not in ("admin", "anyone", "login"):
            continue
        values = {name: site.pools.get(name, ["x"]) for name, _ in route.params}
        for n in range(max([len(v) for v in values.values()] or [1])):
            path = route.pattern
            for name, _ in route.params:
                path = re.sub(r"\{" + name + r"(?::[^}]*)?\}", quote(values[name][n % len(values[name])]), path)
            if route.pattern.startswith("/track/"):
                path += "?key=" + site.keys.get(values["reference"][n % len(values["reference"])], "")
            pages.append(path)
    for path in pages:
        async with http.get(site.server.url + path, headers={"Cookie": site.admin_cookie}, allow_redirects=False) as response:
            if "html" not in response.headers.get("Content-Type", ""):
                continue
            text = await response.text()
        reader = FormReader()
        reader.feed(text)
        for action, method, fields in reader.forms:
            target = urlsplit(action or path).path
            for route in all_routes:
                if route.method == method.upper() and route.matches(target):
                    known = site.forms.setdefault(route.pattern + " " + route.method, {})
                    for name, offered in fields.items():
                        known.setdefault(name, [])
                        known[name].extend(v for v in offered if v not in known[name])
            if "csrf_token" in fields and action.startswith("/admin"):
                site.csrf = fields["csrf_token"][0]
    assert site.csrf, "no admin form carried a CSRF token"


# -- drawing requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Live:
    """A value that exists only on the running server: an id from a pool, a tracking key, a CSRF token."""

    kind: str
    pick: int = 0


@dataclass(frozen=True)
class Shape:
    who: str  # "right", "nobody" or "forged"
    path: tuple[Any, ...]  # one value per path parameter
    query: Any  # [(name, value)] or a raw query string
    body: tuple[str, Any]  # (kind, [(name, value)] or bytes)
    headers: tuple[tuple[str, str], ...]


form_text = st.one_of(
    hostile.odd_text, st.sampled_from(hostile.INJECTIONS), st.text(max_size=30),
    hostile.long_text.map(lambda s: s[:20_000]),
)


def value_for(name: str, offered: list[str]) -> st.SearchStrategy[Any]:
    if name == "csrf_token":
        return hostile.weighted((st.just(Live("csrf")), 9), (form_text, 1))
    if name == "key":
        return hostile.weighted((st.just(Live("key")), 9), (form_text, 1))
    seen = [v for v in offered if v] + PLAUSIBLE_QUERY.get(name, [])
    if name in ("email",):
        seen += [ADA, "tess@example.test", "a@b", "x@evil.example\r\nBcc: y@evil.example"]
    if name in ("password", "new_password"):
        seen += [CAST_PASSWORD, "short", "a-long-enough-password"]
    plausible = st.sampled_from(seen) if seen else st.text(min_size=1, max_size=40)
    return hostile.weighted((plausible, 3), (form_text, 2))


def pairs_for(fields: dict[str, list[str]], extra_names: list[str]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """Form or query pairs: all known fields plausibly filled, one of them hostile, or any mix with
    repeated and unknown names."""
    names = sorted(fields)
    looks_valid = st.tuples(*[value_for(n, fields[n]) for n in names]).map(lambda vs: list(zip(names, vs))) if names else st.just([])
    one_wrong = st.builds(
        lambda pairs, at, value: [(k, value if i == at else v) for i, (k, v) in enumerate(pairs)],
        looks_valid, st.integers(0, max(len(names) - 1, 0)), form_text,
    )
    any_name = st.one_of(st.sampled_from(names + extra_names + ["csrf_token"]), hostile.odd_text)
    mixed = st.lists(st.tuples(any_name, st.one_of(form_text, st.sampled_from(sum(fields.values(), []) or ["x"]))), max_size=8)
    repeated = looks_valid.flatmap(lambda pairs: st.just(pairs + pairs[:2]))
    return hostile.weighted((looks_valid, 5), (one_wrong, 5), (mixed, 3), (repeated, 1))


BODY_KINDS = ["form"] * 6 + ["multipart"] * 2 + ["garbage", "charset", "broken-multipart", "json", "none"]


def shapes(route: Route, fields: dict[str, list[str]], query_fields: dict[str, list[str]]) -> st.SearchStrategy[Shape]:
    path = st.tuples(*[
        hostile.weighted((st.integers(0, 50).map(lambda n, k=name: Live(k, n)), 6), (path_text, 4))
        for name, _ in route.params
    ]) if route.params else st.just(())
    query_names = {**{n: [] for n in QUERY_NAMES}, **query_fields}
    query = hostile.weighted(
        (st.just([]), 3),
        (pairs_for(query_fields, QUERY_NAMES) if query_fields else st.just([]), 3),
        (st.lists(st.tuples(st.sampled_from(sorted(query_names)), st.one_of(
            *[value_for(n, v) for n, v in sorted(query_names.items())])), max_size=4), 3),
        (st.sampled_from(RAW_QUERIES), 1),
    )
    if route.method == "POST":
        body = st.sampled_from(BODY_KINDS).flatmap(lambda kind: (
            pairs_for(fields, []).map(lambda pairs: (kind, pairs)) if kind in ("form", "multipart", "charset")
            else st.just((kind, b""))
        ))
    else:
        body = st.just(("none", b""))
    headers = st.lists(st.one_of(
        st.tuples(st.just("Accept-Language"), HEADER_TEXT),
        st.tuples(st.just("Host"), st.sampled_from(HOSTS)),
        st.tuples(st.just("Origin"), st.sampled_from(["null", "http://evil.example", "%ff", "http://[::1"])),
        st.tuples(st.just("Referer"), st.sampled_from(REFERERS)),
        st.tuples(st.just("Sec-Fetch-Site"), st.sampled_from(["cross-site", "same-origin", "none", "\u00e9"])),
        st.tuples(st.just("Cookie"), st.builds(lambda name, text: f"{name}={text}",
                                               st.sampled_from([cookies.SESSION_COOKIE, cookies.CSRF_COOKIE]), HEADER_TEXT)),
        st.tuples(st.just("X-Forwarded-For"), HEADER_TEXT),
    ), max_size=2).map(tuple)
    no_headers = st.just(())
    who = hostile.weighted((st.just("right"), 8), (st.just("nobody"), 1), (st.just("forged"), 1))
    return st.builds(Shape, who, path, query, body, hostile.weighted((no_headers, 3), (headers, 1)))


# sent to every path parameter of every route, besides the drawn values
PATH_PROBES = ["..", "../../chatserver/app.py", "..%2f..%2fetc%2fpasswd", "a\x00.js", "app/a\x00.js", "\x00", "x" * 2000,
               ".", "\ud800", "%", "i18n/../../widget/loader.js", "' OR 1=1--", ""]
path_text = st.one_of(hostile.odd_text, st.sampled_from(hostile.INJECTIONS + PATH_PROBES), st.text(max_size=20))


def probes(route: Route, fields: dict[str, list[str]]) -> list[Shape]:
    """Every path probe in every path parameter, and every kind of body a POST can be, once each."""
    plausible = [(name, Live("csrf") if name == "csrf_token" else Live("key") if name == "key" else (values or ["x"])[0])
                 for name, values in sorted(fields.items())]
    body = ("form", plausible) if route.method == "POST" else ("none", b"")
    found = [
        Shape("right", tuple(probe if n == at else Live(name) for n, (name, _) in enumerate(route.params)), [], body, ())
        for at in range(len(route.params)) for probe in PATH_PROBES
    ]
    if route.method == "POST":
        live = tuple(Live(name) for name, _ in route.params)
        found += [Shape("right", live, [], (kind, plausible), ()) for kind in sorted(set(BODY_KINDS))]
    return found


# -- sending ---------------------------------------------------------------------------------------------


def encoded(text: Any, safe: str = "") -> str:
    """Percent-encoded bytes; lone surrogates become invalid UTF-8, as a broken client would send them."""
    if isinstance(text, str):
        return quote_plus(text.encode("utf-8", "surrogatepass"), safe=safe)
    return quote_plus(str(text))


def urlencoded(pairs: list[tuple[str, Any]]) -> str:
    return "&".join(f"{encoded(k)}={encoded(v)}" for k, v in pairs)


def multipart(pairs: list[tuple[str, Any]], boundary: str = "fuzzboundary") -> bytes:
    parts = []
    for n, (name, value) in enumerate(pairs):
        head = f'Content-Disposition: form-data; name="{name}"'
        if n % 3 == 2:  # every third field a file, which a form handler must not take for text
            head += '; filename="x.txt"\r\nContent-Type: application/octet-stream'
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n".encode("utf-8", "surrogatepass")
                     + str(value).encode("utf-8", "surrogatepass") + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


class Sender:
    def __init__(self, site: Site, http: aiohttp.ClientSession) -> None:
        self.site, self.http = site, http
        self.sent = 0
        self.unparsed = 0  # answered by aiohttp's parser, not the application

    def resolve(self, value: Any, reference: str | None = None) -> Any:
        if not isinstance(value, Live):
            return value
        if value.kind == "csrf":
            return self.site.csrf
        if value.kind == "key":
            return self.site.keys.get(reference or "", "0" * 32)
        pool = self.site.pools.get(value.kind) or ["none"]
        return pool[value.pick % len(pool)]

    async def send(self, route: Route, shape: Shape, cookie: str) -> tuple[int, str, str, list[str]]:
        """The status, content type and text of the answer, and what its security headers lack."""
        self.sent += 1
        values = [self.resolve(v) for v in shape.path]
        path = route.pattern
        reference = None
        for (name, _), value in zip(route.params, values):
            if name == "reference":
                reference = value
            safe = "/" if name == "path" else ""
            path = re.sub(r"\{" + name + r"(?::[^}]*)?\}", lambda _m: encoded(value, safe).replace("+", "%20"), path, count=1)
        if isinstance(shape.query, str):
            query = shape.query
        else:
            query = urlencoded([(k, self.resolve(v, reference)) for k, v in shape.query])
        url = URL(self.site.server.url + path + ("?" + query if query else ""), encoded=True)
        headers = {"X-Forwarded-For": f"198.18.{self.sent // 250 % 250}.{self.sent % 250 + 1}"}
        if cookie:
            headers["Cookie"] = cookie
        kind, content = shape.body
        data: bytes | None = None
        if route.method == "POST":
            pairs = [(k, self.resolve(v, reference)) for k, v in content] if isinstance(content, list) else []
            data, content_type = {
                "form": lambda: (urlencoded(pairs).encode(), "application/x-www-form-urlencoded"),
                "multipart": lambda: (multipart(pairs), "multipart/form-data; boundary=fuzzboundary"),
                "charset": lambda: (urlencoded(pairs).encode(), "application/x-www-form-urlencoded; charset=bogus-8"),
                "garbage": lambda: (b"\xff\xfe=%ff%fe&csrf_token=\x00\xc3", "application/x-www-form-urlencoded"),
                "broken-multipart": lambda: (b"--b\r\nbroken\r\n\r\nx", "multipart/form-data; boundary=b"),
                "json": lambda: (b'{"csrf_token": {"$ne": null}}', "application/x-www-form-urlencoded"),
                "none": lambda: (b"", ""),
            }[kind]()
            if content_type:
                headers["Content-Type"] = content_type
        for name, value in shape.headers:
            headers[name] = value if name != "Cookie" else "; ".join(filter(None, [headers.get("Cookie"), value]))
        async with self.http.request(route.method, url, data=data, headers=headers, allow_redirects=False) as response:
            body = await response.read()
            if len(url.raw_path_qs) > MAX_REQUEST_LINE:
                # aiohttp's own 400 for a request line it will not read, made before the application sees
                # a request; test_requests_aiohttp_cannot_parse_... covers those
                assert response.status == 400, (route, response.status)
                self.unparsed += 1
                weak_headers = []
            else:
                weak_headers = header_problems(path, response.headers)
            return response.status, response.headers.get("Content-Type", ""), body.decode("utf-8", "replace"), weak_headers

    async def cookie(self, route: Route, who: str) -> str:
        if who == "nobody":
            return ""
        if who == "forged":
            return "cs_session=" + "A" * 43 + ".forged"
        if route.who == "fresh-admin":
            return await login_cookie(self.site.server.url, ADA)
        if route.who == "login":
            async with self.http.get(self.site.server.url + "/login") as page:
                token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)  # type: ignore[union-attr]
            return f"{cookies.CSRF_COOKIE}={token}"
        if route.who == "admin":
            return self.site.admin_cookie
        return ""


def says_why(status: int, content_type: str, text: str) -> bool:
    """A refusal carries a message: a page with words on it, a JSON error, or a line of text."""
    if status in (404, 405, 413) and text.strip():
        return True
    if "json" in content_type:
        return '"message"' in text
    return bool(re.sub(r"<[^>]+>|\s+", "", text))


# -- the test --------------------------------------------------------------------------------------------


async def test_hostile_requests_to_every_page_and_form_are_answered_without_a_crash_and_refusals_write_nothing(
    site: Site, caplog: pytest.LogCaptureFixture,
) -> None:
    server = site.server
    db = Path(server.settings.db)
    all_routes = routes(server)
    assert len(all_routes) >= 50, all_routes
    canary = await Canary.start(server.url)
    problems: list[str] = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=30)) as http:
        await crawl(site, http, all_routes)
        # a few forms show only in some states (reactivate, enable): those get the CSRF token alone
        with_forms = [r for r in all_routes if r.method == "POST" and site.forms.get(r.pattern + " POST")]
        assert len(with_forms) >= 20, with_forms
        sender = Sender(site, http)
        for route in all_routes:
            fields = site.forms.get(route.pattern + " POST", {"csrf_token": []}) if route.method == "POST" else {}
            query_fields = site.forms.get(route.pattern + " GET", {})
            for shape in probes(route, fields) + hostile.draw(shapes(route, fields, query_fields), PER_ROUTE):
                cookie = await sender.cookie(route, shape.who)  # a fresh session is written before, not by, the request
                before = hostile.fingerprint(db)
                recorded_before = hostile.fingerprint(db, leave_out=AUDIT)
                exports_before = exports_recorded(db)
                logged = len(caplog.records)
                status, content_type, text, weak_headers = await sender.send(route, shape, cookie)
                site.answers[f"{status // 100}xx"] += 1
                what = f"{route.method} {route.pattern} {hostile.short(shape, 400)} -> {status} {hostile.short(text, 200)}"
                errors = [r for r in caplog.records[logged:] if r.levelno >= logging.ERROR]
                if status >= 500 or errors:
                    problems.append(what + "".join(f"\n    {r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info
                                                   else f"\n    {r.name}: {r.getMessage()}" for r in errors[:2]))
                    continue
                if weak_headers:  # a refusal, a redirect or an error page is a page too
                    problems.append("security headers: " + "; ".join(weak_headers) + " in " + what)
                if status >= 400 and not says_why(status, content_type, text):
                    problems.append("a refusal that does not say why: " + what)
                if route.pattern in RECORDED_READS and status < 400:
                    # an export is put on record before it is sent: that one audit row, and nothing else
                    if hostile.fingerprint(db, leave_out=AUDIT) != recorded_before or exports_recorded(db) != exports_before + 1:
                        problems.append("an export not recorded once, or writing more than its record: " + what)
                elif (route.method == "GET" or status >= 400) and hostile.fingerprint(db) != before:
                    problems.append("written although refused or read-only: " + what)
            await canary.round_trip()
        assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:25])
        # the admin still has every page
        for route in all_routes:
            if route.method == "GET" and route.pattern.startswith("/admin") and not route.params:
                async with http.get(server.url + route.pattern, headers={"Cookie": site.admin_cookie}) as r:
                    assert r.status == 200 and r.url.path.startswith("/admin"), (route.pattern, r.status, r.url)
    await canary.round_trip()
    await canary.close()
    assert await hostile.memory_problems(server.services) == []
    assert hostile.storage_problems(db) == []
    assert sender.unparsed < sender.sent // 10, sender.unparsed  # the application answered nearly all of them
    print(f"\n{sender.sent} page and form requests over {len(all_routes)} routes: {dict(sorted(site.answers.items()))}, "
          f"{sender.unparsed} of them refused by aiohttp's parser")


# -- requests aiohttp itself cannot parse, in a server process's JSON log ---------------------------------

UNPARSEABLE = [
    b"GET /?q=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # a request line over 8 KB
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"y" * 9000 + b"\r\n\r\n",  # a header over 8 KB
    b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",  # a header that is not one
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40),  # TLS spoken to the plain port
]


@pytest.mark.slow
async def test_requests_aiohttp_cannot_parse_get_400_and_one_warning_line_each_never_an_error(procs) -> None:
    server = procs.server(env={"CHATSERVER_LOG_FORMAT": "json", "CHATSERVER_SECRET_KEY": "pages-secret-kkkkkkkkkkkkkkkkkkkkkkkkkkk"})
    await create_users(server.db, [("bob@example.test", "Bob", "agent", 2)], CAST_PASSWORD)
    await server.start()
    host, port = server.url.removeprefix("http://").split(":")
    answers = []
    for raw in UNPARSEABLE:
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(raw)
        await writer.drain()
        answers.append((await asyncio.wait_for(reader.read(200), 5)).split(b"\r\n", 1)[0])
        writer.close()
    # every one is answered 400 (aiohttp answers in HTTP/1.0 when it could not read the version)
    assert all(re.fullmatch(rb"HTTP/1\.[01] 400 Bad Request", first) for first in answers), answers
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/healthz") as response:
            assert response.status == 200
    log = server.all_stderr()
    assert hostile.log_problems(log) == []
    warned = [line for line in log.splitlines() if '"aiohttp.server"' in line and '"warning"' in line]
    assert warned and all('"exc"' not in line for line in warned), warned[:3]
