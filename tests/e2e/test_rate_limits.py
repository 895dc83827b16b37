"""Rate limits on the real server: a flood is refused with the contract's answer, and the next client is served.

Another address is a real one: the client binds to another loopback address (127.0.0.2, 127.0.0.3),
so the server sees a different peer.
"""

from __future__ import annotations

import asyncio

import aiohttp

from tests import complaint_steps as steps
from tests import peers
from tests.addresses import customer_from, from_address, login, rate_limited
from tests.conftest import seed_cast
from tests.peers import CAST_PASSWORD


async def test_login_brute_force_is_refused_per_address_and_per_email(start_server):
    server = await start_server(logins_per_minute=5)
    await seed_cast(server.services)
    async with from_address("127.0.0.1") as attacker, from_address("127.0.0.2") as elsewhere, \
            from_address("127.0.0.3") as colleague:
        for _ in range(5):
            status, _ = await login(attacker, server.url, "sam@example.test", "wrong-password")
            assert status == 401
        status, html = await login(attacker, server.url, "sam@example.test", "wrong-password")
        assert status == 429 and "Too many attempts" in html
        # the right password does not get through either, nor another account from that address
        status, _ = await login(attacker, server.url, "sam@example.test", CAST_PASSWORD)
        assert status == 429
        status, _ = await login(attacker, server.url, "bob@example.test", CAST_PASSWORD)
        assert status == 429

        # per e-mail: the attacked account is held from any address, case folded
        status, html = await login(elsewhere, server.url, "SAM@example.test", CAST_PASSWORD)
        assert status == 429 and "Too many attempts" in html
        # padding the address, which still signs in to the same account, does not buy a fresh allowance
        for spelling in (" sam@example.test", "sam@example.test\t", "\u00a0Sam@Example.test\n"):
            status, html = await login(elsewhere, server.url, spelling, CAST_PASSWORD)
            assert status == 429 and "Too many attempts" in html, spelling
        # another person from another address is served normally
        status, _ = await login(colleague, server.url, "bob@example.test", CAST_PASSWORD)
        assert status == 303
        status, _ = await login(elsewhere, server.url, "carol@example.test", CAST_PASSWORD)
        assert status == 303


async def test_chat_start_floods_are_rate_limited(start_server):
    server = await start_server(chat_starts_per_minute=4)
    await seed_cast(server.services)
    # per connection: a burst of 3, then refused (before the address is charged)
    flooder = await peers.customer(server.url)
    acks = [await flooder.call("chat:start", {"body": f"start {i}"}) for i in range(4)]
    assert not any(rate_limited(ack) for ack in acks[:3]), acks
    assert rate_limited(acks[3]), acks[3]
    assert flooder.sio.connected

    # per address: the fourth start from this address is the last one; new connections do not reset it
    second = await peers.customer(server.url)
    assert (await second.call("chat:start", {"body": "fourth from this address"}))["ok"]
    third = await peers.customer(server.url)
    refused = await third.call("chat:start", {"body": "fifth from this address"})
    assert rate_limited(refused) and "address" in refused["error"]["message"], refused

    # a customer elsewhere is served normally right after
    async with from_address("127.0.0.2") as http:
        other = await customer_from(server.url, http)
        started = await other.call("chat:start", {"body": "I am someone else"})
        assert started["ok"], started
        await other.close()
    for peer in (flooder, second, third):
        await peer.close()


