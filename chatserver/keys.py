"""Typed keys for what the application shares between handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

if TYPE_CHECKING:
    from chatserver.config import Settings
    from chatserver.observability.metrics import Metrics
    from chatserver.services.container import Services
    from chatserver.transport.http.admin.common import Notices
    from chatserver.transport.forwarding import TrustedProxies
    from chatserver.transport.ratelimit import KeyedLimiter, LimitBook

SETTINGS = web.AppKey("settings", "Settings")
SERVICES = web.AppKey("services", "Services")
SECRET_KEY = web.AppKey("secret_key", str)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
LOGIN_LIMITER = web.AppKey("login_limiter", "KeyedLimiter")
API_LIMITS = web.AppKey("api_limits", "LimitBook")
METRICS = web.AppKey("metrics", "Metrics")
ADMIN_NOTICES = web.AppKey("admin_notices", "Notices")
TRUSTED_PROXIES = web.AppKey("trusted_proxies", "TrustedProxies")
