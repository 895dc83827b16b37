"""Web addresses in people's text: the server's finder cuts every case as the browsers' does, and the
tracking page's filter adds no markup but the links it makes."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from chatserver.domain.links import find_links
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
