"""The embeddable widget: the loader (/widget.js), the iframe page, its assets and public configuration.

The widget's files live in the top-level `widget/` folder and are served as they are (no build step).
Everything here is public and read-only; the customer's token never leaves the iframe's own storage.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiohttp import web

from chatserver import keys
from chatserver.config import ORIGIN  # plain origins only: no spaces, quotes or semicolons reach a CSP header
from chatserver.domain.models import LOCALES
from chatserver.services.admin.runtime import DEFAULT_BRAND_COLOR
from chatserver.store import complaints as complaint_store
from chatserver.transport.http.security import CSP

WIDGET_DIR = Path(__file__).resolve().parents[3] / "widget"
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml"}
COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
DEFAULT_COLOR = DEFAULT_BRAND_COLOR  # also the loader's fallback literal
# launcher labels the loader needs before its iframe has loaded
LOADER_LABELS = {"open": "launcher.open", "close": "launcher.close", "unread": "launcher.unread", "title": "app.title"}
LABELS_SLOT = re.compile(r"/\*LABELS\*/.*?/\*END\*/", re.S)


def frame_csp(allowed_origins: tuple[str, ...]) -> str:
    """The page CSP, except that the operator's sites (and this server) may frame the chat."""
    origins = [o.rstrip("/") for o in allowed_origins if ORIGIN.match(o.rstrip("/"))]
    return CSP.replace("frame-ancestors 'none'", "frame-ancestors " + " ".join(["'self'", *origins]))


def pick_locale(wanted: str | None, accept_language: str = "") -> str:
    candidates = [wanted or ""] + [part.split(";")[0].strip() for part in accept_language.split(",")]
    for tag in candidates:
        base = tag.lower().split("-")[0]
        if base in LOCALES:
            return base
    return "en"


@lru_cache(maxsize=32)
def _read_json(path: Path, mtime: float) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def catalog(locale: str) -> dict[str, Any]:
    path = WIDGET_DIR / "i18n" / f"{locale}.json"
    return _read_json(path, path.stat().st_mtime)


@lru_cache(maxsize=4)
def _loader_source(mtimes: tuple[float, ...]) -> str:
    labels = {locale: {k: catalog(locale).get(key, "") for k, key in LOADER_LABELS.items()} for locale in LOCALES}
    source = (WIDGET_DIR / "loader.js").read_text(encoding="utf-8")
    return LABELS_SLOT.sub(lambda _: json.dumps(labels, ensure_ascii=False), source, count=1)


def asset_url(path: str) -> str:
    target = WIDGET_DIR / path
    version = int(target.stat().st_mtime) if target.exists() else 0
    return f"/widget/assets/{path}?v={version}"


async def loader(request: web.Request) -> web.Response:
    files = [WIDGET_DIR / "loader.js", *(WIDGET_DIR / "i18n" / f"{locale}.json" for locale in LOCALES)]
    source = _loader_source(tuple(f.stat().st_mtime for f in files))
    brand = request.app[keys.SERVICES].runtime.widget.brand_color
    if brand != DEFAULT_COLOR:
        # the admin's brand colour replaces the loader's fallback; a tag's data-color still wins
        source = source.replace(f"'{DEFAULT_COLOR}'", f"'{brand}'", 1)
    response = web.Response(
        text=source, content_type="text/javascript", charset="utf-8",
        # short: operators never change the tag, so upgrades must reach their pages soon
        headers={"Cache-Control": "public, max-age=300"},
    )
    response.enable_compression()  # ~4 KB on the wire
    return response


async def _config(request: web.Request, locale: str) -> dict[str, Any]:
    services = request.app[keys.SERVICES]
    categories = [
        {"slug": row["slug"], "name": row[f"name_{locale}"]} for row in await complaint_store.categories(services.db)
    ]
    online = any(a.status == "online" and a.sockets > 0 for a in services.dispatcher.agents.values())
    return {"locale": locale, "categories": categories, "faq": await services.knowledge.faq(locale), "online": online}


async def config(request: web.Request) -> web.Response:
    locale = pick_locale(request.query.get("locale"), request.headers.get("Accept-Language", ""))
    return web.json_response(await _config(request, locale), headers={"Cache-Control": "no-cache"})


async def faq(request: web.Request) -> web.Response:
    locale = pick_locale(request.query.get("locale"), request.headers.get("Accept-Language", ""))
    articles = await request.app[keys.SERVICES].knowledge.faq(locale, request.query.get("q", "")[:200])
    return web.json_response({"articles": articles})


async def frame(request: web.Request) -> web.Response:
    locale = pick_locale(request.query.get("locale"), request.headers.get("Accept-Language", ""))
    color = request.query.get("color", "")
    host = request.query.get("host", "")
    # admin's widget settings (database) over the configured ones: read per request, no restart
    runtime = request.app[keys.SERVICES].runtime.widget
    texts = site_catalog(request, locale)
    boot = {
        "locale": locale,
        # the built-in colour is what a loader cached before a brand change sends: the admin's wins
        "color": color if COLOR.match(color) and color.lower() != DEFAULT_COLOR else runtime.brand_color,
        "host": host if ORIGIN.match(host) else None,
        "catalog": texts,
        "config": await _config(request, locale),
    }
    html = request.app[keys.TEMPLATES].get_template("widget_frame.html").render(boot=boot, locale=locale, asset=asset_url)
    return web.Response(
        text=html, content_type="text/html",
        headers={"Content-Security-Policy": frame_csp(runtime.allowed_origins), "Cache-Control": "no-cache"},
    )


def site_catalog(request: web.Request, locale: str) -> dict[str, Any]:
    """The widget's catalog with the greeting an admin wrote for this language, if any."""
    greeting = request.app[keys.SERVICES].runtime.widget.greeting.get(locale)
    texts = catalog(locale)
    return dict(texts, **{"home.greeting": greeting}) if greeting else texts


async def asset(request: web.Request) -> web.StreamResponse:
    relative = request.match_info["path"]
    try:
        target = (WIDGET_DIR / relative).resolve()
        found = WIDGET_DIR.resolve() in target.parents and target.suffix in ASSET_TYPES and target.is_file()
    except (ValueError, OSError):  # a NUL byte, a name too long: no such file either
        found = False
    if not found:
        raise web.HTTPNotFound()
    greetings = request.app[keys.SERVICES].runtime.widget.greeting
    if target.parent == (WIDGET_DIR / "i18n").resolve() and target.stem in greetings:
        # a language switched inside the widget loads its catalog here: the same greeting as the frame's
        return web.json_response(site_catalog(request, target.stem), headers={"Cache-Control": "no-cache"})
    return web.FileResponse(
        target, headers={"Content-Type": ASSET_TYPES[target.suffix] + "; charset=utf-8", "Cache-Control": "no-cache"}
    )


def setup_widget_routes(app: web.Application) -> None:
    app.router.add_get("/widget.js", loader)
    app.router.add_get("/widget/frame", frame)
    app.router.add_get("/widget/config", config)
    app.router.add_get("/widget/faq", faq)
    app.router.add_get("/widget/assets/{path:.+}", asset)
