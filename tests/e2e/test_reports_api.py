"""Reports over real HTTP: GET /api/reports/summary (checked against the served OpenAPI document), the
CSV exports (formula injection, quoting, filters, streaming) and who may read them.

Cast from conftest: agents bob and carol, supervisor sam; admin ada is added here. The seeded week is
tests/report_rows.seed_week (2026-11-01 to 2026-11-07); its numbers are worked out in
tests/service/test_reports.py. Nothing here depends on today's date.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from datetime import datetime, timezone

import aiohttp
import pytest

from chatserver.services.reports import CHAT_COLUMNS, COMPLAINT_COLUMNS
from chatserver.store import audit, users
from tests.e2e.test_api import Api, error
from tests import hostile
from tests.admin_steps import Browserless, text_of
from tests.conftest import seed_cast
from tests.faults import HeldWriteLock
from tests.peers import CAST_PASSWORD, login_cookie
from tests.procs import create_users
from tests.report_rows import History, seed_week

BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
WEEK = "from=2026-11-01&to=2026-11-07"


@pytest.fixture
async def api(server):
    await server.services.auth.create_user(email="ada@example.test", name="Ada", role="admin", password="ada-password-1")
    ids = {u["name"].lower(): u["id"] for u in await users.list_active(server.services.db)}
    tokens = {name: await server.services.auth.issue_api_token(user_id, "tests") for name, user_id in ids.items()}
    await seed_week(server.services.db, BASE, ids)
    async with aiohttp.ClientSession() as http:
        client = Api(server.url, http, tokens, ids)
        await client.load_document()
        yield client


async def download(api: Api, path: str, who: str | None = "sam", headers: dict[str, str] | None = None) -> tuple[aiohttp.ClientResponse, bytes]:
    sent = dict(headers or {})
    if who is not None:
        sent["Authorization"] = f"Bearer {api.tokens[who]}"
    async with api.http.get(api.base_url + path, headers=sent, allow_redirects=False) as response:
        return response, await response.read()


def table(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM, for Excel
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


# -- the JSON summary -------------------------------------------------------------------------------------


async def test_the_summary_of_the_seeded_week(api):
    status, report = await api.get(f"/api/reports/summary?{WEEK}", "sam")  # validated against the document
    assert status == 200
    assert report["period"] == {"from": "2026-11-01", "to": "2026-11-07", "days": 7, "preset": "custom", "timezone": "UTC"}
    assert report["complaints"]["total"] == 7 and report["chats"]["total"] == 5
    assert report["complaints"]["first_response"] == {"count": 6, "median_seconds": 9000.0, "p90_seconds": 61200.0}
    assert report["complaints"]["resolution"] == {"count": 4, "median_seconds": 90000.0, "p90_seconds": 158400.0}
    assert report["chats"]["first_response"] == {"count": 4, "median_seconds": 37.5, "p90_seconds": 76.5}
    assert report["complaints"]["escalated"]["percent"] == 28.6 and report["complaints"]["reopened"]["percent"] == 40.0
    assert report["compensation"] == [{"currency": "EUR", "amount_minor": 1750, "count": 3}]
    assert [(c["slug"], c["chats"], c["complaints"]) for c in report["categories"]] == [
        ("withdrawals", 2, 3), ("account_access", 1, 2), ("bonuses", 1, 2), ("other", 1, 0),
    ]
    assert report["csat"]["complaints"]["overall"]["average"] == 3.67
    assert len(report["days"]) == 7
    status, admin_view = await api.get(f"/api/reports/summary?{WEEK}", "ada")
    assert status == 200 and admin_view["complaints"] == report["complaints"]


async def test_filters(api):
    async def total(query: str) -> tuple[int, int]:
        status, report = await api.get(f"/api/reports/summary?{WEEK}&{query}", "sam")
        assert status == 200, report
        return report["complaints"]["total"], report["chats"]["total"]

    assert await total("category=withdrawals") == (3, 2)
    assert await total(f"agent={api.ids['bob']}") == (2, 2)
    assert await total("level=2") == (1, 5)  # level and channel filter complaints only
    assert await total("channel=web_form") == (3, 5)
    assert await total("level=3&channel=chat") == (1, 5)
    assert await total("category=") == (7, 5)  # empty counts as absent
    status, report = await api.get(f"/api/reports/summary?{WEEK}&category=bonuses&agent={api.ids['bob']}", "sam")
    assert report["filters"] == {"category": "bonuses", "agent": api.ids["bob"], "level": None, "channel": None}
    assert report["complaints"]["total"] == 1 and report["chats"]["total"] == 1


@pytest.mark.parametrize(
    "query, words",
    [
        ("from=2026-11-07&to=2026-11-01", "before from"),
        ("from=2024-01-01&to=2026-01-01", "366 days"),
        ("from=2026-13-01&to=2026-13-02", "date"),
        ("from=yesterday", "from"),
        ("preset=custom", "give from and to"),
        ("preset=fortnight", "preset"),
        (f"{WEEK}&level=4", "level"),
        (f"{WEEK}&level=two", "level"),
        (f"{WEEK}&channel=fax", "channel"),
        (f"{WEEK}&category=nope", "unknown category"),
        (f"{WEEK}&category=' OR 1=1--", "unknown category"),
        (f"{WEEK}&agent=u_nobody", "unknown agent"),
        (f"{WEEK}&colour=red", "unknown field colour"),
        (f"{WEEK}&from=2026-11-02", "only once"),
        ("from=9999-12-01&to=9999-12-31", "between 2000-01-01 and 2999-12-31"),  # week edges past date.max
        ("from=0001-01-01&to=0001-01-05", "between 2000-01-01 and 2999-12-31"),  # and before date.min
    ],
)
async def test_bad_queries_are_invalid(api, query, words):
    status, answer = await api.get(f"/api/reports/summary?{query}", "sam")
    assert status == 400
    assert words in error(answer, "invalid")


async def test_who_may_read(api, server):
    status, answer = await api.call("GET", f"/api/reports/summary?{WEEK}")
    assert status == 401 and error(answer, "unauthorized")
    status, answer = await api.get(f"/api/reports/summary?{WEEK}", "bob")
    assert status == 403 and "supervisors" in error(answer, "forbidden")
    # refused before the query is read: how a query is refused says nothing to someone who may not ask
    for query in ("level=4", "from=2026-01-01&to=2027-12-31", "preset=nonsense"):
        status, answer = await api.get(f"/api/reports/summary?{query}", "bob")
        assert status == 403 and error(answer, "forbidden"), query
        response, body = await download(api, f"/reports/export/chats.csv?{query}", "bob")
        assert response.status == 403 and json.loads(body)["error"]["code"] == "forbidden", query
    # the console's cookie works from its own pages, never from another site
    cookie = await login_cookie(server.url, "sam@example.test")
    status, report = await api.call("GET", f"/api/reports/summary?{WEEK}", headers={"Cookie": cookie})
    assert status == 200 and report["complaints"]["total"] == 7
    status, answer = await api.call("GET", f"/api/reports/summary?{WEEK}", headers={"Cookie": cookie, "Origin": "https://evil.test"})
    assert status == 403 and error(answer, "forbidden")
    agent_cookie = await login_cookie(server.url, "bob@example.test")
    status, answer = await api.call("GET", f"/api/reports/summary?{WEEK}", headers={"Cookie": agent_cookie})
    assert status == 403


# -- CSV exports ----------------------------------------------------------------------------------------------


async def test_complaints_csv_is_safe_against_formula_injection(api, server):
    h = History(server.services.db, BASE)
    tricky = {
        "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
        "+1 thanks": "'+1 thanks",
        "\t=1+1": "'\t=1+1",
        "\r=1+1": "'\r=1+1",
        'Say "hi", then\nleave': 'Say "hi", then\nleave',  # quoted and round-tripped, not defused
        "Płatność nie dotarła – вывод": "Płatność nie dotarła – вывод",
        "1 = 1, fine": "1 = 1, fine",
        # where `;` separates cells (Excel in Russian and Polish locales), a cell would begin after it
        "Refund;=HYPERLINK(\"http://evil.test\")": "Refund;'=HYPERLINK(\"http://evil.test\")",
        "a;b;@SUM(1+1)": "a;b;'@SUM(1+1)",
        "=1;-2": "'=1;'-2",
        "one; two;three": "one; two;three",
    }
    for i, subject in enumerate(tricky):
        await h.complaint(24 * 2 + 1 + i / 10, category="other", subject=subject, status="new")
    response, body = await download(api, f"/reports/export/complaints.csv?{WEEK}")
    assert response.status == 200
    assert response.content_type == "text/csv" and response.charset == "utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="complaints-2026-11-01-to-2026-11-07.csv"'
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in response.headers
    rows = table(body)
    assert list(rows[0]) == list(COMPLAINT_COLUMNS)
    assert len(rows) == 7 + len(tricky)
    subjects = {r["subject"] for r in rows}
    for written, exported in tricky.items():
        assert exported in subjects, written
    assert "'=HYPERLINK(\"http://evil.test\",\"click\")" in subjects  # seeded in the week
    assert {r["rating_comment"] for r in rows if r["rating_comment"]} == {"'+1 thanks"}
    # no cell that a spreadsheet would evaluate
    for row in rows:
        for value in row.values():
            for cell in value.split(";"):  # as a spreadsheet whose separator is `;` splits it too
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), value
    # a number stays a number; rows come oldest first
    assert [r["level"] for r in rows[:2]] == ["1", "2"] and rows[0]["assignee"] == "Bob"
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)


async def test_staff_names_and_chat_comments_are_defused_in_both_exports(api, server):
    """Agent names (typed in admin) reach both exports, chat rating comments the chats export: every
    text column is defused, not only the complaint's subject and comment."""
    formula = "=HYPERLINK(\"http://evil.test\",\"click\")"
    row = await server.services.auth.create_user(email="mallory@example.test", name=formula, role="agent", password="mallory-pass-1")
    h = History(server.services.db, BASE)
    await h.chat(30, topic="withdrawals", agent=row["id"], first_response_s=5, outcome="resolved", rating=1, comment="@SUM(1+1)*cmd|' /C calc'!A0")
    await h.complaint(31, category="withdrawals", assignee=row["id"], status="closed", first_response=1, resolved=2, rating=1,
                      comment="-2+3+cmd|' /C calc'!A0", subject="+1 refund")
    _, chats = await download(api, f"/reports/export/chats.csv?{WEEK}&agent={row['id']}")
    _, complaints = await download(api, f"/reports/export/complaints.csv?{WEEK}&agent={row['id']}")
    [chat], [complaint] = table(chats), table(complaints)
    assert (chat["agent"], chat["rating_comment"]) == ("'" + formula, "'@SUM(1+1)*cmd|' /C calc'!A0")
    assert (complaint["assignee"], complaint["rating_comment"], complaint["subject"]) == ("'" + formula, "'-2+3+cmd|' /C calc'!A0", "'+1 refund")
    for value in [*chat.values(), *complaint.values()]:
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


