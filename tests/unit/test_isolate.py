"""Names placed in sentences the server writes cannot turn those sentences around."""

from chatserver.domain.text import isolate


def test_a_name_that_could_turn_the_sentence_around_is_isolated() -> None:
    for name in ("Refund\u202e for Sam", "\u05d3\u05e0\u05d4", "\u0645\u0631\u064a\u0645", "Bob\u2066", "Sam\u202b"):
        assert isolate(name) == f"\u2068{name}\u2069", name


def test_a_left_to_right_name_is_left_as_it_is() -> None:
    for name in ("Dana Novak", "Анна Смирнова", "Łukasz Żółć", "O'Brien 2nd", ""):
        assert isolate(name) == name
