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

from sqlalchemy import Text, cast, event
from sqlalchemy import select as select_columns
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, SQLModel

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

    def text(self) -> str:
        table = self.record.split(":", 1)[0]
        where = f"{self.incident_ref} : " if self.incident_ref else ""
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
    """Remember every audited record the transaction writes, until an entry about its incident attests it."""
    pending = session.info.setdefault("unattested", {})
    for record in (*session.new, *session.dirty):
        if type(record) in AUDITED:
            pending[id(record)] = record


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_written(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop("unattested", None)


def attest(session: Session, incident_id: int | None) -> dict[str, dict[str, str]]:
    """The state of the records of `incident_id` written since its last entry in this transaction, flushed first
    so that new ones have their id."""
    session.flush()
    pending: dict[int, SQLModel] = session.info.get("unattested", {})
    if incident_id is None or not pending:
        return {}
    state = {}
    for key, record in list(pending.items()):
        owner = record.id if isinstance(record, Incident) else getattr(record, "incident_id", None)  # type: ignore[attr-defined]
        if owner == incident_id:
            state[record_key(record)] = state_of(record)
            del pending[key]
    return state


def discrepancies(session: Session, incident_id: int | None = None) -> list[Discrepancy]:
    """Every audited record (of one incident, or all) whose stored fields differ from its latest attestation.
    Records written before attestations existed have none and are not judged."""
    columns = TimelineEntry.__table__.c  # type: ignore[attr-defined]
    # A text search first (PostgreSQL's json has no LIKE: cast); the JSON of each match says whether it attests.
    text = cast(columns.payload, Text)
    query = select_columns(columns.seq, columns.incident_ref, text).where(
        text.contains(f'"{STATE_KEY}"')).order_by(columns.seq)
    if incident_id is not None:
        query = query.where(columns.incident_id == incident_id)
    latest: dict[str, tuple[int, str | None, dict[str, str]]] = {}
    for seq, ref, payload in session.execute(query):
        document = json.loads(payload) if isinstance(payload, str) else payload
        for key, fields in (document.get(STATE_KEY) or {}).items():
            latest[key] = (seq, ref, fields)
    found = []
    for key, (seq, ref, attested) in sorted(latest.items(), key=lambda item: item[1][0]):
        table, _, record_id = key.partition(":")
        model = TABLES.get(table)
        record = session.get(model, int(record_id)) if model is not None and record_id.isdigit() else None
        if record is None:
            found.append(Discrepancy(ref, key, (), seq))
            continue
        now = state_of(record)
        changed = tuple(name for name in now if name in attested and attested[name] != now[name])
        if changed:
            found.append(Discrepancy(ref, key, changed, seq))
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
