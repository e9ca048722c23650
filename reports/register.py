"""The breach register (GDPR Art. 33(5)): every personal-data breach, notified or not, with facts, effects,
remedial action, assessment, decision, rationale, who decided, and every date."""

import json
from typing import Any

import pendulum
from sqlmodel import Session, col, select

from models.breach import Assessment, CnilFiling, Decision, SubjectsNotice
from models.breach_lifecycle import personal_data_now
from models.incident import Incident
from models.obligation import Obligation
from models.queries import visible
from policy.clocks import ObligationKind
from policy.scope import PERSONAL_DATA_LABELS
from policy.severity import LEVEL_LABELS, RECOMMENDATION_LABELS, Level, Recommendation
from policy.transitions import INCIDENT_STATE_LABELS, IncidentState
from rendering.describe import EXEMPTION_LABELS, SUBJECTS_DECIDED, category_label
from rendering.environment import render_document
from rendering.formats import iso
from rendering.tables import to_csv
from settings.parties import Person

COLUMNS = (
    "ref", "status", "municipality", "declared_by", "aware_at", "declared_at", "occurred_at", "categories",
    "personal_data", "data_subjects", "records", "nature", "consequences", "measures", "assessed_at", "dpc", "ei",
    "cb", "se", "level", "recommendation", "decided_at", "decided_by", "notify_cnil", "subjects", "exemption",
    "against_recommendation", "rationale", "cnil_due_at", "cnil_filed_at", "cnil_reference", "cnil_late_by_seconds",
    "complementary_filings", "subjects_due_at", "subjects_informed_at", "subjects_channel", "closed_at",
)


def register_rows(session: Session, reader: Person) -> list[dict[str, Any]]:
    """One row per breach `reader` may see: an incident with personal data `yes` or `unknown`, or ever assessed."""
    assessed = select(Assessment.incident_id)
    incidents = session.exec(visible(select(Incident), reader).where(
        col(Incident.personal_data).in_(("yes", "unknown")) | col(Incident.id).in_(assessed)
    ).order_by(col(Incident.id))).all()
    return [_row(session, incident) for incident in incidents]


def _row(session: Session, incident: Incident) -> dict[str, Any]:
    assessment = session.exec(select(Assessment).where(Assessment.incident_id == incident.id)
                              .order_by(col(Assessment.id).desc())).first()
    decision = session.exec(select(Decision).where(Decision.incident_id == incident.id)).first()
    filings = session.exec(select(CnilFiling).where(CnilFiling.incident_id == incident.id)
                           .order_by(col(CnilFiling.filed_at))).all()
    initial = next((f for f in filings if not f.complementary), None)
    notice = session.exec(select(SubjectsNotice).where(SubjectsNotice.incident_id == incident.id)
                          .order_by(col(SubjectsNotice.informed_at))).first()
    obligations = {o.kind: o for o in session.exec(select(Obligation).where(Obligation.incident_id == incident.id)
                                                   .order_by(col(Obligation.id)))}
    cnil = obligations.get(ObligationKind.CNIL_NOTIFICATION)
    subjects = obligations.get(ObligationKind.SUBJECTS_COMMUNICATION)
    return {
        "ref": incident.ref, "status": incident.status, "municipality": incident.municipality_insee,
        "declared_by": incident.declared_by, "aware_at": iso(incident.aware_at),
        "declared_at": iso(incident.declared_at), "occurred_at": iso(incident.occurred_at),
        "categories": incident.categories, "personal_data": incident.personal_data,
        "data_subjects": incident.data_subjects, "records": incident.records,
        "nature": assessment.nature if assessment else None,
        "consequences": assessment.consequences if assessment else None,
        "measures": assessment.measures if assessment else None,
        "assessed_at": iso(assessment.assessed_at) if assessment else None,
        "dpc": assessment.dpc if assessment else None, "ei": assessment.ei if assessment else None,
        "cb": assessment.cb if assessment else None, "se": assessment.se if assessment else None,
        "level": assessment.level if assessment else None,
        "recommendation": assessment.recommendation if assessment else None,
        "decided_at": iso(decision.decided_at) if decision else None,
        "decided_by": decision.decided_by if decision else None,
        "notify_cnil": decision.notify_cnil if decision else None,
        "subjects": decision.subjects if decision else None,
        "exemption": decision.exemption if decision else None,
        "against_recommendation": decision.against_recommendation if decision else None,
        "rationale": decision.rationale if decision else None,
        "cnil_due_at": iso(cnil.due_at) if cnil else None,
        "cnil_filed_at": iso(initial.filed_at) if initial else None,
        "cnil_reference": initial.reference if initial else None,
        "cnil_late_by_seconds": cnil.late_by_seconds if cnil and cnil.met_at else None,
        "complementary_filings": [{"filed_at": iso(f.filed_at), "reference": f.reference}
                                  for f in filings if f.complementary],
        "subjects_due_at": iso(subjects.due_at) if subjects else None,
        "subjects_informed_at": iso(notice.informed_at) if notice else None,
        "subjects_channel": notice.channel if notice else None,
        "closed_at": iso(incident.closed_at),
        **_labels(session, incident, assessment, decision),
    }


def _labels(session: Session, incident: Incident, assessment: Assessment | None,
            decision: Decision | None) -> dict[str, Any]:
    """The French words for the row's codes: the HTML shows these; CSV and JSON keep the codes."""
    return {
        "status_label": INCIDENT_STATE_LABELS[IncidentState(incident.status)],
        "personal_data_label": PERSONAL_DATA_LABELS[personal_data_now(session, incident)],
        "categories_labels": [category_label(c) for c in incident.categories],
        "level_label": LEVEL_LABELS[Level(assessment.level)] if assessment else None,
        "recommendation_label": RECOMMENDATION_LABELS[Recommendation(assessment.recommendation)]
        if assessment else None,
        "subjects_label": SUBJECTS_DECIDED.get(decision.subjects, decision.subjects) if decision else None,
        "exemption_label": EXEMPTION_LABELS.get(decision.exemption, decision.exemption)
        if decision and decision.exemption else None,
    }


def render(rows: list[dict[str, Any]], fmt: str, academy_name: str, now: pendulum.DateTime) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if fmt == "csv":
        return to_csv(rows, list(COLUMNS))
    return render_document("reports/register.html.j2", {"rows": rows, "academy_name": academy_name,
                                                         "generated_at": now})
