"""What each timeline entry attests of the records its change wrote: a fingerprint of every field an auditor relies
on, so that `verify` can tell a record edited beside the door (an incident's title, an obligation's due time, a
decision's answer) from the state the chain vouches for.

The chain's hash covers the entry's payload, and the attestation is in the payload: rewriting a record then means
rewriting its entry and every later hash, which the signed checkpoints published outside the database expose."""

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import JSON, Boolean, DateTime, LargeBinary, Text, bindparam, cast, event, inspect, literal_column
from sqlalchemy import select as select_columns
from sqlalchemy import table as table_clause
from sqlalchemy import text as text_clause
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, SQLModel

from models.field_labels import FIELD_LABELS
from models.timeline import TimelineEntry, driver_rows, is_sqlite, utc_text
from models.types import UTCDateTime

STATE_KEY = "state"  # in an entry's payload: {"<table>:<id>": {"<field>": fingerprint, ...}, ...}
# The fields each table's records are attested by; bookkeeping of the engine (when a reminder is next due, claims,
# attempts) is not. By table name: the tables' modules import the journal, which imports this one.
AUDITED: dict[str, tuple[str, ...]] = {
    "incident": ("ref", "status", "title", "description", "declared_by", "municipality_insee", "reporter_name",
                 "reporter_email", "aware_at", "occurred_at", "declared_at", "categories", "personal_data",
                 "schools", "data_subjects", "records", "proposed_scope", "confirmed_scope", "scope_reason",
                 "closed_at", "dismissed_at", "dismissal_reason", "acknowledged_at", "acknowledged_by"),
    "obligation": ("incident_id", "kind", "owner", "anchor_at", "due_at", "met_at", "late_by_seconds", "waived_at",
                   "waived_reason"),
    "breach_assessment": ("incident_id", "assessed_at", "assessed_by", "factors", "dpc", "ei", "cb", "se", "level",
                          "recommendation", "reasons", "basis", "data_categories", "nature", "consequences",
                          "measures"),
    "breach_decision": ("incident_id", "assessment_id", "decided_at", "decided_by", "notify_cnil", "subjects",
                        "exemption", "rationale", "recommendation", "against_recommendation", "delay_reasons",
                        "letter"),
    "cnil_filing": ("incident_id", "filed_at", "reference", "complementary", "recorded_by"),
    "subjects_notice": ("incident_id", "informed_at", "channel", "recorded_by"),
    "incident_report": ("incident_id", "kind", "party", "author", "reported_at", "content"),
    "attachment": ("incident_id", "filename", "content_type", "size", "sha256", "added_by", "added_at", "note"),
    # What left, as it left: attested by the entry that records its delivery (`vouch`, models.messaging), not when
    # queued, claimed or rendered, which the engine does with no entry of its own.
    "outbox_message": ("incident_id", "obligation_id", "template", "step", "recipient_name", "recipient_email",
                       "recipient_party", "subject", "body_text", "body_html", "attachment_ics", "sent_at",
                       "transport", "message_id", "status"),
}
VOUCHED_ONLY = frozenset({"outbox_message"})
# Attested beside the columns: the files a message carried (their rows hang off the message, not the incident),
# as a list of (name, media type, SHA-256 of the bytes), so that a draft swapped after it was sent is named.
FILES_FIELD = "files"
DERIVED = {"outbox_message": (FILES_FIELD,)}
# Attestation schemes. An incident is judged only for the tables its scheme attests, so that records written before
# a table was attested are not taken for records slipped in beside the door: 1, the incident, its obligations and
# breach records; 2, also its reports, attachments and delivered messages. An incident's creation attests its
# scheme as a field of its own.
SCHEME_FIELD = "_scheme"
SCHEME = 2
SCHEME_TABLES = {1: frozenset(list(AUDITED)[:6]), 2: frozenset(AUDITED)}

FEMININE = frozenset({"obligation", "breach_assessment", "breach_decision", "subjects_notice", "attachment"})
RECORD_LABELS = {"incident": "l'incident", "obligation": "une obligation", "breach_assessment": "une évaluation",
                 "breach_decision": "la décision du DPD", "cnil_filing": "un dépôt CNIL",
                 "subjects_notice": "l'information des personnes", "incident_report": "un rapport",
                 "attachment": "une pièce jointe", "outbox_message": "un message remis"}


