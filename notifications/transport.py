"""Hand a built e-mail to an SMTP relay (aiosmtplib) or, with no relay configured, to an .eml file."""

import hashlib
import os
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Protocol

import aiosmtplib
import pendulum

from settings.env import SmtpSettings, mail_dir, smtp_settings, var_dir


class DeliveryError(Exception):
    """The transport did not accept the message; it stays in the outbox for another attempt."""


def message_id_for(idempotency_key: str, domain: str) -> str:
    """A stable Message-ID: should a resend ever happen, mail clients see the same message."""
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


def build_email(*, sender: str, sender_name: str, recipient: str, recipient_name: str, subject: str, text: str,
                html: str, message_id: str, ref: str, now: pendulum.DateTime, ics: str | None = None) -> EmailMessage:
    email = EmailMessage()
    email["From"] = formataddr((sender_name, sender))
    email["To"] = formataddr((recipient_name, recipient))
    email["Subject"] = subject
    email["Message-ID"] = message_id
    email["Date"] = format_datetime(now)
    email["X-Incident-Ref"] = ref
    email["Content-Language"] = "fr"
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    if ics:
        email.add_attachment(ics, subtype="calendar", charset="utf-8", filename="echeance.ics",
                             params={"method": "PUBLISH"})
    return email


class Transport(Protocol):
    name: str

    async def send(self, email: EmailMessage, ref: str) -> None: ...

    async def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection reused across a batch; any error drops it and the next message reconnects."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def send(self, email: EmailMessage, ref: str) -> None:
        try:
            client = await self._connected()
            await client.send_message(email)
        except (aiosmtplib.SMTPException, OSError) as error:
            await self.close()
            raise DeliveryError(f"{type(error).__name__}: {error}") from error

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is None or not self._client.is_connected:
            s = self.settings
            client = aiosmtplib.SMTP(hostname=s.host, port=s.port, username=s.username, password=s.password,
                                     start_tls=s.starttls, use_tls=s.use_tls, timeout=s.timeout)
            await client.connect()
            self._client = client
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


class FileTransport:
    """The embedded default: one .eml file per message under var/mail/<ref>/."""

    name = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, email: EmailMessage, ref: str) -> None:
        folder = self.directory / ref
        folder.mkdir(parents=True, exist_ok=True)
        name = str(email["Message-ID"]).strip("<>").split("@")[0]
        target = folder / f"{name}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(bytes(email))
        os.replace(partial, target)  # a reader never sees half a message

    async def close(self) -> None:
        return None


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
DRILL_HEADER = "X-Incidents-Exercice"


class DrillTransport:
    """A simulation's mail: marked as an exercise in a header of its own, then handed on."""

    def __init__(self, inner: Transport) -> None:
        self.inner, self.name = inner, inner.name

    async def send(self, email: EmailMessage, ref: str) -> None:
        if email[DRILL_HEADER] is None:
            email[DRILL_HEADER] = "oui (registre de simulation)"
        await self.inner.send(email, ref)

    async def close(self) -> None:
        await self.inner.close()


def configured_transport() -> Transport:
    """The SMTP relay if one is set, else files. A simulation store never mails beyond this machine: its mail goes
    to files of its own, under var/simulations/<store>/mail/ (or to an SMTP server on this machine), marked as an
    exercise in its headers."""
    from models.db import session_scope, simulation_name
    from models.store_mode import is_simulation

    settings = smtp_settings()
    with session_scope() as session:
        drill = is_simulation(session)
    if not drill:
        return SmtpTransport(settings) if settings else FileTransport(mail_dir())
    if settings and settings.host in LOOPBACK_HOSTS:
        return DrillTransport(SmtpTransport(settings))
    return DrillTransport(FileTransport(var_dir() / "simulations" / simulation_name() / "mail"))
