"""Dates as people read them, in their language: the tracking page, the e-mails and the staff pages
(in English) say the same.

Pure. Times are UTC and say so: neither a page nor an e-mail knows the reader's time zone.
"""

from __future__ import annotations

from chatserver.domain.models import parse_iso

_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "ru": ("янв.", "февр.", "мар.", "апр.", "мая", "июн.", "июл.", "авг.", "сент.", "окт.", "нояб.", "дек."),
    "pl": ("sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru"),
}


def day(stamp: str | None, locale: str) -> str:
    """`23 Nov 2026`, with the month in the reader's language."""
    moment = parse_iso(stamp)
    if moment is None:
        return ""
    return f"{moment.day} {_MONTHS.get(locale, _MONTHS['en'])[moment.month - 1]} {moment.year}"


def when(stamp: str | None, locale: str) -> str:
    """`23 Nov 2026, 22:00 UTC`."""
    moment = parse_iso(stamp)
    return f"{day(stamp, locale)}, {moment:%H:%M} UTC" if moment else ""


def day_time(stamp: str | None, locale: str) -> str:
    """`29 Nov 20:54`, for a span that needs no year: the reports' recurring-problem week."""
    moment = parse_iso(stamp)
    if moment is None:
        return ""
    return f"{moment.day} {_MONTHS.get(locale, _MONTHS['en'])[moment.month - 1]} {moment:%H:%M}"
