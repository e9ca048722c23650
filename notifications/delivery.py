"""Deliver outbox messages: claim a batch, then for each message still ours: render if needed, send, record.
Safe to run twice or concurrently: claims carry a token and a lease on the wall clock, renewed while the pass
runs, and a message is sent only while its claim is still this pass's. The only way a message leaves twice is a
process that dies after the relay accepted it and before its delivery was recorded; it then leaves again with the
same Message-ID, so that mail clients show it once."""

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage

import pendulum
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, col, select

from models.commands import RecordDelivery, RecordFailure
from models.db import in_transaction, session_scope
from models.door import ENGINE, run
from models.incident import Incident
from models.messaging import begin_attempt, claim_batch, due_for_delivery, release_claims, renew_claims, store_rendering
from models.obligation import Obligation
from models.outbox import OutboxMessage, files_of
from notifications.calendar import deadline_event
from notifications.context import ATTACHED, CONTEXTS, CROSS_PARTY, OBLIGATION_LABELS, WITH_CALENDAR
from notifications.transport import (
    DeliveryError,
    Transport,
    build_email,
    configured_transport,
    email_bytes,
    fallback_transport,
    message_id_for,
    thread_id_for,
)
from policy.clocks import ObligationKind
from policy.parties import Party
from rendering.environment import render_message
from settings.env import claim_lease_seconds
from settings.parties import Parties

BATCH_SIZE = 50


def boot_clock() -> float:
    """Seconds on a clock that also counts the time a machine spends suspended (Linux's CLOCK_BOOTTIME), unlike the
    monotonic clock: a pass that resumes after a suspension knows its claims may have run out."""
    return time.clock_gettime(time.CLOCK_BOOTTIME) if hasattr(time, "CLOCK_BOOTTIME") else time.monotonic()


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Prepared:
    email: EmailMessage
    incident_id: int | None
    template: str
    too_large: str | None  # why it is refused before it reaches the relay
    attempt_started: float  # on the boot clock: the claim holds a lease from then


def deliverable_ids(now: pendulum.DateTime, incident_id: int | None = None) -> list[int]:
    """Messages a pass would claim as of `now` (read only)."""
    with session_scope() as session:
        query = select(OutboxMessage.id).where(due_for_delivery(now, pendulum.now("UTC")))
        if incident_id is not None:
            query = query.where(OutboxMessage.incident_id == incident_id)
        return [message_id for message_id in session.exec(query.order_by(col(OutboxMessage.id))) if message_id]


async def deliver(parties: Parties, now: pendulum.DateTime, incident_id: int | None = None,
                  transport: Transport | None = None) -> DeliveryReport:
    """Deliver every message due as of `now` (the replay instant, for the retry rule), batch after batch, those
    queued meanwhile included (a failure notice): a failed message is due again only after its backoff."""
    pass_ = _Pass(parties, now, transport or configured_transport(), fallback_transport())
    try:
        while batch := pass_.claim(incident_id):
            await pass_.deliver_batch(batch)
    finally:
        await pass_.close()
    return pass_.report


