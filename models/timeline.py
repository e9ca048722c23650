"""The append-only timeline, chained by SHA-256 so that an auditor can prove nothing was altered."""

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

import pendulum
from sqlalchemy import JSON, Column, String, event, type_coerce
from sqlalchemy import select as select_columns
from sqlalchemy import text as text_clause
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Field, Session, SQLModel, select

from models.errors import not_text
from models.types import UTCDateTime

GENESIS_HASH = "0" * 64
VERIFY_BATCH = 5000  # rows fetched at a time by verify_chain


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
    return _canonical(entry.seq, entry.incident_ref, entry.occurred_at, entry.recorded_at, entry.actor, entry.party,
                      entry.kind, entry.payload, entry.prev_hash)


def _canonical(seq: int, incident_ref: str | None, occurred_at: datetime | str, recorded_at: datetime | str,
               actor: str, party: str, kind: str, payload: dict[str, Any], prev_hash: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "incident_ref": incident_ref,
        "occurred_at": _utc_iso(occurred_at),
        "recorded_at": _utc_iso(recorded_at),
        "actor": actor,
        "party": party,
        "kind": kind,
        "payload": payload,
        "prev_hash": prev_hash,
    }


def canonical_json(fields: dict[str, Any]) -> str:
    """The text the chain hashes, and the leaf of the Merkle tree: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's fields, the previous hash included."""
    return _text_digest(canonical_json(fields))


def entry_digest(entry: TimelineEntry) -> str:
    return digest(canonical_fields(entry))


def _utc_iso(instant: datetime | str) -> str:
    """`2026-11-20T09:00:00.000000Z`. A naive instant, or the text SQLite keeps, is in UTC already (models.types)."""
    if isinstance(instant, str):
        if len(instant) == 26 and instant[10] == " ":  # SQLite's form, `2026-11-20 09:00:00.000000`: no parsing
            return f"{instant[:10]}T{instant[11:]}Z"
        if "\x00" in instant:  # fromisoformat stops at a NUL: bytes appended after one would pass unseen
            raise ValueError("an instant with a NUL character")
        instant = datetime.fromisoformat(instant)
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    return (f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}T{instant.hour:02d}:{instant.minute:02d}:"
            f"{instant.second:02d}.{instant.microsecond:06d}Z")


utc_text = _utc_iso  # the form every instant takes in what the chain covers


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
    """Append one entry in the caller's transaction; the caller commits it with the change it records. It is
    written to the database with the transaction's next flush (a query, the next entry's attestation, the commit)."""
    head = lock_chain_head(session)
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
    return entry


def lock_chain_head(session: Session) -> ChainHead:
    """The chain head, locked and read once per transaction: a transaction that writes many entries (a group of
    deliveries) keeps it until commit anyway."""
    head: ChainHead | None = session.info.get("chain_head")
    if head is None:
        head = session.exec(select(ChainHead).where(ChainHead.id == 1).with_for_update()).one_or_none()
        if head is None:
            head = ChainHead()
            session.add(head)
            session.flush()
        session.info["chain_head"] = head
    return head


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_ref: str | None = None
    problem: str | None = None


def verify_chain(session: Session, up_to_seq: int | None = None,
                 on_entry: Callable[[int, str | None, Any], None] | None = None,
                 span: tuple[int, int | None] | None = None) -> ChainReport:
    """`_verify_chain`; a text SQLite cannot read (`not_text`) breaks the chain as such, with no entry to name, rather
    than failing as a database error."""
    try:
        return _verify_chain(session, up_to_seq, on_entry, span)
    except (sqlite3.OperationalError, DatabaseError) as error:
        problem = not_text(error)
        if problem is None:
            raise
        return ChainReport(False, 0, GENESIS_HASH, problem=problem)


