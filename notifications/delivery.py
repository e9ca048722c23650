"""Deliver outbox messages: claim, render if needed, send, record. Safe to run twice or concurrently."""

from dataclasses import dataclass, field
from email.message import EmailMessage

import pendulum
from sqlmodel import Session, and_, col, or_, select

from models.commands import RecordDelivery, RecordFailure
from models.db import session_scope
from models.door import ENGINE, execute
from models.incident import Incident
from models.messaging import claim_message, store_rendering
from models.obligation import Obligation
from models.outbox import MessageStatus, OutboxMessage
from notifications.calendar import deadline_event
from notifications.context import CONTEXTS, OBLIGATION_LABELS, WITH_CALENDAR
from notifications.render import render_message
from notifications.transport import DeliveryError, Transport, build_email, configured_transport, message_id_for
from policy.clocks import ObligationKind
from settings.parties import Parties

# A claimed message is left alone this long; after that a crashed attempt is presumed dead and retried.
CLAIM_LEASE_SECONDS = 120


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


def deliverable_ids(now: pendulum.DateTime, incident_id: int | None = None) -> list[int]:
    """Messages due for an attempt, plus those whose attempt was abandoned (lease expired)."""
    with session_scope() as session:
        query = select(OutboxMessage.id).where(or_(
            and_(col(OutboxMessage.status) == MessageStatus.PENDING,
                 or_(col(OutboxMessage.next_attempt_at).is_(None), col(OutboxMessage.next_attempt_at) <= now)),
            and_(col(OutboxMessage.status) == MessageStatus.SENDING, col(OutboxMessage.claimed_until) <= now),
        ))
        if incident_id is not None:
            query = query.where(OutboxMessage.incident_id == incident_id)
        return [message_id for message_id in session.exec(query.order_by(col(OutboxMessage.id))) if message_id]


async def deliver(message_ids: list[int], parties: Parties, now: pendulum.DateTime,
                  transport: Transport | None = None) -> DeliveryReport:
    transport = transport or configured_transport()
    report = DeliveryReport()
    try:
        for message_id in message_ids:
            await _deliver_one(message_id, parties, now, transport, report)
    finally:
        await transport.close()
    return report


async def _deliver_one(message_id: int, parties: Parties, now: pendulum.DateTime, transport: Transport,
                       report: DeliveryReport) -> None:
    prepared = _claim_and_build(message_id, parties, now)
    if prepared is None:
        return
    email, incident_id = prepared
    try:
        await transport.send(email, str(email["X-Incident-Ref"] or "rapports"))
    except DeliveryError as error:
        with session_scope() as session:
            if execute(session, RecordFailure(incident_id=incident_id, message_id=message_id, error=str(error)),
                       ENGINE, now, parties):
                report.escalated.append(message_id)
        report.failed.append(message_id)
        return
    with session_scope() as session:
        execute(session, RecordDelivery(incident_id=incident_id, message_id=message_id, transport=transport.name,
                                        smtp_message_id=str(email["Message-ID"])), ENGINE, now, parties)
    report.delivered.append(message_id)


def _claim_and_build(message_id: int, parties: Parties,
                     now: pendulum.DateTime) -> tuple[EmailMessage, int | None] | None:
    """Claim a message and build its e-mail (rendering it first if needed); None if it is not ours to send."""
    with session_scope() as session:
        if not claim_message(session, message_id, now, CLAIM_LEASE_SECONDS):
            return None
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        incident = session.get(Incident, message.incident_id) if message.incident_id else None
        ref = incident.ref if incident else "rapports"
        domain = str(parties.academy.mail_from).split("@")[1]
        if not message.rendered:
            assert incident is not None  # only incident messages are rendered at delivery
            rendered = render_message(message.template,
                                      CONTEXTS[message.template](session, message, incident, parties, now))
            store_rendering(session, message, rendered.subject, rendered.text, rendered.html,
                            _calendar(session, message, ref, domain, now))
        assert message.subject is not None and message.body_text is not None and message.body_html is not None
        email = build_email(
            sender=str(parties.academy.mail_from), sender_name=f"Incidents ENT – {parties.academy.name}",
            recipient=message.recipient_email, recipient_name=message.recipient_name, subject=message.subject,
            text=message.body_text, html=message.body_html, ics=message.attachment_ics,
            message_id=message_id_for(message.idempotency_key, domain), ref=ref, now=now,
        )
        return email, message.incident_id


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
