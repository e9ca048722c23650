"""The work of intake and of an engine pass as plain functions: flows wrap them, benchmarks call them bare."""

from dataclasses import asdict, dataclass, field
from typing import Any

import pendulum
from sqlmodel import col, select

from models.db import session_scope
from models.incident import Incident, IncidentStatus
from models.lifecycle import propose_scope
from models.watchdog import due_obligation_ids, take_due_step
from notifications.delivery import DeliveryReport, deliver, deliverable_ids
from policy.scope import propose_scope as scope_rule
from settings.parties import load_parties


def resolve_instant(at: str | None) -> pendulum.DateTime:
    """The instant a run acts as of: the one given (replay), else now."""
    if at is None:
        return pendulum.now("UTC")
    parsed = pendulum.parse(at)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed.in_timezone("UTC")


def propose_scopes(incident_ids: list[int], now: pendulum.DateTime) -> list[str]:
    """Propose the scope of each incident not yet taken in; returns the references taken in now."""
    parties = load_parties()
    taken_in = []
    for incident_id in incident_ids:
        with session_scope() as session:
            incident = session.get(Incident, incident_id, with_for_update=True)
            if incident is None:
                continue
            proposal = scope_rule(incident.categories, incident.personal_data)
            if propose_scope(session, incident, proposal, parties, now):
                taken_in.append(incident.ref)
    return taken_in


def queued_incident_ids() -> list[int]:
    with session_scope() as session:
        query = select(Incident.id).where(Incident.status == IncidentStatus.QUEUED).order_by(col(Incident.id))
        return [incident_id for incident_id in session.exec(query) if incident_id is not None]


def take_due_steps(now: pendulum.DateTime) -> list[dict[str, Any]]:
    """One transaction per due obligation, so that a crash mid-pass loses nothing already decided."""
    parties = load_parties()
    with session_scope() as session:
        due = due_obligation_ids(session, now)
    taken = []
    for obligation_id in due:
        with session_scope() as session:
            step = take_due_step(session, obligation_id, parties, now)
        if step is not None:
            taken.append(asdict(step))
    return taken


async def deliver_due(now: pendulum.DateTime, incident_id: int | None = None) -> DeliveryReport:
    return await deliver(deliverable_ids(now, incident_id), load_parties(), now)


@dataclass
class PassResult:
    at: str
    taken_in: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0
    escalated: int = 0

    def add(self, report: DeliveryReport) -> None:
        self.delivered += len(report.delivered)
        self.failed += len(report.failed)
        self.escalated += len(report.escalated)


async def engine_pass_bare(now: pendulum.DateTime) -> PassResult:
    """The whole pass without Prefect: the reference the benchmarks compare orchestration against."""
    result = PassResult(at=now.isoformat(), taken_in=propose_scopes(queued_incident_ids(), now))
    result.add(await deliver_due(now))
    result.steps = take_due_steps(now)
    result.add(await deliver_due(now))
    return result
