"""The server side the two front ends use: widget config and FAQ, canned answers, customer history.

These run without a browser, through real HTTP and Socket.IO clients.
"""

from __future__ import annotations

import aiohttp

from tests import peers
from tests.conftest import seed_cast


async def get_json(url: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 200, url
            return await response.json()


async def test_widget_config_is_localized_and_public(server):
    config = await get_json(f"{server.url}/widget/config?locale=pl")
    assert config["locale"] == "pl" and config["online"] is False
    names = {c["slug"]: c["name"] for c in config["categories"]}
    assert names["withdrawals"] == "Płatności i wypłaty"
    assert all(article["locale"] == "pl" for article in config["faq"]) and len(config["faq"]) >= 5
    fallback = await get_json(f"{server.url}/widget/config?locale=de")
    assert fallback["locale"] == "en"


async def test_faq_search_folds_case_in_every_language(server):
    russian = await get_json(f"{server.url}/widget/faq?locale=ru&q=ВЫВОД")
    assert russian["articles"][0]["id"] == "faq_ru_withdrawal_time"
    polish = await get_json(f"{server.url}/widget/faq?locale=pl&q=wypł")
    assert polish["articles"][0]["id"] == "faq_pl_withdrawal_time"
    nothing = await get_json(f"{server.url}/widget/faq?locale=en&q=quantum%20entanglement")
    assert nothing["articles"] == []


async def test_canned_answers_match_shortcuts_in_the_conversation_language_first(server):
    bob = await peers.agent(server.url, "bob@example.test")
    ack = await bob.call("canned:search", {"query": "withd", "locale": "ru"})
    assert ack["ok"], ack
    assert [(a["shortcut"], a["locale"]) for a in ack["answers"]][:3] == [("withdraw", "ru"), ("withdraw", "en"), ("withdraw", "pl")]
    everything = await bob.call("canned:search", {"query": "", "locale": "en"})
    assert everything["answers"][0]["locale"] == "en" and len(everything["answers"]) >= 8
    articles = await bob.call("faq:search", {"query": "bonus", "locale": "en"})
    assert articles["articles"][0]["id"] == "faq_en_bonus_wagering"
    bad = await bob.call("canned:search", {"query": ["not", "text"]})
    assert bad["ok"] is False and bad["error"]["code"] == "invalid"
    await bob.close()


async def test_customer_history_is_for_the_assigned_agent_only(server):
    bob = await peers.agent(server.url, "bob@example.test")
    carol = await peers.agent(server.url, "carol@example.test", online=False)
    alice = await peers.customer(server.url)
    first = await alice.call("chat:start", {"topic": "withdrawals", "body": "first", "name": "Alice", "email": "alice@example.com"})
    await bob.wait_for("chat:assigned")
    ended = await alice.call("chat:end", {"conversation_id": first["conversation"]["id"], "resolved": False})
    assert ended["ok"], ended
    second = await alice.call("chat:start", {"topic": "technical", "body": "second"})
    conversation_id = second["conversation"]["id"]
    await bob.wait_for("chat:assigned", lambda e: e["conversation"]["id"] == conversation_id)

    history = await bob.call("customer:history", {"conversation_id": conversation_id})
    assert history["ok"], history
    assert history["customer"]["name"] == "Alice" and history["customer"]["verified"] is False
    assert [c["id"] for c in history["conversations"]] == [first["conversation"]["id"]]
    assert [c["reference"] for c in history["complaints"]] == [ended["complaint"]["reference"]]
    assert "tracking_key" not in history["complaints"][0]

    refused = await carol.call("customer:history", {"conversation_id": conversation_id})
    assert refused["ok"] is False and refused["error"]["code"] == "not_found"
    # nor through a colleague's chat that has closed
    refused = await carol.call("customer:history", {"conversation_id": first["conversation"]["id"]})
    assert refused["ok"] is False and refused["error"]["code"] == "not_found"
    missing = await bob.call("customer:history", {"conversation_id": "cv_nope"})
    assert missing["error"]["code"] == "not_found"
    for peer in (alice, bob, carol):
        await peer.close()


async def test_the_knowledge_migration_applies_to_an_empty_database(start_server):
    server = await start_server()
    await seed_cast(server.services)
    rows = await server.services.db.fetch("SELECT locale, COUNT(*) AS n FROM faq_articles GROUP BY locale ORDER BY locale")
    assert [(r["locale"], r["n"]) for r in rows] == [("en", 7), ("pl", 7), ("ru", 7)]
    canned = await server.services.db.fetch("SELECT COUNT(DISTINCT shortcut) AS n FROM canned_answers")
    assert canned[0]["n"] == 8
