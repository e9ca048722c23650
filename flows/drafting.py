"""The DPD's decision with its drafts: decided, drafted and mailed to the DPD in one transaction, then written
under var/drafts/<ref>/. Plain functions (no Prefect): the CLI and the breach-decision flow share them."""

import os
from dataclasses import dataclass
from pathlib import Path

import pendulum
from sqlmodel import Session

from models import breach_lifecycle
from models.db import session_scope
from models.errors import Refused
from models.incident import Incident
from models.journal import get_incident
from models.messaging import enqueue, store_rendering
from notifications.drafts import Drafts, draft_context, render_drafts
from notifications.render import render_message
from policy.clocks import ObligationKind
from policy.parties import Party
from settings.env import var_dir
from settings.parties import Parties, load_parties


@dataclass(frozen=True)
class Drafted:
    incident_id: int
    ref: str
    files: list[Path]


def decide_and_draft(ref: str, *, cnil: str, subjects: str, exemption: str | None, rationale: str | None, by: str,
                     delay_reasons: str | None, now: pendulum.DateTime) -> Drafted:
    parties = load_parties()
    with session_scope() as session:
        incident = get_incident(session, ref)
        decision = breach_lifecycle.decide(session, incident, cnil=cnil, subjects=subjects, exemption=exemption,
                                           rationale=rationale, by=by, delay_reasons=delay_reasons, parties=parties,
                                           now=now)
        drafts = _draft(session, incident, parties, now, complementary=False) \
            if decision.notify_cnil or decision.subjects == "yes" or decision.exemption == "disproportionate" else None
    assert incident.id is not None
    return Drafted(incident.id, ref, _write(ref, drafts, now, complementary=False) if drafts else [])


def redraft(ref: str, *, complementary: bool, now: pendulum.DateTime) -> Drafted:
    """Write the drafts again as of `now` (e.g. a complementary notification, GDPR 33(4)) and mail them to the DPD."""
    parties = load_parties()
    with session_scope() as session:
        incident = get_incident(session, ref)
        drafts = _draft(session, incident, parties, now, complementary)
    assert incident.id is not None
    return Drafted(incident.id, ref, _write(ref, drafts, now, complementary))


def _draft(session: Session, incident: Incident, parties: Parties, now: pendulum.DateTime,
           complementary: bool) -> Drafts:
    assessment = breach_lifecycle.latest_assessment(session, incident)
    if assessment is None:
        raise Refused(f"Aucune évaluation n'est enregistrée pour {incident.ref} : lancez d'abord « incidents assess ».")
    decision = breach_lifecycle.decision_of(session, incident)
    cnil = breach_lifecycle.obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
    context = draft_context(session, incident, assessment, decision, cnil, parties, now, complementary)
    drafts = render_drafts(context, decision)
    mail = render_message("breach_drafts", {
        "ref": incident.ref, "academy_name": parties.academy.name, "folder": str(_folder(incident.ref)),
        "cnil_notification": drafts.cnil_notification, "subjects_letter": drafts.subjects_letter})
    for message in enqueue(session, incident, template="breach_drafts", step=f"drafts-{now.int_timestamp}",
                           recipients=list(parties.academy.dpd_contacts), recipient_party=Party.ACADEMY):
        store_rendering(session, message, mail.subject, mail.text, mail.html, None)
    return drafts


def _folder(ref: str) -> Path:
    return var_dir() / "drafts" / ref


def _write(ref: str, drafts: Drafts, now: pendulum.DateTime, complementary: bool) -> list[Path]:
    folder = _folder(ref)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.in_timezone("Europe/Paris").format("YYYYMMDD[T]HHmmss")
    documents = {
        f"{stamp}-notification-cnil{'-complementaire' if complementary else ''}.txt": drafts.cnil_notification,
        f"{stamp}-{'communication-publique' if drafts.public_notice else 'lettre-personnes-concernees'}.txt":
            drafts.subjects_letter,
    }
    written = []
    for name, text in documents.items():
        if text is None:
            continue
        partial = folder / f"{name}.part"
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, folder / name)
        written.append(folder / name)
    return written
