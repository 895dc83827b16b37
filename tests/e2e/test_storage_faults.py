"""Storage faults made real against the real server process, driven by real Socket.IO clients.

Three faults: another process holds SQLite's write lock longer than the busy timeout; the disk is
full (the database lives on a size-limited tmpfs the test fills up); the database file is immutable
(`chattr +i` on the file and its WAL, never on the memory-mapped -shm). For each one:

- writes fail cleanly: `unavailable` acks on the socket, 503 with the contract's error body from
  the JSON API, a refused connection for a new customer; never `internal`;
- `/healthz` turns red and says that storage is the problem, and stays red while the cause lasts;
- nothing is half-written: the refused message is absent, the file passes its integrity check and
  every conversation's messages are numbered 1..n;
- once the cause is gone, without a restart: the same client's resend is stored exactly once,
  `/healthz` turns green by itself, and the work that fell due during the fault happens once: the
  queue deadline closes the waiting chat as a complaint, the SLA warning fires and is e-mailed,
  and the webhook for the new complaint is delivered.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import aiohttp
import pytest
import socketio

from chatserver.store.backup import integrity_problems, sequence_problems
from tests import peers
from tests.peers import CAST_PASSWORD, Peer, client_id
from tests.procs import ServerProcess, ServerProcesses, run_cli
from tests.admin_steps import CSRF, Browserless, text_of
from tests.faults import Fault, FullDisk, HeldWriteLock, ImmutableFile, ImmutableFlags, health_of, read_db, unavailable
from tests.smtp import SmtpServer, smtp_server
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.slow

SECRET = "storage-fault-secret-kkkkkkkkkkkkkkkkkkk"
BUSY_TIMEOUT = 2.0  # CHATSERVER_DB_BUSY_TIMEOUT: how long a write may wait for the lock
# a refused write must be answered well before a client gives up, however many writes wait with it
ACK_TIMEOUT = 3 * BUSY_TIMEOUT
QUEUE_TIMEOUT = 8.0  # Dave's chat waits this long; its deadline falls inside the fault
WARN_AFTER = 8.0  # seconds after Frank's complaint is filed that its SLA warning falls due
RESPONSE_HOURS = 24  # the "other" category's first-response target


# -- the world before the fault -----------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with webhook_receiver() as running:
        yield running


def env(smtp: SmtpServer, **settings: Any) -> dict[str, str]:
    values: dict[str, Any] = {
        "secret_key": SECRET, "log_level": "info", "db_busy_timeout": BUSY_TIMEOUT,
        "queue_timeout": QUEUE_TIMEOUT, "agent_grace": 120, "sla_sweep_seconds": 0.5,
        # the response target is 24 h: warn WARN_AFTER seconds after a complaint is filed
        "sla_warning_hours": RESPONSE_HOURS - WARN_AFTER / 3600,
        "smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_security": "none",
        "webhook_allow_private": "true",
    }
    values.update(settings)
    return {f"CHATSERVER_{k.upper()}": str(v) for k, v in values.items()}


async def prepare(db: Path, receiver_url: str) -> str:
    """Bob (an agent with one seat) and Ada (an admin) with a webhook receiver; returns Bob's API token."""
    from chatserver.config import Settings
    from chatserver.services.auth import ConsoleUser
    from chatserver.services.container import build_services, close_services

    settings = Settings(db=str(db), uvloop=False, gc_tuning=False, webhook_allow_private=True)
    services = await build_services(settings, SECRET)
    try:
        bob = await services.auth.create_user(email="bob@example.test", name="Bob", role="agent", password=CAST_PASSWORD, max_chats=1)
        ada = await services.auth.create_user(email="ada@example.test", name="Ada", role="admin", password=CAST_PASSWORD)
        await services.webhooks.register(
            ConsoleUser.from_row(ada), url=receiver_url, events=["complaint.created", "chat.closed"]
        )
        return await services.auth.issue_api_token(bob["id"], "storage faults")
    finally:
        await close_services(services)


