"""What an operator checks first, read from the store: the last engine pass, the queue, the outbox, the clocks."""

from datetime import datetime
from typing import Any

import pendulum
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.checkpoints import latest, rewritten
from models.engine_pass import EnginePass
from models.incident import Incident, IncidentStatus
from models.obligation import Obligation
from models.outbox import UNDELIVERED, MessageStatus, OutboxMessage


def _seconds_since(instant: datetime | None, now: pendulum.DateTime) -> int | None:
    return None if instant is None else max(0, int((now - pendulum.instance(instant)).total_seconds()))


def _count(session: Session, query: Any) -> int:
    return int(session.exec(query).one())


def store_health(session: Session, now: pendulum.DateTime, wall_now: pendulum.DateTime) -> dict[str, Any]:
    """Counts and ages only (the rules' instant for clocks, the wall clock for what the system did)."""
    last = session.exec(select(EnginePass).order_by(col(EnginePass.finished_at).desc()).limit(1)).first()
    queued = select(func.count(), func.min(Incident.declared_at)).where(Incident.status == IncidentStatus.QUEUED)
    queued_count, oldest_queued = session.exec(queued).one()
    undelivered = select(func.count(), func.min(OutboxMessage.queued_at)).where(
        col(OutboxMessage.status).in_(UNDELIVERED))
    pending_count, oldest_undelivered = session.exec(undelivered).one()
    failing = select(OutboxMessage).where(col(OutboxMessage.status).in_(UNDELIVERED),
                                          col(OutboxMessage.last_error).is_not(None))
    failing_messages = session.exec(failing.order_by(col(OutboxMessage.id).desc())).all()
    overdue = select(func.count()).select_from(Obligation).where(
        col(Obligation.met_at).is_(None), col(Obligation.waived_at).is_(None), col(Obligation.due_at) < now)
    return {
        "last_pass": None if last is None else {
            "finished_at": pendulum.instance(last.finished_at).isoformat(),
            "seconds_ago": _seconds_since(last.finished_at, wall_now),
            "replay_at": pendulum.instance(last.replay_at).isoformat(), "outcome": last.outcome,
            "error": last.error, **last.summary},
        "queued_incidents": queued_count,
        "oldest_queued_seconds": _seconds_since(oldest_queued, now),
        "undelivered_messages": pending_count,
        "oldest_undelivered_seconds": _seconds_since(oldest_undelivered, wall_now),
        "failing_messages": len(failing_messages),
        "last_delivery_error": failing_messages[0].last_error if failing_messages else None,
        "refused_messages": _count(session, select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == MessageStatus.REFUSED)),
        "overdue_obligations": _count(session, overdue),
        "proof_problem": rewritten(session),
        "timestamp_problem": _timestamp_problem(session),
    }


def _timestamp_problem(session: Session) -> str | None:
    """Why the latest checkpoint has no RFC 3161 timestamp, when an authority was asked and failed."""
    row = latest(session)
    return None if row is None else row.timestamp_problem
