"""The DPD's decision with its drafts: decided, drafted and mailed to the DPD (the drafts attached) in one
transaction, then also written under var/drafts/<ref>/. Plain functions (no Prefect): the CLI and the
breach-decision flow share them."""

import os
from dataclasses import dataclass
from pathlib import Path

import pendulum
from sqlmodel import Session

from models import breach_lifecycle
from models.breach import Decision
from models.commands import Decide, Redraft
from models.db import in_transaction
from models.door import execute
from models.errors import Refused
from models.incident import Incident
from models.queries import readable_incident
from notifications.drafts import DraftsMail, drafts_mail
from policy.clocks import ObligationKind
from settings.env import var_dir
from settings.parties import Parties, Person, load_parties


@dataclass(frozen=True)
class Drafted:
    incident_id: int
    ref: str
    files: list[Path]
    decision_id: int | None = None


def decide_and_draft(command: Decide, actor: Person, now: pendulum.DateTime) -> Drafted:
    """The DPD's decision through the door, with its drafts queued to the DPD in the same transaction."""
    parties = load_parties()

    def decide(session: Session) -> tuple[Decision, Incident, DraftsMail | None]:
        decision = execute(session, command, actor, now, parties)
        incident = session.get(Incident, decision.incident_id)
        assert incident is not None
        drafts = _draft(session, incident, actor, parties, now, complementary=False) \
            if decision.notify_cnil or decision.subjects == "yes" or decision.exemption == "disproportionate" else None
        return decision, incident, drafts

    decision, incident, drafts = in_transaction(decide)
    assert incident.id is not None
    files = _write(incident.ref, drafts, now) if drafts else []
    return Drafted(incident.id, incident.ref, files, decision.id)


def redraft(ref: str, *, complementary: bool, actor: Person, now: pendulum.DateTime) -> Drafted:
    """Write the drafts again as of `now` (e.g. a complementary notification, GDPR 33(4)) and mail them to the DPD."""
    parties = load_parties()

    def draft(session: Session) -> tuple[Incident, DraftsMail]:
        incident = readable_incident(session, ref, actor)
        return incident, _draft(session, incident, actor, parties, now, complementary)

    incident, drafts = in_transaction(draft)
    assert incident.id is not None
    return Drafted(incident.id, ref, _write(ref, drafts, now))


def _draft(session: Session, incident: Incident, actor: Person, parties: Parties, now: pendulum.DateTime,
           complementary: bool) -> DraftsMail:
    assessment = breach_lifecycle.latest_assessment(session, incident)
    if assessment is None:
        raise Refused(f"Aucune évaluation n'est enregistrée pour {incident.ref} : lancez d'abord « incidents assess ».")
    decision = breach_lifecycle.decision_of(session, incident)
    cnil = breach_lifecycle.obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
    subjects = breach_lifecycle.obligation_of(session, incident, ObligationKind.SUBJECTS_COMMUNICATION)
    prepared = drafts_mail(session, incident, assessment, decision, cnil, subjects, parties, now, complementary)
    mail = prepared.mail
    execute(session, Redraft(ref=incident.ref, complementary=complementary, mail=(mail.subject, mail.text, mail.html),
                             files=prepared.files), actor, now, parties)
    return prepared


def _folder(ref: str) -> Path:
    return var_dir() / "drafts" / ref


def _write(ref: str, prepared: DraftsMail, now: pendulum.DateTime) -> list[Path]:
    """The drafts also kept under var/drafts/<ref>/ (for the CLI and the portal's downloads), stamped with `now`."""
    folder = _folder(ref)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.in_timezone("Europe/Paris").format("YYYYMMDD[T]HHmmss")
    written = []
    for file in prepared.files:
        target = folder / f"{stamp}-{file.filename.removeprefix(f'{ref}-')}"
        partial = target.with_name(f"{target.name}.part")
        partial.write_bytes(file.content)
        os.replace(partial, target)
        written.append(target)
    return written
