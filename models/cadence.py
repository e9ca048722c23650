"""Opening obligations on their clocks: the watchdog's first action is set here, from the step policy."""

import pendulum
from sqlmodel import Session, col

from models.incident import Incident
from models.journal import ENGINE_ACTOR, record, utc_iso
from models.obligation import Obligation
from models.outbox import OutboxMessage, cancel_undelivered
from policy import clocks
from policy.clocks import Deadline
from policy.parties import Party
from policy.steps import StepPolicy, first_action_at
from policy.transitions import EntryKind


def open_obligation(session: Session, incident: Incident, deadline: Deadline, policy: StepPolicy) -> Obligation:
    assert incident.id is not None
    obligation = Obligation(
        incident_id=incident.id, kind=deadline.kind, owner=deadline.owner, anchor_at=deadline.anchor_at,
        due_at=deadline.due_at, next_action_at=first_action_at(deadline.anchor_at, deadline.due_at, policy),
    )
    session.add(obligation)
    session.flush()
    return obligation


def meet(session: Session, incident: Incident, obligation: Obligation, at: pendulum.DateTime, actor: str,
         details: dict[str, object] | None = None) -> None:
    """Fulfil an obligation at `at`: its lateness is frozen now and never recomputed."""
    obligation.met_at = at
    obligation.late_by_seconds = clocks.lateness_seconds(pendulum.instance(obligation.due_at), at)
    obligation.next_action_at = None
    session.add(obligation)
    cancelled = cancel_notices(session, obligation)  # rows before the chain head: the door's lock order
    record(session, incident, now=at, actor=actor, party=obligation.owner, kind=EntryKind.OBLIGATION_MET, payload={
        "obligation": obligation.kind, "owner": obligation.owner, "due_at": utc_iso(obligation.due_at),
        "late_by_seconds": obligation.late_by_seconds, **(details or {}),
    })
    record_cancelled(session, incident, obligation, cancelled, at, actor, "l'obligation est remplie")


def waive(session: Session, incident: Incident, obligation: Obligation, at: pendulum.DateTime, reason: str,
          actor: str, party: str) -> None:
    """The obligation is no longer required (a decision not to notify, a dismissal, no personal data after all)."""
    obligation.waived_at, obligation.waived_reason, obligation.next_action_at = at, reason, None
    session.add(obligation)
    cancelled = cancel_notices(session, obligation)
    record(session, incident, now=at, actor=actor, party=party, kind=EntryKind.OBLIGATION_WAIVED,
           payload={"obligation": obligation.kind, "owner": obligation.owner, "due_at": utc_iso(obligation.due_at),
                    "reason": reason})
    record_cancelled(session, incident, obligation, cancelled, at, actor, "l'obligation est levée")


def record_opened(session: Session, incident: Incident, obligation: Obligation, at: pendulum.DateTime,
                  actor: str, party: str | None = None) -> None:
    """The timeline entry of an opened clock: by the engine (on the owner's behalf), or by a person's command (the
    data-subjects clock, a late CNIL clock), then with that person's party."""
    record(session, incident, now=at, actor=actor, party=party or obligation.owner, kind=EntryKind.OBLIGATION_OPENED,
           payload={"obligation": obligation.kind, "owner": obligation.owner,
                    "anchor_at": utc_iso(obligation.anchor_at), "due_at": utc_iso(obligation.due_at)})


def open_follow_up(session: Session, incident: Incident, handler: Party, anchor: pendulum.DateTime, days: int,
                   policy: StepPolicy | None = None) -> Obligation:
    """The next follow-up the handling party owes the other (Art. 4.2), `days` after `anchor`."""
    deadline = clocks.follow_up(handler, anchor, days)
    obligation = open_obligation(session, incident, deadline, policy or StepPolicy())
    record_opened(session, incident, obligation, anchor, ENGINE_ACTOR)
    return obligation


# Mails that recall an obligation (reminders, escalations, overdue notices) or say that its mail is not getting
# through: once it is settled, those still queued (after a relay outage, say) would only mislead.
NOTICE_TEMPLATES = ("deadline_step", "delivery_failure")


def cancel_notices(session: Session, obligation: Obligation) -> int:
    return cancel_undelivered(session, OutboxMessage.obligation_id == obligation.id,
                              col(OutboxMessage.template).in_(NOTICE_TEMPLATES))


def record_cancelled(session: Session, incident: Incident, obligation: Obligation, count: int,
                     at: pendulum.DateTime, actor: str, reason: str) -> None:
    if count:
        record(session, incident, now=at, actor=actor, party=obligation.owner, kind=EntryKind.MESSAGE_CANCELLED,
               payload={"obligation": obligation.kind, "messages": count, "reason": reason})
