"""Breach handlers of the door (models.door.execute): personal data changed, assessed, decided, drafts prepared,
filed with the CNIL, data subjects informed. Called only by the door, after its checks of role, party and state."""

from dataclasses import asdict
from datetime import datetime

import pendulum
from sqlmodel import Session, col, select

from models.breach import Assessment, CnilFiling, Decision, SubjectsNotice
from models.breach_input import AssessmentDocument
from models.breach_reads import decision_of, latest_assessment
from models.cadence import meet, open_obligation, record_opened, waive
from models.commands import Assess, Decide, FileCnil, InformSubjects, Redraft, RuleOutPersonalData, SetPersonalData
from models.errors import FieldError, InvalidInput, Refused
from models.incident import Incident
from models.journal import obligations_of, record, utc_iso
from models.messaging import enqueue, store_rendering
from models.obligation import Obligation
from policy import clocks
from policy.clocks import ObligationKind
from policy.parties import Party
from policy.recommendation import Advice, recommend
from policy.severity import Factors, Recommendation
from policy.transitions import EntryKind
from settings.parties import Parties, Person

SUBJECTS = ("yes", "no", "exempt")
EXEMPTIONS = ("encryption", "measures", "disproportionate")
RECOMMENDED = {Recommendation.REGISTER_ONLY: (False, "no"), Recommendation.NOTIFY_CNIL: (True, "no"),
               Recommendation.NOTIFY_CNIL_AND_SUBJECTS: (True, "yes")}
BREACH_CLOCKS = (ObligationKind.CNIL_NOTIFICATION, ObligationKind.SUBJECTS_COMMUNICATION)


def obligation_of(session: Session, incident: Incident, kind: ObligationKind) -> Obligation | None:
    return session.exec(select(Obligation).where(Obligation.incident_id == incident.id, Obligation.kind == kind)
                        .order_by(col(Obligation.id).desc())).first()


def set_personal_data(session: Session, command: SetPersonalData, incident: Incident, actor: Person,
                      parties: Parties, now: pendulum.DateTime) -> None:
    """Personal data learnt of after declaration: a breach (or a possible one) opens the CNIL clock; "no" after
    "yes" or "unknown" waives the breach clocks, with the reason and the person on the timeline."""
    value, aware_at = command.value, command.aware_at
    reason = (command.reason or "").strip() or None
    errors = []
    if value not in ("yes", "no", "unknown"):
        errors.append(FieldError("--value", "valeur non reconnue (valeurs possibles : yes, no, unknown)"))
    if (value == "no") != isinstance(command, RuleOutPersonalData):
        raise Refused("Écarter toute donnée personnelle passe par sa propre commande (valeur « no »).")
    if aware_at > now:
        errors.append(FieldError("--aware-at", "la date est dans le futur"))
    if aware_at < pendulum.instance(incident.aware_at):
        errors.append(FieldError("--aware-at", "antérieure à la prise de connaissance de l'incident "
                                               f"({_paris(incident.aware_at)})"))
    if value == "no" and reason is None:
        errors.append(FieldError("--reason", "indiquez pourquoi aucune donnée personnelle n'est concernée"))
    if errors:
        raise InvalidInput(errors)
    if value == incident.personal_data:
        raise Refused(f"Les données personnelles de {incident.ref} sont déjà à « {value} ».")
    previous, incident.personal_data = incident.personal_data, value
    session.add(incident)
    record(session, incident, now=aware_at, actor=actor.email, party=actor.party,
           kind=EntryKind.PERSONAL_DATA_CHANGED,
           payload={"from": previous, "to": value, "aware_at": utc_iso(aware_at), "reason": reason})
    open_clocks = [o for o in obligations_of(session, incident) if o.kind in BREACH_CLOCKS and not o.settled]
    if value == "no":
        for obligation in open_clocks:
            waive(session, incident, obligation, now, reason or "", actor.email, actor.party)
        return
    if not any(o.kind == ObligationKind.CNIL_NOTIFICATION for o in open_clocks):
        earliest = min(aware_at, pendulum.instance(incident.aware_at)) if previous != "no" else aware_at
        deadline = clocks.cnil_notification(parties.breach.cnil_owner_for(incident.categories), earliest)
        obligation = open_obligation(session, incident, deadline, parties.engine.step_policy)
        record_opened(session, incident, obligation, now, actor.email, actor.party)


