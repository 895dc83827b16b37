"""What every response of ours must carry, whatever its status: the checks behind "security headers on
every page", shared by the page sweep and the page fuzzer."""

from __future__ import annotations

from typing import Mapping


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def header_problems(path: str, headers: Mapping[str, str]) -> list[str]:
    """What is missing or weak in one response's security headers (empty when all is well).

    The widget frame is the one page other sites may frame (the configured ones); the tracking page,
    whose address carries its key, sends no referrer at all."""
    problems = []
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"nosniff: {headers.get('X-Content-Type-Options')!r}")
    referrer = headers.get("Referrer-Policy")
    if referrer != ("no-referrer" if path.startswith("/track/") else "same-origin"):
        problems.append(f"Referrer-Policy: {referrer!r}")
    csp = directives(headers.get("Content-Security-Policy", ""))
    script_src = csp.get("script-src", csp.get("default-src"))
    if not script_src or "'unsafe-inline'" in script_src or "'unsafe-eval'" in script_src:
        problems.append(f"script-src: {script_src!r}")
    if csp.get("object-src") != ["'none'"] or csp.get("base-uri") != ["'self'"]:
        problems.append(f"object-src/base-uri: {csp.get('object-src')!r} {csp.get('base-uri')!r}")
    ancestors = csp.get("frame-ancestors") or []
    if path.startswith("/widget/frame"):
        if "'self'" not in ancestors or "*" in ancestors:
            problems.append(f"frame-ancestors: {ancestors!r}")
    elif ancestors != ["'none'"] or headers.get("X-Frame-Options") != "DENY":
        problems.append(f"framing: {ancestors!r} {headers.get('X-Frame-Options')!r}")
    return [f"{path}: {problem}" for problem in problems]
