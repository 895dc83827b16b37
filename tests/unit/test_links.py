"""Web addresses in people's text: the server's finder cuts every case as the browsers' does, and the
tracking page's filter adds no markup but the links it makes."""

from __future__ import annotations

import re
import sys
import unicodedata
from html.parser import HTMLParser

import pytest

from chatserver.domain import links
from chatserver.domain.links import INVISIBLE, Piece, find_links
from chatserver.templating import linkify
from tests.browser.hostile import LINKS, PAYLOADS
from tests.links_cases import CASES

LINK_ATTRIBUTES = {"target": "_blank", "rel": "noopener noreferrer nofollow", "dir": "ltr", "class": "text-link"}


@pytest.mark.parametrize("text, pieces", CASES, ids=[text[:40] for text, _ in CASES])
def test_the_server_cuts_text_into_links_as_the_cases_say(text, pieces):
    found = find_links(text)
    assert [(p.text, p.href is not None) for p in found] == pieces
    for piece in found:
        if piece.href:
            assert piece.href == (f"https://{piece.text}" if piece.text.lower().startswith("www.") else piece.text)


class Markup(HTMLParser):
    """The elements, their attributes, and the text as a reader sees it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("text", [*LINKS.values(), *PAYLOADS.values(), *(text for text, _ in CASES)])
def test_the_tracking_pages_filter_adds_only_its_own_links_and_keeps_every_character(text):
    parser = Markup()
    parser.feed(str(linkify(text)))
    parser.close()
    assert "".join(parser.text) == text
    links = [piece for piece in find_links(text) if piece.href]
    assert [tag for tag, _ in parser.tags] == ["a"] * len(links)
    for (_, attrs), piece in zip(parser.tags, links):
        assert attrs == {"href": piece.href, **LINK_ATTRIBUTES}
        assert str(attrs["href"]).lower().startswith(("http://", "https://"))


def test_the_invisible_marks_are_every_control_and_formatting_character():
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    marks = {char for char in everything if unicodedata.category(char) in ("Cc", "Cf")}
    assert set(re.findall(f"[{INVISIBLE}]", everything)) == marks


def test_an_invisible_mark_ends_the_search_for_an_address_so_no_text_is_read_twice():
    # each candidate runs to the first mark: the matches never overlap, however many "www." there are
    text = "www.\u200b" * 5000 + "www.x\u200b" * 5000 + "https://x.test/a\u202eb " * 5000
    candidates = list(links._CANDIDATE.finditer(text))
    assert len(candidates) == 10_000 and not any(re.search(f"[{INVISIBLE}]", match.group()) for match in candidates)
    found = find_links(text)
    assert "".join(piece.text for piece in found) == text
    assert [piece.text for piece in found if piece.href] == ["www.x"] * links.ADDRESSES_MAX


class _Scanned(str):
    """A string that counts how often it, or a part cut from it, is searched through."""

    scans = 0

    def count(self, *args):  # type: ignore[override]
        _Scanned.scans += 1
        return super().count(*args)

    def __getitem__(self, key):  # type: ignore[override]
        return _Scanned(super().__getitem__(key))


@pytest.mark.parametrize("tail", [")" * 5000, "]" * 5000, "}" * 5000, ")." * 2500, ".!?" * 1500])
def test_trimming_an_address_counts_its_brackets_once_however_many_are_trimmed(tail):
    _Scanned.scans = 0
    assert links._trim(_Scanned("https://x.test/a" + tail)) == "https://x.test/a"
    assert _Scanned.scans <= len(links._BRACKETS)
    assert find_links("(https://x.test/a" + tail) == [Piece("("), Piece("https://x.test/a", "https://x.test/a"), Piece(tail)]


def test_a_text_full_of_addresses_has_only_its_first_ones_looked_at(monkeypatch):
    # a 4,000-character message holds ~700 addresses; every page showing it would check them all
    looked = []
    check = links._target
    monkeypatch.setattr(links, "_target", lambda written: looked.append(written) or check(written))
    text = "www.a " * 700 + "https://@ " * 700
    found = find_links(text)
    assert "".join(piece.text for piece in found) == text
    assert [piece.href for piece in found if piece.href] == ["https://www.a"] * links.ADDRESSES_MAX
    assert len(looked) == links.ADDRESSES_MAX
    looked.clear()
    assert find_links("https://@ " * 700 + "https://x.test") == [Piece("https://@ " * 700 + "https://x.test")]
    assert len(looked) == links.ADDRESSES_MAX