@dataclass(frozen=True)
class Discrepancy:
    """A record whose stored state differs from what the timeline attests."""

    incident_ref: str | None
    record: str  # "<table>:<id>"
    fields: tuple[str, ...]
    attested_by: int  # the entry's sequence number
    unattested: bool = False  # a record no entry attests
    moved: bool = False  # attested by an entry of another incident than the record's
    elsewhere: bool = False  # still stored, but now under another incident than the one its entries name, or none
    now_under: str | None = None  # if elsewhere: the reference of the incident it is stored under now (an incident's
    # own record: its reference now), None for none

    def text(self, readable: Collection[str | None] | None = None) -> str:
        """In French; the incident a record was moved to is named only if `readable` (all if None) holds it."""
        table, _, number = self.record.partition(":")
        what = RECORD_LABELS.get(table, table)
        e = "e" if table in FEMININE else ""  # the participles agree with the record named
        where = f"{self.incident_ref} : " if self.incident_ref else ""
        if self.elsewhere:
            attested = f"{where}{what} (n° {number}) attesté{e} par l'entrée n° {self.attested_by}"
            if self.now_under is None:
                return f"{attested} n'est plus rattaché{e} à aucun incident"
            if readable is not None and self.now_under not in readable:
                return f"{attested} est désormais rattaché{e} à un incident que vous ne pouvez pas consulter"
            if table == "incident":
                return f"{attested} porte désormais la référence {self.now_under}"
            return f"{attested} est désormais rattaché{e} à l'incident {self.now_under}"
        if self.unattested:
            return (f"{where}{what} (n° {number}) n'est attesté{e} par aucune entrée : ajouté{e} hors de la porte "
                    "unique, ou l'entrée qui l'attestait a été supprimée")
        if self.moved:
            return f"{where}l'entrée n° {self.attested_by} atteste un enregistrement d'un autre incident"
        if not self.fields:
            return f"{where}{what} (n° {number}) attesté{e} par l'entrée n° {self.attested_by} a disparu"
        fields = ", ".join(FIELD_LABELS.get(name, name) for name in self.fields)
        return (f"{where}{what} (n° {number}) ne correspond plus à ce qu'atteste l'entrée n° {self.attested_by} "
                f"(modifié{e} hors de la porte unique : {fields})")


def fingerprint(value: Any) -> str:
    """A field's value as a 128-bit SHA-256 prefix over its canonical JSON form: instants in UTC, keys sorted.
    Texts, numbers and nothing are encoded directly, as `json.dumps` would (`verify` fingerprints every field of
    every record: the general encoder's set-up costs more than the hash)."""
    if isinstance(value, datetime):
        value = utc_text(value)
    if isinstance(value, str):
        text = _json_string(value)
    elif value is None:
        text = "null"
    elif value is True or value is False:
        text = "true" if value else "false"
    elif type(value) is int:
        text = int.__repr__(value)
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_json_string = json.encoder.encode_basestring  # the JSON text of a string, characters kept as they are (UTF-8)


def table_of(record: SQLModel) -> str | None:
    return getattr(record, "__tablename__", None)


def record_key(record: SQLModel) -> str:
    return f"{table_of(record)}:{record.id}"  # type: ignore[attr-defined]


