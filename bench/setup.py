"""Seed a fresh benchmark database through the project's own services and store, before the
server starts, against the same file.

- `seed_agents`: M agents with API tokens. Agents authenticate on /agent with
  `auth={"token": ...}`, so no login form (and no login rate limit) is involved.
- `seed_chats` ("warm" start): N customers with tokens and N active conversations already
  assigned round-robin to those agents, as if the server restarted in the middle of a busy shift.
  The server rebuilds its live state from them at start-up, and the load generator reconnects
  every customer with its token. This skips chat:start routing, whose cost grows with the number
  of agents (see docs/benchmarks.md), so that a 5,000 + 500 run measures messaging.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher

from chatserver.config import Settings
from chatserver.domain.models import iso
from chatserver.services import auth as auth_module
from chatserver.services.auth import mint_token, token_digest
from chatserver.services.container import build_services, close_services
from chatserver.store import conversations, customers, users

MAX_CHATS_LIMIT = 50  # what AuthService.create_user accepts


def seats_per_agent(customers: int, agents: int) -> int:
    """Enough seats that every customer is assigned at once, with one spare per agent."""
    if agents <= 0:
        return 0
    need = -(-customers // agents) + 1
    if need > MAX_CHATS_LIMIT:
        raise SystemExit(f"{customers} customers need {need} chats per agent; at most {MAX_CHATS_LIMIT} are allowed, add agents")
    return need


async def seed(settings: Settings, agents: int, max_chats: int, warm_customers: int = 0) -> tuple[list[str], list[str]]:
    """Create `agents` agents (one API token each) and, when `warm_customers` > 0, that many
    customers already chatting with them. Returns (agent tokens, customer tokens)."""
    # Nobody logs in with these passwords: hash them cheaply so that seeding 500 agents takes
    # a second instead of a minute of argon2 at the production cost (this process only).
    auth_module._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    services = await build_services(settings, settings.secret_key or secrets.token_hex(32))
    agent_tokens: list[str] = []
    agent_ids: list[str] = []
    customer_tokens: list[str] = []
    try:
        for i in range(agents):
            row = await services.auth.create_user(
                email=f"bench-agent-{i:04d}@bench.test", name=f"Agent {i:04d}", role="agent",
                password=secrets.token_urlsafe(12), max_chats=max_chats,
            )
            agent_ids.append(row["id"])
            agent_tokens.append(await services.auth.issue_api_token(row["id"], "bench"))
        if warm_customers and agent_ids:
            now = services.clock()
            stamp = iso(now)
            deadline = iso(now + timedelta(days=1))
            async with services.db.transaction() as tx:
                for agent_id in agent_ids:
                    await users.set_status(tx, agent_id, "online", stamp)  # type: ignore[arg-type]
                for i in range(warm_customers):
                    token = mint_token()
                    customer = await customers.create(tx, token_hash=token_digest(token), locale="en", now=stamp)  # type: ignore[arg-type]
                    row = await conversations.create_queued(
                        tx, customer_id=customer["id"], topic=None, locale="en", now=stamp, deadline=deadline  # type: ignore[arg-type]
                    )
                    assert row is not None
                    agent_id = agent_ids[i % len(agent_ids)]
                    if not await conversations.assign(tx, conversation_id=row["id"], agent_id=agent_id, max_chats=max_chats, now=stamp):  # type: ignore[arg-type]
                        raise RuntimeError(f"could not assign {row['id']} to {agent_id}")
                    await users.mark_assigned(tx, agent_id, stamp)  # type: ignore[arg-type]
                    customer_tokens.append(token)
    finally:
        await close_services(services)
    return agent_tokens, customer_tokens
