"""API tokens for integrations: issued to a console user (acting with that user's role), shown once.

Only a SHA-256 of the token is stored, so a lost token cannot be shown again: revoke it and issue
another.
"""

from __future__ import annotations

from chatserver.domain.errors import Conflict, NotFound
from chatserver.services import events as ev
from chatserver.services.auth import ensure_admin
from chatserver.services.admin.validate import FieldErrors, TokenValues
from chatserver.services.auth import mint_token, token_digest
from chatserver.services.clock import Clock, now_iso
from chatserver.store import audit, users
from chatserver.store.db import Database, Row

TOKEN_PREFIX = "cs_"


class TokenAdmin:
    def __init__(self, db: Database, bus: ev.EventBus, clock: Clock) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock

    async def list(self) -> list[Row]:
        return await users.api_tokens(self.db)

    async def owners(self) -> list[Row]:
        """Who a new token may act as: active console users."""
        return await users.list_active(self.db)

    async def issue(self, actor: str, values: TokenValues) -> tuple[str, str]:
        """(token id, the token itself: the only time anyone sees it)."""
        token = TOKEN_PREFIX + mint_token()
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor)
            owner = await users.get(tx, values.user_id)
            if owner is None or not owner["active"]:
                raise FieldErrors({"user_id": "Choose the active user the integration acts as."})
            token_id = await users.create_api_token(
                tx, user_id=values.user_id, token_hash=token_digest(token), label=values.label, now=now
            )
            await audit.record(tx, actor=actor, action="api_token.created", subject=token_id, now=now,
                               details={"user_id": values.user_id, "label": values.label})
        return token_id, token

    async def revoke(self, actor: str, token_id: str) -> Row:
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor)
            row = await users.api_token(tx, token_id)
            if row is None:
                raise NotFound("No such API token.")
            if not await users.revoke_api_token(tx, token_id, now):
                raise Conflict(f"The token “{row['label']}” was already revoked.")
            await audit.record(tx, actor=actor, action="api_token.revoked", subject=token_id, now=now,
                               details={"user_id": row["user_id"], "label": row["label"]})
        # sockets opened with the token close now, as a session's do on logout
        await self.bus.publish(ev.USER_SESSIONS_ENDED, session_id=None, user_id=None, api_token_id=token_id)
        return row