def record_assessment(session: Session, command: Assess, incident: Incident, actor: Person, parties: Parties,
                      now: pendulum.DateTime) -> tuple[Assessment, Advice]:
    """Several assessments over time; the latest counts."""
    if incident.personal_data == "no":
        raise Refused(f"L'incident {incident.ref} est indiqué sans données personnelles : indiquez d'abord qu'il en "
                      "concerne (commande « incidents personal-data »).")
    document = command.document
    assert incident.id is not None
    advice = advice_for(document, incident, parties)
    severity = advice.severity
    assessment = Assessment(
        incident_id=incident.id, assessed_at=now, assessed_by=actor.email,
        factors=_jsonable(asdict(advice_factors(document, incident))),
        dpc=severity.dpc, ei=severity.ei, cb=severity.cb, se=severity.se, level=severity.level,
        recommendation=advice.recommendation, reasons=list(advice.reasons), basis=advice.stored(),
        data_categories=list(document.data_categories), nature=document.nature,
        consequences=document.consequences, measures=document.measures,
    )
    session.add(assessment)
    session.flush()
    record(session, incident, now=now, actor=actor.email, party=actor.party, kind=EntryKind.BREACH_ASSESSED, payload={
        "assessment_id": assessment.id, "dpc": severity.dpc, "ei": severity.ei, "cb": severity.cb,
        "se": severity.se, "level": severity.level.value, "recommendation": advice.recommendation.value,
        "enisa_recommendation": severity.recommendation.value, "criteria": list(assessment.basis["criteria"]),
        "deciding": list(assessment.basis["deciding"]), "nearest_example": advice.example.number,
        "reasons": list(advice.reasons), "data_categories": list(document.data_categories)})
    return assessment, advice


def advice_factors(document: AssessmentDocument, incident: Incident) -> Factors:
    return document.factors(pupils_involved=(incident.data_subjects.get("pupils") or 0) > 0)


def advice_for(document: AssessmentDocument, incident: Incident, parties: Parties) -> Advice:
    """The recommendation for this assessment of this incident: the declaration's count of people concerned stands
    in for the DPD's when the assessment gives none."""
    declared = sum(count for count in incident.data_subjects.values() if isinstance(count, int)) or None
    return recommend(advice_factors(document, incident), parties.breach.minors_uplift, declared,
                     parties.breach.large_scale_from)


def decide(session: Session, command: Decide, incident: Incident, actor: Person, parties: Parties,
           now: pendulum.DateTime) -> Decision:
    """The DPD's decision on notifying the CNIL and informing data subjects (GDPR Art. 33, 34)."""
    cnil, subjects, exemption = command.cnil, command.subjects, command.exemption
    errors = []
    if cnil not in ("yes", "no"):
        errors.append(FieldError("--cnil", "valeur non reconnue (valeurs possibles : yes, no)"))
    if subjects not in SUBJECTS:
        errors.append(FieldError("--subjects", "valeur non reconnue (valeurs possibles : yes, no, exempt)"))
    if subjects == "exempt" and exemption not in EXEMPTIONS:
        errors.append(FieldError("--exemption", "une exemption de l'article 34(3) est requise avec --subjects "
                                                "exempt (valeurs possibles : encryption, measures, disproportionate)"))
    if subjects != "exempt" and exemption is not None:
        errors.append(FieldError("--exemption", "n'a de sens qu'avec --subjects exempt"))
    if incident.personal_data == "no":
        raise Refused(f"Toute donnée personnelle a été écartée pour {incident.ref} : il n'y a pas de violation à "
                      "décider.")
    assessment = latest_assessment(session, incident)
    assert assessment is not None  # the door admits a decision on an assessed breach only
    decided_at = command.decided_at or now
    if decided_at > now:
        errors.append(FieldError("--decided-at", "la date est dans le futur"))
    if decided_at < pendulum.instance(assessment.assessed_at):
        errors.append(FieldError("--decided-at", "la décision ne peut pas précéder l'évaluation sur laquelle elle "
                                                 f"repose ({_paris(assessment.assessed_at)})"))
    if errors:
        raise InvalidInput(errors)
    recommendation = Recommendation(assessment.recommendation)
    notify = cnil == "yes"
    against = (notify, subjects) != RECOMMENDED[recommendation]
    rationale = (command.rationale or "").strip() or None
    if rationale is None and (against or not notify or subjects != "yes"):
        raise Refused("Une décision qui s'écarte de la recommandation, comporte un « non » ou invoque une exemption "
                      "doit être motivée (--rationale).")
    assert incident.id is not None and assessment.id is not None
    decision = Decision(incident_id=incident.id, assessment_id=assessment.id, decided_at=decided_at,
                        decided_by=actor.email, notify_cnil=notify, subjects=subjects, exemption=exemption,
                        rationale=rationale,
                        recommendation=recommendation, against_recommendation=against,
                        delay_reasons=(command.delay_reasons or "").strip() or None,
                        letter=command.letter.stored() if command.letter else {})
    session.add(decision)
    session.flush()
    public = subjects == "exempt" and exemption == "disproportionate"
    record(session, incident, now=decided_at, actor=actor.email, party=actor.party, kind=EntryKind.BREACH_DECIDED,
           payload={"decision_id": decision.id, "notify_cnil": notify, "subjects": subjects, "exemption": exemption,
                    "public_communication": public, "rationale": rationale, "recommendation": recommendation.value,
                    "against_recommendation": against, "assessment_id": assessment.id,
                    "delay_reasons": decision.delay_reasons, "letter": decision.letter})
    cnil_obligation = obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
    if not notify and cnil_obligation is not None and not cnil_obligation.settled:
        waive(session, incident, cnil_obligation, decided_at, rationale or "", actor.email, actor.party)
    if subjects == "yes" or public:
        owner = Party(cnil_obligation.owner) if cnil_obligation else parties.breach.cnil_owner
        deadline = clocks.subjects_communication(owner, decided_at, parties.breach.subjects_communication_hours)
        obligation = open_obligation(session, incident, deadline, parties.engine.step_policy)
        record_opened(session, incident, obligation, decided_at, actor.email, actor.party)
    return decision


