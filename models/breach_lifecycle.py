"""Breach transitions, one door each: personal data changed, assessed, decided, filed with the CNIL, subjects
informed. Each works in the caller's transaction and refuses before writing anything."""

from dataclasses import asdict

import pendulum
from sqlmodel import Session, col, select

from models.breach import Assessment, CnilFiling, Decision, SubjectsNotice
from models.breach_input import AssessmentDocument
from models.cadence import meet, open_obligation, waive
from models.errors import FieldError, InvalidInput, Refused
from models.incident import Incident
from models.journal import obligations_of, record, utc_iso
from models.obligation import Obligation
from policy import clocks
from policy.clocks import ObligationKind
from policy.parties import Party
from policy.severity import Recommendation, Severity, assess
from settings.parties import Parties

SUBJECTS = ("yes", "no", "exempt")
EXEMPTIONS = ("encryption", "measures", "disproportionate")
RECOMMENDED = {Recommendation.REGISTER_ONLY: (False, "no"), Recommendation.NOTIFY_CNIL: (True, "no"),
               Recommendation.NOTIFY_CNIL_AND_SUBJECTS: (True, "yes")}


def obligation_of(session: Session, incident: Incident, kind: ObligationKind) -> Obligation | None:
    return session.exec(select(Obligation).where(Obligation.incident_id == incident.id, Obligation.kind == kind)
                        .order_by(col(Obligation.id).desc())).first()


def latest_assessment(session: Session, incident: Incident) -> Assessment | None:
    return session.exec(select(Assessment).where(Assessment.incident_id == incident.id)
                        .order_by(col(Assessment.id).desc())).first()


def decision_of(session: Session, incident: Incident) -> Decision | None:
    return session.exec(select(Decision).where(Decision.incident_id == incident.id)).first()


def set_personal_data(session: Session, incident: Incident, value: str, aware_at: pendulum.DateTime, actor: str,
                      parties: Parties, now: pendulum.DateTime) -> None:
    """Personal data learnt of after declaration: a breach (or a possible one) opens the CNIL clock."""
    if value not in ("yes", "no", "unknown"):
        raise InvalidInput([FieldError("--value", "valeur non reconnue (valeurs possibles : yes, no, unknown)")])
    if aware_at > now:
        raise InvalidInput([FieldError("--aware-at", "la date est dans le futur")])
    previous, incident.personal_data = incident.personal_data, value
    session.add(incident)
    record(session, incident, now=now, actor=actor, party=Party.ACADEMY, kind="personal_data_changed",
           payload={"from": previous, "to": value, "aware_at": utc_iso(aware_at)})
    if value != "no" and obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION) is None:
        earliest = min(aware_at, pendulum.instance(incident.aware_at)) if previous != "no" else aware_at
        deadline = clocks.cnil_notification(parties.breach.cnil_owner_for(incident.categories), earliest)
        open_obligation(session, incident, deadline, parties.engine.step_policy)
        record(session, incident, now=now, actor=actor, party=deadline.owner, kind="obligation_opened", payload={
            "obligation": deadline.kind.value, "owner": deadline.owner.value,
            "anchor_at": utc_iso(deadline.anchor_at), "due_at": utc_iso(deadline.due_at)})


def record_assessment(session: Session, incident: Incident, document: AssessmentDocument, actor: str,
                      parties: Parties, now: pendulum.DateTime) -> tuple[Assessment, Severity]:
    """Several assessments over time; the latest counts."""
    if incident.personal_data == "no":
        raise Refused(f"L'incident {incident.ref} est déclaré sans données personnelles : indiquez d'abord qu'il en "
                      "concerne (commande « incidents personal-data »).")
    assert incident.id is not None
    factors = document.factors(pupils_involved=(incident.data_subjects.get("pupils") or 0) > 0)
    severity = assess(factors, parties.breach.minors_uplift)
    assessment = Assessment(
        incident_id=incident.id, assessed_at=now, assessed_by=actor, factors=_jsonable(asdict(factors)),
        dpc=severity.dpc, ei=severity.ei, cb=severity.cb, se=severity.se, level=severity.level,
        recommendation=severity.recommendation, reasons=list(severity.reasons), nature=document.nature,
        consequences=document.consequences, measures=document.measures,
    )
    session.add(assessment)
    session.flush()
    record(session, incident, now=now, actor=actor, party=Party.ACADEMY, kind="breach_assessed", payload={
        "assessment_id": assessment.id, "dpc": severity.dpc, "ei": severity.ei, "cb": severity.cb,
        "se": severity.se, "level": severity.level.value, "recommendation": severity.recommendation.value,
        "reasons": list(severity.reasons)})
    return assessment, severity


