"""Big throwaway stores for the benchmarks, built fast: a few template incidents go through the door (the real
commands, the real engine pass, their mail written as .eml files), then each is cloned by plain SQL as many times as
the benchmark needs.

A clone is a copy of its template's rows (incident, obligations, breach records, reports, outbox messages and their
files, timeline entries) under a new reference: every text that names the template's reference names the clone's,
outbox idempotency keys and Message-IDs are recomputed with the project's function (notifications.transport), and
the clone's timeline entries are appended to the chain with hashes computed by the project's own function
(models.timeline.digest), so that `incidents verify` accepts the whole store. Clones share their template's instants:
many incidents declared at the same minute, as in a vendor-wide compromise. This writes beside the door on purpose,
into a throwaway benchmark store only: going through the door would take hours at these sizes.
"""

import json
import os
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pendulum

from models.attestation import STATE_KEY, raw_fingerprint
from models.commands import Declare
from models.db import session_scope
from models.declaration import parse_declaration
from models.door import execute
from models.store_mode import mark_as_simulation
from models.timeline import TimelineEntry, canonical_fields, digest
from models.types import canonical_json
from notifications.transport import message_id_for
from settings.parties import Parties, load_parties

COMMUNES = ("54999", "57999", "88999")
REFERENTS = {"54999": "referent-ent@villers-les-exemple.example.org",  # who declares for each commune
             "57999": "numerique@montigny-sur-exemple.example.org",
             "88999": "mairie@saint-exemple.example.org"}
# Tables that hang off an incident, in an order that respects their foreign keys; each with the columns that point
# to another cloned row (column -> table).
CHILD_TABLES: tuple[tuple[str, dict[str, str]], ...] = (
    ("obligation", {}),
    ("breach_assessment", {}),
    ("breach_decision", {"assessment_id": "breach_assessment"}),
    ("cnil_filing", {}),
    ("subjects_notice", {}),
    ("incident_report", {}),
    ("outbox_message", {"obligation_id": "obligation"}),
)


def use_store(folder: Path) -> Path:
    """Point the project at a fresh SQLite store and var/ folder under `folder`, marked as a simulation (the passes
    replay chosen instants); no SMTP relay: mail is written as .eml files under var/mail. Returns the database path."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "incidents.db"
    os.environ["INCIDENTS_VAR_DIR"] = str(folder / "var")
    os.environ["INCIDENTS_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.pop("INCIDENTS_SMTP_HOST", None)
    os.environ.pop("INCIDENTS_CONFIG", None)
    with session_scope() as session:
        mark_as_simulation(session)
    return database


def point_at(database: Path) -> None:
    """Use an existing store (a copy made by `copy_store`), its var/ folder beside it."""
    os.environ["INCIDENTS_VAR_DIR"] = str(database.parent / "var")
    os.environ["INCIDENTS_DATABASE_URL"] = f"sqlite:///{database}"


def copy_store(source: Path, target_folder: Path) -> Path:
    """A copy of a store (checkpointed first, so that the copy holds everything), in a folder of its own."""
    with sqlite3.connect(source) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target_folder.mkdir(parents=True, exist_ok=True)
    target = target_folder / "incidents.db"
    shutil.copyfile(source, target)
    return target


def declare(count: int, at: pendulum.DateTime, *, personal_data: str = "no", categories: Sequence[str] = ("vendor",),
            parties: Parties | None = None) -> None:
    """`count` declarations through the door, as of `at`, by the communes' referents in turn."""
    parties = parties or load_parties()
    for index in range(count):
        commune = COMMUNES[index % len(COMMUNES)]
        referent = parties.person(REFERENTS[commune])
        assert referent is not None
        raw = {"title": f"Accès illégitime signalé par le prestataire ({index})",
               "description": "Le prestataire de l'ENT signale un accès illégitime à sa base.",
               "declared_by": "municipality", "municipality": commune,
               "reporter": {"name": "Référent ENT", "email": "referent@example.org"},
               "aware_at": at.subtract(hours=2).isoformat(), "categories": list(categories),
               "personal_data": personal_data}
        declaration = parse_declaration(raw, parties, at)
        with session_scope() as session:
            execute(session, Declare(declaration), referent, at, parties)


def incident_ids() -> list[int]:
    with sqlite3.connect(_database()) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM incident ORDER BY id")]


def _database() -> Path:
    return Path(os.environ["INCIDENTS_DATABASE_URL"].removeprefix("sqlite:///"))


