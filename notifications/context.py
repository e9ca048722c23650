"""What each message says, gathered from the store and the rules, separately from how it is rendered."""

from collections.abc import Callable
from typing import Any

import pendulum
from sqlmodel import Session

from models.breach_reads import personal_data_now
from models.checkpoints import latest as latest_checkpoint
from models.checkpoints import summary as checkpoint_summary
from models.incident import Incident
from models.obligation import Obligation
from models.outbox import MailFile, MessageStatus, OutboxMessage
from models.queries import duplicates_for_its_parties
from models.report import IncidentReport
from notifications import report_mail
from policy.clocks import CLOCK_RULES, ObligationKind
from policy.duplicates import NAMED, duplicate_warning
from policy.parties import Party
from policy.scope import PERSONAL_DATA_LABELS, RULES_BY_CATEGORY, SCOPE_ARTICLES, SCOPE_LABELS, Scope, propose_scope
from policy.steps import StepKind
from rendering.formats import subjects_text
from rendering.reasons import delivery_reason
from rendering.rows import obligation_rows
from settings.env import portal_url
from settings.parties import Parties

UNKNOWN_MEANS = " (traité comme une violation de données jusqu'à la décision du DPD)"

REQUESTED_ACTIONS: dict[Party, list[str]] = {
    Party.ACADEMY: [
        "accuser réception de cette alerte, dans le portail (lien ci-dessous) ou par la commande "
        "« incidents acknowledge » suivie de la référence ;",
        "confirmer ou corriger la portée proposée (commande « incidents triage ») ;",
        "si des données personnelles sont ou peuvent être concernées, faire évaluer la violation par le DPD "
        "(délai de notification à la CNIL : 72 heures après la prise de connaissance) ;",
        "prendre en charge l'incident s'il relève de votre champ de compétence.",
    ],
    Party.MUNICIPALITY: [
        "accuser réception de cette alerte, dans le portail (lien ci-dessous) ou par la commande "
        "« incidents acknowledge » suivie de la référence ;",
        "prendre en charge, avec votre prestataire, ce qui relève de la mise en œuvre et du maintien en "
        "conditions opérationnelles de l'ENT ;",
        "transmettre à l'académie toute information utile à l'évaluation de l'incident.",
    ],
}

OBLIGATION_LABELS = {kind: rule.label for kind, rule in CLOCK_RULES.items()}


def incident_facts(session: Session, incident: Incident, parties: Parties) -> dict[str, Any]:
    """The facts every message about an incident may name."""
    municipality = parties.municipality(incident.municipality_insee)
    schools = {school.uai: school.name for school in (municipality.schools if municipality else [])}
    proposal = propose_scope(incident.categories, incident.personal_data)
    scope = Scope(incident.scope or proposal.scope)
    personal_data = personal_data_now(session, incident)
    return {
        "ref": incident.ref,
        "title": incident.title,
        "description": incident.description,
        "declared_by": Party(incident.declared_by).label,
        "academy_name": parties.academy.name,
        "municipality_name": municipality.name if municipality else incident.municipality_insee,
        "municipality_insee": incident.municipality_insee,
        "schools": [f"{schools.get(uai, uai)} ({uai})" for uai in incident.schools],
        "categories": [RULES_BY_CATEGORY[c].label for c in incident.categories],
        "personal_data": PERSONAL_DATA_LABELS[personal_data] + (UNKNOWN_MEANS if personal_data == "unknown" else ""),
        "data_subjects": subjects_text(incident.data_subjects),
        "records": incident.records,
        "aware_at": incident.aware_at,
        "occurred_at": incident.occurred_at,
        "reporter_name": incident.reporter_name,
        "reporter_email": incident.reporter_email,
        "scope_label": SCOPE_LABELS[scope],
        "scope_article": SCOPE_ARTICLES[scope],
        "scope_reasons": list(proposal.reasons),
        "portal_link": f"{portal_url()}/incidents/{incident.ref}",
    }


def _recipient(message: OutboxMessage) -> dict[str, Any]:
    return {"recipient_name": message.recipient_name, "recipient_party": Party(message.recipient_party).label}


def _obligation(obligation: Obligation | None, now: pendulum.DateTime) -> dict[str, Any]:
    if obligation is None:
        return {}
    return {
        "obligation_label": OBLIGATION_LABELS[ObligationKind(obligation.kind)],
        "obligation_owner": Party(obligation.owner).label,
        "due_at": obligation.due_at,
        "late_by_seconds": obligation.lateness(now),
        "remaining_seconds": max(0, int((pendulum.instance(obligation.due_at) - now).total_seconds())),
    }


