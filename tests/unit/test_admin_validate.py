"""The admin forms' checks: pure functions from what a browser sent to clean values or a message per field."""

from __future__ import annotations

import pytest

from chatserver.services.admin import validate as v
from chatserver.services.admin.validate import FieldErrors, RawForm

SKILLS = ("withdrawals", "bet_settlement")


def form(**fields: str | list[str]) -> RawForm:
    return RawForm({k: value if isinstance(value, list) else [value] for k, value in fields.items()})


@pytest.mark.parametrize(
    "text, cleaned, problem",
    [
        ("", [], None),
        ("https://www.example.com", ["https://www.example.com"], None),
        ("HTTPS://Shop.Example/\nhttp://localhost:3000", ["https://shop.example", "http://localhost:3000"], None),
        ("https://a.example, https://a.example  https://b.example", ["https://a.example", "https://b.example"], None),
        ("https://shop.example/path", None, "“https://shop.example/path” is not an origin"),
        ("shop.example", None, "“shop.example” is not an origin"),
        # words are quoted as typed, not cut at the first space
        ("https://a.example\nnot a url", None, "“not a url” is not an origin"),
        ("https://a.example https://b.example/shop", None, "“https://b.example/shop” is not an origin"),
        ("javascript:alert(1)", None, "is not an origin"),
        ("https://shop.example:0", None, "is not an origin"),
        ("https://shop.example:65536", None, "is not an origin"),
        ("https://-bad.example", None, "is not an origin"),
        ("https://a.example;script-src", None, "is not an origin"),
        ("https://x'.example", None, "is not an origin"),
        # a port in Arabic-Indic digits: any script's digits are digits to \d, never to a browser's CSP
        ("https://shop.example:\u0668\u0664\u0664\u0663", None, "is not an origin"),
    ],
)
def test_allowed_origins_are_plain_scheme_host_port(text, cleaned, problem):
    found, message = v.origins(text)
    if problem is None:
        assert (found, message) == (cleaned, None)
    else:
        assert message is not None and problem in message


def test_too_many_origins_are_refused():
    _, message = v.origins("\n".join(f"https://s{i}.example" for i in range(v.MAX_ORIGINS + 1)))
    assert message == f"At most {v.MAX_ORIGINS} sites."


def test_a_new_user_is_checked_whole_and_cleaned():
    profile, password = v.new_user(
        form(email=" dana@example.test ", name="Dana", role="agent", max_chats="4", skills=["bet_settlement", "withdrawals"],
             languages=["pl", "en"], password_mode="generate"),
        SKILLS,
    )
    assert profile == v.UserProfile("dana@example.test", "Dana", "agent", 4, ("withdrawals", "bet_settlement"), ("en", "pl"))
    assert password == v.NewPassword(None)
    typed = v.new_user(form(email="d@x.test", name="D", role="admin", max_chats="0", password_mode="set", password="  spaced  "), SKILLS)
    assert typed[1] == v.NewPassword("  spaced  ")  # a password is taken as typed


@pytest.mark.parametrize(
    "fields, errors",
    [
        ({"max_chats": "3.5"}, {"max_chats": "Enter the chat capacity as a whole number."}),
        ({"max_chats": ""}, {"max_chats": "Enter the chat capacity."}),
        ({"max_chats": "51"}, {"max_chats": "The chat capacity must be between 0 and 50."}),
        # read as 3 and 10 by int(), then shown back as 3 and 10: not what was typed
        ({"max_chats": "\u0663"}, {"max_chats": "Enter the chat capacity as a whole number."}),
        ({"max_chats": "1_0"}, {"max_chats": "Enter the chat capacity as a whole number."}),
        ({"email": "a b@example.test"}, {"email": "Enter an e-mail address like name@example.com."}),
        # accepted before, though no mail reaches it: the SLA warnings to this person went nowhere
        ({"email": "bob@localhost"}, {"email": "Enter an e-mail address like name@example.com."}),
        ({"name": "x" * 81}, {"name": "Keep a name to 80 characters or fewer."}),
        ({"role": ""}, {"role": "Choose agent, supervisor or admin."}),
        ({"password_mode": "set", "password": "x" * 1025}, {"password": "Keep the password to 1024 characters or fewer."}),
    ],
)
def test_each_wrong_user_field_gets_its_message(fields, errors):
    base = {"email": "d@example.test", "name": "Dana", "role": "agent", "max_chats": "2", "password_mode": "generate"}
    with pytest.raises(FieldErrors) as refused:
        v.new_user(form(**{**base, **fields}), SKILLS)
    assert refused.value.errors == errors


@pytest.mark.parametrize(
    "fields, errors",
    [
        ({"slug": "new"}, {"slug": "“new” is reserved; choose another code."}),
        ({"slug": "x"}, {"slug": "Use 2–40 lower-case letters, digits or _, starting with a letter."}),
        ({"first_response_hours": "nan"}, {"first_response_hours": "Enter the first-response target in hours, for example 24 or 1.5."}),
        ({"first_response_hours": "inf"}, {"first_response_hours": "Enter the first-response target in hours, for example 24 or 1.5."}),
        ({"first_response_hours": "1e1"}, {"first_response_hours": "Enter the first-response target in hours, for example 24 or 1.5."}),
        ({"first_response_hours": "\u0662\u0664"}, {"first_response_hours": "Enter the first-response target in hours, for example 24 or 1.5."}),
        ({"first_response_hours": "0"}, {"first_response_hours": "The first-response target must be more than 0 and at most 1440 hours."}),
        ({"resolution_hours": "1,5"}, {"resolution_hours": "The resolution target cannot be shorter than the first-response target."}),
    ],
)
def test_category_checks(fields, errors):
    base = {"slug": "casino", "name_en": "Casino", "name_ru": "Казино", "name_pl": "Kasyno", "first_response_hours": "2",
            "resolution_hours": "4", "owner_group": "casino", "position": "1"}
    with pytest.raises(FieldErrors) as refused:
        v.category(form(**{**base, **fields}))
    assert refused.value.errors == errors


def test_a_category_keeps_its_slug_when_edited_and_reads_decimal_commas():
    values = v.category(form(slug="ignored", name_en="A", name_ru="Б", name_pl="C", first_response_hours="1,5",
                             resolution_hours="24", owner_group="Support", position="3", active="on"), "withdrawals")
    assert (values.slug, values.first_response_hours, values.owner_group, values.active) == ("withdrawals", 1.5, "support", True)


def test_widget_settings_are_cleaned():
    values = v.widget(form(allowed_origins="https://A.example/", brand_color="#ABC", greeting_en=" Hi! ", greeting_ru="",
                           greeting_pl="", queue_timeout="90"))
    assert values == v.WidgetValues(("https://a.example",), "#aabbcc", {"en": "Hi!", "ru": "", "pl": ""}, 90.0)


def test_unchecked_boxes_and_empty_values_are_off():
    assert not form(active="").checked("active") and not RawForm({}).checked("active") and form(active="on").checked("active")


def test_a_stored_row_fills_a_form_for_showing():
    filled = RawForm.of({"max_chats": 3, "hours": 1.5, "whole": 24.0, "skills": ["a", "b"], "active": False, "none": None})
    assert (filled.first("max_chats"), filled.first("hours"), filled.first("whole")) == ("3", "1.5", "24")
    assert filled.many("skills") == ["a", "b"] and not filled.checked("active") and filled.first("none") == ""
