"""Incident transitions, the one door for each: declare, propose scope, triage, follow up, close, dismiss.

Each function works inside the caller's transaction (models.db.session_scope): the change, its timeline entry
and its outbox rows are committed together or not at all. A refused transition raises before writing anything.
"""

from typing import Any

import pendulum
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.cadence import open_follow_up, open_obligation, waive
from models.declaration import Declaration
from models.errors import Refused
from models.incident import Incident, IncidentStatus
from models.journal import ENGINE_ACTOR, ENGINE_PARTY, obligations_of, record, utc_iso
from models.messaging import cancel_pending, enqueue
from models.obligation import Obligation
from models.report import IncidentReport, ReportKind
from models.timeline import ChainHead
from policy import clocks
from policy.clocks import ObligationKind
from policy.parties import Party
from policy.scope import SCOPE_ARTICLES, Scope, ScopeProposal, handling_party
from settings.parties import Parties

KIND_LABELS = {ObligationKind.CROSS_PARTY_ALERT: "l'alerte de l'autre partie",
               ObligationKind.FOLLOW_UP: "le point de suivi",
               ObligationKind.CNIL_NOTIFICATION: "la notification à la CNIL",
               ObligationKind.SUBJECTS_COMMUNICATION: "l'information des personnes concernées"}


def declare(session: Session, declaration: Declaration, parties: Parties, now: pendulum.DateTime) -> Incident:
    """Record a declaration with its alert obligation, first timeline entry and alert messages."""
    declared_by = Party(declaration.declared_by)
    recipients = parties.operational_contacts(declared_by.other, declaration.municipality)
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
    obligation = open_obligation(session, incident, deadline, parties.engine.step_policy)
    enqueue(session, incident, template="cross_party_alert", step="initial", recipients=recipients,
            recipient_party=declared_by.other, obligation=obligation, fulfils=True, key=deadline.kind)
    deadlines = [deadline]
    if declaration.personal_data in ("yes", "unknown"):
        # "unknown" counts as a breach until the DPD decides (in doubt, notify).
        cnil = clocks.cnil_notification(parties.breach.cnil_owner_for(list(declaration.categories)), aware_at)
        open_obligation(session, incident, cnil, parties.engine.step_policy)
        deadlines.append(cnil)

    record(session, incident, now=now, actor=str(declaration.reporter.email), party=declared_by,
           kind="declared", payload={
               "declared_by": declared_by.value,
               "municipality": declaration.municipality,
               "aware_at": utc_iso(aware_at),
               "categories": list(declaration.categories),
               "personal_data": declaration.personal_data,
               "obligations": [{"kind": d.kind.value, "owner": d.owner.value, "due_at": utc_iso(d.due_at)}
                               for d in deadlines],
           })
    return incident


def propose_scope(session: Session, incident: Incident, proposal: ScopeProposal, parties: Parties,
                  now: pendulum.DateTime) -> bool:
    """Record the engine's scope proposal once and open the follow-up cadence; a second call changes nothing."""
    if incident.proposed_scope is not None or not incident.is_open:
        return False
    incident.proposed_scope = proposal.scope
    incident.status = IncidentStatus.OPEN
    session.add(incident)
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=ENGINE_PARTY, kind="scope_proposed",
           payload={"scope": proposal.scope.value, "article": proposal.article, "reasons": list(proposal.reasons)})
    open_follow_up(session, incident, handling_party(proposal.scope), pendulum.instance(incident.declared_at),
                   parties.engine.follow_up_days, parties.engine.step_policy)
    return True


def triage(session: Session, incident: Incident, scope: Scope, reason: str | None, actor: str,
           now: pendulum.DateTime) -> None:
    """An académie triager confirms the proposed scope or overrides it; an override needs a reason."""
    if incident.proposed_scope is None:
        raise Refused(f"L'incident {incident.ref} n'a pas encore de portée proposée : lancez d'abord "
                      "« incidents watch » pour le prendre en charge.")
    _require_open(incident)
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
    follow_up = current_follow_up(session, incident)
    handler = handling_party(scope)
    if follow_up is not None and follow_up.owner != handler:
        follow_up.owner = handler
        session.add(follow_up)
        record(session, incident, now=now, actor=actor, party=Party.ACADEMY, kind="obligation_reassigned",
               payload={"obligation": follow_up.kind, "owner": handler.value})


