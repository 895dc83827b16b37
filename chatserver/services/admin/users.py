"""Console users as admins manage them: create, edit, passwords, deactivate and reactivate.

A role change, a new password or a deactivation ends the user's sessions at once: the session
generation moves on (older sessions no longer match), the rows go, and USER_SESSIONS_ENDED makes
the transport close their open console and monitor sockets.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from typing import Any

from chatserver.domain.errors import Conflict, NotFound
from chatserver.domain.text import isolate
from chatserver.services import events as ev
from chatserver.services.admin.validate import FieldErrors, NewPassword, UserProfile
from chatserver.services.auth import ConsoleUser, ensure_admin, hash_password
from chatserver.services.clock import Clock, now_iso
from chatserver.services.dispatch import Dispatcher
from chatserver.services.events import EventBus
from chatserver.store import audit, categories, users
from chatserver.store.db import Database, Row, Tx

EMAIL_TAKEN = "Another user already has this e-mail address."
CHANGED_MEANWHILE = "Someone changed this user while you were editing, so nothing was saved. The form now shows what is stored; make your change again."
PROFILE_FIELDS = ("email", "name", "role", "max_chats", "skills", "languages")


def generated_password() -> str:
    return secrets.token_urlsafe(12)  # 96 random bits, easy to copy


def profile_version(row: Row) -> str:
    """A short fingerprint of the profile as stored: the edit form carries the one it was loaded with."""
    stored = json.dumps([row[key] for key in PROFILE_FIELDS], ensure_ascii=False)
    return hashlib.sha256(stored.encode("utf-8")).hexdigest()[:16]


class UserAdmin:
    def __init__(self, db: Database, bus: EventBus, clock: Clock, dispatcher: Dispatcher) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.dispatcher = dispatcher

    # -- reading ---------------------------------------------------------------------------

    async def list(self) -> list[Row]:
        """Every user with live presence (status, connected, open chats) where the router knows them."""
        rows = await users.list_all(self.db)
        for row in rows:
            live = self.dispatcher.agents.get(row["id"])
            row["connected"] = bool(live and live.sockets)
            row["open_chats"] = len(live.chats) if live else 0
            if live:
                row["status"] = live.status
        return rows

    async def get(self, user_id: str) -> Row:
        row = await users.get(self.db, user_id)
        if row is None:
            raise NotFound("No such user.")
        return row

    async def history(self, user_id: str, limit: int = 20) -> list[Row]:
        """The latest audit entries about this user, newest first."""
        return await audit.latest_for_subject(self.db, user_id, limit)

    async def skills(self) -> list[Row]:
        """Skills are category slugs: routing and complaint ownership match on them."""
        return await categories.all_categories(self.db)

    # -- changes ---------------------------------------------------------------------------

    async def create(self, actor: ConsoleUser, profile: UserProfile, password: NewPassword) -> tuple[Row, str | None]:
        """The new user, and the generated password when the admin did not type one (shown once)."""
        generated = generated_password() if password.password is None else None
        password_hash = await asyncio.to_thread(hash_password, password.password or generated or "")
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor.id)
            if await users.by_email(tx, profile.email):
                raise FieldErrors({"email": EMAIL_TAKEN})
            row = await users.create(
                tx, email=profile.email, name=profile.name, role=profile.role, password_hash=password_hash,
                max_chats=profile.max_chats, skills=list(profile.skills), languages=list(profile.languages), now=now,
            )
            await audit.record(
                tx, actor=actor.id, action="user.created", subject=row["id"], now=now,
                details={"email": profile.email, "role": profile.role, "max_chats": profile.max_chats,
                         "skills": list(profile.skills), "languages": list(profile.languages),
                         "password": "generated" if generated else "set"},
            )
        await self.dispatcher.refresh_agent(row["id"])
        return row, generated

    async def update(self, actor: ConsoleUser, user_id: str, profile: UserProfile, seen: str | None = None) -> dict[str, Any]:
        """Save the profile; returns what changed. A role change ends the user's sessions.

        `seen` is the profile_version the form was loaded with: a form sends every field, so one opened
        before another admin's change would silently undo it (a demotion reverted by a capacity edit)."""
        if user_id == actor.id and profile.role != actor.role:
            raise FieldErrors({"role": "You cannot change your own role; ask another admin."})
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor.id)
            row = await users.get(tx, user_id)
            if row is None:
                raise NotFound("No such user.")
            other = await users.by_email(tx, profile.email)
            if other is not None and other["id"] != user_id:
                raise FieldErrors({"email": EMAIL_TAKEN})
            wanted = {
                "email": profile.email, "name": profile.name, "role": profile.role, "max_chats": profile.max_chats,
                "skills": list(profile.skills), "languages": list(profile.languages),
            }
            changes = {key: {"from": row[key], "to": value} for key, value in wanted.items() if row[key] != value}
            if not changes:
                return changes
            if seen is not None and seen != profile_version(row):
                raise Conflict(CHANGED_MEANWHILE)
            await users.update_profile(
                tx, user_id, email=profile.email, name=profile.name, max_chats=profile.max_chats,
                skills=list(profile.skills), languages=list(profile.languages),
            )
            if "role" in changes:
                await users.set_role(tx, user_id, profile.role)
                await users.end_sessions(tx, user_id)
            await audit.record(tx, actor=actor.id, action="user.updated", subject=user_id, now=now, details=changes)
        if "role" in changes:
            await self._sessions_ended(user_id)
        await self._router_refresh(user_id)
        return changes

    async def set_password(self, actor: ConsoleUser, user_id: str, password: NewPassword) -> str | None:
        """A new password (typed, or generated and returned to show once); the user's sessions end."""
        if user_id == actor.id and password.password is None:
            # the admin's own session ends with the change, so a generated password could never be shown
            raise FieldErrors({"password": "Type your own new password; you will sign in again with it."})
        generated = generated_password() if password.password is None else None
        password_hash = await asyncio.to_thread(hash_password, password.password or generated or "")
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor.id)
            if await users.get(tx, user_id) is None:
                raise NotFound("No such user.")
            await users.set_password_hash(tx, user_id, password_hash)
            await users.end_sessions(tx, user_id)
            await audit.record(
                tx, actor=actor.id, action="user.password_changed", subject=user_id, now=now,
                details={"password": "generated" if generated else "set"},
            )
        await self._sessions_ended(user_id)
        return generated

    async def deactivate(self, actor: ConsoleUser, user_id: str) -> Row:
        if user_id == actor.id:
            raise Conflict("You cannot deactivate your own account; ask another admin.")
        now = now_iso(self.clock)

        async def deactivated(tx: Tx) -> Row:
            await ensure_admin(tx, actor.id)
            row = await users.get(tx, user_id)
            if row is None:
                raise NotFound("No such user.")
            if not row["active"]:
                raise Conflict(f"{isolate(row['name'])} is already deactivated.")
            await users.set_active(tx, user_id, False, now)
            await users.end_sessions(tx, user_id)
            await audit.record(tx, actor=actor.id, action="user.deactivated", subject=user_id, now=now)
            # revoked, not just suspended: reactivating someone must not wake an integration that
            # acted as them, so whoever brings them back issues the tokens they still need
            for token in await users.revoke_user_api_tokens(tx, user_id, now):
                await audit.record(tx, actor=actor.id, action="api_token.revoked", subject=token["id"], now=now,
                                   details={"user_id": user_id, "label": token["label"], "reason": "user deactivated"})
            return row

        last_seen = self.dispatcher.agent_public(user_id)
        # out of routing, and their chats back in the queue, in the deactivation's own transaction: the
        # chats are read under the lock assignments hold, so one routed to them a moment ago goes back
        # too (and from the commit on, the database refuses them any new seat)
        row = await self.dispatcher.retire_agent(user_id, actor.id, deactivated)
        await self._sessions_ended(user_id)
        if last_seen is not None:
            # monitors drop the row with their next snapshot
            await self.bus.publish(ev.AGENT_CHANGED, agent=dict(last_seen, status="offline", connected=False, active=0))
        return row

    async def reactivate(self, actor: ConsoleUser, user_id: str) -> Row:
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor.id)
            row = await users.get(tx, user_id)
            if row is None:
                raise NotFound("No such user.")
            if row["active"]:
                raise Conflict(f"{isolate(row['name'])} is already active.")
            await users.set_active(tx, user_id, True, now)
            # a session from before the deactivation must not come back to life
            await users.end_sessions(tx, user_id)
            await audit.record(tx, actor=actor.id, action="user.reactivated", subject=user_id, now=now)
        await self._router_refresh(user_id)
        return row

    # -- effects after commit --------------------------------------------------------------

    async def _sessions_ended(self, user_id: str) -> None:
        await self.bus.publish(ev.USER_SESSIONS_ENDED, session_id=None, user_id=user_id, api_token_id=None)

    async def _router_refresh(self, user_id: str) -> None:
        """Capacity, skills or languages may open seats for waiting chats."""
        await self.dispatcher.refresh_agent(user_id)
        public = self.dispatcher.agent_public(user_id)
        if public is not None:
            await self.bus.publish(ev.AGENT_CHANGED, agent=public)
        await self.dispatcher.drain()
