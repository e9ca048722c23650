"""Outbox transitions: enqueue, claim, render, cancel; and the door's handlers for what the relay answered:
delivered (which may meet an obligation) or failed (backoff, escalation to the sending party)."""

import pendulum
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.cadence import meet, open_follow_up
from models.commands import RecordDelivery, RecordFailure
from models.incident import Incident
from models.journal import ENGINE_ACTOR, ENGINE_PARTY, record, utc_iso
from models.obligation import Obligation
from models.outbox import MessageStatus, OutboxMessage
from policy.clocks import ObligationKind
from policy.parties import Party
from policy.retry import backoff_seconds, should_escalate
from policy.transitions import EntryKind
from settings.parties import Contact, Parties, Person


def enqueue(session: Session, incident: Incident, *, template: str, step: str, recipients: list[Contact],
            recipient_party: Party, obligation: Obligation | None = None, fulfils: bool = False,
            key: str | None = None) -> list[OutboxMessage]:
    """Store one message per recipient; a message whose idempotency key exists already is not stored twice."""
    assert incident.id is not None
    scope_key = key or (f"{obligation.kind}#{obligation.id}" if obligation else template)
    added = []
    for contact in recipients:
        idempotency_key = f"{incident.ref}/{scope_key}/{contact.email}/{step}"
        exists = session.exec(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)).first()
        if exists:
            continue
        message = OutboxMessage(
            incident_id=incident.id, obligation_id=obligation.id if obligation else None,
            idempotency_key=idempotency_key, template=template, step=step, fulfils=fulfils,
            recipient_name=contact.name, recipient_email=str(contact.email), recipient_party=recipient_party,
        )
        session.add(message)
        added.append(message)
    session.flush()
    return added


def enqueue_report(session: Session, *, key: str, recipients: list[Contact], party: Party, subject: str,
                   text: str, html: str) -> list[OutboxMessage]:
    """A periodic report's mail, already rendered; one per recipient and key, never twice."""
    added = []
    for contact in recipients:
        idempotency_key = f"{key}/{contact.email}"
        if session.exec(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)).first():
            continue
        message = OutboxMessage(idempotency_key=idempotency_key, template="steering_report", step=key,
                                recipient_name=contact.name, recipient_email=str(contact.email),
                                recipient_party=party, subject=subject, body_text=text, body_html=html)
        session.add(message)
        added.append(message)
    session.flush()
    return added


def store_rendering(session: Session, message: OutboxMessage, subject: str, text: str, html: str,
                    ics: str | None) -> None:
    if message.rendered:
        return
    message.subject, message.body_text, message.body_html, message.attachment_ics = subject, text, html, ics
    session.add(message)


def claim_message(session: Session, message_id: int, now: pendulum.DateTime, lease_seconds: int) -> bool:
    """Take a message for one delivery attempt; False when it is settled, not yet due, or held by another attempt."""
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.status in (MessageStatus.SENT, MessageStatus.CANCELLED):
        return False
    if message.status == MessageStatus.SENDING and message.claimed_until and message.claimed_until > now:
        return False
    if message.status == MessageStatus.PENDING and message.next_attempt_at and message.next_attempt_at > now:
        return False
    message.status = MessageStatus.SENDING
    message.claimed_until = now.add(seconds=lease_seconds)
    message.attempts += 1
    session.add(message)
    return True


def record_delivery(session: Session, command: RecordDelivery, incident: Incident | None, _actor: Person,
                    parties: Parties, now: pendulum.DateTime) -> None:
    """Mark a message delivered; when it completes its obligation, the obligation is met, lateness frozen."""
    message = session.get(OutboxMessage, command.message_id, with_for_update=True)
    assert message is not None
    transport, message_id = command.transport, command.smtp_message_id
    message.status, message.sent_at, message.claimed_until = MessageStatus.SENT, now, None
    message.transport, message.message_id, message.next_attempt_at = transport, message_id, None
    session.add(message)
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind=EntryKind.MESSAGE_DELIVERED,
           payload={"template": message.template, "step": message.step, "recipient": message.recipient_email,
                    "recipient_party": message.recipient_party, "transport": transport, "message_id": message_id,
                    "attempts": message.attempts})
    if incident is not None and message.fulfils and message.obligation_id is not None:
        _meet_when_all_delivered(session, incident, message.obligation_id, now, parties)