def clone_incidents(template_ids: Sequence[int], copies: int, *, with_outbox: bool = True) -> int:
    """Append `copies` clones of each template incident (see the module's docstring); returns how many were added.
    Without the outbox, the clones carry no mail rows (their timeline still tells of the mails delivered)."""
    templates = _template_entries(template_ids)
    connection = sqlite3.connect(_database())
    try:
        with connection:
            return _Cloner(connection, template_ids, templates, with_outbox).run(copies)
    finally:
        connection.close()


def _template_entries(template_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each template's timeline entries in the exact form the hash covers, read through the project's model."""
    from sqlmodel import col, select

    entries: dict[int, list[dict[str, Any]]] = {incident_id: [] for incident_id in template_ids}
    with session_scope() as session:
        query = select(TimelineEntry).where(col(TimelineEntry.incident_id).in_(template_ids)) \
            .order_by(col(TimelineEntry.seq))
        for entry in session.exec(query):
            assert entry.incident_id is not None
            entries[entry.incident_id].append(canonical_fields(entry))
    return entries


class _Cloner:
    def __init__(self, connection: sqlite3.Connection, template_ids: Sequence[int],
                 entries: dict[int, list[dict[str, Any]]], with_outbox: bool) -> None:
        self.connection, self.template_ids, self.entries = connection, list(template_ids), entries
        self.rows = {table: self._rows(table, "incident_id") if with_outbox or table != "outbox_message" else []
                     for table, _ in CHILD_TABLES}
        self.rows["incident"] = self._rows("incident", "id")
        message_ids = [row["id"] for row in self.rows["outbox_message"]]
        marks = ",".join("?" * len(message_ids))
        self.files = [dict(row) for row in connection.execute(
            f"SELECT * FROM outbox_attachment WHERE message_id IN ({marks})", message_ids)]
        attached = connection.execute(f"SELECT count(*) FROM attachment WHERE incident_id IN "
                                      f"({','.join('?' * len(self.template_ids))})", self.template_ids).fetchone()[0]
        assert attached == 0, "templates with attached files (stored under var/) are not cloned"
        self.next_id = {table: self._max_id(table) + 1 for table, _ in CHILD_TABLES}
        self.next_id.update(incident=self._max_id("incident") + 1, outbox_attachment=self._max_id("outbox_attachment")
                            + 1, timeline_entry=self._max_id("timeline_entry") + 1)
        self.seq, self.head = connection.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
        self.numbers: dict[str, int] = {}

    def _rows(self, table: str, key: str) -> list[dict[str, Any]]:
        self.connection.row_factory = sqlite3.Row
        marks = ",".join("?" * len(self.template_ids))
        rows = [dict(row) for row in self.connection.execute(
            f"SELECT * FROM {table} WHERE {key} IN ({marks}) ORDER BY id", self.template_ids)]
        self.connection.row_factory = None
        return rows

    def _max_id(self, table: str) -> int:
        return int(self.connection.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])

    def _new_ref(self, template_ref: str) -> str:
        prefix = template_ref.rsplit("-", 1)[0] + "-"
        if prefix not in self.numbers:
            refs = self.connection.execute("SELECT ref FROM incident WHERE ref LIKE ?", (prefix + "%",))
            self.numbers[prefix] = max(int(ref.removeprefix(prefix)) for (ref,) in refs)
        self.numbers[prefix] += 1
        return f"{prefix}{self.numbers[prefix]:04d}"

    def _take_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def run(self, copies: int) -> int:
        batches: dict[str, list[dict[str, Any]]] = {}
        timeline: list[tuple[Any, ...]] = []
        added = 0
        for _ in range(copies):
            for incident in self.rows["incident"]:
                self._clone_one(incident, batches, timeline)
                added += 1
            if len(timeline) > 50_000:
                self._flush(batches, timeline)
        self._flush(batches, timeline)
        self.connection.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (self.seq, self.head))
        return added

    def _clone_one(self, incident: dict[str, Any], batches: dict[str, list[dict[str, Any]]],
                   timeline: list[tuple[Any, ...]]) -> None:
        old_ref, old_id = incident["ref"], incident["id"]
        new_ref, new_id = self._new_ref(old_ref), self._take_id("incident")

        def retext(row: dict[str, Any]) -> dict[str, Any]:
            return {column: value.replace(old_ref, new_ref) if isinstance(value, str) else value
                    for column, value in row.items()}

        clones: dict[str, dict[int, tuple[dict[str, Any], dict[str, Any]]]] = {}  # table → id → (template, clone)
        clones["incident"] = {old_id: (incident, {**retext(incident), "id": new_id, "ref": new_ref})}
        batches.setdefault("incident", []).append(clones["incident"][old_id][1])
        ids: dict[str, dict[int, int]] = {}
        message_ids: dict[str, str] = {}  # the template's Message-IDs, as the timeline quotes them, and the clone's
        for table, links in CHILD_TABLES:
            mapping = ids.setdefault(table, {})
            for row in self.rows[table]:
                if row["incident_id"] != old_id:
                    continue
                copy = {**retext(row), "id": self._take_id(table), "incident_id": new_id}
                mapping[row["id"]] = copy["id"]
                for column, target in links.items():
                    if copy[column] is not None:
                        copy[column] = ids[target][copy[column]]
                if table == "outbox_message":
                    key = row["idempotency_key"].replace(old_ref + "/", new_ref + "/", 1)
                    if row["obligation_id"] is not None:
                        key = key.replace(f"#{row['obligation_id']}/", f"#{copy['obligation_id']}/", 1)
                    copy["idempotency_key"] = key
                    if row["message_id"]:
                        domain = row["message_id"].rstrip(">").split("@", 1)[1]
                        copy["message_id"] = message_id_for(key, domain)
                        message_ids[row["message_id"]] = copy["message_id"]
                batches.setdefault(table, []).append(copy)
                clones.setdefault(table, {})[row["id"]] = (row, copy)
        for file in self.files:
            if file["message_id"] in ids["outbox_message"]:
                batches.setdefault("outbox_attachment", []).append(
                    {**file, "id": self._take_id("outbox_attachment"),
                     "message_id": ids["outbox_message"][file["message_id"]]})
        for fields in self.entries[old_id]:
            self.seq += 1
            text = json.dumps(fields["payload"], ensure_ascii=False).replace(old_ref, new_ref)
            for old, new in message_ids.items():
                text = text.replace(old, new)
            payload = json.loads(text)
            if isinstance(payload.get(STATE_KEY), dict):
                payload[STATE_KEY] = _restated(payload[STATE_KEY], clones)
            entry = {**fields, "seq": self.seq, "incident_ref": new_ref, "payload": payload, "prev_hash": self.head}
            self.head = digest(entry)
            timeline.append((self._take_id("timeline_entry"), self.seq, new_id, new_ref, _stored(fields["occurred_at"]),
                             _stored(fields["recorded_at"]), fields["actor"], fields["party"], fields["kind"],
                             canonical_json(payload), entry["prev_hash"], self.head))  # as the store writes it

    def _flush(self, batches: dict[str, list[dict[str, Any]]], timeline: list[tuple[Any, ...]]) -> None:
        for table in ("incident", *(t for t, _ in CHILD_TABLES), "outbox_attachment"):
            rows = batches.pop(table, [])
            if rows:
                columns = list(rows[0])
                self.connection.executemany(
                    f"INSERT INTO {table} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})",
                    [tuple(row[c] for c in columns) for row in rows])
        self.connection.executemany("INSERT INTO timeline_entry (id, seq, incident_id, incident_ref, occurred_at, "
                                    "recorded_at, actor, party, kind, payload, prev_hash, hash) VALUES "
                                    "(?,?,?,?,?,?,?,?,?,?,?,?)", timeline)
        timeline.clear()


def _restated(state: dict[str, dict[str, str]], clones: dict[str, dict[int, tuple[dict[str, Any], dict[str, Any]]]]
              ) -> dict[str, dict[str, str]]:
    """An entry's attestations, as the clone's entry would have made them: its records' ids, and every fingerprint
    of a value the template had that cloning changed (a reference in a text, an id) recomputed on the clone's value.
    Records not cloned (the outbox, when left out) are left out of the attestation too."""
    restated = {}
    for key, fields in state.items():
        table, _, old_id = key.partition(":")
        if int(old_id) not in clones.get(table, {}):
            continue
        template, clone = clones[table][int(old_id)]
        restated[f"{table}:{clone['id']}"] = {
            name: raw_fingerprint(table, name, clone[name])
            if name in template and value == raw_fingerprint(table, name, template[name]) else value
            for name, value in fields.items()}
    return restated


def _stored(canonical: str) -> str:
    """The canonical `2026-11-20T09:00:00.000000Z` as the store keeps it (naive UTC text)."""
    return canonical.removesuffix("Z").replace("T", " ")
