"""Where rendered mail goes: an SMTP server, or the log when none is configured."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from typing import Any, Protocol

import aiosmtplib

from chatserver.config import Settings

log = logging.getLogger("chatserver.mail")


class AddressRefused(Exception):
    """The receiving server refused the address for good (a 5xx reply to RCPT): no retry makes it exist."""


# RFC 3463 X.7.X: security or policy, such as "554 5.7.1 Relay access denied" from a relay that wants a
# login we did not give. Such a refusal is about us, not the mailbox: fixing our side ends it.
_POLICY_STATUS = re.compile(r"5\.7\.\d{1,3}\b")


def _mailbox_refused_for_good(refusal: aiosmtplib.SMTPRecipientRefused) -> bool:
    """A 5xx to RCPT that says the mailbox cannot take mail (no such user, no such domain, disabled)."""
    if refusal.code < 500 or refusal.code == 530:  # 530: authentication required
        return False
    return _POLICY_STATUS.match(refusal.message.lstrip()) is None


class ServerUnavailable(Exception):
    """The server takes no mail from us now, whoever it is for: no conversation with it (refused, timed
    out, hung up), or it turned down our greeting, our login, our sender address or the encryption we
    asked for. Every other message would meet the same, so the worker waits before trying any."""


# failures that say nothing about the recipient: a wrong password or a refused sender would refuse
# every waiting notice alike, one connection each
SERVER_WIDE = (
    aiosmtplib.SMTPConnectError, aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected, OSError,
    aiosmtplib.SMTPHeloError, aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPNotSupported,
)


class MessageCutOff(Exception):
    """The server took our sender and the recipient, then hung up or went silent on this message: the
    message's own failure, retried on its backoff like any other, not a server taking no mail at all
    (it would hold every notice behind this one, again and again, without using up its attempts)."""


class _Client(aiosmtplib.SMTP):
    async def data(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().data(*args, **kwargs)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
            raise MessageCutOff(f"{type(exc).__name__}: {exc}") from exc


class Transport(Protocol):
    async def send(self, message: EmailMessage, recipient: str) -> None:
        """Hand one message over for `recipient` only; raise when it was not accepted (AddressRefused,
        ServerUnavailable, or any other exception for a failure worth retrying)."""


class SmtpTransport:
    """One SMTP connection per message: notices are few, and a fresh connection has no stale state."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "starttls",
        user: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        assert security in ("starttls", "tls", "none"), security
        self.host = host
        self.port = port
        self.security = security
        self.user = user
        self.password = password
        self.timeout = timeout

    async def send(self, message: EmailMessage, recipient: str) -> None:
        try:
            await self._send(message, recipient)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if exc.recipients and all(_mailbox_refused_for_good(refusal) for refusal in exc.recipients):
                raise AddressRefused(str(exc)) from exc
            raise
        except SERVER_WIDE as exc:
            raise ServerUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def _send(self, message: EmailMessage, recipient: str) -> None:
        client = _Client(
            hostname=self.host,
            port=self.port,
            username=self.user or None,
            password=self.password if self.user else None,
            use_tls=self.security == "tls",
            # "none" must not upgrade on its own either: the operator chose a plain connection
            start_tls=self.security == "starttls",
            timeout=self.timeout,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPException as exc:
            # greeting, encryption and login come before any message: a server that does not offer
            # the STARTTLS or the login we were told to use refuses every waiting notice alike
            raise ServerUnavailable(f"{type(exc).__name__}: {exc}") from exc
        async with client:
            # the envelope names the one recipient, whatever the headers say
            await client.send_message(message, sender=message["From"].addresses[0].addr_spec, recipients=[recipient])


class LogTransport:
    """For development and demos: the message is written to the log, nothing leaves the machine."""

    async def send(self, message: EmailMessage, recipient: str) -> None:
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        log.info("mail to %s\nSubject: %s\n\n%s", recipient, message["Subject"], text.rstrip())


def transport_for(settings: Settings) -> Transport:
    if not settings.smtp_host:
        return LogTransport()
    return SmtpTransport(
        settings.smtp_host,
        settings.smtp_port,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=settings.smtp_password,
    )
