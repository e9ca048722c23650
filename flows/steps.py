"""The work of intake and of an engine pass as plain functions: flows wrap them, benchmarks call them bare."""

import pendulum
from sqlmodel import col, select

from models.db import session_scope
from models.incident import Incident, IncidentStatus
from models.transitions import propose_scope
from notifications.delivery import DeliveryReport, deliver, deliverable_ids
from policy.scope import propose_scope as scope_rule
from settings.parties import load_parties


def resolve_instant(at: str | None) -> pendulum.DateTime:
    """The instant a run acts as of: the one given (replay), else now."""
    if at is None:
        return pendulum.now("UTC")
    parsed = pendulum.parse(at)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed.in_timezone("UTC")


def propose_scopes(incident_ids: list[int], now: pendulum.DateTime) -> list[str]:
    """Propose the scope of each incident not yet taken in; returns the references taken in now."""
    taken_in = []
    for incident_id in incident_ids:
        with session_scope() as session:
            incident = session.get(Incident, incident_id, with_for_update=True)
            if incident is None:
                continue
            proposal = scope_rule(incident.categories, incident.personal_data)
            if propose_scope(session, incident, proposal, now):
                taken_in.append(incident.ref)
    return taken_in


def queued_incident_ids() -> list[int]:
    with session_scope() as session:
        query = select(Incident.id).where(Incident.status == IncidentStatus.QUEUED).order_by(col(Incident.id))
        return [incident_id for incident_id in session.exec(query) if incident_id is not None]


async def deliver_due(now: pendulum.DateTime, incident_id: int | None = None) -> DeliveryReport:
    return await deliver(deliverable_ids(now, incident_id), load_parties(), now)