@event.listens_for(OrmSession, "before_flush")
def _note_written(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Remember every audited record the transaction writes, and which of its audited fields it writes (all, for a
    new record), until an entry about its incident attests them."""
    pending = session.info.setdefault("unattested", {})
    for record in (*session.new, *session.dirty):
        table = table_of(record)
        if table not in AUDITED or table in VOUCHED_ONLY:
            continue
        state = inspect(record)
        fields = set(AUDITED[table]) if record in session.new else {
            name for name in AUDITED[table] if state.attrs[name].history.has_changes()}
        if table == "incident" and record in session.new:
            fields.add(SCHEME_FIELD)
        if fields:
            _, noted = pending.setdefault(id(record), (record, set()))
            noted |= fields


def vouch(session: OrmSession, record: SQLModel) -> None:
    """Have the next entry about the record's incident attest all its audited fields, written now or not (a message
    rendered earlier, by a pass with no entry of its own, is attested once delivered, as it left)."""
    _, noted = session.info.setdefault("unattested", {}).setdefault(id(record), (record, set()))
    noted |= {*AUDITED[table_of(record) or ""], *DERIVED.get(table_of(record) or "", ())}


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
    if any(table_of(record) in AUDITED for record in (*session.new, *session.dirty)):
        session.flush()
    pending: dict[int, tuple[SQLModel, set[str]]] = session.info.get("unattested", {})
    if incident_id is None or not pending:
        return {}
    state = {}
    for key, (record, fields) in list(pending.items()):
        if _owner(record) == incident_id:
            table = table_of(record) or ""
            state[record_key(record)] = {
                name: str(SCHEME) if name == SCHEME_FIELD else fingerprint(getattr(record, name))
                for name in (*AUDITED[table], SCHEME_FIELD) if name in fields}
            if FILES_FIELD in fields:
                message_id: int = record.id  # type: ignore[attr-defined]
                state[record_key(record)][FILES_FIELD] = fingerprint(files_digest(session, [message_id])
                                                                     .get(message_id, []))
            del pending[key]
    return state


def _owner(record: SQLModel) -> int | None:
    """The incident a record belongs to."""
    return record.id if table_of(record) == "incident" else getattr(record, "incident_id", None)  # type: ignore[attr-defined]


class Stored(NamedTuple):  # a tuple: an export builds one for every record it holds
    """A record as stored (or exported): the incident it belongs to, the fingerprints of its audited fields, and
    whether an entry must attest it (a queued message need not: only what was delivered is)."""

    incident_ref: str | None
    fingerprints: dict[str, str]
    must_be_attested: bool = True


def compare(entries: Iterable[tuple[int, str | None, Any]], records: Mapping[str, Stored],
            incident_ref: str | None = None) -> list[Discrepancy]:
    """What the entries attest, against the records (`Attestations.against`). `entries` are (sequence number,
    incident reference the hash covers, payload) in order; with `incident_ref`, only that incident's records are
    judged."""
    attestations = Attestations()
    for seq, ref, payload in entries:
        attestations.add(seq, ref, payload)
    return attestations.against(records.items(), incident_ref)


class Attestations:
    """What the entries attest, gathered in their order: for each record, the incident of the first entry attesting
    it, the latest fingerprint of each field, and which entry gave it."""

    def __init__(self) -> None:
        # record → [incident of its first attestation, latest fingerprint of each field, last entry attesting it,
        # None while a single entry attests it, else every (entry, fingerprints) attesting it in order]. Kept this
        # compact (one merged mapping per record, lists rather than objects) because `verify` holds those of a
        # million entries at once.
        self.records: dict[str, list[Any]] = {}
        self.schemes: dict[str | None, int] = {}  # incident → its attestation scheme
        self.moved: list[Discrepancy] = []
        self._judged: list[Discrepancy] = []
        self._unattested: list[Discrepancy] = []
        self._seen: set[str] = set()
        self.recorded: set[str | None] = set()  # incidents with at least one entry
        self._given = False  # whether payloads came decoded (an export's): their mappings are not this one's to merge

    def add(self, seq: int, ref: str | None, payload: Any) -> None:
        """One entry, in order: its attestations, if its payload has any."""
        self.recorded.add(ref)
        if type(payload) is bytes or type(payload) is str:
            marks = _MARKS_BYTES if type(payload) is bytes else _MARKS
            if marks[0] not in payload and marks[1] not in payload:  # type: ignore[operator]
                return
            try:
                document = orjson.loads(payload)
            except orjson.JSONDecodeError:
                document = _loads_otherwise(payload)
        else:
            document, self._given = payload, True
        states = document.get(STATE_KEY) if type(document) is dict else None
        if type(states) is not dict or not states:
            return
        records = self.records
        for key, fields in states.items():
            attested = records.get(key)
            if type(fields) is not dict or (attested is not None and attested[0] != ref):
                self.moved.append(Discrepancy(ref, key, (), seq, moved=True))
                continue
            if attested is None:
                records[key] = [ref, fields, seq, None] if fields else [ref, {}, 0, None]
            elif fields:
                if attested[3] is None:  # attested a second time: from now on, its own merged mapping
                    attested[3] = [(attested[2], attested[1])]
                    if self._given:
                        attested[1] = dict(attested[1])
                attested[1].update(fields)
                attested[3].append((seq, fields))
                attested[2] = seq
            else:
                continue
            if fields and "declared_at" in fields and key.startswith("incident:"):  # its creation: every field
                self.schemes[ref] = _scheme_of(fields.get(SCHEME_FIELD))

    def agrees(self, key: str, incident_ref: str | None, names: tuple[str, ...], fingerprints: list[str]) -> bool:
        """Whether a record is attested, under its incident, with exactly these fingerprints of these fields as
        the latest: the common case, checked without building anything (`judge` says what differs otherwise)."""
        attested = self.records.get(key)
        if attested is None or attested[0] != incident_ref or list(map(attested[1].get, names)) != fingerprints:
            return False
        self._seen.add(key)
        return True

    def judge(self, key: str, record: Stored) -> None:
        """One record against what the entries attest of it."""
        attested = self.records.get(key)
        if attested is None or not attested[1]:
            scheme = self.schemes.get(record.incident_ref)
            if key.startswith("incident:") and record.incident_ref not in self.recorded:
                # An incident of any scheme has its declaration on the timeline: one with no entry at all was
                # inserted beside the door.
                self._unattested.append(Discrepancy(record.incident_ref, key, (), 0, unattested=True))
            elif record.must_be_attested and scheme is not None \
                    and key.partition(":")[0] in SCHEME_TABLES.get(scheme, SCHEME_TABLES[SCHEME]):
                self._unattested.append(Discrepancy(record.incident_ref, key, (), 0, unattested=True))
            return
        owner, latest, last, history = attested
        self._seen.add(key)
        if record.incident_ref != owner:
            self._judged.append(Discrepancy(owner, key, (), last, elsewhere=True, now_under=None
                                            if record.incident_ref is None else str(record.incident_ref)))
            return
        if record.fingerprints.items() <= latest.items():  # every field attested as stored
            return
        changed = tuple(name for name, value in record.fingerprints.items()
                        if name in latest and str(latest[name]) != value)
        if changed:  # named by the latest entry that attested one of them
            self._judged.append(Discrepancy(owner, key, changed, last if history is None else next(
                seq for seq, fields in reversed(history) if not fields.keys().isdisjoint(changed))))

    def found(self, incident_ref: str | None = None) -> list[Discrepancy]:
        """Once every record is judged: every record whose fields differ from the latest attestation of each, every
        attested record gone or now under another incident, every attestation made by an entry of another incident
        than the record's first one, and every record that no entry attests although its incident's scheme says one
        must; in the order of the entries that attest them. With `incident_ref`, only that incident's."""
        judged = self._judged + [Discrepancy(attested[0], key, (), attested[2])
                                 for key, attested in self.records.items()
                                 if attested[1] and key not in self._seen]
        if judged:
            order = {key: number for number, key in enumerate(self.records)}
            judged.sort(key=lambda item: order[item.record])
        found = [*self.moved, *judged, *self._unattested]
        if incident_ref is not None:
            found = [item for item in found if item.incident_ref == incident_ref]
        return sorted(found, key=lambda item: item.attested_by)

    def against(self, records: Iterable[tuple[str, Stored]], incident_ref: str | None = None) -> list[Discrepancy]:
        """`found`, once each of these records is judged."""
        for key, record in records:
            self.judge(key, record)
        return self.found(incident_ref)