def record_delivery_failure(session: Session, command: RecordFailure, incident: Incident | None, _actor: Person,
                            parties: Parties, now: pendulum.DateTime) -> bool:
    """Keep the message for a later attempt (backoff), unless its incident's mail was cancelled meanwhile;
    returns True when the sending party's escalation contacts are now told it is not getting through."""
    message = session.get(OutboxMessage, command.message_id, with_for_update=True)
    assert message is not None
    error, policy = command.error, parties.engine.retry_policy
    if message.status == MessageStatus.CANCELLED:
        message.claimed_until, message.last_error = None, error[:500]
        session.add(message)
        return False
    delay = backoff_seconds(message.attempts, policy)
    message.status, message.claimed_until, message.last_error = MessageStatus.PENDING, None, error[:500]
    message.next_attempt_at = now.add(seconds=delay)
    escalate = should_escalate(message.attempts, policy) and message.escalated_at is None
    if escalate:
        message.escalated_at = now
    session.add(message)
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind=EntryKind.MESSAGE_FAILED, payload={
        "template": message.template, "step": message.step, "recipient": message.recipient_email,
        "attempts": message.attempts, "error": error[:500], "next_attempt_at": utc_iso(message.next_attempt_at),
        "escalated": escalate,
    })
    if escalate and incident is not None:
        _escalate_failure(session, incident, message, parties)
    return escalate


def _escalate_failure(session: Session, incident: Incident, message: OutboxMessage, parties: Parties) -> None:
    """Tell the sending party's escalation contacts that a message is not getting through (never for a notice
    of this kind itself, so that a dead relay cannot breed notices)."""
    if message.template == "delivery_failure":
        return
    obligation = session.get(Obligation, message.obligation_id) if message.obligation_id else None
    sender = Party(obligation.owner) if obligation else Party(message.recipient_party).other
    enqueue(session, incident, template="delivery_failure", step=f"failed-{message.id}",
            recipients=parties.escalation_contacts(sender, incident.municipality_insee), recipient_party=sender,
            obligation=obligation, key="delivery_failure")


def cancel_pending(session: Session, incident: Incident) -> int:
    """Cancel the messages of an incident that have not left, those being sent included: an attempt already
    handed to the relay is still recorded as delivered, but a failed one is not retried."""
    messages = session.exec(select(OutboxMessage).where(
        OutboxMessage.incident_id == incident.id,
        col(OutboxMessage.status).in_([MessageStatus.PENDING, MessageStatus.SENDING]))).all()
    for message in messages:
        message.status = MessageStatus.CANCELLED
        session.add(message)
    return len(messages)


def _meet_when_all_delivered(session: Session, incident: Incident, obligation_id: int, now: pendulum.DateTime,
                             parties: Parties) -> None:
    obligation = session.get(Obligation, obligation_id)
    if obligation is None or obligation.settled:
        return
    undelivered = session.exec(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.obligation_id == obligation_id, col(OutboxMessage.fulfils).is_(True),
        OutboxMessage.status != MessageStatus.SENT)).one()
    if undelivered:
        return
    meet(session, incident, obligation, now, ENGINE_ACTOR)
    engine = parties.engine
    if obligation.kind == ObligationKind.FOLLOW_UP and incident.is_open:
        open_follow_up(session, incident, Party(obligation.owner), now, engine.follow_up_days, engine.step_policy)
    if obligation.kind == ObligationKind.CROSS_PARTY_ALERT and incident.acknowledged_at is None and incident.is_open:
        incident.acknowledgement_reminder_at = now.add(hours=engine.acknowledgement_reminder_hours)
        session.add(incident)
