"""Reports for supervisors and admins: one period's numbers (what /reports and /api/reports/summary show)
and the CSV exports' rows, read in keyset pages.

Everything is read on the reader connection, a few aggregate queries per summary (store/reports.py);
the arithmetic is domain/reports.py. Periods are whole UTC days.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, AsyncGenerator, Awaitable, Callable

from chatserver.domain import reports as rules
from chatserver.domain.errors import Forbidden
from chatserver.domain.models import iso, parse_iso
from chatserver.domain.reports import Filters, Period
from chatserver.services.auth import ConsoleUser
from chatserver.services.clock import Clock
from chatserver.store import audit
from chatserver.store import complaints as complaint_store
from chatserver.store import reports as store
from chatserver.store.db import Database, Row

# rows per read: each page is read on the background connection, then turned into CSV on the event
# loop, which for 1,000 rows took 6 ms of CPU (20-40 ms of stall when chat shares the core)
EXPORT_PAGE = 500
UNASSIGNED = "Unassigned"

Page = Callable[[Database, str, str, Filters, tuple[str, str], int], Awaitable[list[Row]]]

COMPLAINT_COLUMNS = (
    "reference", "created_at", "category", "channel", "source", "status", "level", "owner_group", "assignee",
    "first_response_due", "first_response_at", "resolution_due", "resolved_at", "closed_at", "rating", "rating_comment",
    "subject",
)
CHAT_COLUMNS = (
    "id", "created_at", "category", "topic", "locale", "status", "outcome", "agent", "assigned_at", "first_response_at",
    "first_response_seconds", "closed_at", "messages", "rating", "rating_comment", "complaint_reference",
)


@dataclass(frozen=True)
class Export:
    filename: str
    columns: tuple[str, ...]
    pages: AsyncGenerator[list[tuple[Any, ...]], None]


def check_reader(user: ConsoleUser) -> None:
    if not user.is_supervisor:
        raise Forbidden("reports are for supervisors and admins")


def _stamp(moment: datetime) -> str:
    return iso(moment)  # type: ignore[return-value]


def _durations(rows: list[Row]) -> dict[str, Any]:
    stats = rules.durations([(row["seconds"], row["n"]) for row in rows])
    return {"count": stats.count, "median_seconds": stats.median, "p90_seconds": stats.p90}


def _satisfaction(ratings: int, score_sum: int, satisfied: int) -> dict[str, Any]:
    csat = rules.satisfaction(ratings, score_sum, satisfied)
    return {"ratings": csat.ratings, "average": csat.average, "satisfied_percent": csat.satisfied_percent}


def _compliance(met: int, missed: int, total: int) -> dict[str, Any]:
    sla = rules.Compliance(met, missed, total - met - missed)
    return {"met": sla.met, "missed": sla.missed, "pending": sla.pending, "percent": sla.percent}


def _rate(part: int, whole: int) -> dict[str, Any]:
    return {"count": int(part), "of": int(whole), "percent": rules.percent(int(part), int(whole))}


def _position(names: dict[str, str], slug: str) -> int:
    """Categories in their configured order; unknown ones last."""
    return list(names).index(slug) if slug in names else len(names)


class _Ratings:
    """Ratings folded by one key (agent or category)."""

    def __init__(self) -> None:
        self.groups: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(self, key: str | None, row: Row) -> None:
        group = self.groups[key]
        group[0] += int(row["ratings"] or 0)
        group[1] += int(row["score_sum"] or 0)
        group[2] += int(row["satisfied"] or 0)

    def rated(self) -> list[tuple[str | None, dict[str, Any]]]:
        return [(key, _satisfaction(*values)) for key, values in self.groups.items() if values[0] > 0]


class ReportService:
    def __init__(self, db: Database, clock: Clock, records: Database) -> None:
        self.db = db  # background reads: every report and export query
        self.clock = clock
        self.records = records  # the main database, where each export is put on record

    # -- choices for the page and checks for the query ---------------------------------------------

    async def options(self) -> dict[str, Any]:
        """Categories and staff to filter by, with the names reports show."""
        categories = await complaint_store.categories(self.db, active_only=False)
        staff = await store.staff(self.db)
        return {
            "categories": [{"slug": c["slug"], "name": c["name_en"], "active": bool(c["active"])} for c in categories],
            "agents": [{"id": s["id"], "name": s["name"], "role": s["role"], "active": bool(s["active"])} for s in staff],
        }

    def today(self) -> date:
        return self.clock().date()

    def period(self, preset: str | None, first: str | None, last: str | None) -> Period:
        return rules.period_for(preset, self.today(), rules.parse_day(first, "from"), rules.parse_day(last, "to"))

    async def check(self, user: ConsoleUser, filters: Filters) -> dict[str, Any]:
        """Who may read, and filters naming a real category and user; returns the options."""
        check_reader(user)
        options = await self.options()
        rules.check_filters(filters, (c["slug"] for c in options["categories"]), (a["id"] for a in options["agents"]))
        return options

    # -- the summary -------------------------------------------------------------------------------

    async def summary(self, user: ConsoleUser, period: Period, filters: Filters) -> dict[str, Any]:
        options = await self.check(user, filters)
        now = self.clock()
        start, end = _stamp(period.start), _stamp(period.end)
        category_names = {c["slug"]: c["name"] for c in options["categories"]}
        agent_names = {a["id"]: a["name"] for a in options["agents"]}
        days = [(day.isoformat(), _stamp(Period(day, day).start), _stamp(Period(day, day).end)) for day in period.dates()]

        # one snapshot: the totals, the days, the categories and the rest agree however busy the desk is
        async with self.db.snapshot() as db:
            chats = await store.chat_totals(db, start, end, filters)
            chat_days = await store.chat_counts(db, days, filters)
            chat_waits = await store.chat_first_responses(db, start, end, filters)
            chat_ratings = await store.chat_ratings(db, start, end, filters, satisfied_min=rules.SATISFIED_MIN)
            complaints = await store.complaint_totals(db, start, end, filters, now=_stamp(now))
            complaint_days = await store.complaint_counts(db, days, filters)
            first_answers = await store.complaint_durations(db, start, end, filters, "first_response")
            resolutions = await store.complaint_durations(db, start, end, filters, "resolution")
            complaint_ratings = await store.complaint_ratings(db, start, end, filters, satisfied_min=rules.SATISFIED_MIN)
            money = await store.compensation_totals(db, start, end, filters)
            chat_work = await store.chat_workload(db, start, end, filters)
            complaint_work = await store.complaint_workload(db, start, end, filters)
            recurring = await self._recurring(db, period, filters, now, category_names)

        total = int(complaints["total"])
        by_day = self._by_day(period, chat_days, complaint_days)
        return {
            "period": {
                "from": period.first.isoformat(), "to": period.last.isoformat(), "days": period.days,
                "preset": period.preset, "timezone": "UTC",
            },
            "filters": {"category": filters.category, "agent": filters.agent, "level": filters.level, "channel": filters.channel},
            "generated_at": _stamp(now),
            "chats": {
                **{key: int(chats[key]) for key in ("total", "answered", "resolved", "complaint", "abandoned", "open")},
                "first_response": _durations(chat_waits),
            },
            "complaints": {
                "total": total,
                "first_response": _durations(first_answers),
                "resolution": _durations(resolutions),
                "sla": {
                    "first_response": _compliance(complaints["first_met"], complaints["first_missed"], total),
                    "resolution": _compliance(complaints["resolution_met"], complaints["resolution_missed"], total),
                },
                "escalated": _rate(complaints["escalated"], total),
                "reopened": _rate(complaints["reopened"], complaints["resolved_once"]),
            },
            "compensation": [
                {"currency": row["currency"], "amount_minor": int(row["amount_minor"]), "count": int(row["n"])} for row in money
            ],
            "categories": self._by_category(by_day, category_names),
            "days": by_day,
            "csat": {
                "chats": self._csat(chat_ratings, "agent_id", agent_names, category_names),
                "complaints": self._csat(complaint_ratings, "assignee_id", agent_names, category_names),
            },
            "recurring": recurring,
            "workload": self._workload(chat_work, complaint_work, agent_names),
        }

    @staticmethod
    def _workload(chats: list[Row], complaints: list[Row], agent_names: dict[str, str]) -> list[dict[str, Any]]:
        found = rules.workload(
            ((r["agent_id"], int(r["chats"]), int(r["answered"]), int(r["resolved"])) for r in chats),
            ((r["assignee_id"], int(r["complaints"]), int(r["resolved"])) for r in complaints),
            agent_names,
        )
        return [
            {"id": w.agent, "name": agent_names.get(w.agent, UNASSIGNED), "chats": w.chats, "chats_answered": w.chats_answered,
             "chats_resolved": w.chats_resolved, "complaints": w.complaints, "complaints_resolved": w.complaints_resolved}
            for w in found
        ]

    @staticmethod
    def _by_day(period: Period, chat_days: list[Row], complaint_days: list[Row]) -> list[dict[str, Any]]:
        days: dict[str, dict[str, Any]] = {
            day.isoformat(): {"date": day.isoformat(), "chats": 0, "complaints": 0, "chats_by_category": {}, "complaints_by_category": {}}
            for day in period.dates()
        }
        for row in chat_days:
            if row["n"]:
                day = days[row["label"]]
                slug = row["topic"] or rules.NO_TOPIC_CATEGORY
                day["chats"] += row["n"]
                day["chats_by_category"][slug] = day["chats_by_category"].get(slug, 0) + row["n"]
        for row in complaint_days:
            if row["n"]:
                day = days[row["label"]]
                day["complaints"] += row["n"]
                day["complaints_by_category"][row["category"]] = row["n"]
        return list(days.values())

    @staticmethod
    def _by_category(days: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
        chats: dict[str, int] = defaultdict(int)
        complaints: dict[str, int] = defaultdict(int)
        for day in days:
            for slug, n in day["chats_by_category"].items():
                chats[slug] += n
            for slug, n in day["complaints_by_category"].items():
                complaints[slug] += n
        order = list(names) + sorted((set(chats) | set(complaints)) - set(names))
        return [
            {"slug": slug, "name": names.get(slug, slug), "chats": chats[slug], "complaints": complaints[slug]}
            for slug in order
            if chats[slug] or complaints[slug]
        ]

    @staticmethod
    def _csat(rows: list[Row], agent_column: str, agent_names: dict[str, str], category_names: dict[str, str]) -> dict[str, Any]:
        by_agent, by_category, overall = _Ratings(), _Ratings(), _Ratings()
        for row in rows:
            by_agent.add(row[agent_column], row)
            by_category.add(row["category"], row)
            overall.add(None, row)
        agents = [
            {"id": key, "name": agent_names.get(key, UNASSIGNED) if key else UNASSIGNED, **values}
            for key, values in by_agent.rated()
        ]
        categories = [{"slug": key, "name": category_names.get(key, key), **values} for key, values in by_category.rated()]
        return {
            "overall": _satisfaction(*overall.groups[None]),
            "by_agent": sorted(agents, key=lambda a: (a["id"] is None, a["name"].lower())),
            "by_category": sorted(categories, key=lambda c: _position(category_names, c["slug"])),
        }

    async def _recurring(
        self, db: Database, period: Period, filters: Filters, now: datetime, names: dict[str, str]
    ) -> dict[str, Any]:
        end = rules.recurring_end(period.end, now)
        edges = rules.week_bounds(end)
        weeks = [(k, _stamp(edges[k + 1]), _stamp(edges[k])) for k in range(rules.RECURRING_WEEKS + 1)]
        counts: dict[str, list[int]] = defaultdict(lambda: [0] * (rules.RECURRING_WEEKS + 1))
        for row in await store.complaint_counts(db, weeks, filters):
            counts[row["category"]][row["label"]] = int(row["n"])
        covered = rules.history_weeks(end, parse_iso(await store.first_complaint_at(db)))
        found = [rules.recurring_problem(slug, weeks[0], weeks[1 : covered + 1]) for slug, weeks in counts.items() if any(weeks)]
        found.sort(key=lambda r: (not r.flagged, -r.this_week, r.category))
        return {
            "week": {"start": _stamp(edges[1]), "end": _stamp(edges[0])},
            "rule": {
                "weeks": rules.RECURRING_WEEKS, "sd_factor": rules.SD_FACTOR, "min_count": rules.MIN_COUNT,
                "min_rise": rules.MIN_RISE, "min_history_weeks": rules.MIN_HISTORY_WEEKS,
            },
            "history_weeks": covered,
            "categories": [
                {
                    "slug": r.category, "name": names.get(r.category, r.category), "this_week": r.this_week,
                    "previous": list(r.previous), "mean": r.mean, "sd": r.sd, "threshold": r.threshold, "flagged": r.flagged,
                }
                for r in found
            ],
        }

    # -- exports -------------------------------------------------------------------------------------

    async def export(self, user: ConsoleUser, kind: str, period: Period, filters: Filters, *, audited: bool = True) -> Export:
        """The complaints or chats of the period as CSV records, read one keyset page at a time."""
        await self.check(user, filters)
        names = {row["id"]: row["name"] for row in await store.staff(self.db)}
        if kind == "complaints":
            def record(row: Row) -> tuple[Any, ...]:
                return tuple(names.get(row["assignee_id"], "") if c == "assignee" else row[c] for c in COMPLAINT_COLUMNS)
            page: Page = store.complaint_page
            columns = COMPLAINT_COLUMNS
        elif kind == "chats":
            def record(row: Row) -> tuple[Any, ...]:
                return tuple(names.get(row["agent_id"], "") if c == "agent" else row[c] for c in CHAT_COLUMNS)
            page, columns = store.chat_page, CHAT_COLUMNS
        else:
            raise ValueError(kind)
        filename = f"{kind}-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
        # customers' words and staff names leave the system here: who took which rows is on record
        # before the first byte goes out, and an export that cannot be recorded is not sent
        if audited:
            async with self.records.transaction() as tx:
                await audit.record(
                    tx, actor=user.id, action="user.exported", subject=user.id, now=_stamp(self.clock()),
                    details={
                        "export": kind, "first": period.first.isoformat(), "last": period.last.isoformat(),
                        "filters": {k: v for k, v in asdict(filters).items() if v is not None},
                        "api_token_id": user.api_token_id,
                    },
                )
        return Export(filename, columns, self._records(page, record, period, filters))

    async def _records(
        self, page: Page, record: Callable[[Row], tuple[Any, ...]], period: Period, filters: Filters
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        """Pages in (created_at, id) order. Each page is its own short read, so writers and other readers
        get their turn in between, and only one page is held in memory."""
        start, end = _stamp(period.start), _stamp(period.end)
        after = store.FIRST_KEY
        while True:
            rows = await page(self.db, start, end, filters, after, EXPORT_PAGE)
            if rows:
                yield [record(row) for row in rows]
            if len(rows) < EXPORT_PAGE:
                return
            after = (rows[-1]["created_at"], rows[-1]["id"])
            await asyncio.sleep(0)  # let the event loop serve others between pages
