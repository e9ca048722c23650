"""The gated reads behind an incident's view (`list`, `show`, `declare`, and the portal's JSON API), through the
database driver (models.driver): incidents a person may read, their obligations, messages and breach, and the earlier
declarations one likely repeats. Rows come back as plain frozen objects whose fields are the columns of the same
names (tests/test_plain_reads_match_the_orm_and_keep_the_gate.py holds them to the ORM's); what the columns mean is
models.facts, as for the ORM."""

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from models.driver import PlainStore
from models.facts import IncidentFacts, ObligationClock
from models.gate import looked_up, not_found, readable_commune
from policy.duplicates import WINDOW_HOURS, Declared, likely_duplicates

if TYPE_CHECKING:
    from settings.parties import Person


@dataclass(frozen=True)
class IncidentRow(IncidentFacts):
    """An incident as declared and as it stands (the columns of models.incident.Incident that a reader is shown)."""

    INSTANTS: ClassVar[frozenset[str]] = frozenset({"aware_at", "occurred_at", "declared_at", "closed_at",
                                                    "dismissed_at", "acknowledged_at"})
    JSON: ClassVar[frozenset[str]] = frozenset({"categories", "schools", "data_subjects"})

    id: int
    ref: str
    status: str
    title: str
    description: str
    declared_by: str
    municipality_insee: str
    reporter_name: str
    reporter_email: str
    aware_at: datetime
    occurred_at: datetime | None
    declared_at: datetime
    categories: list[str]
    personal_data: str
    schools: list[str]
    data_subjects: dict[str, Any]
    records: int | None
    proposed_scope: str | None
    confirmed_scope: str | None
    scope_reason: str | None
    closed_at: datetime | None
    dismissed_at: datetime | None
    dismissal_reason: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True)
class ObligationRow(ObligationClock):
    """An obligation's clock (the columns of models.obligation.Obligation)."""

    INSTANTS: ClassVar[frozenset[str]] = frozenset({"anchor_at", "due_at", "met_at", "next_action_at", "waived_at"})
    JSON: ClassVar[frozenset[str]] = frozenset()

    id: int
    incident_id: int
    kind: str
    owner: str
    anchor_at: datetime
    due_at: datetime
    met_at: datetime | None
    late_by_seconds: int | None
    next_action_at: datetime | None
    waived_at: datetime | None


@dataclass(frozen=True)
class MessageRow:
    """A message of the outbox and where its delivery stands (the columns of models.outbox.OutboxMessage)."""

    INSTANTS: ClassVar[frozenset[str]] = frozenset({"next_attempt_at", "sent_at", "escalated_at"})
    JSON: ClassVar[frozenset[str]] = frozenset()

    id: int
    obligation_id: int | None
    template: str
    step: str
    recipient_email: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    escalated_at: datetime | None


@dataclass(frozen=True)
class BreachRow:
    """Where an incident's breach stands: its latest assessment's level, and the DPD's decision, if any."""

    level: str | None  # None: never assessed
    notify_cnil: bool | None  # None: not decided
    subjects: str | None


Row = TypeVar("Row", IncidentRow, ObligationRow, MessageRow)


def _columns(kind: type[Any], table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + field.name for field in fields(kind))


def _rows(store: PlainStore, kind: type[Row], sql: str, *params: Any) -> list[Row]:
    names = [field.name for field in fields(kind)]
    made = []
    for row in store.rows(sql, *params):
        values = dict(zip(names, row, strict=True))
        for name in kind.INSTANTS:
            values[name] = store.instant(values[name])
        for name in kind.JSON:
            values[name] = store.json(values[name])
        made.append(kind(**values))
    return made


def _gate(reader: "Person | None", column: str) -> tuple[str, tuple[Any, ...]]:
    """The condition the reading rule (models.gate) puts on incidents, in SQL: none for whoever reads every commune
    (or for the engine, `reader` None); else the reader's commune."""
    commune = readable_commune(reader) if reader is not None else None
    return ("", ()) if commune is None else (f" AND {column} = ?", (commune,))


