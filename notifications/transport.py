"""Hand a built e-mail to an SMTP relay (aiosmtplib) or, with no relay configured, to an .eml file."""

import asyncio
import email.policy
import hashlib
import os
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

import aiosmtplib
import pendulum

from models.outbox import MailFile
from settings.env import SmtpSettings, fallback_smtp_settings, mail_dir, smtp_settings, var_dir


class DeliveryError(Exception):
    """The transport did not accept the message: for now (it stays in the outbox for another attempt), or for good
    (`permanent`: the relay refused this very message, which no later attempt would change)."""

    def __init__(self, detail: str, permanent: bool = False) -> None:
        super().__init__(detail)
        self.permanent = permanent


def _replies(error: aiosmtplib.SMTPException) -> list[str]:
    """The relay's own words (never the addresses, which could say anything)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return [refused.message for refused in error.recipients]
    return [error.message] if isinstance(error, aiosmtplib.SMTPResponseException) else []


def _refusal_codes(error: aiosmtplib.SMTPException) -> list[int]:
    """The reply codes by which the relay refused this message (its sender, its recipients or its content).
    Refusals of the session itself (greeting, EHLO, authentication) are the relay's state, not the message's:
    they are retried like a connection error."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return [refused.code for refused in error.recipients]
    if isinstance(error, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return [error.code]
    return []


# Refusals that say the relay is not letting *us* through (authentication required, relaying denied: RFC 4954's
# 530, enhanced status 5.7.x of RFC 3463, or a reply that says "relay") are its configuration's fault, not the
# message's: fixing the relay must let every alert out, so they are retried like an outage, and escalated after a
# few attempts.
RELAY_POLICY = re.compile(r"\b5\.7\.\d{1,3}\b|\brelay", re.IGNORECASE)


def classify(error: aiosmtplib.SMTPException | OSError) -> DeliveryError:
    """4xx replies and connection errors are transient; a 5xx reply about the message itself is permanent (RFC 5321
    §4.2.1): a recipient unknown, a message too large or refused. The relay refusing our sender (save for size), or
    refusing by policy, is the relay's state: transient."""
    detail = f"{type(error).__name__}: {error}"
    codes = _refusal_codes(error) if isinstance(error, aiosmtplib.SMTPException) else []
    permanent = bool(codes) and all(500 <= code < 600 and code != 530 for code in codes)
    if isinstance(error, aiosmtplib.SMTPSenderRefused) and error.code != 552:
        permanent = False
    if isinstance(error, aiosmtplib.SMTPException) and any(RELAY_POLICY.search(reply) for reply in _replies(error)):
        permanent = False
    return DeliveryError(detail, permanent=permanent)


# Python's header folder drops the space between two encoded words it folds (the subject "… refusé définitivement"
# arrives as "…  refusédéfinitivement"): headers are kept on one line, which RFC 5322 allows up to 998 characters.
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)


