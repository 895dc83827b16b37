"""Where a form POST came from: refuse forms that another site makes a visitor's browser send.

Browsers say where a request comes from in `Sec-Fetch-Site`, `Origin` and `Referer`. A page with
`Referrer-Policy: no-referrer` (the tracking page) makes the browser send `Origin: null` on its own
forms, so `null` is trusted only when `Sec-Fetch-Site` vouches that the form is ours. A request that
says nothing at all (curl, an integration) is not a browser riding on someone's visit: its form
fields alone must be right.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from chatserver.transport.forwarding import own_origins


def _origin_of(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1", say: no origin, so never ours
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_own_page(request: web.Request) -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin.lower() in own_origins(request)
    referer = request.headers.get("Referer")
    if referer:
        return _origin_of(referer) in own_origins(request)
    if origin == "null":
        return site == "same-origin"
    return True
