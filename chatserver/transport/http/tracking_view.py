"""What the tracking page shows for a complaint's customer view, in their language.

Pure: the customer view and a catalog in, plain values for the template out.
"""

from __future__ import annotations

from typing import Any

from chatserver.domain.dates import day, when
from chatserver.domain.models import parse_iso
from chatserver.domain.money import format_money

OPEN = ("new", "in_progress", "awaiting_customer", "reopened")
# the outcome a redirect names in `?done=`, shown as a notice after a form was sent
DONE = ("replied", "accepted", "clarified", "rated")


def clock(stamp: str | None) -> str:
    moment = parse_iso(stamp)
    return f"{moment:%H:%M} UTC" if moment else ""


def fill(template: str, **values: Any) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def status_label(t: dict[str, Any], status: str) -> str:
    return t.get(f"status.{status}", status)


def facts(view: dict[str, Any], t: dict[str, Any], locale: str) -> list[tuple[str, str]]:
    """The key dates: what is owed next while open, when it was settled otherwise."""
    rows = [(t["track.created"], when(view["created_at"], locale))]
    if view["status"] in OPEN:
        if view.get("response_due"):
            rows.append((t["track.response_due"], when(view["response_due"], locale)))
        if view["status"] != "awaiting_customer":  # the clock stands still until the customer answers
            rows.append((t["track.resolution_due"], when(view["resolution_due"], locale)))
    if view.get("resolved_at") and view["status"] in ("resolved", "closed"):
        rows.append((t["track.resolved_at"], when(view["resolved_at"], locale)))
    if view.get("closed_at") and view["status"] == "closed":
        rows.append((t["track.closed_at"], when(view["closed_at"], locale)))
    return rows


def thread(view: dict[str, Any], t: dict[str, Any], locale: str) -> list[dict[str, str]]:
    """The public thread, oldest first, with a line for each new day; the complaint's own text (from
    the form) opens it. A run of messages from one author names them once."""
    lines = []
    if view.get("body"):
        lines.append(("customer", t["case.you"], view["body"], view["created_at"]))
    for entry in view.get("entries", []):
        kind = entry["kind"]
        if kind == "status":
            lines.append((kind, "", fill(t["case.status_line"], status=status_label(t, entry["body"])), entry["created_at"]))
        elif kind == "customer":
            lines.append((kind, t["case.you"], entry["body"], entry["created_at"]))
        else:
            lines.append((kind, entry.get("author") or t["case.team"], entry["body"], entry["created_at"]))
    items: list[dict[str, str]] = []
    last_day = last_author = None
    for kind, author, body, stamp in lines:
        today = day(stamp, locale)
        if today != last_day:
            items.append({"kind": "day", "body": today})
            last_day, last_author = today, None
        items.append({"kind": kind, "author": author, "body": body, "when": clock(stamp), "followup": author == last_author and kind != "status"})
        last_author = author if kind != "status" else last_author
    return items


def compensations(view: dict[str, Any], t: dict[str, Any], locale: str) -> list[dict[str, str]]:
    return [
        {"amount": format_money(c["amount_minor"], c["currency"], locale), "reason": c.get("reason") or "",
         "when": when(c.get("decided_at"), locale)}
        for c in view.get("compensations", [])
    ]


def action(view: dict[str, Any]) -> str:
    """Which form the customer gets: write, decide on the resolution, rate, or nothing left to do."""
    if view["status"] in OPEN:
        return "reply"
    if view["status"] == "resolved":
        return "decide"
    return "rated" if view.get("rating") else "rate"


def page(view: dict[str, Any], t: dict[str, Any], locale: str, *, done: str | None = None) -> dict[str, Any]:
    category_names = view.get("category_names") or {}
    return {
        "complaint": view,
        "status_label": status_label(t, view["status"]),
        "category_label": category_names.get(locale) or view["category"],
        "facts": facts(view, t, locale),
        "thread": thread(view, t, locale),
        "compensations": compensations(view, t, locale),
        "action": action(view),
        "rated": fill(t["case.rated"], score=view["rating"]["score"]) if view.get("rating") else "",
        "notice": t[f"case.done.{done}"] if done in DONE else "",
    }