def decide(session: Session, incident: Incident, *, cnil: str, subjects: str, exemption: str | None,
           rationale: str | None, by: str, delay_reasons: str | None, parties: Parties,
           now: pendulum.DateTime) -> Decision:
    """The DPD's decision on notifying the CNIL and informing data subjects (GDPR Art. 33, 34)."""
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
    if not parties.is_dpd(by):
        errors.append(FieldError("--by", f"« {by} » n'est pas un contact DPD de la configuration des parties"))
    if errors:
        raise InvalidInput(errors)
    if decision_of(session, incident) is not None:
        raise Refused(f"Une décision a déjà été prise pour {incident.ref}.")
    assessment = latest_assessment(session, incident)
    if assessment is None:
        raise Refused(f"Aucune évaluation n'est enregistrée pour {incident.ref} : lancez d'abord « incidents assess ».")
    recommendation = Recommendation(assessment.recommendation)
    notify = cnil == "yes"
    against = (notify, subjects) != RECOMMENDED[recommendation]
    rationale = (rationale or "").strip() or None
    if rationale is None and (against or not notify or subjects != "yes"):
        raise Refused("Une décision qui s'écarte de la recommandation, comporte un « non » ou invoque une exemption "
                      "doit être motivée (--rationale).")
    assert incident.id is not None and assessment.id is not None
    decision = Decision(incident_id=incident.id, assessment_id=assessment.id, decided_at=now, decided_by=by,
                        notify_cnil=notify, subjects=subjects, exemption=exemption, rationale=rationale,
                        recommendation=recommendation, against_recommendation=against,
                        delay_reasons=(delay_reasons or "").strip() or None)
    session.add(decision)
    session.flush()
    cnil_obligation = obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
    if not notify and cnil_obligation is not None and not cnil_obligation.settled:
        waive(session, incident, cnil_obligation, now, rationale or "")
    public = subjects == "exempt" and exemption == "disproportionate"
    if subjects == "yes" or public:
        owner = Party(cnil_obligation.owner) if cnil_obligation else parties.breach.cnil_owner
        deadline = clocks.subjects_communication(owner, now, parties.breach.subjects_communication_hours)
        open_obligation(session, incident, deadline, parties.engine.step_policy)
    record(session, incident, now=now, actor=by, party=Party.ACADEMY, kind="breach_decided", payload={
        "notify_cnil": notify, "subjects": subjects, "exemption": exemption, "public_communication": public,
        "rationale": rationale, "recommendation": recommendation.value, "against_recommendation": against,
        "assessment_id": assessment.id, "delay_reasons": decision.delay_reasons})
    return decision


def record_cnil_filing(session: Session, incident: Incident, *, filed_at: pendulum.DateTime, reference: str,
                       complementary: bool, by: str, now: pendulum.DateTime) -> CnilFiling:
    """An initial filing meets the CNIL obligation (lateness frozen); complementary ones follow (GDPR 33(4))."""
    if filed_at > now:
        raise InvalidInput([FieldError("--at", "la date est dans le futur")])
    if not reference.strip():
        raise InvalidInput([FieldError("--reference", "ne doit pas être vide")])
    decision = decision_of(session, incident)
    if decision is None or not decision.notify_cnil:
        raise Refused(f"Aucune décision de notifier la CNIL n'est enregistrée pour {incident.ref}.")
    filings = session.exec(select(CnilFiling).where(CnilFiling.incident_id == incident.id)).all()
    initial = [f for f in filings if not f.complementary]
    if complementary and not initial:
        raise Refused("Une notification complémentaire suit une notification initiale : enregistrez d'abord celle-ci.")
    if not complementary and initial:
        raise Refused(f"La notification initiale de {incident.ref} est déjà enregistrée ; utilisez --complementary.")
    assert incident.id is not None
    filing = CnilFiling(incident_id=incident.id, filed_at=filed_at, reference=reference.strip(),
                        complementary=complementary, recorded_by=by)
    session.add(filing)
    record(session, incident, now=filed_at, actor=by, party=Party.ACADEMY, kind="cnil_filed",
           payload={"reference": filing.reference, "complementary": complementary})
    obligation = obligation_of(session, incident, ObligationKind.CNIL_NOTIFICATION)
    if not complementary and obligation is not None and not obligation.settled:
        meet(session, incident, obligation, filed_at, by, {"reference": filing.reference})
    return filing


def record_subjects_informed(session: Session, incident: Incident, *, informed_at: pendulum.DateTime, channel: str,
                             by: str, now: pendulum.DateTime) -> SubjectsNotice:
    if informed_at > now:
        raise InvalidInput([FieldError("--at", "la date est dans le futur")])
    if not channel.strip():
        raise InvalidInput([FieldError("--channel", "ne doit pas être vide")])
    obligation = obligation_of(session, incident, ObligationKind.SUBJECTS_COMMUNICATION)
    if obligation is None:
        raise Refused(f"Aucune décision d'informer les personnes concernées n'est enregistrée pour {incident.ref}.")
    assert incident.id is not None
    notice = SubjectsNotice(incident_id=incident.id, informed_at=informed_at, channel=channel.strip(),
                            recorded_by=by)
    session.add(notice)
    record(session, incident, now=informed_at, actor=by, party=obligation.owner, kind="subjects_informed",
           payload={"channel": notice.channel})
    if not obligation.settled:
        meet(session, incident, obligation, informed_at, by, {"channel": notice.channel})
    return notice


def open_breach_obligations(session: Session, incident: Incident) -> list[Obligation]:
    return [o for o in obligations_of(session, incident)
            if o.kind in (ObligationKind.CNIL_NOTIFICATION, ObligationKind.SUBJECTS_COMMUNICATION) and not o.settled]


def _jsonable(factors: dict[str, object]) -> dict[str, object]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in factors.items()}
