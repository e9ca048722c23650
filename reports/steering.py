"""The periodic report for the comité de pilotage (convention Art. 4): what happened in a period and whether the
legal clocks were met. The data is built here; charts and rendering live apart (reports.charts, templates).

Dismissed declarations (duplicates, out of the ENT's scope) are counted apart: they are in no count by scope, month,
category or commune, and their clocks are in no on-time statistic."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from statistics import median
from typing import Any

import pendulum
from sqlalchemy import or_
from sqlmodel import Session, col, select

from models.breach import CnilFiling, Decision, SubjectsNotice
from models.incident import Incident
from models.obligation import Obligation
from policy.clocks import CLOCK_RULES, ObligationKind, paris
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


def _at(value: Any) -> pendulum.DateTime | None:
    return pendulum.instance(value) if value is not None else None


def _before(value: Any, end: pendulum.DateTime) -> bool:
    return value is not None and pendulum.instance(value) < end


def _not_before(column: Any, end: pendulum.DateTime) -> Any:
    """In SQL, the negation of `_before`: not set, or set at `end` or later."""
    return or_(column.is_(None), column >= end)


def steering_data(session: Session, start: date, end: date, parties: Parties) -> dict[str, Any]:
    begin, finish = period_bounds(start, end)
    declared = session.exec(select(Incident).where(col(Incident.declared_at) >= begin,
                                                   col(Incident.declared_at) < finish)
                            .order_by(col(Incident.id))).all()
    dismissed = [i for i in declared if _before(i.dismissed_at, finish)]
    incidents = [i for i in declared if not _before(i.dismissed_at, finish)]
    # The same incidents as a subquery: the database joins them, however many they are (no list of ids sent back).
    ids = select(Incident.id).where(col(Incident.declared_at) >= begin, col(Incident.declared_at) < finish,
                                    _not_before(col(Incident.dismissed_at), finish))
    obligations = session.exec(select(Obligation).where(col(Obligation.incident_id).in_(ids))).all()
    refs = {i.id: i.ref for i in incidents}

    def month(incident: Incident) -> str:
        return str(paris(pendulum.instance(incident.declared_at)).format("YYYY-MM"))

    scopes_by_month: dict[str, Counter[str]] = defaultdict(Counter)
    for incident in incidents:
        scopes_by_month[month(incident)][incident.scope or UNSCOPED] += 1
    dismissed_by_month = Counter(month(i) for i in dismissed)
    by_month = {m: {"label": month_label(m), "incidents": sum(scopes_by_month[m].values()),
                    "by_scope": {scope: scopes_by_month[m][scope] for scope in SCOPES},
                    "dismissed": dismissed_by_month[m]} for m in months_of(start, end)}
    by_category = Counter(c for i in incidents for c in i.categories)

    alerts = [o for o in obligations if o.kind == ObligationKind.CROSS_PARTY_ALERT]
    alert_hours = sorted(round((met - pendulum.instance(o.anchor_at)).total_seconds() / 3600, 2)
                         for o in alerts if (met := _at(o.met_at)) is not None and met < finish)
    alert_status = _clock_counts(alerts, finish)
    alert_met = {o.incident_id: met for o in alerts if (met := _at(o.met_at)) is not None}
    acknowledgement_hours = sorted(
        round(max(0.0, (acknowledged - alert_met[i.id]).total_seconds()) / 3600, 2) for i in incidents
        if (acknowledged := _at(i.acknowledged_at)) is not None and acknowledged < finish and i.id in alert_met)

    decisions = session.exec(select(Decision).where(col(Decision.incident_id).in_(ids),
                                                    col(Decision.decided_at) < finish)).all()
    filings = session.exec(select(CnilFiling).where(col(CnilFiling.incident_id).in_(ids),
                                                    col(CnilFiling.filed_at) < finish,
                                                    col(CnilFiling.complementary).is_(False))).all()
    cnil_by_incident = {o.incident_id: o for o in obligations if o.kind == ObligationKind.CNIL_NOTIFICATION}
    late_filings = []
    on_time_filings = 0
    for filing in filings:
        due = pendulum.instance(cnil_by_incident[filing.incident_id].due_at)
        late_by = int((pendulum.instance(filing.filed_at) - due).total_seconds())
        if late_by > 0:
            late_filings.append({"ref": refs[filing.incident_id], "late_by_seconds": late_by})
        else:
            on_time_filings += 1
    notices = session.exec(select(SubjectsNotice).where(col(SubjectsNotice.incident_id).in_(ids),
                                                        col(SubjectsNotice.informed_at) < finish)).all()

    still_open = session.exec(select(Incident.id, Incident.ref).where(
        col(Incident.declared_at) < finish, _not_before(col(Incident.closed_at), finish),
        _not_before(col(Incident.dismissed_at), finish))).all()
    open_refs = dict(still_open)
    all_before = session.exec(select(Obligation).join(Incident, col(Incident.id) == Obligation.incident_id).where(
        col(Incident.declared_at) < finish, _not_before(col(Incident.closed_at), finish),
        _not_before(col(Incident.dismissed_at), finish), col(Obligation.due_at) <= finish,
        _not_before(col(Obligation.met_at), finish), _not_before(col(Obligation.waived_at), finish))
        .order_by(col(Obligation.id))).all()
    overdue = [{"ref": open_refs[o.incident_id], "kind": o.kind, "label": CLOCK_RULES[ObligationKind(o.kind)].label,
                "due_at": paris(pendulum.instance(o.due_at)).isoformat(),
                "overdue_by_seconds": int((finish - pendulum.instance(o.due_at)).total_seconds())}
               for o in all_before]

    communes = {m.insee: m.name for m in parties.municipalities}
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat(), "start_at": paris(begin).isoformat(),
                   "end_at": paris(finish).isoformat(), "from_label": day_label(start), "to_label": day_label(end)},
        "academy": parties.academy.name,
        "declarations": len(declared),
        "incidents": len(incidents),
        "dismissed": len(dismissed),
        "dismissed_refs": [i.ref for i in dismissed],
        "by_scope": {scope: sum(1 for i in incidents if (i.scope or UNSCOPED) == scope) for scope in SCOPES},
        "by_category": dict(sorted(by_category.items())),
        "by_commune": {insee: {"name": communes.get(insee, insee), "incidents": n}
                       for insee, n in sorted(Counter(i.municipality_insee for i in incidents).items())},
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
            "decisions": len(decisions),
            "notify": sum(1 for d in decisions if d.notify_cnil),
            "not_notify": sum(1 for d in decisions if not d.notify_cnil),
            "against_recommendation": sum(1 for d in decisions if d.against_recommendation),
            "filings_on_time": on_time_filings,
            "filings_late": late_filings,
        },
        "subjects": {"decided": sum(1 for d in decisions if d.subjects == "yes"),
                     "informed": len({n.incident_id for n in notices})},
        "open_at_end": sorted(open_refs.values()),
        "overdue_at_end": sorted(overdue, key=lambda o: (o["ref"], o["kind"])),
        "on_time_by_kind": {kind: {**counts, "label": CLOCK_RULES[ObligationKind(kind)].label,
                                   "share": _share(counts["on_time"], counts["on_time"] + counts["late"]
                                                   + counts["overdue"])}
                            for kind, counts in _by_kind(obligations, finish).items()},
    }


def _clock_counts(obligations: Sequence[Obligation], finish: pendulum.DateTime) -> dict[str, int]:
    counts = {"total": len(obligations), "on_time": 0, "late": 0, "overdue": 0, "pending": 0, "not_required": 0}
    for o in obligations:
        met, due = _at(o.met_at), pendulum.instance(o.due_at)
        if _before(o.waived_at, finish):
            counts["not_required"] += 1
        elif met is not None and met < finish:
            counts["on_time" if met <= due else "late"] += 1
        else:
            counts["overdue" if due <= finish else "pending"] += 1
    return counts


def _by_kind(obligations: Sequence[Obligation], finish: pendulum.DateTime) -> dict[str, dict[str, int]]:
    grouped: dict[str, list[Obligation]] = defaultdict(list)
    for o in obligations:
        grouped[o.kind].append(o)
    return {kind: _clock_counts(items, finish) for kind, items in sorted(grouped.items())}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
