"""The complaints JSON API on the real server over real HTTP; every answer is checked against the
OpenAPI document the server itself serves.

Cast: agents bob and carol, supervisor sam (from conftest), admin ada (added here); customer alice.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

import aiohttp
import pytest
from jsonschema import Draft202012Validator

from chatserver.store import users
from chatserver.transport.http.api import api_app
from tests import complaint_steps as steps
from tests import hostile, peers
from tests.peers import login_cookie

NO_BODY = object()


class Api:
    """An HTTP client that validates every JSON answer against /api/openapi.json."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession, tokens: dict[str, str], ids: dict[str, str]) -> None:
        self.base_url = base_url
        self.http = http
        self.tokens = tokens
        self.ids = ids
        self.doc: dict[str, Any] = {}

    async def load_document(self) -> None:
        async with self.http.get(f"{self.base_url}/api/openapi.json") as response:
            assert response.status == 200 and response.content_type == "application/json"
            self.doc = await response.json()

    async def call(
        self, method: str, path: str, who: str | None = None, body: Any = NO_BODY, *,
        headers: dict[str, str] | None = None, data: bytes | str | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers or {})
        if who is not None:
            sent["Authorization"] = f"Bearer {self.tokens.get(who, who)}"
        options: dict[str, Any] = {"data": data} if data is not None else {} if body is NO_BODY else {"json": body}
        async with self.http.request(
            method, self.base_url + path, headers=sent, allow_redirects=False, **options
        ) as response:
            assert response.content_type == "application/json", (response.status, await response.text())
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            payload = await response.json()
        self.check(method, path, response.status, payload, response.headers)
        return response.status, payload

    def _response_for(self, method: str, path: str, status: int) -> dict[str, Any]:
        route = urlsplit(path).path
        for template, item in self.doc["paths"].items():
            if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), route):
                operation = item.get(method.lower())
                break
        else:
            operation = None
        if operation is None:  # unknown route or method: the contract's error object
            assert status in (404, 405), (method, path, status)
            return {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        response = operation["responses"].get(str(status))
        assert response is not None, f"{method} {route} answered {status}, which the document does not list"
        if "$ref" in response:
            response = self.doc["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
        return response

    def check(self, method: str, path: str, status: int, payload: Any, headers: Mapping[str, str]) -> None:
        """The body matches the documented schema and every documented header is there."""
        response = self._response_for(method, path, status)
        schema = {**response["content"]["application/json"]["schema"], "components": self.doc["components"]}
        Draft202012Validator(schema).validate(payload)
        missing = [name for name in response.get("headers", {}) if name not in headers]
        assert not missing, f"{method} {path} answered {status} without the documented headers {missing}"

    async def get(self, path: str, who: str | None = "bob") -> tuple[int, Any]:
        return await self.call("GET", path, who)

    async def post(self, path: str, who: str | None, body: Any) -> tuple[int, Any]:
        return await self.call("POST", path, who, body)

    async def patch(self, path: str, who: str | None, body: Any) -> tuple[int, Any]:
        return await self.call("PATCH", path, who, body)

    async def log(self, who: str = "bob", **overrides: Any) -> dict[str, Any]:
        body = {"category": "withdrawals", "subject": "Withdrawal pending", "body": "Called about W-1", "channel": "phone"}
        body.update(overrides)
        status, answer = await self.post("/api/complaints", who, body)
        assert status == 201, answer
        return answer["complaint"]


def error(answer: Any, code: str) -> str:
    assert answer["error"]["code"] == code, answer
    return answer["error"]["message"]


@pytest.fixture
async def api(server):
    row = await server.services.auth.create_user(email="ada@example.test", name="Ada", role="admin", password="ada-password-1")
    ids = {u["name"].lower(): u["id"] for u in await users.list_active(server.services.db)}
    assert set(ids) >= {"bob", "carol", "sam", "ada"} and ids["ada"] == row["id"]
    tokens = {name: await server.services.auth.issue_api_token(user_id, "tests") for name, user_id in ids.items()}
    async with aiohttp.ClientSession() as http:
        client = Api(server.url, http, tokens, ids)
        await client.load_document()
        yield client


# -- the document ---------------------------------------------------------------------------------


async def test_the_document_is_openapi_3_1_and_describes_every_route(api):
    doc = api.doc
    assert doc["openapi"] == "3.1.0"
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    served = {
        (route.method.lower(), "/api" + route.resource.canonical)
        for route in api_app().router.routes() if route.method not in ("HEAD", "*")
    }
    described = {(method, path) for path, item in doc["paths"].items() for method in item if method != "parameters"}
    assert served == described
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters" or path == "/api/openapi.json":
                continue
            assert "401" in operation["responses"], (method, path)
            if "201" in operation["responses"] and path == "/api/complaints":
                assert "Location" in operation["responses"]["201"]["headers"]  # where the new complaint is
            if "requestBody" in operation:
                assert {"400", "413"} <= set(operation["responses"]), (method, path)
    # every reference points at something that exists
    refs: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(doc)
    for ref in refs:
        target: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]


# -- reading --------------------------------------------------------------------------------------


async def test_a_complaint_logged_by_phone_appears_in_the_list_and_in_detail(api):
    complaint = await api.log(
        "bob", channel="phone", customer_name="Jan Kowalski", customer_email="jan@example.test", locale="pl",
        subject="Withdrawal <b>W-9</b> missing",
    )
    assert complaint["source"] == "agent_logged" and complaint["channel"] == "phone" and complaint["status"] == "new"
    assert complaint["customer_id"] is None and complaint["email"] == "jan@example.test"
    assert "tracking_key" not in complaint
    status, page = await api.get("/api/complaints")
    assert status == 200
    assert [c["reference"] for c in page["complaints"]] == [complaint["reference"]] and page["total"] == 1
    assert (page["limit"], page["offset"]) == (50, 0)
    status, detail = await api.get(f"/api/complaints/{complaint['reference']}", "carol")
    assert status == 200
    view = detail["complaint"]
    assert view["subject"] == "Withdrawal <b>W-9</b> missing"  # JSON carries text; escaping is the renderer's job
    assert view["conversation"] is None and view["compensations"] == [] and view["entries"] == []
    assert [e["action"] for e in view["audit"]] == ["complaint.created"]
    assert view["audit"][0]["actor"] == api.ids["bob"] and view["audit"][0]["actor_name"] == "Bob"
    status, answer = await api.get("/api/complaints/C-2026-999999")
    assert status == 404 and error(answer, "not_found")


async def test_list_filters_search_sort_and_pages(api):
    made = [
        await api.log(subject="Card payout missing", category="withdrawals"),
        await api.log(subject="Bank transfer late", category="withdrawals", channel="email"),
        await api.log(subject="App crashes on login", category="technical"),
        await api.log(subject="Odds froze", category="technical"),
        await api.log(subject="Bonus not credited", category="bonuses"),
    ]
    refs = [c["reference"] for c in made]
    assert (await api.patch(f"/api/complaints/{refs[0]}", "bob", {"status": "in_progress"}))[0] == 200
    assert (await api.post(f"/api/complaints/{refs[4]}/escalate", "bob", {"reason": "VIP customer"}))[0] == 200

    async def listed(query: str, who: str = "bob") -> tuple[list[str], int]:
        status, page = await api.get(f"/api/complaints?{query}", who)
        assert status == 200, page
        return [c["reference"] for c in page["complaints"]], page["total"]

    assert await listed("status=in_progress") == ([refs[0]], 1)
    assert sorted((await listed("status=new"))[0]) == sorted(refs[1:])  # escalation keeps the status
    assert sorted((await listed("category=technical"))[0]) == sorted(refs[2:4])
    assert await listed("level=2") == ([refs[4]], 1)
    assert await listed("assignee=me") == ([refs[0]], 1)
    assert await listed(f"assignee={api.ids['bob']}", "sam") == ([refs[0]], 1)
    assert await listed("assignee=me", "sam") == ([], 0)
    assert (await listed("assignee=none"))[1] == 4
    assert await listed("q=transfer") == ([refs[1]], 1)
    assert await listed("q=" + refs[3]) == ([refs[3]], 1)
    assert await listed("q=%25") == ([], 0)  # a LIKE wildcard is a plain character
    assert await listed("q=' OR 1=1--") == ([], 0)
    assert await listed("status=new&category=withdrawals") == ([refs[1]], 1)
    newest, total = await listed("sort=newest")
    assert newest == refs[::-1] and total == 5
    pages = [await listed(f"sort=newest&limit=2&offset={offset}") for offset in (0, 2, 4, 6)]
    assert [p[0] for p in pages] == [refs[4:2:-1], refs[2:0:-1], refs[:1], []]
    assert {p[1] for p in pages} == {5}
    status, page = await api.get("/api/complaints?limit=2&offset=2")
    assert (page["limit"], page["offset"]) == (2, 2)
    for bad in (
        "limit=0", "limit=201", "limit=two", "offset=-1", "level=4", "level=1.5", "status=lost", "sort=subject",
        "sort=created_at;DROP TABLE complaints", "category=nope", "colour=red", "status=new&status=closed", "q=" + "x" * 201,
    ):
        status, answer = await api.get(f"/api/complaints?{bad}")
        assert status == 400, bad
        error(answer, "invalid")
    assert "unknown field colour" in error((await api.get("/api/complaints?colour=red"))[1], "invalid")


async def test_search_finds_russian_and_polish_words_in_any_letter_case(api):
    """LIKE folds ASCII letters only; staff search in their customers' languages, as they come to mind."""
    russian = await api.log(subject="Жалоба на выплату", body="Деньги не пришли")
    polish = await api.log(subject="Wypłata z ŁODZI", body="Środki nie dotarły")
    english = await api.log(subject="Card payout missing")

    async def found(q: str) -> list[str]:
        status, page = await api.get(f"/api/complaints?q={quote(q)}")
        assert status == 200, page
        return [c["reference"] for c in page["complaints"]]

    for q in ("жалоба", "ЖАЛОБА", "деньги", "НЕ ПРИШЛИ"):
        assert await found(q) == [russian["reference"]], q
    for q in ("łodzi", "ŁODZI", "środki", "WYPŁATA"):
        assert await found(q) == [polish["reference"]], q
    assert await found("PAYOUT") == [english["reference"]]
    assert await found("%а%") == []  # the wildcards stay plain characters in the folded search too
    # an accent typed as its own mark (as some keyboards and pasted text do) is the same letter
    decomposed = await api.log(subject="Zwrot do Ło\u0301dz\u0301", body="Konto w banku")
    assert await found("ŁÓDŹ") == [decomposed["reference"]]
    composed = await api.log(subject="Wypłata do Łódź", body="Konto w banku")
    assert sorted(await found("ło\u0301dz\u0301")) == sorted([decomposed["reference"], composed["reference"]])
    assert await found(polish["reference"].lower()) == [polish["reference"]]


async def test_categories_and_staff_for_pickers(api, server):
    status, answer = await api.get("/api/categories")
    assert status == 200
    slugs = [c["slug"] for c in answer["categories"]]
    assert "withdrawals" in slugs and slugs[-1] == "other"
    assert all(c["active"] for c in answer["categories"])
    # a retired category is no longer offered, but names older complaints when asked for
    await steps.retire_category(server.services, "bonuses")
    assert "bonuses" not in [c["slug"] for c in (await api.get("/api/categories"))[1]["categories"]]
    status, answer = await api.get("/api/categories?retired=true")
    assert status == 200
    assert {c["slug"]: c["active"] for c in answer["categories"]}["bonuses"] is False
    assert [c["slug"] for c in answer["categories"] if c["active"]] == [s for s in slugs if s != "bonuses"]
    status, answer = await api.get("/api/categories?retired=yes")
    assert status == 400 and answer["error"]["code"] == "invalid", answer
    status, answer = await api.get("/api/users", "carol")
    assert status == 200
    assert {u["name"]: u["role"] for u in answer["users"]} == {"Ada": "admin", "Bob": "agent", "Carol": "agent", "Sam": "supervisor"}
    assert "password_hash" not in json.dumps(answer) and "@" not in json.dumps(answer)


# -- changing -------------------------------------------------------------------------------------


async def test_update_picks_up_reclassifies_and_assigns(api):
    ref = (await api.log())["reference"]
    path = f"/api/complaints/{ref}"
    status, answer = await api.patch(path, "bob", {"status": "in_progress"})
    assert status == 200
    view = answer["complaint"]
    assert view["status"] == "in_progress" and view["assignee"] == {"id": api.ids["bob"], "name": "Bob"}
    assert [e["kind"] for e in view["entries"]] == ["status"]
    # an illegal transition is a conflict, and nothing changes
    status, answer = await api.patch(path, "bob", {"status": "in_progress"})
    assert status == 409
    assert "cannot start a complaint that is in_progress" in error(answer, "conflict")
    status, answer = await api.patch(path, "bob", {"category": "technical"})
    assert status == 200 and answer["complaint"]["category"] == "technical" and answer["complaint"]["owner_group"] == "tech"
    # agents hand nothing to colleagues; supervisors do
    status, answer = await api.patch(path, "bob", {"assignee_id": api.ids["carol"]})
    assert status == 403 and error(answer, "forbidden")
    status, answer = await api.patch(path, "sam", {"assignee_id": api.ids["carol"]})
    assert status == 200 and answer["complaint"]["assignee"]["name"] == "Carol"
    status, answer = await api.patch(path, "sam", {"assignee_id": None})
    assert status == 200 and answer["complaint"]["assignee"] is None
    actions = [e["action"] for e in answer["complaint"]["audit"]]
    assert actions == ["complaint.created", "complaint.start", "complaint.set_category", "complaint.assign", "complaint.assign"]
    for body in ({}, {"status": "resolved"}, {"status": None}, {"assignee_id": 7}, {"category": "nope"}, {"level": 2}):
        status, answer = await api.patch(path, "sam", body)
        assert status == 400, body
        error(answer, "invalid")
    status, answer = await api.patch("/api/complaints/C-1999-000001", "sam", {"status": "in_progress"})
    assert status == 404 and error(answer, "not_found")


async def test_an_update_with_one_refused_change_makes_none_of_them(api):
    # picked up, reclassified and given to someone who cannot take it: a 400, and nothing half-done
    ref = (await api.log())["reference"]
    path = f"/api/complaints/{ref}"
    status, before = await api.get(path, "sam")
    assert status == 200
    for who, body, code in [
        ("sam", {"status": "in_progress", "category": "bonuses", "assignee_id": "u_nobody"}, 400),
        ("bob", {"status": "in_progress", "category": "bonuses", "assignee_id": api.ids["carol"]}, 403),
    ]:
        status, answer = await api.patch(path, who, body)
        assert status == code, answer
        status, after = await api.get(path, "sam")
        assert after == before, body
    status, answer = await api.patch(path, "sam", {"status": "in_progress", "category": "bonuses", "assignee_id": api.ids["carol"]})
    assert status == 200, answer
    view = answer["complaint"]
    assert (view["status"], view["category"], view["assignee"]["name"]) == ("in_progress", "bonuses", "Carol")
    actions = [e["action"] for e in view["audit"]]
    assert actions == ["complaint.created", "complaint.start", "complaint.set_category", "complaint.assign"]


async def test_each_kind_of_reply(api):
    ref = (await api.log())["reference"]
    path = f"/api/complaints/{ref}/replies"

    async def reply(kind: str, body: str) -> dict[str, Any]:
        status, answer = await api.post(path, "bob", {"kind": kind, "body": body})
        assert status == 201, answer
        return answer["complaint"]

    view = await reply("reply", "We are checking with the bank.")
    assert view["status"] == "in_progress" and view["first_response_at"] is not None and view["response_due"] is None
    view = await reply("note", "Bank reference 8812")
    assert view["status"] == "in_progress"
    view = await reply("question", "Which card did you use?")
    assert view["status"] == "awaiting_customer"
    view = await reply("resolution", "The payout was sent again.")
    assert view["status"] == "resolved" and view["resolved_at"] is not None and view["due_at"] is None
    thread = [(e["kind"], e["body"]) for e in view["entries"]]
    assert ("note", "Bank reference 8812") in thread and ("reply", "The payout was sent again.") in thread
    assert [e["body"] for e in view["entries"] if e["kind"] == "status"] == ["in_progress", "awaiting_customer", "resolved"]
    publics = {e["action"]: e["details"]["public"] for e in view["audit"] if e["action"] != "complaint.created"}
    assert publics == {"complaint.reply": True, "complaint.note": False, "complaint.ask_customer": True, "complaint.resolve": True}
    status, answer = await api.post(path, "bob", {"kind": "question", "body": "One more thing?"})
    assert status == 409 and error(answer, "conflict")
    for body in ({"kind": "shout", "body": "x"}, {"kind": "reply"}, {"kind": "reply", "body": ""}, {"kind": "reply", "body": "x" * 10_001},
                 {"kind": "reply", "body": ["x"]}, {"kind": "reply", "body": "x", "internal": True}):
        status, answer = await api.post(path, "bob", body)
        assert status == 400, body
        error(answer, "invalid")


async def test_an_answer_written_before_the_customers_latest_words_is_refused_until_they_are_read(api, server):
    alice = await peers.customer(server.url)
    ack = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Payout", "body": "Where is it?"})
    ref = ack["complaint"]["reference"]
    path = f"/api/complaints/{ref}/replies"
    status, answer = await api.post(path, "bob", {"kind": "question", "body": "Which card did you use?", "seen_entry_seq": 0})
    assert status == 201, answer
    seen = max(e["seq"] for e in answer["complaint"]["entries"])
    assert (await alice.call("complaint:reply", {"reference": ref, "body": "The one ending in 4411"}))["ok"]

    for kind in ("reply", "question", "resolution"):
        status, answer = await api.post(path, "bob", {"kind": kind, "body": "The payout was sent again.", "seen_entry_seq": seen})
        assert status == 409 and "customer wrote meanwhile" in error(answer, "conflict"), (kind, answer)
    status, answer = await api.get(f"/api/complaints/{ref}", "bob")
    assert [e["body"] for e in answer["complaint"]["entries"] if e["kind"] == "customer"] == ["The one ending in 4411"]
    assert answer["complaint"]["status"] == "in_progress"  # nothing of the refused answers was written
    assert [e["kind"] for e in answer["complaint"]["entries"]].count("reply") == 1
    status, _ = await api.post(path, "bob", {"kind": "note", "body": "Card 4411 checked", "seen_entry_seq": seen})
    assert status == 201  # a note answers nobody
    latest = max(e["seq"] for e in answer["complaint"]["entries"])
    status, answer = await api.post(path, "bob", {"kind": "resolution", "body": "Sent again to card 4411.", "seen_entry_seq": latest})
    assert status == 201 and answer["complaint"]["status"] == "resolved"
    for bad in (-1, "3", 1.5, 10**13):
        status, answer = await api.post(path, "bob", {"kind": "reply", "body": "x", "seen_entry_seq": bad})
        assert status == 400 and error(answer, "invalid"), bad
    await alice.close()


async def test_a_complaint_logged_again_with_its_client_id_is_the_one_already_logged(api, server):
    """Logging a phone complaint whose answer was lost, then trying again: one complaint, one
    acknowledgement to the customer; another user's id is a conflict."""
    request = {"client_id": "5d1f7a2e-2222-4c1a-9a55-000000000001", "customer_email": "pat@example.test"}
    first = await api.log(**request)
    again = await api.log(**request, subject="Edited while retrying")
    assert again["reference"] == first["reference"] and again["subject"] == "Withdrawal pending"
    status, page = await api.get("/api/complaints")
    assert page["total"] == 1
    acknowledged = await server.services.db.fetch("SELECT recipient FROM outbox WHERE kind = 'complaint_ack'")
    assert acknowledged == [{"recipient": "pat@example.test"}]
    status, answer = await api.post("/api/complaints", "sam", {
        "category": "withdrawals", "subject": "s", "body": "b", "channel": "phone", "client_id": request["client_id"],
    })
    assert status == 409 and error(answer, "conflict")
    assert (await api.log(client_id="5d1f7a2e-2222-4c1a-9a55-000000000002"))["reference"] != first["reference"]
    # its category retired since: the retry still finds what it logged, and only a new one is refused
    await steps.retire_category(server.services, "withdrawals")
    assert (await api.log(**request))["reference"] == first["reference"]
    status, answer = await api.post("/api/complaints", "bob", {
        "category": "withdrawals", "subject": "s", "body": "b", "channel": "phone", "client_id": "5d1f7a2e-2222-4c1a-9a55-000000000003",
    })
    assert status == 400 and "category" in error(answer, "invalid")


async def test_a_reply_sent_again_with_its_client_id_is_the_one_already_written(api):
    """A retry after an answer lost on the way back: the same client_id finds the entry, whatever the
    complaint's state became (a question waits, a resolution resolved), and nothing is written twice."""
    ref = (await api.log())["reference"]
    path = f"/api/complaints/{ref}/replies"
    await api.patch(f"/api/complaints/{ref}", "bob", {"status": "in_progress"})
    sent = [
        {"kind": "reply", "body": "We are on it.", "client_id": "0b6f1c1e-1111-4c1a-9a55-000000000001", "seen_entry_seq": 0},
        {"kind": "note", "body": "Bank asked.", "client_id": "0b6f1c1e-1111-4c1a-9a55-000000000002"},
        {"kind": "question", "body": "Which card?", "client_id": "0b6f1c1e-1111-4c1a-9a55-000000000003", "seen_entry_seq": 0},
    ]
    for body in sent:
        for _ in range(2):
            status, answer = await api.post(path, "bob", body)
            assert status == 201, (body, answer)
    entries = answer["complaint"]["entries"]
    assert [e["body"] for e in entries if e["kind"] in ("reply", "note")] == ["We are on it.", "Bank asked.", "Which card?"]
    assert answer["complaint"]["status"] == "awaiting_customer"
    resolution = {"kind": "resolution", "body": "Sent again.", "client_id": "0b6f1c1e-1111-4c1a-9a55-000000000004"}
    for _ in range(2):
        status, answer = await api.post(path, "bob", resolution)
        assert status == 201 and answer["complaint"]["status"] == "resolved", answer
    assert [e["body"] for e in answer["complaint"]["entries"]].count("Sent again.") == 1
    # someone else's id is not theirs to repeat
    status, answer = await api.post(path, "sam", {"kind": "note", "body": "Mine", "client_id": sent[1]["client_id"]})
    assert status == 409 and error(answer, "conflict")
    for bad in ("", 3, "x" * 65):
        status, answer = await api.post(path, "bob", {"kind": "note", "body": "x", "client_id": bad})
        assert status == 400 and error(answer, "invalid"), bad


async def test_a_reply_sent_again_after_the_complaint_rose_above_its_writer_is_the_one_already_written(api):
    """The answer to Bob's reply was lost, and the complaint was escalated past his level before his
    page tried again: the retry finds what he wrote, as any retry does, instead of a refusal that
    reads as if nothing had been stored."""
    ref = (await api.log())["reference"]
    path = f"/api/complaints/{ref}/replies"
    await api.patch(f"/api/complaints/{ref}", "bob", {"status": "in_progress"})
    sent = {"kind": "reply", "body": "We are on it.", "client_id": "0b6f1c1e-1111-4c1a-9a55-000000000011", "seen_entry_seq": 0}
    assert (await api.post(path, "bob", sent))[0] == 201
    assert (await api.post(f"/api/complaints/{ref}/escalate", "sam", {"reason": "VIP customer"}))[0] == 200
    status, answer = await api.post(path, "bob", sent)
    assert status == 201, answer
    assert [e["body"] for e in answer["complaint"]["entries"]].count("We are on it.") == 1
    # anything new from him is still refused at that level
    status, answer = await api.post(path, "bob", {**sent, "client_id": "0b6f1c1e-1111-4c1a-9a55-000000000012"})
    assert status == 403 and error(answer, "forbidden")


async def test_escalation_climbs_levels_and_levels_decide_who_writes(api):
    ref = (await api.log())["reference"]
    path = f"/api/complaints/{ref}/escalate"
    status, answer = await api.patch(f"/api/complaints/{ref}", "bob", {"status": "in_progress"})
    status, answer = await api.post(path, "bob", {"reason": "Customer threatens to leave"})
    assert status == 200
    view = answer["complaint"]
    assert view["level"] == 2 and view["assignee"] is None and view["owner_group"] == "supervisors"
    assert any(e["kind"] == "system" and "Customer threatens to leave" in e["body"] for e in view["entries"])
    # level 2 is above an agent
    status, answer = await api.post(f"/api/complaints/{ref}/replies", "bob", {"kind": "reply", "body": "hello"})
    assert status == 403 and error(answer, "forbidden")
    status, answer = await api.get(f"/api/complaints/{ref}", "bob")  # reading stays open to all staff
    assert status == 200
    status, answer = await api.post(path, "sam", {"reason": "Legal threat"})
    assert status == 200 and answer["complaint"]["level"] == 3
    status, answer = await api.post(path, "sam", {"reason": "again"})
    assert status == 403 and error(answer, "forbidden")
    status, answer = await api.post(path, "ada", {"reason": "again"})
    assert status == 409 and error(answer, "conflict")
    for body in ({}, {"reason": ""}, {"reason": 3}, {"reason": "x", "level": 3}, {"reason": "x", "from_level": 0},
                 {"reason": "x", "from_level": 4}, {"reason": "x", "from_level": "2"}, {"reason": "x", "from_level": 1.5}):
        status, answer = await api.post(path, "ada", body)
        assert status == 400 and error(answer, "invalid"), body


async def test_two_people_escalating_at_once_raise_the_complaint_one_level(api):
    ref = (await api.log())["reference"]
    path = f"/api/complaints/{ref}/escalate"
    (first, one), (second, other) = await asyncio.gather(
        api.post(path, "sam", {"reason": "Payout stuck for a week", "from_level": 1}),
        api.post(path, "ada", {"reason": "VIP customer", "from_level": 1}),
    )
    assert sorted([first, second]) == [200, 409], (one, other)
    refused = one if first == 409 else other
    assert "level 2 now" in error(refused, "conflict")
    status, answer = await api.get(f"/api/complaints/{ref}", "sam")
    assert answer["complaint"]["level"] == 2
    escalations = [e for e in answer["complaint"]["entries"] if e["kind"] == "system" and e["body"].startswith("Escalated")]
    assert len(escalations) == 1
    # whoever saw level 2 may go on; without from_level it is one level up from wherever it is
    status, answer = await api.post(path, "ada", {"reason": "Legal threat", "from_level": 2})
    assert status == 200 and answer["complaint"]["level"] == 3


async def test_two_supervisors_reassigning_at_once_give_it_to_one_and_tell_the_other(api):
    # Sam and Ada both saw the complaint with nobody and chose different colleagues at the same moment
    ref = (await api.log())["reference"]
    path = f"/api/complaints/{ref}"
    (first, one), (second, other) = await asyncio.gather(
        api.patch(path, "sam", {"assignee_id": api.ids["carol"], "from_assignee_id": None}),
        api.patch(path, "ada", {"assignee_id": api.ids["bob"], "from_assignee_id": None}),
    )
    assert sorted([first, second]) == [200, 409], (one, other)
    winner = one if first == 200 else other
    refused = other if first == 200 else one
    holder = winner["complaint"]["assignee"]["name"]
    assert f"{ref} went to {holder} a moment ago, so your change was not made" == error(refused, "conflict")
    status, answer = await api.get(path, "sam")
    assert answer["complaint"]["assignee"]["name"] == holder
    assert [e["action"] for e in answer["complaint"]["audit"]].count("complaint.assign") == 1

    # whoever saw the new holder may change it; ending up where one wanted anyway is no conflict
    holder_id = api.ids[holder.lower()]
    status, answer = await api.patch(path, "sam", {"assignee_id": holder_id, "from_assignee_id": None})
    assert status == 200 and answer["complaint"]["assignee"]["name"] == holder
    status, answer = await api.patch(path, "sam", {"assignee_id": None, "from_assignee_id": holder_id})
    assert status == 200 and answer["complaint"]["assignee"] is None
    # a stale view also stops picking up and reclassifying in the same request: all or none
    status, answer = await api.patch(path, "ada", {"status": "in_progress", "category": "bonuses",
                                                   "assignee_id": api.ids["ada"], "from_assignee_id": holder_id})
    assert status == 409 and "was unassigned a moment ago" in error(answer, "conflict")
    status, answer = await api.get(path, "sam")
    assert (answer["complaint"]["status"], answer["complaint"]["category"], answer["complaint"]["assignee"]) == ("new", "withdrawals", None)
    # without from_assignee_id (a client written before it existed) the change is made as sent
    status, answer = await api.patch(path, "ada", {"assignee_id": api.ids["ada"]})
    assert status == 200 and answer["complaint"]["assignee"]["name"] == "Ada"
    status, answer = await api.patch(path, "ada", {"from_assignee_id": None})
    assert status == 400 and "goes with assignee_id" in error(answer, "invalid")


async def test_compensation_is_proposed_and_decided_once_by_someone_else(api):
    ref = (await api.log())["reference"]
    path = f"/api/complaints/{ref}/compensations"
    status, answer = await api.post(path, "bob", {"amount_minor": 2500, "currency": "EUR", "reason": "Late payout"})
    assert status == 201
    proposal = answer["complaint"]["compensations"][0]
    assert proposal["status"] == "proposed" and proposal["proposed_by"] == {"id": api.ids["bob"], "name": "Bob"}
    decide = f"/api/compensations/{proposal['id']}/decision"
    # an agent cannot decide
    status, answer = await api.post(decide, "carol", {"approve": True})
    assert status == 403 and error(answer, "forbidden")
    # nobody decides their own proposal
    status, answer = await api.post(path, "sam", {"amount_minor": 1000, "currency": "EUR", "reason": "Goodwill"})
    assert status == 201
    own = [c for c in answer["complaint"]["compensations"] if c["proposed_by"]["id"] == api.ids["sam"]][0]
    status, answer = await api.post(f"/api/compensations/{own['id']}/decision", "sam", {"approve": True})
    assert status == 403 and "own proposal" in error(answer, "forbidden")
    status, answer = await api.post(decide, "sam", {"approve": True, "note": "Fair"})
    assert status == 200
    decided = {c["id"]: c for c in answer["complaint"]["compensations"]}[proposal["id"]]
    assert decided["status"] == "approved" and decided["decided_by"]["name"] == "Sam" and decided["decision_note"] == "Fair"
    audit = [e for e in answer["complaint"]["audit"] if e["action"] == "complaint.decide_compensation"]
    assert audit and audit[0]["actor"] == api.ids["sam"] and audit[0]["details"]["decision"] == "approved"
    # decided once
    status, answer = await api.post(decide, "ada", {"approve": False})
    assert status == 409 and error(answer, "conflict")
    status, answer = await api.post("/api/compensations/cm_nope/decision", "sam", {"approve": True})
    assert status == 404 and error(answer, "not_found")
    for body in (
        {"amount_minor": "2500", "currency": "EUR", "reason": "r"}, {"amount_minor": 0, "currency": "EUR", "reason": "r"},
        {"amount_minor": True, "currency": "EUR", "reason": "r"}, {"amount_minor": 12.5, "currency": "EUR", "reason": "r"},
        {"amount_minor": 100, "currency": "eur", "reason": "r"}, {"amount_minor": 100, "currency": "EUR"},
    ):
        status, answer = await api.post(path, "bob", body)
        assert status == 400 and error(answer, "invalid"), body
    for body in ({"approve": "yes"}, {}, {"approve": 1}, {"approve": True, "by": "sam"}):
        status, answer = await api.post(decide, "ada", body)
        assert status == 400 and error(answer, "invalid"), body


# -- malformed requests ---------------------------------------------------------------------------


async def test_the_longest_complaint_allowed_is_taken_however_its_json_escapes_the_text(api):
    """A description of 10,000 characters and a subject of 200 are within the limits whatever their
    script: emoji escaped as surrogate pairs (Python's json does so by default) make 12 bytes of each."""
    body, subject = "\U0001F3B2" * 10_000, "\U0001F3B0" * 200
    sent = json.dumps({"category": "withdrawals", "subject": subject, "body": body, "channel": "phone"})
    assert len(sent) > 120_000 and sent.isascii()
    status, answer = await api.call("POST", "/api/complaints", "bob", headers={"Content-Type": "application/json"}, data=sent)
    assert status == 201, answer
    status, detail = await api.get(f"/api/complaints/{answer['complaint']['reference']}")
    assert detail["complaint"]["body"] == body and detail["complaint"]["subject"] == subject


async def test_bad_bodies_are_invalid_and_big_ones_too_large(api):
    path = "/api/complaints"
    json_type = {"Content-Type": "application/json"}
    cases = [
        ({"Content-Type": "application/json"}, "{not json", "invalid"),
        ({"Content-Type": "application/json"}, "", "invalid"),
        ({"Content-Type": "application/json"}, '["a list"]', "invalid"),
        ({"Content-Type": "application/json"}, '{"category": NaN}', "invalid"),
        ({"Content-Type": "application/json"}, b'{"subject": "\xff\xfe"}', "invalid"),
        ({"Content-Type": "application/json"}, "[" * 100_00 + "]" * 100_00, "invalid"),
        ({"Content-Type": "text/plain"}, '{"category": "withdrawals"}', "invalid"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "category=withdrawals", "invalid"),
        ({}, None, "invalid"),
    ]
    for headers, data, code in cases:
        status, answer = await api.call("POST", path, "bob", headers=headers, data=data if data is not None else b"")
        assert status == 400, (headers, str(data)[:40])
        error(answer, code)
    base = {"category": "withdrawals", "subject": "s", "body": "b", "channel": "phone"}
    for body, hint in (
        ({**base, "customer_id": "cu_1"}, "unknown field customer_id"),
        ({**base, "channel": "fax"}, "channel"),
        ({**base, "subject": 5}, "subject"),
        ({**base, "subject": None}, "subject"),
        ({**base, "category": {"$ne": 1}}, "category"),
        ({**base, "customer_email": "a@b.c\r\nBcc: x@y.z"}, "customer_email"),
        ({**base, "locale": "de"}, "locale"),
        ({k: v for k, v in base.items() if k != "body"}, "body is required"),
        ({**base, "subject": "nul\x00byte"}, "subject"),
    ):
        status, answer = await api.post(path, "bob", body)
        assert status == 400, body
        assert hint in error(answer, "invalid"), (body, answer)
    big = json.dumps({**base, "body": "x" * (129 * 1024)})
    status, answer = await api.call("POST", path, "bob", headers=json_type, data=big)
    assert status == 413 and error(answer, "too_large")
    huge = json.dumps({**base, "body": "x" * (300 * 1024)})
    status, answer = await api.call("POST", path, "bob", headers=json_type, data=huge)
    assert status == 413 and error(answer, "too_large")
    status, page = await api.get("/api/complaints")
    assert page["total"] == 0  # nothing was written by any of these


async def test_unknown_routes_and_methods_answer_json(api):
    for method, path in (("GET", "/api/nothing"), ("GET", "/api/"), ("GET", "/api"), ("POST", "/api/complaints/C-2026-000001/close")):
        status, answer = await api.call(method, path, "bob", {})
        assert status == 404, path
        error(answer, "not_found")
    status, answer = await api.call("DELETE", "/api/complaints", "bob")
    assert status == 405 and error(answer, "invalid")


# -- who may call ---------------------------------------------------------------------------------


async def test_without_valid_credentials_everything_is_unauthorized(api, server):
    ref = (await api.log())["reference"]
    alice = await peers.customer(server.url)
    [session] = alice.received("session")
    await alice.close()
    attempts = [None, "not-a-token", "cs_" + "A" * 43, session["token"], "x" * 5000]
    for token in attempts:
        for method, path, body in (
            ("GET", "/api/complaints", NO_BODY), ("GET", f"/api/complaints/{ref}", NO_BODY),
            ("POST", f"/api/complaints/{ref}/replies", {"kind": "reply", "body": "hi"}),
            ("GET", "/api/users", NO_BODY),
        ):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            status, answer = await api.call(method, path, None, body, headers=headers)
            assert status == 401, (token, path)
            error(answer, "unauthorized")
    for header in (f"Basic {api.tokens['bob']}", api.tokens["bob"], "Bearer", "Bearer  "):
        status, answer = await api.call("GET", "/api/complaints", None, headers={"Authorization": header})
        assert status == 401 and error(answer, "unauthorized"), header
    async with api.http.get(f"{server.url}/api/complaints", allow_redirects=False) as response:
        assert response.status == 401 and response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["Cache-Control"] == "no-store"
    # the document itself is public
    status, _ = await api.call("GET", "/api/openapi.json")
    assert status == 200


async def test_a_customer_cannot_reach_complaints_through_the_api(api, server):
    alice = await peers.customer(server.url)
    [session] = alice.received("session")
    ack = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Alice's payout", "body": "Where is it?"})
    assert ack["ok"], ack
    ref = ack["complaint"]["reference"]
    for path in (f"/api/complaints/{ref}", "/api/complaints", f"/api/complaints?q={ref}"):
        status, answer = await api.call("GET", path, None, headers={"Authorization": f"Bearer {session['token']}"})
        assert status == 401 and error(answer, "unauthorized")
        assert "Alice's payout" not in json.dumps(answer)
    status, answer = await api.call(
        "POST", f"/api/complaints/{ref}/replies", None, {"kind": "resolution", "body": "closed by me"},
        headers={"Authorization": f"Bearer {session['token']}"},
    )
    assert status == 401
    # the tracking key is no API credential either
    status, answer = await api.call("GET", f"/api/complaints/{ref}?key={ack['complaint']['tracking_key']}", None)
    assert status == 401
    status, answer = await api.get(f"/api/complaints/{ref}", "bob")  # staff see it, without the key
    assert status == 200 and "tracking_key" not in answer["complaint"]
    assert ack["complaint"]["tracking_key"] not in json.dumps(answer)
    await alice.close()


async def test_the_console_cookie_works_with_its_csrf_token_from_this_origin_only(api, server):
    ref = (await api.log())["reference"]
    cookie = await login_cookie(server.url, "bob@example.test")
    async with api.http.get(f"{server.url}/console", headers={"Cookie": cookie}) as page:
        html = await page.text()
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)  # type: ignore[union-attr]
    path = f"/api/complaints/{ref}/replies"
    reply = {"kind": "note", "body": "from the console"}
    own = server.url
    status, answer = await api.call("GET", "/api/complaints", None, headers={"Cookie": cookie})
    assert status == 200 and answer["total"] == 1
    status, answer = await api.call("GET", "/api/complaints", None, headers={"Cookie": cookie, "Origin": "https://evil.example"})
    assert status == 403 and error(answer, "forbidden")
    for headers in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": csrf[:-1]}, {"X-CSRF-Token": "ü" + csrf}):
        status, answer = await api.call("POST", path, None, reply, headers={"Cookie": cookie, **headers})
        assert status == 403, headers
        assert "X-CSRF-Token" in error(answer, "forbidden")
    status, answer = await api.call(
        "POST", path, None, reply, headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Origin": "https://evil.example"}
    )
    assert status == 403 and error(answer, "forbidden")
    status, answer = await api.call("POST", path, None, reply, headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Origin": own})
    assert status == 201
    assert answer["complaint"]["entries"][-1]["author_id"] == api.ids["bob"]
    status, answer = await api.call(
        "PATCH", f"/api/complaints/{ref}", None, {"status": "in_progress"}, headers={"Cookie": cookie, "X-CSRF-Token": csrf}
    )
    assert status == 200 and answer["complaint"]["assignee"]["name"] == "Bob"
    # a forged or logged-out cookie is no session: 401, never a redirect to the login page
    status, answer = await api.call("GET", "/api/complaints", None, headers={"Cookie": cookie + "x"})
    assert status == 401 and error(answer, "unauthorized")


async def test_every_read_refuses_the_console_cookie_from_another_site_as_the_document_says(api, server):
    ref = (await api.log())["reference"]
    reads = [template for template, item in api.doc["paths"].items() if "get" in item and template != "/api/openapi.json"]
    assert len(reads) >= 6, reads  # every read the document offers, so a new one is covered here too
    cookie = await login_cookie(server.url, "sam@example.test")
    for template in reads:
        path = template.replace("{reference}", ref)
        for origin in ("https://evil.example", "null"):
            # the answer is checked against the document: a 403 it does not list fails here
            status, answer = await api.call("GET", path, None, headers={"Cookie": cookie, "Origin": origin})
            assert status == 403 and error(answer, "forbidden"), (path, origin, status)
        status, _ = await api.call("GET", path, None, headers={"Cookie": cookie, "Origin": server.url})
        assert status in (200, 404), (path, status)  # /chat: this complaint did not come from a chat


async def test_every_unsafe_api_operation_refuses_the_console_cookie_without_its_csrf_token_or_from_another_site(api, server):
    ref = (await api.log())["reference"]
    status, answer = await api.post(f"/api/complaints/{ref}/compensations", "bob",
                                    {"amount_minor": 500, "currency": "EUR", "reason": "Late payout"})
    assert status == 201, answer
    values = {"reference": ref, "compensation_id": answer["complaint"]["compensations"][0]["id"]}
    unsafe = [(method.upper(), template) for template, item in api.doc["paths"].items()
              for method in item if method in ("post", "put", "patch", "delete")]
    assert len(unsafe) >= 6, unsafe  # every write the document offers, so a new one is covered here too

    async def console_csrf(cookie: str) -> str:
        async with api.http.get(f"{server.url}/console", headers={"Cookie": cookie}) as page:
            return re.search(r'<meta name="csrf-token" content="([^"]+)">', await page.text()).group(1)  # type: ignore[union-attr]

    cookie = await login_cookie(server.url, "sam@example.test")  # a supervisor: every operation is his to do
    csrf = await console_csrf(cookie)
    someone_elses = await console_csrf(await login_cookie(server.url, "bob@example.test"))
    forged = [
        {},  # a plain cross-site form or fetch carries no header
        {"X-CSRF-Token": "wrong"},
        {"X-CSRF-Token": someone_elses},  # a token is bound to its session
        {"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        {"X-CSRF-Token": csrf, "Origin": "null"},
        {"X-CSRF-Token": csrf, "Origin": server.url + ".evil.example"},
    ]
    before = hostile.fingerprint(Path(server.settings.db))
    tried = 0
    for method, template in unsafe:
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        for headers in forged:
            status, answer = await api.call(method, path, None, {}, headers={"Cookie": cookie, **headers})
            assert status == 403 and answer["error"]["code"] == "forbidden", (method, path, headers, status, answer)
            tried += 1
    assert hostile.fingerprint(Path(server.settings.db)) == before  # nothing was written
    # with the token, from this origin, each one gets past the check to its own validation
    for method, template in unsafe:
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        status, answer = await api.call(method, path, None, {}, headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Origin": server.url})
        assert status == 400 and answer["error"]["code"] == "invalid", (method, path, status, answer)
    assert tried == 6 * len(unsafe)


# -- what consoles and customers hear -------------------------------------------------------------


async def test_changes_reach_consoles_and_the_customer_hears_public_ones_only(api, server):
    alice = await peers.customer(server.url)
    ack = await alice.call("complaint:submit", {"category": "withdrawals", "subject": "Payout", "body": "Where is it?"})
    ref = ack["complaint"]["reference"]
    carol = await peers.agent(server.url, "carol@example.test", online=False)
    path = f"/api/complaints/{ref}/replies"
    assert (await api.post(path, "bob", {"kind": "note", "body": "SECRET-NOTE suspected abuse"}))[0] == 201
    assert (await api.post(path, "bob", {"kind": "reply", "body": "We are on it"}))[0] == 201
    staff = await carol.wait_for("complaint:updated", lambda d: d["complaint"]["status"] == "in_progress")
    assert staff["complaint"]["reference"] == ref and staff["complaint"]["assignee"] is None
    seen = await alice.wait_for("complaint:updated")
    assert seen["complaint"]["reference"] == ref and seen["complaint"]["status"] == "in_progress"
    assert len(carol.received("complaint:updated")) == 2
    # the note reached the console but never the customer, in any form
    assert len(alice.received("complaint:updated")) == 1
    assert "SECRET-NOTE" not in json.dumps(alice.events)
    assert "assignee" not in seen["complaint"] and "owner_group" not in seen["complaint"]
    for peer in (alice, carol):
        await peer.close()


async def test_the_document_describes_a_complaint_update_as_all_or_none_as_it_is_made(api):
    # the behaviour: test_two_supervisors_reassigning_at_once_give_it_to_one_and_tell_the_other
    description = api.doc["paths"]["/api/complaints/{reference}"]["patch"]["description"]
    assert "none is made" in description and "stay applied" not in description
    assert "from_assignee_id" in description and "409" in description
