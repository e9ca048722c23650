"""Incident handlers of the door (models.door.execute): declare, propose scope, triage, acknowledge, follow up,
close, dismiss. Called only by the door, after its checks of role, party and state; each applies the command's own
gates, then the change, its timeline entries and its outbox rows, in the caller's transaction."""

from typing import Any

import pendulum
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.cadence import open_follow_up, open_obligation, waive
from models.commands import Acknowledge, Close, Declare, Dismiss, FollowUp, ProposeScope, Triage
from models.errors import FieldError, InvalidInput, Refused
from models.incident import Incident, IncidentStatus
from models.journal import ENGINE_ACTOR, ENGINE_PARTY, obligations_of, record, utc_iso
from models.messaging import cancel_acknowledgement_reminders, cancel_pending, enqueue
from models.obligation import Obligation
from models.report import IncidentReport, ReportKind
from models.timeline import lock_chain_head
from policy import clocks
from policy.clocks import ObligationKind
from policy.parties import Party
from policy.scope import SCOPE_ARTICLES, SCOPE_LABELS, Scope, handling_party
from policy.scope import propose_scope as scope_rule
from policy.transitions import EntryKind
from settings.parties import Contact, Parties, Person

KIND_LABELS = {ObligationKind.CROSS_PARTY_ALERT: "l'alerte de l'autre partie",
               ObligationKind.FOLLOW_UP: "le point de suivi",
               ObligationKind.CNIL_NOTIFICATION: "la notification à la CNIL",
               ObligationKind.SUBJECTS_COMMUNICATION: "l'information des personnes concernées"}


def declare(session: Session, command: Declare, _incident: None, actor: Person, parties: Parties,
            now: pendulum.DateTime) -> Incident:
    """Record a declaration with its alert obligation, first timeline entry and alert messages."""
    declaration = command.declaration
    declared_by = Party(declaration.declared_by)
    aware_at = pendulum.instance(declaration.aware_at)
    if aware_at > now:  # parse_declaration checked the document as of the same instant; this guards other callers
        raise InvalidInput([FieldError("aware_at", "la date est dans le futur")])
    recipients = parties.operational_contacts(declared_by.other, declaration.municipality)
    lock_chain_head(session)  # serializes reference numbering with the timeline
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
    obligation = open_obligation(session, incident, deadline, parties.engine.step_policy)
    enqueue(session, incident, template="cross_party_alert", step="initial", recipients=recipients,
            recipient_party=declared_by.other, obligation=obligation, fulfils=True, key=deadline.kind)
    # The declarant's receipt: the reference, the clock and what happens next, in their own mailbox.
    enqueue(session, incident, template="declaration_receipt", step="receipt",
            recipients=[Contact(name=actor.name, email=actor.email)], recipient_party=declared_by,
            obligation=obligation, key="declaration_receipt")
    deadlines = [deadline]
    if declaration.personal_data in ("yes", "unknown"):
        # "unknown" counts as a breach until the DPD decides (in doubt, notify).
        cnil = clocks.cnil_notification(parties.breach.cnil_owner_for(list(declaration.categories)), aware_at)
        open_obligation(session, incident, cnil, parties.engine.step_policy)
        deadlines.append(cnil)

    record(session, incident, now=now, actor=actor.email, party=declared_by,
           kind=EntryKind.DECLARED, payload={
               "declared_by": declared_by.value,
               "municipality": declaration.municipality,
               "aware_at": utc_iso(aware_at),
               "categories": list(declaration.categories),
               "personal_data": declaration.personal_data,
               "obligations": [{"kind": d.kind.value, "owner": d.owner.value, "due_at": utc_iso(d.due_at)}
                               for d in deadlines],
           })
    return incident


def propose_scope(session: Session, _command: ProposeScope, incident: Incident, _actor: Person, parties: Parties,
                  now: pendulum.DateTime) -> Incident:
    """Record the engine's scope proposal (Art. 8 table) and open the follow-up cadence."""
    proposal = scope_rule(incident.categories, incident.personal_data)
    incident.proposed_scope = proposal.scope
    incident.status = IncidentStatus.OPEN
    session.add(incident)
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind=EntryKind.SCOPE_PROPOSED,
           payload={"scope": proposal.scope.value, "article": proposal.article, "reasons": list(proposal.reasons)})
    open_follow_up(session, incident, handling_party(proposal.scope), pendulum.instance(incident.declared_at),
                   parties.engine.follow_up_days, parties.engine.step_policy)
    return incident


