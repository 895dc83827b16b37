"""One notice as an e-mail: kind, language and data in, an EmailMessage out. Pure: no I/O, no clock.

Visitor text (complaint subjects, bodies) reaches headers only through `visitor_header_text`, which
drops CR, LF and every other control character and opens no encoded word that would decode to them;
EmailMessage's default policy refuses a header value with a line break anyway, so a miss there fails
loudly instead of adding a header.
"""

from __future__ import annotations

import functools
import re
import string
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote

import jinja2

from chatserver.domain.dates import when
from chatserver.domain.money import format_money
from chatserver.mail.texts import TEXTS, language
from chatserver.templating import compile_templates

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"

# The data each kind carries (see store/outbox.py); a missing key renders as empty. An acknowledgement
# also carries `category_names` ({"en", "ru", "pl"}), so the category reads in the letter's language.
FIELDS: dict[str, tuple[str, ...]] = {
    "complaint_ack": ("reference", "subject", "category", "tracking_url", "first_response_due", "resolution_due"),
    "complaint_reply": ("reference", "body", "tracking_url"),
    "complaint_question": ("reference", "body", "tracking_url", "close_by"),
    "complaint_resolved": ("reference", "body", "tracking_url", "close_by"),
    "complaint_compensation": ("reference", "amount_minor", "currency", "reason", "tracking_url", "close_by"),
    "complaint_closed": ("reference", "tracking_url"),
    "complaint_escalated": ("reference", "subject", "level", "reason"),
    "complaint_sla_warning": ("reference", "subject", "target", "due_at"),
}
# Rows shown in the facts table, in order.
FACTS: dict[str, tuple[str, ...]] = {
    "complaint_ack": ("subject", "category", "first_response_due", "resolution_due"),
    "complaint_compensation": ("amount", "reason"),
    "complaint_escalated": ("subject", "level", "reason"),
    "complaint_sla_warning": ("subject", "due_at"),
}
STAFF_KINDS = frozenset({"complaint_escalated", "complaint_sla_warning"})
DATES = ("first_response_due", "resolution_due", "due_at", "close_by")
# when a complaint closes by itself unless the customer answers; rows queued before it existed lack it
OPTIONAL = ("close_by",)

# C0 and C1 controls (CR, LF, TAB, NEL ...), Unicode line/paragraph separators, and bidi
# overrides that could make a subject read differently from what it says.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class InvalidRecipient(ValueError):
    """The address cannot take mail; trying again will not change that."""


def header_text(value: Any, limit: int = 200) -> str:
    """Text safe for one header line: controls become spaces, runs of space collapse, length capped."""
    return " ".join(_UNSAFE.sub(" ", str(value)).split())[:limit]


def visitor_header_text(value: Any, limit: int = 200) -> str:
    """header_text() for what visitors wrote, which must also not open an RFC 2047 encoded word: the
    mail library decodes "=?utf-8?q?...?=" in a header value it is given, and "=0D=0A" there would
    bring back the line breaks header_text() took out."""
    return header_text(value, limit).replace("=?", "= ?")


def clean_recipient(value: str) -> str:
    """Exactly one bare address, or InvalidRecipient."""
    text = str(value).strip()
    _, address = parseaddr(text)
    if not address or address != text or _UNSAFE.search(text) or text.count("@") != 1:
        raise InvalidRecipient(f"not a single e-mail address: {header_text(text, 80)!r}")
    try:
        return Address(addr_spec=address).addr_spec
    except Exception as exc:  # the policy's parser raises several unrelated types
        raise InvalidRecipient(f"not a single e-mail address: {header_text(text, 80)!r}") from exc


