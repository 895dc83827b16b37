"""An address that e-mail cannot reach is refused where it is typed, with nothing stored.

Accepting it would promise the customer an acknowledgement and replies by e-mail that the outbox
could never send; the widget and the console's form say so at once instead.
"""

from __future__ import annotations

import aiohttp

from tests import peers

UNREACHABLE = ["jürgen@example.de", '"quoted"@example.test', "a(b)@example.test", "anna@example", "a@b@c.test", "a\x85b@example.test"]


async def test_the_widget_refuses_an_address_mail_cannot_reach_and_starts_nothing(server):
    for address in UNREACHABLE:  # a customer each: chat starts are few per customer
        customer = await peers.customer(server.url)
        customer_id = customer.received("session")[0]["customer_id"]
        started = await customer.call("chat:start", {"topic": "withdrawals", "body": "hello", "email": address})
        assert started["error"]["code"] == "invalid" and "email" in started["error"]["message"], (address, started)
        submitted = await customer.call("complaint:submit", {"category": "withdrawals", "subject": "s", "body": "b", "email": address})
        assert submitted["error"]["code"] == "invalid" and "email" in submitted["error"]["message"], (address, submitted)
        assert await server.services.db.fetch("SELECT id FROM conversations WHERE customer_id = ?", (customer_id,)) == []
        assert await server.services.db.fetch("SELECT id FROM complaints WHERE customer_id = ?", (customer_id,)) == []
        assert (await server.services.db.fetch_one("SELECT email FROM customers WHERE id = ?", (customer_id,)))["email"] is None
        await customer.close()

    alice = await peers.customer(server.url)
    alice_id = alice.received("session")[0]["customer_id"]
    started = await alice.call("chat:start", {"topic": "withdrawals", "body": "hello", "email": " anna@example.test "})
    assert started["ok"], started
    assert (await server.services.db.fetch_one("SELECT email FROM customers WHERE id = ?", (alice_id,)))["email"] == "anna@example.test"
    await alice.close()


async def test_the_api_refuses_an_address_mail_cannot_reach_and_logs_nothing(server):
    token = await server.services.auth.issue_api_token(
        (await server.services.db.fetch_one("SELECT id FROM users WHERE email = 'bob@example.test'"))["id"], "intake"
    )
    base = {"category": "withdrawals", "subject": "By phone", "body": "Called about a withdrawal", "channel": "phone"}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        for address in UNREACHABLE:
            async with http.post(f"{server.url}/api/complaints", json={**base, "customer_email": address}) as response:
                answer = await response.json()
                assert response.status == 400 and answer["error"]["code"] == "invalid", (address, answer)
                assert "customer_email" in answer["error"]["message"], answer
    assert await server.services.db.fetch("SELECT id FROM complaints") == []