async def test_exports_follow_the_filters(api):
    response, body = await download(api, f"/reports/export/complaints.csv?{WEEK}&category=withdrawals&level=3")
    assert response.status == 200
    rows = table(body)
    assert [(r["category"], r["level"], r["status"]) for r in rows] == [("withdrawals", "3", "reopened")]
    response, body = await download(api, f"/reports/export/chats.csv?{WEEK}&agent={api.ids['carol']}")
    assert response.headers["Content-Disposition"] == 'attachment; filename="chats-2026-11-01-to-2026-11-07.csv"'
    chats = table(body)
    assert list(chats[0]) == list(CHAT_COLUMNS)
    assert [(r["category"], r["topic"], r["first_response_seconds"], r["rating"], r["rating_comment"], r["agent"]) for r in chats] == [
        ("other", "", "90", "3", "'-2 slow", "Carol"), ("account_access", "account_access", "45", "4", "", "Carol"),
    ]
    response, body = await download(api, "/reports/export/chats.csv?from=2026-10-01&to=2026-10-07")
    assert table(body) == []  # just the header line
    assert body.decode("utf-8-sig").splitlines() == [",".join(CHAT_COLUMNS)]


async def test_a_large_export_streams_every_row_once_in_order(api, server):
    h = History(server.services.db, datetime(2026, 10, 1, tzinfo=timezone.utc))
    for i in range(2100):  # three keyset pages: 1,000, 1,000 and 100
        await h.complaint(i * 0.01, category="technical", subject=f"Outage report {i}")
    response, body = await download(api, "/reports/export/complaints.csv?from=2026-10-01&to=2026-10-02")
    assert response.status == 200 and response.headers.get("Transfer-Encoding") == "chunked"
    rows = table(body)
    assert [r["subject"] for r in rows] == [f"Outage report {i}" for i in range(2100)]


