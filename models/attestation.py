"""What each timeline entry attests of the records its change wrote: a fingerprint of every field an auditor relies
on, so that `verify` can tell a record edited beside the door (an incident's title, an obligation's due time, a
decision's answer) from the state the chain vouches for.

The chain's hash covers the entry's payload, and the attestation is in the payload: rewriting a record then means
rewriting its entry and every later hash, which the signed checkpoints published outside the database expose."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, event, inspect
from sqlalchemy import select as select_columns
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, SQLModel, select

from models.breach import Assessment, CnilFiling, Decision, SubjectsNotice
from models.incident import Incident
from models.obligation import Obligation
from models.timeline import TimelineEntry, utc_text

STATE_KEY = "state"  # in an entry's payload: {"<table>:<id>": {"<field>": fingerprint, ...}, ...}
# The fields each record is attested by; bookkeeping of the engine (when a reminder is next due, claims) is not.
AUDITED: dict[type[SQLModel], tuple[str, ...]] = {
    Incident: ("ref", "status", "title", "description", "declared_by", "municipality_insee", "reporter_name",
               "reporter_email", "aware_at", "occurred_at", "declared_at", "categories", "personal_data", "schools",
               "data_subjects", "records", "proposed_scope", "confirmed_scope", "scope_reason", "closed_at",
               "dismissed_at", "dismissal_reason", "acknowledged_at", "acknowledged_by"),
    Obligation: ("incident_id", "kind", "owner", "anchor_at", "due_at", "met_at", "late_by_seconds", "waived_at",
                 "waived_reason"),
    Assessment: ("incident_id", "assessed_at", "assessed_by", "factors", "dpc", "ei", "cb", "se", "level",
                 "recommendation", "reasons", "basis", "data_categories", "nature", "consequences", "measures"),
    Decision: ("incident_id", "assessment_id", "decided_at", "decided_by", "notify_cnil", "subjects", "exemption",
               "rationale", "recommendation", "against_recommendation", "delay_reasons", "letter"),
    CnilFiling: ("incident_id", "filed_at", "reference", "complementary", "recorded_by"),
    SubjectsNotice: ("incident_id", "informed_at", "channel", "recorded_by"),
}
TABLES = {model.__tablename__: model for model in AUDITED}  # type: ignore[attr-defined]
RECORD_LABELS = {"incident": "l'incident", "obligation": "une obligation", "breach_assessment": "une évaluation",
                 "breach_decision": "la décision du DPD", "cnil_filing": "un dépôt CNIL",
                 "subjects_notice": "l'information des personnes"}
FIELD_LABELS = {
    "ref": "référence", "status": "état", "title": "titre", "description": "description",
    "declared_by": "partie déclarante", "municipality_insee": "commune", "reporter_name": "nom du déclarant",
    "reporter_email": "adresse du déclarant", "aware_at": "prise de connaissance", "occurred_at": "survenue",
    "declared_at": "date de déclaration", "categories": "catégories", "personal_data": "données personnelles",
    "schools": "écoles", "data_subjects": "personnes concernées", "records": "enregistrements",
    "proposed_scope": "portée proposée", "confirmed_scope": "portée arrêtée", "scope_reason": "motif de la portée",
    "closed_at": "clôture", "dismissed_at": "classement", "dismissal_reason": "motif du classement",
    "acknowledged_at": "accusé de réception", "acknowledged_by": "auteur de l'accusé de réception",
    "incident_id": "incident de rattachement", "kind": "nature", "owner": "titulaire", "anchor_at": "point de départ",
    "due_at": "échéance", "met_at": "date où elle a été remplie", "late_by_seconds": "retard",
    "waived_at": "levée", "waived_reason": "motif de la levée", "assessed_at": "date", "assessed_by": "auteur",
    "factors": "facteurs", "dpc": "DPC", "ei": "EI", "cb": "CB", "se": "score", "level": "gravité",
    "recommendation": "recommandation", "reasons": "raisons", "basis": "fondement", "data_categories": "catégories",
    "nature": "nature", "consequences": "conséquences", "measures": "mesures", "assessment_id": "évaluation",
    "decided_at": "date", "decided_by": "auteur", "notify_cnil": "réponse sur la notification à la CNIL",
    "subjects": "réponse sur l'information des personnes", "exemption": "exemption", "rationale": "motivation",
    "against_recommendation": "écart à la recommandation", "delay_reasons": "motifs du retard", "letter": "lettre",
    "filed_at": "date du dépôt", "reference": "référence", "complementary": "complémentaire",
    "recorded_by": "auteur", "informed_at": "date de l'information", "channel": "moyen",
}


@dataclass(frozen=True)
class Discrepancy:
    """A record whose stored state differs from what the timeline attests."""

    incident_ref: str | None
    record: str  # "<table>:<id>"
    fields: tuple[str, ...]
    attested_by: int  # the entry's sequence number
    unattested: bool = False  # a record no entry attests
    moved: bool = False  # attested by an entry of another incident than the record's

    def text(self) -> str:
        table = self.record.split(":", 1)[0]
        where = f"{self.incident_ref} : " if self.incident_ref else ""
        if self.unattested:
            return f"{where}{RECORD_LABELS.get(table, table)} n'est attesté par aucune entrée (ajouté hors de la " \
                   "porte unique)"
        if self.moved:
            return f"{where}l'entrée n° {self.attested_by} atteste un enregistrement d'un autre incident"
        if not self.fields:
            return f"{where}{RECORD_LABELS.get(table, table)} attesté par l'entrée n° {self.attested_by} a disparu"
        what = ", ".join(FIELD_LABELS.get(name, name) for name in self.fields)
        return (f"{where}{RECORD_LABELS.get(table, table)} ne correspond plus à ce qu'atteste l'entrée "
                f"n° {self.attested_by} (modifié hors de la porte unique : {what})")


def fingerprint(value: Any) -> str:
    """A field's value as a 128-bit SHA-256 prefix over its canonical form: instants in UTC, JSON keys sorted."""
    if isinstance(value, datetime):
        value = utc_text(value)
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def state_of(record: SQLModel) -> dict[str, str]:
    return {name: fingerprint(getattr(record, name)) for name in AUDITED[type(record)]}


