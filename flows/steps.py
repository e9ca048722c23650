"""The work of intake and of an engine pass as plain functions: flows wrap them, benchmarks call them bare."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import pendulum
from sqlmodel import col, select

from models.clock import act_as_of, parse_instant
from models.commands import ProposeScope, RecordPass, RemindAcknowledgement, SignCheckpoint, TakeStep
from models.db import session_scope
from models.door import ENGINE, run, run_all
from models.errors import Refused, cause
from models.incident import Incident, IncidentStatus
from models.watchdog import due_acknowledgement_reminders, due_obligations
from notifications.delivery import DeliveryReport, deliver, deliverable_ids
from settings.env import fallback_smtp_settings
from settings.parties import load_parties


def resolve_instant(at: str | None) -> pendulum.DateTime:
    """The instant a run acts as of: the one given (replay; never in the future on a real store), else now."""
    return act_as_of(at)


def pass_instant(resolved: str) -> pendulum.DateTime:
    """The one instant a pass's tasks share, resolved (and allowed) once by the pass itself: a real store's pass
    runs as of its start, which its later tasks must not take for a replay."""
    return parse_instant(resolved, "at")


SCOPES_AT_ONCE = 25  # proposals committed together: a burst pays one transaction per group, not per incident


def propose_scopes(incident_ids: list[int], now: pendulum.DateTime) -> list[str]:
    """Propose the scope of each incident not yet taken in; returns the references taken in now."""
    parties = load_parties()
    taken_in = []
    for start in range(0, len(incident_ids), SCOPES_AT_ONCE):
        group = [ProposeScope(incident_id=incident_id) for incident_id in incident_ids[start:start + SCOPES_AT_ONCE]]
        try:
            incidents = run_all(group, ENGINE, now, parties)
        except Refused:
            # One of them was taken in by another run meanwhile, or dismissed: each on its own, that one refused.
            incidents = []
            for command in group:
                try:
                    incidents.append(run(command, ENGINE, now, parties))
                except Refused:
                    continue
        taken_in += [incident.ref for incident in incidents if incident is not None]
    return taken_in


def queued_incident_ids() -> list[int]:
    with session_scope() as session:
        query = select(Incident.id).where(Incident.status == IncidentStatus.QUEUED).order_by(col(Incident.id))
        return [incident_id for incident_id in session.exec(query) if incident_id is not None]


def take_due_steps(now: pendulum.DateTime) -> list[dict[str, Any]]:
    """One transaction per due obligation, so that a crash mid-pass loses nothing already decided; then the
    reminders to acknowledge an alert."""
    parties = load_parties()
    with session_scope() as session:
        due = due_obligations(session, now)
        reminders = due_acknowledgement_reminders(session, now)
    taken = []
    commands: list[TakeStep | RemindAcknowledgement] = [*due, *reminders]
    for command in commands:
        try:
            step = run(command, ENGINE, now, parties)
        except Refused:
            continue  # its incident was closed or dismissed meanwhile
        if step is not None:
            taken.append(asdict(step))
    return taken


async def deliver_due(now: pendulum.DateTime, incident_id: int | None = None) -> DeliveryReport:
    return await deliver(load_parties(), now, incident_id)


@dataclass
class PassResult:
    at: str
    taken_in: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0
    refused: int = 0
    escalated: int = 0

    def add(self, report: DeliveryReport) -> None:
        self.delivered += len(report.delivered)
        self.failed += len(report.failed)
        self.refused += len(report.refused)
        self.escalated += len(report.escalated)

    def summary(self) -> dict[str, int | bool]:
        """Counts only, for the pass log: no address, no reference; and whether the pass had a fallback relay."""
        return {"taken_in": len(self.taken_in), "steps": len(self.steps), "delivered": self.delivered,
                "failed": self.failed, "refused": self.refused, "escalated": self.escalated,
                "fallback_relay": fallback_smtp_settings() is not None}


async def engine_pass_bare(now: pendulum.DateTime) -> PassResult:
    """The whole pass without Prefect (the reference the benchmarks compare orchestration against), logged."""
    async with logged_pass(now) as result:
        result.taken_in = propose_scopes(queued_incident_ids(), now)
        result.add(await deliver_due(now))
        result.steps = take_due_steps(now)
        result.add(await deliver_due(now))
    return result


@asynccontextmanager
async def logged_pass(now: pendulum.DateTime) -> AsyncIterator[PassResult]:
    """A pass's result, logged through the door when the pass ends, with its error if it failed."""
    started, result = pendulum.now("UTC"), PassResult(at=now.isoformat())
    try:
        yield result
    except Exception as error:
        log_pass(started, now, result, cause(error))
        raise
    log_pass(started, now, result, None)


def log_pass(started: pendulum.DateTime, now: pendulum.DateTime, result: PassResult, error: str | None) -> None:
    run(RecordPass(started_at=started, finished_at=pendulum.now("UTC"), replay_at=now, summary=result.summary(),
                   error=error), ENGINE, now)
    # A pass that added entries publishes a signed checkpoint of them: the next mails carry it. One whose store no
    # longer extends the last checkpoint signed is refused: the pass's work stands, `incidents status` says why.
    try:
        run(SignCheckpoint(), ENGINE, now)
    except Refused as refusal:
        logging.getLogger(__name__).warning(str(refusal))


def preview_pass(now: pendulum.DateTime) -> dict[str, Any]:
    """What a pass would do as of `now`, read from the store and the pure step rule: nothing written, nothing sent."""
    from models.obligation import Obligation
    from models.outbox import OutboxMessage
    from policy.steps import decide_step

    parties = load_parties()
    queued_ids, messages = queued_incident_ids(), deliverable_ids(now)
    with session_scope() as session:
        queued = [session.get(Incident, incident_id) for incident_id in queued_ids]
        steps_due = []
        for command in due_obligations(session, now):
            obligation = session.get(Obligation, command.obligation_id)
            incident = session.get(Incident, command.incident_id)
            assert obligation is not None and incident is not None
            decision = decide_step(pendulum.instance(obligation.anchor_at), pendulum.instance(obligation.due_at),
                                   obligation.steps_done, now, parties.engine.step_policy)
            if decision.take is not None:
                steps_due.append({"ref": incident.ref, "obligation": obligation.kind, "step": decision.take.name,
                                  "skipped": [s.name for s in decision.skipped]})
        reminders = [session.get(Incident, r.incident_id) for r in due_acknowledgement_reminders(session, now)]
        templates = [session.get(OutboxMessage, message_id) for message_id in messages]
        return {"at": now.isoformat(), "dry_run": True, "would_take_in": [i.ref for i in queued if i is not None],
                "would_take_steps": steps_due,
                "would_remind_acknowledgement": [i.ref for i in reminders if i is not None],
                "would_deliver": len(messages),
                "would_deliver_by_template": _count([m.template for m in templates if m is not None])}


def _count(values: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