async def test_exports_need_a_supervisor(api, server):
    for path in ("/reports/export/complaints.csv", "/reports/export/chats.csv"):
        response, body = await download(api, f"{path}?{WEEK}", who=None)
        assert response.status == 401 and response.headers["WWW-Authenticate"] == "Bearer"
        assert b'"unauthorized"' in body
        response, body = await download(api, f"{path}?{WEEK}", who="bob")
        assert response.status == 403 and b'"forbidden"' in body
        response, body = await download(api, f"{path}?{WEEK}&level=9", who="sam")
        assert response.status == 400 and b'"invalid"' in body
    cookie = await login_cookie(server.url, "sam@example.test")
    response, body = await download(api, f"/reports/export/complaints.csv?{WEEK}", who=None, headers={"Cookie": cookie})
    assert response.status == 200 and len(table(body)) == 7


async def test_every_export_is_on_record_with_who_took_which_rows_and_how(api, server):
    sam = api.ids["sam"]
    response, _ = await download(api, f"/reports/export/complaints.csv?{WEEK}&category=withdrawals&level=3")
    assert response.status == 200
    cookie = await login_cookie(server.url, "sam@example.test")
    response, _ = await download(api, f"/reports/export/chats.csv?{WEEK}", who=None, headers={"Cookie": cookie})
    assert response.status == 200
    response, _ = await download(api, f"/reports/export/chats.csv?{WEEK}", who="bob")  # refused: not on record
    assert response.status == 403
    async with api.http.head(api.base_url + f"/reports/export/chats.csv?{WEEK}",
                             headers={"Authorization": f"Bearer {api.tokens['sam']}"}) as response:
        assert response.status == 200  # asking whether it is there sends nothing: not on record either

    exports = [e for e in await audit.for_subject(server.services.db, sam) if e["action"] == "user.exported"]
    assert [(e["actor"], e["details"]["export"], e["details"]["first"], e["details"]["last"], e["details"]["filters"])
            for e in exports] == [
        (sam, "complaints", "2026-11-01", "2026-11-07", {"category": "withdrawals", "level": 3}),
        (sam, "chats", "2026-11-01", "2026-11-07", {}),
    ]
    token_id = (await server.services.db.fetch_one("SELECT id FROM api_tokens WHERE user_id = ?", (sam,)))["id"]  # type: ignore[index]
    assert [e["details"]["api_token_id"] for e in exports] == [token_id, None]  # the integration, then the console
    assert not [e for e in await audit.for_subject(server.services.db, api.ids["bob"]) if e["action"] == "user.exported"]

    # an admin sees it in Sam's history
    admin = await Browserless.login(server.url, "ada@example.test", "ada-password-1")
    try:
        status, page, _ = await admin.get(f"/admin/users/{sam}")
    finally:
        await admin.close()
    assert status == 200
    assert "exported chats, 2026-11-01 to 2026-11-07 Sam" in text_of(page)
    assert "exported complaints, 2026-11-01 to 2026-11-07 Sam" in text_of(page)


