"""Where an incident's breach stands, read-only: its latest assessment, the DPD's decision, whether personal data is
concerned now. Apart from the door's breach handlers (models.breach_lifecycle), so a reader loads no command."""

from sqlmodel import Session, col, select

from models.breach import Assessment, Decision
from models.incident import Incident
from policy.scope import personal_data_now as personal_data_as_of


def latest_assessment(session: Session, incident: Incident) -> Assessment | None:
    return session.exec(select(Assessment).where(Assessment.incident_id == incident.id)
                        .order_by(col(Assessment.id).desc())).first()


def personal_data_now(session: Session, incident: Incident) -> str:
    """Whether personal data is concerned, as of now (policy.scope.personal_data_now)."""
    return personal_data_as_of(incident.personal_data, latest_assessment(session, incident) is not None)


def decision_of(session: Session, incident: Incident) -> Decision | None:
    return session.exec(select(Decision).where(Decision.incident_id == incident.id)).first()