# An entry's payload holds attestations only if its text names the key: as the store's serializer writes it, or
# spelt otherwise with the same JSON (a space before the colon, a letter escaped: `"st\u0061te"`), which the chain's
# hash accepts as well since it covers the decoded payload. Such a text is read, never passed over.
_STATE_MARK = f'"{STATE_KEY}"'
_MARKS = (_STATE_MARK, "\\")
_MARKS_BYTES = (_STATE_MARK.encode(), b"\\")


def _scheme_of(value: Any) -> int:
    """The scheme an incident's creation attests; 1 when none (older stores). Any other value (a forged one: "²",
    thousands of digits) stands for the latest scheme, which judges the most tables, rather than a traceback."""
    if value is None:
        return 1
    text = str(value)
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 6 and int(text) in SCHEME_TABLES \
        else SCHEME


def _loads_otherwise(text: str | bytes) -> Any:
    """JSON text that orjson refuses (`verify` reads every entry's payload with orjson, twice as fast as the
    standard library), read by the standard library if it accepts it (NaN, a lone surrogate); None if not JSON, or
    nested past what it reads: no attestation (the chain's check names such an entry itself)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


@cache
def instants(table: str) -> frozenset[str]:
    """The audited fields of a table that hold instants: an export carries them as ISO text, fingerprinted in the
    chain's form all the same."""
    model = _models()[table]
    columns = model.__table__.c  # type: ignore[attr-defined]
    return frozenset(name for name in AUDITED[table] if isinstance(columns[name].type, UTCDateTime | DateTime))


