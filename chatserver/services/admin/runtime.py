"""Settings admins change while the server runs: the widget's and the identity secret.

Precedence, lowest first: built-in defaults < configured settings (TOML < CHATSERVER_* < flags,
read once at start) < values saved in admin (the `runtime_settings` table). A saved value equal to
the configured one is not stored, so the configuration keeps governing that setting. The live
objects read plain attributes; `_push` is the one place that sets them, after each commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from chatserver.config import Settings
from chatserver.domain.models import LOCALES
from chatserver.services.admin.validate import WidgetValues
from chatserver.services.auth import AuthService, ensure_admin
from chatserver.services.chats import ChatService
from chatserver.services.clock import Clock, now_iso
from chatserver.services.dispatch import Dispatcher
from chatserver.store import admin_settings, audit
from chatserver.store.db import Database, Row

DEFAULT_BRAND_COLOR = "#0a7d5a"
WIDGET_KEYS = ("allowed_origins", "brand_color", "greeting", "queue_timeout")


@dataclass(frozen=True, slots=True)
class WidgetSettings:
    allowed_origins: tuple[str, ...]
    brand_color: str
    # per locale, only where an admin wrote one; the widget's own catalog greets otherwise
    greeting: dict[str, str]
    queue_timeout: float
    # which of WIDGET_KEYS the database sets
    overridden: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class IdentitySecretState:
    source: str | None  # "admin", "config" or None (signed identities refused)
    created_at: str | None = None


class RuntimeSettings:
    def __init__(
        self, db: Database, clock: Clock, settings: Settings, *, dispatcher: Dispatcher, chats: ChatService, auth: AuthService
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self._dispatcher = dispatcher
        self._chats = chats
        self._auth = auth
        self.widget = self.configured_widget()
        self.identity = IdentitySecretState("config" if settings.identity_secret else None)
        self._identity_secret = settings.identity_secret

    def configured_widget(self) -> WidgetSettings:
        """What the configuration alone says."""
        return WidgetSettings(
            allowed_origins=tuple(o.rstrip("/").lower() for o in self.settings.allowed_origins),
            brand_color=DEFAULT_BRAND_COLOR,
            greeting={},
            queue_timeout=self.settings.queue_timeout,
        )

    async def load(self) -> None:
        """Read the saved overrides (at start-up) and hand the effective values to the live objects."""
        stored = await admin_settings.runtime_values(self.db)
        base = self.configured_widget()
        greeting = stored.get("greeting") or {}
        self.widget = WidgetSettings(
            allowed_origins=tuple(stored.get("allowed_origins", base.allowed_origins)),
            brand_color=stored.get("brand_color", base.brand_color),
            greeting={code: str(greeting[code]) for code in LOCALES if greeting.get(code)},
            queue_timeout=float(stored.get("queue_timeout", base.queue_timeout)),
            overridden=frozenset(key for key in WIDGET_KEYS if key in stored),
        )
        current = await admin_settings.current_identity_secret(self.db)
        if current is not None and current["secret"]:
            self._identity_secret = current["secret"]
            self.identity = IdentitySecretState("admin", current["created_at"])
        else:
            self._identity_secret = self.settings.identity_secret
            self.identity = IdentitySecretState("config" if self.settings.identity_secret else None)
        self._push()

    def _push(self) -> None:
        # queued chats keep the deadline they were given; the new timeout applies to chats queued from now
        self._dispatcher.queue_timeout = self.widget.queue_timeout
        self._chats.queue_timeout = self.widget.queue_timeout
        self._auth.identity_secret = self._identity_secret

    # -- the widget ------------------------------------------------------------------------

    async def save_widget(self, actor: str, values: WidgetValues) -> dict[str, Any]:
        """Store what differs from the configuration, forget what equals it; returns the changes."""
        base = self.configured_widget()
        wanted: dict[str, Any] = {
            "allowed_origins": list(values.allowed_origins),
            "brand_color": values.brand_color,
            "greeting": {code: text for code, text in values.greeting.items() if text},
            "queue_timeout": values.queue_timeout,
        }
        configured: dict[str, Any] = {
            "allowed_origins": list(base.allowed_origins),
            "brand_color": base.brand_color,
            "greeting": {},
            "queue_timeout": base.queue_timeout,
        }
        current = self._as_values(self.widget)
        changes = {key: {"from": current[key], "to": wanted[key]} for key in WIDGET_KEYS if current[key] != wanted[key]}
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor)
            for key in WIDGET_KEYS:
                if wanted[key] == configured[key]:
                    await admin_settings.delete_runtime_values(tx, [key])
                else:
                    await admin_settings.put_runtime_value(tx, key, wanted[key], now=now, actor=actor)
            await audit.record(tx, actor=actor, action="settings.widget_saved", subject="widget", now=now, details=changes)
        await self.load()
        return changes

    async def reset_widget(self, actor: str) -> None:
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor)
            await admin_settings.delete_runtime_values(tx, list(WIDGET_KEYS))
            await audit.record(
                tx, actor=actor, action="settings.widget_reset", subject="widget", now=now,
                details={"keys": sorted(self.widget.overridden)},
            )
        await self.load()

    @staticmethod
    def _as_values(widget: WidgetSettings) -> dict[str, Any]:
        return {
            "allowed_origins": list(widget.allowed_origins),
            "brand_color": widget.brand_color,
            "greeting": dict(widget.greeting),
            "queue_timeout": widget.queue_timeout,
        }

    # -- the identity secret ---------------------------------------------------------------

    async def rotate_identity_secret(self, actor: str) -> str:
        """A new secret replaces the current one at once (old signatures fail); shown to the caller once."""
        secret = secrets.token_hex(32)
        now = now_iso(self.clock)
        async with self.db.transaction() as tx:
            await ensure_admin(tx, actor)
            secret_id = await admin_settings.replace_identity_secret(tx, secret, now=now, actor=actor)
            # the audit trail records that it changed, never the value
            await audit.record(
                tx, actor=actor, action="identity_secret.rotated", subject="identity_secret", now=now,
                details={"secret_id": secret_id, "replaced": self.identity.source},
            )
        await self.load()
        return secret

    async def identity_history(self) -> list[Row]:
        return await admin_settings.identity_secret_history(self.db)
