"""How often the monitor goes to the database: its figures are recomputed at most every
FLOOR_MIN_INTERVAL seconds when something changed, at least every FLOOR_MAX_AGE, and pushed only
when they differ. A fake monotonic clock; the database work is replaced by a counter."""

from datetime import datetime, timedelta, timezone

import pytest

from chatserver.services import events as ev
from chatserver.services.events import Event
from chatserver.services.monitor import FLOOR_MAX_AGE, FLOOR_MIN_INTERVAL, MonitorService

NOW = datetime(2026, 3, 11, 12, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def monitor():
    ticks = Clock()
    service = MonitorService(None, None, lambda: NOW, warn_before=timedelta(hours=2), queue_timeout=600, monotonic=ticks)  # type: ignore[arg-type]
    service.computed = 0
    service.figures = {"today": {"chats_started": 0}}

    async def compute(now):
        service.computed += 1
        return {"computed_at": service.computed, **service.figures}

    service._compute_floor = compute  # type: ignore[method-assign]
    return service, ticks


def message(conversation_id="cv_1", sender="agent", internal=False, author_id="u_bob"):
    return Event(ev.MESSAGE_POSTED, {"message": {
        "conversation_id": conversation_id, "sender": sender, "internal": internal, "author_id": author_id,
        "created_at": "2026-03-11T11:59:00.000Z",
    }})


async def test_first_figures_are_computed_at_once_then_throttled(monitor):
    service, ticks = monitor
    assert service.floor_due()
    assert (await service.floor())["computed_at"] == 1
    assert not service.floor_due() and await service.refresh_floor() is None
    await service.on_event(Event(ev.COMPLAINT_CREATED, {}))
    ticks.t += FLOOR_MIN_INTERVAL - 0.1
    assert not service.floor_due()  # changed, but too soon
    ticks.t += 0.1
    assert service.floor_due()
    service.figures = {"today": {"chats_started": 1}}
    fresh = await service.refresh_floor()
    assert fresh is not None and fresh["today"]["chats_started"] == 1 and service.computed == 2


async def test_unchanged_figures_are_recomputed_when_old_but_not_pushed(monitor):
    service, ticks = monitor
    await service.floor()
    ticks.t += FLOOR_MAX_AGE - 1
    assert not service.floor_due()  # nothing happened
    ticks.t += 1
    assert service.floor_due()
    assert await service.refresh_floor() is None  # same figures: nothing to send
    assert service.computed == 2


@pytest.mark.parametrize(
    "event, dirty",
    [
        (message(), True),  # the first answer in a chat moves today's counters
        (message(internal=True), False),
        (message(sender="customer", author_id="cu_1"), False),
        (Event(ev.QUEUE_POSITIONS, {"updates": []}), True),
        (Event(ev.COMPLAINT_SLA, {}), True),
        (Event(ev.TYPING, {}), False),
        (Event(ev.AGENT_CHANGED, {"agent": {}}), False),
    ],
)
async def test_which_events_make_the_figures_stale(monitor, event, dirty):
    service, ticks = monitor
    await service.floor()
    await service.on_event(event)
    ticks.t += FLOOR_MIN_INTERVAL
    assert service.floor_due() is dirty


async def test_only_the_first_answer_in_a_chat_counts_and_messages_end_idle_time(monitor):
    service, ticks = monitor
    await service.floor()
    await service.on_event(message())
    ticks.t += FLOOR_MIN_INTERVAL
    await service.refresh_floor()
    await service.on_event(message())  # a second answer in the same chat changes no counter
    ticks.t += FLOOR_MIN_INTERVAL
    assert not service.floor_due()
    assert service._last_message["u_bob"] == datetime(2026, 3, 11, 11, 59, tzinfo=timezone.utc)
    await service.on_event(Event(ev.CONVERSATION_CLOSED, {"conversation": {"id": "cv_1"}}))
    assert "cv_1" not in service._answered  # forgotten with the chat: memory stays bounded