def _verify_chain(session: Session, up_to_seq: int | None = None,
                  on_entry: Callable[[int, str | None, Any], None] | None = None,
                  span: tuple[int, int | None] | None = None) -> ChainReport:
    """Recompute every link (up to `up_to_seq` if given); report the first entry whose content or link fails.
    `on_entry` is given each entry that holds (sequence number, incident reference, payload as read), in order: the
    records' check reads the attestations in the same pass.

    `span` (after, through): only the entries after sequence number `after` and up to `through` (to the end if
    None), taken up where the entries before them end, as if those held: two processes check the two spans of a
    large chain at once (models/verification.py). The report of the first span, when it holds, says nothing of the
    end of the chain; the report of the last span is the whole chain's when the first holds.

    Rows are streamed in batches as the database driver gives them, without SQLAlchemy's processing: a million
    entries must verify in seconds. Each entry's canonical text is written directly (`_canonical_text`, the same text
    `digest` hashes)."""
    after, through = span if span is not None else (0, up_to_seq)
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    if after:  # the state the entries before this span leave, if they hold: their last one's
        last = session.execute(text_clause("SELECT seq, hash FROM timeline_entry WHERE seq <= :after "
                                           "ORDER BY seq DESC LIMIT 1"), {"after": after}).first()
        if last is not None and type(last[0]) is int:
            prev_hash, expected_seq, count = last[1], last[0] + 1, last[0]
    entries = _hashed_in_sqlite(session, through, after) if on_entry is None and is_sqlite(session) else \
        _hashed_here(session, through, after)
    for seq, ref, payload, stored_prev, stored_hash, holds in entries:
        problem = None
        if seq != expected_seq:
            problem = f"entrée n° {expected_seq} manquante"
        elif stored_prev != prev_hash:
            problem = "lien vers l'entrée précédente rompu"
        elif not holds:
            problem = "contenu modifié : l'empreinte ne correspond plus"
        if problem:
            return ChainReport(False, count, prev_hash, seq, ref, problem)
        if on_entry is not None:
            on_entry(seq, ref, payload)
        prev_hash, expected_seq, count = stored_hash, expected_seq + 1, count + 1
    if span is not None and through is not None:
        return ChainReport(True, count, prev_hash)  # what follows is the next span's to tell
    if up_to_seq is not None:
        ok = count == up_to_seq
        return ChainReport(ok, count, prev_hash, None if ok else count + 1, None, None if ok else "entrée manquante")
    head = session.get(ChainHead, 1)
    if head is None:
        return ChainReport(True, count, prev_hash) if count == 0 else \
            ChainReport(False, count, prev_hash, count, None, "la tête de chaîne a disparu")
    if type(head.seq) is not int:  # a number the door never writes (SQLite keeps any text in the column)
        return ChainReport(False, count, prev_hash, count, None,
                           "la tête de chaîne ne correspond plus à la dernière entrée")
    if head.seq > count:  # named at the first entry missing, which the head still counts
        missing = f"l'entrée n° {head.seq}" if head.seq == count + 1 else f"les entrées n° {count + 1} à {head.seq}"
        return ChainReport(False, count, prev_hash, count + 1, None,
                           f"les dernières entrées de la chaîne ont disparu ({missing}, que sa tête compte "
                           "encore)")
    if head.seq < count:
        return ChainReport(False, count, prev_hash, head.seq + 1, None,
                           f"la chaîne continue après sa tête (entrée n° {head.seq}) : entrées ajoutées hors de la "
                           "porte unique")
    if head.hash != prev_hash:
        return ChainReport(False, count, prev_hash, head.seq, None,
                           "la tête de chaîne ne correspond plus à la dernière entrée")
    return ChainReport(True, count, prev_hash)


Checked = tuple[int, str | None, Any, str, str, bool]  # seq, incident_ref, payload, prev_hash, hash, whether it holds


def _hashed_here(session: Session, up_to_seq: int | None, after_seq: int = 0) -> Iterator[Checked]:
    for seq, ref, occurred_at, recorded_at, actor, party, kind, payload, stored_prev, stored_hash in \
            _raw_rows(session, after_seq, up_to_seq):
        yield seq, ref, payload, stored_prev, stored_hash, _holds_safely(
            stored_hash, seq, ref, occurred_at, recorded_at, actor, party, kind, payload, stored_prev)


