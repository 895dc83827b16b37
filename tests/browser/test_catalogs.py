"""The widget's translation catalogs: the same keys in every language, plural forms where needed."""

from __future__ import annotations

import json
import re
from pathlib import Path

CATALOGS = Path(__file__).resolve().parents[2] / "widget" / "i18n"
PLURAL_FORMS = {"en": {"one", "other"}, "ru": {"one", "few", "many", "other"}, "pl": {"one", "few", "many", "other"}}


def load(locale: str) -> dict:
    return json.loads((CATALOGS / f"{locale}.json").read_text(encoding="utf-8"))


def test_every_language_has_every_key_with_the_same_placeholders():
    english = load("en")
    for locale in ("ru", "pl"):
        other = load(locale)
        assert set(other) == set(english), locale
        for key, value in english.items():
            if isinstance(value, dict):
                assert isinstance(other[key], dict) and set(other[key]) >= PLURAL_FORMS[locale], (locale, key)
                continue
            assert isinstance(other[key], str) and other[key].strip(), (locale, key)
            assert set(re.findall(r"\{\w+\}", other[key])) == set(re.findall(r"\{\w+\}", value)), (locale, key)


def test_every_string_the_widget_code_asks_for_exists():
    english = load("en")
    root = CATALOGS.parent
    code = "\n".join(p.read_text(encoding="utf-8") for p in (root / "app").glob("*.js"))
    template = (root.parent / "chatserver" / "templates" / "widget_frame.html").read_text(encoding="utf-8")
    wanted = set(re.findall(r"\bt\('([a-z_.]+)'", code)) | set(re.findall(r'data-i18n(?:-[a-z]+)?="([a-z_.]+)"', template))
    assert wanted, "no keys found: the pattern is out of date"
    assert wanted <= set(english), sorted(wanted - set(english))
