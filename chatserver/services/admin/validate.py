"""Admin forms: raw text fields in, clean values or a message per field out. Pure, no I/O.

Each check takes what the browser sent and returns a frozen dataclass of clean values, or raises
FieldErrors naming every field that is wrong at once, so the page can show them all together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from chatserver.domain.complaints import plausible_email
from chatserver.domain.errors import Invalid
from chatserver.domain.models import LOCALES, ROLES

# only plain origins: they go into a CSP header, where spaces, quotes or semicolons would be dangerous
ORIGIN = re.compile(r"^https?://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?\Z")
COLOR = re.compile(r"^#[0-9a-f]{6}$")
# what people type into a number field: int() and float() also take "1_0", "1e3", "nan" and other
# scripts' digits, which then come back shown as something else
WHOLE = re.compile(r"^-?[0-9]+\Z")
DECIMAL = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z")
SLUG = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
GROUP = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

PASSWORD_MIN, PASSWORD_MAX = 8, 1024
MAX_CHATS = 50
MAX_HOURS = 24 * 60  # sixty days
MAX_ORIGINS = 50
QUEUE_TIMEOUT_MIN, QUEUE_TIMEOUT_MAX = 10, 24 * 3600


class FieldErrors(Invalid):
    """A form with one message per wrong field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class RawForm:
    """What a browser sent: every field as a list of strings (checkbox groups repeat a name)."""

    def __init__(self, fields: Mapping[str, Sequence[str]]) -> None:
        self.fields = {key: [str(v) for v in values] for key, values in fields.items()}

    def text(self, name: str, limit: int = 10_000) -> str:
        values = self.fields.get(name) or [""]
        return values[0].strip()[: limit + 1]

    def many(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, []) if v.strip()]

    def checked(self, name: str) -> bool:
        return any(self.fields.get(name, []))

    def first(self, name: str) -> str:
        """The value as entered, for showing the form again."""
        values = self.fields.get(name)
        return values[0] if values else ""

    @classmethod
    def of(cls, values: Mapping[str, object]) -> "RawForm":
        """A form filled from stored values (lists for checkbox groups, booleans for checkboxes)."""
        fields: dict[str, list[str]] = {}
        for key, value in values.items():
            if isinstance(value, (list, tuple)):
                fields[key] = [str(v) for v in value]
            elif isinstance(value, bool):
                fields[key] = ["on"] if value else []
            elif value is not None:
                fields[key] = [f"{value:g}" if isinstance(value, float) else str(value)]
        return cls(fields)


