"""The breach register (GDPR Art. 33(5)): every personal-data breach, notified or not, with facts, effects,
remedial action, assessment, decision, rationale, who decided, and every date."""

import json
from typing import Any

import pendulum
from sqlmodel import Session, col, select

from models.breach import Assessment, CnilFiling, Decision, SubjectsNotice
from models.breach_reads import personal_data_now
from models.incident import Incident
from models.obligation import Obligation
from models.queries import visible
from policy.clocks import ObligationKind
from policy.scope import PERSONAL_DATA_LABELS
from policy.severity import LEVEL_LABELS, RECOMMENDATION_LABELS, Level, Recommendation
from policy.transitions import INCIDENT_STATE_LABELS, IncidentState
from rendering.describe import EXEMPTION_LABELS, SUBJECTS_DECIDED, category_label
from rendering.environment import render_document
from rendering.formats import duration_fr, iso, subjects_text
from rendering.rows import PARTIES as PARTY_LABELS
from rendering.tables import spreadsheet_instant, spreadsheet_number, to_csv, yes_no
from settings.parties import Person

COLUMNS = (
    "ref", "status", "municipality", "declared_by", "aware_at", "declared_at", "occurred_at", "categories",
    "personal_data", "data_subjects", "records", "nature", "consequences", "measures", "assessed_at", "dpc", "ei",
    "cb", "se", "level", "recommendation", "decided_at", "decided_by", "notify_cnil", "subjects", "exemption",
    "against_recommendation", "rationale", "cnil_due_at", "cnil_filed_at", "cnil_reference", "cnil_late_by_seconds",
    "complementary_filings", "subjects_due_at", "subjects_informed_at", "subjects_channel", "closed_at",
)


CSV_HEADINGS = {
    "ref": "Référence", "status": "État", "municipality": "Commune (INSEE)", "declared_by": "Déclaré par",
    "aware_at": "Connu le", "declared_at": "Déclaré le", "occurred_at": "Survenu le", "categories": "Catégories",
    "personal_data": "Données personnelles", "data_subjects": "Personnes concernées", "records": "Enregistrements",
    "nature": "Nature de la violation", "consequences": "Conséquences probables", "measures": "Mesures prises",
    "assessed_at": "Évaluée le", "dpc": "DPC", "ei": "EI", "cb": "CB", "se": "Gravité (SE)", "level": "Niveau",
    "recommendation": "Recommandation", "decided_at": "Décidée le", "decided_by": "Décidée par",
    "notify_cnil": "Notification à la CNIL", "subjects": "Information des personnes", "exemption": "Exemption",
    "against_recommendation": "Contre la recommandation", "rationale": "Motivation",
    "cnil_due_at": "Échéance CNIL", "cnil_filed_at": "Notifiée à la CNIL le", "cnil_reference": "Référence CNIL",
    "cnil_late_by_seconds": "Retard de la notification", "complementary_filings": "Notifications complémentaires",
    "subjects_due_at": "Échéance de l'information", "subjects_informed_at": "Personnes informées le",
    "subjects_channel": "Moyen d'information", "closed_at": "Clos le",
}
INSTANTS = ("aware_at", "declared_at", "occurred_at", "assessed_at", "decided_at", "cnil_due_at", "cnil_filed_at",
            "subjects_due_at", "subjects_informed_at", "closed_at")


def _in_words(row: dict[str, Any]) -> dict[str, Any]:
    """A register row for a spreadsheet: French words, Paris dates and decimal commas, not codes."""
    return {
        **row,
        **{key: spreadsheet_instant(row[key]) for key in INSTANTS},
        "status": row["status_label"], "declared_by": PARTY_LABELS.get(row["declared_by"], row["declared_by"]),
        "categories": " ; ".join(row["categories_labels"]), "personal_data": row["personal_data_label"],
        "data_subjects": ", ".join(subjects_text(row["data_subjects"])),
        **{key: spreadsheet_number(row[key]) for key in ("dpc", "ei", "cb", "se")},
        "level": row["level_label"] or "", "recommendation": row["recommendation_label"] or "",
        "notify_cnil": yes_no(row["notify_cnil"]), "subjects": row["subjects_label"] or "",
        "exemption": row["exemption_label"] or "", "against_recommendation": yes_no(row["against_recommendation"]),
        "cnil_late_by_seconds": duration_fr(row["cnil_late_by_seconds"]) if row["cnil_late_by_seconds"] else "",
        "complementary_filings": " ; ".join(f"{spreadsheet_instant(f['filed_at'])} ({f['reference']})"
                                            for f in row["complementary_filings"]),
    }


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
        return to_csv([_in_words(row) for row in rows], list(COLUMNS), CSV_HEADINGS)
    return render_document("reports/register.html.j2", {"rows": rows, "academy_name": academy_name,
                                                         "generated_at": now})
