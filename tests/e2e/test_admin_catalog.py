"""/admin/categories, /admin/canned and /admin/faq: what admins edit reaches customers and agents at once."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import aiohttp
import pytest

from chatserver.domain.models import parse_iso
from chatserver.store import audit, categories, knowledge
from tests import peers
from tests.admin_steps import ADA, Browserless, add_admin, field_errors, input_value, notices, text_of, textarea_value
from tests.conftest import RunningServer

CATEGORY = {
    "slug": "casino_games", "name_en": "Casino games", "name_ru": "Игры казино", "name_pl": "Gry kasynowe",
    "first_response_hours": "12", "resolution_hours": "36", "owner_group": "casino", "position": "8", "active": "on",
}


@pytest.fixture
async def ada(server: RunningServer):
    await add_admin(server.services)
    client = await Browserless.login(server.url, ADA)
    yield client
    await client.close()


async def widget_config(server: RunningServer, locale: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/widget/config?locale={locale}") as response:
            return await response.json()


async def test_a_new_category_is_offered_in_every_language_and_complaints_get_its_targets(server, ada):
    page = await ada.submit("/admin/categories", CATEGORY)
    assert notices(page) == ["Category “Casino games” created."]
    assert "casino_games" in page and "12 h" in text_of(page)
    names = {c["slug"]: c["name"] for c in (await widget_config(server, "ru"))["categories"]}
    assert names["casino_games"] == "Игры казино"

    alice = await peers.customer(server.url)
    ack = await alice.call("complaint:submit", {"category": "casino_games", "subject": "Slot froze", "body": "Lost my spin"})
    assert ack["ok"], ack
    row = await server.services.db.fetch_one("SELECT created_at, first_response_due, resolution_due, owner_group FROM complaints")
    assert row["owner_group"] == "casino"  # type: ignore[index]
    created, due = parse_iso(row["created_at"]), parse_iso(row["first_response_due"])  # type: ignore[index]
    assert due - created == timedelta(hours=12)  # type: ignore[operator]
    await alice.close()
    assert [e["action"] for e in await audit.for_subject(server.services.db, "category:casino_games")] == ["category.created"]


async def test_editing_a_category_renames_it_and_retiring_it_hides_it_from_customers(server, ada):
    status, page, _ = await ada.get("/admin/categories/withdrawals")
    assert status == 200 and input_value(page, "name_en") == "Payments and withdrawals"
    page = await ada.submit("/admin/categories/withdrawals", dict(CATEGORY, slug="ignored", name_en="Payouts", active=""))
    assert "Category “Payouts” saved. New targets apply to complaints created from now on." in notices(page)
    row = await categories.get(server.services.db, "withdrawals")
    assert (row["name_en"], row["first_response_hours"], row["active"]) == ("Payouts", 12.0, False)  # type: ignore[index]
    assert "withdrawals" not in {c["slug"] for c in (await widget_config(server, "en"))["categories"]}
    trail = await audit.for_subject(server.services.db, "category:withdrawals")
    assert trail[-1]["details"]["active"] == {"from": 1, "to": 0}


async def test_the_category_form_names_every_wrong_field(server, ada):
    status, page, _ = await ada.post("/admin/categories", dict(
        CATEGORY, slug="Casino Games!", name_ru="", first_response_hours="soon", resolution_hours="0",
        owner_group="Casino Team", position="-3",
    ))
    assert status == 400
    assert field_errors(page) == {
        "slug": "Use 2–40 lower-case letters, digits or _, starting with a letter.",
        "name_ru": "Enter the Russian name.",
        "first_response_hours": "Enter the first-response target in hours, for example 24 or 1.5.",
        "resolution_hours": "The resolution target must be more than 0 and at most 1440 hours.",
        "owner_group": "Use lower-case letters, digits, - or _ (at most 40), starting with a letter.",
        "position": "The order must be between 0 and 9999.",
    }
    assert input_value(page, "slug") == "Casino Games!" and input_value(page, "name_en") == "Casino games"

    status, page, _ = await ada.post("/admin/categories", dict(CATEGORY, slug="withdrawals"))
    assert status == 400 and field_errors(page) == {"slug": "A category with this code already exists."}
    status, page, _ = await ada.post("/admin/categories", dict(CATEGORY, first_response_hours="48", resolution_hours="24"))
    assert status == 400
    assert field_errors(page) == {"resolution_hours": "The resolution target cannot be shorter than the first-response target."}
    assert await categories.get(server.services.db, "casino_games") is None


async def test_canned_answers_per_language_reach_the_agents_search(server, ada):
    bob = await peers.agent(server.url, "bob@example.test")
    page = await ada.submit("/admin/canned", {
        "shortcut": "/kyc", "locale": "pl", "title": "Weryfikacja KYC", "body": "Prześlij dokument, {name}.", "active": "on",
    })
    assert notices(page) == ["Canned answer /kyc (pl) created."]
    assert "/kyc" in text_of(page) and "Prześlij dokument" in text_of(page)
    found = await bob.call("canned:search", {"query": "kyc", "locale": "pl"})
    assert [a["title"] for a in found["answers"]] == ["Weryfikacja KYC"]

    answer_id = found["answers"][0]["id"]
    status, page, _ = await ada.get(f"/admin/canned/{answer_id}")
    assert textarea_value(page, "body") == "Prześlij dokument, {name}."
    page = await ada.submit(f"/admin/canned/{answer_id}", {"shortcut": "kyc", "locale": "pl", "title": "KYC", "body": "Nowy tekst"})
    assert notices(page) == ["Canned answer /kyc (pl) saved."]
    assert (await bob.call("canned:search", {"query": "kyc", "locale": "pl"}))["answers"] == []  # retired: not active
    row = await knowledge.canned_answer(server.services.db, answer_id)
    assert (row["title"], row["active"]) == ("KYC", False)  # type: ignore[index]
    await bob.close()


async def test_the_canned_answer_form_refuses_duplicates_and_empty_fields(server, ada):
    status, page, _ = await ada.post("/admin/canned", {"shortcut": "hello", "locale": "en", "title": "Hi", "body": "Hello!"})
    assert status == 400 and field_errors(page) == {"shortcut": "/hello already exists in this language."}
    status, page, _ = await ada.post("/admin/canned", {"shortcut": "two words", "locale": "de", "title": "", "body": " "})
    assert status == 400
    assert field_errors(page) == {
        "shortcut": "Use up to 32 lower-case letters, digits, - or _.",
        "locale": "Choose English, Russian or Polish.",
        "title": "Enter a title.",
        "body": "Enter the answer.",
    }
    assert input_value(page, "shortcut") == "two words"
    # the same shortcut in another language is fine
    await ada.submit("/admin/canned", {"shortcut": "limits", "locale": "en", "title": "Limits", "body": "See Profile → Limits."})
    page = await ada.submit("/admin/canned", {"shortcut": "limits", "locale": "ru", "title": "Лимиты", "body": "Профиль → Лимиты."})
    assert notices(page) == ["Canned answer /limits (ru) created."]


async def test_faq_articles_per_language_show_in_the_widget_and_hidden_ones_do_not(server, ada):
    page = await ada.submit("/admin/faq", {
        "locale": "ru", "category": "bonuses", "position": "1", "question": "Когда начисляется фрибет?",
        "answer": "В течение часа после расчёта ставки.", "active": "on",
    })
    assert notices(page) == ["FAQ article created: “Когда начисляется фрибет?”."]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/widget/faq?locale=ru&q=фрибет") as response:
            articles = (await response.json())["articles"]
    assert [a["question"] for a in articles] == ["Когда начисляется фрибет?"]
    article_id = articles[0]["id"]
    assert article_id not in str((await widget_config(server, "en"))["faq"])

    page = await ada.submit(f"/admin/faq/{article_id}", {
        "locale": "ru", "category": "", "position": "1", "question": "Когда начисляется фрибет?", "answer": "Сразу.",
    })
    assert notices(page) == ["FAQ article saved: “Когда начисляется фрибет?”."]
    assert article_id not in str((await widget_config(server, "ru"))["faq"])
    assert [e["action"] for e in await audit.for_subject(server.services.db, article_id)] == ["faq.created", "faq.updated"]

    status, page, _ = await ada.post("/admin/faq", {"locale": "xx", "category": "nope", "position": "x", "question": "", "answer": ""})
    assert status == 400
    assert set(field_errors(page)) == {"locale", "category", "position", "question", "answer"}


async def test_an_edited_article_is_found_by_its_new_words_and_no_longer_by_its_old_ones(server, ada):
    """Search keeps each article's words between searches; an edit must replace them at once."""
    async def found(words: str) -> list[str]:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/widget/faq", params={"locale": "pl", "q": words}) as response:
                return [a["question"] for a in (await response.json())["articles"]]

    await ada.submit("/admin/faq", {
        "locale": "pl", "category": "withdrawals", "position": "1", "question": "Jak długo trwa wypłata?",
        "answer": "Przelew BLIK trwa do godziny.", "active": "on",
    })
    assert await found("blik") == ["Jak długo trwa wypłata?"]
    [article] = await server.services.db.fetch("SELECT id FROM faq_articles WHERE question = 'Jak długo trwa wypłata?'")
    await ada.submit(f"/admin/faq/{article['id']}", {
        "locale": "pl", "category": "withdrawals", "position": "1", "question": "Jak długo trwa wypłata?",
        "answer": "Karta: do trzech dni roboczych.", "active": "on",
    })
    assert await found("blik") == []
    assert await found("ROBOCZ karta") == ["Jak długo trwa wypłata?"]


