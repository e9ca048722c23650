"""The one door for every state change: check the gate, stamp the time, write the timeline, enqueue messages.

Each function works inside the caller's transaction (see models.db.session_scope), so the change, its
timeline entry and its outbox rows are committed together or not at all.
"""

from typing import Any

import pendulum
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.declaration import Declaration
from models.errors import NotFound, Refused
from models.incident import Incident, IncidentStatus
from models.obligation import Obligation
from models.outbox import MessageStatus, OutboxMessage
from models.timeline import ChainHead, append_entry
from policy import clocks
from policy.parties import Party
from policy.scope import SCOPE_ARTICLES, Scope, ScopeProposal
from settings.parties import Contact, Parties

ENGINE_ACTOR = "moteur"
ENGINE_PARTY = "engine"


def record(session: Session, incident: Incident, *, now: pendulum.DateTime, actor: str, party: str,
           kind: str, payload: dict[str, Any]) -> None:
    append_entry(session, incident_id=incident.id, incident_ref=incident.ref, occurred_at=now,
                 recorded_at=pendulum.now("UTC"), actor=actor, party=party, kind=kind, payload=payload)


def get_incident(session: Session, ref: str) -> Incident:
    incident = session.exec(select(Incident).where(Incident.ref == ref)).one_or_none()
    if incident is None:
        raise NotFound(f"Aucun incident ne porte la référence « {ref} ».")
    return incident


def alert_recipients(parties: Parties, declared_by: Party, insee: str) -> list[Contact]:
    """The counterpart's alert contacts: the académie's, or the commune's ENT referents."""
    if declared_by is Party.MUNICIPALITY:
        return list(parties.academy.alert_contacts)
    municipality = parties.municipality(insee)
    if municipality is None:
        raise Refused(f"La commune {insee} ne figure pas dans le fichier de configuration des parties.")
    return list(municipality.referent_contacts)


def declare(session: Session, declaration: Declaration, parties: Parties, now: pendulum.DateTime) -> Incident:
    """Record a declaration with its alert obligation, first timeline entry and alert messages."""
    declared_by = Party(declaration.declared_by)
    recipients = alert_recipients(parties, declared_by, declaration.municipality)
    _lock_chain(session)  # serializes reference numbering with the timeline
    aware_at = pendulum.instance(declaration.aware_at)
    incident = Incident(
        ref=_next_ref(session, now),
        status=IncidentStatus.QUEUED,
        title=declaration.title,
        description=declaration.description,
        declared_by=declared_by,
        municipality_insee=declaration.municipality,
        reporter_name=declaration.reporter.name,
        reporter_email=str(declaration.reporter.email),
        aware_at=aware_at,
        occurred_at=declaration.occurred_at and pendulum.instance(declaration.occurred_at),
        declared_at=now,
        categories=list(declaration.categories),
        personal_data=declaration.personal_data,
        schools=list(declaration.schools),
        data_subjects=declaration.data_subjects.model_dump(exclude_none=True),
        records=declaration.records,
    )
    session.add(incident)
    session.flush()

    deadline = clocks.cross_party_alert(declared_by, aware_at)
    obligation = Obligation(incident_id=_id(incident), kind=deadline.kind, owner=deadline.owner,
                            anchor_at=deadline.anchor_at, due_at=deadline.due_at)
    session.add(obligation)
    session.flush()

    for contact in recipients:
        session.add(OutboxMessage(
            incident_id=_id(incident),
            obligation_id=obligation.id,
            idempotency_key=f"{incident.ref}/{deadline.kind}/{contact.email}/initial",
            template="cross_party_alert",
            step="initial",
            recipient_name=contact.name,
            recipient_email=str(contact.email),
            recipient_party=declared_by.other,
        ))

    record(session, incident, now=now, actor=str(declaration.reporter.email), party=declared_by,
           kind="declared", payload={
               "declared_by": declared_by.value,
               "municipality": declaration.municipality,
               "aware_at": aware_at.in_timezone("UTC").isoformat(),
               "categories": list(declaration.categories),
               "personal_data": declaration.personal_data,
               "obligations": [{"kind": deadline.kind.value, "owner": deadline.owner.value,
                                "due_at": deadline.due_at.isoformat()}],
           })
    return incident


def propose_scope(session: Session, incident: Incident, proposal: ScopeProposal, now: pendulum.DateTime) -> bool:
    """Record the engine's scope proposal once; a second call changes nothing and returns False."""
    if incident.proposed_scope is not None:
        return False
    incident.proposed_scope = proposal.scope
    incident.status = IncidentStatus.OPEN
    session.add(incident)
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind="scope_proposed",
           payload={"scope": proposal.scope.value, "article": proposal.article, "reasons": list(proposal.reasons)})
    return True