def email_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends, headers unfolded)."""
    return message.as_bytes(policy=MAIL_POLICY)


def message_id_for(idempotency_key: str, domain: str) -> str:
    """A stable Message-ID: should a resend ever happen, mail clients see the same message."""
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


def thread_id_for(ref: str, domain: str) -> str:
    """The thread every mail of one incident belongs to (In-Reply-To, References): clients show them together."""
    return f"<incident-{hashlib.sha256(ref.encode()).hexdigest()[:16]}@{domain}>"


def build_email(*, sender: str, sender_name: str, recipient: str, recipient_name: str, subject: str, text: str,
                html: str, message_id: str, ref: str, now: pendulum.DateTime, ics: str | None = None,
                reply_to: list[tuple[str, str]] | None = None, thread: str | None = None,
                files: tuple[MailFile, ...] | list[MailFile] = ()) -> EmailMessage:
    """The message as it leaves: text and HTML, then the deadline's calendar event and the files it carries."""
    email = EmailMessage(policy=MAIL_POLICY)
    # Address objects, not strings: a display name with a comma or parentheses is quoted, never read as two
    # addresses or a comment.
    email["From"] = Address(display_name=sender_name, addr_spec=sender)
    email["To"] = Address(display_name=recipient_name, addr_spec=recipient)
    if reply_to:
        email["Reply-To"] = [Address(display_name=name, addr_spec=address) for name, address in reply_to]
    email["Subject"] = subject
    email["Message-ID"] = message_id
    if thread:
        email["In-Reply-To"] = thread
        email["References"] = thread
    email["Date"] = format_datetime(now)
    email["X-Incident-Ref"] = ref
    email["Content-Language"] = "fr"
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    if ics:
        email.add_attachment(ics, subtype="calendar", charset="utf-8", filename="echeance.ics",
                             params={"method": "PUBLISH"})
    for file in files:
        maintype, _, subtype = file.media_type.partition("/")
        # Base64 keeps the bytes exact (a CSV's byte-order mark, an OpenDocument zip); text says its charset.
        email.add_attachment(file.content, maintype=maintype, subtype=subtype, filename=file.filename,
                             params={"charset": "utf-8"} if maintype == "text" else None)
    return email


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire: serialized once, so that its size is checked and it is sent as the same bytes
    (serializing a message with files costs milliseconds: a burst must not pay it twice)."""

    email: EmailMessage
    wire: bytes
    ref: str  # the incident's reference, or "rapports": the folder of its .eml file

    @classmethod
    def of(cls, email: EmailMessage, ref: str) -> "Outgoing":
        return cls(email, email_bytes(email), ref)


class Transport(Protocol):
    name: str
    drill: bool  # a simulation's: every message is marked as an exercise before it is serialized

    async def send(self, outgoing: Outgoing) -> None: ...

    async def close(self) -> None: ...

    def abort(self) -> None:
        """Drop the connection at once, without QUIT: a message cut off mid-DATA must not be completed."""


class SmtpTransport:
    """One SMTP connection reused across a batch; any error drops it and the next message reconnects."""

    name, drill = "smtp", False

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self._turn = asyncio.Lock()  # one transaction at a time on the connection, whoever shares it

    async def send(self, outgoing: Outgoing) -> None:
        async with self._turn:
            await self._send(outgoing)

    async def _send(self, outgoing: Outgoing) -> None:
        email = outgoing.email
        try:
            client = await self._connected()
            await client.sendmail(email["From"].addresses[0].addr_spec, [email["To"].addresses[0].addr_spec],
                                  outgoing.wire)
        except (aiosmtplib.SMTPException, OSError) as error:
            await self.close()
            raise classify(error) from error
        except (ValueError, OverflowError) as error:  # a setting the client cannot use (a port out of range)
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

    def abort(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


class FileTransport:
    """The embedded default: one .eml file per message under var/mail/<ref>/."""

    name, drill = "file", False

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, outgoing: Outgoing) -> None:
        folder = self.directory / outgoing.ref
        folder.mkdir(parents=True, exist_ok=True)
        name = str(outgoing.email["Message-ID"]).strip("<>").split("@")[0]
        target = folder / f"{name}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(outgoing.wire)
        os.replace(partial, target)  # a reader never sees half a message

    async def close(self) -> None:
        return None

    def abort(self) -> None:
        return None


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
DRILL_HEADER = "X-Incidents-Exercice"


def mark_as_drill(email: EmailMessage) -> None:
    if email[DRILL_HEADER] is None:
        email[DRILL_HEADER] = "oui (registre de simulation)"


class DrillTransport:
    """A simulation's mail: marked as an exercise in a header of its own (`mark_as_drill`, before it is
    serialized), then handed on; a message that comes unmarked is marked here."""

    drill = True

    def __init__(self, inner: Transport) -> None:
        self.inner, self.name = inner, inner.name

    async def send(self, outgoing: Outgoing) -> None:
        if outgoing.email[DRILL_HEADER] is None:
            mark_as_drill(outgoing.email)
            outgoing = Outgoing.of(outgoing.email, outgoing.ref)
        await self.inner.send(outgoing)

    async def close(self) -> None:
        await self.inner.close()

    def abort(self) -> None:
        self.inner.abort()


def configured_transport() -> Transport:
    """The SMTP relay if one is set, else files. A simulation store never mails beyond this machine: its mail goes
    to files of its own, under var/simulations/<store>/mail/ (or to an SMTP server on this machine), marked as an
    exercise in its headers."""
    from models.db import simulation_name

    settings = smtp_settings()
    if not _is_drill():
        return SmtpTransport(settings) if settings else FileTransport(mail_dir())
    if settings and settings.host in LOOPBACK_HOSTS:
        return DrillTransport(SmtpTransport(settings))
    return DrillTransport(FileTransport(var_dir() / "simulations" / simulation_name() / "mail"))


def fallback_transport() -> Transport | None:
    """The second relay, if one is set (on this machine only, for a simulation): None otherwise."""
    settings = fallback_smtp_settings()
    if settings is None:
        return None
    if not _is_drill():
        return SmtpTransport(settings)
    return DrillTransport(SmtpTransport(settings)) if settings.host in LOOPBACK_HOSTS else None


def _is_drill() -> bool:
    from models.db import session_scope
    from models.store_mode import is_simulation

    with session_scope() as session:
        return is_simulation(session)
