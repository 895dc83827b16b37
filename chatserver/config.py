"""One typed Settings object, read once: defaults < TOML file < CHATSERVER_* variables < CLI flags."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "CHATSERVER_"
# below this, ordinary bursts (a history answer, a few snapshots) would cut healthy connections
MIN_SEND_QUEUE_BYTES = 16 * 1024
# the server secret made beside the database: 256 bits in hex; a file with under 128 bits is refused
GENERATED_SECRET_CHARS = 64
MIN_SECRET_FILE_CHARS = 32
# a configured secret signs every tracking key, and references are sequential: one key a customer holds
# is enough to test guesses offline, so a short one is refused (128 bits as hex, or a passphrase as long)
MIN_SECRET_CHARS = 32
# durations beyond this put deadlines past what a date can hold (year 9999) or mean a typo
MAX_DURATION_SECONDS = 10 * 366 * 24 * 3600
# settings in seconds, hours or days: finite, not negative, and at most MAX_DURATION_SECONDS
DURATIONS = {
    "queue_timeout": 1, "agent_grace": 1, "sla_sweep_seconds": 1,
    "first_response_hours": 3600, "resolution_hours": 3600, "sla_warning_hours": 3600, "complaint_autoclose_days": 86400,
}
LOG_LEVELS = ("debug", "info", "warning", "error")
# what the widget's frame-ancestors CSP takes (transport/http/widget.py drops anything else)
# \Z, not $: "$" also matches before a final newline, which must not reach a header
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?\Z")  # [0-9]: \d takes any script's digits


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "./chatserver.db"
    # seconds a chat may wait unassigned before it becomes a complaint (chat_unanswered)
    queue_timeout: float = 600.0
    # seconds a disconnected agent keeps their chats
    agent_grace: float = 60.0
    identity_secret: str | None = None
    # sites allowed to embed the widget; empty means the server's own origin only
    allowed_origins: tuple[str, ...] = ()
    # signs session cookies; generated and stored beside the database when not given
    secret_key: str | None = None
    max_message_chars: int = 4000
    # chat starts allowed per client address per minute (shared NATs need headroom)
    chat_starts_per_minute: int = 60
    # login attempts allowed per address and per e-mail per minute
    logins_per_minute: int = 10
    # Socket.IO connects allowed per client address per minute, counted apart for new Engine.IO
    # sessions and for namespace connects; page reloads and shared NATs need headroom
    socket_connects_per_minute: int = 300
    # Socket.IO connections one client address may hold open at once (one per open page with the
    # widget, console or monitor); an office or a mobile carrier's shared address needs headroom
    socket_sessions_per_address: int = 200
    # widget events (messages, typing, everything) allowed per client address per minute, over all the
    # customers there: each new visitor gets fresh per-customer buckets, the address does not
    customer_events_per_address_per_minute: int = 1200
    # complaints customers may file per client address per hour, from the form or by ending a chat
    # unresolved; each one may e-mail the address it names, so scripts must not file them by the thousand
    complaints_per_address_per_hour: int = 30
    # JSON API writes per console user (API token or console) per minute: more than anyone clicks,
    # far less than a script looping on a leaked token
    api_writes_per_minute: int = 120
    # complaints logged through the API per console user per minute; each may e-mail the address it names
    api_complaints_per_minute: int = 12
    # chats that may wait in the queue at once, started from one client address: a chat left waiting
    # becomes a complaint at its deadline, so a script starting chats and leaving must not fill the
    # queue (and the complaints list) by the thousand; a shared address needs some headroom
    waiting_chats_per_address: int = 20
    # reverse proxies (addresses or CIDRs) whose X-Forwarded-For/-Proto/-Host are believed; from
    # any other peer those headers are ignored
    trusted_proxies: tuple[str, ...] = ()
    first_response_hours: float = 24.0
    resolution_hours: float = 48.0
    # hours before a complaint's due time that its owners are warned
    sla_warning_hours: float = 2.0
    # seconds between SLA sweeps (warnings, breaches, escalations, auto-close)
    sla_sweep_seconds: float = 30.0
    # days a resolved complaint waits for the customer before it closes by itself
    complaint_autoclose_days: float = 7.0
    # base address of this server as customers reach it, for links in e-mail; default http://host:port
    public_url: str | None = None
    # SMTP server for e-mail notices; without one, notices are written to the log instead
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    # "starttls", "tls" (implicit, usually port 465) or "none"
    smtp_security: str = "starttls"
    mail_from: str = "Support <support@localhost>"
    # NORMAL survives a process crash (SIGKILL); FULL also survives power loss at ~1 fsync per message
    db_synchronous: str = "NORMAL"
    # seconds a write may wait for the database's write lock (behind this process's other writes,
    # then behind another process holding it) before it is answered `unavailable`
    db_busy_timeout: float = 5.0
    cookie_secure: bool = False
    log_level: str = "info"
    # "text" for people, "json" for log shippers: one JSON object per line, access log included
    log_format: str = "text"
    # lets GET /metrics answer a request with "Authorization: Bearer <token>"; without one, only
    # requests from this host (127.0.0.1, ::1) that came through no proxy
    metrics_token: str | None = None
    # webhooks may target private, loopback and link-local addresses (tests, a receiver on the same
    # network); off by default so that an admin form cannot be turned against internal services
    webhook_allow_private: bool = False
    # tuning decided in docs/benchmarks.md
    uvloop: bool = True
    gc_tuning: bool = True
    # accept permessage-deflate on WebSockets: ~90 KB of zlib state per connection and CPU on
    # every frame, for chat frames of a few hundred bytes; off unless bandwidth matters more
    websocket_compression: bool = False
    # JSON-only Socket.IO packets encoded with orjson, and emits without a task per recipient;
    # off gives python-socketio's stock packet class and manager
    socketio_fast_path: bool = True
    # bytes of frames that may wait to be sent to one connection; a client further behind (it stopped
    # reading) is disconnected, then reconnects and catches up through history and snapshots
    socket_send_queue_bytes: int = 1024 * 1024
    # seconds a stop (SIGTERM, SIGINT) waits for open connections to finish before closing them hard:
    # a client that stopped reading would otherwise hold the stop for aiohttp's 60 s
    shutdown_timeout: float = 10.0
    config: str | None = field(default=None, compare=False)

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def with_overrides(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(name: str, raw: Any, current: Any, annotation: str) -> Any:
    try:
        if "tuple" in annotation:
            if isinstance(raw, (list, tuple)):
                return tuple(str(x).strip() for x in raw if str(x).strip())
            return tuple(part.strip() for part in str(raw).split(",") if part.strip())
        if annotation.startswith("bool"):
            if isinstance(raw, bool):
                return raw
            value = str(raw).strip().lower()
            if value in {"1", "true", "yes", "on"}:
                return True
            if value in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if annotation.startswith("int"):
            return int(raw)
        if annotation.startswith("float"):
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(raw)
            return value
        return None if raw is None else str(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"setting {name!r} has an invalid value {raw!r}") from None


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the Settings once. `overrides` are CLI flags (None means not given)."""
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    types = {f.name: str(f.type) for f in fields(Settings)}
    values: dict[str, Any] = {}

    config_path = overrides.get("config") or environ.get(ENV_PREFIX + "CONFIG")
    if config_path:
        try:
            data = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read config file {config_path}: {exc}") from None
        for key, raw in data.items():
            if key not in types or key == "config":
                raise SettingsError(f"unknown setting {key!r} in {config_path}")
            values[key] = _coerce(key, raw, None, types[key])
        values["config"] = config_path

    for variable in environ:
        # a misspelt variable would otherwise be ignored and its default used without a word
        if variable.startswith(ENV_PREFIX) and variable[len(ENV_PREFIX):].lower() not in types:
            raise SettingsError(f"unknown setting {variable!r} in the environment")
    for name, annotation in types.items():
        env_value = environ.get(ENV_PREFIX + name.upper())
        if env_value is not None and name != "config":
            values[name] = _coerce(name, env_value, None, annotation)

    for name, raw in overrides.items():
        if name in types:
            values[name] = _coerce(name, raw, None, types[name])

    settings = Settings(**values)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    for name in ("secret_key", "identity_secret"):
        value = getattr(settings, name)
        if value and len(value.strip()) < MIN_SECRET_CHARS:
            raise SettingsError(
                f"setting {name!r} is too short ({len(value.strip())} characters); give at least {MIN_SECRET_CHARS}, "
                "such as the output of: python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
    if not settings.host.strip():
        raise SettingsError("setting 'host' is empty (it would listen on every address); give one, such as 127.0.0.1")
    if not settings.db.strip():
        raise SettingsError("setting 'db' is empty; give the database file's path")
    if not 0 < settings.port < 65536:
        raise SettingsError("setting 'port' must be between 1 and 65535")
    if not 0 < settings.smtp_port < 65536:
        raise SettingsError("setting 'smtp_port' must be between 1 and 65535")
    for name, unit in DURATIONS.items():
        if getattr(settings, name) * unit > MAX_DURATION_SECONDS:
            raise SettingsError(f"setting {name!r} is too long: at most {MAX_DURATION_SECONDS // unit:g} (10 years)")
    if min(settings.first_response_hours, settings.resolution_hours) <= 0:
        raise SettingsError("settings 'first_response_hours' and 'resolution_hours' must be positive")
    if settings.log_level.lower() not in LOG_LEVELS:
        raise SettingsError(f"setting 'log_level' must be one of {', '.join(LOG_LEVELS)}")
    if settings.public_url and not ORIGIN.match("/".join(settings.public_url.split("/", 3)[:3])):
        raise SettingsError("setting 'public_url' must start with http:// or https:// and a host, such as https://support.example.com")
    for entry in settings.allowed_origins:
        if not ORIGIN.match(entry.rstrip("/")):
            raise SettingsError(f"setting 'allowed_origins' has {entry!r}, which is not an origin such as https://www.example.com")
    if settings.queue_timeout <= 0 or settings.agent_grace < 0:
        raise SettingsError("settings 'queue_timeout' must be positive and 'agent_grace' not negative")
    if settings.db_synchronous.upper() not in {"NORMAL", "FULL"}:
        raise SettingsError("setting 'db_synchronous' must be NORMAL or FULL")
    if not _one_sender(settings.mail_from):
        raise SettingsError(
            f"setting 'mail_from' has {settings.mail_from!r}, which is not one sender such as "
            '"Acme Support" <support@acme.example> (put a name with a comma in double quotes)'
        )
    if settings.smtp_security not in {"starttls", "tls", "none"}:
        raise SettingsError("setting 'smtp_security' must be starttls, tls or none")
    if min(settings.sla_warning_hours, settings.complaint_autoclose_days) < 0 or settings.sla_sweep_seconds <= 0:
        raise SettingsError("settings 'sla_warning_hours' and 'complaint_autoclose_days' must not be negative, 'sla_sweep_seconds' must be positive")
    if not 0 < settings.db_busy_timeout <= 600:
        raise SettingsError("setting 'db_busy_timeout' must be more than 0 and at most 600 seconds")
    if not 0 <= settings.shutdown_timeout <= 600:
        raise SettingsError("setting 'shutdown_timeout' must be between 0 and 600 seconds")
    if settings.max_message_chars < 1:
        raise SettingsError("setting 'max_message_chars' must be positive")
    if settings.socket_send_queue_bytes < MIN_SEND_QUEUE_BYTES:
        raise SettingsError(f"setting 'socket_send_queue_bytes' must be at least {MIN_SEND_QUEUE_BYTES}")
    if settings.log_format not in {"text", "json"}:
        raise SettingsError("setting 'log_format' must be text or json")
    limits = ("socket_connects_per_minute", "socket_sessions_per_address", "chat_starts_per_minute", "logins_per_minute",
              "customer_events_per_address_per_minute", "complaints_per_address_per_hour", "waiting_chats_per_address",
              "api_writes_per_minute", "api_complaints_per_minute")
    for name in limits:
        if getattr(settings, name) < 1:
            raise SettingsError(f"setting {name!r} must be positive")
    for entry in settings.trusted_proxies:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(f"setting 'trusted_proxies' has {entry!r}, which is not an address or CIDR") from None


def _one_sender(value: str) -> bool:
    """One address, read as the mail library will read the From header: an unquoted comma makes two."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return False
    message = EmailMessage()
    try:
        message["From"] = value
        header = message["From"]
    except (ValueError, IndexError):
        return False
    addresses = header.addresses
    return not header.defects and len(addresses) == 1 and bool(addresses[0].username) and bool(addresses[0].domain)


def resolve_secret_key(settings: Settings) -> str:
    """The cookie-signing key: the configured one, or one generated once and kept beside the database.

    It also makes every tracking link's key, so a file that holds less than a whole key (left empty by
    a full disk or a crash in an older version) is refused: signing with it would hand anyone the key
    to every complaint."""
    if settings.secret_key:
        return settings.secret_key
    if settings.db == ":memory:":
        return secrets.token_hex(32)
    path = _key_file(settings.db)
    if path.exists():
        return _read_key_file(path)
    key = secrets.token_hex(GENERATED_SECRET_CHARS // 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    # written whole beside it, then linked into place: a full disk or a crash never leaves a part behind
    draft = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(draft, path)  # never replaces a key another process made meanwhile
    except FileExistsError:
        # `user add` and a first `serve` at the same moment: the other one's key is the key
        return _read_key_file(path)
    finally:
        draft.unlink(missing_ok=True)
    return key


def _key_file(db: str) -> Path:
    """`<db>.secret` beside the file the path leads to, as the server lock is: a server started through
    a symbolic link to the database signs with the same key as one started with the file's own path.
    A key an earlier version made beside the link is still found there."""
    beside_link = Path(db).with_suffix(Path(db).suffix + ".secret")
    real = Path(os.path.realpath(db))
    beside_file = real.with_suffix(real.suffix + ".secret")
    if beside_link != beside_file and beside_link.exists() and not beside_file.exists():
        return beside_link
    return beside_file


def _read_key_file(path: Path) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:  # a folder, no permission, bytes that are no text
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise SettingsError(
            f"the secret key file {path} cannot be read as a key ({reason}); fix or remove it (a new one signs "
            "staff out and retires tracking links), or set CHATSERVER_SECRET_KEY"
        ) from None
    if len(key) < MIN_SECRET_FILE_CHARS:
        raise SettingsError(
            f"the secret key file {path} holds no usable key ({len(key)} characters); remove it to have a new "
            "one made, which signs staff out and retires tracking links, or set CHATSERVER_SECRET_KEY"
        )
    return key
