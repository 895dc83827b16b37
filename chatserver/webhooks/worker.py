"""Delivers webhooks: each pending row is POSTed, signed, to its receiver; a 2xx answer means delivered.

At least once: a row is marked delivered after the receiver's 2xx, so a crash in between sends it
again after restart with the same delivery id (receivers drop copies by it). Every attempt carries a
fresh timestamp and signature. Any other answer, a timeout or a refused connection is retried after
10 s, 1 min, 5 min, 30 min, 2 h and 6 h; the seventh failure marks the row failed. Redirects are not
followed (a 3xx is a failure): a receiver must not be able to bounce us into the internal network.
A disabled receiver's rows wait until it is enabled again.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from datetime import datetime, timedelta
from typing import Any, Callable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from chatserver.config import Settings
from chatserver.delivery import Clock, DeliveryLoop
from chatserver.delivery import retry_delay as _retry_delay
from chatserver.domain.models import iso
from chatserver.store import webhooks as store
from chatserver.store.db import Database, Row
from chatserver.webhooks import addresses, signing

log = logging.getLogger("chatserver.webhooks")

# Waits after the 1st..6th failed attempt; the 7th failure gives up.
BACKOFF = (
    timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5),
    timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
# Receivers served at once. Each gets one delivery at a time, in order, and none more in a pass once
# one failed: a slow or dead receiver then holds one slot for one timeout while the others' events go
# on arriving; its other deliveries wait for the next pass.
CONCURRENCY = 8
KEEP_LOG = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)
USER_AGENT = "Chatserver-Webhooks/1"


def retry_delay(attempts: int) -> timedelta | None:
    return _retry_delay(BACKOFF, attempts)


class BlockedAddress(OSError):
    """The receiver's name resolved to an address webhooks may not reach."""


class PublicResolver(AbstractResolver):
    """Resolves as usual, then refuses names with any non-public address. The connection is made to
    the addresses checked here, so a name cannot change its answer between the check and the connect."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = addresses.ip_literal(result["host"].split("%", 1)[0])
            if address is None or not addresses.is_public(address):
                raise BlockedAddress(f"{host} resolves to {result['host']}, a private, loopback or link-local address")
        return results

    async def close(self) -> None:
        await self._inner.close()


class WebhookWorker(DeliveryLoop):
    """Delivers webhook rows (see chatserver/delivery.py for the loop: start, notify, stop).

    `on_attempt(result)` ("delivered", "retry", "failed") feeds the metrics.
    """

    task_name = "webhook-worker"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        *,
        poll_seconds: float = 30.0,
        batch: int = 50,
        timeout: aiohttp.ClientTimeout = TIMEOUT,
    ) -> None:
        super().__init__(db, clock, poll_seconds=poll_seconds, log=log)
        self.allow_private = settings.webhook_allow_private
        self.batch = batch
        self.timeout = timeout
        self.on_attempt: Callable[[str], None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._pruned_at: datetime | None = None

    async def after_stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=None if self.allow_private else PublicResolver(), limit=CONCURRENCY, ttl_dns_cache=60,
            )
            # trust_env off: HTTP(S)_PROXY must not route deliveries somewhere the address checks never see
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout, headers={"User-Agent": USER_AGENT}, trust_env=False,
            )
        return self._session

    async def next_attempt_at(self) -> str | None:
        return await store.next_attempt_at(self.db)

    async def before_pass(self) -> None:
        await self._prune_now_and_then()

    async def _prune_now_and_then(self) -> None:
        now = self.clock()
        # a clock set back (now before the last prune) must not put pruning off until it catches up
        if self._pruned_at is None or not timedelta(0) <= now - self._pruned_at < PRUNE_EVERY:
            await store.prune(self.db, before=iso(now - KEEP_LOG))  # type: ignore[arg-type]
            self._pruned_at = now  # only once done: a prune refused by the storage goes again next pass

    # -- delivering ---------------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Deliver every row due now; returns how many were delivered. Tests call it directly."""
        receivers = await store.receivers_due(self.db, iso(self.clock()))  # type: ignore[arg-type]
        # every delivery in flight finishes and records itself before a storage failure stops the pass
        results = await asyncio.gather(*(self._serve(receiver) for receiver in receivers), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return sum(results)  # type: ignore[arg-type]

    async def _serve(self, endpoint_id: str) -> int:
        """One receiver's due deliveries, oldest first, one at a time, until none is due or one fails."""
        delivered = 0
        while not self.stopping:
            rows = await store.pending(self.db, endpoint_id, iso(self.clock()), self.batch)  # type: ignore[arg-type]
            for row in rows:
                if not await self._deliver(row):
                    return delivered  # the rest wait for the next pass
                delivered += 1
            if len(rows) < self.batch:
                break
        return delivered

    async def _deliver(self, row: Row) -> bool:
        """One attempt for one row, recorded either way. Never raises for the row's sake."""
        async with self._slots:
            if self.stopping:
                return False
            body = row["payload"].encode("utf-8")
            timestamp = int(self.clock().timestamp())
            headers = signing.headers(row["secret"], event=row["event"], delivery_id=row["id"], timestamp=timestamp, body=body)
            started = time.perf_counter()
            status: int | None = None
            error: str | None = None
            try:
                url = addresses.check_url(row["url"], allow_private=self.allow_private)
                async with self._http().post(url, data=body, headers=headers, allow_redirects=False) as response:
                    status = response.status
                    if not 200 <= status < 300:
                        error = f"HTTP {status} {response.reason or ''}".strip()
            except addresses.BadTarget as exc:
                error = f"refused: {exc}"
            except asyncio.TimeoutError:
                error = f"no answer within {self.timeout.total:g} s"
            except Exception as exc:  # refused, reset, TLS, DNS, blocked address: this row's problem only
                error = f"{type(exc).__name__}: {exc}"
            duration_ms = int((time.perf_counter() - started) * 1000)
            now = iso(self.clock())
        if error is None:
            await store.mark_delivered(self.db, row["id"], now=now, status=status, duration_ms=duration_ms)  # type: ignore[arg-type]
            self._count("delivered")
            log.info("webhook %s delivered (%s)", row["id"], status, extra=_extra(row, status))
            return True
        attempts = row["attempts"] + 1
        delay = retry_delay(attempts)
        retry_at = iso(self.clock() + delay) if delay else None
        await store.mark_failed(
            self.db, row["id"], now=now, status=status, error=error, duration_ms=duration_ms, retry_at=retry_at,  # type: ignore[arg-type]
        )
        if retry_at is None:
            self._count("failed")
            log.error("webhook %s to %s failed for good after %d attempts: %s", row["id"], row["url"], attempts, error, extra=_extra(row, status))
        else:
            self._count("retry")
            log.warning("webhook %s attempt %d failed, next at %s: %s", row["id"], attempts, retry_at, error, extra=_extra(row, status))
        return False

    def _count(self, result: str) -> None:
        if self.on_attempt is not None:
            self.on_attempt(result)


def _extra(row: Row, status: int | None) -> dict[str, Any]:
    return {"delivery_id": row["id"], "endpoint_id": row["endpoint_id"], "event": row["event"], "http_status": status}
