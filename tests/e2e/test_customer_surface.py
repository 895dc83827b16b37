"""What customers hold and reach without signing in: tracking links, and what keeps them their own.

A tracking link's key is HMAC-SHA256 of the reference under the server's secret key. References are
sequential by design, so the key is all that stands between a stranger and every complaint: it must
never be made with a secret anyone could know, such as an empty one.
"""

from __future__ import annotations

import hashlib
import json
import hmac
from pathlib import Path

import aiohttp
import pytest
import socketio

from chatserver.config import SettingsError
from tests import complaint_steps as steps
from tests import peers
from tests.faults import fill_up
from tests.procs import ServerProcesses, free_port, run_cli


def key_under(secret: str, reference: str) -> str:
    return hmac.new(secret.encode(), f"track:{reference}".encode(), hashlib.sha256).hexdigest()[:32]


async def status_of(url: str) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as page:
            return page.status


@pytest.mark.slow
async def test_a_full_disk_at_the_first_start_leaves_no_empty_secret_for_the_next_start_to_sign_with(
    procs: ServerProcesses, small_disk: Path
) -> None:
    db = small_disk / "chat.db"
    fill_up(small_disk / "filler")
    first = procs.server(db=db, name="first")  # no CHATSERVER_SECRET_KEY: the key is made beside the database
    first.spawn()
    assert first.proc is not None
    assert first.proc.wait(timeout=20) != 0, first.output()

    (small_disk / "filler").unlink()  # the operator makes room and starts it again
    second = await procs.server(db=db, name="second").start()
    alice = await peers.customer(second.url)
    complaint = await steps.submit(alice)
    await alice.close()
    reference = complaint["reference"]
    assert await status_of(f"{second.url}/track/{reference}?key={complaint['tracking_key']}") == 200
    # a key anyone can compute from the reference alone opens nothing
    assert await status_of(f"{second.url}/track/{reference}?key={key_under('', reference)}") == 404
    secret = (small_disk / "chat.db.secret").read_text(encoding="utf-8")
    assert len(secret) == 64, f"the server signs with {secret!r}"


@pytest.mark.parametrize("content", ["", "\n", "  \n", "3f2a9c"], ids=["empty", "newline", "blank", "cut-short"])
async def test_a_secret_key_file_that_holds_no_usable_key_is_refused_at_start(start_server, tmp_path, content) -> None:
    secret_file = tmp_path / "chat.db.secret"
    secret_file.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match="chat.db.secret"):
        await start_server(secret_key="")
    assert secret_file.read_text(encoding="utf-8") == content  # left for the operator to look at


def test_serve_refuses_an_empty_secret_key_file_in_one_line(tmp_path) -> None:
    db = tmp_path / "chat.db"
    (tmp_path / "chat.db.secret").write_text("", encoding="utf-8")
    result = run_cli("serve", "--db", str(db), "--port", str(free_port()), timeout=20)
    assert result.returncode == 2, result
    assert result.stderr.strip().splitlines() == [
        f"chatserver: the secret key file {db}.secret holds no usable key (0 characters); remove it to have a new "
        "one made, which signs staff out and retires tracking links, or set CHATSERVER_SECRET_KEY"
    ], result.stderr
    assert "listening" not in result.stdout


async def test_a_generated_secret_key_is_kept_and_opens_the_same_links_after_a_restart(start_server, tmp_path) -> None:
    server = await start_server(secret_key="")
    secret = (tmp_path / "chat.db.secret").read_text(encoding="utf-8")
    assert len(secret) == 64 and (tmp_path / "chat.db.secret").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("chat.db.secret")] == ["chat.db.secret"]
    alice = await peers.customer(server.url)
    complaint = await steps.submit(alice)
    await alice.close()
    await server.server.close()

    again = await start_server(secret_key="")
    link = f"{again.url}/track/{complaint['reference']}?key={complaint['tracking_key']}"
    assert await status_of(link) == 200
    assert (tmp_path / "chat.db.secret").read_text(encoding="utf-8") == secret


