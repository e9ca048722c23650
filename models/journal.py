"""Writing the timeline for an incident, and finding incidents: shared by every transition module."""

from typing import Any

import pendulum
from sqlmodel import Session, col, select

from models.attestation import STATE_KEY, attest
from models.incident import Incident
from models.obligation import Obligation
from models.timeline import append_entry

ENGINE_ACTOR = "moteur"
ENGINE_PARTY = "engine"


def record(session: Session, incident: Incident | None, *, now: pendulum.DateTime, actor: str, party: str,
           kind: str, payload: dict[str, Any]) -> None:
    """Append a timeline entry in the caller's transaction; `now` is when it happened in the world. The entry
    attests the state of the incident's records written since its previous entry (models.attestation)."""
    state = attest(session, incident.id) if incident is not None else {}
    if state:
        payload = {**payload, STATE_KEY: state}
    append_entry(session, incident_id=incident.id if incident else None,
                 incident_ref=incident.ref if incident else None, occurred_at=now,
                 recorded_at=pendulum.now("UTC"), actor=actor, party=party, kind=kind, payload=payload)


def obligations_of(session: Session, incident: Incident) -> list[Obligation]:
    return list(session.exec(select(Obligation).where(Obligation.incident_id == incident.id)
                             .order_by(col(Obligation.id))).all())


def utc_iso(instant: Any) -> str:
    return pendulum.instance(instant).in_timezone("UTC").isoformat()
