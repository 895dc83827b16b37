"""Demo cast for `chatserver demo`: an admin, a supervisor and agents with capacities."""

from __future__ import annotations

from chatserver.domain.errors import Conflict
from chatserver.services.container import Services

DEMO_USERS = [
    # role, e-mail, name, password, max chats, languages
    ("admin", "admin@demo.test", "Ada Admin", "demo-admin-2026", 2, ["en"]),
    ("supervisor", "sam@demo.test", "Sam Supervisor", "demo-sam-2026", 2, ["en", "pl"]),
    ("agent", "bob@demo.test", "Bob Agent", "demo-bob-2026", 3, ["en", "ru"]),
    ("agent", "carol@demo.test", "Carol Agent", "demo-carol-2026", 3, ["en", "pl"]),
    ("agent", "dmitri@demo.test", "Dmitri Agent", "demo-dmitri-2026", 4, ["ru", "en"]),
]


async def seed_demo(services: Services) -> list[tuple[str, str, str]]:
    logins = []
    for role, email, name, password, max_chats, languages in DEMO_USERS:
        try:
            await services.auth.create_user(
                email=email, name=name, role=role, password=password, max_chats=max_chats, languages=languages
            )
        except Conflict:
            pass  # already seeded on an earlier run
        logins.append((role, email, password))
    return logins
