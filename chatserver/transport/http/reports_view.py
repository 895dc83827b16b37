"""What the reports page shows, shaped from the summary: readable durations and periods, the charts'
data and the satisfaction tables (chat and complaint ratings side by side)."""

from __future__ import annotations

from typing import Any

from chatserver.domain.dates import day_time
from chatserver.domain.reports import Period


def duration(seconds: float | None) -> str:
    """42 s, 12 min, 3 h 05 min, 2 d 4 h: as precise as a person reading a report needs."""
    if seconds is None:
        return "–"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def count(value: int) -> str:
    return f"{value:,}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def period_label(period: Period) -> str:
    first, last = period.first, period.last
    if first == last:
        return f"{last.day} {last:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


def chart_data(summary: dict[str, Any]) -> dict[str, Any]:
    """What the charts draw (the tables show the same numbers)."""
    return {
        "categories": [{"slug": c["slug"], "name": c["name"], "chats": c["chats"], "complaints": c["complaints"]} for c in summary["categories"]],
        "days": [
            {"date": d["date"], "chats": d["chats"], "complaints": d["complaints"], "by_category": d["complaints_by_category"]}
            for d in summary["days"]
        ],
    }


def week_label(summary: dict[str, Any]) -> str:
    """The recurring-problem week as people read it."""
    week = summary["recurring"]["week"]
    return f"{day_time(week['start'], 'en')} – {day_time(week['end'], 'en')} UTC"


def satisfaction_rows(summary: dict[str, Any], options: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rows for the satisfaction tables: per agent and per category, the chat and the complaint ratings."""
    csat = summary["csat"]
    agents: dict[Any, dict[str, Any]] = {}
    for kind in ("chats", "complaints"):
        for entry in csat[kind]["by_agent"]:
            agents.setdefault(entry["id"], {"id": entry["id"], "name": entry["name"], "chats": None, "complaints": None})[kind] = entry
    categories: dict[str, dict[str, Any]] = {}
    for kind in ("chats", "complaints"):
        for entry in csat[kind]["by_category"]:
            categories.setdefault(entry["slug"], {"slug": entry["slug"], "name": entry["name"], "chats": None, "complaints": None})[kind] = entry
    order = [c["slug"] for c in options["categories"]]
    return {
        "agents": sorted(agents.values(), key=lambda a: (a["id"] is None, a["name"].lower())),
        "categories": sorted(categories.values(), key=lambda c: order.index(c["slug"]) if c["slug"] in order else len(order)),
        "overall": [{"chats": csat["chats"]["overall"] if csat["chats"]["overall"]["ratings"] else None,
                     "complaints": csat["complaints"]["overall"] if csat["complaints"]["overall"]["ratings"] else None}],
    }
