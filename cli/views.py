"""What the commands show: plain data for --json, built once, and the French labels of its text rendering."""

from typing import Any

import pendulum
from sqlmodel import Session, col, select

from models.incident import Incident
from models.journal import obligations_of
from models.obligation import Obligation
from models.outbox import OutboxMessage
from policy.clocks import CLOCK_RULES
from policy.scope import SCOPE_LABELS, Scope
from reports.common import iso as iso_paris


def obligation_view(obligation: Obligation, now: pendulum.DateTime) -> dict[str, Any]:
    return {
        "kind": obligation.kind,
        "owner": obligation.owner,
        "anchor_at": iso_paris(obligation.anchor_at),
        "due_at": iso_paris(obligation.due_at),
        "met_at": iso_paris(obligation.met_at),
        "status": obligation.status(now).value,
        "late_by_seconds": obligation.lateness(now),
        "next_action_at": iso_paris(obligation.next_action_at),
    }


def message_view(message: OutboxMessage) -> dict[str, Any]:
    return {
        "template": message.template,
        "step": message.step,
        "recipient": message.recipient_email,
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "next_attempt_at": iso_paris(message.next_attempt_at),
        "sent_at": iso_paris(message.sent_at),
        "escalated_at": iso_paris(message.escalated_at),
    }


def incident_view(session: Session, incident: Incident, now: pendulum.DateTime,
                  with_messages: bool = False) -> dict[str, Any]:
    view = {
        "ref": incident.ref,
        "status": incident.status,
        "title": incident.title,
        "declared_by": incident.declared_by,
        "municipality": incident.municipality_insee,
        "aware_at": iso_paris(incident.aware_at),
        "declared_at": iso_paris(incident.declared_at),
        "categories": incident.categories,
        "personal_data": incident.personal_data,
        "scope": incident.scope,
        "scope_status": incident.scope_status.value if incident.scope_status else None,
        "scope_reason": incident.scope_reason,
        "closed_at": iso_paris(incident.closed_at),
        "dismissed_at": iso_paris(incident.dismissed_at),
        "obligations": [obligation_view(obligation, now) for obligation in obligations_of(session, incident)],
    }
    if with_messages:
        messages = session.exec(select(OutboxMessage).where(OutboxMessage.incident_id == incident.id)
                                .order_by(col(OutboxMessage.id))).all()
        view["messages"] = [message_view(message) for message in messages]
    return view


STATUS_LABELS = {"open": "en cours", "met": "respectée", "late": "respectée en retard", "overdue": "en retard",
                 "not_required": "non requise"}  # short forms for the terminal; reports.common has the long ones
INCIDENT_STATUS_LABELS = {"queued": "en file", "open": "ouvert", "closed": "clos", "dismissed": "classé sans suite"}
KIND_LABELS = {kind.value: rule.label[0].upper() + rule.label[1:] for kind, rule in CLOCK_RULES.items()}
ENTRY_LABELS = {
    "declared": "Déclaration enregistrée",
    "scope_proposed": "Portée proposée par le moteur",
    "scope_confirmed": "Portée arrêtée par l'académie",
    "message_delivered": "Message remis",
    "message_failed": "Échec de remise d'un message",
    "obligation_met": "Obligation remplie",
    "obligation_opened": "Obligation ouverte",
    "obligation_reassigned": "Obligation réattribuée",
    "deadline_reminder": "Rappel d'échéance",
    "deadline_escalation": "Escalade",
    "obligation_overdue": "Échéance dépassée",
    "steps_skipped": "Étapes sautées (passe tardive)",
    "follow_up_recorded": "Point de suivi enregistré",
    "closed": "Incident clos",
    "dismissed": "Classé sans suite",
}


def scope_text(scope: str | None) -> str:
    return SCOPE_LABELS[Scope(scope)] if scope else "pas encore proposée"