class World:
    """Everyone the scenario needs, set up on a healthy server before the fault."""

    def __init__(self, server: ServerProcess, token: str, closing: list[Peer]) -> None:
        self.server = server
        self.token = token
        self.closing = closing
        self.acks: list[Any] = []

    async def customer(self) -> Peer:
        peer = await peers.customer(self.server.url)
        self.closing.append(peer)
        return peer

    async def call(self, peer: Peer, event: str, data: Any, timeout: float = ACK_TIMEOUT) -> Any:
        ack = await peer.call(event, data, timeout=timeout)
        self.acks.append(ack)
        return ack

    async def set_up(self) -> None:
        self.bob = await peers.agent(self.server.url, "bob@example.test")
        self.closing.append(self.bob)

        self.alice = await self.customer()
        started = await self.call(self.alice, "chat:start", {"body": "my withdrawal is late", "name": "Alice"})
        assert started["ok"], started
        self.chat = started["conversation"]["id"]
        await self.bob.wait_for("chat:assigned", lambda d: d["conversation"]["id"] == self.chat)
        sent = await self.send(self.alice, client_id(), "it has been three days")
        assert sent["ok"], sent

        # Bob's only seat is taken: Dave waits, and his deadline will fall inside the fault
        self.dave = await self.customer()
        waiting = await self.call(self.dave, "chat:start", {"body": "is anyone there?", "name": "Dave", "email": "dave@example.test"})
        assert waiting["ok"] and waiting["conversation"]["status"] == "queued", waiting
        self.dave_chat = waiting["conversation"]["id"]

        # Frank's complaint: its SLA warning falls due inside the fault too
        self.frank = await self.customer()
        filed = await self.call(self.frank, "complaint:submit", {"category": "other", "subject": "Bonus missing", "body": "Where is my bonus?"})
        assert filed["ok"], filed
        self.frank_reference = filed["complaint"]["reference"]

        self.eve = await self.customer()  # connected now; starts her chat during the fault
        self.ada = await Browserless.login(self.server.url, "ada@example.test")  # signed in to admin
        self.closing.append(self.ada)  # type: ignore[arg-type]  # closed like the peers
        self.ada_token = await self.ada.csrf("/admin/faq")

    async def faq(self, question: str) -> int:
        """Ada saves an FAQ article through the admin form."""
        status, _, _ = await self.ada.post(
            "/admin/faq", {"locale": "en", "category": "", "position": "1", "question": question,
                           "answer": "Within three working days.", "active": "on"}, csrf=self.ada_token,
        )
        return status

    async def login_status(self, email: str) -> tuple[int, str]:
        """Signing in writes a session: (status, the page's words)."""
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(f"{self.server.url}/login") as page:
                token = CSRF.search(await page.text()).group(1)  # type: ignore[union-attr]
            async with http.post(
                f"{self.server.url}/login", data={"email": email, "password": CAST_PASSWORD, "csrf_token": token},
                allow_redirects=False,
            ) as response:
                return response.status, text_of(await response.text())

    async def send(self, peer: Peer, cid: str, body: str) -> Any:
        return await self.call(peer, "message:send", {"conversation_id": self.chat, "client_id": cid, "body": body})

    async def api_complaint(self, subject: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ACK_TIMEOUT)) as http:
            async with http.post(
                f"{self.server.url}/api/complaints", headers={"Authorization": f"Bearer {self.token}"},
                json={"category": "other", "subject": subject, "body": "Called about a late withdrawal", "channel": "phone"},
            ) as response:
                return response.status, await response.json()


async def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        await asyncio.sleep(0.1)


# -- the scenario every fault goes through ------------------------------------------------------------


