"""Log set-up: readable text, or JSON lines for log shippers (`log_format`).

In JSON every record is one object on one line: `ts`, `level`, `logger`, `msg`, the request id of
the HTTP request being handled (when there is one), every field passed with `extra=` (for example
`conversation_id`, `user_id`, `delivery_id`), and `exc` with the traceback. The access log is
written the same way, with the path but never the query string (tracking keys travel in it).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import IO, Any

from aiohttp.http_exceptions import HttpProcessingError

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
ACCESS_LOGGER = "aiohttp.access"
# the id of the HTTP request being handled, set by the request middleware
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an odd extra must never cost the log line
        return json.dumps(entry, ensure_ascii=False, default=str)


# python-engineio logs each kind of bad request (a foreign origin, an unknown session or transport) as
# an error the first time in a process, with this note, and at INFO after that
ENGINEIO_FIRST_TIME = "(further occurrences of this error will be logged with level INFO)"
ENGINEIO_OWN_FAULTS = ("The WebSocket transport is not available",)  # a set-up problem, not a client's


class ClientMistakes(logging.Filter):
    """A client's mistake is answered `400` (or refused) and logged as one warning line, so that no
    client can fill the error log or wake whoever watches it: aiohttp logs a request it cannot parse (a
    line over 8 KB, a header that is not one) as an error with a traceback, and python-engineio the first
    bad handshake of each kind as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 0) < 500:
            record.msg = f"{record.getMessage()}: {str(exc.message)[:200]}"
            record.args = ()
            record.exc_info = record.exc_text = None
            _downgrade(record)
        elif record.name == "engineio.server" and record.levelno == logging.ERROR and not record.exc_info:
            text = record.getMessage()
            if text.endswith(ENGINEIO_FIRST_TIME) and not text.startswith(ENGINEIO_OWN_FAULTS):
                _downgrade(record)
        return True


def _downgrade(record: logging.LogRecord) -> None:
    record.levelno, record.levelname = logging.WARNING, "WARNING"


def quiet_client_mistakes() -> None:
    """Install `ClientMistakes` on aiohttp's and python-engineio's server loggers, once per process."""
    for name in ("aiohttp.server", "engineio.server"):
        server_log = logging.getLogger(name)
        if not any(isinstance(f, ClientMistakes) for f in server_log.filters):
            server_log.addFilter(ClientMistakes())


def configure_logging(level: str, log_format: str, stream: IO[str] | None = None) -> None:
    """Like logging.basicConfig: leaves a root logger that already has handlers alone (test runners)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    # python-socketio and python-engineio give their loggers a plain handler of their own unless a level
    # is set: with the level they would pick, their records go through ours (one JSON object a line)
    for name in ("socketio.server", "engineio.server"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.ERROR)