async def test_chats_waiting_from_one_address_are_capped_however_many_customers_start_them(start_server):
    # each chat left waiting becomes a complaint at its deadline: a script starting chats from fresh
    # customers and leaving must not fill the queue, and later the complaints list, by the thousand
    server = await start_server(waiting_chats_per_address=3, queue_timeout=600)
    await seed_cast(server.services)  # nobody online: every chat waits
    waiting = []
    for n in range(3):
        customer = await peers.customer(server.url)
        started = await customer.call("chat:start", {"body": f"customer {n} waiting"})
        assert started["ok"] and started["conversation"]["status"] == "queued", started
        waiting.append((customer, started["conversation"]["id"]))
    late = await peers.customer(server.url)
    refused = await late.call("chat:start", {"body": "one more from this address"})
    assert rate_limited(refused) and "waiting from this address" in refused["error"]["message"], refused
    assert late.sio.connected
    rows = await server.services.db.fetch("SELECT COUNT(*) AS n FROM conversations")
    assert rows == [{"n": 3}]
    # a waiting customer asking again gets their own chat, not a refusal
    again = await waiting[0][0].call("chat:start", {"body": "still there?"})
    assert again["ok"] and again["conversation"]["id"] == waiting[0][1], again

    # another address is served at the same time
    async with from_address("127.0.0.2") as http:
        other = await customer_from(server.url, http)
        assert (await other.call("chat:start", {"body": "I live elsewhere"}))["ok"]
        await other.close()

    # a place frees when a chat leaves the queue: ended by its customer, or taken by an agent
    ended = await waiting[0][0].call("chat:end", {"conversation_id": waiting[0][1]})
    assert ended["ok"] and ended["conversation"]["outcome"] == "abandoned", ended
    assert (await late.call("chat:start", {"body": "my turn now"}))["ok"]
    bob = await peers.agent(server.url, "bob@example.test")  # takes two waiting chats
    await bob.wait_for("chat:assigned")
    newcomer = await peers.customer(server.url)
    assert (await newcomer.call("chat:start", {"body": "and me"}))["ok"]
    for peer in (late, newcomer, bob, *(c for c, _ in waiting)):
        await peer.close()


async def test_chat_starts_arriving_together_from_one_address_are_held_to_the_cap(start_server):
    server = await start_server(waiting_chats_per_address=3)
    await seed_cast(server.services)
    customers = [await peers.customer(server.url) for _ in range(10)]
    acks = await asyncio.gather(*(c.call("chat:start", {"body": f"together {n}"}) for n, c in enumerate(customers)))
    assert sum(1 for ack in acks if ack["ok"]) == 3, acks
    assert all(rate_limited(ack) for ack in acks if not ack["ok"]), acks
    assert len(server.services.dispatcher.queue_order()) == 3
    for customer in customers:
        await customer.close()


async def test_message_and_typing_floods_are_limited_per_address_however_many_customers_send_them(start_server):
    # a flooder need not reuse one customer: every connect without a token is a new customer with
    # fresh buckets, so the address holds the budget that new identities cannot renew
    server = await start_server(customer_events_per_address_per_minute=30)
    await seed_cast(server.services)
    bob = await peers.agent(server.url, "bob@example.test")  # staff at the same address
    flooders, chats = [], []
    for n in range(5):  # 5 customers x (1 start + 5 messages) = the address's 30 events
        flooder = await peers.customer(server.url)
        started = await flooder.call("chat:start", {"body": f"customer {n} here"})
        assert started["ok"], started
        for i in range(5):
            sent = await flooder.call("message:send", {"conversation_id": started["conversation"]["id"],
                                                       "client_id": peers.client_id(), "body": f"flood {n}.{i}"})
            assert sent["ok"], (n, i, sent)
        flooders.append(flooder)
        chats.append(started["conversation"]["id"])

    # each customer is far inside its own budget, yet the address is spent: messages, typing and a
    # start by a brand-new customer are all refused, and each socket stays open
    refused_id = peers.client_id()
    refusals = [
        await flooders[0].call("message:send", {"conversation_id": chats[0], "client_id": refused_id, "body": "one more"}),
        await flooders[1].call("typing", {"conversation_id": chats[1], "typing": True}),
    ]
    newcomer = await peers.customer(server.url)
    refusals.append(await newcomer.call("chat:start", {"body": "a new identity"}))
    for ack in refusals:
        assert rate_limited(ack) and "address" in ack["error"]["message"], ack
    assert all(peer.sio.connected for peer in [*flooders, newcomer])
    # nothing refused was written
    stored = await server.services.db.fetch("SELECT COUNT(*) AS n FROM messages WHERE client_id = ?", (refused_id,))
    assert stored[0]["n"] == 0
    assert await server.services.db.fetch("SELECT id FROM conversations WHERE customer_id = ?",
                                          ((await newcomer.wait_for("session"))["customer_id"],)) == []

    # a customer at another address is served normally, and so is the agent at this one
    async with from_address("127.0.0.2") as http:
        other = await customer_from(server.url, http)
        started = await other.call("chat:start", {"body": "I am someone else"})
        assert started["ok"], started
        assert await other.call("typing", {"conversation_id": started["conversation"]["id"], "typing": True}) == {"ok": True}
        await other.close()
    assigned = await bob.wait_for("chat:assigned")
    answered = await bob.call("message:send", {"conversation_id": assigned["conversation"]["id"],
                                               "client_id": peers.client_id(), "body": "an agent is never held by customers"})
    assert answered["ok"], answered

    # the budget refills at its rate (30 a minute: one every two seconds), and the same socket goes on
    await asyncio.sleep(2.2)
    again = await flooders[0].call("message:send", {"conversation_id": chats[0], "client_id": refused_id, "body": "one more"})
    assert again["ok"], again
    for peer in (*flooders, newcomer, bob):
        await peer.close()


