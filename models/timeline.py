"""The append-only timeline, chained by SHA-256 so that an auditor can prove nothing was altered."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pendulum
from sqlalchemy import JSON, Column, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Field, Session, SQLModel, select

from models.types import UTCDateTime

GENESIS_HASH = "0" * 64


class TimelineEntry(SQLModel, table=True):
    __tablename__ = "timeline_entry"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    incident_ref: str | None = Field(default=None, max_length=32)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=320)
    party: str = Field(max_length=16)
    kind: str = Field(max_length=48)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class ChainHead(SQLModel, table=True):
    """One row: the last sequence number and hash. Locking it serializes appends to the chain."""

    __tablename__ = "chain_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default=GENESIS_HASH, max_length=64)


def canonical_fields(entry: TimelineEntry) -> dict[str, Any]:
    """Every field an auditor relies on, in the exact form the hash covers (also the form exports carry)."""
    return {
        "seq": entry.seq,
        "incident_ref": entry.incident_ref,
        "occurred_at": _utc_iso(entry.occurred_at),
        "recorded_at": _utc_iso(entry.recorded_at),
        "actor": entry.actor,
        "party": entry.party,
        "kind": entry.kind,
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
    }


def digest(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's fields, the previous hash included."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def entry_digest(entry: TimelineEntry) -> str:
    return digest(canonical_fields(entry))


def _utc_iso(instant: datetime) -> str:
    return pendulum.instance(instant).in_timezone("UTC").format("YYYY-MM-DDTHH:mm:ss.SSSSSS[Z]")


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_chain_head(session: OrmSession, transaction: SessionTransaction) -> None:
    """The head read by a transaction is that transaction's: the next one locks and reads it afresh."""
    if transaction.parent is None:
        session.info.pop("chain_head", None)


def append_entry(
    session: Session,
    *,
    incident_id: int | None,
    incident_ref: str | None,
    occurred_at: datetime,
    recorded_at: datetime,
    actor: str,
    party: str,
    kind: str,
    payload: dict[str, Any],
) -> TimelineEntry:
    """Append one entry in the caller's transaction; the caller commits it with the change it records."""
    # The head is locked and read once per transaction: a transaction that writes many entries (a group of
    # deliveries) keeps it until commit anyway.
    head = session.info.get("chain_head")
    if head is None:
        head = session.exec(select(ChainHead).where(ChainHead.id == 1).with_for_update()).one_or_none()
        if head is None:
            head = ChainHead()
            session.add(head)
        session.info["chain_head"] = head
    entry = TimelineEntry(
        seq=head.seq + 1,
        incident_id=incident_id,
        incident_ref=incident_ref,
        occurred_at=pendulum.instance(occurred_at).in_timezone("UTC"),
        recorded_at=pendulum.instance(recorded_at).in_timezone("UTC"),
        actor=actor,
        party=party,
        kind=kind,
        payload=payload,
        prev_hash=head.hash,
        hash="",
    )
    entry.hash = entry_digest(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_ref: str | None = None
    problem: str | None = None


def verify_chain(session: Session, up_to_seq: int | None = None) -> ChainReport:
    """Recompute every link (up to `up_to_seq` if given); report the first entry whose content or link fails."""
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    query = select(TimelineEntry).order_by(TimelineEntry.seq)  # type: ignore[arg-type]
    if up_to_seq is not None:
        query = query.where(TimelineEntry.seq <= up_to_seq)
    for entry in session.exec(query):
        problem = None
        if entry.seq != expected_seq:
            problem = f"entrée n° {expected_seq} manquante"
        elif entry.prev_hash != prev_hash:
            problem = "lien vers l'entrée précédente rompu"
        elif entry_digest(entry) != entry.hash:
            problem = "contenu modifié : l'empreinte ne correspond plus"
        if problem:
            return ChainReport(False, count, prev_hash, entry.seq, entry.incident_ref, problem)
        prev_hash, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    if up_to_seq is not None:
        ok = count == up_to_seq
        return ChainReport(ok, count, prev_hash, None if ok else count + 1, None, None if ok else "entrée manquante")
    head = session.get(ChainHead, 1)
    if head is not None and (head.seq, head.hash) != (count, prev_hash):
        return ChainReport(False, count, prev_hash, head.seq, None,
                           "les dernières entrées de la chaîne ont disparu")
    return ChainReport(True, count, prev_hash)
