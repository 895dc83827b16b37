"""Who is who: console passwords and sessions, API tokens, customer tokens and signed identities."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from chatserver.domain.complaints import plausible_email
from chatserver.domain.errors import Conflict, Forbidden, Invalid, Unauthorized, Unavailable
from chatserver.domain.models import LOCALES, ROLES, iso, parse_iso
from chatserver.domain.same_secret import same_secret
from chatserver.services.clock import Clock
from chatserver.services.events import USER_SESSIONS_ENDED, EventBus
from chatserver.store import audit, categories, customers, users
from chatserver.store.db import Database, Row, Tx

log = logging.getLogger(__name__)

NO_LONGER_ADMIN = "You are no longer an admin, so nothing was changed."
SESSION_LIFETIME = timedelta(hours=12)
# argon2id takes about 0.1 s of CPU and 64 MiB a check, on purpose: checks run in threads, this many
# at a time, so a burst of sign-ins waits its turn instead of stalling every chat on the event loop
PASSWORD_CHECKS_AT_ONCE = 2
_hasher = PasswordHasher()
# verifying against this keeps unknown e-mails as slow as wrong passwords
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """argon2id; slow on purpose, so callers on the event loop run it in a thread."""
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    """Slow on purpose, like hash_password."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    # an Authorization header's bytes that are not UTF-8 arrive as lone surrogates: a digest nothing matches
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def mint_token() -> str:
    """A random 256-bit customer or API token."""
    return secrets.token_urlsafe(32)