def _hashed_in_sqlite(session: Session, up_to_seq: int | None, after_seq: int = 0) -> Iterator[Checked]:
    """The entries with their canonical text written by SQLite itself, as UTF-8 bytes ready to hash: a third less
    time than building each text in Python, over a million entries. The text is written only from values of the
    types the door writes (texts, an integer, instants in SQLite's form), each quoted by `json_quote`, which
    escapes as `json.dumps` does: equal texts mean equal values, and a text that hashes to the stored hash is the
    very text the door hashed. Any other entry, or one whose text does not hash so, is checked the careful way."""
    # No lower bound from the start: an entry numbered 0 or less, written beside the door, is read and named.
    bounds = ["seq > :after"] * bool(after_seq) + ["seq <= :up_to"] * (up_to_seq is not None)
    query = text_clause(f"SELECT seq, incident_ref, prev_hash, hash, {_SQLITE_CANONICAL} FROM timeline_entry"
                        + (" WHERE " + " AND ".join(bounds) if bounds else "") + " ORDER BY seq")
    if after_seq:
        query = query.bindparams(after=after_seq)
    if up_to_seq is not None:
        query = query.bindparams(up_to=up_to_seq)
    sha256 = hashlib.sha256
    for seq, ref, stored_prev, stored_hash, canonical in driver_rows(session, query):
        if canonical is not None and sha256(canonical).hexdigest() == stored_hash:
            yield seq, ref, None, stored_prev, stored_hash, True
        elif type(seq) is not int:  # no entry of the door: the sequence check names it
            yield seq, ref, None, stored_prev, stored_hash, False
        else:
            yield from _hashed_here(session, seq, after_seq=seq - 1)


def _sqlite_instant(column: str) -> str:
    return f"substr({column}, 1, 10) || 'T' || substr({column}, 12) || 'Z'"  # `2026-11-20 09:00:00.000000`


_SQLITE_TEXTS = ("actor", "party", "kind", "prev_hash", "payload", "occurred_at", "recorded_at")
_SQLITE_CANONICAL = (
    "CASE WHEN " + " AND ".join(f"typeof({column}) = 'text'" for column in _SQLITE_TEXTS)
    + " AND typeof(incident_ref) IN ('text', 'null') AND typeof(seq) = 'integer'"
    # Counted in bytes: SQLite's length() and substr() stop at a NUL, which would hide bytes appended after one.
    + " AND length(CAST(occurred_at AS BLOB)) = 26 AND substr(occurred_at, 11, 1) = ' '"
    + " AND length(CAST(recorded_at AS BLOB)) = 26 AND substr(recorded_at, 11, 1) = ' '"
    + " THEN CAST('{\"actor\":' || json_quote(actor) || ',\"incident_ref\":' || json_quote(incident_ref)"
    + " || ',\"kind\":' || json_quote(kind) || ',\"occurred_at\":\"' || " + _sqlite_instant("occurred_at")
    + " || '\",\"party\":' || json_quote(party) || ',\"payload\":' || payload"
    + " || ',\"prev_hash\":' || json_quote(prev_hash) || ',\"recorded_at\":\"' || " + _sqlite_instant("recorded_at")
    + " || '\",\"seq\":' || seq || '}' AS BLOB) END")


def is_sqlite(session: Session) -> bool:
    return bool(session.get_bind().dialect.name == "sqlite")


def canonical_texts(session: Session, after_seq: int = 0, up_to_seq: int | None = None) -> Iterator[str]:
    """The canonical text of each entry after `after_seq` (up to `up_to_seq`), in order: the text its hash covers
    when it holds, else the text of what is stored now (the leaves of the Merkle tree, models/checkpoints.py)."""
    for seq, ref, occurred_at, recorded_at, actor, party, kind, payload, prev, stored_hash in \
            _raw_rows(session, after_seq, up_to_seq):
        fields = (seq, ref, occurred_at, recorded_at, actor, party, kind)
        text = _canonical_text(*fields, payload, prev, as_stored=True) if type(payload) is str else ""
        if not text or _text_digest(text) != stored_hash:
            text = _canonical_text(*fields, payload, prev)
        yield text