class _Check:
    def __init__(self, form: RawForm) -> None:
        self.form = form
        self.errors: dict[str, str] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def text(self, name: str, label: str, *, limit: int, required: bool = True) -> str:
        value = self.form.text(name, limit)
        if required and not value:
            self.fail(name, f"Enter {label}.")
        elif len(value) > limit:
            self.fail(name, f"Keep {label} to {limit} characters or fewer.")
        return value[:limit]

    def integer(self, name: str, label: str, low: int, high: int) -> int:
        raw = self.form.text(name, 20)
        if not WHOLE.match(raw):
            self.fail(name, f"Enter {label} as a whole number." if raw else f"Enter {label}.")
            return low
        value = int(raw)
        if not low <= value <= high:
            self.fail(name, f"{label[0].upper() + label[1:]} must be between {low} and {high}.")
        return value

    def hours(self, name: str, label: str) -> float:
        raw = self.form.text(name, 20).replace(",", ".")
        if not DECIMAL.match(raw):
            self.fail(name, f"Enter {label} in hours, for example 24 or 1.5." if raw else f"Enter {label}.")
            return 1.0
        value = float(raw)
        if not 0 < value <= MAX_HOURS:
            self.fail(name, f"{label[0].upper() + label[1:]} must be more than 0 and at most {MAX_HOURS} hours.")
        return value

    def done(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


# -- users ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserProfile:
    email: str
    name: str
    role: str
    max_chats: int
    skills: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewPassword:
    """A password the admin typed, or None: generate one and show it once."""

    password: str | None


def _password(check: _Check, form: RawForm) -> NewPassword:
    if form.text("password_mode") != "set":
        return NewPassword(None)
    password = (form.fields.get("password") or [""])[0]  # as typed: spaces count
    if len(password) < PASSWORD_MIN:
        check.fail("password", f"Use at least {PASSWORD_MIN} characters, or let the server generate a password.")
    elif len(password) > PASSWORD_MAX:
        check.fail("password", f"Keep the password to {PASSWORD_MAX} characters or fewer.")
    return NewPassword(password)


def user_profile(form: RawForm, known_skills: Sequence[str]) -> UserProfile:
    check = _Check(form)
    email = check.text("email", "an e-mail address", limit=254)
    # the address SLA warnings and escalations are mailed to: one mail can reach, as for customers
    if email and not plausible_email(email):
        check.fail("email", "Enter an e-mail address like name@example.com.")
    name = check.text("name", "a name", limit=80)
    role = form.text("role")
    if role not in ROLES:
        check.fail("role", "Choose agent, supervisor or admin.")
    max_chats = check.integer("max_chats", "the chat capacity", 0, MAX_CHATS)
    skills = form.many("skills")
    unknown = [s for s in skills if s not in known_skills]
    if unknown:
        check.fail("skills", "Choose skills from the list of categories.")
    languages = form.many("languages")
    if any(language not in LOCALES for language in languages):
        check.fail("languages", "Choose languages from the list.")
    check.done()
    return UserProfile(
        email, name, role, max_chats,
        tuple(s for s in known_skills if s in skills), tuple(code for code in LOCALES if code in languages),
    )


def new_user(form: RawForm, known_skills: Sequence[str]) -> tuple[UserProfile, NewPassword]:
    """Both parts checked together, so every wrong field shows at once."""
    errors: dict[str, str] = {}
    profile = password = None
    try:
        profile = user_profile(form, known_skills)
    except FieldErrors as exc:
        errors.update(exc.errors)
    check = _Check(form)
    password = _password(check, form)
    errors.update(check.errors)
    if errors:
        raise FieldErrors(errors)
    assert profile is not None
    return profile, password


def password_change(form: RawForm) -> NewPassword:
    check = _Check(form)
    password = _password(check, form)
    check.done()
    return password


# -- categories ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryValues:
    slug: str
    position: int
    name_en: str
    name_ru: str
    name_pl: str
    first_response_hours: float
    resolution_hours: float
    owner_group: str
    active: bool

    def columns(self) -> dict[str, object]:
        return {
            "position": self.position, "name_en": self.name_en, "name_ru": self.name_ru, "name_pl": self.name_pl,
            "first_response_hours": self.first_response_hours, "resolution_hours": self.resolution_hours,
            "owner_group": self.owner_group, "active": int(self.active),
        }


def category(form: RawForm, slug: str | None = None) -> CategoryValues:
    """`slug` is the existing one when editing; a new category takes it from the form."""
    check = _Check(form)
    if slug is None:
        slug = form.text("slug", 40).lower()
        if not slug:
            check.fail("slug", "Enter a short code such as late_payouts.")
        elif not SLUG.match(slug):
            check.fail("slug", "Use 2–40 lower-case letters, digits or _, starting with a letter.")
        elif slug == "new":
            check.fail("slug", "“new” is reserved; choose another code.")
    names = {code: check.text(f"name_{code}", f"the {label} name", limit=80) for code, label in
             (("en", "English"), ("ru", "Russian"), ("pl", "Polish"))}
    first = check.hours("first_response_hours", "the first-response target")
    resolution = check.hours("resolution_hours", "the resolution target")
    if "first_response_hours" not in check.errors and "resolution_hours" not in check.errors and resolution < first:
        check.fail("resolution_hours", "The resolution target cannot be shorter than the first-response target.")
    group = form.text("owner_group", 40).lower()
    if not group:
        check.fail("owner_group", "Enter the group that owns these complaints, such as payments.")
    elif not GROUP.match(group):
        check.fail("owner_group", "Use lower-case letters, digits, - or _ (at most 40), starting with a letter.")
    position = check.integer("position", "the order", 0, 9999)
    check.done()
    return CategoryValues(slug, position, names["en"], names["ru"], names["pl"], first, resolution, group, form.checked("active"))


# -- knowledge -----------------------------------------------------------------------------


def _locale(check: _Check, form: RawForm) -> str:
    locale = form.text("locale")
    if locale not in LOCALES:
        check.fail("locale", "Choose English, Russian or Polish.")
    return locale


@dataclass(frozen=True, slots=True)
class CannedValues:
    shortcut: str
    locale: str
    title: str
    body: str
    active: bool

    def columns(self) -> dict[str, object]:
        return {"shortcut": self.shortcut, "locale": self.locale, "title": self.title, "body": self.body, "active": int(self.active)}


def canned_answer(form: RawForm) -> CannedValues:
    check = _Check(form)
    shortcut = form.text("shortcut", 40).lstrip("/").lower()
    if not shortcut:
        check.fail("shortcut", "Enter the shortcut agents type after /, such as withdraw.")
    elif not SHORTCUT.match(shortcut):
        check.fail("shortcut", "Use up to 32 lower-case letters, digits, - or _.")
    locale = _locale(check, form)
    title = check.text("title", "a title", limit=120)
    body = check.text("body", "the answer", limit=4000)
    check.done()
    return CannedValues(shortcut, locale, title, body, form.checked("active"))


@dataclass(frozen=True, slots=True)
class FaqValues:
    locale: str
    category: str | None
    position: int
    question: str
    answer: str
    active: bool

    def columns(self) -> dict[str, object]:
        return {
            "locale": self.locale, "category": self.category, "position": self.position,
            "question": self.question, "answer": self.answer, "active": int(self.active),
        }


def faq_article(form: RawForm, known_categories: Sequence[str]) -> FaqValues:
    check = _Check(form)
    locale = _locale(check, form)
    category_slug = form.text("category") or None
    if category_slug is not None and category_slug not in known_categories:
        check.fail("category", "Choose a category from the list, or none.")
    position = check.integer("position", "the order", 0, 9999)
    question = check.text("question", "the question", limit=200)
    answer = check.text("answer", "the answer", limit=4000)
    check.done()
    return FaqValues(locale, category_slug, position, question, answer, form.checked("active"))


# -- widget settings -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WidgetValues:
    allowed_origins: tuple[str, ...]
    brand_color: str
    greeting: dict[str, str]
    queue_timeout: float


def origins(text: str) -> tuple[list[str], str | None]:
    """One origin per line (commas and spaces also separate); the cleaned list, or what is wrong."""
    found: list[str] = []
    for line in text.splitlines():
        for raw in re.split(r"[\s,]+", line.strip()):
            if not raw:
                continue
            origin = raw.rstrip("/").lower()
            if not ORIGIN.match(origin) or (":" in origin[8:] and not 0 < int(origin.rsplit(":", 1)[1]) < 65536):
                # a line of words, not of addresses, is quoted whole: "not a url", not "not"
                wrong = raw if "://" in line else line.strip()
                return found, f"“{wrong[:80]}” is not an origin. Write the scheme and host only, like https://www.example.com."
            if origin not in found:
                found.append(origin)
    if len(found) > MAX_ORIGINS:
        return found, f"At most {MAX_ORIGINS} sites."
    return found, None


def widget(form: RawForm) -> WidgetValues:
    check = _Check(form)
    allowed, problem = origins(form.text("allowed_origins", 20_000))
    if problem:
        check.fail("allowed_origins", problem)
    color = form.text("brand_color", 20).lower()
    if len(color) == 4 and re.match(r"^#[0-9a-f]{3}$", color):
        color = "#" + "".join(c * 2 for c in color[1:])
    if not COLOR.match(color):
        check.fail("brand_color", "Enter a colour as # and six hex digits, like #0a7d5a.")
    greeting = {code: check.text(f"greeting_{code}", "the greeting", limit=120, required=False) for code in LOCALES}
    timeout = check.integer("queue_timeout", "the queue timeout", QUEUE_TIMEOUT_MIN, QUEUE_TIMEOUT_MAX)
    check.done()
    return WidgetValues(tuple(allowed), color, greeting, float(timeout))


# -- API tokens ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenValues:
    user_id: str
    label: str


def api_token(form: RawForm, active_user_ids: Sequence[str]) -> TokenValues:
    check = _Check(form)
    user_id = form.text("user_id", 100)
    if user_id not in active_user_ids:
        check.fail("user_id", "Choose the active user the integration acts as.")
    label = check.text("label", "a label that says what uses the token", limit=80)
    check.done()
    return TokenValues(user_id, label)
