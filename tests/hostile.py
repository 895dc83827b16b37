"""Hostile input for the fuzz tests: payload shapes, ids resolved against the live server, the
contract's answers, and the checks that nothing was half-written.

Examples are drawn by Hypothesis before they are sent (`draw`): derandomized and without an example
database, so every run sends the same inputs and no `.hypothesis/` state matters.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import string
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from chatserver.store.backup import check_file

# the contract's error codes; `internal` is not among them: it means a handler crashed
ERROR_CODES = frozenset({
    "invalid", "unauthorized", "forbidden", "not_found", "conflict", "rate_limited", "too_large", "unavailable",
})
# keeps every drawn payload inside one Engine.IO frame (the server's cap is 64 KB)
FRAME_BUDGET = 60_000


def draw(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples of `strategy`, the same ones on every run."""
    found: list[Any] = []

    @settings(
        max_examples=count, derandomize=True, database=None, phases=[Phase.generate], deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


# -- values ----------------------------------------------------------------------------------------

OPERATORS: list[Any] = [
    {"$gt": ""}, {"$ne": None}, {"$where": "sleep(1000)"}, {"$regex": ".*"}, {"$in": []}, {"$exists": True},
    {"__proto__": {"admin": True}}, {"constructor": {"prototype": {"admin": True}}}, {"_placeholder": True, "num": 0},
]
INJECTIONS = [
    "' OR 1=1--", "'; DROP TABLE messages;--", '" OR ""="', "1; SELECT token_hash FROM customers", "%", "_", "\\",
    "x' UNION SELECT password_hash FROM users--", "created_at;DROP TABLE complaints", "*", "C-2026-%",
    "{{constructor.constructor('alert(1)')()}}", "<script>alert(1)</script>", "${7*7}", "../../etc/passwd",
]
ODD_TEXT = [
    "", " ", "\x00", "a\x00b", "\ud800", "\udfff", "\ud83d", "x\udc00y", "\u202e\u2066", "\ufeff", "\u2028\u2029",
    "\r\n\r\nBcc: x@evil.example", "null", "undefined", "NaN", "true", "0", "-1", "\U0001f642" * 30, "ｓｃｒｉｐｔ",
    "e\u0301" * 20, "\u200b", "\x7f\x80\x9f",
]
HUGE_INTS = [2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**40, -(10**40)]
LONG_TEXT_SIZES = [65, 129, 201, 1001, 2001, 4000, 4001, 10_001, 20_000, 50_000]


def nest(depth: int, kind: str) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


odd_chars = st.characters(codec=None, exclude_categories=())  # surrogates, controls, private use, all of it
odd_text = st.one_of(
    st.text(odd_chars, max_size=40),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4),
    st.sampled_from(ODD_TEXT + INJECTIONS),
)
long_text = st.one_of(
    st.sampled_from(LONG_TEXT_SIZES).map(lambda n: "x" * n),
    st.builds(lambda n, c: c * n, st.sampled_from(LONG_TEXT_SIZES[:7]), st.sampled_from(["я", "\U0001f642", "\x00"])),
)
numbers = st.one_of(
    st.integers(), st.sampled_from(HUGE_INTS), st.floats(allow_nan=True, allow_infinity=True), st.just(-0.0),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, odd_text, long_text)