def triage(session: Session, command: Triage, incident: Incident, actor: Person, _parties: Parties,
           now: pendulum.DateTime) -> None:
    """An académie triager confirms the proposed scope or overrides it; an override needs a reason."""
    scope = command.scope
    reason = (command.reason or "").strip() or None
    if incident.personal_data != "no" and scope is not Scope.SHARED:
        raise Refused(f"Refusé : une violation de données personnelles de l'ENT (ou une violation possible, tant que "
                      f"ce n'est pas écarté) relève au moins du champ partagé : l'académie et la collectivité en sont "
                      f"responsables conjointes (Art. 8 ; RGPD art. 26). {incident.ref} ne peut pas être attribué au "
                      f"{SCOPE_LABELS[scope]}.")
    overrides = scope != incident.proposed_scope
    if overrides and reason is None:
        raise Refused("Pour retenir une portée différente de la portée proposée, indiquez un motif (--reason).")
    incident.confirmed_scope = scope
    incident.scope_reason = reason
    session.add(incident)
    record(session, incident, now=now, actor=actor.email, party=Party.ACADEMY, kind=EntryKind.SCOPE_CONFIRMED,
           payload={
        "scope": scope.value,
        "proposed_scope": incident.proposed_scope,
        "override": overrides,
        "article": SCOPE_ARTICLES[scope],
        "reason": reason,
    })
    follow_up = current_follow_up(session, incident)
    handler = handling_party(scope)
    if follow_up is not None and follow_up.owner != handler:
        follow_up.owner = handler
        session.add(follow_up)
        record(session, incident, now=now, actor=actor.email, party=Party.ACADEMY,
               kind=EntryKind.OBLIGATION_REASSIGNED,
               payload={"obligation": follow_up.kind, "owner": handler.value})


def acknowledge(session: Session, _command: Acknowledge, incident: Incident, actor: Person, _parties: Parties,
                now: pendulum.DateTime) -> None:
    """The alerted party acknowledges the alert; no reminder to acknowledge follows."""
    if incident.acknowledged_at is not None:
        raise Refused(f"L'alerte de {incident.ref} a déjà été reçue et accusée par {incident.acknowledged_by}.")
    incident.acknowledged_at, incident.acknowledged_by = now, actor.email
    incident.acknowledgement_reminder_at = None
    session.add(incident)
    cancelled = cancel_acknowledgement_reminders(session, incident)
    alert = next((o for o in obligations_of(session, incident) if o.kind == ObligationKind.CROSS_PARTY_ALERT), None)
    delivered_at = pendulum.instance(alert.met_at) if alert and alert.met_at else None
    record(session, incident, now=now, actor=actor.email, party=actor.party, kind=EntryKind.ALERT_ACKNOWLEDGED,
           payload={"acknowledged_at": utc_iso(now), "alert_delivered_at": utc_iso(delivered_at) if delivered_at
                    else None, "seconds_after_delivery": int((now - delivered_at).total_seconds())
                    if delivered_at else None, "reminders_cancelled": cancelled})


def record_follow_up(session: Session, command: FollowUp, incident: Incident, actor: Person, parties: Parties,
                     now: pendulum.DateTime) -> IncidentReport:
    """The handling party's follow-up to the other party; delivering it meets the current follow-up obligation."""
    content, author = command.content, actor.email
    follow_up = current_follow_up(session, incident)
    if follow_up is None:
        raise Refused(f"L'incident {incident.ref} n'est pas encore pris en charge : lancez « incidents watch ».")
    sender = Party(follow_up.owner)
    report = _store_report(session, incident, ReportKind.FOLLOW_UP, sender, author, content, now)
    enqueue(session, incident, template="follow_up", step=f"report-{report.id}",
            recipients=parties.operational_contacts(sender.other, incident.municipality_insee),
            recipient_party=sender.other, obligation=follow_up, fulfils=True)
    record(session, incident, now=now, actor=author, party=sender, kind=EntryKind.FOLLOW_UP_RECORDED,
           payload={"report_id": report.id, **content})
    return report


