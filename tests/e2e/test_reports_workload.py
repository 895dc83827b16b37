"""Reports show each agent's workload: the chats they handled and the complaints they hold in the period.

domain.md asks reports for management to cover agent workload beside volumes, SLA, times, escalation and
satisfaction. The seeded week (tests/report_rows.seed_week, 2026-11-01 to 2026-11-07):
  chats: bob 11-01 09:00 (answered, resolved), 11-02 14:00 (answered, resolved); carol 11-01 09:30 (answered,
  became a complaint), 11-07 23:00 (answered, resolved); one abandoned with nobody; bob's 10-31 chat is outside.
  complaints: bob C1 (closed) and C4 (in progress); carol C3 (resolved) and C7 (closed); sam C2 (closed);
  C5 and C6 are held by nobody.
"""

from __future__ import annotations

from tests.e2e.test_reports_api import WEEK, api  # noqa: F401  (the fixture)


def row(name: str, chats: int, answered: int, resolved: int, complaints: int, complaints_resolved: int) -> tuple:
    return (name, chats, answered, resolved, complaints, complaints_resolved)


def rows(report: dict) -> list[tuple]:
    return [
        row(w["name"], w["chats"], w["chats_answered"], w["chats_resolved"], w["complaints"], w["complaints_resolved"])
        for w in report["workload"]
    ]


async def test_the_summary_shows_each_agents_chats_and_complaints_most_work_first(api):
    status, report = await api.get(f"/api/reports/summary?{WEEK}", "sam")  # validated against the document
    assert status == 200
    assert rows(report) == [row("Bob", 2, 2, 2, 2, 1), row("Carol", 2, 2, 1, 2, 2), row("Sam", 0, 0, 0, 1, 1)]
    assert {w["name"]: w["id"] for w in report["workload"]} == {"Bob": api.ids["bob"], "Carol": api.ids["carol"], "Sam": api.ids["sam"]}


async def test_workload_follows_the_reports_filters(api):
    status, report = await api.get(f"/api/reports/summary?{WEEK}&agent={api.ids['carol']}", "sam")
    assert status == 200
    assert rows(report) == [row("Carol", 2, 2, 1, 2, 2)]
    status, report = await api.get(f"/api/reports/summary?{WEEK}&category=withdrawals", "sam")
    assert status == 200
    # withdrawals: bob's 11-01 chat and C1, sam's C2; level and channel filter complaints only
    assert rows(report) == [row("Bob", 1, 1, 1, 1, 1), row("Sam", 0, 0, 0, 1, 1)]
    status, report = await api.get(f"/api/reports/summary?{WEEK}&level=2", "sam")
    assert status == 200
    assert rows(report) == [row("Bob", 2, 2, 2, 0, 0), row("Carol", 2, 2, 1, 0, 0), row("Sam", 0, 0, 0, 1, 1)]


async def test_an_empty_period_has_no_workload(api):
    status, report = await api.get("/api/reports/summary?from=2025-01-01&to=2025-01-07", "sam")
    assert status == 200
    assert report["workload"] == []