async def test_typing_storms_are_rate_limited_and_the_connection_survives(server):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    acks = [await alice.call("typing", {"conversation_id": conversation_id, "typing": i % 2 == 0}) for i in range(30)]
    refused = [ack for ack in acks if rate_limited(ack)]
    assert acks[:10] == [{"ok": True}] * 10
    assert len(refused) >= 15, acks
    await asyncio.sleep(0.3)
    relayed = len(bob.received("typing"))
    assert relayed <= 30 - len(refused)

    # the socket stays: after a short pause typing and messages go through
    assert alice.sio.connected
    assert await alice.call("typing", {"conversation_id": conversation_id, "typing": False}) == {"ok": True}
    sent = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": peers.client_id(), "body": "still here"})
    assert sent["ok"], sent
    await bob.wait_for("message:new", lambda d: d["body"] == "still here")

    # the agent's own typing has its own bucket and is served normally
    assert await bob.call("typing", {"conversation_id": conversation_id, "typing": True}) == {"ok": True}
    await alice.wait_for("typing")
    for peer in (bob, alice):
        await peer.close()


async def test_complaint_reply_and_rate_floods_are_limited(server):
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice)
    reference = complaint["reference"]
    acks = [await alice.call("complaint:reply", {"reference": reference, "body": f"any news? {i}"}) for i in range(11)]
    assert all(ack["ok"] for ack in acks[:10]), acks
    assert rate_limited(acks[10]), acks[10]
    await asyncio.sleep(2.1)  # then one every two seconds
    assert (await alice.call("complaint:reply", {"reference": reference, "body": "after a pause"}))["ok"]
    assert rate_limited(await alice.call("complaint:reply", {"reference": reference, "body": "too soon"}))

    # ratings: five answers (here refusals: the complaint is not closed), then rate limited
    rates = [await alice.call("complaint:rate", {"reference": reference, "score": 5}) for _ in range(6)]
    assert not any(rate_limited(ack) for ack in rates[:5]), rates
    assert rate_limited(rates[5]), rates[5]
    assert alice.sio.connected
    assert (await alice.call("complaint:get", {"reference": reference}))["ok"]

    # another customer is served normally right after
    eve = await peers.customer(server.url)
    eves = await steps.submit(eve, subject="Eve's deposit")
    replied = await eve.call("complaint:reply", {"reference": eves["reference"], "body": "Any news?"})
    assert replied["ok"], replied
    for peer in (alice, eve):
        await peer.close()


async def test_complaints_from_one_address_are_limited_however_many_customers_file_them(start_server):
    # each complaint may e-mail the address it names: fresh customers must not make the server a mail relay
    server = await start_server(complaints_per_address_per_hour=3)
    await seed_cast(server.services)
    filers = [await peers.customer(server.url) for _ in range(3)]
    for n, filer in enumerate(filers):  # three customers, each far inside their own budget
        await steps.submit(filer, subject=f"Complaint {n}")
    late = await peers.customer(server.url)
    refused = await late.call("complaint:submit", {"category": "withdrawals", "subject": "Claim at http://x.test", "body": "x"})
    assert rate_limited(refused) and "address" in refused["error"]["message"], refused
    # ending a chat as not solved files a complaint too, so it is held the same way; the chat stays open
    chat = (await late.call("chat:start", {"body": "My payout is late", "email": "victim@example.test"}))["conversation"]
    refused = await late.call("chat:end", {"conversation_id": chat["id"], "resolved": False})
    assert rate_limited(refused), refused
    assert (await server.services.db.fetch_one("SELECT status FROM conversations WHERE id = ?", (chat["id"],)))["status"] != "closed"  # type: ignore[index]
    assert len(await server.services.db.fetch("SELECT id FROM complaints")) == 3
    assert await server.services.db.fetch("SELECT id FROM outbox WHERE recipient = 'victim@example.test'") == []
    # ending it as solved is still possible, and a customer at another address files normally
    assert (await late.call("chat:end", {"conversation_id": chat["id"], "resolved": True}))["ok"]
    async with from_address("127.0.0.2") as http:
        other = await customer_from(server.url, http)
        await steps.submit(other, subject="From another address")
        await other.close()
    assert len(await server.services.db.fetch("SELECT id FROM complaints")) == 4
    for peer in (*filers, late):
        await peer.close()


