"""Drafts the DPD files or sends: the CNIL notification (GDPR Art. 33(3), initial or complementary 33(4)) and the
communication to data subjects (Art. 34(2)), built from the store separately from their rendering."""

from dataclasses import dataclass
from typing import Any

import pendulum
from sqlmodel import Session, col, select

from models.breach import Assessment, CnilFiling, Decision
from models.incident import Incident
from models.obligation import Obligation
from notifications.context import incident_facts
from policy.severity import LEVEL_LABELS, RECOMMENDATION_LABELS, Level, Recommendation
from rendering.environment import render_document
from rendering.formats import subjects_text
from settings.parties import Parties

EXEMPTION_LABELS = {
    "encryption": "données rendues incompréhensibles (chiffrement), art. 34(3)(a)",
    "measures": "mesures ultérieures garantissant que le risque élevé n'est plus susceptible de se matérialiser, "
                "art. 34(3)(b)",
    "disproportionate": "efforts disproportionnés : communication publique à la place, art. 34(3)(c)",
}


@dataclass(frozen=True)
class Drafts:
    cnil_notification: str | None
    subjects_letter: str | None
    public_notice: bool


def draft_context(session: Session, incident: Incident, assessment: Assessment, decision: Decision | None,
                  cnil_obligation: Obligation | None, parties: Parties, as_of: pendulum.DateTime,
                  complementary: bool) -> dict[str, Any]:
    """Every Art. 33(3) element, filled from the incident and the latest assessment."""
    filings = session.exec(select(CnilFiling).where(CnilFiling.incident_id == incident.id)
                           .order_by(col(CnilFiling.filed_at))).all()
    initial = next((f for f in filings if not f.complementary), None)
    due = pendulum.instance(cnil_obligation.due_at) if cnil_obligation else None
    notified_at = pendulum.instance(initial.filed_at) if initial else as_of
    late_by = int((notified_at - due).total_seconds()) if due and notified_at > due else 0
    subjects = incident.data_subjects
    return {
        **incident_facts(incident, parties),
        "as_of": as_of,
        "complementary": complementary,
        "initial_reference": initial.reference if initial else None,
        "initial_filed_at": initial.filed_at if initial else None,
        "nature": assessment.nature,
        "consequences": assessment.consequences,
        "measures": assessment.measures,
        "subjects_total": sum(int(v) for v in subjects.values()),
        "subjects_detail": subjects_text(subjects),
        "minors": (subjects.get("pupils") or 0) > 0,
        "records": incident.records,
        "dpo": list(parties.academy.dpd_contacts),
        "controller": parties.academy.name,
        "level": LEVEL_LABELS[Level(assessment.level)],
        "se": f"{assessment.se:g}".replace(".", ","),
        "recommendation": RECOMMENDATION_LABELS[Recommendation(assessment.recommendation)],
        "due_at": due,
        "late_by_seconds": late_by,
        "delay_reasons": decision.delay_reasons if decision else None,
        "exemption": EXEMPTION_LABELS.get(decision.exemption or "") if decision else None,
        "public_notice": bool(decision and decision.exemption == "disproportionate"),
    }


def render_drafts(context: dict[str, Any], decision: Decision | None) -> Drafts:
    notify = decision is None or decision.notify_cnil
    inform = decision is not None and (decision.subjects == "yes" or decision.exemption == "disproportionate")
    return Drafts(
        cnil_notification=render_document("drafts/cnil_notification.txt.j2", context) if notify else None,
        subjects_letter=render_document("drafts/subjects_letter.txt.j2", context) if inform else None,
        public_notice=bool(context["public_notice"]),
    )
