"""Deliver outbox messages: claim, render if needed, send, record. Safe to run twice or concurrently."""

from dataclasses import dataclass, field
from email.message import EmailMessage

import pendulum
from sqlmodel import and_, col, or_, select

from models.db import session_scope
from models.incident import Incident
from models.obligation import Obligation
from models.outbox import MessageStatus, OutboxMessage
from models.transitions import claim_message, record_delivery, record_delivery_failure, store_rendering
from notifications.context import alert_context
from notifications.render import render_message
from notifications.transport import (
    DeliveryError,
    Transport,
    build_email,
    configured_transport,
    message_id_for,
)
from settings.parties import Parties

# A claimed message is left alone this long; after that a crashed attempt is presumed dead and retried.
CLAIM_LEASE_SECONDS = 120


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def deliverable_ids(now: pendulum.DateTime, incident_id: int | None = None) -> list[int]:
    """Messages waiting, plus those whose delivery attempt was abandoned (lease expired)."""
    with session_scope() as session:
        query = select(OutboxMessage.id).where(or_(
            OutboxMessage.status == MessageStatus.PENDING,
            and_(col(OutboxMessage.status) == MessageStatus.SENDING, col(OutboxMessage.claimed_until) <= now),
        ))
        if incident_id is not None:
            query = query.where(OutboxMessage.incident_id == incident_id)
        return [message_id for message_id in session.exec(query.order_by(col(OutboxMessage.id))) if message_id]


async def deliver(message_ids: list[int], parties: Parties, now: pendulum.DateTime,
                  transport: Transport | None = None) -> DeliveryReport:
    transport = transport or configured_transport()
    report = DeliveryReport()
    for message_id in message_ids:
        prepared = _claim_and_render(message_id, parties, now)
        if prepared is None:
            continue
        email, ref = prepared
        try:
            await transport.send(email, ref)
        except DeliveryError as error:
            with session_scope() as session:
                message = session.get(OutboxMessage, message_id)
                assert message is not None
                record_delivery_failure(session, message, str(error), now)
            report.failed.append(message_id)
            continue
        with session_scope() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            record_delivery(session, message, transport=transport.name, message_id=str(email["Message-ID"]), now=now)
        report.delivered.append(message_id)
    return report


def _claim_and_render(message_id: int, parties: Parties, now: pendulum.DateTime) -> tuple[EmailMessage, str] | None:
    """Claim a message and build its e-mail (rendering it first if needed); None if it is not ours to send."""
    with session_scope() as session:
        if not claim_message(session, message_id, now, CLAIM_LEASE_SECONDS):
            return None
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        incident = session.get(Incident, message.incident_id)
        assert incident is not None
        if not message.rendered:
            obligation = session.get(Obligation, message.obligation_id)
            assert obligation is not None
            rendered = render_message(message.template, alert_context(incident, obligation, message, parties, now))
            store_rendering(session, message, rendered.subject, rendered.text, rendered.html)
        assert message.subject is not None and message.body_text is not None and message.body_html is not None
        domain = str(parties.academy.mail_from).split("@")[1]
        email = build_email(
            sender=str(parties.academy.mail_from), sender_name=f"Incidents ENT – {parties.academy.name}",
            recipient=message.recipient_email, recipient_name=message.recipient_name, subject=message.subject,
            text=message.body_text, html=message.body_html,
            message_id=message_id_for(message.idempotency_key, domain), ref=incident.ref, now=now,
        )
        return email, incident.ref
