"""What the commands show: plain data for --json, built once, and its French text rendering."""

from typing import Any

import pendulum

from models.incident import Incident
from models.obligation import Obligation
from models.timeline import TimelineEntry
from policy.clocks import paris
from policy.scope import SCOPE_LABELS, Scope


def iso_paris(value: Any) -> str | None:
    return paris(pendulum.instance(value)).isoformat() if value is not None else None


def obligation_view(obligation: Obligation, now: pendulum.DateTime) -> dict[str, Any]:
    return {
        "kind": obligation.kind,
        "owner": obligation.owner,
        "anchor_at": iso_paris(obligation.anchor_at),
        "due_at": iso_paris(obligation.due_at),
        "met_at": iso_paris(obligation.met_at),
        "status": obligation.status(now).value,
        "late_by_seconds": obligation.lateness(now),
    }


def incident_view(incident: Incident, obligations: list[Obligation], now: pendulum.DateTime) -> dict[str, Any]:
    return {
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
        "obligations": [obligation_view(obligation, now) for obligation in obligations],
    }


def timeline_view(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "ref": entry.incident_ref,
        "occurred_at": iso_paris(entry.occurred_at),
        "recorded_at": iso_paris(entry.recorded_at),
        "actor": entry.actor,
        "party": entry.party,
        "kind": entry.kind,
        "payload": entry.payload,
        "hash": entry.hash,
    }


STATUS_LABELS = {"open": "en cours", "met": "respectée", "late": "respectée en retard", "overdue": "en retard"}
KIND_LABELS = {"cross_party_alert": "Alerte de l'autre partie (48 h)"}
ENTRY_LABELS = {
    "declared": "Déclaration enregistrée",
    "scope_proposed": "Portée proposée par le moteur",
    "scope_confirmed": "Portée arrêtée par l'académie",
    "message_delivered": "Message remis",
    "message_failed": "Échec de remise d'un message",
    "obligation_met": "Obligation remplie",
}


def scope_text(scope: str | None) -> str:
    return SCOPE_LABELS[Scope(scope)] if scope else "pas encore proposée"