async def survive(fault: Fault, world: World, smtp: SmtpServer, receiver: Receiver, backup_to: Path) -> None:
    server = world.server
    lost_id, lost_body = client_id(), "did you get my documents?"

    fault.inject()
    try:
        # writes answer `unavailable`, all of them within the busy timeout, however many wait together
        sent, started, (api_status, api_body) = await asyncio.gather(
            world.send(world.alice, lost_id, lost_body),
            world.call(world.eve, "chat:start", {"body": "hello?", "name": "Eve"}),
            world.api_complaint("Logged during the fault"),
        )
        assert unavailable(sent), sent
        assert unavailable(started), started
        assert api_status == 503 and api_body["error"]["code"] == "unavailable", (api_status, api_body)
        assert set(api_body) == {"error"} and set(api_body["error"]) == {"code", "message"}, api_body

        # a customer the server has never seen cannot be stored, so the connection is refused
        newcomer = Peer(server.url, "/customer")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await newcomer.connect()
        assert newcomer.refusal["data"]["code"] == "unavailable", newcomer.refusal

        # the console's pages: an admin form and signing in answer 503 and say to try again, not 500
        assert await world.faq("When does my withdrawal arrive?") == 503
        status, page = await world.login_status("bob@example.test")
        assert status == 503 and "try again" in page, (status, page[:300])

        # reading still works: the history answers, without the refused message
        history = await world.call(world.alice, "history", {"conversation_id": world.chat, "after_seq": 0})
        assert history["ok"] and lost_id not in {m["client_id"] for m in history["messages"]}, history

        status, body = await health_of(server.url)
        assert (status, body) == (503, {"status": "unavailable", "reason": "storage", "detail": fault.detail}), (status, body)

        # `chatserver backup` beside the faulty server either works or says why, and leaves nothing behind
        copy = backup_to / "copy.db"
        done = run_cli("backup", str(copy), "--db", str(server.db), env={"CHATSERVER_SECRET_KEY": SECRET})
        if isinstance(fault, FullDisk):
            assert done.returncode == 1 and "database or disk is full" in done.stderr, done
            assert "Traceback" not in done.stderr, done.stderr
            assert sorted(p.name for p in backup_to.iterdir() if p.name.startswith((".copy", "copy"))) == []
        else:
            assert done.returncode == 0, done
            assert "integrity and sequence checks passed" in done.stdout, done

        # the queue deadline and the SLA warning fall due while the fault lasts, and both are refused
        # (the sweep writes only when a notice is due: Frank's warning is the only one)
        await wait_until(
            lambda: f"queue deadline of {world.dave_chat} not acted on" in server.stderr()
            and "SLA sweep stopped by a storage failure" in server.stderr(),
            QUEUE_TIMEOUT + WARN_AFTER + 10, "the deadline and the warning were not attempted during the fault",
        )
        status, body = await health_of(server.url)
        assert status == 503, "health turned green while the fault lasts"
        with read_db(server.db) as conn:
            assert conn.execute("SELECT COUNT(*) FROM messages WHERE client_id = ?", (lost_id,)).fetchone()[0] == 0
            assert conn.execute("SELECT status FROM conversations WHERE id = ?", (world.dave_chat,)).fetchone()[0] == "queued"
            assert conn.execute("SELECT COUNT(*) FROM sla_notices").fetchone()[0] == 0
    finally:
        fault.clear()

    # the same client resends the same message: stored once, and a second resend changes nothing
    resent = await world.send(world.alice, lost_id, lost_body)
    assert resent["ok"], resent
    again = await world.send(world.alice, lost_id, lost_body)
    assert again["ok"] and (again["message"]["id"], again["message"]["seq"]) == (resent["message"]["id"], resent["message"]["seq"])
    assert resent["message"]["seq"] == 3, resent

    # health finds out by itself that the cause is gone (nothing else has to write first)
    await wait_until(lambda: _is_green(server.url), 10, "health did not turn green")

    # Dave's deadline passed during the fault: his chat becomes a complaint, once
    closed = await world.dave.wait_for("chat:closed", timeout=20)
    assert closed["conversation_id"] == world.dave_chat and closed["outcome"] == "complaint", closed
    dave_reference = closed["complaint_reference"]
    # Frank's SLA warning fell due during the fault: it fires, and Bob is e-mailed, once
    await wait_until(lambda: _warning_mails(smtp, world.frank_reference), 20, "no SLA warning e-mail")
    # the new complaint reaches the webhook receiver
    await wait_until(lambda: _webhooks(receiver, "complaint.created", dave_reference), 20, "no webhook for the new complaint")

    # everything that was refused works now
    started = await world.call(world.eve, "chat:start", {"body": "hello?", "name": "Eve"})
    assert started["ok"], started
    api_status, api_body = await world.api_complaint("Logged after the fault")
    assert api_status == 201, (api_status, api_body)
    assert await world.faq("When does my withdrawal arrive?") == 303
    assert (await world.login_status("bob@example.test"))[0] == 303
    await (await world.customer()).close()

    await asyncio.sleep(1.5)  # a few more sweeps and deliveries: nothing fires a second time
    assert len(_warning_mails(smtp, world.frank_reference)) == 1
    assert len(_webhooks(receiver, "complaint.created", dave_reference)) == 1
    with read_db(server.db) as conn:
        assert integrity_problems(conn) == []
        assert sequence_problems(conn) == []
        assert conn.execute("SELECT COUNT(*) FROM messages WHERE client_id = ?", (lost_id,)).fetchone()[0] == 1
        complaints_of_dave = conn.execute(
            "SELECT COUNT(*), MIN(source) FROM complaints WHERE customer_id = (SELECT customer_id FROM conversations WHERE id = ?)",
            (world.dave_chat,),
        ).fetchone()
        assert tuple(complaints_of_dave) == (1, "chat_unanswered")
        closes = conn.execute(
            "SELECT COUNT(*) FROM audit_events WHERE subject = ? AND action = 'conversation.closed'", (world.dave_chat,)
        ).fetchone()[0]
        assert closes == 1
        warnings = conn.execute(
            "SELECT COUNT(*) FROM sla_notices n JOIN complaints c ON c.id = n.complaint_id"
            " WHERE c.reference = ? AND n.kind = 'warning' AND n.target = 'response'",
            (world.frank_reference,),
        ).fetchone()[0]
        assert warnings == 1

    assert not [a for a in world.acks if isinstance(a, dict) and a.get("ok") is False and a["error"]["code"] != "unavailable"], world.acks
    stderr = server.stderr()
    assert "storage failure" in stderr
    for trouble in ("Traceback", "internal", "never retrieved"):
        assert trouble not in stderr, f"{trouble!r} in the server's stderr:\n{stderr[-6000:]}"
    assert server.running()


