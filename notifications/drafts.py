"""Drafts the DPD files or sends: the CNIL notification (GDPR Art. 33(3), initial or complementary 33(4)) and the
communication to data subjects (Art. 34(2)), built from the store separately from their rendering, then mailed to
the DPD as editable documents with what is to be done and by when."""

from dataclasses import dataclass
from typing import Any

import pendulum
from sqlmodel import Session, col, select

from models.breach import Assessment, CnilFiling, Decision
from models.incident import Incident
from models.obligation import Obligation
from models.outbox import MailFile
from notifications.context import incident_facts
from notifications.documents import editable
from policy.severity import (
    BREACH_TYPE_LABELS,
    DATA_CATEGORY_LABELS,
    LEVEL_LABELS,
    RECOMMENDATION_LABELS,
    Level,
    Recommendation,
)
from rendering.environment import RenderedMessage, render_document, render_message
from rendering.formats import paris_date, subjects_text
from settings.parties import Parties

EXEMPTION_LABELS = {
    "encryption": "données rendues incompréhensibles (chiffrement), art. 34(3)(a)",
    "measures": "mesures ultérieures garantissant que le risque élevé n'est plus susceptible de se matérialiser, "
                "art. 34(3)(b)",
    "disproportionate": "efforts disproportionnés : communication publique à la place, art. 34(3)(c)",
}
# What a parent is advised when the DPD has not written it: prudence any breach of an ENT calls for.
DEFAULT_ADVICE = ("Soyez attentifs aux messages inattendus qui mentionneraient l'école ou l'ENT, ne communiquez jamais "
                  "vos mots de passe, et changez celui de l'ENT à la prochaine connexion si on vous le demande.")


@dataclass(frozen=True)
class Drafts:
    cnil_notification: str | None
    subjects_letter: str | None
    public_notice: bool


@dataclass(frozen=True)
class DraftsMail:
    """The drafts, the mail that carries them to the DPD, and the files attached to it."""

    drafts: Drafts
    mail: RenderedMessage
    files: tuple[MailFile, ...]


def breach_types(factors: dict[str, Any]) -> list[str]:
    """The type of the breach (confidentiality, integrity, availability), read from the ENISA factors assessed."""
    return [BREACH_TYPE_LABELS[key] for key in ("confidentiality", "integrity", "availability")
            if factors.get(key) not in (None, "none", False)]


def _schools(incident: Incident, parties: Parties) -> list[str]:
    """The schools of the incident by name, from the parties' file; codes it does not know are left out."""
    municipality = parties.municipality(incident.municipality_insee)
    names = {school.uai: school.name for school in (municipality.schools if municipality else [])}
    return [names[uai] for uai in incident.schools if uai in names]


