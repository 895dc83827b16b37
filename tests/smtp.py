"""A real SMTP server (aiosmtpd, in its own thread) on a free port that keeps what it receives."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Iterator

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.procs import HOST, free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        return part.get_content() if part is not None else ""


@dataclass
class Inbox:
    """The server's handler: keeps each accepted message; refuses the addresses in `refuse`, and every
    address while `deny_relay` is set (a relay that wants a login we did not give, as Postfix says it);
    asks to try the addresses in `defer` later (a full or greylisting mailbox); hangs up, without an
    answer, on a message for an address in `hang_up` once it has it (a content filter that dies on it)."""

    refuse: set[str] = field(default_factory=set)
    defer: set[str] = field(default_factory=set)
    hang_up: set[str] = field(default_factory=set)
    refuse_senders: bool = False
    deny_relay: bool = False
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list) -> str:
        if self.refuse_senders:
            return "553 5.7.1 sender not allowed to relay"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        if address in self.defer:
            return "452 4.2.2 mailbox full, try again later"
        if self.deny_relay:
            return f"554 5.7.1 <{address}>: Relay access denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hang_up.intersection(envelope.rcpt_tos):
            server.transport.close()
            return "421 4.3.0 closing"  # never reaches the client: the connection is gone
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            self.logins.append((user, password))
            # handled=False: aiosmtpd answers a refusal with 535 itself, instead of leaving the client waiting
            return AuthResult(success=(user, password) == ("mailer", "s3cret"), handled=False)
        return AuthResult(success=False, handled=False)


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


@contextmanager
def smtp_server(*, auth: bool = False) -> Iterator[SmtpServer]:
    """Plain SMTP (no TLS) on 127.0.0.1; with `auth`, it offers LOGIN/PLAIN for mailer/s3cret."""
    inbox = Inbox()
    port = free_port()
    options: dict[str, Any] = {"authenticator": inbox.authenticate, "auth_require_tls": False} if auth else {}
    controller = Controller(inbox, hostname=HOST, port=port, **options)
    controller.start()
    try:
        yield SmtpServer(HOST, port, inbox)
    finally:
        controller.stop()