async def _is_green(url: str) -> bool:
    status, body = await health_of(url)
    if status == 200:
        assert body == {"status": "ok"}, body
    return status == 200


def _warning_mails(smtp: SmtpServer, reference: str) -> list[Any]:
    return [m for m in smtp.inbox.messages
            if f"[{reference}] Complaint due soon" in str(m.message["Subject"]) and m.recipients == ["bob@example.test"]]


def _webhooks(receiver: Receiver, event: str, reference: str) -> list[Any]:
    found = []
    for delivery in receiver.received:
        body = delivery.json
        if body.get("event") == event and reference in str(body):
            found.append(delivery)
    return found


async def started_world(procs: ServerProcesses, db: Path, smtp: SmtpServer, receiver: Receiver, closing: list[Peer]) -> World:
    token = await prepare(db, receiver.url)
    server = procs.server(db=db, env=env(smtp))
    await server.start()
    world = World(server, token, closing)
    await world.set_up()
    return world


# -- the three faults ---------------------------------------------------------------------------------


async def test_a_write_lock_held_by_another_process_answers_unavailable_turns_health_red_and_recovers_without_restart(
    procs: ServerProcesses, tmp_path: Path, smtp: SmtpServer, receiver: Receiver, closing: list[Peer]
) -> None:
    world = await started_world(procs, tmp_path / "chat.db", smtp, receiver, closing)
    await survive(HeldWriteLock(world.server.db), world, smtp, receiver, tmp_path)  # type: ignore[arg-type]


async def test_a_full_disk_answers_unavailable_turns_health_red_and_recovers_without_restart(
    small_disk: Path, procs: ServerProcesses, tmp_path: Path, smtp: SmtpServer, receiver: Receiver, closing: list[Peer]
) -> None:
    # (the disk before the processes: they are stopped first at teardown, then it is unmounted)
    world = await started_world(procs, small_disk / "chat.db", smtp, receiver, closing)
    await survive(FullDisk(small_disk), world, smtp, receiver, small_disk)


async def test_an_immutable_database_file_answers_unavailable_turns_health_red_and_recovers_without_restart(
    immutable: ImmutableFlags, procs: ServerProcesses, tmp_path: Path, smtp: SmtpServer, receiver: Receiver, closing: list[Peer]
) -> None:
    world = await started_world(procs, tmp_path / "chat.db", smtp, receiver, closing)
    await survive(ImmutableFile(world.server.db, immutable), world, smtp, receiver, tmp_path)  # type: ignore[arg-type]
