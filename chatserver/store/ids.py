"""Opaque random ids: nothing sequential that lets anyone count or walk the data."""

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(16)}"