def triage(session: Session, incident: Incident, scope: Scope, reason: str | None, actor: str,
           now: pendulum.DateTime) -> None:
    """An académie triager confirms the proposed scope or overrides it; an override needs a reason."""
    if incident.proposed_scope is None:
        raise Refused(f"L'incident {incident.ref} n'a pas encore de portée proposée : lancez d'abord "
                      "« incidents watch » pour le prendre en charge.")
    reason = (reason or "").strip() or None
    overrides = scope != incident.proposed_scope
    if overrides and reason is None:
        raise Refused("Pour retenir une portée différente de la portée proposée, indiquez un motif (--reason).")
    incident.confirmed_scope = scope
    incident.scope_reason = reason
    session.add(incident)
    record(session, incident, now=now, actor=actor, party=Party.ACADEMY, kind="scope_confirmed", payload={
        "scope": scope.value,
        "proposed_scope": incident.proposed_scope,
        "override": overrides,
        "article": SCOPE_ARTICLES[scope],
        "reason": reason,
    })


def store_rendering(session: Session, message: OutboxMessage, subject: str, text: str, html: str) -> None:
    if message.rendered:
        return
    message.subject, message.body_text, message.body_html = subject, text, html
    session.add(message)


def claim_message(session: Session, message_id: int, now: pendulum.DateTime, lease_seconds: int) -> bool:
    """Take a message for one delivery attempt; False when it is sent or another attempt holds it."""
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.status == MessageStatus.SENT:
        return False
    if message.status == MessageStatus.SENDING and message.claimed_until and message.claimed_until > now:
        return False
    message.status = MessageStatus.SENDING
    message.claimed_until = now.add(seconds=lease_seconds)
    message.attempts += 1
    session.add(message)
    return True


def record_delivery(session: Session, message: OutboxMessage, *, transport: str, message_id: str,
                    now: pendulum.DateTime) -> None:
    """Mark a message delivered; when it completes its obligation, the obligation is met, lateness frozen."""
    incident = session.get(Incident, message.incident_id)
    assert incident is not None
    message.status, message.sent_at, message.claimed_until = MessageStatus.SENT, now, None
    message.transport, message.message_id, message.last_error = transport, message_id, None
    session.add(message)
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind="message_delivered", payload={
        "template": message.template, "step": message.step, "recipient": message.recipient_email,
        "recipient_party": message.recipient_party, "transport": transport, "message_id": message_id,
        "attempts": message.attempts,
    })
    if message.obligation_id is not None:
        _meet_when_all_delivered(session, incident, message.obligation_id, now)


def record_delivery_failure(session: Session, message: OutboxMessage, error: str, now: pendulum.DateTime) -> None:
    incident = session.get(Incident, message.incident_id)
    assert incident is not None
    message.status, message.claimed_until, message.last_error = MessageStatus.PENDING, None, error[:500]
    session.add(message)
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind="message_failed", payload={
        "template": message.template, "step": message.step, "recipient": message.recipient_email,
        "attempts": message.attempts, "error": error[:500],
    })


def _meet_when_all_delivered(session: Session, incident: Incident, obligation_id: int,
                             now: pendulum.DateTime) -> None:
    obligation = session.get(Obligation, obligation_id)
    if obligation is None or obligation.met_at is not None:
        return
    undelivered = session.exec(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.obligation_id == obligation_id, OutboxMessage.step == "initial",
        OutboxMessage.status != MessageStatus.SENT)).one()
    if undelivered:
        return
    obligation.met_at = now
    obligation.late_by_seconds = clocks.lateness_seconds(pendulum.instance(obligation.due_at), now)
    session.add(obligation)
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=obligation.owner, kind="obligation_met", payload={
        "obligation": obligation.kind, "owner": obligation.owner,
        "due_at": pendulum.instance(obligation.due_at).isoformat(),
        "late_by_seconds": obligation.late_by_seconds,
    })


def _lock_chain(session: Session) -> None:
    head = session.exec(select(ChainHead).where(ChainHead.id == 1).with_for_update()).one_or_none()
    if head is None:
        session.add(ChainHead())
        session.flush()


def _next_ref(session: Session, now: pendulum.DateTime) -> str:
    prefix = f"INC-{clocks.paris(now).year}-"
    last = session.exec(select(Incident.ref).where(col(Incident.ref).startswith(prefix))
                        .order_by(func.length(Incident.ref).desc(), col(Incident.ref).desc()).limit(1)).first()
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:04d}"


def _id(incident: Incident) -> int:
    assert incident.id is not None
    return incident.id