def record_key(record: SQLModel) -> str:
    return f"{record.__tablename__}:{record.id}"  # type: ignore[attr-defined]


@event.listens_for(OrmSession, "before_flush")
def _note_written(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Remember every audited record the transaction writes, and which of its audited fields it writes (all, for a
    new record), until an entry about its incident attests them."""
    pending = session.info.setdefault("unattested", {})
    for record in (*session.new, *session.dirty):
        if type(record) not in AUDITED:
            continue
        state = inspect(record)
        fields = set(AUDITED[type(record)]) if record in session.new else {
            name for name in AUDITED[type(record)] if state.attrs[name].history.has_changes()}
        if fields:
            _, noted = pending.setdefault(id(record), (record, set()))
            noted |= fields


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_written(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop("unattested", None)


def attest(session: Session, incident_id: int | None) -> dict[str, dict[str, str]]:
    """The fields of the records of `incident_id` that this transaction wrote since its last entry, as written,
    flushed first so that new ones have their id. Only the fields written: a field edited beside the door is never
    re-attested by the next change of the same record (a pass, an acknowledgement) — it stays caught."""
    # Flushed only when an audited record has changes not yet noted: a change of other rows alone (a message
    # delivered, the entries before this one) is written with the next flush, in the same transaction.
    if any(type(record) in AUDITED for record in (*session.new, *session.dirty)):
        session.flush()
    pending: dict[int, tuple[SQLModel, set[str]]] = session.info.get("unattested", {})
    if incident_id is None or not pending:
        return {}
    state = {}
    for key, (record, fields) in list(pending.items()):
        if _owner(record) == incident_id:
            state[record_key(record)] = {name: fingerprint(getattr(record, name)) for name in AUDITED[type(record)]
                                         if name in fields}
            del pending[key]
    return state


def _owner(record: SQLModel) -> int | None:
    """The incident a record belongs to."""
    return record.id if isinstance(record, Incident) else getattr(record, "incident_id", None)  # type: ignore[attr-defined]


def discrepancies(session: Session, incident_id: int | None = None) -> list[Discrepancy]:
    """Every audited record (of one incident, or all) whose stored fields differ from what the entries of its own
    incident attest, field by field (the latest attestation of each field), and every record of an incident under
    attestation that none attests (inserted beside the door). Records of incidents from before attestations existed
    have none and are not judged."""
    columns = TimelineEntry.__table__.c  # type: ignore[attr-defined]
    # A text search first (PostgreSQL's json has no LIKE: cast); the JSON of each match says whether it attests.
    text = cast(columns.payload, Text)
    query = select_columns(columns.seq, columns.incident_id, columns.incident_ref, text).where(
        text.contains(f'"{STATE_KEY}"')).order_by(columns.seq)
    if incident_id is not None:
        query = query.where(columns.incident_id == incident_id)
    attested: dict[str, dict[str, tuple[int, str]]] = {}  # record → field → (entry, fingerprint)
    owners: dict[str, tuple[int | None, str | None]] = {}  # record → the incident of the entries attesting it
    found = []
    for seq, owner, ref, payload in session.execute(query):
        try:
            document = json.loads(payload) if isinstance(payload, str) else payload
            states = document.get(STATE_KEY) or {} if isinstance(document, dict) else {}
            items = list(states.items()) if isinstance(states, dict) else []
        except ValueError:
            continue  # not JSON: verify_chain reports the entry itself
        for key, fields in items:
            if not isinstance(fields, dict) or owners.setdefault(key, (owner, ref))[0] != owner:
                found.append(Discrepancy(ref, key, (), seq, moved=True))
                continue
            for name, value in fields.items():
                attested.setdefault(key, {})[name] = (seq, str(value))
    for key, fields in attested.items():
        table, _, record_id = key.partition(":")
        model = TABLES.get(table)
        record = session.get(model, int(record_id)) if model is not None and record_id.isascii() \
            and record_id.isdigit() else None
        owner, ref = owners[key]
        if record is None or _owner(record) != owner:
            found.append(Discrepancy(ref, key, (), max(seq for seq, _ in fields.values())))
            continue
        now = state_of(record)
        changed = tuple(name for name in now if name in fields and fields[name][1] != now[name])
        if changed:
            found.append(Discrepancy(ref, key, changed, max(fields[name][0] for name in changed)))
    # Incidents declared since attestations exist: their creation attested every field (declared_at among them).
    born_attested = {owners[key][0] for key, fields in attested.items()
                     if key.startswith("incident:") and "declared_at" in fields}
    found += _never_attested(session, attested, born_attested, incident_id)
    return sorted(found, key=lambda item: item.attested_by)


def _never_attested(session: Session, attested: dict[str, Any], incidents: set[int | None],
                    incident_id: int | None) -> list[Discrepancy]:
    """Audited rows of incidents under attestation that no entry attests: written beside the door."""
    found = []
    refs: dict[int, str] = {row[0]: row[1] for row in session.execute(
        select_columns(Incident.__table__.c.id, Incident.__table__.c.ref))}  # type: ignore[attr-defined]
    for model in AUDITED:
        for record in session.exec(select(model)).all():
            owner = _owner(record)
            if owner in incidents and (incident_id is None or owner == incident_id) \
                    and record_key(record) not in attested:
                ref = refs.get(owner) if owner is not None else None
                found.append(Discrepancy(ref, record_key(record), (), 0, unattested=True))
    return found


def misfiled_entries(session: Session, incident_id: int | None = None) -> list[tuple[int, str | None]]:
    """Entries shown under an incident other than the one their hash names (the chain covers the reference, the
    display follows the id): (sequence number, reference the hash covers)."""
    entries = TimelineEntry.__table__.c  # type: ignore[attr-defined]
    incidents = Incident.__table__.c  # type: ignore[attr-defined]
    query = select_columns(entries.seq, entries.incident_ref).select_from(
        TimelineEntry.__table__.outerjoin(Incident.__table__, incidents.id == entries.incident_id)  # type: ignore[attr-defined]
    ).where((entries.incident_id.is_(None) != entries.incident_ref.is_(None))
            | (incidents.ref.is_distinct_from(entries.incident_ref) & entries.incident_id.is_not(None))
            ).order_by(entries.seq)
    if incident_id is not None:
        query = query.where(entries.incident_id == incident_id)
    return [(seq, ref) for seq, ref in session.execute(query)]