class _Pass:
    """One delivery pass: its claim token, its lease kept alive while it runs, its relays and what happened."""

    def __init__(self, parties: Parties, now: pendulum.DateTime, transport: Transport,
                 fallback: Transport | None) -> None:
        self.parties, self.now, self.transport, self.fallback = parties, now, transport, fallback
        self.token, self.lease = uuid.uuid4().hex, claim_lease_seconds()
        self.report = DeliveryReport()
        self._held_until = 0.0  # on the boot clock: until when this pass's claims surely hold
        self._sending: asyncio.Timeout | None = None
        self._heartbeat = asyncio.create_task(self._keep_claims())

    def claim(self, incident_id: int | None) -> list[int]:
        return in_transaction(lambda session: claim_batch(
            session, token=self.token, replay_now=self.now, lease_seconds=self.lease, limit=BATCH_SIZE,
            incident_id=incident_id))

    async def deliver_batch(self, batch: list[int]) -> None:
        for position, message_id in enumerate(batch):
            try:
                await self._deliver_one(message_id)
            except BaseException:
                self._release(batch[position + 1:])
                raise

    def _release(self, untried: list[int]) -> None:
        """What this pass had not tried yet is due again at once, not after the lease."""
        if untried:
            in_transaction(lambda session: release_claims(session, self.token, untried))

    async def _keep_claims(self) -> None:
        """Renew this pass's claims a few times per lease: they outlive a slow relay, not a dead or paused process.
        A send in progress may go on as long as the claims are renewed."""
        while True:
            await asyncio.sleep(self.lease / 4)
            renewed_at = boot_clock()
            with contextlib.suppress(DBAPIError):
                in_transaction(lambda session: renew_claims(session, self.token, self.lease))
                self._hold(renewed_at)

    def _hold(self, since: float) -> None:
        """The claims hold a lease from `since`; a send must end a quarter lease before another pass may take over."""
        self._held_until = max(self._held_until, since + self.lease)
        if self._sending is not None and not self._sending.expired():
            loop_deadline = asyncio.get_running_loop().time() + self._held_until - boot_clock() - self.lease / 4
            self._sending.reschedule(loop_deadline)

    async def close(self) -> None:
        self._heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._heartbeat
        await self.transport.close()
        if self.fallback is not None:
            await self.fallback.close()

    async def _deliver_one(self, message_id: int) -> None:
        try:
            prepared = in_transaction(lambda session: self._prepare(session, message_id))
        except SQLAlchemyError:
            raise
        except Exception as error:  # noqa: BLE001 - one message that cannot be built must not stop the pass
            self._unbuildable(message_id, error)
            return
        if prepared is None:
            return  # cancelled, settled or taken over meanwhile: not ours to send
        if prepared.too_large:
            self._record_failure(message_id, prepared.incident_id, prepared.too_large, permanent=True)
            return
        # A send starts, and goes on, only while the claim surely is still this pass's: a process paused past its
        # lease (stopped, or on a suspended machine) must not send what another pass has taken over meanwhile.
        self._hold(prepared.attempt_started)
        remaining = self._held_until - boot_clock() - self.lease / 4
        if remaining <= 0:
            self._release([message_id])
            return
        # The notices that mail is failing go by the second relay when there is one: not through the one failing.
        transport = self.fallback if prepared.template == "delivery_failure" and self.fallback else self.transport
        try:
            async with asyncio.timeout(remaining) as self._sending:
                await transport.send(prepared.email, str(prepared.email["X-Incident-Ref"] or "rapports"))
        except DeliveryError as error:
            self._sending = None
            self._record_failure(message_id, prepared.incident_id, str(error), permanent=error.permanent)
            return
        except TimeoutError:  # a renewal failed to come (the process was paused): the message may be another's now
            self._sending = None
            await transport.close()
            self._record_failure(message_id, prepared.incident_id, "délai de la réservation dépassé pendant l'envoi",
                                 permanent=False)
            return
        self._sending = None
        run(RecordDelivery(incident_id=prepared.incident_id, message_id=message_id, transport=transport.name,
                           smtp_message_id=str(prepared.email["Message-ID"]), claim_token=self.token),
            ENGINE, self.now, self.parties)
        self.report.delivered.append(message_id)

    def _unbuildable(self, message_id: int, error: Exception) -> None:
        """A message that cannot be rendered (an académie's template with an error, say) counts as a failed attempt:
        retried with backoff, then escalated, like a relay that refuses it for now."""
        attempted = in_transaction(lambda session: begin_attempt(session, message_id, self.token, self.lease))
        if attempted is None:
            return
        self._record_failure(message_id, attempted.incident_id, f"message impossible à composer "
                                                                 f"({type(error).__name__}: {error})"[:500],
                             permanent=False)

    def _record_failure(self, message_id: int, incident_id: int | None, error: str, permanent: bool) -> None:
        escalated = run(RecordFailure(incident_id=incident_id, message_id=message_id, error=error,
                                      permanent=permanent, claim_token=self.token), ENGINE, self.now, self.parties)
        (self.report.refused if permanent else self.report.failed).append(message_id)
        if escalated:
            self.report.escalated.append(message_id)

    def _prepare(self, session: Session, message_id: int) -> Prepared | None:
        """Count the attempt and build the e-mail (rendering it first if needed), if the claim is still ours."""
        attempt_started = boot_clock()
        message = begin_attempt(session, message_id, self.token, self.lease)
        if message is None:
            return None
        parties, now = self.parties, self.now
        incident = session.get(Incident, message.incident_id) if message.incident_id else None
        ref = incident.ref if incident else "rapports"
        domain = str(parties.academy.mail_from).split("@")[1]
        if not message.rendered:
            assert incident is not None  # only incident messages are rendered at delivery
            rendered = render_message(message.template,
                                      CONTEXTS[message.template](session, message, incident, parties, now))
            attach = ATTACHED.get(message.template)
            store_rendering(session, message, rendered.subject, rendered.text, rendered.html,
                            _calendar(session, message, ref, domain, now),
                            attach(session, message, incident, parties, now) if attach else ())
        assert message.subject is not None and message.body_text is not None and message.body_html is not None
        # An answer to what one party tells the other goes to the party that declared (the robot address reads
        # nothing); the mails of an incident form one thread.
        reply_to = [(c.name, str(c.email)) for c in parties.operational_contacts(Party(incident.declared_by),
                                                                                  incident.municipality_insee)] \
            if incident is not None and message.template in CROSS_PARTY else None
        email = build_email(
            sender=str(parties.academy.mail_from), sender_name=f"Incidents ENT – {parties.academy.name}",
            recipient=message.recipient_email, recipient_name=message.recipient_name, subject=message.subject,
            text=message.body_text, html=message.body_html, ics=message.attachment_ics,
            files=files_of(session, message_id),
            message_id=message_id_for(message.idempotency_key, domain), ref=ref, now=now, reply_to=reply_to,
            thread=thread_id_for(ref, domain) if incident is not None else None,
        )
        # Counted as it goes on the wire: its files, base64-encoded, included.
        size, limit = len(email_bytes(email)), parties.engine.max_message_kilobytes * 1024
        too_large = f"message trop volumineux ({size // 1024} Ko, limite {limit // 1024} Ko)" if size > limit else None
        return Prepared(email, message.incident_id, message.template, too_large, attempt_started)


def _calendar(session: Session, message: OutboxMessage, ref: str, domain: str, now: pendulum.DateTime) -> str | None:
    if message.template not in WITH_CALENDAR or message.obligation_id is None:
        return None
    obligation = session.get(Obligation, message.obligation_id)
    assert obligation is not None
    label = OBLIGATION_LABELS[ObligationKind(obligation.kind)]
    return deadline_event(uid=f"{ref}-{obligation.kind}-{obligation.id}@{domain}",
                          summary=f"[{ref}] Échéance : {label}",
                          description=f"Échéance de l'obligation « {label} » pour l'incident {ref}.",
                          due_at=pendulum.instance(obligation.due_at), stamp=now)
