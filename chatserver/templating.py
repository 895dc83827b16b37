"""The pages' Jinja2 environment, built once per process with every template compiled up front.

Compiling a template runs on the event loop of whoever renders it first: tens of milliseconds for the
reports page on a slow core, paid for by everyone waiting on the loop at that moment. Compiling all
of them takes a few hundred milliseconds, so it happens once per process, not once per application."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from chatserver.domain.dates import day, when
from chatserver.domain.links import find_links
from chatserver.domain.text import isolate

PACKAGE_DIR = Path(__file__).parent
STATIC_ROOT = PACKAGE_DIR / "static"


def compile_templates(env: jinja2.Environment, skip: tuple[str, ...] = ()) -> jinja2.Environment:
    """Every template of `env` compiled into its cache, except names starting with one of `skip`."""
    for name in env.list_templates():
        if not name.startswith(skip):
            env.get_template(name)
    return env


def static(path: str) -> str:
    """The address of a static file; a version query keeps caches honest after an upgrade."""
    target = STATIC_ROOT / path
    version = int(target.stat().st_mtime) if target.exists() else 0
    return f"/static/{path}?v={version}"


def linkify(text: str) -> Markup:
    """Someone's text, escaped, with its web addresses as links: the only markup added is the <a> made here."""
    return Markup("").join(
        Markup('<a href="{}" target="_blank" rel="noopener noreferrer nofollow" dir="ltr" class="text-link">{}</a>').format(href, part)
        if href else escape(part)
        for part, href in find_links(str(text))
    )


@functools.cache
def page_templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["static"] = static
    env.filters["linkify"] = linkify
    env.filters["isolate"] = isolate  # for names where <bdi> cannot go, as in <option>
    # staff pages write dates as the tracking page does: 6 Dec 2026, 20:54 UTC
    env.filters["day"] = lambda stamp: day(stamp, "en")
    env.filters["when"] = lambda stamp: when(stamp, "en")
    return compile_templates(env, skip=("mail/",))  # the notices have their own environment
