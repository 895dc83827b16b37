"""Long chats: `history` and `chat:assigned` answer in pages bounded by count and bytes.

A customer may fill their own chat with hundreds of 4,000-character messages inside the rate limits.
Each page is then still small, says whether more follow, and paging by seq returns every message once.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from chatserver import keys
from chatserver.services.dispatch import ASSIGNED_PAGE_BYTES
from chatserver.store import conversations, users
from chatserver.store.conversations import PAGE_BYTES, PAGE_MESSAGES

from tests import peers
from tests.peers import Peer, client_id

LONG = 4000  # max_message_chars: the longest message a customer may send
# Cyrillic takes two bytes a character in UTF-8, so the byte budget, not the character count, must cut
BODIES = ("x" * LONG, "ж" * LONG)


async def fill_chat(server: Any, customer: Peer, count: int) -> str:
    """A queued chat of `count` messages of the longest kind, written through the service as sends would."""
    started = await customer.call("chat:start", {"body": "first"})
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]
    row = await server.services.db.fetch_one("SELECT * FROM customers WHERE id = ?", (customer.received("session")[0]["customer_id"],))
    for n in range(count - 1):
        body = f"{n + 2} {BODIES[n % 2]}"[:LONG]
        await server.services.chats.post_customer_message(row, conversation_id, client_id(), body)
    return conversation_id


def body_bytes(messages: list[dict]) -> int:
    return sum(len(m["body"].encode()) for m in messages)


def frame_bytes(payload: Any) -> int:
    """What the payload weighs on the wire: the server encodes JSON as UTF-8 without escapes."""
    return len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())


async def page_through(peer: Peer, conversation_id: str, after_seq: int = 0) -> list[dict]:
    """Every answer from `after_seq` on, as a client pages: again after the last seq while `more`."""
    answers = []
    while True:
        answer = await peer.call("history", {"conversation_id": conversation_id, "after_seq": after_seq})
        assert answer["ok"], answer
        answers.append(answer)
        if not answer["more"]:
            return answers
        after_seq = answer["messages"][-1]["seq"]


def drops(server: Any) -> float:
    return server.server.app[keys.METRICS].registry.get_sample_value("chatserver_slow_connections_dropped_total")


async def test_history_answers_stay_small_and_paging_returns_every_message_once_in_order(server, closing):
    alice = await peers.customer(server.url)
    closing.append(alice)
    total = 600
    conversation_id = await fill_chat(server, alice, total)

    answers = await page_through(alice, conversation_id)
    for answer in answers:
        messages = answer["messages"]
        assert 1 <= len(messages) <= PAGE_MESSAGES
        assert body_bytes(messages) <= PAGE_BYTES
        assert frame_bytes(answer) < PAGE_BYTES + 64 * 1024  # ids, names and stamps besides the bodies
    assert [a["more"] for a in answers] == [True] * (len(answers) - 1) + [False]
    seqs = [m["seq"] for a in answers for m in a["messages"]]
    assert seqs == list(range(1, total + 1))
    assert all(len(a["messages"]) < PAGE_MESSAGES for a in answers)  # the byte budget cut them, not the count

    # from the middle, and past the end
    middle = await page_through(alice, conversation_id, after_seq=450)
    assert [m["seq"] for a in middle for m in a["messages"]] == list(range(451, total + 1))
    assert await alice.call("history", {"conversation_id": conversation_id, "after_seq": total}) == {"ok": True, "messages": [], "more": False}


async def test_short_messages_are_paged_by_count_and_a_staff_note_is_paged_for_staff_only(server, closing):
    bob, alice, conversation_id = await peers.active_chat(server.url)
    closing.extend([bob, alice])
    row = await server.services.db.fetch_one("SELECT * FROM customers WHERE id = ?", (alice.received("session")[0]["customer_id"],))
    for n in range(2, 601):
        await server.services.chats.post_customer_message(row, conversation_id, client_id(), f"short {n}")
    note = await bob.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "staff only", "internal": True})
    assert note["ok"] and note["message"]["seq"] == 601
    await server.services.chats.post_customer_message(row, conversation_id, client_id(), "after the note")

    staff = await page_through(bob, conversation_id)
    assert [len(a["messages"]) for a in staff] == [PAGE_MESSAGES, 102]
    assert [m["seq"] for a in staff for m in a["messages"]] == list(range(1, 603))
    customer = await page_through(alice, conversation_id)
    # customers count only what they may see: no gap where the note is
    assert [m["seq"] for a in customer for m in a["messages"]] == list(range(1, 602))
    assert "staff only" not in [m["body"] for a in customer for m in a["messages"]]


async def test_a_page_always_holds_one_message_however_large_so_paging_moves_on(server, closing):
    alice = await peers.customer(server.url)
    closing.append(alice)
    conversation_id = await fill_chat(server, alice, 3)
    db = server.services.db
    pages = [await conversations.messages_page(db, conversation_id, seq, include_internal=False, max_bytes=10) for seq in (0, 1, 2)]
    assert [[m["seq"] for m in p.messages] for p in pages] == [[1], [2], [3]]
    assert [p.more for p in pages] == [True, True, False]


async def test_an_agent_given_a_long_chat_gets_a_small_first_page_keeps_the_connection_and_pages_the_rest(server, closing):
    alice = await peers.customer(server.url)
    closing.append(alice)
    total = 500  # 2 MB of bodies: twice the send queue a console may have waiting
    conversation_id = await fill_chat(server, alice, total)

    bob = await peers.agent(server.url, "bob@example.test", online=False)
    closing.append(bob)
    online = await bob.call("presence:set", {"status": "online"})  # the frame after chat:assigned
    assert online["ok"], online
    assigned = await bob.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == conversation_id)
    assert assigned["more"] is True
    assert body_bytes(assigned["messages"]) <= ASSIGNED_PAGE_BYTES
    assert frame_bytes(assigned) < ASSIGNED_PAGE_BYTES + 16 * 1024
    first = assigned["messages"]
    assert [m["seq"] for m in first] == list(range(1, len(first) + 1))

    sent = await alice.call("message:send", {"conversation_id": conversation_id, "client_id": client_id(), "body": "still there?"})
    assert sent["ok"], sent
    await bob.wait_for("message:new", lambda m: m["body"] == "still there?")
    rest = await page_through(bob, conversation_id, after_seq=first[-1]["seq"])
    seqs = [m["seq"] for m in first] + [m["seq"] for a in rest for m in a["messages"]]
    assert seqs == list(range(1, total + 2))
    assert bob.sio.connected and drops(server) == 0


async def test_staff_read_a_long_originating_chat_of_a_complaint_page_by_page_to_its_last_message(server, closing):
    alice = await peers.customer(server.url)
    closing.append(alice)
    total = 600
    conversation_id = await fill_chat(server, alice, total)
    ended = await alice.call("chat:end", {"conversation_id": conversation_id, "resolved": False})
    assert ended["ok"] and ended["conversation"]["outcome"] == "complaint", ended
    reference = ended["conversation"]["complaint_reference"]
    bob = await users.by_email(server.services.db, "bob@example.test")
    token = await server.services.auth.issue_api_token(bob["id"], "tests")
    headers = {"Authorization": f"Bearer {token}"}

    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{server.url}/api/complaints/{reference}") as response:
            assert response.status == 200
            chat = (await response.json())["complaint"]["conversation"]
        assert chat["more"] is True and body_bytes(chat["messages"]) <= PAGE_BYTES
        seqs = [m["seq"] for m in chat["messages"]]
        more = True
        while more:
            async with http.get(f"{server.url}/api/complaints/{reference}/chat", params={"after_seq": str(seqs[-1])}) as response:
                assert response.status == 200
                page = await response.json()
            assert 1 <= len(page["messages"]) and body_bytes(page["messages"]) <= PAGE_BYTES
            seqs += [m["seq"] for m in page["messages"]]
            more = page["more"]
        # down to the customer's last words, which the first page alone left out
        assert seqs == list(range(1, total + 1))
        assert page["messages"][-1]["body"].startswith(f"{total} ")

        async with http.get(f"{server.url}/api/complaints/{reference}/chat", params={"after_seq": "-1"}) as response:
            assert response.status == 400 and (await response.json())["error"]["code"] == "invalid"
        async with http.get(f"{server.url}/api/complaints/C-2000-000001/chat") as response:
            assert response.status == 404 and (await response.json())["error"]["code"] == "not_found"
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(f"{server.url}/api/complaints/{reference}/chat") as response:
            assert response.status == 401
