"""Outbox transitions: enqueue, claim, render, cancel; and the door's handlers for what the relay answered:
delivered (which may meet an obligation) or failed (backoff, escalation to the sending party), or refused for good.

Claims live on the wall clock, whatever instant the rules are replayed at: a pass claims a batch under a token of
its own, renews the batch's lease while it runs, and sends a message only while the claim is still its own."""

from typing import Any

import pendulum
from sqlalchemy import func, or_, update
from sqlmodel import Session, and_, col, select

from models import locks
from models.attestation import vouch
from models.cadence import meet, open_follow_up
from models.commands import MailSteeringReport, RecordDelivery, RecordFailure
from models.incident import Incident
from models.journal import ENGINE_ACTOR, ENGINE_PARTY, record, utc_iso
from models.obligation import Obligation
from models.outbox import UNDELIVERED, MailFile, MessageStatus, OutboxAttachment, OutboxMessage, cancel_undelivered
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
    keys = {contact.email: f"{incident.ref}/{scope_key}/{contact.email}/{step}" for contact in recipients}
    stored = set(session.exec(select(OutboxMessage.idempotency_key).where(
        col(OutboxMessage.idempotency_key).in_(keys.values())))) if keys else set()
    added = []
    for contact in recipients:
        idempotency_key = keys[contact.email]
        if idempotency_key in stored:
            continue
        stored.add(idempotency_key)  # one message per recipient, should a contact be listed twice
        message = OutboxMessage(
            incident_id=incident.id, obligation_id=obligation.id if obligation else None,
            idempotency_key=idempotency_key, template=template, step=step, fulfils=fulfils,
            recipient_name=contact.name, recipient_email=str(contact.email), recipient_party=recipient_party,
            queued_at=pendulum.now("UTC"),
        )
        session.add(message)
        added.append(message)
    session.flush()
    return added


def enqueue_report(session: Session, *, key: str, recipients: list[Contact], party: Party, subject: str,
                   text: str, html: str, template: str = "steering_report") -> list[OutboxMessage]:
    """A mail about no incident (a periodic report, a sign-in link), already rendered; one per recipient and key."""
    added = []
    for contact in recipients:
        idempotency_key = f"{key}/{contact.email}"
        if session.exec(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)).first():
            continue
        message = OutboxMessage(idempotency_key=idempotency_key, template=template, step=key[:32],
                                recipient_name=contact.name, recipient_email=str(contact.email),
                                recipient_party=party, subject=subject, body_text=text, body_html=html,
                                queued_at=pendulum.now("UTC"))
        session.add(message)
        added.append(message)
    session.flush()
    return added


def mail_steering_report(session: Session, command: MailSteeringReport, _incident: Incident | None, _actor: Person,
                         parties: Parties, _now: pendulum.DateTime) -> list[OutboxMessage]:
    """The door's handler (RG-DOOR-23): the month's report queued once per steering contact, however often asked."""
    return enqueue_report(session, key=f"steering/{command.month}", recipients=list(parties.academy.steering_contacts),
                          party=Party.ACADEMY, subject=command.subject, text=command.text, html=command.html)


def store_rendering(session: Session, message: OutboxMessage, subject: str, text: str, html: str,
                    ics: str | None, files: tuple[MailFile, ...] = ()) -> None:
    """The message as it will leave, its files with it: rendered once, sent (and resent) as stored."""
    if message.rendered:
        return
    message.subject, message.body_text, message.body_html, message.attachment_ics = subject, text, html, ics
    session.add(message)
    session.flush()
    assert message.id is not None
    for position, file in enumerate(files):
        session.add(OutboxAttachment(message_id=message.id, position=position, filename=file.filename,
                                     media_type=file.media_type, content=file.content))


def due_for_delivery(replay_now: pendulum.DateTime, wall_now: pendulum.DateTime) -> Any:
    """Pending messages whose next attempt is due (a rule: the replay instant), and claims whose lease has run out
    (a fact: the wall clock) — those of a pass that died."""
    return or_(
        and_(col(OutboxMessage.status) == MessageStatus.PENDING,
             or_(col(OutboxMessage.next_attempt_at).is_(None), col(OutboxMessage.next_attempt_at) <= replay_now)),
        and_(col(OutboxMessage.status) == MessageStatus.SENDING, col(OutboxMessage.claimed_until) <= wall_now),
    )


def locked_now(session: Session) -> pendulum.DateTime:
    """The wall clock once this transaction has begun (on SQLite, once it holds the write lock): a lease reckoned
    from before a wait on a lock could be stored already expired."""
    session.connection()
    return pendulum.now("UTC")


