"""The limiters' memory is bounded, and filling it with fresh keys does not reset anyone's bucket that is
still in use: the key under attack is touched on every attempt, so it is the last to be dropped."""

from __future__ import annotations

from chatserver.transport.ratelimit import KeyedLimiter, LimitBook, Rate, per_minute


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_of_fresh_keys_does_not_reset_the_bucket_of_an_attacked_email() -> None:
    clock = Clock()
    logins = KeyedLimiter(per_minute(10), clock=clock, max_keys=1_000)
    victim = "email:owner@example.test"
    assert all(logins.allow(victim) for _ in range(10))
    assert not logins.allow(victim)

    # a botnet spreads 50,000 guesses over fresh keys, and keeps trying the victim's account between them
    for n in range(50_000):
        logins.allow(f"email:guess-{n}@example.test")
        if n % 100 == 0:
            assert not logins.allow(victim), f"the victim's bucket was reset after {n} fresh keys"
        assert len(logins) <= 1_000

    clock.now += 60  # a minute later the owner signs in as usual
    assert logins.allow(victim)


def test_an_address_that_went_quiet_long_ago_makes_room_for_new_ones() -> None:
    clock = Clock()
    connects = KeyedLimiter(Rate(1.0, 2), clock=clock, max_keys=100)
    assert connects.allow("10.0.0.1") and connects.allow("10.0.0.1")
    assert not connects.allow("10.0.0.1")
    clock.now += 3600
    for n in range(500):
        assert connects.allow(f"10.1.{n // 256}.{n % 256}"), "a new address is refused once memory is full"
    assert len(connects) <= 100


def test_a_flood_of_new_customers_does_not_refill_the_event_buckets_of_a_busy_one() -> None:
    clock = Clock()
    book = LimitBook({"message:send": Rate(1.0, 5)}, clock=clock, max_keys=500)
    spammer = book.limits_for("customer:spammer")
    assert all(spammer.allow("message:send") for _ in range(5))

    for n in range(5_000):
        book.limits_for(f"customer:{n}").allow("message:send")
        if n % 50 == 0:
            assert not book.limits_for("customer:spammer").allow("message:send")
        assert len(book) <= 500
