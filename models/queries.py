"""The gated query layer: what a person may read. The académie's people and auditors read every incident; a
commune's people read their commune's incidents only, and of another's nothing, not even that it exists."""

from datetime import timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from models.errors import NotFound, Refused
from models.incident import Incident
from policy.duplicates import WINDOW_HOURS, Declared, likely_duplicates
from policy.parties import Party
from settings.parties import Person


def reads_everything(reader: Person) -> bool:
    return reader.party is Party.ACADEMY


Query = TypeVar("Query")  # a select of whole incidents, or of some of their columns (or of rows joined to them)


def visible(query: Query, reader: Person) -> Query:
    """Narrow a query on incidents (whole rows, or some of their columns) to what `reader` may see."""
    if reads_everything(reader):
        return query
    narrowed: Any = query
    return cast(Query, narrowed.where(col(Incident.municipality_insee) == reader.insee))


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
    incident = None if "\x00" in ref or len(ref) > 32 or not ref.isprintable() or _undecodable(ref) else \
        session.exec(visible(select(Incident).where(Incident.ref == ref), reader)).one_or_none()
    if incident is None:
        raise NotFound(f"Aucun incident ne porte la référence « {shown_ref(ref)} ».")
    return incident


def _undecodable(ref: str) -> bool:
    """Bytes that were not UTF-8 on the command line (kept as lone surrogates): no reference is made of them."""
    try:
        ref.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def shown_ref(ref: str) -> str:
    """A reference as typed, echoed back harmless: short, with no control character for the terminal to run."""
    cleaned = "".join(char if char.isprintable() else "?" for char in ref[:40])
    return cleaned + ("…" if len(ref) > 40 else "")


def require_whole_store(reader: Person, what: str) -> None:
    """Reads that span every commune (the full export, the steering report) are the académie's."""
    if not reads_everything(reader):
        raise Refused(f"Refusé : {what} couvre toutes les communes ; il est réservé aux personnes de l'académie "
                      "(auditeurs compris).")


def declared_facts(incident: Incident) -> Declared:
    return Declared(ref=incident.ref, insee=incident.municipality_insee, aware_at=incident.aware_at,
                    title=incident.title, status=incident.status)


def likely_duplicates_of(session: Session, incident: Incident, reader: Person) -> list[str]:
    """The incidents declared before `incident`, that `reader` may see, which it likely repeats (RG-DUP-01)."""
    return _likely_duplicates(session, incident, reader)


def duplicates_for_its_parties(session: Session, incident: Incident, limit: int | None = None) -> list[str]:
    """The same, for a mail to the parties of `incident`'s commune: a likely duplicate is always of the same commune,
    which both the académie and that commune's people may read."""
    return _likely_duplicates(session, incident, None, limit)


def _likely_duplicates(session: Session, incident: Incident, reader: Person | None,
                       limit: int | None = None) -> list[str]:
    window = timedelta(hours=WINDOW_HOURS)
    query = columns(col(Incident.ref), col(Incident.municipality_insee), col(Incident.aware_at),
                    col(Incident.title), col(Incident.status)).where(
        col(Incident.municipality_insee) == incident.municipality_insee, col(Incident.id) < incident.id,
        col(Incident.aware_at) >= incident.aware_at - window, col(Incident.aware_at) <= incident.aware_at + window,
    )
    nearby = session.execute((visible(query, reader) if reader else query).order_by(col(Incident.id)))
    return likely_duplicates(declared_facts(incident), (Declared(*row) for row in nearby), limit)