def close(session: Session, command: Close, incident: Incident, actor: Person, parties: Parties,
          now: pendulum.DateTime) -> IncidentReport:
    """Close with a final report to both parties; refused while an obligation other than the follow-up is open."""
    content, author = command.content, actor.email
    pending = [o for o in obligations_of(session, incident) if not o.settled and o.kind != ObligationKind.FOLLOW_UP]
    if pending:
        names = "; ".join(f"{KIND_LABELS.get(ObligationKind(o.kind), o.kind)} (échéance "
                          f"{clocks.paris(pendulum.instance(o.due_at)).format('DD/MM/YYYY HH:mm')})" for o in pending)
        still = "une obligation reste ouverte" if len(pending) == 1 else "des obligations restent ouvertes"
        raise Refused(f"Clôture refusée : {still} pour {incident.ref} : {names}.")
    follow_up = current_follow_up(session, incident)
    sender = Party(follow_up.owner) if follow_up else handling_party(Scope(incident.scope or Scope.SHARED))
    report = _store_report(session, incident, ReportKind.FINAL, sender, author, content, now)
    for party in (Party.ACADEMY, Party.MUNICIPALITY):
        enqueue(session, incident, template="final_report", step=f"report-{report.id}",
                recipients=parties.operational_contacts(party, incident.municipality_insee), recipient_party=party,
                obligation=follow_up, fulfils=follow_up is not None, key="final_report")
    incident.status, incident.closed_at, incident.acknowledgement_reminder_at = IncidentStatus.CLOSED, now, None
    session.add(incident)
    cancel_acknowledgement_reminders(session, incident)
    record(session, incident, now=now, actor=author, party=sender, kind=EntryKind.CLOSED,
           payload={"report_id": report.id, **content})
    return report


def dismiss(session: Session, command: Dismiss, incident: Incident, actor: Person, _parties: Parties,
            now: pendulum.DateTime) -> None:
    """Not an ENT incident, or a duplicate: its open obligations are no longer required; it stays on record."""
    reason = command.reason.strip()
    if not reason:
        raise InvalidInput([FieldError("--reason", "indiquez le motif du classement")])
    breach_clocks = [o for o in obligations_of(session, incident) if not o.settled
                     and o.kind in (ObligationKind.CNIL_NOTIFICATION, ObligationKind.SUBJECTS_COMMUNICATION)]
    if breach_clocks:
        raise Refused(f"Refusé : un délai de violation de données court pour {incident.ref} ; seul le DPD de la partie "
                      "qui notifie peut le lever (« incidents personal-data --value no --reason … », par exemple pour "
                      "un doublon), avant le classement.")
    waived = []
    for obligation in obligations_of(session, incident):
        if not obligation.settled:
            waive(session, incident, obligation, now, reason, actor.email, actor.party)
            waived.append(obligation.kind)
    cancelled = cancel_pending(session, incident)
    incident.status, incident.dismissed_at, incident.dismissal_reason = IncidentStatus.DISMISSED, now, reason
    incident.acknowledgement_reminder_at = None
    session.add(incident)
    record(session, incident, now=now, actor=actor.email, party=Party.ACADEMY, kind=EntryKind.DISMISSED,
           payload={"reason": reason, "waived_obligations": waived, "cancelled_messages": cancelled})


def current_follow_up(session: Session, incident: Incident) -> Obligation | None:
    return session.exec(select(Obligation).where(
        Obligation.incident_id == incident.id, Obligation.kind == ObligationKind.FOLLOW_UP,
        col(Obligation.met_at).is_(None), col(Obligation.waived_at).is_(None)).order_by(col(Obligation.id).desc())
    ).first()


def _store_report(session: Session, incident: Incident, kind: ReportKind, party: Party, author: str,
                  content: dict[str, Any], now: pendulum.DateTime) -> IncidentReport:
    assert incident.id is not None
    report = IncidentReport(incident_id=incident.id, kind=kind, party=party, author=author, reported_at=now,
                            content=content)
    session.add(report)
    session.flush()
    return report


def _next_ref(session: Session, now: pendulum.DateTime) -> str:
    prefix = f"INC-{clocks.paris(now).year}-"
    last = session.exec(select(Incident.ref).where(col(Incident.ref).startswith(prefix))
                        .order_by(func.length(Incident.ref).desc(), col(Incident.ref).desc()).limit(1)).first()
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:04d}"