async def test_a_complaint_sent_again_after_its_answer_was_lost_is_the_one_filed_not_another_against_the_limit(start_server):
    """The widget's retry of a filed complaint (same client_id) answers with that complaint: it is not
    counted against the address's hourly limit, nor refused when the limit is reached or its category
    was retired meanwhile."""
    server = await start_server(complaints_per_address_per_hour=2)
    await seed_cast(server.services)
    alice = await peers.customer(server.url)
    token = alice.received("session")[0]["token"]
    form = {"category": "bonuses", "subject": "Bonus missing", "body": "The welcome bonus never came.", "client_id": peers.client_id()}
    filed = (await alice.call("complaint:submit", form))["complaint"]
    await alice.close()  # the answer was lost with the connection: the widget sends it again
    alice = await peers.customer(server.url, token=token)
    again = await alice.call("complaint:submit", form)
    assert again["ok"] and again["complaint"]["reference"] == filed["reference"], again
    dave = await peers.customer(server.url)  # the budget had room for this one
    assert (await dave.call("complaint:submit", {**form, "subject": "Another one", "client_id": peers.client_id()}))["ok"]

    # the limit is reached now, and the bonuses category retired: the retry still finds its complaint
    await steps.retire_category(server.services, "bonuses")
    again = await alice.call("complaint:submit", form)
    assert again["ok"] and again["complaint"]["reference"] == filed["reference"], again
    refused = await dave.call("complaint:submit", {**form, "category": "withdrawals", "client_id": peers.client_id()})
    assert rate_limited(refused) and "address" in refused["error"]["message"], refused
    assert len(await server.services.db.fetch("SELECT id FROM complaints")) == 2
    for peer in (alice, dave):
        await peer.close()


async def test_tracking_page_posts_are_limited(server):
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice)
    eve = await peers.customer(server.url)
    eves = await steps.submit(eve, subject="Eve's deposit")

    def form_url(of: dict) -> str:
        return f"{server.url}/track/{of['reference']}/reply"

    async with from_address("127.0.0.1") as http, from_address("127.0.0.2") as elsewhere:
        origin = {"Origin": server.url}
        for i in range(20):
            async with http.post(form_url(complaint), data={"key": complaint["tracking_key"], "body": f"news {i}?"},
                                 headers=origin, allow_redirects=False) as response:
                assert response.status == 303, (i, await response.text())
        async with http.post(form_url(complaint), data={"key": complaint["tracking_key"], "body": "one more"},
                             headers=origin, allow_redirects=False) as response:
            assert response.status == 429
            assert "one more" in await response.text()  # the draft is kept for later
        # the same address on another complaint is held too: the limit is per address
        async with http.post(form_url(eves), data={"key": eves["tracking_key"], "body": "hello"},
                             headers=origin, allow_redirects=False) as response:
            assert response.status == 429
        # reading the page still works
        async with http.get(f"{server.url}/track/{complaint['reference']}?key={complaint['tracking_key']}") as response:
            assert response.status == 200
        # someone at another address is served normally right after
        async with elsewhere.post(form_url(eves), data={"key": eves["tracking_key"], "body": "hello"},
                                  headers=origin, allow_redirects=False) as response:
            assert response.status == 303
    detail = await alice.call("complaint:get", {"reference": complaint["reference"]})
    assert "one more" not in str(detail)
    for peer in (alice, eve):
        await peer.close()


