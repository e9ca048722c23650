"""The periodic report for the comité de pilotage (convention Art. 4): what happened in a period and whether the
legal clocks were met. The data is built here; charts and rendering live apart (reports.charts, templates).

Dismissed declarations (duplicates, out of the ENT's scope) are counted apart: they are in no count by scope, month,
category or commune, and their clocks are in no on-time statistic."""

from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from statistics import median
from typing import Any

import pendulum
from sqlalchemy import Connection, and_, case, distinct, func, or_, select
from sqlmodel import Session, col

from models.breach import CnilFiling, Decision, SubjectsNotice
from models.checkpoints import latest as latest_checkpoint
from models.checkpoints import summary as checkpoint_summary
from models.incident import Incident
from models.obligation import Obligation
from models.types import plain_instant
from policy.clocks import CLOCK_RULES, PARIS_ZONE, ObligationKind, paris
from policy.scope import NO_SCOPE_LABEL, SCOPE_LABELS, Scope
from rendering.describe import category_label
from settings.parties import Parties

UNSCOPED = "pending"
SCOPES = (*(scope.value for scope in Scope), UNSCOPED)
SCOPE_NAMES = {**{scope.value: label for scope, label in SCOPE_LABELS.items()}, UNSCOPED: NO_SCOPE_LABEL}
ALERT_BUCKETS = (("< 12 h", 0, 12), ("12–24 h", 12, 24), ("24–48 h", 24, 48), ("> 48 h", 48, float("inf")))


def period_bounds(start: date, end: date) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    """From the first day 00:00 to the day after the last day 00:00, Paris time, both as UTC instants."""
    first = pendulum.datetime(start.year, start.month, start.day, tz="Europe/Paris")
    after = pendulum.datetime(end.year, end.month, end.day, tz="Europe/Paris").add(days=1)
    return first.in_timezone("UTC"), after.in_timezone("UTC")