def identity_signature(secret: str, external_id: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{external_id}:{expires}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    id: str
    name: str
    email: str
    role: str
    max_chats: int
    session_id: str | None = None
    csrf_token: str | None = None
    api_token_id: str | None = None  # set when the user came with an API token: revoking it ends this
    session_expires_at: datetime | None = None  # a sign-in's end; its open sockets close then too


    @property
    def is_supervisor(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def from_row(
        cls, row: Row, session_id: str | None = None, csrf_token: str | None = None, session_expires_at: datetime | None = None
    ) -> "ConsoleUser":
        return cls(
            row["id"], row["name"], row["email"], row["role"], row["max_chats"], session_id, csrf_token,
            session_expires_at=session_expires_at,
        )


class AuthService:
    def __init__(self, db: Database, bus: EventBus, clock: Clock, identity_secret: str | None) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.identity_secret = identity_secret
        self._password_checks = asyncio.Semaphore(PASSWORD_CHECKS_AT_ONCE)

    # -- console users ---------------------------------------------------------------------

    async def create_user(
        self,
        *,
        email: str,
        name: str,
        role: str,
        password: str,
        max_chats: int = 3,
        skills: list[str] | None = None,
        languages: list[str] | None = None,
        actor: str = "system",
    ) -> Row:
        email = email.strip()
        if not plausible_email(email):  # where SLA warnings and escalations are mailed
            raise Invalid("e-mail address is not valid")
        if not name.strip():
            raise Invalid("name must not be empty")
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise Invalid("password must be at least 8 characters")
        if not 0 <= max_chats <= 50:
            raise Invalid("max chats must be between 0 and 50")
        unknown = [code for code in languages or [] if code not in LOCALES]
        if unknown:
            raise Invalid(f"unknown language {unknown[0]!r}; languages are {', '.join(LOCALES)}")
        known = {row["slug"] for row in await categories.all_categories(self.db)}
        unknown = [slug for slug in skills or [] if slug not in known]
        if unknown:
            # routing matches skills to category slugs exactly: a typo would leave the agent without chats
            raise Invalid(f"unknown skill {unknown[0]!r}; skills are category slugs: {', '.join(sorted(known))}")
        async with self._password_checks:
            password_hash = await asyncio.to_thread(hash_password, password)
        now = iso(self.clock())
        async with self.db.transaction() as tx:
            if await users.by_email(tx, email):
                raise Conflict("a user with this e-mail already exists")
            row = await users.create(
                tx,
                email=email,
                name=name.strip(),
                role=role,
                password_hash=password_hash,
                max_chats=max_chats,
                skills=skills or [],
                languages=languages or [],
                now=now,
            )
            await audit.record(tx, actor=actor, action="user.created", subject=row["id"], now=now, details={"role": role})
        return row

    async def login(self, email: str, password: str) -> ConsoleUser:
        row = await users.by_email(self.db, email.strip())
        async with self._password_checks:
            matches = await asyncio.to_thread(password_matches, row["password_hash"] if row else _DUMMY_HASH, password)
        if not matches or row is None or not row["active"]:
            raise Unauthorized("wrong e-mail or password")
        now = self.clock()
        csrf = secrets.token_urlsafe(32)
        async with self.db.transaction() as tx:
            session_id = await users.create_session(
                tx,
                user_id=row["id"],
                generation=row["session_generation"],
                csrf_token=csrf,
                now=iso(now),  # type: ignore[arg-type]
                expires_at=iso(now + SESSION_LIFETIME),  # type: ignore[arg-type]
            )
            await audit.record(tx, actor=row["id"], action="user.login", subject=row["id"], now=iso(now))  # type: ignore[arg-type]
        return ConsoleUser.from_row(row, session_id, csrf, now + SESSION_LIFETIME)

    async def logout(self, session_id: str) -> None:
        async with self.db.transaction() as tx:
            await users.delete_session(tx, session_id)
        await self.bus.publish(USER_SESSIONS_ENDED, session_id=session_id, user_id=None, api_token_id=None)

    async def user_for_session(self, session_id: str) -> ConsoleUser | None:
        row = await users.session_with_user(self.db, session_id, iso(self.clock()))  # type: ignore[arg-type]
        if row is None:
            return None
        return ConsoleUser.from_row(row, row["session_id"], row["csrf_token"], parse_iso(row["session_expires_at"]))

    async def user_for_api_token(self, token: str) -> ConsoleUser | None:
        row = await users.user_by_api_token(self.db, token_digest(token))
        if row is None:
            return None
        return replace(ConsoleUser.from_row(row), api_token_id=row["api_token_id"])

    async def issue_api_token(self, user_id: str, label: str) -> str:
        token = "cs_" + mint_token()
        async with self.db.transaction() as tx:
            await users.create_api_token(tx, user_id=user_id, token_hash=token_digest(token), label=label, now=iso(self.clock()))  # type: ignore[arg-type]
        return token

    # -- customers -------------------------------------------------------------------------

    async def customer(self, customer_id: str) -> Row:
        row = await customers.get(self.db, customer_id)
        if row is None:
            raise Unauthorized("unknown customer")
        return row

    def verify_identity(self, identity: dict[str, Any]) -> dict[str, Any]:
        """Check a host-signed identity; returns it when the signature is right and unexpired."""
        if not self.identity_secret:
            raise Unauthorized("signed identities are not enabled on this server")
        expires = identity["expires"]
        if expires < self.clock().timestamp():
            raise Unauthorized("the signed identity has expired")
        expected = identity_signature(self.identity_secret, identity["external_id"], expires)
        if not same_secret(expected, identity["signature"].lower()):
            raise Unauthorized("the identity signature is not valid")
        return identity

    async def resolve_customer(
        self, *, token: str | None, locale: str | None, identity: dict[str, Any] | None
    ) -> tuple[Row, str | None]:
        """The customer behind a connection, and a freshly minted token when one was issued.

        A token the server did not mint is refused; a verified identity binds (or creates) the
        customer record for that external id; a typed name or e-mail never does.
        """
        locale = locale if locale in LOCALES else None
        now = iso(self.clock())
        if identity is not None:
            self.verify_identity(identity)
            known = await customers.by_external_id(self.db, identity["external_id"])
            new_token = mint_token()
            try:
                # looked up again under the write lock: two tabs of a new player connecting at once
                # make one record between them, not a constraint failure for the second
                async with self.db.transaction() as tx:
                    customer = await customers.by_external_id(tx, identity["external_id"])
                    if customer is None:
                        customer = await customers.create(
                            tx,
                            token_hash=token_digest(new_token),
                            locale=locale or "en",
                            now=now,  # type: ignore[arg-type]
                            external_id=identity["external_id"],
                            name=identity.get("name"),
                            email=identity.get("email"),
                        )
                    else:
                        await customers.set_token_hash(tx, customer["id"], token_digest(new_token))
                        await customers.update_profile(
                            tx, customer["id"], name=identity.get("name"), email=identity.get("email"), locale=locale
                        )
                        customer = await customers.get(tx, customer["id"])
            except Unavailable:
                if known is None:
                    raise
                # the signature already says who this is: a returning customer is not shut out
                # of their chat because a fresh token and their profile cannot be stored now
                log.warning("customer %s connected as stored: storage refused the update", known["id"])
                return known, None
            return customer, new_token  # type: ignore[return-value]
        if token is not None:
            customer = await customers.by_token_hash(self.db, token_digest(token))
            if customer is None:
                raise Unauthorized("unknown customer token")
            if locale and locale != customer["locale"]:
                try:
                    async with self.db.transaction() as tx:
                        await customers.update_profile(tx, customer["id"], name=None, email=None, locale=locale)
                except Unavailable:  # the language is remembered at a later connect; the chat goes on now
                    log.warning("customer %s connected as stored: storage refused the update", customer["id"])
                customer = dict(customer, locale=locale)
            return customer, None
        new_token = mint_token()
        async with self.db.transaction() as tx:
            customer = await customers.create(tx, token_hash=token_digest(new_token), locale=locale or "en", now=now)  # type: ignore[arg-type]
        return customer, new_token


async def ensure_admin(tx: Tx, actor_id: str) -> None:
    """The actor is still an active admin as the writing transaction reads them. The page checked their
    session before another admin's change committed: two admins demoting or deactivating each other at
    once both passed it and left no admin, and a demoted one could still make an admin or a token."""
    row = await users.get(tx, actor_id)
    if row is None or not row["active"] or row["role"] != "admin":
        raise Forbidden(NO_LONGER_ADMIN)