def claim_batch(session: Session, *, token: str, replay_now: pendulum.DateTime, lease_seconds: float, limit: int,
                incident_id: int | None = None) -> list[int]:
    """Claim up to `limit` due messages for the pass holding `token`, the messages that meet an obligation (the
    alerts) first; rows another pass is claiming are skipped, not waited for (PostgreSQL's SKIP LOCKED; SQLite
    serializes writers)."""
    wall_now = locked_now(session)
    _alerts_before_their_reminders(session, replay_now, wall_now)
    query = select(OutboxMessage.id).where(due_for_delivery(replay_now, wall_now))
    if incident_id is not None:
        query = query.where(OutboxMessage.incident_id == incident_id)
    # Once a pass: what this pass claimed already (a failed alert that its due reminders pull forward again) waits
    # for the next one, or the pass would go round the failing messages for ever.
    query = query.where(or_(col(OutboxMessage.claim_token).is_(None), col(OutboxMessage.claim_token) != token))
    query = query.order_by(col(OutboxMessage.fulfils).desc(), col(OutboxMessage.id)).limit(limit)
    ids = [message_id for message_id in session.exec(query.with_for_update(skip_locked=True)) if message_id]
    if ids:
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(
            status=MessageStatus.SENDING, claim_token=token, claimed_until=wall_now.add(seconds=lease_seconds)))
    return ids


def _alerts_before_their_reminders(session: Session, replay_now: pendulum.DateTime,
                                   wall_now: pendulum.DateTime) -> None:
    """A reminder about an obligation must not reach anyone before the message that meets it (after an outage the
    alert may wait on a longer backoff than the reminders queued meanwhile): when a reminder is due, the messages
    that meet its obligation are due too. Delivered first (they head the batch), they cancel the reminder."""
    reminded = select(OutboxMessage.obligation_id).where(
        due_for_delivery(replay_now, wall_now), OutboxMessage.template == "deadline_step",
        col(OutboxMessage.obligation_id).is_not(None))
    session.execute(update(OutboxMessage).where(
        col(OutboxMessage.status) == MessageStatus.PENDING, col(OutboxMessage.fulfils).is_(True),
        col(OutboxMessage.next_attempt_at) > replay_now, col(OutboxMessage.obligation_id).in_(reminded))
        .values(next_attempt_at=replay_now))


def renew_claims(session: Session, token: str, lease_seconds: float) -> None:
    until = locked_now(session).add(seconds=lease_seconds)
    session.execute(update(OutboxMessage).where(
        col(OutboxMessage.claim_token) == token, col(OutboxMessage.status) == MessageStatus.SENDING)
        .values(claimed_until=until))


def begin_attempt(session: Session, message_id: int, token: str, lease_seconds: float) -> OutboxMessage | None:
    """The message, counted as attempted and held a full lease from now, if the claim is still this pass's; None if
    it was cancelled, taken over after this pass's lease ran out, or settled meanwhile."""
    message = locks.lock(session, OutboxMessage, [message_id]).get(message_id)
    if message is None or message.status != MessageStatus.SENDING or message.claim_token != token:
        return None
    message.attempts += 1
    message.claimed_until = pendulum.now("UTC").add(seconds=lease_seconds)  # read once the row is ours
    session.add(message)
    return message


def release_claims(session: Session, token: str, message_ids: list[int]) -> None:
    """Give back what a pass claimed and did not attempt (it stopped early): due again at once."""
    session.execute(update(OutboxMessage).where(
        col(OutboxMessage.id).in_(message_ids), col(OutboxMessage.claim_token) == token,
        col(OutboxMessage.status) == MessageStatus.SENDING).values(status=MessageStatus.PENDING, claimed_until=None))


SIGN_IN_TEMPLATE = "sign_in_link"
WITH_OBLIGATION = "message with its obligation"  # locks.note: the message's obligation and notices are locked too


def lock_messages(session: Session, message_ids: list[int]) -> None:
    """The messages' rows, locked after their obligations' (the door's lock order: incident, obligation, messages,
    chain head), since delivering one may meet its obligation. Messages this transaction locked already are
    locked with their obligations and those obligations' notices: nothing more to lock for them."""
    wanted = [message_id for message_id in message_ids if not locks.noted(session, WITH_OBLIGATION, message_id)]
    if not wanted:
        return
    obligation_ids = {obligation_id for obligation_id in session.exec(
        select(OutboxMessage.obligation_id).where(col(OutboxMessage.id).in_(wanted))) if obligation_id is not None}
    locks.lock(session, Obligation, obligation_ids)
    # Meeting an obligation cancels its queued notices: their rows too, now, before the chain head.
    undelivered = session.exec(select(OutboxMessage.id).where(
        col(OutboxMessage.obligation_id).in_(obligation_ids), col(OutboxMessage.status).in_(UNDELIVERED))).all() \
        if obligation_ids else []
    locks.lock(session, OutboxMessage, [*wanted, *(message_id for message_id in undelivered if message_id)])
    locks.note(session, WITH_OBLIGATION, wanted)


def lock_records(session: Session, commands: list[RecordDelivery | RecordFailure]) -> None:
    """The door's group lock for records of deliveries and failures: every message of the group at once."""
    lock_messages(session, [command.message_id for command in commands])


def lock_message(session: Session, message_id: int) -> OutboxMessage:
    """The message's row, locked after its obligation's (`lock_messages`)."""
    lock_messages(session, [message_id])
    message = locks.held(session, OutboxMessage, message_id)
    assert message is not None
    return message