def draft_context(session: Session, incident: Incident, assessment: Assessment, decision: Decision | None,
                  cnil_obligation: Obligation | None, subjects_obligation: Obligation | None, parties: Parties,
                  as_of: pendulum.DateTime, complementary: bool) -> dict[str, Any]:
    """Every item of the CNIL's notification form (Art. 33(3)) and of the letter (Art. 34(2)), filled from the
    incident, the latest assessment and the decision; what is missing is left for the DPD to complete."""
    filings = session.exec(select(CnilFiling).where(CnilFiling.incident_id == incident.id)
                           .order_by(col(CnilFiling.filed_at))).all()
    initial = next((f for f in filings if not f.complementary), None)
    due = pendulum.instance(cnil_obligation.due_at) if cnil_obligation else None
    notified_at = pendulum.instance(initial.filed_at) if initial else as_of
    late_by = int((notified_at - due).total_seconds()) if due and notified_at > due else 0
    subjects = incident.data_subjects
    total = sum(int(v) for v in subjects.values())
    letter = decision.letter if decision else {}
    signatory = parties.academy.signatory
    return {
        **incident_facts(session, incident, parties),
        "as_of": as_of,
        "as_of_day": paris_date(as_of),
        "complementary": complementary,
        "initial_reference": initial.reference if initial else None,
        "initial_filed_at": initial.filed_at if initial else None,
        "nature": assessment.nature,
        "consequences": assessment.consequences,
        "measures": assessment.measures,
        "malicious": bool(assessment.factors.get("malicious")),
        "breach_types": breach_types(assessment.factors),
        "data_categories": [DATA_CATEGORY_LABELS.get(c, c) for c in assessment.data_categories],
        "school_names": _schools(incident, parties),
        "occurred_day": paris_date(incident.occurred_at) if incident.occurred_at else None,
        "aware_day": paris_date(incident.aware_at),
        "subjects_total": total,
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
        "subjects_decision": decision.subjects if decision else None,
        "subjects_due_at": subjects_obligation.due_at if subjects_obligation else None,
        "rationale": decision.rationale if decision else None,
        "exemption": EXEMPTION_LABELS.get(decision.exemption or "") if decision else None,
        "public_notice": bool(decision and decision.exemption == "disproportionate"),
        "letter": {"what_happened": letter.get("what_happened"), "what_it_means": letter.get("what_it_means"),
                   "what_to_do": letter.get("what_to_do") or DEFAULT_ADVICE, "contact": letter.get("contact"),
                   "channel": letter.get("channel")},
        "signatory": {"name": signatory.name, "title": signatory.title} if signatory else None,
    }


def render_drafts(context: dict[str, Any], decision: Decision | None) -> Drafts:
    notify = decision is None or decision.notify_cnil
    inform = decision is not None and (decision.subjects == "yes" or decision.exemption == "disproportionate")
    return Drafts(
        cnil_notification=render_document("drafts/cnil_notification.txt.j2", context) if notify else None,
        subjects_letter=render_document("drafts/subjects_letter.txt.j2", context) if inform else None,
        public_notice=bool(context["public_notice"]),
    )


def draft_names(ref: str, drafts: Drafts, complementary: bool) -> dict[str, str | None]:
    """Each draft's file name without extension, as attached and as written under var/drafts/<ref>/."""
    return {
        f"{ref}-notification-cnil{'-complementaire' if complementary else ''}": drafts.cnil_notification,
        f"{ref}-{'communication-publique' if drafts.public_notice else 'lettre-personnes-concernees'}":
            drafts.subjects_letter,
    }


def drafts_mail(session: Session, incident: Incident, assessment: Assessment, decision: Decision | None,
                cnil_obligation: Obligation | None, subjects_obligation: Obligation | None, parties: Parties,
                now: pendulum.DateTime, complementary: bool) -> DraftsMail:
    """The drafts as of `now`, and the DPD's mail that carries them (.odt, .docx and .txt) with what to do by when."""
    context = draft_context(session, incident, assessment, decision, cnil_obligation, subjects_obligation, parties,
                            now, complementary)
    drafts = render_drafts(context, decision)
    files = tuple(file for stem, text in draft_names(incident.ref, drafts, complementary).items() if text is not None
                  for file in editable(stem, text, now.naive()))
    due = context["due_at"]
    cnil_open = cnil_obligation is not None and cnil_obligation.met_at is None and cnil_obligation.waived_at is None
    subjects_open = subjects_obligation is not None and subjects_obligation.met_at is None \
        and subjects_obligation.waived_at is None
    mail = render_message("breach_drafts", {
        **{key: context[key] for key in ("ref", "title", "academy_name", "municipality_name", "portal_link",
                                         "complementary", "initial_reference", "initial_filed_at", "public_notice")},
        "cnil_notification": drafts.cnil_notification is not None,
        "subjects_letter": drafts.subjects_letter is not None,
        "cnil_due_at": due if cnil_open else None,
        "cnil_overdue_by": int((now - due).total_seconds()) if cnil_open and due and now >= due else 0,
        "subjects_due_at": context["subjects_due_at"] if subjects_open else None,
        "files": [file.filename for file in files],
    })
    return DraftsMail(drafts, mail, files)