def readable_incident_rows(store: PlainStore, reader: "Person") -> list[IncidentRow]:
    """Every incident `reader` may see, oldest first."""
    gated, params = _gate(reader, "municipality_insee")
    return _rows(store, IncidentRow, f"SELECT {_columns(IncidentRow)} FROM incident WHERE 1 = 1{gated} ORDER BY id",
                 *params)


def readable_incident_row(store: PlainStore, ref: str, reader: "Person") -> IncidentRow:
    """One incident, if `reader` may see it; another commune's is answered exactly as a missing one."""
    wanted = looked_up(ref)
    gated, params = _gate(reader, "municipality_insee")
    found = [] if wanted is None else _rows(
        store, IncidentRow, f"SELECT {_columns(IncidentRow)} FROM incident WHERE ref = ?{gated}", wanted, *params)
    if not found:
        raise not_found(ref)
    return found[0]


def obligations_of(store: PlainStore, incident_id: int) -> list[ObligationRow]:
    """One incident's obligations, in the order they were created."""
    return _rows(store, ObligationRow, f"SELECT {_columns(ObligationRow)} FROM obligation WHERE incident_id = ? "
                                       "ORDER BY id", incident_id)


def readable_obligations(store: PlainStore, reader: "Person") -> dict[int, list[ObligationRow]]:
    """The obligations of every incident `reader` may see, by incident, in the order they were created: one query
    for a whole list."""
    gated, params = _gate(reader, "incident.municipality_insee")
    found: dict[int, list[ObligationRow]] = {}
    for obligation in _rows(store, ObligationRow,
                            f"SELECT {_columns(ObligationRow, 'obligation')} FROM obligation JOIN incident ON "
                            f"incident.id = obligation.incident_id WHERE 1 = 1{gated} ORDER BY obligation.id",
                            *params):
        found.setdefault(obligation.incident_id, []).append(obligation)
    return found


def messages_of(store: PlainStore, incident_id: int) -> list[MessageRow]:
    """One incident's messages, in the order they were queued."""
    return _rows(store, MessageRow, f"SELECT {_columns(MessageRow)} FROM outbox_message WHERE incident_id = ? "
                                    "ORDER BY id", incident_id)


def breach_of(store: PlainStore, incident_id: int) -> BreachRow:
    """The latest assessment's level and the decision (models.breach_reads reads the same through the ORM)."""
    assessed = store.rows("SELECT level FROM breach_assessment WHERE incident_id = ? ORDER BY id DESC LIMIT 1",
                          incident_id)
    decided = store.rows("SELECT notify_cnil, subjects FROM breach_decision WHERE incident_id = ? ORDER BY id "
                         "LIMIT 1", incident_id)
    notify, subjects = decided[0] if decided else (None, None)
    return BreachRow(level=assessed[0][0] if assessed else None,
                     notify_cnil=bool(notify) if notify is not None else None, subjects=subjects)


class Candidate(Protocol):
    """An incident to compare with those declared before it: an ORM incident or a plain row."""

    @property
    def id(self) -> int | None: ...
    @property
    def ref(self) -> str: ...
    @property
    def municipality_insee(self) -> str: ...
    @property
    def aware_at(self) -> datetime: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...


def likely_duplicates_among(store: PlainStore, incident: Candidate, reader: "Person | None",
                            limit: int | None = None) -> list[str]:
    """The incidents declared before `incident`, that `reader` may see (all, for `reader` None: the engine writing to
    the incident's own parties), which it likely repeats (RG-DUP-01); the first `limit` only, when given."""
    window = timedelta(hours=WINDOW_HOURS)
    gated, params = _gate(reader, "municipality_insee")
    nearby = store.rows("SELECT ref, municipality_insee, aware_at, title, status FROM incident WHERE "
                        f"municipality_insee = ? AND id < ? AND aware_at >= ? AND aware_at <= ?{gated} ORDER BY id",
                        incident.municipality_insee, incident.id, store.bound(incident.aware_at - window),
                        store.bound(incident.aware_at + window), *params)
    candidate = Declared(ref=incident.ref, insee=incident.municipality_insee, aware_at=incident.aware_at,
                         title=incident.title, status=incident.status)
    return likely_duplicates(candidate, (Declared(ref, insee, store.instant(aware_at), title, status)
                                         for ref, insee, aware_at, title, status in nearby), limit)