def record_delivery(session: Session, command: RecordDelivery, incident: Incident | None, _actor: Person,
                    parties: Parties, now: pendulum.DateTime) -> None:
    """Mark a message delivered; when it completes its obligation, the obligation is met, lateness frozen. A message
    recorded as delivered already (by a pass that took it over) is not recorded twice."""
    message = lock_message(session, command.message_id)
    if message.status == MessageStatus.SENT:
        return
    transport, message_id = command.transport, command.smtp_message_id
    message.status, message.sent_at, message.claimed_until = MessageStatus.SENT, now, None
    message.transport, message.message_id, message.next_attempt_at = transport, message_id, None
    if message.template == SIGN_IN_TEMPLATE:  # the link signs its holder in: once sent, not kept in the store
        message.body_text = message.body_html = "(lien de connexion retiré après son envoi)"
    session.add(message)
    vouch(session, message)  # what left, as it left: recipient, text, time, Message-ID
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind=EntryKind.MESSAGE_DELIVERED,
           payload={"template": message.template, "step": message.step, "recipient": message.recipient_email,
                    "recipient_party": message.recipient_party, "transport": transport, "message_id": message_id,
                    "attempts": message.attempts})
    if incident is not None and message.escalated_at is not None:
        _tell_it_got_through(session, incident, message)
    if incident is not None and message.fulfils and message.obligation_id is not None:
        _meet_when_all_delivered(session, incident, message.obligation_id, now, parties)


def _tell_it_got_through(session: Session, incident: Incident, message: OutboxMessage) -> None:
    """Those who were told that a message was not getting through (and may be phoning its recipient) hear that it
    finally did; not those whose notice never left."""
    told = session.exec(select(OutboxMessage).where(
        OutboxMessage.template == "delivery_failure", OutboxMessage.step == f"failed-{message.id}",
        OutboxMessage.status == MessageStatus.SENT)).all()
    for notice in told:
        recipient = Contact(name=notice.recipient_name, email=notice.recipient_email)
        enqueue(session, incident, template="delivery_recovered", step=f"recovered-{message.id}",
                recipients=[recipient], recipient_party=Party(notice.recipient_party), key="delivery_recovered")


def record_delivery_failure(session: Session, command: RecordFailure, incident: Incident | None, _actor: Person,
                            parties: Parties, now: pendulum.DateTime) -> bool:
    """Keep the message for a later attempt (backoff), or, refused for good, stop trying it and escalate at once;
    nothing more when its incident's mail was cancelled meanwhile, or another pass holds it now. Returns True when
    the sending party's escalation contacts are now told it is not getting through."""
    message = lock_message(session, command.message_id)
    error, policy = command.error[:500], parties.engine.retry_policy
    if message.status in (MessageStatus.SENT, MessageStatus.REFUSED):
        return False
    taken_over = command.claim_token is not None and message.claim_token != command.claim_token
    if message.status == MessageStatus.CANCELLED or taken_over:
        message.last_error = error
        session.add(message)
        return False
    message.claimed_until, message.last_error = None, error
    if command.permanent:
        message.status, message.next_attempt_at = MessageStatus.REFUSED, None
        escalate = message.escalated_at is None
    else:
        message.status = MessageStatus.PENDING
        message.next_attempt_at = now.add(seconds=backoff_seconds(message.attempts, policy))
        escalate = should_escalate(message.attempts, policy) and message.escalated_at is None
    escalate = escalate and message.template != "delivery_failure"  # a notice breeds no notice
    if escalate:
        message.escalated_at = now
    session.add(message)
    payload = {"template": message.template, "step": message.step, "recipient": message.recipient_email,
               "attempts": message.attempts, "error": error, "escalated": escalate}
    if command.permanent:
        record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind=EntryKind.MESSAGE_REFUSED,
               payload=payload)
    else:
        record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind=EntryKind.MESSAGE_FAILED,
               payload={**payload, "next_attempt_at": utc_iso(message.next_attempt_at)})
    if escalate and incident is not None:
        _escalate_failure(session, incident, message, parties)
    return escalate


TOLD_BY_THE_OTHER_PARTY = {"follow_up", "final_report", "cross_party_alert", "acknowledgement_reminder"}


def _escalate_failure(session: Session, incident: Incident, message: OutboxMessage, parties: Parties) -> None:
    """Tell the sending party's escalation contacts that a message is not getting through (never for a notice
    of this kind itself, so that a dead relay cannot breed notices)."""
    if message.template == "delivery_failure":
        return
    obligation = session.get(Obligation, message.obligation_id) if message.obligation_id else None
    # Who must know: the party whose obligation the message serves; for what one party tells the other (a report),
    # the party that tells; for the engine's own mail to a party (its DPD's drafts), that party.
    if obligation is not None:
        sender = Party(obligation.owner)
    elif message.template in TOLD_BY_THE_OTHER_PARTY:
        sender = Party(message.recipient_party).other
    else:
        sender = Party(message.recipient_party)
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


def cancel_acknowledgement_reminders(session: Session, incident: Incident) -> int:
    """Reminders to acknowledge still queued (a relay outage) once the alert is acknowledged or the incident closed."""
    return cancel_undelivered(session, OutboxMessage.incident_id == incident.id,
                              OutboxMessage.template == "acknowledgement_reminder")


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
