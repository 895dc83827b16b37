"""Edges of the admin pages and the reports: changes that meet at the same moment, forms loaded before
someone else's change, and what one request may cost.

Cast from conftest: agents bob and carol, supervisor sam; admins ada and eve are added here.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import aiohttp
import pytest

from chatserver.domain.errors import Forbidden
from chatserver.services.admin.validate import (
    CannedValues, CategoryValues, FaqValues, NewPassword, TokenValues, UserProfile, WidgetValues,
)
from chatserver.services.auth import ConsoleUser
from chatserver.store import audit, users
from tests.admin_steps import ADA, CSRF, Browserless, add_admin, notices
from tests.conftest import RunningServer
from tests.peers import CAST_PASSWORD

EVE = "eve@example.test"


async def row_of(server: RunningServer, user_id: str) -> dict:
    row = await users.get(server.services.db, user_id)
    assert row is not None
    return row


def profile(row: dict, **changes: object) -> UserProfile:
    values = {key: row[key] for key in ("email", "name", "role", "max_chats")}
    values.update(changes)
    return UserProfile(skills=tuple(row["skills"]), languages=tuple(row["languages"]), **values)  # type: ignore[arg-type]


async def active_admins(server: RunningServer) -> list[str]:
    return [row["name"] for row in await users.list_active(server.services.db) if row["role"] == "admin"]


@pytest.fixture
async def admins(server: RunningServer) -> tuple[str, str]:
    return await add_admin(server.services), await add_admin(server.services, EVE, "Eve")


# -- two admins at the same moment ------------------------------------------------------------------------


async def _demote(server: RunningServer, actor: ConsoleUser, user_id: str) -> None:
    await server.services.admin.users.update(actor, user_id, profile(await row_of(server, user_id), role="agent"))


async def _deactivate(server: RunningServer, actor: ConsoleUser, user_id: str) -> None:
    await server.services.admin.users.deactivate(actor, user_id)


@pytest.mark.parametrize("first", [_demote, _deactivate], ids=["demote", "deactivate"])
@pytest.mark.parametrize("second", [_demote, _deactivate], ids=["demote", "deactivate"])
async def test_two_admins_removing_each_other_at_once_leave_one_admin(server, admins, first, second):
    ada_id, eve_id = admins
    # both signed in and past the admin check before either change is stored
    ada = await server.services.auth.login(ADA, CAST_PASSWORD)
    eve = await server.services.auth.login(EVE, CAST_PASSWORD)
    await first(server, ada, eve_id)
    with pytest.raises(Forbidden):
        await second(server, eve, ada_id)
    assert await active_admins(server) == ["Ada"]
    ada_row = await row_of(server, ada_id)
    assert ada_row["active"] and ada_row["role"] == "admin"
    assert not [e for e in await audit.for_subject(server.services.db, ada_id) if e["actor"] == eve_id and e["action"] != "user.login"]


async def test_an_admin_removed_a_moment_ago_creates_no_admin_and_issues_no_token(server, admins):
    ada_id, eve_id = admins
    eve = await server.services.auth.login(EVE, CAST_PASSWORD)
    ada = await server.services.auth.login(ADA, CAST_PASSWORD)
    await _demote(server, ada, eve_id)
    before = {row["id"] for row in await users.list_all(server.services.db)}
    accomplice = UserProfile("mallory@example.test", "Mallory", "admin", 0, (), ("en",))
    with pytest.raises(Forbidden):
        await server.services.admin.users.create(eve, accomplice, NewPassword("a-long-password"))
    with pytest.raises(Forbidden):
        await server.services.admin.users.set_password(eve, ada_id, NewPassword(None))
    with pytest.raises(Forbidden):
        await server.services.admin.tokens.issue(eve_id, TokenValues(ada_id, "keep a way in"))
    assert {row["id"] for row in await users.list_all(server.services.db)} == before
    assert await server.services.admin.tokens.list() == []
    # Ada's password still signs her in
    await server.services.auth.login(ADA, CAST_PASSWORD)


async def test_an_admin_removed_a_moment_ago_changes_no_catalogue_setting_token_or_webhook(server, admins):
    # Eve's pages checked her before Ada's demotion committed: each of her writes reads her again
    ada_id, eve_id = admins
    ada = await server.services.auth.login(ADA, CAST_PASSWORD)
    eve = await server.services.auth.login(EVE, CAST_PASSWORD)
    admin = server.services.admin
    token_id, _ = await admin.tokens.issue(ada_id, TokenValues(ada_id, "wallboard"))
    hook, _ = await server.services.webhooks.register(ada, url="https://crm.example.com/hooks", events=["complaint.created"])
    tables = ("categories", "canned_answers", "faq_articles", "runtime_settings", "identity_secrets", "api_tokens",
              "webhook_endpoints", "webhook_deliveries", "audit_events")
    before = {t: await server.services.db.fetch(f"SELECT * FROM {t}") for t in tables}
    await _demote(server, ada, eve_id)
    before["audit_events"] = await server.services.db.fetch("SELECT * FROM audit_events")

    category = await admin.catalog.category("bonuses")
    columns = {name: category[name] for name in CategoryValues.__dataclass_fields__ if name != "active"}
    writes = {
        "retire a category": admin.catalog.update_category(eve_id, CategoryValues(**columns, active=False)),
        "add a category": admin.catalog.create_category(eve_id, replace(
            CategoryValues(**columns, active=True), slug="eves", name_en="Eve's", name_ru="Евы", name_pl="Ewy"
        )),
        "add a canned answer": admin.catalog.save_canned_answer(eve_id, None, CannedValues("refund", "en", "Refund", "Sent.", True)),
        "add an FAQ article": admin.catalog.save_faq_article(eve_id, None, FaqValues("en", None, 1, "Why?", "Because.", True)),
        "open the widget to a site": admin.runtime.save_widget(
            eve_id, WidgetValues(("https://evil.example",), "#000000", {"en": "Hi"}, 600.0)
        ),
        "reset the widget": admin.runtime.reset_widget(eve_id),
        "rotate the identity secret": admin.runtime.rotate_identity_secret(eve_id),
        "revoke a token": admin.tokens.revoke(eve_id, token_id),
        "send data to a receiver of hers": server.services.webhooks.register(
            eve, url="https://eve.example.net/hooks", events=["complaint.created"]
        ),
        "switch a receiver off": server.services.webhooks.set_active(eve, hook["id"], False),
        "send a test delivery": server.services.webhooks.send_test(eve, hook["id"]),
    }
    for what, write in writes.items():
        with pytest.raises(Forbidden, match="no longer an admin"):
            await write
    assert {t: await server.services.db.fetch(f"SELECT * FROM {t}") for t in tables} == before


ADMIN_FORMS = {
    "/admin/categories": {
        "slug": "eves", "name_en": "Eve's", "name_ru": "Евы", "name_pl": "Ewy", "first_response_hours": "24",
        "resolution_hours": "48", "owner_group": "agents", "position": "9", "active": "on",
    },
    "/admin/canned": {"shortcut": "refund", "locale": "en", "title": "Refund", "body": "Sent.", "active": "on"},
    "/admin/faq": {"locale": "en", "category": "", "position": "1", "question": "Why?", "answer": "Because.", "active": "on"},
    "/admin/widget": {"allowed_origins": "https://evil.example", "brand_color": "#000000", "queue_timeout": "600"},
    "/admin/widget/reset": {},
    "/admin/identity/rotate": {"confirm": "yes"},
    "/admin/webhooks": {"url": "https://eve.example.net/hooks", "events": "complaint.created"},
}


@pytest.mark.parametrize("path", ADMIN_FORMS)
async def test_an_admin_form_sent_as_its_sender_is_demoted_is_answered_with_a_notice_and_writes_nothing(server, admins, path):
    ada_id, eve_id = admins
    ada = await server.services.auth.login(ADA, CAST_PASSWORD)
    eve = await Browserless.login(server.url, EVE)
    tables = ("categories", "canned_answers", "faq_articles", "runtime_settings", "identity_secrets", "webhook_endpoints")
    try:
        token = await eve.csrf()
        before = {t: await server.services.db.fetch(f"SELECT * FROM {t}") for t in tables}
        async with server.services.db.transaction():  # another write holds the database a moment
            demotion = asyncio.ensure_future(_demote(server, ada, eve_id))
            await asyncio.sleep(0.2)
            sent = asyncio.ensure_future(eve.post(path, ADMIN_FORMS[path], csrf=token))
            await asyncio.sleep(0.2)
        await demotion
        status, text, _ = await sent
    finally:
        await eve.close()
    assert status == 303, (status, text[:300])  # back to the page with "You are no longer an admin", not a 500
    assert {t: await server.services.db.fetch(f"SELECT * FROM {t}") for t in tables} == before


async def test_two_admins_demoting_each_other_over_http_leave_one_admin_and_get_answers_not_errors(server, admins):
    ada_id, eve_id = admins
    ada, eve = await Browserless.login(server.url, ADA), await Browserless.login(server.url, EVE)
    try:
        ada_token, eve_token = await ada.csrf(), await eve.csrf()
        answers = await asyncio.gather(
            ada.post(f"/admin/users/{eve_id}", {"name": "Eve", "email": EVE, "role": "agent", "max_chats": "2"}, csrf=ada_token),
            eve.post(f"/admin/users/{ada_id}", {"name": "Ada", "email": ADA, "role": "agent", "max_chats": "2"}, csrf=eve_token),
        )
    finally:
        await ada.close()
        await eve.close()
    assert [status for status, _, _ in answers] == [303, 303]
    assert len(await active_admins(server)) == 1



# -- a form loaded before someone else's change ---------------------------------------------------------

SEEN = re.compile(r'<input type="hidden" name="seen" value="([^"]*)">')


async def open_form(client: Browserless, path: str) -> tuple[str, str]:
    """(the CSRF token, what the form was loaded with) from an edit page, as a browser tab keeps them."""
    status, page, _ = await client.get(path)
    assert status == 200
    seen = SEEN.search(page)
    assert seen, "the form carries what it was loaded with"
    return CSRF.search(page).group(1), seen.group(1)  # type: ignore[union-attr]


async def test_a_user_form_loaded_before_another_admins_change_does_not_undo_it(server, admins):
    bob = await users.by_email(server.services.db, "bob@example.test")
    assert bob is not None
    path = f"/admin/users/{bob['id']}"
    ada, eve = await Browserless.login(server.url, ADA), await Browserless.login(server.url, EVE)
    try:
        ada_csrf, ada_seen = await open_form(ada, path)  # Ada opens Bob's page and goes for a coffee
        eve_csrf, eve_seen = await open_form(eve, path)
        capacity = bob["max_chats"]
        fields = [("name", "Bob"), ("email", "bob@example.test"), *(("languages", code) for code in bob["languages"])]
        status, _, _ = await eve.post(path, [*fields, ("role", "supervisor"), ("max_chats", str(capacity)), ("seen", eve_seen)], csrf=eve_csrf)
        assert status == 303
        # Ada's tab still shows Bob as an agent; she only meant to raise his capacity
        status, _, response = await ada.post(path, [*fields, ("role", "agent"), ("max_chats", str(capacity + 3)), ("seen", ada_seen)], csrf=ada_csrf)
        assert status == 303 and response.headers["Location"] == path
        status, page, _ = await ada.get(path)
        assert [n for n in notices(page) if "changed this user while you were editing" in n], notices(page)
        stored = await row_of(server, bob["id"])
        assert (stored["role"], stored["max_chats"]) == ("supervisor", capacity)
        # the page now shows what is stored, and saving from it works
        ada_csrf, ada_seen = await open_form(ada, path)
        status, _, _ = await ada.post(path, [*fields, ("role", "supervisor"), ("max_chats", str(capacity + 3)), ("seen", ada_seen)], csrf=ada_csrf)
        assert status == 303
        stored = await row_of(server, bob["id"])
        assert (stored["role"], stored["max_chats"]) == ("supervisor", capacity + 3)
        changes = [e["details"] for e in await audit.for_subject(server.services.db, bob["id"]) if e["action"] == "user.updated"]
        assert changes == [{"role": {"from": "agent", "to": "supervisor"}}, {"max_chats": {"from": capacity, "to": capacity + 3}}]
    finally:
        await ada.close()
        await eve.close()


async def test_a_refused_user_form_shown_again_keeps_what_it_was_loaded_with(server, admins):
    bob = await users.by_email(server.services.db, "bob@example.test")
    assert bob is not None
    path = f"/admin/users/{bob['id']}"
    ada = await Browserless.login(server.url, ADA)
    try:
        csrf, seen = await open_form(ada, path)
        await server.services.admin.users.update(
            await server.services.auth.login(EVE, CAST_PASSWORD), bob["id"], profile(bob, max_chats=7))
        status, page, _ = await ada.post(path, {"name": "", "email": "bob@example.test", "role": "agent", "max_chats": "4",
                                                "seen": seen}, csrf=csrf)
        assert status == 400
        assert SEEN.search(page).group(1) == seen  # type: ignore[union-attr]
    finally:
        await ada.close()


# -- what one page may cost -------------------------------------------------------------------------------


async def test_a_users_page_reads_only_the_history_it_shows_however_long_the_history(server, admins, monkeypatch):
    ada_id, _ = admins
    bob = await users.by_email(server.services.db, "bob@example.test")
    assert bob is not None
    # every sign-in and every presence change is audited about the user: years of work add tens of thousands
    async with server.services.db.transaction() as tx:
        for n in range(3000):
            await audit.record(tx, actor=bob["id"], action="agent.presence", subject=bob["id"],
                               now=f"2020-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.{n:06d}Z", details={"status": "away"})
        await audit.record(tx, actor=ada_id, action="user.updated", subject=bob["id"], now="2021-01-01T00:00:00.000000Z",
                           details={"max_chats": {"from": 3, "to": 4}})
    largest = 0
    fetch = server.services.db.fetch

    async def counting(sql, params=()):
        nonlocal largest
        rows = await fetch(sql, params)
        largest = max(largest, len(rows))
        return rows

    monkeypatch.setattr(server.services.db, "fetch", counting)
    ada = await Browserless.login(server.url, ADA)
    try:
        status, page, _ = await ada.get(f"/admin/users/{bob['id']}")
    finally:
        await ada.close()
    assert status == 200
    shown = re.findall(r'class="history-action">([^<]*)<', page)
    assert shown == ["created", "updated"] + ["agent.presence"] * 18  # the newest twenty, newest first
    assert largest <= 50


# -- reports and exports for people who lost access -----------------------------------------------------


async def test_a_deactivated_supervisors_token_and_a_revoked_one_read_no_report_or_export(server, admins):
    ada_id, _ = admins
    sam = await users.by_email(server.services.db, "sam@example.test")
    assert sam is not None
    tokens = server.services.admin.tokens
    _, kept = await tokens.issue(ada_id, TokenValues(sam["id"], "wallboard"))
    revoked_id, revoked = await tokens.issue(ada_id, TokenValues(sam["id"], "old script"))
    await tokens.revoke(ada_id, revoked_id)
    paths = ("/api/reports/summary?preset=7d", "/reports/export/complaints.csv?preset=7d", "/reports/export/chats.csv?preset=7d")

    async def statuses(token: str) -> list[tuple[int, str]]:
        found = []
        async with aiohttp.ClientSession() as http:
            for path in paths:
                async with http.get(server.url + path, headers={"Authorization": f"Bearer {token}"}) as response:
                    body = await response.read()
                    code = (await response.json())["error"]["code"] if response.status != 200 else "ok"
                    assert response.status == 200 or not body.startswith(b"\xef\xbb\xbf")  # no partial file
                    found.append((response.status, code))
        return found

    assert await statuses(kept) == [(200, "ok")] * 3
    assert await statuses(revoked) == [(401, "unauthorized")] * 3
    ada = await server.services.auth.login(ADA, CAST_PASSWORD)
    await server.services.admin.users.deactivate(ada, sam["id"])
    assert await statuses(kept) == [(401, "unauthorized")] * 3