async def test_a_category_name_another_category_has_in_other_letters_is_refused_and_nothing_is_written(server, ada):
    """Customers pick a topic by its name: two that read the same in one language cannot be told apart."""
    before = await server.services.db.fetch("SELECT * FROM categories ORDER BY slug")
    status, page, _ = await ada.post("/admin/categories", dict(
        CATEGORY, name_en="  PAYMENTS and   withdrawals ", name_ru=unicodedata.normalize("NFD", "Расчёт ставок"),
        name_pl="Gry kasynowe",
    ))
    assert status == 400
    assert field_errors(page) == {
        "name_en": "The category “Payments and withdrawals” (withdrawals) already has this English name.",
        "name_ru": "The category “Bet settlement” (bet_settlement) already has this Russian name.",
    }
    assert input_value(page, "name_en") == "  PAYMENTS and   withdrawals " and input_value(page, "slug") == "casino_games"

    # renaming one category to another's name is refused too; its own name in other letters is not
    status, page, _ = await ada.post("/admin/categories/bonuses", dict(CATEGORY, name_en="other", name_ru="Бонусы и акции", name_pl="Bonusy i promocje"))
    assert status == 400
    assert field_errors(page) == {"name_en": "The category “Other” (other) already has this English name."}
    assert await server.services.db.fetch("SELECT * FROM categories ORDER BY slug") == before
    assert await audit.for_subject(server.services.db, "category:bonuses") == []

    page = await ada.submit("/admin/categories/bonuses", dict(
        CATEGORY, name_en="BONUSES AND PROMOTIONS", name_ru="Бонусы и акции", name_pl="Bonusy i promocje"))
    assert (await categories.get(server.services.db, "bonuses"))["name_en"] == "BONUSES AND PROMOTIONS"  # type: ignore[index]