def prepare_drafts(session: Session, command: Redraft, incident: Incident, actor: Person, parties: Parties,
                   now: pendulum.DateTime) -> None:
    """Queue the drafts (rendered by the caller from the store) to the DPDs of the notifying party."""
    assert command.mail is not None
    subject, text, html = command.mail
    owner = obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
    party = Party(owner.owner) if owner else parties.breach.cnil_owner_for(incident.categories)
    recipients = parties.dpd_contacts(party, incident.municipality_insee)
    for message in enqueue(session, incident, template="breach_drafts", step=f"drafts-{now.int_timestamp}",
                           recipients=recipients, recipient_party=party):
        store_rendering(session, message, subject, text, html, None, command.files)
    record(session, incident, now=now, actor=actor.email, party=actor.party, kind=EntryKind.DRAFTS_PREPARED,
           payload={"complementary": command.complementary, "recipients": [str(c.email) for c in recipients],
                    "files": [file.filename for file in command.files]})


def record_cnil_filing(session: Session, command: FileCnil, incident: Incident, actor: Person, _parties: Parties,
                       now: pendulum.DateTime) -> CnilFiling:
    """An initial filing meets the CNIL obligation (lateness frozen); complementary ones follow (GDPR 33(4))."""
    filed_at, reference, complementary = command.filed_at, command.reference.strip(), command.complementary
    decision = _decision_before(session, incident, filed_at, "--filed-at", "le dépôt")
    if not decision.notify_cnil:
        raise Refused(f"Le DPD a décidé de ne pas notifier la CNIL pour {incident.ref}.")
    filings = session.exec(select(CnilFiling).where(CnilFiling.incident_id == incident.id)).all()
    initial = [f for f in filings if not f.complementary]
    if complementary and not initial:
        raise Refused("Une notification complémentaire suit une notification initiale : enregistrez d'abord celle-ci.")
    if not complementary and initial:
        raise Refused(f"La notification initiale de {incident.ref} est déjà enregistrée ; utilisez --complementary.")
    if complementary and filed_at < pendulum.instance(initial[0].filed_at):
        raise InvalidInput([FieldError("--filed-at", "une notification complémentaire ne peut pas précéder la "
                                                     f"notification initiale ({_paris(initial[0].filed_at)})")])
    assert incident.id is not None
    filing = CnilFiling(incident_id=incident.id, filed_at=filed_at, reference=reference,
                        complementary=complementary, recorded_by=actor.email)
    session.add(filing)
    record(session, incident, now=filed_at, actor=actor.email, party=actor.party, kind=EntryKind.CNIL_FILED,
           payload={"reference": filing.reference, "complementary": complementary})
    obligation = obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
    if not complementary and obligation is not None and not obligation.settled:
        meet(session, incident, obligation, filed_at, actor.email, {"reference": filing.reference})
    return filing


def record_subjects_informed(session: Session, command: InformSubjects, incident: Incident, actor: Person,
                             _parties: Parties, now: pendulum.DateTime) -> SubjectsNotice:
    informed_at, channel = command.informed_at, command.channel.strip()
    _decision_before(session, incident, informed_at, "--informed-at", "l'information")
    obligation = obligation_of(session, incident, ObligationKind.SUBJECTS_COMMUNICATION)
    if obligation is None:
        raise Refused(f"Aucune décision d'informer les personnes concernées n'est enregistrée pour {incident.ref}.")
    assert incident.id is not None
    notice = SubjectsNotice(incident_id=incident.id, informed_at=informed_at, channel=channel,
                            recorded_by=actor.email)
    session.add(notice)
    record(session, incident, now=informed_at, actor=actor.email, party=actor.party, kind=EntryKind.SUBJECTS_INFORMED,
           payload={"channel": notice.channel})
    if not obligation.settled:
        meet(session, incident, obligation, informed_at, actor.email, {"channel": notice.channel})
    return notice


def _decision_before(session: Session, incident: Incident, at: pendulum.DateTime, field: str,
                     what: str) -> Decision:
    """The DPD's decision an event carries out; the event cannot precede it (its own time is checked by the door)."""
    decision = decision_of(session, incident)
    assert decision is not None  # the door admits these commands on a decided breach only
    if at < pendulum.instance(decision.decided_at):
        raise InvalidInput([FieldError(field, f"{what} ne peut pas précéder la décision du DPD "
                                              f"({_paris(decision.decided_at)})")])
    return decision


def _paris(value: datetime) -> str:
    """To the second when it has seconds: a time typed to the minute may fall in the same minute, yet before."""
    local = clocks.paris(pendulum.instance(value))
    return local.format("DD/MM/YYYY HH:mm" if local.second == 0 else "DD/MM/YYYY HH:mm:ss")


def _jsonable(factors: dict[str, object]) -> dict[str, object]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in factors.items()}
