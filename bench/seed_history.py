"""Seed a long support history straight into SQLite, fast: the data set behind the reports benchmark.

    python -m bench.seed_history --db var/bench/history.db                 # a year: 1M complaints, ~5M messages
    python -m bench.seed_history --db /tmp/small.db --complaints 20000 --chats 20000 --days 90

The schema comes from the project's own migrations; the rows are written with `executemany` in large
transactions by one plain sqlite3 connection, in time order (as a live server writes them), with ids
that sort by time so that primary-key inserts append. Random but deterministic (`--seed`).

What the history looks like:
- volume grows 30% over the period; weekends are busier (betting), evenings peak, 3-7 am is quiet;
- categories weighted as the domain describes (withdrawals first, then bet settlement, account
  access, bonuses, technical faults, ...); in the last week `technical` runs at three times its usual
  level (an outage), so the recurring-problem flag has something to find;
- chats: 4% abandoned in the queue, 3% never answered (they become complaints), the rest answered
  after a log-normal wait (median 40 s) and closed as resolved (70%) or as a complaint; about 5.5
  messages per chat; 35% of resolved chats rated, mostly 4-5;
- complaints: from chats (channel chat) plus the form, e-mail and phone; first answer median 3 h and
  resolution median 20 h against the category's 24 h / 48 h targets, so a few percent miss them;
  12% escalated to level 2 and 3% to 3, 6% of resolved ones reopened, 35% of closed ones rated;
  3% get a compensation proposal (EUR, PLN, USD, RUB), 70% of them approved by a supervisor.

The thread table holds only the status lines the reports read (reopenings); audit rows are not
seeded. With `bulk=True` (a new file) the journal is off and the messages trigger is dropped while
seeding (its result, `last_seq` and `first_response_at`, is written directly), then restored.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from chatserver.domain.text import searchable
from chatserver.store.db import Database

DAY = 86400.0
HOUR = 3600.0
WARN_BEFORE = 2 * HOUR  # CHATSERVER_SLA_WARNING_HOURS' default

# category -> (share of complaints and chat topics, chance a complaint is escalated)
CATEGORIES: dict[str, tuple[float, float]] = {
    "withdrawals": (0.30, 0.20),
    "bet_settlement": (0.15, 0.18),
    "account_access": (0.14, 0.10),
    "bonuses": (0.12, 0.12),
    "technical": (0.12, 0.15),
    "support_quality": (0.06, 0.25),
    "rules": (0.05, 0.08),
    "other": (0.06, 0.08),
}
OWNER_GROUPS = {
    "withdrawals": "payments", "bet_settlement": "trading", "account_access": "support", "technical": "tech",
    "support_quality": "support", "rules": "support", "bonuses": "marketing", "other": "support",
}
# hours: (first response, resolution), as in migration 002
TARGETS = {slug: (24.0, 24.0 if slug == "account_access" else 48.0) for slug in CATEGORIES}
SPIKE_CATEGORY, SPIKE_FACTOR = "technical", 3.0
# hour of day (UTC) -> relative volume
HOURS = [3, 2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5, 5.5, 6, 6, 6, 6, 6.5, 7, 8, 9, 10, 10, 9, 7, 5]
# Monday..Sunday
WEEKDAYS = [0.9, 0.9, 0.95, 1.0, 1.1, 1.3, 1.25]
LOCALES = (("en", 0.4), ("ru", 0.35), ("pl", 0.25))
CHANNELS = (("web_form", 0.62), ("email", 0.25), ("phone", 0.13))  # complaints that did not come from a chat
CURRENCIES = (("EUR", 0.5), ("PLN", 0.25), ("USD", 0.15), ("RUB", 0.1))
CHAT_SCORES = [3, 4, 8, 25, 60]
LATE_SCORES = [15, 15, 20, 25, 25]

SUBJECTS = {
    "withdrawals": ["Withdrawal pending for 3 days", "Card payout not received", "Вывод средств задерживается",
                    "Wypłata nie dotarła", "Withdrawal cancelled without reason"],
    "bet_settlement": ["Accumulator settled as lost", "Ставка рассчитана неверно", "Cash-out amount wrong",
                       "Zakład rozliczony błędnie"],
    "account_access": ["Cannot log in after password reset", "Account locked", "Не приходит SMS с кодом",
                       "Weryfikacja konta trwa zbyt długo"],
    "technical": ["App crashes when placing a bet", "Live stream does not load", "Ошибка при пополнении",
                  "Strona się nie ładuje"],
    "support_quality": ["Agent closed the chat without answer", "Rude answer from support", "Долго не отвечают"],
    "rules": ["Unclear bonus rules", "Why was my bet voided?", "Regulamin promocji niejasny"],
    "bonuses": ["Free bet not credited", "Бонус не начислен", "Wagering progress not updating", "Cashback missing"],
    "other": ["Question about my account", "Другое", "Inna sprawa"],
}
CUSTOMER_LINES = [
    "Hi, my withdrawal is still pending", "Where is my money?", "I placed a bet and it was settled wrong",
    "The app keeps crashing", "Здравствуйте, не могу вывести деньги", "Dzień dobry, mam problem z wypłatą",
    "Can you check my bet?", "Ok thanks", "Still not working", "How long will it take?", "Спасибо",
    "I uploaded my documents yesterday", "Dziękuję", "My bonus disappeared", "It says error 500",
]
AGENT_LINES = [
    "Hi, thanks for reaching out! Let me check this for you.", "Could you send me the bet ID?",
    "I am checking this with the payments team now.", "Your withdrawal has been approved on our side.",
    "Здравствуйте! Сейчас проверю.", "Dzień dobry, już sprawdzam.", "Is there anything else I can help with?",
    "I have registered a complaint so that our specialists can investigate.", "Thank you for waiting.",
]
NOTES = ["Customer is VIP, handle with care", "Checked with payments: pending KYC", "Duplicate of an earlier chat"]


@dataclass(frozen=True)
class Size:
    complaints: int = 1_000_000
    chats: int = 900_000
    customers: int = 300_000
    agents: int = 40
    supervisors: int = 4
    days: int = 365
    extra_messages: float = 3.4  # mean of the exponential behind the messages beyond the first three


class Stamps:
    """ISO 8601 UTC text for float seconds, fast: the date part is looked up per day."""

    def __init__(self, origin: datetime, days: int) -> None:
        self.origin = origin.timestamp()
        first = origin.date() - timedelta(days=400)
        self.base = int((datetime(first.year, first.month, first.day, tzinfo=timezone.utc).timestamp() - self.origin) // DAY)
        self.dates = [(first + timedelta(days=i)).isoformat() for i in range(days + 800)]

    def __call__(self, t: float | None) -> str | None:
        if t is None:
            return None
        ms = int(round(t * 1000))
        day, rest = divmod(ms, 86_400_000)
        hours, rest = divmod(rest, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        seconds, millis = divmod(rest, 1000)
        return f"{self.dates[day - self.base]}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


class Ids:
    """Ids that sort by creation (so primary-key inserts append) and still look opaque."""

    def __init__(self, rng: random.Random, prefix: str) -> None:
        self.rng, self.prefix, self.n = rng, prefix, 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}_{self.n:09d}{self.rng.getrandbits(56):014x}"


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def _daily_volumes(total: int, size: Size, start: datetime) -> list[int]:
    weights = []
    for d in range(size.days):
        trend = 1.0 + 0.3 * d / max(size.days - 1, 1)
        weights.append(trend * WEEKDAYS[(start + timedelta(days=d)).weekday()])
    scale = total / sum(weights)
    return [int(round(w * scale)) for w in weights]


class Seeder:
    def __init__(self, conn: sqlite3.Connection, size: Size, end: datetime, seed: int) -> None:
        self.conn, self.size = conn, size
        self.rng = random.Random(seed)
        self.start = end - timedelta(days=size.days)
        self.end_t = float(size.days * DAY)  # seconds since start: "now" of the data set
        self.stamp = Stamps(self.start, size.days)
        self.ids = {p: Ids(self.rng, p) for p in ("cu", "cv", "m", "cp", "cm", "ce", "u")}
        self.hour_cum = list(_cumulative(HOURS))
        self.numbers: dict[int, int] = {}
        self.counts: dict[str, int] = {"customers": 0, "chats": 0, "messages": 0, "complaints": 0, "ratings": 0,
                                       "compensations": 0, "entries": 0, "notices": 0}

    # -- people ------------------------------------------------------------------------------------

    def people(self) -> None:
        rng, stamp = self.rng, self.stamp
        users = []
        created = stamp(-30 * DAY)
        for i in range(self.size.agents):
            name = f"{_NAMES[i % len(_NAMES)]} {_SURNAMES[(i * 7 + i // len(_NAMES)) % len(_SURNAMES)]}"
            users.append((self.ids["u"](), f"agent{i + 1:02d}@history.test", name, "agent", 4))
        for i in range(self.size.supervisors):
            users.append((self.ids["u"](), f"supervisor{i + 1}@history.test", _SUPERVISORS[i % len(_SUPERVISORS)], "supervisor", 2))
        users.append((self.ids["u"](), "admin@history.test", "Head of support", "admin", 0))
        self.conn.executemany(
            "INSERT INTO users (id, email, name, role, password_hash, max_chats, status_since, created_at)"
            " VALUES (?, ?, ?, ?, '!', ?, ?, ?)",
            [(*u, created, created) for u in users],
        )
        self.agents = [u[0] for u in users if u[3] == "agent"]
        # some agents work more shifts than others
        self.agent_weights = [rng.uniform(0.5, 1.5) for _ in self.agents]
        self.agent_cum = list(_cumulative(self.agent_weights))
        self.supervisors = [u[0] for u in users if u[3] == "supervisor"]
        self.admin = users[-1][0]
        customers = []
        for i in range(self.size.customers):
            locale = _pick(rng, LOCALES)
            customers.append((
                self.ids["cu"](), f"{rng.getrandbits(256):064x}", f"player-{i}" if rng.random() < 0.6 else None,
                f"Player {i}", f"player{i}@mail.test" if rng.random() < 0.7 else None, locale,
                1 if rng.random() < 0.6 else 0, stamp(-rng.uniform(0, 400) * DAY),
            ))
        self.conn.executemany(
            "INSERT INTO customers (id, token_hash, external_id, name, email, locale, verified, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            customers,
        )
        self.customers = [(c[0], c[5], c[3], c[4]) for c in customers]
        self.counts["customers"] = len(customers)

    # -- time --------------------------------------------------------------------------------------

    def moments(self, day: int, n: int) -> list[float]:
        hours = self.rng.choices(range(24), cum_weights=self.hour_cum, k=n)
        return sorted(day * DAY + h * HOUR + self.rng.random() * HOUR for h in hours)

    def category(self) -> str:
        return self.rng.choices(_SLUGS, cum_weights=_SLUG_CUM)[0]

    def agent(self) -> str:
        return self.rng.choices(self.agents, cum_weights=self.agent_cum)[0]

    # -- one day -----------------------------------------------------------------------------------

    def day(self, day: int, chats: int, complaints: int) -> None:
        rows: dict[str, list[tuple[Any, ...]]] = {
            k: [] for k in ("chats", "messages", "ratings", "complaints", "compensations", "entries", "notices")
        }
        pending: list[tuple[float, dict[str, Any]]] = []
        for t in self.moments(day, chats):
            made = self.chat(t, rows)
            if made is not None:
                pending.append(made)
        own = complaints - len(pending)
        last_week = day >= self.size.days - 7
        for t in self.moments(day, max(own, 0)):
            pending.append((t, {"channel": _pick(self.rng, CHANNELS)}))
        if last_week:
            usual = int(complaints * CATEGORIES[SPIKE_CATEGORY][0])
            for t in self.moments(day, int(usual * (SPIKE_FACTOR - 1))):
                pending.append((t, {"channel": _pick(self.rng, CHANNELS), "category": SPIKE_CATEGORY}))
        pending.sort(key=lambda p: p[0])
        for t, origin in pending:
            self.complaint(t, origin, rows)
        self.write(rows)

    def chat(self, t: float, rows: dict[str, list[tuple[Any, ...]]]) -> tuple[float, dict[str, Any]] | None:
        """One chat with its messages and rating; returns the complaint it turned into, if any."""
        rng, stamp = self.rng, self.stamp
        if t >= self.end_t:
            return None
        chat_id = self.ids["cv"]()
        customer_id, locale, name, email = self.customers[rng.randrange(len(self.customers))]
        topic = None if rng.random() < 0.15 else self.category()
        roll = rng.random()
        messages: list[tuple[float, str, str, str | None, str, int]] = [(t, "customer", name, customer_id, rng.choice(CUSTOMER_LINES), 0)]
        agent_id = assigned = first = None
        complaint: dict[str, Any] | None = None
        if roll < 0.04:  # the customer gave up in the queue
            closed, outcome = t + rng.uniform(20, 600), "abandoned"
        elif roll < 0.07:  # nobody free before the queue timeout: a complaint
            closed, outcome = t + 600.0, "complaint"
            messages.append((closed, "system", "System", None, "Nobody could take your chat in time; we registered a complaint.", 0))
            complaint = {"channel": "chat", "source": "chat_unanswered", "category": topic or "other", "chat": chat_id}
        else:
            wait = min(rng.lognormvariate(math.log(40), 0.9), 900.0)
            first = t + wait
            assigned = first - rng.uniform(1, 8)
            agent_id = self.agent()
            closed = first + rng.lognormvariate(math.log(420), 0.7)
            outcome = "resolved" if rng.random() < 0.70 else "complaint"
            agent_name = "Agent"
            messages.append((first, "agent", agent_name, agent_id, rng.choice(AGENT_LINES), 0))
            extra = int(rng.expovariate(1 / self.size.extra_messages))
            for k in range(min(extra, 30)):
                at = first + (closed - first) * (k + 1) / (extra + 1)
                if k % 2:
                    internal = 1 if rng.random() < 0.1 else 0
                    messages.append((at, "agent", agent_name, agent_id, rng.choice(NOTES if internal else AGENT_LINES), internal))
                else:
                    messages.append((at, "customer", name, customer_id, rng.choice(CUSTOMER_LINES), 0))
            messages.append((closed, "system", "System", None, "The chat has ended.", 0))
            if outcome == "complaint":
                source = "chat_not_solved" if rng.random() < 0.6 else "agent_closed"
                complaint = {"channel": "chat", "source": source, "category": topic or "other", "chat": chat_id, "agent": agent_id}
        if closed + 1 >= self.end_t:  # still open at "now": keep the history simple, it ends before now
            return None
        complaint_id = self.ids["cp"]() if complaint else None
        if complaint:
            complaint["id"] = complaint_id
            complaint["customer"] = (customer_id, locale, name, email)
        rows["chats"].append((
            chat_id, customer_id, "closed", topic, locale, agent_id, stamp(t), stamp(t), stamp(assigned), stamp(first),
            stamp(closed), outcome, complaint_id, len(messages),
        ))
        for seq, (at, sender, author, author_id, body, internal) in enumerate(messages, start=1):
            client = f"c{seq}" if sender == "customer" else None
            rows["messages"].append((self.ids["m"](), chat_id, seq, sender, author, author_id, body, internal, client, stamp(at)))
        if first is not None and rng.random() < (0.35 if outcome == "resolved" else 0.1):
            weights = CHAT_SCORES if outcome == "resolved" and first - t < 180 else LATE_SCORES
            score = rng.choices(range(1, 6), weights)[0]
            rows["ratings"].append((chat_id, score, None, stamp(closed + rng.uniform(5, 120))))
        return (closed + 0.5, complaint) if complaint else None

    def complaint(self, t: float, origin: dict[str, Any], rows: dict[str, list[tuple[Any, ...]]]) -> None:
        rng, stamp, end = self.rng, self.stamp, self.end_t
        if t >= end:
            return
        category = origin.get("category") or self.category()
        channel = origin["channel"]
        source = origin.get("source") or {"web_form": "form", "email": "agent_logged", "phone": "agent_logged"}[channel]
        if "customer" in origin:
            customer_id, locale, name, email = origin["customer"]
        elif channel == "web_form":
            customer_id, locale, name, email = self.customers[rng.randrange(len(self.customers))]
        else:
            customer_id, locale, name, email = None, _pick(rng, LOCALES), f"Caller {rng.randrange(10**6)}", None
        first_hours, resolution_hours = TARGETS[category]
        first_due, resolution_due = t + first_hours * HOUR, t + resolution_hours * HOUR
        escalate_p = CATEGORIES[category][1]
        level = 1
        roll = rng.random()
        if roll < escalate_p * 0.2:
            level = 3
        elif roll < escalate_p:
            level = 2
        delay = rng.lognormvariate(math.log(3 * HOUR), 1.0)
        first = t + delay if t + delay < end else None
        spent = max(rng.lognormvariate(math.log(20 * HOUR), 0.7) * (1.6 if level > 1 else 1.0), delay + 600)
        resolved = t + spent if t + spent < end else None
        reopened_at = None
        if resolved is not None and rng.random() < 0.06:
            reopened_at = resolved + rng.lognormvariate(math.log(6 * HOUR), 0.8)
            if reopened_at < end:
                resolution_due = reopened_at + resolution_hours * HOUR
                again = reopened_at + rng.lognormvariate(math.log(12 * HOUR), 0.8)
                resolved = again if again < end else None
            else:
                reopened_at = None
        closed = None
        if resolved is not None:
            accept = resolved + rng.lognormvariate(math.log(4 * HOUR), 1.0)
            closed = accept if rng.random() < 0.5 and accept < end else (resolved + 7 * DAY if resolved + 7 * DAY < end else None)
        if closed is not None:
            status = "closed"
        elif resolved is not None:
            status = "resolved"
        elif reopened_at is not None:
            status = "reopened"
        elif first is None:
            status = "new"
        else:
            status = "in_progress" if rng.random() < 0.7 else "awaiting_customer"
        if level == 1:
            assignee = origin.get("agent") or (self.agent() if rng.random() < 0.9 or status != "new" else None)
        elif level == 2:
            assignee = rng.choice(self.supervisors) if rng.random() < 0.6 else None
        else:
            assignee = self.admin if rng.random() < 0.5 else None
        owner = OWNER_GROUPS[category] if level == 1 else ("supervisors" if level == 2 else "management")
        rating = rating_at = None
        if closed is not None and rng.random() < 0.35:
            on_time = resolved is not None and resolved <= resolution_due
            rating = rng.choices(range(1, 6), CHAT_SCORES if on_time else LATE_SCORES)[0]
            rating_at = closed + rng.uniform(60, DAY)
            if rating_at >= end:
                rating = rating_at = None
        last = max(x for x in (t, first, resolved, closed, reopened_at, rating_at) if x is not None)
        settled = status in ("resolved", "closed")
        response_due = None if settled or first is not None else first_due
        if status == "reopened":
            response_due = reopened_at + first_hours * HOUR  # type: ignore[operator]
        complaint_id = origin.get("id") or self.ids["cp"]()
        year = (self.start + timedelta(seconds=t)).year
        number = self.numbers.get(year, 0) + 1
        self.numbers[year] = number
        subject = rng.choice(SUBJECTS[category])
        rows["complaints"].append((
            complaint_id, f"C-{year}-{number:06d}", origin.get("chat"), customer_id, category, subject,
            f"{subject}. Reference from the customer: {rng.randrange(10**8):08d}.", source, channel, status, level,
            email, stamp(t), stamp(first_due), stamp(resolution_due), stamp(first), stamp(resolved), stamp(response_due),
            owner, assignee, name if customer_id is None else None, locale, stamp(closed), stamp(last),
            stamp(last), rating, stamp(rating_at), stamp(t + rng.uniform(HOUR, 20 * HOUR)) if level > 1 else None,
        ))
        if not settled:
            # the live server's SLA sweep would have fired these already: record them, so a server started
            # on this file (the benchmark's HTTP part) finds nothing to catch up on
            for target, due in (("response", response_due), ("resolution", resolution_due)):
                if due is not None and due - WARN_BEFORE <= end:
                    kind, fired = ("breach", due) if due <= end else ("warning", due - WARN_BEFORE)
                    rows["notices"].append((complaint_id, kind, target, stamp(due), stamp(fired)))
        if reopened_at is not None:
            first_resolution = reopened_at - 600
            rows["entries"].append((self.ids["ce"](), complaint_id, 1, "status", "Agent", None, "resolved", stamp(first_resolution)))
            rows["entries"].append((self.ids["ce"](), complaint_id, 2, "status", name or "Customer", None, "reopened", stamp(reopened_at)))
        if rng.random() < 0.03 and first is not None:
            proposed = first + rng.uniform(600, 6 * HOUR)
            if proposed < end:
                roll = rng.random()
                decided = proposed + rng.lognormvariate(math.log(5 * HOUR), 0.8)
                status_c = "proposed" if roll < 0.1 or decided >= end else ("approved" if roll < 0.8 else "rejected")
                decider = rng.choice(self.supervisors) if status_c != "proposed" else None
                currency = _pick(rng, CURRENCIES)
                amount = rng.choice([500, 1000, 2000, 2500, 5000, 10000, 20000]) * (4 if currency == "PLN" else 90 if currency == "RUB" else 1)
                rows["compensations"].append((
                    self.ids["cm"](), complaint_id, amount, currency, "Goodwill for the delay", status_c,
                    assignee if assignee in self.agents else self.agents[0], stamp(proposed), decider,
                    stamp(decided) if decider else None,
                ))

    # -- writing -----------------------------------------------------------------------------------

    def write(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        c = self.conn
        c.executemany(
            "INSERT INTO conversations (id, customer_id, status, topic, locale, agent_id, created_at, queued_at,"
            " assigned_at, first_response_at, closed_at, outcome, complaint_id, last_seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows["chats"],
        )
        c.executemany(
            "INSERT INTO messages (id, conversation_id, seq, sender, author, author_id, body, internal, client_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows["messages"],
        )
        c.executemany("INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES (?, ?, ?, ?)", rows["ratings"])
        c.executemany(
            "INSERT INTO complaints (id, reference, conversation_id, customer_id, category, subject, body, source, channel,"
            " status, level, email, created_at, first_response_due, resolution_due, first_response_at, resolved_at,"
            " response_due, owner_group, assignee_id, customer_name, locale, closed_at, updated_at, last_public_at,"
            " rating, rated_at, level_since)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows["complaints"],
        )
        # what search looks in, folded as the server folds it when it writes a complaint
        c.executemany(
            "INSERT INTO complaint_search (complaint_id, folded) VALUES (?, ?)",
            [(row[0], searchable("\n".join((row[1], row[5], row[6] or "")))) for row in rows["complaints"]],
        )
        c.executemany(
            "INSERT INTO compensations (id, complaint_id, amount_minor, currency, reason, status, proposed_by, proposed_at,"
            " decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows["compensations"],
        )
        c.executemany(
            "INSERT INTO complaint_entries (id, complaint_id, seq, kind, author, author_id, body, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows["entries"],
        )
        c.executemany(
            "INSERT INTO sla_notices (complaint_id, kind, target, due_at, fired_at) VALUES (?, ?, ?, ?, ?)", rows["notices"]
        )
        for key in self.counts:
            if key in rows:
                self.counts[key] += len(rows[key])

    def run(self, progress: bool) -> dict[str, int]:
        chats = _daily_volumes(self.size.chats, self.size, self.start)
        complaints = _daily_volumes(self.size.complaints, self.size, self.start)
        self.conn.execute("BEGIN")
        # continue the reference numbers of a database that already has complaints (the screenshots' demo)
        self.numbers = {int(y): int(n) for y, n in self.conn.execute("SELECT year, last_number FROM complaint_counters")}
        self.people()
        started = time.monotonic()
        for day in range(self.size.days):
            self.day(day, chats[day], complaints[day])
            if day % 30 == 29:
                self.conn.execute("COMMIT")
                self.conn.execute("BEGIN")
                if progress:
                    print(f"  day {day + 1}/{self.size.days}: {self.counts['complaints']:,} complaints, "
                          f"{self.counts['messages']:,} messages, {time.monotonic() - started:.0f} s", flush=True)
        for year, number in self.numbers.items():
            self.conn.execute(
                "INSERT INTO complaint_counters (year, last_number) VALUES (?, ?)"
                " ON CONFLICT (year) DO UPDATE SET last_number = MAX(last_number, excluded.last_number)",
                (year, number),
            )
        self.conn.execute("COMMIT")
        return self.counts


_NAMES = ["Anna", "Bartek", "Olga", "Piotr", "Irina", "Marek", "Kasia", "Dmitri", "Ewa", "Sergei", "Zofia", "Tomasz",
          "Natalia", "Jan", "Maria", "Pavel", "Agnieszka", "Igor", "Magda", "Alexei"]
_SURNAMES = ["K.", "N.", "W.", "S.", "L.", "M.", "P.", "D.", "R.", "B.", "Z.", "T."]
_SUPERVISORS = ["Sofia Lind", "Viktor Orlov", "Hanna Nowak", "Leo Brandt"]
_SLUGS = list(CATEGORIES)


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


_SLUG_CUM = _cumulative([w for w, _ in CATEGORIES.values()])


async def _migrate(path: str) -> None:
    db = Database(path)
    await db.open()
    try:
        await db.migrate()
    finally:
        await db.close()


def seed_history(
    path: str | Path, *, size: Size = Size(), end: datetime, seed: int = 2026, bulk: bool = True, progress: bool = False
) -> dict[str, int]:
    """Write the history ending at `end` into the database at `path` (migrated first). `bulk` is for a
    new file nobody else has open: no journal, no messages trigger while seeding."""
    path = str(path)
    asyncio.run(_migrate(path))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA cache_size = -1000000")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA busy_timeout = 5000")
        trigger = None
        if bulk:
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            trigger = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_bump_seq'").fetchone()[0]
            conn.execute("DROP TRIGGER messages_bump_seq")
        try:
            counts = Seeder(conn, size, end, seed).run(progress)
        finally:
            if trigger is not None:
                conn.execute(trigger)
        if bulk:
            conn.execute("PRAGMA journal_mode = WAL")
        return counts
    finally:
        conn.close()


async def seed_history_async(path: str | Path, **options: Any) -> dict[str, int]:
    """For callers inside an event loop (the screenshots script): the same, in a thread."""
    return await asyncio.to_thread(seed_history, path, **options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--complaints", type=int, default=Size.complaints)
    parser.add_argument("--chats", type=int, default=Size.chats)
    parser.add_argument("--customers", type=int, default=Size.customers)
    parser.add_argument("--days", type=int, default=Size.days)
    parser.add_argument("--end", default="2026-12-01", help="the history ends here (UTC midnight), default 2026-12-01")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if Path(args.db).exists():
        raise SystemExit(f"{args.db} exists; seed a new file")
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    size = Size(complaints=args.complaints, chats=args.chats, customers=min(args.customers, max(args.chats // 2, 100)), days=args.days)
    end = datetime.fromisoformat(args.end).replace(tzinfo=timezone.utc)
    started = time.monotonic()
    counts = seed_history(args.db, size=size, end=end, seed=args.seed, progress=True)
    print(f"seeded {args.db} in {time.monotonic() - started:.0f} s: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