async def test_an_export_that_cannot_be_recorded_is_not_sent(start_server, tmp_path):
    running = await start_server(db_busy_timeout=0.3)
    await seed_cast(running.services)
    lock = HeldWriteLock(Path(running.settings.db))
    cookie = await login_cookie(running.url, "sam@example.test")
    lock.inject()
    try:
        async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
            async with http.get(f"{running.url}/reports/export/complaints.csv?{WEEK}") as response:
                status, body = response.status, await response.json()
    finally:
        lock.clear()
    assert status == 503 and body["error"]["code"] == "unavailable", body
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        async with http.get(f"{running.url}/reports/export/complaints.csv?{WEEK}") as response:
            assert response.status == 200 and response.content_type == "text/csv"
    sam = (await users.by_email(running.services.db, "sam@example.test"))["id"]  # type: ignore[index]
    assert [e["action"] for e in await audit.for_subject(running.services.db, sam)].count("user.exported") == 1


async def test_dates_at_the_ends_of_the_calendar_are_invalid_in_exports_and_on_the_page(api, server):
    far = ("from=9999-12-01&to=9999-12-31", "from=0001-01-01&to=0001-01-05")
    for query in far:
        for path in ("/reports/export/complaints.csv", "/reports/export/chats.csv"):
            response, body = await download(api, f"{path}?{query}")
            assert response.status == 400 and b"between 2000-01-01 and 2999-12-31" in body, (path, query)
    sam = await login_cookie(server.url, "sam@example.test")
    async with aiohttp.ClientSession() as http:
        for query in far:
            async with http.get(f"{server.url}/reports?{query}", headers={"Cookie": sam}) as response:
                assert response.status == 400 and "between 2000-01-01 and 2999-12-31" in await response.text()


