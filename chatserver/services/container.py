"""The wired services one application uses."""

from __future__ import annotations

from dataclasses import dataclass

from chatserver.config import Settings
from chatserver.mail.worker import MailWorker
from chatserver.services.auth import AuthService
from chatserver.services.chats import ChatService
from chatserver.services.clock import Clock, system_clock
from chatserver.services.complaints import ComplaintService
from chatserver.services.dispatch import Dispatcher
from chatserver.services.events import EventBus
from chatserver.services.knowledge import KnowledgeService
from chatserver.services.monitor import MonitorService
from chatserver.services.sla_sweeper import SlaSweeper
from chatserver.store.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: EventBus
    clock: Clock
    auth: AuthService
    dispatcher: Dispatcher
    complaints: ComplaintService
    chats: ChatService
    monitor: MonitorService
    knowledge: KnowledgeService
    sweeper: SlaSweeper
    mail: MailWorker


async def build_services(settings: Settings, secret_key: str, clock: Clock = system_clock) -> Services:
    """Open and migrate the database, rebuild live state, and wire the services (the app starts the workers)."""
    db = Database(settings.db, settings.db_synchronous)
    await db.open()
    await db.migrate()
    bus = EventBus()
    dispatcher = Dispatcher(db, bus, clock, queue_timeout=settings.queue_timeout, agent_grace=settings.agent_grace)
    complaint_service = ComplaintService(
        db, bus, clock, secret_key,
        sla_warning_hours=settings.sla_warning_hours,
        complaint_autoclose_days=settings.complaint_autoclose_days,
        base_url=settings.base_url,
    )
    chats = ChatService(db, bus, clock, dispatcher, complaint_service, queue_timeout=settings.queue_timeout)
    services = Services(
        settings=settings,
        db=db,
        bus=bus,
        clock=clock,
        auth=AuthService(db, bus, clock, settings.identity_secret),
        dispatcher=dispatcher,
        complaints=complaint_service,
        chats=chats,
        monitor=MonitorService(dispatcher, clock),
        knowledge=KnowledgeService(db),
        sweeper=SlaSweeper(complaint_service, settings.sla_sweep_seconds),
        mail=MailWorker(db, settings, clock),
    )
    # every complaint change may have queued a notice; the app starts the worker
    bus.subscribe(services.mail.on_event)
    await dispatcher.load()
    return services


async def close_services(services: Services) -> None:
    services.dispatcher.stop()
    await services.sweeper.stop()
    await services.mail.stop()
    await services.db.close()