def recipient_deadlines(session: Session, incident: Incident, party: Party, now: pendulum.DateTime,
                        besides: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The obligations still running that fall to the recipient's party, each with its due time and whether it has
    already passed: what the reader must do, and by when."""
    return [{"label": row["label"], "article": row["article"], "due_at": row["due_at"],
             "passed": row["status"] == "overdue"}
            for row in obligation_rows(session, incident, now)
            if row["owner"] == party.value and row["status"] in ("open", "overdue") and row["kind"] not in besides]


def alert(session: Session, message: OutboxMessage, incident: Incident, parties: Parties,
          now: pendulum.DateTime) -> dict[str, Any]:
    obligation = session.get(Obligation, message.obligation_id)
    recipient = Party(message.recipient_party)
    return {**incident_facts(session, incident, parties), **_recipient(message), **_obligation(obligation, now),
            "requested_actions": REQUESTED_ACTIONS[recipient],
            "your_deadlines": recipient_deadlines(session, incident, recipient, now),
            "acknowledgement_hours": parties.engine.acknowledgement_reminder_hours,
            "duplicate_warning": _duplicate_warning(session, incident)}


def _duplicate_warning(session: Session, incident: Incident) -> str | None:
    duplicates = duplicates_for_its_parties(session, incident, limit=NAMED + 1)
    return duplicate_warning(duplicates, more=len(duplicates) > NAMED) if duplicates else None


def receipt(session: Session, message: OutboxMessage, incident: Incident, parties: Parties,
            now: pendulum.DateTime) -> dict[str, Any]:
    obligation = session.get(Obligation, message.obligation_id)
    other = Party(incident.declared_by).other
    alerted = parties.operational_contacts(other, incident.municipality_insee)
    declarant = Party(incident.declared_by)
    return {**incident_facts(session, incident, parties), **_recipient(message), **_obligation(obligation, now),
            "alerted_party": other.label, "alerted": [contact.name for contact in alerted],
            "declared_by_academy": declarant is Party.ACADEMY,
            # The alert is the engine's to send; what is left to the declarant is theirs.
            "your_deadlines": recipient_deadlines(session, incident, declarant, now,
                                                  besides=frozenset({ObligationKind.CROSS_PARTY_ALERT.value}))}


def acknowledgement_reminder(session: Session, message: OutboxMessage, incident: Incident, parties: Parties,
                             now: pendulum.DateTime) -> dict[str, Any]:
    alert = session.get(Obligation, message.obligation_id)
    alerted = Party(message.recipient_party)
    return {**incident_facts(session, incident, parties), **_recipient(message),
            "alert_delivered_at": alert.met_at if alert else None,
            "your_deadlines": recipient_deadlines(session, incident, alerted, now)}


def deadline_step(session: Session, message: OutboxMessage, incident: Incident, parties: Parties,
                  now: pendulum.DateTime) -> dict[str, Any]:
    obligation = session.get(Obligation, message.obligation_id)
    kind, _, percent = message.step.rpartition("_")
    recipient = Party(message.recipient_party)
    return {**incident_facts(session, incident, parties), **_recipient(message), **_obligation(obligation, now),
            "step_kind": StepKind(kind).value, "step_percent": int(percent),
            "for_owner": obligation is not None and obligation.owner == recipient.value,
            "your_deadlines": recipient_deadlines(session, incident, recipient, now)}


def report(session: Session, message: OutboxMessage, incident: Incident, parties: Parties,
           now: pendulum.DateTime) -> dict[str, Any]:
    report_id = int(message.step.removeprefix("report-"))
    stored = session.get(IncidentReport, report_id)
    assert stored is not None
    obligations = report_mail.obligations_as_sent(session, message, incident, now)
    final = {**report_mail.final_summary(session, incident, stored.reported_at, obligations),
             "checkpoint": checkpoint_summary(latest_checkpoint(session))} if message.template == "final_report" else {}
    return {**incident_facts(session, incident, parties), **_recipient(message), "report": stored.content,
            "report_party": Party(stored.party).label, "report_author": stored.author,
            "reported_at": stored.reported_at, "follow_up_days": parties.engine.follow_up_days,
            "obligations": obligations, **final}


def delivery_failure(session: Session, message: OutboxMessage, incident: Incident, parties: Parties,
                     now: pendulum.DateTime) -> dict[str, Any]:
    failed = session.get(OutboxMessage, int(message.step.removeprefix("failed-")))
    assert failed is not None
    return {**incident_facts(session, incident, parties), **_recipient(message),
            "failed_recipient": failed.recipient_email,
            "failed_subject": failed.subject, "failed_attempts": failed.attempts,
            "failed_error": delivery_reason(failed.last_error),
            "failed_next_attempt_at": failed.next_attempt_at, "failed_for_good": failed.status == MessageStatus.REFUSED}


def delivery_recovered(session: Session, message: OutboxMessage, incident: Incident, parties: Parties,
                       now: pendulum.DateTime) -> dict[str, Any]:
    recovered = session.get(OutboxMessage, int(message.step.removeprefix("recovered-")))
    assert recovered is not None
    return {**incident_facts(session, incident, parties), **_recipient(message),
            "recovered_recipient": recovered.recipient_email, "recovered_subject": recovered.subject,
            "recovered_attempts": recovered.attempts,
            "recovered_at": recovered.sent_at}


CONTEXTS: dict[str, Callable[[Session, OutboxMessage, Incident, Parties, pendulum.DateTime], dict[str, Any]]] = {
    "cross_party_alert": alert,
    "declaration_receipt": receipt,
    "deadline_step": deadline_step,
    "follow_up": report,
    "final_report": report,
    "delivery_failure": delivery_failure,
    "delivery_recovered": delivery_recovered,
    "acknowledgement_reminder": acknowledgement_reminder,
}

# What one party tells the other: answered to the party that declared. The engine's own notices to a party (its
# drafts, its reminders, delivery notices) are answered to nobody in particular.
CROSS_PARTY = {"cross_party_alert", "acknowledgement_reminder", "follow_up", "final_report"}

# Mails about a deadline carry an iCalendar event at the due time.
WITH_CALENDAR = {"cross_party_alert", "deadline_step"}
# Files a mail rendered at delivery carries, stored with it: the final report's whole timeline.
ATTACHED: dict[str, Callable[[Session, OutboxMessage, Incident, Parties, pendulum.DateTime],
                             tuple[MailFile, ...]]] = {"final_report": report_mail.timeline_files}
