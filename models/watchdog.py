"""The watchdog's handlers of the door: take the step now due on an open obligation (RG-STEP-01, RG-STEP-02), remind
the alerted party once to acknowledge the alert (RG-DOOR-15), and log each engine pass (RG-DOOR-19)."""

from dataclasses import dataclass

import pendulum
from sqlmodel import Session, col, select

from models.commands import RecordPass, RemindAcknowledgement, TakeStep
from models.engine_pass import EnginePass, PassOutcome
from models.incident import Incident, IncidentStatus
from models.journal import ENGINE_ACTOR, obligations_of, record, utc_iso
from models.messaging import enqueue
from models.obligation import Obligation
from policy.clocks import ObligationKind
from policy.parties import Party
from policy.steps import StepKind, decide_step
from policy.transitions import EntryKind
from settings.parties import Contact, Parties, Person

STEP_ENTRY_KINDS = {StepKind.REMINDER: EntryKind.DEADLINE_REMINDER, StepKind.ESCALATION: EntryKind.DEADLINE_ESCALATION,
                    StepKind.OVERDUE: EntryKind.OBLIGATION_OVERDUE}


@dataclass(frozen=True)
class StepTaken:
    ref: str
    obligation: str
    step: str
    skipped: tuple[str, ...]
    messages: int  # how many were enqueued; addresses stay in the store, out of Prefect's results


def due_obligations(session: Session, now: pendulum.DateTime) -> list[TakeStep]:
    """Only what is due: the index on next_action_at keeps this proportional to the work, not to the store."""
    query = select(Obligation.id, Obligation.incident_id).where(col(Obligation.next_action_at) <= now) \
        .order_by(col(Obligation.next_action_at))
    return [TakeStep(obligation_id=obligation_id, incident_id=incident_id)
            for obligation_id, incident_id in session.exec(query) if obligation_id is not None]


def due_acknowledgement_reminders(session: Session, now: pendulum.DateTime) -> list[RemindAcknowledgement]:
    query = select(Incident.id).where(col(Incident.acknowledgement_reminder_at) <= now,
                                      Incident.status == IncidentStatus.OPEN)
    return [RemindAcknowledgement(incident_id=incident_id) for incident_id in session.exec(query)]


def take_due_step(session: Session, command: TakeStep, incident: Incident, _actor: Person, parties: Parties,
                  now: pendulum.DateTime) -> StepTaken | None:
    obligation = session.get(Obligation, command.obligation_id, with_for_update=True)
    if obligation is None or obligation.settled or obligation.next_action_at is None:
        return None
    if obligation.next_action_at > now:
        return None  # another pass got here first
    decision = decide_step(pendulum.instance(obligation.anchor_at), pendulum.instance(obligation.due_at),
                           obligation.steps_done, now, parties.engine.step_policy)
    obligation.steps_done, obligation.next_action_at = decision.steps_done, decision.next_action_at
    session.add(obligation)
    if decision.take is None:
        return None
    step = decision.take
    owner = Party(obligation.owner)
    recipients = _recipients(parties, step.kind, owner, incident.municipality_insee, ObligationKind(obligation.kind))
    skipped = tuple(s.name for s in decision.skipped)
    if skipped:
        record(session, incident, now=now, actor=ENGINE_ACTOR, party=owner, kind=EntryKind.STEPS_SKIPPED, payload={
            "obligation": obligation.kind, "steps": list(skipped), "reason": "passe tardive : seule l'étape la "
            "plus avancée est envoyée"})
    for party, contacts in recipients:
        enqueue(session, incident, template="deadline_step", step=step.name, recipients=contacts,
                recipient_party=party, obligation=obligation)
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=owner, kind=STEP_ENTRY_KINDS[step.kind], payload={
        "obligation": obligation.kind, "step": step.name, "scheduled_at": utc_iso(step.at),
        "due_at": utc_iso(obligation.due_at),
        "recipients": [str(contact.email) for _, contacts in recipients for contact in contacts],
    })
    return StepTaken(incident.ref, obligation.kind, step.name, skipped, sum(len(c) for _, c in recipients))


def remind_acknowledgement(session: Session, _command: RemindAcknowledgement, incident: Incident, _actor: Person,
                           parties: Parties, now: pendulum.DateTime) -> StepTaken | None:
    """Once, to the alerted party's operational contacts, if the alert is still unacknowledged."""
    if incident.acknowledgement_reminder_at is None or incident.acknowledged_at is not None:
        return None
    incident.acknowledgement_reminder_at = None
    session.add(incident)
    alerted = Party(incident.declared_by).other
    alert = next(o for o in obligations_of(session, incident) if o.kind == ObligationKind.CROSS_PARTY_ALERT)
    recipients = parties.operational_contacts(alerted, incident.municipality_insee)
    enqueue(session, incident, template="acknowledgement_reminder", step="reminder", recipients=recipients,
            recipient_party=alerted, obligation=alert, key="acknowledgement")
    record(session, incident, now=now, actor=ENGINE_ACTOR, party=alerted, kind=EntryKind.ACKNOWLEDGEMENT_REMINDER,
           payload={"recipients": [str(contact.email) for contact in recipients],
                    "alert_delivered_at": utc_iso(alert.met_at) if alert.met_at else None})
    return StepTaken(incident.ref, "acknowledgement", "reminder", (), len(recipients))


BREACH_KINDS = (ObligationKind.CNIL_NOTIFICATION, ObligationKind.SUBJECTS_COMMUNICATION)


def _recipients(parties: Parties, kind: StepKind, owner: Party, insee: str,
                obligation: ObligationKind) -> list[tuple[Party, list[Contact]]]:
    """Reminders go to the owner (the académie's DPD for a breach); escalation to the owner's escalation
    contacts; the overdue notice to both parties' escalation contacts."""
    if kind is StepKind.REMINDER:
        if obligation in BREACH_KINDS and owner is Party.ACADEMY:
            return [(owner, list(parties.academy.dpd_contacts))]
        return [(owner, parties.operational_contacts(owner, insee))]
    if kind is StepKind.ESCALATION:
        return [(owner, parties.escalation_contacts(owner, insee))]
    return [(party, parties.escalation_contacts(party, insee)) for party in (owner, owner.other)]


def record_pass(session: Session, command: RecordPass, _incident: None, _actor: Person, _parties: Parties,
                _now: pendulum.DateTime) -> None:
    session.add(EnginePass(started_at=command.started_at, finished_at=command.finished_at,
                           replay_at=command.replay_at, summary=command.summary, error=command.error,
                           outcome=PassOutcome.FAILED if command.error else PassOutcome.OK))
