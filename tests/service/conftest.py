"""Shared by the service tests, each of which builds its own `services` on a real SQLite file."""

from __future__ import annotations

import pytest

from chatserver.services import events as ev
from chatserver.services.container import Services


@pytest.fixture
def published(services: Services) -> list[ev.Event]:
    """Every event the services publish, in order."""
    seen: list[ev.Event] = []

    async def keep(event: ev.Event) -> None:
        seen.append(event)

    services.bus.subscribe(keep)
    return seen