async def test_api_writes_and_logged_complaints_are_limited_per_user(start_server):
    # a leaked API token, or an agent's script, must not turn logged complaints into a mail relay
    server = await start_server(api_writes_per_minute=8, api_complaints_per_minute=3)
    ids = await seed_cast(server.services)
    bob_token = await server.services.auth.issue_api_token(ids["bob"], "script")
    carol_token = await server.services.auth.issue_api_token(ids["carol"], "script")

    async def log(http, token: str, n: int) -> tuple[int, dict]:
        async with http.post(f"{server.url}/api/complaints", headers={"Authorization": f"Bearer {token}"}, json={
            "category": "other", "subject": f"Call {n}", "body": "Logged from a phone call.", "channel": "phone",
            "customer_email": "victim@example.org",
        }) as response:
            return response.status, await response.json()

    async with aiohttp.ClientSession() as http:
        answers = [await log(http, bob_token, n) for n in range(4)]
        assert [status for status, _ in answers] == [201, 201, 201, 429], answers
        assert answers[3][1]["error"]["code"] == "rate_limited"
        # the refused one wrote nothing and e-mailed nobody
        assert (await server.services.db.fetch("SELECT COUNT(*) AS n FROM complaints"))[0]["n"] == 3
        assert (await server.services.db.fetch("SELECT COUNT(*) AS n FROM outbox WHERE recipient = 'victim@example.org'"))[0]["n"] == 3
        reference = answers[0][1]["complaint"]["reference"]
        # other writes share the user's budget of 8: three spent, four were charged in all
        notes = []
        for n in range(6):
            async with http.post(f"{server.url}/api/complaints/{reference}/replies", headers={"Authorization": f"Bearer {bob_token}"},
                                 json={"kind": "note", "body": f"note {n}"}) as response:
                notes.append(response.status)
        assert notes == [201, 201, 201, 201, 429, 429], notes
        # reading is not limited, and a colleague has a budget of their own
        async with http.get(f"{server.url}/api/complaints/{reference}", headers={"Authorization": f"Bearer {bob_token}"}) as response:
            assert response.status == 200
        assert (await log(http, carol_token, 99))[0] == 201


async def test_made_up_event_names_cost_their_sender_like_real_events(start_server):
    server = await start_server(customer_events_per_address_per_minute=33)
    await seed_cast(server.services)
    flooder = await peers.customer(server.url)
    acks = [await flooder.call(f"made:up:{n}", {}) for n in range(35)]
    codes = [ack["error"]["code"] for ack in acks]
    # the principal's default budget (a burst of 30), then refused as a flood, the socket kept
    assert codes == ["invalid"] * 30 + ["rate_limited"] * 5, codes
    assert flooder.sio.connected
    # and the address paid for the thirty it answered: a neighbour has the three left of its 33
    neighbour = await peers.customer(server.url)
    answers = [await neighbour.call("history", {"conversation_id": "cv_x"}) for _ in range(4)]
    assert [rate_limited(ack) for ack in answers] == [False, False, False, True], answers
    for peer in (flooder, neighbour):
        await peer.close()


async def test_twenty_messages_waiting_for_the_team_are_told_as_such_in_the_widget_and_on_the_tracking_page(server):
    """The limit on messages in a row before the team answers is not "going too fast": the widget and
    the tracking page say what the customer is waiting for."""
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice)
    customer = await server.services.db.fetch_one("SELECT * FROM customers WHERE id = ?", (alice.received("session")[0]["customer_id"],))
    for n in range(20):
        await server.services.complaints.customer_reply(customer, complaint["reference"], f"Any news? {n}", None)
    refused = await alice.call("complaint:reply", {"reference": complaint["reference"], "body": "Hello?"})
    assert refused["ok"] is False and refused["error"]["code"] == "rate_limited" and refused["error"]["reason"] == "unanswered"
    async with from_address("127.0.0.9") as http:
        async with http.post(f"{server.url}/track/{complaint['reference']}/reply", allow_redirects=False,
                             data={"key": complaint["tracking_key"], "body": "Hello?", "lang": "en"},
                             headers={"Origin": server.url}) as response:
            page = await response.text()
    assert response.status == 429
    assert "waiting for our team" in page and "going a bit fast" not in page
    assert "Hello?" in page  # the draft is kept for later
    await alice.close()