def raw_fingerprint(table: str, name: str, value: Any) -> str:
    """A field's fingerprint from the value the database driver gives (SQLite: instants and JSON as text, booleans
    as integers), equal to the fingerprint of the value the model reads: for tools that read by the driver."""
    return _raw_fingerprinter(table, name)(value)


UNREADABLE = "illisible"  # the fingerprint of a stored value that cannot be read: never an attested one


@cache
def _raw_fingerprinter(table: str, name: str) -> Callable[[Any], str]:
    """`_raw_converter`, where a value written beside the door that its column's type cannot read (an instant that
    is no date, JSON cut short) is named as differing rather than stopping `verify` with a traceback."""
    convert = _raw_converter(table, name)

    def fingerprinted(value: Any) -> str:
        try:
            return convert(value)
        except (ValueError, TypeError, AttributeError, RecursionError):  # an instant stored as a number
            return UNREADABLE

    return fingerprinted


def _raw_converter(table: str, name: str) -> Callable[[Any], str]:
    column = _models()[table].__table__.c[name]  # type: ignore[attr-defined]
    if isinstance(column.type, UTCDateTime | DateTime):
        return lambda value: fingerprint(None if value is None else utc_text(value))
    if isinstance(column.type, JSON):
        return lambda value: fingerprint(json.loads(value) if isinstance(value, str) else value)
    if isinstance(column.type, Boolean):
        return lambda value: fingerprint(None if value is None else bool(value))
    return fingerprint


def exported_fingerprints(table: str, line: Mapping[str, Any]) -> dict[str, str]:
    """The fingerprints of a record as an export line carries it."""
    times = instants(table)
    return {name: fingerprint(utc_text(line[name]) if name in times and isinstance(line.get(name), str)
                              else line.get(name)) for name in AUDITED[table]}


@cache
def _models() -> dict[str, type[SQLModel]]:
    """The audited tables' models, imported once asked for (their modules import the journal, which imports
    this one)."""
    from models.attachments import Attachment
    from models.breach import Assessment, CnilFiling, Decision, SubjectsNotice
    from models.incident import Incident
    from models.obligation import Obligation
    from models.outbox import OutboxMessage
    from models.report import IncidentReport

    models: tuple[type[SQLModel], ...] = (Incident, Obligation, Assessment, Decision, CnilFiling, SubjectsNotice,
                                          IncidentReport, Attachment, OutboxMessage)
    return {str(model.__tablename__): model for model in models}


@dataclass(frozen=True)
class Share:
    """Half of a split check, by incident reference: the incidents from `pivot` on (`later`), or all the others and
    whatever belongs to no incident (not `later`). Two processes share the records' check of a large store so
    (models/verification.py); the two shares are each other's exact complement."""

    pivot: str
    later: bool

    def of_refs(self, column: Any) -> Any:
        """The SQL condition on a column of incident references."""
        from_pivot = column >= bindparam("pivot", self.pivot)
        return from_pivot if self.later else ~from_pivot | column.is_(None)

    def of_owners(self, column: Any) -> Any:
        """The SQL condition on a column of incident numbers."""
        later = column.in_(select_columns(literal_column("id")).select_from(table_clause("incident")).where(
            literal_column("ref") >= bindparam("pivot", self.pivot)).scalar_subquery())
        return later if self.later else ~later | column.is_(None)


