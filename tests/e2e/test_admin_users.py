"""/admin/users on the real server: create, edit, passwords, deactivation ending sessions and sockets at once."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import socketio

from chatserver.services.admin.validate import TokenValues
from chatserver.store import audit, users
from tests import hostile, peers
from tests.admin_steps import (
    ADA, Browserless, add_admin, field_errors, input_value, notices, shown_secret, text_of,
)
from tests.conftest import RunningServer, eventually
from tests.peers import CAST_PASSWORD, Peer, login_cookie

CONFIRMED = {"confirm": "yes"}
NEW_AGENT = {
    "name": "Dana Novak", "email": "dana@example.test", "role": "agent", "max_chats": "4",
    "password_mode": "generate",
}


@pytest.fixture
async def ada(server: RunningServer):
    await add_admin(server.services)
    client = await Browserless.login(server.url, ADA)
    yield client
    await client.close()


async def user_row(server: RunningServer, email: str) -> dict:
    row = await users.by_email(server.services.db, email)
    assert row is not None, email
    return row


async def cookie_works(server: RunningServer, cookie: str) -> bool:
    someone = Browserless(server.url, cookie)
    try:
        status, _, _ = await someone.get("/console")
        return status == 200
    finally:
        await someone.close()


async def test_the_list_shows_everyone_with_role_capacity_and_presence(server, ada):
    bob = await peers.agent(server.url, "bob@example.test")
    status, page, _ = await ada.get("/admin/users")
    assert status == 200
    words = text_of(page)
    for expected in ("Bob", "bob@example.test", "Carol", "Sam", "supervisor", "Ada", "New user"):
        assert expected in words
    assert 'href="/admin/webhooks"' in page  # the nav leads to every admin page
    await bob.close()


async def test_a_user_created_with_a_generated_password_can_sign_in_with_it(server, ada):
    page = await ada.submit("/admin/users", list(NEW_AGENT.items()) + [("languages", "en"), ("languages", "pl"), ("skills", "withdrawals")])
    assert "Dana Novak can now sign in as dana@example.test" in notices(page)[0]
    password = shown_secret(page)
    assert len(password) >= 16
    # shown once: the same page again has no secret
    status, again, _ = await ada.get("/admin/users/" + (await user_row(server, "dana@example.test"))["id"])
    assert password not in again

    row = await user_row(server, "dana@example.test")
    assert (row["role"], row["max_chats"], row["languages"], row["skills"]) == ("agent", 4, ["en", "pl"], ["withdrawals"])
    assert server.services.dispatcher.agents[row["id"]].max_chats == 4
    dana = await peers.Peer(server.url, "/agent").connect(headers={"Cookie": await login_cookie(server.url, "dana@example.test", password)})
    session = await dana.wait_for("session")
    assert session["agent"]["name"] == "Dana Novak"
    await dana.close()

    trail = await audit.for_subject(server.services.db, row["id"])
    created = [e for e in trail if e["action"] == "user.created"][0]
    assert created["actor"] == (await user_row(server, ADA))["id"]
    assert created["details"]["password"] == "generated" and password not in str(trail)


async def test_a_user_created_with_a_typed_password_signs_in_with_that(server, ada):
    page = await ada.submit("/admin/users", dict(NEW_AGENT, password_mode="set", password="sunny-side-up-42", role="supervisor"))
    assert 'class="secret-value"' not in page
    cookie = await login_cookie(server.url, "dana@example.test", "sunny-side-up-42")
    assert await cookie_works(server, cookie)
    assert (await user_row(server, "dana@example.test"))["role"] == "supervisor"


async def test_the_new_user_form_names_every_wrong_field_and_keeps_what_was_typed(server, ada):
    status, page, _ = await ada.post("/admin/users", [
        ("name", ""), ("email", "dana-at-example"), ("role", "owner"), ("max_chats", "99"),
        ("skills", "time_travel"), ("languages", "de"), ("password_mode", "set"), ("password", "short"),
    ])
    assert status == 400
    errors = field_errors(page)
    assert errors == {
        "email": "Enter an e-mail address like name@example.com.",
        "name": "Enter a name.",
        "role": "Choose agent, supervisor or admin.",
        "max_chats": "The chat capacity must be between 0 and 50.",
        "skills": "Choose skills from the list of categories.",
        "languages": "Choose languages from the list.",
        "password": "Use at least 8 characters, or let the server generate a password.",
    }
    assert "7 fields need attention" in text_of(page)
    assert input_value(page, "email") == "dana-at-example"
    assert input_value(page, "max_chats") == "99"
    assert 'value="short"' not in page  # a password is never sent back
    assert 'aria-invalid="true" aria-describedby="e-email' in page

    status, page, _ = await ada.post("/admin/users", dict(NEW_AGENT, email="BOB@example.test", max_chats="abc"))
    assert status == 400
    assert field_errors(page) == {"max_chats": "Enter the chat capacity as a whole number."}
    status, page, _ = await ada.post("/admin/users", dict(NEW_AGENT, email="BOB@example.test"))
    assert status == 400
    assert field_errors(page) == {"email": "Another user already has this e-mail address."}
    assert input_value(page, "name") == "Dana Novak"
    assert await users.by_email(server.services.db, "dana@example.test") is None


async def test_editing_capacity_skills_and_languages_reaches_routing_without_ending_sessions(server, ada):
    bob_id = (await user_row(server, "bob@example.test"))["id"]
    bob = await peers.agent(server.url, "bob@example.test")
    page = await ada.submit(f"/admin/users/{bob_id}", [
        ("name", "Bob Builder"), ("email", "bob@example.test"), ("role", "agent"), ("max_chats", "5"),
        ("languages", "ru"), ("skills", "bet_settlement"),
    ])
    assert notices(page) == ["Saved."]
    live = server.services.dispatcher.agents[bob_id]
    assert (live.name, live.max_chats, set(live.languages), set(live.skills)) == ("Bob Builder", 5, {"ru"}, {"bet_settlement"})
    updated = await bob.wait_for("agent:updated", lambda a: a["max_chats"] == 5)
    assert updated["name"] == "Bob Builder"
    assert bob.sio.connected  # no role change: the session stays
    trail = [e for e in await audit.for_subject(server.services.db, bob_id) if e["action"] == "user.updated"]
    assert trail[-1]["details"]["max_chats"] == {"from": 2, "to": 5}

    status, page, _ = await ada.post(f"/admin/users/{bob_id}", {"name": "Bob", "email": "carol@example.test", "role": "agent", "max_chats": "-1"})
    assert status == 400
    assert field_errors(page) == {"max_chats": "The chat capacity must be between 0 and 50."}
    await bob.close()


async def test_a_renamed_agent_writes_under_the_new_name_from_the_console_already_open(server, ada):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    bob_id = (await user_row(server, "bob@example.test"))["id"]
    await ada.submit(f"/admin/users/{bob_id}", {"name": "Robert", "email": "bob@example.test", "role": "agent", "max_chats": "2"})
    await bob.wait_for("agent:updated", lambda a: a["name"] == "Robert")
    assert bob.sio.connected  # a rename ends no session

    ack = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": "Hello"})
    assert ack["ok"], ack
    assert ack["message"]["author"] == "Robert"
    shown = await alice.wait_for("message:new", lambda m: m["body"] == "Hello")
    assert shown["author"] == "Robert"  # the customer sees the name the admin gave, not the one before
    for peer in (bob, alice):
        await peer.close()


async def test_a_role_change_ends_the_users_sessions_at_once(server, ada):
    sam_cookie = await login_cookie(server.url, "sam@example.test")
    monitor = await Peer(server.url, "/monitor").connect(headers={"Cookie": sam_cookie})
    sam_id = (await user_row(server, "sam@example.test"))["id"]
    page = await ada.submit(f"/admin/users/{sam_id}", {"name": "Sam", "email": "sam@example.test", "role": "agent", "max_chats": "2"})
    assert "signed out" in notices(page)[0] or "sessions were ended" in notices(page)[0]
    await eventually(lambda: not monitor.sio.connected)
    assert not await cookie_works(server, sam_cookie)
    assert await cookie_works(server, await login_cookie(server.url, "sam@example.test"))


async def test_a_new_password_ends_sessions_and_replaces_the_old_one(server, ada):
    carol_cookie = await login_cookie(server.url, "carol@example.test")
    console = await Peer(server.url, "/agent").connect(headers={"Cookie": carol_cookie})
    await console.wait_for("session")
    carol_id = (await user_row(server, "carol@example.test"))["id"]
    page = await ada.submit(f"/admin/users/{carol_id}/password", {"password_mode": "generate"})
    password = shown_secret(page)
    await eventually(lambda: not console.sio.connected)  # the open console socket is closed at once
    assert not await cookie_works(server, carol_cookie)
    with pytest.raises(socketio.exceptions.ConnectionError, match="log in"):
        await Peer(server.url, "/agent").connect(headers={"Cookie": carol_cookie})
    with pytest.raises(AssertionError):
        await login_cookie(server.url, "carol@example.test", CAST_PASSWORD)
    assert await cookie_works(server, await login_cookie(server.url, "carol@example.test", password))

    status, page, _ = await ada.post(f"/admin/users/{carol_id}/password", {"password_mode": "set", "password": "1234567"})
    assert status == 400 and field_errors(page) == {"password": "Use at least 8 characters, or let the server generate a password."}
    assert [e["action"] for e in await audit.for_subject(server.services.db, carol_id)].count("user.password_changed") == 1


async def test_deactivation_throws_the_user_out_of_an_open_console_and_hands_back_their_chats(server, ada):
    bob_cookie = await login_cookie(server.url, "bob@example.test")
    bob, alice, conversation_id = await peers.active_chat(server.url)
    carol = await peers.agent(server.url, "carol@example.test")
    bob_id = (await user_row(server, "bob@example.test"))["id"]

    page = await ada.submit(f"/admin/users/{bob_id}/deactivate", CONFIRMED)
    assert "Bob is deactivated" in notices(page)[0]
    await eventually(lambda: not bob.sio.connected)  # the open /agent socket is closed at once
    assert not await cookie_works(server, bob_cookie)
    with pytest.raises(AssertionError):
        await login_cookie(server.url, "bob@example.test")
    refused = Peer(server.url, "/agent")
    with pytest.raises(socketio.exceptions.ConnectionError, match="unauthorized"):
        await refused.connect(headers={"Cookie": bob_cookie})
    assert refused.refusal["data"]["code"] == "unauthorized"  # what the console reads to go to sign-in

    # the customer is not left with nobody: the chat goes to Carol
    await carol.wait_for("chat:assigned", lambda e: e["conversation"]["id"] == conversation_id)
    assert server.services.dispatcher.conversations[conversation_id].agent_id == (await user_row(server, "carol@example.test"))["id"]
    assert bob_id not in server.services.dispatcher.agents
    assert "Deactivated" in text_of((await ada.get("/admin/users"))[1])

    page = await ada.submit(f"/admin/users/{bob_id}/reactivate")
    assert notices(page) == ["Bob can sign in again."]
    assert await cookie_works(server, await login_cookie(server.url, "bob@example.test"))
    assert [e["action"] for e in await audit.for_subject(server.services.db, bob_id)][-3:] == [
        "user.deactivated", "user.reactivated", "user.login"]
    for peer in (alice, carol):
        await peer.close()


async def test_deactivation_asks_for_confirmation_and_without_it_changes_nothing(server, ada):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    bob_id = (await user_row(server, "bob@example.test"))["id"]
    ada_id = (await user_row(server, ADA))["id"]
    _, token = await server.services.admin.tokens.issue(ada_id, TokenValues(bob_id, "crm"))

    status, page, _ = await ada.get(f"/admin/users/{bob_id}")
    form = page.split(f'action="/admin/users/{bob_id}/deactivate"', 1)[1].split("</form>", 1)[0]
    assert 'name="confirm" value="yes" required' in form
    assert "API tokens" in text_of(form)  # says what cannot be undone

    page = await ada.submit(f"/admin/users/{bob_id}/deactivate")  # the button without the box ticked
    assert notices(page) == ["Tick the box to confirm: Bob is signed out at once, their chats go back to the queue "
                             "and their API tokens are revoked for good."]
    assert (await user_row(server, "bob@example.test"))["active"]
    assert bob.sio.connected
    assert server.services.dispatcher.conversations[conversation_id].agent_id == bob_id
    assert await server.services.auth.user_for_api_token(token) is not None
    assert "user.deactivated" not in [e["action"] for e in await audit.for_subject(server.services.db, bob_id)]
    for peer in (bob, alice):
        await peer.close()


async def test_an_api_token_socket_of_a_deactivated_user_closes_too(server, ada):
    sam_id = (await user_row(server, "sam@example.test"))["id"]
    ada_id = (await user_row(server, ADA))["id"]
    _, token = await server.services.admin.tokens.issue(ada_id, TokenValues(sam_id, "monitor wall"))
    integration = await Peer(server.url, "/monitor").connect(auth={"token": token})
    await ada.submit(f"/admin/users/{sam_id}/deactivate", CONFIRMED)
    await eventually(lambda: not integration.sio.connected)


async def test_reactivating_a_user_does_not_bring_their_api_tokens_back(server, ada):
    # a token handed to an integration acting as someone who left stays dead when an admin lets
    # them back in: whoever reactivates them issues the tokens still needed, knowingly
    sam_id = (await user_row(server, "sam@example.test"))["id"]
    ada_id = (await user_row(server, ADA))["id"]
    token_id, token = await server.services.admin.tokens.issue(ada_id, TokenValues(sam_id, "monitor wall"))

    async def api_status() -> int:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/api/complaints", headers={"Authorization": f"Bearer {token}"}) as response:
                return response.status

    assert await api_status() == 200

    page = await ada.submit(f"/admin/users/{sam_id}/deactivate", CONFIRMED)
    assert "their API tokens revoked" in notices(page)[0]
    await ada.submit(f"/admin/users/{sam_id}/reactivate")
    assert await cookie_works(server, await login_cookie(server.url, "sam@example.test"))  # Sam is back

    assert await api_status() == 401
    refused = Peer(server.url, "/monitor")
    with pytest.raises(socketio.exceptions.ConnectionError, match="unauthorized"):
        await refused.connect(auth={"token": token})
    assert (await users.api_token(server.services.db, token_id))["revoked_at"] is not None  # type: ignore[index]
    revoked = [e for e in await audit.for_subject(server.services.db, token_id) if e["action"] == "api_token.revoked"]
    assert [(e["actor"], e["details"]["reason"]) for e in revoked] == [(ada_id, "user deactivated")]


async def test_chats_routed_to_a_user_while_they_are_deactivated_go_back_to_the_queue(server, ada):
    # the agent closes chats (each close routes a waiting one to them) while an admin deactivates
    # them: whatever routing assigned in between must not stay with someone who no longer works here
    carol_id = (await user_row(server, "carol@example.test"))["id"]
    for attempt in range(6):
        carol = await peers.agent(server.url, "carol@example.test")
        customers = [await peers.customer(server.url) for _ in range(4)]  # two seats, two waiting
        for n, customer in enumerate(customers):
            assert (await customer.call("chat:start", {"body": f"round {attempt} chat {n}"}))["ok"]
        await eventually(lambda: len(server.services.dispatcher.agents[carol_id].chats) == 2)
        held = sorted(server.services.dispatcher.agents[carol_id].chats)

        async def deactivate() -> None:
            await asyncio.sleep(0.002 * attempt)  # a different interleaving each time
            await ada.submit(f"/admin/users/{carol_id}/deactivate", CONFIRMED)

        # a close whose answer the deactivation cuts off may or may not have happened: either is fine
        closes = [carol.call("chat:close", {"conversation_id": c, "outcome": "resolved"}, timeout=3) for c in held]
        await asyncio.gather(deactivate(), *closes, return_exceptions=True)
        await eventually(lambda: not carol.sio.connected)
        stuck = await server.services.db.fetch(
            "SELECT c.id FROM conversations c JOIN users u ON u.id = c.agent_id WHERE c.status = 'active' AND u.active = 0"
        )
        assert stuck == [], f"attempt {attempt}: chats left with a deactivated user"
        assert await hostile.memory_problems(server.services) == [], attempt
        for customer in customers:
            await customer.close()
        await ada.submit(f"/admin/users/{carol_id}/reactivate")


async def test_an_admin_cannot_lock_themselves_out(server, ada):
    ada_id = (await user_row(server, ADA))["id"]
    page = await ada.submit(f"/admin/users/{ada_id}/deactivate", CONFIRMED)
    assert notices(page) == ["You cannot deactivate your own account; ask another admin."]
    status, page, _ = await ada.post(f"/admin/users/{ada_id}", {"name": "Ada", "email": ADA, "role": "agent", "max_chats": "2"})
    assert status == 400 and field_errors(page) == {"role": "You cannot change your own role; ask another admin."}
    status, page, _ = await ada.post(f"/admin/users/{ada_id}/password", {"password_mode": "generate"})
    assert status == 400 and "Type your own new password" in field_errors(page)["password"]
    assert (await user_row(server, ADA))["active"]
    # a typed password works, and signs the admin out
    status, _, response = await ada.post(f"/admin/users/{ada_id}/password", {"password_mode": "set", "password": "a-brand-new-secret"})
    assert status == 303 and response.headers["Location"].startswith("/login")
    assert (await ada.get("/admin/users"))[0] == 303
    await login_cookie(server.url, ADA, "a-brand-new-secret")


async def test_unknown_users_are_not_found(server, ada):
    status, _, _ = await ada.get("/admin/users/u_nobody")
    assert status == 404
    for action, form in (("deactivate", {}), ("reactivate", {}), ("password", {"password_mode": "generate"}),
                         ("", {"name": "x", "email": "x@example.test", "role": "agent", "max_chats": "99"})):
        page = await ada.submit(f"/admin/users/u_nobody/{action}".rstrip("/"), form)
        assert notices(page) == ["No such user."], action