@pytest.mark.slow
async def test_a_download_the_client_abandons_ends_quietly_and_the_next_one_is_served(procs, tmp_path):
    # closing a download early is ordinary; it must not fill the error log with tracebacks
    db = tmp_path / "chat.db"
    await create_users(db, [("sam@example.test", "Sam", "supervisor", 2)], CAST_PASSWORD)
    server = procs.server(db=db, env={"CHATSERVER_LOG_FORMAT": "json", "CHATSERVER_SECRET_KEY": "export-secret-kkkkkkkkkkkkkkkkkkkkkkkkkk"})
    await server.start()
    cookie = await login_cookie(server.url, "sam@example.test")
    host, port = server.url.removeprefix("http://").split(":")
    request = "{} /reports/export/complaints.csv?preset=30d HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\n\r\n"
    for method, leave in [("GET", "close"), ("GET", "abort"), ("GET", "after the headers"), ("HEAD", "close")]:
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(request.format(method, host, cookie).encode())
        await writer.drain()
        if leave == "after the headers":
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        if leave == "close":
            writer.close()
        else:
            writer.transport.abort()
        await asyncio.sleep(0.3)
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        async with http.get(f"{server.url}/reports/export/complaints.csv?preset=30d") as response:
            assert response.status == 200 and (await response.read()).decode("utf-8-sig").startswith("reference,")
    log = server.all_stderr()
    assert hostile.log_problems(log) == [], [json.loads(line)["exc"] for line in log.splitlines() if "\"exc\"" in line][:1]


# -- the page --------------------------------------------------------------------------------------------------


async def test_the_page_is_for_supervisors(api, server):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/reports?{WEEK}", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/login?next=/reports"
        bob = await login_cookie(server.url, "bob@example.test")
        async with http.get(f"{server.url}/reports", headers={"Cookie": bob}, allow_redirects=False) as response:
            assert response.status == 403
        sam = await login_cookie(server.url, "sam@example.test")
        async with http.get(f"{server.url}/reports?{WEEK}", headers={"Cookie": sam}) as response:
            assert response.status == 200
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            html = await response.text()
        async with http.get(f"{server.url}/reports?{WEEK}&level=7", headers={"Cookie": sam}) as response:
            assert response.status == 400 and "level" in await response.text()
    assert "data-report='{" in html
    assert "<script>" not in html and "onerror" not in html  # every script is a file: the CSP allows no other
    assert "/reports/export/complaints.csv?from=2026-11-01&amp;to=2026-11-07" in html


async def test_names_on_the_page_are_text(api, server):
    row = await server.services.auth.create_user(
        email="mallory@example.test", name="<img src=x onerror=alert(1)>", role="agent", password="mallory-pass-1"
    )
    h = History(server.services.db, BASE)
    await h.chat(30, topic="withdrawals", agent=row["id"], first_response_s=5, outcome="resolved", rating=5)
    sam = await login_cookie(server.url, "sam@example.test")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/reports?{WEEK}", headers={"Cookie": sam}) as response:
            html = await response.text()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