def months_of(start: date, end: date) -> list[str]:
    """Every month the period touches, `YYYY-MM`, in order: a month without any incident is still a month."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_label(month: str) -> str:
    """« septembre 2026 »."""
    return str(pendulum.from_format(month, "YYYY-MM").format("MMMM YYYY", locale="fr"))


def day_label(day: date) -> str:
    """« 1er septembre 2026 », « 30 novembre 2026 »."""
    first = "1er" if day.day == 1 else str(day.day)
    return str(pendulum.date(day.year, day.month, day.day).format(f"[{first}] MMMM YYYY", locale="fr"))


def _utc(instant: pendulum.DateTime) -> datetime:
    """A bound of the period as a plain aware datetime, comparable with the rows read by `plain_instant`."""
    return datetime.fromtimestamp(instant.timestamp(), UTC)


def _month(instant: datetime) -> str:
    local = instant.astimezone(PARIS_ZONE)
    return f"{local.year:04d}-{local.month:02d}"


def _not_before(column: Any, end: pendulum.DateTime) -> Any:
    """In SQL: not set, or set at `end` or later (the instant had not come by the end of the period)."""
    return or_(column.is_(None), column >= end)


def steering_data(session: Session, start: date, end: date, parties: Parties,
                  now: pendulum.DateTime) -> dict[str, Any]:
    """The report's figures. Only the columns needed are read, as plain tuples (no model object, no pendulum instant
    per row); clocks are counted in SQL; only the values a median or a list needs come back row by row. A period
    not over at `now` is counted as of `now`: a deadline later today is not yet overdue."""
    begin, period_end = period_bounds(start, end)
    finish = max(begin, min(period_end, now))
    limit = _utc(finish)
    connection = session.connection()
    incident = Incident.__table__.c  # type: ignore[attr-defined]
    declared = connection.execute(
        select(incident.id, incident.ref, plain_instant(incident.declared_at),
               plain_instant(incident.dismissed_at), plain_instant(incident.acknowledged_at),
               incident.confirmed_scope, incident.proposed_scope,
               incident.categories, incident.municipality_insee)
        .where(col(Incident.declared_at) >= begin, col(Incident.declared_at) < finish)
        .order_by(col(Incident.id))).all()
    dismissed = [row for row in declared if row.dismissed_at is not None and row.dismissed_at < limit]
    incidents = [row for row in declared if row.dismissed_at is None or row.dismissed_at >= limit]
    # The same incidents as a subquery: the database joins them, however many they are (no list of ids sent back).
    ids = select(incident.id).where(col(Incident.declared_at) >= begin, col(Incident.declared_at) < finish,
                                                _not_before(col(Incident.dismissed_at), finish))
    refs = {row.id: row.ref for row in incidents}

    scopes_by_month: dict[str, Counter[str]] = defaultdict(Counter)
    for row in incidents:
        scopes_by_month[_month(row.declared_at)][row.confirmed_scope or row.proposed_scope or UNSCOPED] += 1
    dismissed_by_month = Counter(_month(row.declared_at) for row in dismissed)
    by_month = {m: {"label": month_label(m), "incidents": sum(scopes_by_month[m].values()),
                    "by_scope": {scope: scopes_by_month[m][scope] for scope in SCOPES},
                    "dismissed": dismissed_by_month[m]} for m in months_of(start, end)}
    by_scope = Counter(row.confirmed_scope or row.proposed_scope or UNSCOPED for row in incidents)
    by_category = Counter(c for row in incidents for c in row.categories)

    clocks = _clock_counts(connection, ids, finish)
    alert_status = clocks.get(ObligationKind.CROSS_PARTY_ALERT, _no_clocks())
    obligations = Obligation.__table__.c  # type: ignore[attr-defined]
    alerts = connection.execute(
        select(obligations.incident_id, plain_instant(obligations.anchor_at), plain_instant(obligations.met_at))
        .where(obligations.incident_id.in_(ids), obligations.kind == ObligationKind.CROSS_PARTY_ALERT,
               obligations.met_at.is_not(None)).order_by(obligations.id)).all()
    alert_hours = sorted(round((met - anchor).total_seconds() / 3600, 2) for _, anchor, met in alerts if met < limit)
    alert_met = {incident_id: met for incident_id, _, met in alerts}
    acknowledgement_hours = sorted(
        round(max(0.0, (row.acknowledged_at - alert_met[row.id]).total_seconds()) / 3600, 2) for row in incidents
        if row.acknowledged_at is not None and row.acknowledged_at < limit and row.id in alert_met)

    decisions = Decision.__table__.c  # type: ignore[attr-defined]
    decided, notify, against, inform = connection.execute(
        select(func.count(), _count_if(decisions.notify_cnil), _count_if(decisions.against_recommendation),
               _count_if(decisions.subjects == "yes"))
        .where(decisions.incident_id.in_(ids), decisions.decided_at < finish)).one()
    filed = CnilFiling.__table__.c  # type: ignore[attr-defined]
    filings = connection.execute(
        select(filed.incident_id, plain_instant(filed.filed_at))
        .where(filed.incident_id.in_(ids), filed.filed_at < finish, filed.complementary.is_(False))).all()
    cnil_due: dict[int, datetime] = dict(connection.execute(
        select(obligations.incident_id, plain_instant(obligations.due_at))
        .where(obligations.incident_id.in_(ids), obligations.kind == ObligationKind.CNIL_NOTIFICATION)
        .order_by(obligations.id)).all())
    late_filings = []
    on_time_filings = 0
    for incident_id, filed_at in filings:
        late_by = int((filed_at - cnil_due[incident_id]).total_seconds())
        if late_by > 0:
            late_filings.append({"ref": refs[incident_id], "late_by_seconds": late_by})
        else:
            on_time_filings += 1
    notices = SubjectsNotice.__table__.c  # type: ignore[attr-defined]
    informed = connection.execute(select(func.count(distinct(notices.incident_id)))
                                  .where(notices.incident_id.in_(ids), notices.informed_at < finish)).scalar_one()

    still_open = connection.execute(select(incident.id, incident.ref).where(
        col(Incident.declared_at) < finish, _not_before(col(Incident.closed_at), finish),
        _not_before(col(Incident.dismissed_at), finish))).all()
    open_refs: dict[int, str] = dict(still_open)  # type: ignore[arg-type]
    all_before = connection.execute(
        select(obligations.incident_id, obligations.kind, plain_instant(obligations.due_at))
        .join(incident.id.table, incident.id == obligations.incident_id).where(
            col(Incident.declared_at) < finish, _not_before(col(Incident.closed_at), finish),
            _not_before(col(Incident.dismissed_at), finish), obligations.due_at <= finish,
            _not_before(obligations.met_at, finish), _not_before(obligations.waived_at, finish))
        .order_by(obligations.id)).all()
    overdue = [{"ref": open_refs[incident_id], "kind": kind, "label": CLOCK_RULES[ObligationKind(kind)].label,
                "due_at": due_at.astimezone(PARIS_ZONE).isoformat(),
                "overdue_by_seconds": int((limit - due_at).total_seconds())}
               for incident_id, kind, due_at in all_before]

    communes = {m.insee: m.name for m in parties.municipalities}
    return {
        # The latest signed checkpoint, printed where the operator cannot take it back (issue 14).
        "checkpoint": checkpoint_summary(latest_checkpoint(session)),
        "period": {"from": start.isoformat(), "to": end.isoformat(), "start_at": paris(begin).isoformat(),
                   "end_at": paris(period_end).isoformat(), "from_label": day_label(start), "to_label": day_label(end),
                   # A period not over is counted up to this instant (the templates say so).
                   "over": finish == period_end, "counted_at": paris(finish).isoformat()},
        "academy": parties.academy.name,
        "declarations": len(declared),
        "incidents": len(incidents),
        "dismissed": len(dismissed),
        "dismissed_refs": [row.ref for row in dismissed],
        "by_scope": {scope: by_scope[scope] for scope in SCOPES},
        "by_category": dict(sorted(by_category.items())),
        "by_commune": {insee: {"name": communes.get(insee, insee), "incidents": n}
                       for insee, n in sorted(Counter(row.municipality_insee for row in incidents).items())},
        "by_month": by_month,
        "labels": {"scopes": SCOPE_NAMES, "categories": {c: category_label(c) for c in sorted(by_category)}},
        "alerts": {**alert_status,
                   "on_time_share": _share(alert_status["on_time"], alert_status["total"]),
                   "time_to_alert_hours": alert_hours,
                   "distribution": {label: sum(1 for h in alert_hours if low <= h < high)
                                    for label, low, high in ALERT_BUCKETS},
                   "acknowledged": len(acknowledgement_hours),
                   "time_to_acknowledge_hours": acknowledgement_hours,
                   "median_time_to_acknowledge_hours": median(acknowledgement_hours) if acknowledgement_hours
                   else None},
        "cnil": {
            "decisions": decided,
            "notify": notify,
            "not_notify": decided - notify,
            "against_recommendation": against,
            "filings_on_time": on_time_filings,
            "filings_late": late_filings,
        },
        "subjects": {"decided": inform, "informed": informed},
        "open_at_end": sorted(open_refs.values()),
        "overdue_at_end": sorted(overdue, key=lambda o: (o["ref"], o["kind"])),
        "on_time_by_kind": {kind: {**counts, "label": CLOCK_RULES[ObligationKind(kind)].label,
                                   "share": _share(counts["on_time"], counts["on_time"] + counts["late"]
                                                   + counts["overdue"])}
                            for kind, counts in sorted(clocks.items())},
    }


def _no_clocks() -> dict[str, int]:
    return {"total": 0, "on_time": 0, "late": 0, "overdue": 0, "pending": 0, "not_required": 0}


def _count_if(condition: Any) -> Any:
    """In SQL, how many rows meet `condition` (0 over no row)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _clock_counts(connection: Connection, ids: Any, finish: pendulum.DateTime) -> dict[str, dict[str, int]]:
    """Per kind, the period's obligations by their state at `finish`, counted in SQL: not required (waived before
    the end), met in time or late (met before the end), overdue or pending (not met before the end)."""
    obligations = Obligation.__table__.c  # type: ignore[attr-defined]
    met = obligations.met_at < finish
    state = case((obligations.waived_at < finish, "not_required"),
                 (and_(met, obligations.met_at <= obligations.due_at), "on_time"), (met, "late"),
                 (obligations.due_at <= finish, "overdue"), else_="pending").label("state")
    states = select(obligations.kind, state).where(obligations.incident_id.in_(ids)).subquery()
    counts: dict[str, dict[str, int]] = {}
    for kind, name, number in connection.execute(
            select(states.c.kind, states.c.state, func.count()).group_by(states.c.kind, states.c.state)):
        row = counts.setdefault(kind, _no_clocks())
        row[name] = number
        row["total"] += number
    return counts


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
