"""Wait estimates from seats and handle times, as tables."""

from datetime import datetime, timedelta, timezone

import pytest

from chatserver.domain.models import BusySeat, SeatPool
from chatserver.domain.routing import HandleTimes, estimate_waits, expected_remaining, seat_free_times

NOW = datetime(2026, 11, 23, 21, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "free_in, handle_times, expected",
    [
        # no online seats: no honest number
        ([], [300, 300], [None, None]),
        # a free seat: the first waits nothing, the next waits for that chat to end
        ([0], [300, 300], [0, 300]),
        # two seats freeing at 60 and 120: third in line gets the first seat again
        ([60, 120], [300, 300, 300], [60, 120, 360]),
        # the estimate grows with the queue in proportion to seats, not to recent chats
        ([100] * 4, [400] * 8, [100, 100, 100, 100, 500, 500, 500, 500]),
    ],
)
def test_estimate_waits(free_in, handle_times, expected):
    assert estimate_waits(free_in, handle_times) == expected


@pytest.mark.parametrize(
    "elapsed, handle, expected",
    [(0, 300, 300), (100, 300, 200), (300, 300, 60), (900, 300, 60)],
)
def test_expected_remaining_keeps_a_floor(elapsed, handle, expected):
    assert expected_remaining(elapsed, handle) == expected


@pytest.mark.parametrize(
    "busy, samples, expected",
    [
        # one busy seat, recent chats took 100..500 s, it has run 0 s: the median ending
        ([0], [100, 200, 300, 400, 500], [300]),
        # it has already run 250 s: only the longer chats are still possible
        ([250], [100, 200, 300, 400, 500], [150]),
        # it has outlived every recent chat: a fifth of the mean
        ([900], [100, 200, 300, 400, 500], [60]),
        # two seats: the first ending comes sooner than either seat's own median
        ([0, 0], [100, 200, 300, 400, 500], [200, 400]),
    ],
)
def test_seat_free_times_are_medians_of_the_kth_ending(busy, samples, expected):
    pool = SeatPool(free=0, busy=tuple(BusySeat(None, NOW - timedelta(seconds=e)) for e in busy))
    assert seat_free_times(pool, NOW, lambda topic: samples) == expected


def test_free_seats_come_first():
    pool = SeatPool(free=2, busy=(BusySeat("withdrawals", NOW),))
    assert seat_free_times(pool, NOW, lambda topic: [60.0]) == [0.0, 0.0, 60.0]


def test_handle_times_rolling_mean_per_topic_with_fallback():
    times = HandleTimes(default_seconds=240, window=5)
    assert times.mean("bonuses") == 240
    for seconds in (100, 200, 300):
        times.record("bonuses", seconds)
    assert times.mean("bonuses") == 200  # too few for the topic: the overall mean
    for seconds in (600, 600, 600, 600, 600):
        times.record("withdrawals", seconds)
    assert times.mean("withdrawals") == 600
    assert times.mean("rules") == 600  # the window keeps only the last five overall
