"""Complaint rules: references, categories, due times, and what people may write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatserver.domain.errors import Invalid

SOURCES = ("chat_unanswered", "chat_not_solved", "agent_closed", "form", "agent_logged")
DEFAULT_CATEGORY = "other"


def format_reference(year: int, number: int) -> str:
    return f"C-{year}-{number:06d}"


@dataclass(frozen=True, slots=True)
class DueTimes:
    first_response_due: datetime
    resolution_due: datetime


def due_times(created_at: datetime, first_response_hours: float, resolution_hours: float) -> DueTimes:
    """Absolute UTC due times, fixed at creation so that restarts and clock steps cannot move them."""
    return DueTimes(
        first_response_due=created_at + timedelta(hours=first_response_hours),
        resolution_due=created_at + timedelta(hours=resolution_hours),
    )


def category_for_topic(topic: str | None, known_categories: set[str]) -> str:
    """A chat's topic is a category slug when the customer picked one; otherwise 'other'."""
    return topic if topic in known_categories else DEFAULT_CATEGORY


# -- acknowledgements ------------------------------------------------------------------------

# A customer names the address their acknowledgement goes to, and nobody checks it is theirs: a
# script could name someone else's and have us mail them all day. A real customer files one or two
# complaints a day; past this many, complaints are still filed and shown in the widget with their
# tracking link, but that address gets no more acknowledgements until the day has passed.
ACKNOWLEDGEMENTS_PER_ADDRESS_PER_DAY = 5
# Staff who log a complaint took the address from the customer themselves, so far more of theirs go;
# still a bound, so that a leaked API token cannot mail one address without end.
STAFF_ACKNOWLEDGEMENTS_PER_ADDRESS_PER_DAY = 20
ACKNOWLEDGEMENT_WINDOW = timedelta(days=1)


def mailbox(address: str) -> str:
    """The inbox an address reaches, for counting what was sent there: most providers deliver
    anna+anything@example.com to anna@example.com (subaddressing), so the tag and letter case go."""
    local, _, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}".lower()


def acknowledgement_allowed(source: str, sent_to_address_in_window: int) -> bool:
    limit = STAFF_ACKNOWLEDGEMENTS_PER_ADDRESS_PER_DAY if source == "agent_logged" else ACKNOWLEDGEMENTS_PER_ADDRESS_PER_DAY
    return sent_to_address_in_window < limit


# -- what people may write ---------------------------------------------------------------------

BODY_MAX = 10_000  # as long as the form's body
# a customer's messages in a row before the team answers: the widget, the tracking page and the
# console show the whole thread, so a script writing every two seconds would make each of them
# costlier to serve for good; the team's answer lets them write as many again
UNANSWERED_MAX = 20
SUBJECT_MAX = 200
REASON_MAX = 1_000
COMMENT_MAX = 2_000
AMOUNT_MAX = 10**9
LOGGED_CHANNELS = ("email", "phone")
_CURRENCY = re.compile(r"[A-Z]{3}")
# What the mail transport can deliver to: an ASCII dot-atom before the @ and a dotted host name after it
# (RFC 5322 without quoted local parts, comments or address literals). One address, nothing that
# could start a second header. An address taken in that could not be mailed would fail only later,
# in the outbox, after the customer was told to expect e-mail.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL_PATTERN = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_EMAIL = re.compile(EMAIL_PATTERN)


def check_text(value: str | None, what: str, limit: int) -> str:
    """Stripped text that is neither empty nor longer than `limit`, else Invalid."""
    text = (value or "").strip()
    if not text:
        raise Invalid(f"{what} must not be empty")
    if len(text) > limit:
        raise Invalid(f"{what} is longer than {limit} characters")
    return text


def check_optional_text(value: str | None, what: str, limit: int) -> str | None:
    return check_text(value, what, limit) if value is not None and value.strip() else None


def check_compensation(amount_minor: int, currency: str) -> None:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or not 1 <= amount_minor <= AMOUNT_MAX:
        raise Invalid(f"amount_minor must be a whole number from 1 to {AMOUNT_MAX}")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise Invalid("currency must be three capital letters (ISO 4217)")


def check_score(score: int) -> None:
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise Invalid("score must be a whole number from 1 to 5")


def plausible_email(value: str | None) -> bool:
    return bool(value) and len(value) <= 254 and _EMAIL.fullmatch(value) is not None  # type: ignore[arg-type]
