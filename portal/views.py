"""What the portal's pages show, read through the gated query layer (`models.queries`)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pendulum
from sqlalchemy import func
from sqlalchemy import select as columns
from sqlmodel import Session, col

from cli.views import ENTRY_LABELS
from models.attachments import attachments_of
from models.incident import Incident
from models.obligation import Obligation
from models.outbox import TEMPLATE_LABELS
from models.queries import visible
from policy.clocks import CLOCK_RULES, ObligationKind
from policy.duplicates import Declared, likely_duplicates
from policy.scope import SCOPE_LABELS, Scope
from policy.transitions import INCIDENT_STATE_LABELS, IncidentState
from rendering.formats import duration_fr, paris_datetime, subjects_text
from reports.audit import audit_data
from settings.parties import Parties, Person


@dataclass(frozen=True)
class Filters:
    commune: str = ""
    scope: str = ""
    status: str = "live"  # live (queued or open), or one state, or all


def dashboard_rows(session: Session, reader: Person, filters: Filters, now: pendulum.DateTime,
                   parties: Parties) -> list[dict[str, Any]]:
    """The incidents `reader` may see, by next deadline: overdue first, then soonest; none due last. Only the
    columns shown are read (a dashboard of a thousand incidents stays quick)."""
    query = visible(columns(col(Incident.id), col(Incident.ref), col(Incident.title), col(Incident.status),
                            col(Incident.municipality_insee), col(Incident.confirmed_scope),
                            col(Incident.proposed_scope), col(Incident.acknowledged_by), col(Incident.aware_at)),
                    reader)
    if filters.commune:
        query = query.where(col(Incident.municipality_insee) == filters.commune)
    if filters.status == "live":
        query = query.where(col(Incident.status).in_([IncidentState.QUEUED, IncidentState.OPEN]))
    elif filters.status in {state.value for state in IncidentState}:
        query = query.where(col(Incident.status) == filters.status)
    if filters.scope:
        query = query.where(func.coalesce(Incident.confirmed_scope, Incident.proposed_scope) == filters.scope)
    incidents = session.execute(query).all()
    pending = visible(columns(col(Obligation.incident_id), col(Obligation.kind), col(Obligation.due_at))
                      .join(Incident, col(Incident.id) == col(Obligation.incident_id))
                      .where(col(Obligation.met_at).is_(None), col(Obligation.waived_at).is_(None))
                      .order_by(col(Obligation.due_at)), reader)
    following: dict[int, tuple[str | None, datetime | None]] = {}
    for incident_id, kind, due_at in session.execute(pending).all():
        following.setdefault(incident_id, (kind, due_at))
    communes = {m.insee: m.name for m in parties.municipalities}
    now_seconds = now.timestamp()
    rows: list[tuple[tuple[int, float, str], dict[str, Any]]] = []
    duplicates = _likely_duplicates([Declared(ref=ref, insee=insee, aware_at=aware_at, title=title, status=status)
                                     for _, ref, title, status, insee, _, _, _, aware_at in incidents])
    for incident_id, ref, title, status, insee, confirmed, proposed, acknowledged_by, _ in incidents:
        kind, due_at = following.get(incident_id, (None, None))
        due = due_at.timestamp() if due_at is not None else None
        overdue = due is not None and due < now_seconds
        rows.append(((0 if overdue else 1 if due is not None else 2, due or 0.0, ref), {
            "ref": ref, "title": title, "status": status,
            "status_label": INCIDENT_STATE_LABELS[IncidentState(status)],
            "commune": communes.get(insee, insee),
            "scope_label": _scope_label(confirmed or proposed),
            "scope_proposed": confirmed is None and proposed is not None,
            "acknowledged": acknowledged_by is not None,
            "next_kind": CLOCK_RULES[ObligationKind(kind)].label if kind else None,
            "next_due": paris_datetime(due_at) if due_at is not None else None,
            "overdue": overdue,
            "left": duration_fr(int(abs(due - now_seconds))) if due is not None else None,
            "duplicate_of": duplicates.get(ref, []),
        }))
    rows.sort(key=lambda row: row[0])
    return [row for _, row in rows]


def _likely_duplicates(shown: list[Declared]) -> dict[str, list[str]]:
    """For each incident shown, the earlier ones shown that it likely repeats (RG-DUP-01), compared within a
    commune only."""
    by_commune: dict[str, list[Declared]] = {}
    for declared in sorted(shown, key=lambda d: d.aware_at):
        by_commune.setdefault(declared.insee, []).append(declared)
    found: dict[str, list[str]] = {}
    for declared_there in by_commune.values():
        for index, declared in enumerate(declared_there):
            earlier = likely_duplicates(declared, declared_there[:index])
            if earlier:
                found[declared.ref] = earlier
    return found


def _scope_label(scope: str | None) -> str:
    return SCOPE_LABELS[Scope(scope)] if scope else "à proposer"


def incident_page(session: Session, incident: Incident, now: pendulum.DateTime, parties: Parties,
                  reader: Person) -> dict[str, Any]:
    """An incident as its page shows it: the audit file's facts without the chain's re-check, plus what it
    holds that only the portal shows (description, reporter, schools, people concerned, attachments)."""
    data = audit_data(session, incident, now, reader=reader, with_proof=False)
    commune = parties.municipality(incident.municipality_insee)
    schools = {school.uai: school.name for school in commune.schools} if commune else {}
    for obligation in data["obligations"]:
        due = pendulum.instance(datetime.fromisoformat(obligation["due_at"]))
        obligation["left"] = duration_fr(int(abs((due - now).total_seconds())))
        obligation["past"] = due < now
    for message in data["messages"]:
        message["label"] = TEMPLATE_LABELS.get(message["template"], message["template"])
    for row in data["timeline"]:
        row["label"] = ENTRY_LABELS.get(row["kind"], row["kind"])
    return {
        **data,
        "description": incident.description,
        "reporter": {"name": incident.reporter_name, "email": incident.reporter_email},
        "commune": commune.name if commune else incident.municipality_insee,
        "schools": [f"{schools.get(uai, uai)} ({uai})" for uai in incident.schools],
        "data_subjects": subjects_text(incident.data_subjects), "records": incident.records,
        "occurred_at": paris_datetime(incident.occurred_at) if incident.occurred_at else None,
        "attachments": [{"id": a.id, "filename": a.filename, "size": a.size, "size_label": size_fr(a.size),
                         "sha256": a.sha256,
                         "added_by": a.added_by, "added_at": paris_datetime(a.added_at), "note": a.note}
                        for a in attachments_of(session, incident)],
        "handler": handling_party_of(session, incident, parties),
        "is_live": incident.is_open, "alerted_party": "municipality" if incident.declared_by == "academy"
        else "academy",
    }


def size_fr(size: int) -> str:
    """A file's size as a French reader writes it: 812 octets, 3,4 Ko, 1,2 Mo."""
    if size < 1024:
        return f"{size} octet{'s' if size > 1 else ''}"
    value, unit = (size / 1024, "Ko") if size < 1024 * 1024 else (size / (1024 * 1024), "Mo")
    return f"{value:.1f} {unit}".replace(".", ",")


def handling_party_of(session: Session, incident: Incident, parties: Parties) -> str:
    """The party that follows up and closes, as the door decides it (RG-DOOR's « partie chargée de l'incident »)."""
    from models.commands import FollowUp
    from models.door import required_party
    from policy.transitions import PartyRule

    found = required_party(session, PartyRule.HANDLER, incident, FollowUp(ref=incident.ref, content={}), parties)
    assert found is not None
    return found[0].value