def discrepancies(session: Session, incident_id: int | None = None, attestations: Attestations | None = None,
                  among: Share | None = None, misfiled: list[tuple[int, str | None]] | None = None
                  ) -> list[Discrepancy]:
    """Every audited record (of one incident, of the incidents `among`, or all) against the entries that attest.
    `attestations`: those gathered already while the chain was checked (`verify_chain`'s `on_entry`), rather than
    reading the entries again; they are judged in the process, once. `misfiled`, if given, receives the entries read
    that are shown under another incident than the one their hash names (as `misfiled_entries` finds them), read in
    the same pass."""
    refs = _incident_refs(session)
    incident_ref = refs.get(incident_id) if incident_id is not None else None
    if attestations is None:
        attestations = Attestations()
        for seq, ref, shown_under, payload in _attesting_entries(session, incident_id is not None, incident_ref,
                                                                 among):
            attestations.add(seq, ref, payload)
            if misfiled is not None and \
                    ((ref is not None) if shown_under is None else (ref is None or refs.get(shown_under) != ref)):
                misfiled.append((seq, ref))
    for key, ref, names, fingerprints, must in _stored_fingerprints(session, refs, incident_id, among):
        if not attestations.agrees(key, ref, names, fingerprints):
            attestations.judge(key, Stored(ref, dict(zip(names, fingerprints, strict=True)), must))
    return [_where_it_went(session, found) for found in attestations.found(incident_ref)]


def _where_it_went(session: Session, found: Discrepancy) -> Discrepancy:
    """A record said gone because the records read (one incident's, or one share's) did not hold it: still stored,
    under another incident or none, it is named so."""
    table, _, number = found.record.partition(":")
    if found.fields or found.unattested or found.moved or found.elsewhere or table not in AUDITED \
            or not (number.isascii() and number.isdecimal()) or len(number) > 18:
        return found
    owner = "ref" if table == "incident" else "incident_id"
    still = session.execute(select_columns(literal_column(owner)).select_from(table_clause(table)).where(
        literal_column("id") == bindparam("number", int(number)))).first()
    if still is None:
        return found
    now_under = still[0] if table == "incident" else None if still[0] is None else session.execute(
        text_clause("SELECT ref FROM incident WHERE id = :owner"), {"owner": still[0]}).scalar()
    return replace(found, elsewhere=True, now_under=None if now_under is None else str(now_under))


def _attesting_entries(session: Session, of_one_incident: bool, incident_ref: str | None,
                       among: Share | None = None) -> Any:
    """(sequence number, incident reference the hash covers, incident shown under, payload) of the entries that may
    attest records, in order, as the database driver gives them."""
    columns = TimelineEntry.__table__.c  # type: ignore[attr-defined]
    if is_sqlite(session) and session.execute(text_clause("PRAGMA encoding")).scalar() == "UTF-8":
        # Every entry (each tells its incident was recorded), its payload as the UTF-8 bytes stored: no decoding of
        # a million texts; `Attestations.add` skips the payloads with no attestation, orjson reads bytes. (A store
        # kept in UTF-16 gives its texts' bytes in UTF-16: read as text, below.)
        query = select_columns(columns.seq, columns.incident_ref, columns.incident_id,
                                cast(columns.payload, LargeBinary))
    else:  # PostgreSQL (or SQLite in UTF-16): every entry too (each tells its incident was recorded), as text
        query = select_columns(columns.seq, columns.incident_ref, columns.incident_id, cast(columns.payload, Text))
    if of_one_incident:
        # By the reference the hash covers, not the display id (which an edit beside the door may point elsewhere):
        # an entry of this incident shown under another still attests this incident's records.
        query = query.where(columns.incident_ref == incident_ref)
    if among is not None:
        query = query.where(among.of_refs(columns.incident_ref))
    return driver_rows(session, query.order_by(columns.seq))


def _incident_refs(session: Session) -> dict[int, str]:
    incidents = _models()["incident"].__table__.c  # type: ignore[attr-defined]
    return {row[0]: row[1] for row in session.execute(select_columns(incidents.id, incidents.ref))}


MEMO_LIMIT = 200_000  # fingerprints remembered per column (a value met again is not hashed again), at most


