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

from chatserver import keys


def own_origins(request: web.Request) -> set[str]:
    """This server's origin as the browser sees it: directly, behind a proxy, or at its public URL."""
    origins = {f"{request.scheme}://{request.host}"}
    forwarded_host = request.headers.get("X-Forwarded-Host")
    if forwarded_host:
        origins.add(f"{request.headers.get('X-Forwarded-Proto', request.scheme)}://{forwarded_host}")
    public_url = request.app[keys.SETTINGS].public_url
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return {origin.lower() for origin in origins}


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
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
