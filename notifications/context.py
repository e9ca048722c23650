"""What a message says, gathered from the store and the rules, separately from how it is rendered."""

from typing import Any

import pendulum

from models.incident import Incident
from models.obligation import Obligation
from models.outbox import OutboxMessage
from policy.parties import Party
from policy.scope import RULES_BY_CATEGORY, SCOPE_ARTICLES, SCOPE_LABELS, Scope, propose_scope
from settings.parties import Parties

PERSONAL_DATA_LABELS = {"yes": "oui", "no": "non", "unknown": "inconnu à ce stade (traité comme une violation "
                                                            "de données jusqu'à décision)"}
SUBJECT_LABELS = {"pupils": "élèves", "staff": "personnels", "parents": "parents"}

REQUESTED_ACTIONS: dict[Party, list[str]] = {
    Party.ACADEMY: [
        "accuser réception de cette alerte auprès de la collectivité ;",
        "confirmer ou corriger la portée proposée (commande « incidents triage ») ;",
        "si des données personnelles sont ou peuvent être concernées, faire évaluer la violation par le DPD "
        "(délai de notification à la CNIL : 72 heures après la prise de connaissance) ;",
        "prendre en charge l'incident s'il relève de votre champ de compétence.",
    ],
    Party.MUNICIPALITY: [
        "accuser réception de cette alerte auprès de l'académie ;",
        "prendre en charge, avec votre prestataire, ce qui relève de la mise en œuvre et du maintien en "
        "conditions opérationnelles de l'ENT ;",
        "transmettre à l'académie toute information utile à l'évaluation de l'incident.",
    ],
}


def alert_context(incident: Incident, obligation: Obligation, message: OutboxMessage, parties: Parties,
                  now: pendulum.DateTime) -> dict[str, Any]:
    municipality = parties.municipality(incident.municipality_insee)
    schools = {school.uai: school.name for school in (municipality.schools if municipality else [])}
    proposal = propose_scope(incident.categories, incident.personal_data)
    scope = Scope(incident.scope or proposal.scope)
    declared_by = Party(incident.declared_by)
    return {
        "ref": incident.ref,
        "title": incident.title,
        "description": incident.description,
        "declared_by": declared_by.label,
        "recipient_party": Party(message.recipient_party).label,
        "recipient_name": message.recipient_name,
        "academy_name": parties.academy.name,
        "municipality_name": municipality.name if municipality else incident.municipality_insee,
        "municipality_insee": incident.municipality_insee,
        "schools": [f"{schools.get(uai, uai)} ({uai})" for uai in incident.schools],
        "categories": [f"{RULES_BY_CATEGORY[c].label} ({c})" for c in incident.categories],
        "personal_data": PERSONAL_DATA_LABELS[incident.personal_data],
        "data_subjects": [f"{count} {SUBJECT_LABELS[key]}" for key, count in incident.data_subjects.items()],
        "records": incident.records,
        "aware_at": incident.aware_at,
        "occurred_at": incident.occurred_at,
        "reporter_name": incident.reporter_name,
        "reporter_email": incident.reporter_email,
        "scope_label": SCOPE_LABELS[scope],
        "scope_article": SCOPE_ARTICLES[scope],
        "scope_reasons": list(proposal.reasons),
        "due_at": obligation.due_at,
        "late_by_seconds": obligation.lateness(now),
        "requested_actions": REQUESTED_ACTIONS[Party(message.recipient_party)],
    }