def _stored_fingerprints(session: Session, refs: Mapping[int, str], incident_id: int | None,
                         among: Share | None = None
                         ) -> Iterator[tuple[str, str | None, tuple[str, ...], list[str], bool]]:
    """Every audited record (of one incident, or all): its key, its incident, its audited fields (the derived ones
    last) and their fingerprints, and whether an entry must attest it. Read as the database driver gives the
    columns (no model objects: `verify` reads every record of the store). Most values recur (nothing, a state, a
    party, the same instant): each column remembers the fingerprints of the texts it has met."""
    for table in _models():
        owner = "id" if table == "incident" else "incident_id"
        columns = AUDITED[table]
        names = (*columns, *DERIVED.get(table, ()))
        query: Any = select_columns(*(literal_column(name) for name in ("id", owner, *columns))).select_from(
            table_clause(table))
        if incident_id is not None:
            query = query.where(literal_column(owner) == bindparam("owner", incident_id))
        if among is not None:
            query = query.where(among.of_refs(literal_column("ref")) if table == "incident"
                                else among.of_owners(literal_column(owner)))
        fingerprinters = [_raw_fingerprinter(table, name) for name in columns]
        memos: list[dict[Any, str]] = [{} for _ in columns]
        files = files_digest(session, None, incident_id) if table in DERIVED else None
        prefix = f"{table}:"
        for row in driver_rows(session, query):
            values = row[2:]
            try:
                found: list[Any] = list(map(dict.get, memos, values))
            except TypeError:  # a value the driver gives as a list or a mapping (PostgreSQL's JSON)
                found = [None] * len(columns)
            if None in found:  # values met for the first time: fingerprinted, and remembered
                for number, value in enumerate(values):
                    if found[number] is None:
                        found[number] = computed = fingerprinters[number](value)
                        memo = memos[number]
                        if (value is None or type(value) is str) and len(memo) < MEMO_LIMIT:
                            memo[value] = computed
            if files is not None:
                found.append(fingerprint(files.get(row[0], [])))
            must = table != "outbox_message" or values[-1] == "sent"  # only what left must be attested
            yield prefix + str(row[0]), refs.get(row[1]) if row[1] is not None else None, names, found, must


def files_digest(session: Session | OrmSession, message_ids: list[int] | None,
                 incident_id: int | None = None) -> dict[int, list[list[str]]]:
    """The files of messages (these, or an incident's, or all): message → [[name, media type, SHA-256], ...], in
    the order they are sent."""
    query = "SELECT a.message_id, a.filename, a.media_type, a.content FROM outbox_attachment a"
    parameters: dict[str, Any] = {}
    if message_ids is not None:
        query += " WHERE a.message_id IN :ids"
        parameters["ids"] = list(message_ids)
    elif incident_id is not None:
        query += " JOIN outbox_message m ON m.id = a.message_id WHERE m.incident_id = :incident"
        parameters["incident"] = incident_id
    statement = text_clause(query + " ORDER BY a.message_id, a.position, a.id")
    if message_ids is not None:
        statement = statement.bindparams(bindparam("ids", expanding=True))
    found: dict[int, list[list[str]]] = {}
    for message_id, filename, media_type, content in session.execute(statement, parameters):
        found.setdefault(message_id, []).append([filename, media_type, _content_digest(content)])
    return found


def _content_digest(content: Any) -> str:
    """The SHA-256 of a file's bytes; of its text's UTF-8 bytes if stored as text beside the door, and of nothing a
    file holds if stored as anything else (a number): named as differing, not a crash of the check."""
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    return hashlib.sha256(content).hexdigest() if isinstance(content, bytes | memoryview) else UNREADABLE


def misfiled_entries(session: Session, incident_id: int | None = None) -> list[tuple[int, str | None]]:
    """Entries shown under an incident other than the one their hash names (the chain covers the reference, the
    display follows the id): (sequence number, reference the hash covers)."""
    entries = TimelineEntry.__table__.c  # type: ignore[attr-defined]
    incident_table = _models()["incident"].__table__  # type: ignore[attr-defined]
    incidents = incident_table.c
    query = select_columns(entries.seq, entries.incident_ref).select_from(
        TimelineEntry.__table__.outerjoin(incident_table, incidents.id == entries.incident_id)  # type: ignore[attr-defined]
    ).where((entries.incident_id.is_(None) != entries.incident_ref.is_(None))
            | (incidents.ref.is_distinct_from(entries.incident_ref) & entries.incident_id.is_not(None))
            ).order_by(entries.seq)
    if incident_id is not None:  # shown under it, or naming it in its hash while shown elsewhere
        ref = session.execute(select_columns(incidents.ref).where(incidents.id == incident_id)).scalar()
        query = query.where((entries.incident_id == incident_id) | (entries.incident_ref == ref))
    return [(seq, ref) for seq, ref in session.execute(query)]