def render(
    kind: str, locale: str, data: Mapping[str, Any], *, mail_from: str, recipient: str, base_url: str = ""
) -> EmailMessage:
    """The e-mail for one outbox row: plain text plus an HTML alternative, in the row's language.
    `base_url` is where the server is reached: staff notices link to the complaint in the console."""
    if kind not in FIELDS:
        raise ValueError(f"no template for notice kind {kind!r}")
    code = language(locale)
    texts = TEXTS[code]
    values = _values(kind, data, texts, code)
    link = values.get("tracking_url", "")  # the customer's page; staff get the complaint in the console
    if kind in STAFF_KINDS and base_url.startswith(("https://", "http://")):
        link = f"{base_url.rstrip('/')}/console#complaints/{quote(values['reference'], safe='')}"
    letter = _letter(kind, texts, values, link)
    letter["locale"] = code
    message = EmailMessage()
    message["Subject"] = letter["subject"]
    message["From"] = header_text(mail_from)
    message["To"] = clean_recipient(recipient)
    # RFC 3834: tells auto-responders (vacation replies) not to answer
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_env().get_template("letter.txt").render(letter))
    message.add_alternative(_env().get_template("letter.html").render(letter), subtype="html")
    # after the content: setting the content drops Content-* headers
    message["Content-Language"] = letter["locale"]
    return message


def stamp(message: EmailMessage, *, notice_id: str, when: datetime) -> EmailMessage:
    """Date and a Message-ID fixed by the outbox row, so a repeated delivery is recognisably the same mail."""
    domain = parseaddr(str(message["From"]))[1].rpartition("@")[2] or "localhost"
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<{header_text(notice_id, 100)}@{header_text(domain, 100)}>"
    return message


def _values(kind: str, data: Mapping[str, Any], texts: Mapping[str, Any], code: str) -> dict[str, str]:
    values = {key: "" if data.get(key) is None else str(data.get(key)) for key in FIELDS[kind]}
    names = data.get("category_names")
    if "category" in values and isinstance(names, Mapping) and names.get(code):
        values["category"] = str(names[code])  # the category as the tracking page names it, not its slug
    if "amount_minor" in values:
        # written in the reader's own way: "€1,250.00", "1 250,00 €"
        amount = data.get("amount_minor")
        values["amount"] = format_money(amount, values["currency"], code) if isinstance(amount, int) else ""
    for key in DATES:
        if key in values:
            values[key] = _when(values[key], code)
    if "level" in values:
        level = int(values["level"]) if values["level"].isdigit() else 0
        values["level_name"] = texts["levels"].get(level, "")
    if "target" in values:
        values["target_name"] = texts["targets"].get(values["target"], values["target"])
    if not values.get("tracking_url", "").startswith(("https://", "http://")):
        values["tracking_url"] = ""  # only a web link belongs in the button
    return values


def _letter(kind: str, texts: Mapping[str, Any], values: dict[str, str], url: str) -> dict[str, Any]:
    own = texts[kind]
    # the subject line carries visitor text only for staff, shortened; customers get ours alone
    subject_values = {**values, "subject": visitor_header_text(values.get("subject", ""), 80)}
    subject = header_text(f"[{values['reference']}] " + own["subject"].format_map(subject_values), 250)
    shown = {**values, "level": f"{values['level']} ({values['level_name']})" if values.get("level_name") else values.get("level", "")}
    # one line each, so visitor text cannot pose as another row
    facts = [(texts["labels"][key], header_text(shown[key], 300)) for key in FACTS.get(kind, ()) if shown.get(key)]
    staff = kind in STAFF_KINDS
    return {
        "subject": subject,
        "heading": own["heading"],
        "intro": _lines(own.get("intro", ()), values),
        "quote": values.get("body", "").strip(),
        "outro": _lines(own.get("outro", ()), values),
        "facts": facts,
        "link": {"label": own["link"], "url": url} if url and "link" in own else None,
        "footer": texts["footer_staff" if staff else "footer_customer"].format_map(values),
    }


def _lines(lines: tuple[str, ...], values: Mapping[str, str]) -> list[str]:
    """Each line filled in; one that needs an OPTIONAL value the row lacks (queued before it was sent) is left out."""
    return [
        line.format_map(values) for line in lines
        if all(values.get(name) for _, name, _, _ in string.Formatter().parse(line) if name in OPTIONAL)
    ]


def _when(stamp_text: str, code: str) -> str:
    """As the tracking page writes it ("2 Mar 2026, 14:00 UTC"); anything that is no time, as it is."""
    try:
        return when(stamp_text, code) or stamp_text
    except ValueError:
        return stamp_text


@functools.cache
def _env() -> jinja2.Environment:
    return compile_templates(jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # HTML escapes everything it is given; the plain-text part must not
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    ))


def load_templates() -> None:
    """Compile the notice templates now, at start-up, rather than for the first notice sent."""
    _env()