def record_follow_up(session: Session, incident: Incident, content: dict[str, Any], author: str,
                     parties: Parties, now: pendulum.DateTime) -> IncidentReport:
    """The handling party's follow-up to the other party; delivering it meets the current follow-up obligation."""
    _require_open(incident)
    follow_up = current_follow_up(session, incident)
    if follow_up is None:
        raise Refused(f"L'incident {incident.ref} n'est pas encore pris en charge : lancez « incidents watch ».")
    sender = Party(follow_up.owner)
    report = _store_report(session, incident, ReportKind.FOLLOW_UP, sender, author, content, now)
    enqueue(session, incident, template="follow_up", step=f"report-{report.id}",
            recipients=parties.operational_contacts(sender.other, incident.municipality_insee),
            recipient_party=sender.other, obligation=follow_up, fulfils=True)
    record(session, incident, now=now, actor=author, party=sender, kind="follow_up_recorded",
           payload={"report_id": report.id, **content})
    return report


def close(session: Session, incident: Incident, content: dict[str, Any], author: str, parties: Parties,
          now: pendulum.DateTime) -> IncidentReport:
    """Close with a final report to both parties; refused while an obligation other than the follow-up is open."""
    _require_open(incident)
    if incident.status == IncidentStatus.QUEUED:
        raise Refused(f"L'incident {incident.ref} n'est pas encore pris en charge : lancez « incidents watch ».")
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
    incident.status, incident.closed_at = IncidentStatus.CLOSED, now
    session.add(incident)
    record(session, incident, now=now, actor=author, party=sender, kind="closed",
           payload={"report_id": report.id, **content})
    return report


def dismiss(session: Session, incident: Incident, reason: str, actor: str, now: pendulum.DateTime) -> None:
    """Not an ENT incident, or a duplicate: its open obligations are no longer required; it stays on record."""
    _require_open(incident)
    reason = reason.strip()
    if not reason:
        raise Refused("Indiquez le motif du classement (--reason).")
    waived = []
    for obligation in obligations_of(session, incident):
        if not obligation.settled:
            waive(session, incident, obligation, now, reason)
            waived.append(obligation.kind)
    cancelled = cancel_pending(session, incident)
    incident.status, incident.dismissed_at, incident.dismissal_reason = IncidentStatus.DISMISSED, now, reason
    session.add(incident)
    record(session, incident, now=now, actor=actor, party=Party.ACADEMY, kind="dismissed",
           payload={"reason": reason, "waived_obligations": waived, "cancelled_messages": cancelled})


def current_follow_up(session: Session, incident: Incident) -> Obligation | None:
    return session.exec(select(Obligation).where(
        Obligation.incident_id == incident.id, Obligation.kind == ObligationKind.FOLLOW_UP,
        col(Obligation.met_at).is_(None), col(Obligation.waived_at).is_(None)).order_by(col(Obligation.id).desc())
    ).first()


def _require_open(incident: Incident) -> None:
    if incident.status == IncidentStatus.CLOSED:
        raise Refused(f"L'incident {incident.ref} est clos.")
    if incident.status == IncidentStatus.DISMISSED:
        raise Refused(f"L'incident {incident.ref} a été classé sans suite.")


def _store_report(session: Session, incident: Incident, kind: ReportKind, party: Party, author: str,
                  content: dict[str, Any], now: pendulum.DateTime) -> IncidentReport:
    assert incident.id is not None
    report = IncidentReport(incident_id=incident.id, kind=kind, party=party, author=author, reported_at=now,
                            content=content)
    session.add(report)
    session.flush()
    return report


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