def _raw_rows(session: Session, after_seq: int, up_to_seq: int | None) -> Iterator[tuple[Any, ...]]:
    """The entries' columns as the database driver gives them, in batches, without SQLAlchemy's processing: a
    million entries must be read in seconds."""
    columns = TimelineEntry.__table__.c  # type: ignore[attr-defined]
    query = select_columns(columns.seq, columns.incident_ref, type_coerce(columns.occurred_at, String),
                           type_coerce(columns.recorded_at, String), columns.actor, columns.party, columns.kind,
                           type_coerce(columns.payload, String), columns.prev_hash, columns.hash).order_by(columns.seq)
    if after_seq:
        query = query.where(columns.seq > after_seq)
    if up_to_seq is not None:
        query = query.where(columns.seq <= up_to_seq)
    yield from driver_rows(session, query)


def driver_rows(session: Session, query: Any, batch: int = VERIFY_BATCH) -> Iterator[tuple[Any, ...]]:
    """The rows of `query` as the database driver gives them, in batches, on the session's connection and in its
    transaction, without SQLAlchemy's processing of each row (`verify` reads every entry and record of the store)."""
    session.flush()  # rows written in this transaction and not yet sent: read on the driver's own cursor
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect)
    cursor = connection.connection.cursor()  # the DBAPI cursor, in the session's transaction
    try:
        cursor.execute(str(compiled), _driver_parameters(compiled, connection.dialect))
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def _driver_parameters(compiled: Any, dialect: Any) -> Any:
    """The compiled query's bound values in the driver's own style (positional for SQLite, named for psycopg)."""
    params = compiled.params
    if dialect.positional:
        return tuple(params[name] for name in compiled.positiontup)
    return params


def _holds_safely(stored_hash: str, *fields: Any) -> bool:
    """`_holds`, where a value no entry could hold (an instant that is no date, a payload that is no JSON: written
    beside the door) is a modified entry, not a crash of the check."""
    try:
        return _holds(stored_hash, *fields)
    except (ValueError, TypeError, AttributeError, UnicodeError, OverflowError, RecursionError):
        return False


def _holds(stored_hash: str, seq: int, incident_ref: str | None, occurred_at: datetime | str,
           recorded_at: datetime | str, actor: str, party: str, kind: str, payload: str | dict[str, Any],
           prev_hash: str) -> bool:
    """Whether the entry's fields hash to its stored hash. The payload is stored in canonical form (the store's JSON
    serializer): its text is hashed as read, with no decoding and encoding again; only an entry whose stored text is
    not canonical (written before, or by a database that reformats JSON) takes the longer way. Both ways hash the
    same canonical text when they agree, so that neither accepts what the other would refuse."""
    fields = (seq, incident_ref, occurred_at, recorded_at, actor, party, kind)
    if type(payload) is str and _text_digest(_canonical_text(*fields, payload, prev_hash, as_stored=True)) == \
            stored_hash:
        return True
    return _text_digest(_canonical_text(*fields, payload, prev_hash)) == stored_hash


def _canonical_text(seq: int, incident_ref: str | None, occurred_at: datetime | str, recorded_at: datetime | str,
                    actor: str, party: str, kind: str, payload: str | dict[str, Any], prev_hash: str,
                    as_stored: bool = False) -> str:
    """The exact text `digest` hashes for these fields, written directly: the keys in their sorted order, each value
    encoded as `json.dumps` encodes it; the payload as read (JSON text, or already decoded by the driver)."""
    return (f'{{"actor":{_json(actor)},"incident_ref":{_json(incident_ref)},"kind":{_json(kind)},'
            f'"occurred_at":"{_utc_iso(occurred_at)}","party":{_json(party)},'
            f'"payload":{payload if as_stored else _canonical_payload(payload)},'
            f'"prev_hash":{_json(prev_hash)},"recorded_at":"{_utc_iso(recorded_at)}",'
            f'"seq":{int.__repr__(seq) if type(seq) is int else _CANONICAL.encode(seq)}}}')


def _canonical_payload(payload: str | dict[str, Any]) -> str:
    return _CANONICAL.encode(json.loads(payload) if type(payload) is str else payload)


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> str:
    return encode_basestring(value) if type(value) is str else _CANONICAL.encode(value)


def _text_digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