keys = st.one_of(
    st.sampled_from([
        "conversation_id", "client_id", "body", "status", "reference", "agent_id", "token", "$gt", "__proto__",
        "constructor", "_placeholder", "num", "", "\ud800",
    ]),
    st.text(odd_chars, max_size=12),
)
deep = st.builds(nest, st.integers(20, 400), st.sampled_from(["list", "dict"]))


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Lists and objects of `inner`: what st.recursive nests. A named function, because Hypothesis
    reads the source of `extend` to check that it uses its argument, and misreads a lambda here."""
    return st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4)


hostile_values = st.one_of(
    scalars,
    st.sampled_from(OPERATORS),
    deep,
    st.recursive(scalars, containers, max_leaves=12),
)


@dataclass(frozen=True)
class Live:
    """A placeholder for an id the server knows (own, foreign, queued...), resolved when it is sent."""

    kind: str
    pick: int


def resolve(value: Any, pool: Mapping[str, list[Any]]) -> Any:
    if isinstance(value, Live):
        options = pool.get(value.kind) or [f"{value.kind}-none"]
        return options[value.pick % len(options)]
    if isinstance(value, dict):
        return {k: resolve(v, pool) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(v, pool) for v in value)
    return value


def live(*kinds: str) -> st.SearchStrategy[Live]:
    return st.builds(Live, st.sampled_from(kinds), st.integers(0, 1_000))


opaque_id = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=64)
conversation_ids = st.one_of(live("own", "foreign", "queued", "closed"), opaque_id.map(lambda s: "c_" + s))
user_ids = st.one_of(live("agent", "self"), opaque_id.map(lambda s: "u_" + s), st.none())
references = st.one_of(
    live("own_reference", "foreign_reference"), st.sampled_from(["C-2026-000001", "C-1999-000000", "C-9999-999999"]),
)
words = st.one_of(st.text(min_size=1, max_size=60), st.text(min_size=1, max_size=60), long_text)
CATEGORIES = ["withdrawals", "bet_settlement", "technical", "other", "nope", "WITHDRAWALS", "withdrawals "]
EMAILS = ["alice@example.test", "a@b", "@example.test", "a b@c.d", "a@b.c\r\nBcc: x@evil.example", "<a@b.c>", "a@b,c@d"]

# what a field of that name plausibly holds; anything else gets only hostile values
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "conversation_id": conversation_ids,
    "client_id": st.one_of(st.uuids().map(str), opaque_id),
    "body": words,
    "after_seq": st.one_of(st.integers(-3, 50), st.sampled_from(HUGE_INTS)),
    "typing": st.booleans(), "resolved": st.booleans(), "internal": st.booleans(), "force": st.booleans(),
    "approve": st.booleans(),
    "score": st.one_of(st.integers(1, 5), st.sampled_from([0, 6, -1, 10**6])),
    "comment": words, "summary": words, "subject": words, "reason": words, "query": words, "name": words,
    "topic": st.sampled_from(CATEGORIES), "category": st.sampled_from(CATEGORIES),
    "email": st.sampled_from(EMAILS),
    "status": st.sampled_from(["online", "away", "offline", "in_progress", "busy", "ONLINE"]),
    "outcome": st.sampled_from(["resolved", "complaint", "abandoned", "deleted"]),
    "decision": st.sampled_from(["accept", "clarify", "reject"]),
    "reference": references,
    "agent_id": user_ids, "to_agent_id": user_ids, "assignee_id": user_ids,
    "locale": st.sampled_from(["en", "ru", "pl", "de", "", "en-US", "xx-XX-XXXX"]),
    # connect auth
    "token": st.one_of(live("token"), opaque_id, long_text),
    "external_id": words,
    "expires": st.one_of(st.integers(0, 2**40), st.sampled_from(HUGE_INTS)),
    "signature": st.one_of(st.text("0123456789abcdef", min_size=64, max_size=64), opaque_id),
}
PLAUSIBLE["identity"] = st.fixed_dictionaries(
    {"external_id": PLAUSIBLE["external_id"], "expires": PLAUSIBLE["expires"], "signature": PLAUSIBLE["signature"]},
    optional={"name": words, "email": PLAUSIBLE["email"]},
)


def plausible(name: str) -> st.SearchStrategy[Any]:
    return PLAUSIBLE.get(name, hostile_values)


def payloads(schema: type[BaseModel]) -> st.SearchStrategy[Any]:
    """Objects for `schema`: valid-looking ones, ones with a field gone wrong, with fields missing or
    extra keys, and things that are not objects at all."""
    fields = schema.model_fields
    required = {name: plausible(name) for name, field in fields.items() if field.is_required()}
    optional = {name: plausible(name) for name, field in fields.items() if not field.is_required()}
    looks_valid = st.fixed_dictionaries(required, optional=optional)
    one_wrong = st.builds(
        lambda payload, name, value: {**payload, name: value},
        looks_valid, st.sampled_from(sorted(fields) or ["x"]), hostile_values,
    )
    any_fields = st.builds(
        lambda known, extra: {**extra, **known},
        st.fixed_dictionaries({}, optional={name: st.one_of(plausible(name), hostile_values) for name in fields}),
        st.dictionaries(keys, hostile_values, max_size=3),
    )
    return weighted((looks_valid, 9), (one_wrong, 5), (any_fields, 4), (hostile_values, 2))


ODD_EVENTS = [
    "connect", "disconnect", "connect_error", "message", "*", "", " ", "session", "__proto__", "constructor",
    "hasOwnProperty", "on_connect", "trigger_event", "_answer", "chat:start\x00", "CHAT:START", "x" * 500,
    "message:new", "\ud800",
]


def calls(routes: Mapping[str, Any], per_event: int) -> list[tuple[Any, tuple]]:
    """(event, positional args): `per_event` payloads for each event `routes` maps to a pydantic schema,
    then unknown and odd event names and wrong argument counts; interleaved, so that every stretch
    of calls mixes the events."""
    rounds = [
        [(event, (payload,)) for payload in draw(payloads(schema).map(within_frame), per_event)]
        for event, (schema, _) in sorted(routes.items())
    ]
    unknown = st.tuples(st.one_of(st.sampled_from(ODD_EVENTS), st.text(odd_chars, max_size=30)), hostile_values)
    rounds.append([(event, (value,)) for event, value in draw(unknown.map(within_frame), per_event)])
    other_args = st.tuples(
        st.sampled_from(sorted(routes) + ODD_EVENTS[:4]),
        st.sampled_from([0, 2, 3]).flatmap(lambda n: st.lists(hostile_values, min_size=n, max_size=n)).map(tuple),
    )
    rounds.append(draw(other_args.map(within_frame), per_event))
    return [call for stretch in zip(*rounds) for call in stretch]


def weighted(*choices: tuple[st.SearchStrategy[Any], int]) -> st.SearchStrategy[Any]:
    """One of the strategies, each as often as its weight says (`one_of` favours none on purpose)."""
    return st.sampled_from([strategy for strategy, weight in choices for _ in range(weight)]).flatmap(lambda s: s)


def within_frame(value: Any) -> Any:
    """The value, with long strings cut when together they would not fit in one frame."""
    if len(json.dumps(value, default=repr)) < FRAME_BUDGET:
        return value
    return _cut(value)


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return value[:1000]
    if isinstance(value, dict):
        return {_cut(k): _cut(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cut(v) for v in value)
    return value


# -- the contract ----------------------------------------------------------------------------------


def contract_code(ack: Any) -> str:
    """"ok" or the error code of a contract ack; fails on anything else (an `internal` included)."""
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), f"not a contract ack: {short(ack)}"
    if ack["ok"]:
        return "ok"
    assert set(ack) == {"ok", "error"}, short(ack)
    err = ack["error"]
    assert isinstance(err, dict) and set(err) == {"code", "message"} and isinstance(err["message"], str), short(ack)
    assert err["code"] in ERROR_CODES, f"a handler failed: {short(ack)}"
    return err["code"]


def short(value: Any, limit: int = 300) -> str:
    text = ascii(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


@dataclass
class Tally:
    """What was sent and how it was answered, for the assertions and the summary line."""

    sent: int = 0
    codes: Counter[str] = field(default_factory=Counter)

    def add(self, code: str) -> None:
        self.sent += 1
        self.codes[code] += 1

    def __str__(self) -> str:
        return f"{self.sent} sent: " + ", ".join(f"{code} {n}" for code, n in self.codes.most_common())


# -- nothing half-written --------------------------------------------------------------------------


# tables the server's own background work writes (health probes, mail, webhooks, SLA notices, routing)
BACKGROUND = frozenset({"health_probe", "outbox", "webhook_deliveries", "sla_notices", "routing_decisions"})


def fingerprint(db: Path, leave_out: frozenset[str] = frozenset()) -> str:
    """A digest of every row a request could write (what background work writes is left out, and the
    tables in `leave_out`)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            if table in BACKGROUND or table in leave_out or table.startswith("sqlite_"):
                continue
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                digest.update(repr((table, row)).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()
    finally:
        conn.close()


def storage_problems(db_path: Path) -> list[str]:
    """SQLite's integrity and foreign-key checks, message sequences, and the rows that must agree."""
    report = check_file(db_path)  # integrity_check, foreign_key_check, seq 1..n, orphans, unique references
    problems = list(report.problems)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for query, what in [
            ("SELECT id FROM conversations WHERE status = 'active' AND agent_id IS NULL", "active without an agent"),
            ("SELECT id FROM conversations WHERE status = 'queued' AND agent_id IS NOT NULL", "queued with an agent"),
            ("SELECT id FROM conversations WHERE status = 'closed' AND (outcome IS NULL OR closed_at IS NULL)",
             "closed without an outcome"),
            ("SELECT id FROM conversations WHERE status != 'closed' AND outcome IS NOT NULL", "open with an outcome"),
            ("SELECT c.id FROM conversations c WHERE c.outcome = 'complaint' AND NOT EXISTS "
             "(SELECT 1 FROM complaints k WHERE k.conversation_id = c.id)", "closed as a complaint without one"),
            ("SELECT complaint_id FROM complaint_entries GROUP BY complaint_id "
             "HAVING MIN(seq) != 1 OR MAX(seq) != COUNT(*) OR COUNT(DISTINCT seq) != COUNT(*)", "complaint thread gaps"),
            ("SELECT conversation_id FROM ratings WHERE conversation_id NOT IN "
             "(SELECT id FROM conversations WHERE status = 'closed')", "a rating of an open chat"),
            ("SELECT id FROM messages WHERE length(body) = 0", "an empty message"),
        ]:
            rows = conn.execute(query).fetchall()
            if rows:
                problems.append(f"{what}: {[r[0] for r in rows[:5]]}")
    finally:
        conn.close()
    return problems


async def memory_problems(services: Any) -> list[str]:
    """The router's memory against the database: the same open chats, queue and seats."""
    rows = await services.db.fetch("SELECT id, status, agent_id FROM conversations WHERE status != 'closed'")
    stored = {r["id"]: (r["status"], r["agent_id"]) for r in rows}
    dispatcher = services.dispatcher
    held = {c.id: (c.status, c.agent_id) for c in dispatcher.conversations.values()}
    problems = []
    if held != stored:
        problems.append(f"router memory {held} != database {stored}")
    for agent in dispatcher.agents.values():
        seats = {cid for cid, (status, agent_id) in stored.items() if status == "active" and agent_id == agent.id}
        if agent.chats != seats:
            problems.append(f"{agent.name} holds {agent.chats} in memory, {seats} in the database")
    return problems


def log_problems(stderr: str) -> list[str]:
    """What a server process's JSON log shows going wrong: errors, tracebacks, lines that are not JSON.

    Hostile input is the client's fault: it may be logged as a warning, never as a crash."""
    bad: Counter[str] = Counter()
    for line in stderr.split("\n"):  # not splitlines(): U+2028 and friends may stand inside a JSON string
        if not line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            bad["lines that are not JSON (a library printing on its own)"] += 1
            continue
        if record.get("level") in ("error", "critical") or "exc" in record:
            cause = (record.get("exc") or "").strip().splitlines()[-1:] or [""]
            bad[f"{record.get('logger')}: {record.get('msg')} {cause[0]}"[:300]] += 1
    return [f"{n} x {what}" for what, n in bad.most_common(20)]