async def test_a_tracking_key_reaches_only_its_customer_and_opens_only_its_own_page(server) -> None:
    """Staff see every complaint but never its key: with it, anyone could accept a resolution or rate the
    handling in the customer's name. Nor is the key, or the customer's token, a credential anywhere else."""
    bob, alice, conversation_id = await peers.active_chat(server.url, body="My withdrawal is stuck")
    sam = await peers.agent(server.url, "sam@example.test", online=False, namespace="/monitor")
    await sam.wait_for("monitor:snapshot")
    staff_answers = []
    # a chat the customer calls not solved, a complaint from the form, one the agent closes as a complaint
    ended = await alice.call("chat:end", {"conversation_id": conversation_id, "resolved": False})
    assert ended["ok"], ended
    await bob.wait_for("chat:updated", lambda d: d["id"] == conversation_id and d["status"] == "closed")
    submitted = await steps.submit(alice)
    await bob.wait_for("complaint:updated", lambda d: d["complaint"]["reference"] == submitted["reference"])
    started = await alice.call("chat:start", {"body": "And my deposit"})
    assert started["ok"], started
    await bob.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == started["conversation"]["id"])
    closed = await bob.call("chat:close", {"conversation_id": started["conversation"]["id"], "outcome": "complaint"})
    assert closed["ok"], closed
    staff_answers.append(closed)
    history = await bob.call("customer:history", {"conversation_id": started["conversation"]["id"]})
    assert history["ok"] and len(history["complaints"]) == 3, history
    staff_answers.append(history)

    token = alice.received("session")[0]["token"]
    listed = await alice.call("complaint:list", {})
    keys = {c["reference"]: c["tracking_key"] for c in listed["complaints"]}
    assert len(keys) == 3 and all(keys.values())
    api_token = await server.services.auth.issue_api_token((await steps.staff(server.services, steps.SAM)).id, "check")
    async with aiohttp.ClientSession() as http:
        for reference in keys:
            async with http.get(f"{server.url}/api/complaints/{reference}", headers={"Authorization": f"Bearer {api_token}"}) as response:
                assert response.status == 200
                staff_answers.append(await response.json())
            for credential in (keys[reference], token):  # neither opens the API
                async with http.get(f"{server.url}/api/complaints/{reference}", headers={"Authorization": f"Bearer {credential}"}) as response:
                    assert response.status == 401
            other = next(r for r in keys if r != reference)
            assert await status_of(f"{server.url}/track/{reference}?key={keys[other]}") == 404
            assert await status_of(f"{server.url}/track/{reference}?key={token}") == 404
            assert await status_of(f"{server.url}/track/{reference}?key={keys[reference]}") == 200
    with pytest.raises(socketio.exceptions.ConnectionError, match="unknown customer token"):
        await peers.Peer(server.url, "/customer").connect(auth={"token": keys[submitted["reference"]]})

    seen_by_staff = repr([bob.events, sam.events, staff_answers])
    assert all(reference in seen_by_staff for reference in keys)
    assert [reference for reference, key in keys.items() if key in seen_by_staff] == []
    for peer in (bob, sam, alice):
        await peer.close()


async def test_tagged_spellings_of_one_address_share_its_few_acknowledgements_a_day(server) -> None:
    """Anyone may name any address on the complaint form. Mail providers deliver anna+anything@ to anna@,
    so a fresh +tag must not buy a fresh allowance of acknowledgements into the same inbox."""
    async def file(email: str) -> str:
        customer = await peers.customer(server.url)
        ack = await customer.call("complaint:submit", {
            "category": "withdrawals", "subject": "Claim your refund at http://phish.example/", "body": "b", "email": email,
        })
        assert ack["ok"], ack
        await customer.close()
        return ack["complaint"]["reference"]

    spellings = ["victim+1@example.test", "victim+2@example.test", "Victim@Example.TEST", "victim+a+b@example.test",
                 "VICTIM+3@example.test", "victim+4@example.test", "victim@example.test"]
    filed = [await file(email) for email in spellings]
    acks = await server.services.db.fetch("SELECT data FROM outbox WHERE kind = 'complaint_ack' ORDER BY created_at, rowid")
    assert [json.loads(a["data"])["reference"] for a in acks] == filed[:5]  # five a day, whatever the tag
    assert len(await server.services.db.fetch("SELECT id FROM complaints")) == len(spellings)  # every one is filed

    # other mailboxes keep their own allowance, even where the name holds what SQL patterns treat as wildcards
    for other in ["victim2@example.test", "victim_x@example.test", "xvictim+1@example.test", "victim@example.org", "v%ctim@example.test"]:
        reference = await file(other)
        assert await server.services.db.fetch(
            "SELECT id FROM outbox WHERE kind = 'complaint_ack' AND recipient = ? AND data LIKE ?", (other, f"%{reference}%")
        ), other
