"""The gated query layer, through the ORM: what a person may read (the rule itself is models.gate, which the driver's
plain reads, models.plain_reads, apply as well). The académie's people and auditors read every incident; a commune's
people read their commune's incidents only, and of another's nothing, not even that it exists."""

from typing import Any, TypeVar, cast

from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from models.driver import plain_store_of
from models.gate import looked_up, not_found, readable_commune, reads_everything, require_whole_store, shown_ref
from models.incident import Incident
from models.plain_reads import likely_duplicates_among
from models.timeline import TimelineEntry
from settings.parties import Person

__all__ = ["duplicates_for_its_parties", "likely_duplicates_of", "own_entries", "readable_entries",
           "readable_incident", "readable_incidents", "readable_refs", "reads_everything", "require_whole_store",
           "shown_ref", "visible"]

Query = TypeVar("Query")  # a select of whole incidents, or of some of their columns (or of rows joined to them)


def visible(query: Query, reader: Person) -> Query:
    """Narrow a query on incidents (whole rows, or some of their columns) to what `reader` may see."""
    commune = readable_commune(reader)
    if commune is None:
        return query
    narrowed: Any = query
    return cast(Query, narrowed.where(col(Incident.municipality_insee) == commune))


def readable_incidents(session: Session, reader: Person) -> list[Incident]:
    return list(session.exec(visible(select(Incident), reader).order_by(col(Incident.id))).all())


def readable_refs(session: Session, reader: Person, refs: set[str]) -> set[str]:
    """Of `refs`, those of incidents `reader` may see."""
    if reads_everything(reader):
        return refs
    return set(session.execute(visible(columns(col(Incident.ref)).where(col(Incident.ref).in_(refs)),
                                       reader)).scalars())


def readable_incident(session: Session, ref: str, reader: Person) -> Incident:
    """One incident, if `reader` may see it; another commune's is answered exactly as a missing one."""
    wanted = looked_up(ref)
    incident = None if wanted is None else \
        session.exec(visible(select(Incident).where(Incident.ref == wanted), reader)).one_or_none()
    if incident is None:
        raise not_found(ref)
    return incident


def likely_duplicates_of(session: Session, incident: Incident, reader: Person) -> list[str]:
    """The incidents declared before `incident`, that `reader` may see, which it likely repeats (RG-DUP-01)."""
    return likely_duplicates_among(plain_store_of(session), incident, reader)


def duplicates_for_its_parties(session: Session, incident: Incident, limit: int | None = None) -> list[str]:
    """The same, for a mail to the parties of `incident`'s commune: a likely duplicate is always of the same commune,
    which both the académie and that commune's people may read."""
    return likely_duplicates_among(plain_store_of(session), incident, None, limit)


def _attached(session: Session, incident: Incident) -> list[TimelineEntry]:
    return list(session.exec(select(TimelineEntry).where(TimelineEntry.incident_id == incident.id)
                             .order_by(col(TimelineEntry.seq))).all())


def _former_refs(entries: list[TimelineEntry], incident: Incident) -> set[str | None]:
    """References this incident was known by, when its own was edited beside the door: those of the entries that
    attest its own record (their hash covers both)."""
    record = f"incident:{incident.id}"
    return {entry.incident_ref for entry in entries
            if isinstance(entry.payload, dict) and isinstance(entry.payload.get("state"), dict)
            and record in entry.payload["state"]}


def own_entries(session: Session, incident: Incident) -> list[TimelineEntry]:
    """The entries attached to `incident` whose hash names it (by its reference, or one it had): an entry attached
    to it beside the door from another incident says nothing of it."""
    entries = _attached(session, incident)
    own = {incident.ref} | _former_refs(entries, incident)
    return [entry for entry in entries if entry.incident_ref in own]


def readable_entries(session: Session, incident: Incident, commune: str | None) -> list[TimelineEntry]:
    """The entries attached to `incident`, as the readers of `commune` (models.gate.readable_commune; None: every
    commune) may read them. An entry attached to it beside the door whose hash names an incident of another commune,
    or one no longer stored, is left out for them: the audit file and `verify` say it is there, not what it holds."""
    entries = _attached(session, incident)
    foreign = {entry.incident_ref for entry in entries if entry.incident_ref != incident.ref}
    if commune is None or not foreign:
        return entries
    named = [ref for ref in foreign if ref is not None]
    theirs = set(session.exec(select(Incident.ref).where(col(Incident.ref).in_(named),
                                                         col(Incident.municipality_insee) == commune)))
    shown = {incident.ref} | theirs | _former_refs(entries, incident)
    return [entry for entry in entries if entry.incident_ref in shown]
