"""The wired services one application uses."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from chatserver.config import Settings
from chatserver.delivery import STOP_GRACE_SECONDS
from chatserver.mail.worker import MailWorker
from chatserver.services.admin import Admin, CatalogAdmin, RuntimeSettings, TokenAdmin, UserAdmin
from chatserver.services.auth import AuthService
from chatserver.services.chats import ChatService
from chatserver.services.clock import Clock, system_clock
from chatserver.services.complaints import ComplaintService
from chatserver.services import events as ev
from chatserver.services.dispatch import Dispatcher
from chatserver.services.events import EventBus
from chatserver.services.knowledge import KnowledgeService
from chatserver.services.monitor import MonitorService
from chatserver.services.reports import ReportService
from chatserver.services.sla_sweeper import SlaSweeper
from chatserver.services.retention import Retention
from chatserver.services.supervision import SupervisionService
from chatserver.services.webhooks import BUS_EVENTS, WebhookService
from chatserver.store.db import BackgroundReads, Database
from chatserver.webhooks.worker import WebhookWorker

# the events after which the outbox may hold a new notice: every complaint change
MAIL_EVENTS = frozenset({ev.COMPLAINT_CREATED, ev.COMPLAINT_UPDATED, ev.COMPLAINT_SLA})


@dataclass
class Services:
    settings: Settings
    db: Database
    # reports and exports read here, never in front of chat's reads (store/db.py)
    background_reads: Database
    bus: EventBus
    clock: Clock
    auth: AuthService
    dispatcher: Dispatcher
    complaints: ComplaintService
    chats: ChatService
    monitor: MonitorService
    supervision: SupervisionService
    retention: Retention
    knowledge: KnowledgeService
    reports: ReportService
    sweeper: SlaSweeper
    mail: MailWorker
    # database overrides of configured settings; widget and auth read the effective values
    runtime: RuntimeSettings
    admin: Admin
    webhooks: WebhookService
    webhook_worker: WebhookWorker


async def build_services(settings: Settings, secret_key: str, clock: Clock = system_clock) -> Services:
    """Open and migrate the database, rebuild live state, and wire the services (the app starts the workers)."""
    db = Database(settings.db, settings.db_synchronous, settings.db_busy_timeout)
    await db.prepare()  # DatabaseUnusable when the file cannot be opened, migrated or written
    background_reads = BackgroundReads(settings.db)
    try:
        await background_reads.open()
        bus = EventBus()
        dispatcher = Dispatcher(db, bus, clock, queue_timeout=settings.queue_timeout, agent_grace=settings.agent_grace)
        complaint_service = ComplaintService(
            db, bus, clock, secret_key,
            sla_warning_hours=settings.sla_warning_hours,
            complaint_autoclose_days=settings.complaint_autoclose_days,
            base_url=settings.base_url,
            lists=background_reads,
        )
        chats = ChatService(
            db, bus, clock, dispatcher, complaint_service, queue_timeout=settings.queue_timeout,
            waiting_per_address=settings.waiting_chats_per_address,
        )
        auth = AuthService(db, bus, clock, settings.identity_secret)
        runtime = RuntimeSettings(db, clock, settings, dispatcher=dispatcher, chats=chats, auth=auth)
        await runtime.load()
        webhook_worker = WebhookWorker(db, settings, clock)
        retention = Retention(db, clock)
        webhooks = WebhookService(db, clock, allow_private=settings.webhook_allow_private, notify=webhook_worker.notify)
        await webhooks.load()
        services = Services(
            settings=settings,
            db=db,
            background_reads=background_reads,
            bus=bus,
            clock=clock,
            auth=auth,
            dispatcher=dispatcher,
            complaints=complaint_service,
            chats=chats,
            monitor=MonitorService(
                db, dispatcher, clock, warn_before=complaint_service.warn_before, queue_timeout=settings.queue_timeout
            ),
            supervision=SupervisionService(db, dispatcher, chats, complaint_service),
            knowledge=KnowledgeService(db),
            reports=ReportService(background_reads, clock, db),
            sweeper=SlaSweeper(complaint_service, settings.sla_sweep_seconds, retention),
            retention=retention,
            mail=MailWorker(db, settings, clock),
            runtime=runtime,
            admin=Admin(UserAdmin(db, bus, clock, dispatcher), CatalogAdmin(db, clock), TokenAdmin(db, bus, clock), runtime),
            webhooks=webhooks,
            webhook_worker=webhook_worker,
        )
        # every complaint change may have queued a notice (only those: the message path stays free);
        # the app starts the worker
        bus.subscribe(services.mail.on_event, MAIL_EVENTS)
        # chat and complaint events become webhook deliveries, written in the change's transaction
        # (only those: the message path stays free); the commit then wakes the worker
        bus.subscribe_in_transaction(services.webhooks.write_in, BUS_EVENTS)
        # the monitor notes agents' last messages and which of its figures went stale
        bus.subscribe(services.monitor.on_event)
        await dispatcher.load()
        return services
    except BaseException:
        await background_reads.close()  # their threads would keep the process alive
        await db.close()
        raise


async def close_services(services: Services) -> None:
    services.dispatcher.stop()
    await services.sweeper.stop()
    # together, and within the stop's own timeout: their grace began when the server began to stop
    grace = min(STOP_GRACE_SECONDS, services.settings.shutdown_timeout)
    await asyncio.gather(services.mail.stop(grace), services.webhook_worker.stop(grace))
    await services.background_reads.close()
    await services.db.close()
