"""A browser that opens an address we do not have (404), or asks it the wrong way (405), is shown a
small page in the product's look instead of aiohttp's bare "404: Not Found".

Only for people: a request whose Accept names text/html, outside /api/ (which answers its own errors
as JSON) and /socket.io/. Everyone else (API clients, scripts, curl) keeps the plain answer. A refusal a
handler made itself as a page (HTML) is left alone; the security middleware adds its headers either way.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web

from chatserver import keys
from chatserver.transport.http.security import NO_STORE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# how aiohttp and our handlers word a refusal: plain text, or a bare status with no body
_PLAIN = ("text/plain", "application/octet-stream")

# paths whose answers belong to someone else's contract: kept exactly as they are
_NOT_PAGES = ("/api/", "/socket.io/")

_PAGES = {
    404: ("Page not found", "There is nothing at this address. It may have moved, or the link may be mistyped."),
    405: ("This page cannot do that", "This address does not take that kind of request. Go back and try again from the page."),
}


def wants_html(accept: str) -> bool:
    """True when the client names text/html (or XHTML) among what it accepts, with a quality above 0."""
    for item in accept.split(","):
        media, *params = (part.strip().lower() for part in item.split(";"))
        if media not in ("text/html", "application/xhtml+xml"):
            continue
        quality = next((p.partition("=")[2].strip() for p in params if p.partition("=")[0].strip() == "q"), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            return True  # a quality we cannot read does not turn a browser into a script
    return False


def _is_page_request(request: web.Request) -> bool:
    path = request.path
    if path.startswith(_NOT_PAGES) or path + "/" in _NOT_PAGES:
        return False
    return wants_html(request.headers.get("Accept", ""))


def error_page(request: web.Request, refusal: web.HTTPException) -> web.Response:
    title, sentence = _PAGES[refusal.status]
    default_text = f"{refusal.status}: {refusal.reason}"
    if refusal.text and refusal.text.strip() != default_text:
        sentence = refusal.text.strip()  # what the handler said (e.g. "No such user."), as text
    html = request.config_dict[keys.TEMPLATES].get_template("error.html").render(title=title, message=sentence)
    headers = dict(NO_STORE)
    if "Allow" in refusal.headers:
        headers["Allow"] = refusal.headers["Allow"]
    return web.Response(text=html, content_type="text/html", status=refusal.status, headers=headers)


@web.middleware
async def browser_error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as refusal:
        if refusal.status in _PAGES and refusal.content_type in _PLAIN and _is_page_request(request):
            return error_page(request, refusal)
        raise
