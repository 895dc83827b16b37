"""schemathesis against /api/openapi.json on a real server process, offline on 127.0.0.1.

Every documented operation gets valid and invalid requests derived from the document (its examples,
its boundaries, then generated ones), made as an admin with an API token. Checks: no 5xx, every answer
and its status code, content type and headers as documented, invalid requests refused and valid ones
accepted, no error in the server's log, and a refusal or a read leaves every row as it was; afterwards
the file passes the integrity and consistency checks and a chat round trip is served. Deterministic
(no example database, derandomized) and bounded per operation.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from chatserver.transport.http.openapi import build_document
from tests import hostile
from tests.conftest import CAST
from tests.peers import CAST_PASSWORD, Canary
from tests.procs import ServerProcess, ServerProcesses

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 60
ADMIN = ("ada@example.test", "Ada", "admin", 5)


@dataclass
class Api:
    url: str
    token: str
    server: ServerProcess
    answers: Counter[int] = field(default_factory=Counter)
    log_checked: int = 0  # how much of the server's log the cases so far have read, in whole lines


async def _cast_with_a_token(db: Path) -> str:
    """The cast plus admin ada, and an API token for her (written before the server starts)."""
    from chatserver.config import Settings
    from chatserver.services.container import build_services, close_services

    services = await build_services(Settings(db=str(db), uvloop=False, gc_tuning=False), "unused-secret")
    try:
        ids = {}
        for email, name, role, max_chats in [*CAST, ADMIN]:
            row = await services.auth.create_user(email=email, name=name, role=role, password=CAST_PASSWORD, max_chats=max_chats)
            ids[name.lower()] = row["id"]
        return await services.auth.issue_api_token(ids["ada"], "schemathesis")
    finally:
        await close_services(services)


async def _seed(url: str, token: str) -> dict[str, list[str]]:
    """What the generated requests can find: complaints, a proposed compensation, staff, categories."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:

        async def call(method: str, path: str, body: Any = None) -> Any:
            async with http.request(method, url + path, json=body) as response:
                assert response.status in (200, 201), await response.text()
                return await response.json()

        references = []
        for n, channel in enumerate(["phone", "email", "phone"]):
            body = {"category": "withdrawals", "subject": f"Seeded {n}", "body": "seeded for the API fuzz", "channel": channel}
            references.append((await call("POST", "/api/complaints", body))["complaint"]["reference"])
        proposed = await call("POST", f"/api/complaints/{references[0]}/compensations",
                              {"amount_minor": 500, "currency": "EUR", "reason": "seeded"})
        staff = [user["id"] for user in (await call("GET", "/api/users"))["users"]]
        slugs = [category["slug"] for category in (await call("GET", "/api/categories"))["categories"]]
    return {
        "reference": references, "compensation_id": [c["id"] for c in proposed["complaint"]["compensations"]],
        "category": slugs, "assignee_id": staff, "assignee": [*staff, "me", "none"], "agent": staff,
    }


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    group = ServerProcesses(tmp_path_factory.mktemp("api-fuzz"))
    server = group.server(env={
        "CHATSERVER_LOG_FORMAT": "json", "CHATSERVER_SECRET_KEY": "api-fuzz-secret-kkkkkkkkkkkkkkkkkkkkkkkk",
        # what a request may carry is fuzzed here, not how many may come
        "CHATSERVER_API_WRITES_PER_MINUTE": "1000000", "CHATSERVER_API_COMPLAINTS_PER_MINUTE": "1000000",
    })
    try:
        token = asyncio.run(_cast_with_a_token(server.db))
        asyncio.run(server.start())
        LIVE.update(asyncio.run(_seed(server.url, token)))
        api = Api(server.url, token, server)
        api.log_checked = server.all_stderr().rfind("\n") + 1  # the cases answer for what follows
        yield api
        print(f"\n{sum(api.answers.values())} API requests: {dict(sorted(api.answers.items()))}")
    finally:
        LIVE.clear()
        group.close()


# The document is built by code: the schema is known at collection time, and the served copy is checked
# against it below. Authorization goes with each call: the token exists only once the server does.
schema = schemathesis.openapi.from_dict(build_document(), config=SchemathesisConfig.from_dict({
    "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True, "database": "none", "mode": "all"},
    "checks": {
        # too large is a refusal too, and documented as one
        "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422, 429]},
    },
    "operations": [
        {
            # the period's rules span parameters (from <= to, at most 366 days, a preset or dates), which a
            # JSON Schema for each parameter cannot say: valid-looking periods may be refused as invalid
            "include-operation-id": "reportSummary",
            "checks": {"positive_data_acceptance": {"enabled": False}},
        },
    ],
}))

# Values that are valid only when the database holds them (a category, a reference, a staff id): a
# schema-valid one is swapped for one that exists, mostly, so that requests reach the complaints.
# Filled in once the server is up.
LIVE: dict[str, list[str]] = {}
ALWAYS = {"category", "assignee_id"}  # an unknown one is refused as invalid, which a schema cannot foresee


def _live(values: Any) -> Any:
    if not isinstance(values, dict):
        return values
    swapped = dict(values)
    for name, value in values.items():
        options = LIVE.get(name)
        if options and isinstance(value, str) and 0 < len(value) <= 64:
            pick = zlib.crc32(value.encode("utf-8", "surrogatepass"))
            if name in ALWAYS or pick % 4:
                swapped[name] = options[pick % len(options)]
    return swapped


def test_the_served_document_is_the_one_fuzzed(api: Api) -> None:
    with urllib.request.urlopen(f"{api.url}/api/openapi.json") as response:
        assert json.load(response) == build_document()


@schema.parametrize()
def test_every_api_operation_answers_as_documented(case: schemathesis.Case, api: Api) -> None:
    # here, not in a hook: some cases are drawn while tests are collected, before the server exists
    case.path_parameters, case.query, case.body = _live(case.path_parameters), _live(case.query), _live(case.body)
    stored_before = hostile.fingerprint(api.server.db)
    response = case.call_and_validate(base_url=api.url, headers={"Authorization": f"Bearer {api.token}"})
    api.answers[response.status_code] += 1
    what = f"{case.method} {case.formatted_path} {case.body!r} -> {response.status_code}"
    # the server writes a failure to its log before it answers, so the log is complete here; its
    # access line may still be being written: whole lines only, the rest is read by the next case
    log = api.server.all_stderr()
    whole = log[: log.rfind("\n") + 1]
    assert hostile.log_problems(whole[api.log_checked:]) == [], what
    api.log_checked = max(api.log_checked, len(whole))
    # a refusal, and any read, leaves every row as it was: nothing half-written
    if case.method == "GET" or response.status_code >= 400:
        assert hostile.fingerprint(api.server.db) == stored_before, "written although refused or read-only: " + what


def test_after_the_fuzz_the_store_is_consistent_and_chat_is_served(api: Api) -> None:
    """Runs after the generated cases (tests run in file order): the same server, the same file."""
    assert sum(api.answers.values()) >= 500, api.answers  # the fuzz ran first, on this server
    assert hostile.storage_problems(api.server.db) == []

    async def chat_round_trip() -> None:
        canary = await Canary.start(api.url)
        await canary.round_trip()
        await canary.close()

    asyncio.run(chat_round_trip())
