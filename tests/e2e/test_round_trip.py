"""A customer reaches an agent and they talk, through the real server and real Socket.IO clients."""

from tests import peers
from tests.peers import client_id


async def test_customer_and_agent_exchange_messages(server):
    bob = await peers.agent(server.url, "bob@example.test")
    alice = await peers.customer(server.url)
    session = alice.received("session")[0]
    assert session["conversation"] is None and session["token"]

    started = await alice.call("chat:start", {"topic": "withdrawals", "body": "My withdrawal is late", "name": "Alice"})
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]

    assigned = await bob.wait_for("chat:assigned")
    assert assigned["conversation"]["id"] == conversation_id
    assert assigned["customer"]["name"] == "Alice"
    assert [m["body"] for m in assigned["messages"]] == ["My withdrawal is late"]
    told = await alice.wait_for("chat:assigned")
    assert told["agent"]["name"] == "Bob"

    reply = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "Checking it now"})
    assert reply["ok"] and reply["message"]["seq"] == 2
    got = await alice.wait_for("message:new", lambda m: m["body"] == "Checking it now")
    assert got["sender"] == "agent" and got["author"] == "Bob"

    answer = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "Thanks!"})
    assert answer["ok"] and answer["message"]["seq"] == 3
    heard = await bob.wait_for("message:new", lambda m: m["body"] == "Thanks!")
    assert heard["sender"] == "customer"

    await alice.close()
    await bob.close()
