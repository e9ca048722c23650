"""Archival export of the whole store as JSON lines, with the chain head, and its offline verification.

Each line carries `line_hash`, chained over the previous line's, so that any altered line is named; timeline lines
also carry their own chain fields, so the timeline's integrity is re-proved without the store.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pendulum
from sqlmodel import Session, SQLModel, col, select

from models.attachments import Attachment
from models.attestation import AUDITED, Stored, compare, exported_fingerprints
from models.breach import Assessment, CnilFiling, Decision, SubjectsNotice
from models.incident import Incident
from models.obligation import Obligation
from models.outbox import OutboxMessage
from models.report import IncidentReport
from models.timeline import GENESIS_HASH, ChainHead, TimelineEntry, canonical_fields, canonical_json, digest
from proof.checkpoint import Checkpoint
from proof.merkle import Frontier, leaf_hash
from rendering.formats import grouped

FORMAT_VERSION = 1
TABLES: tuple[tuple[str, type[SQLModel]], ...] = (
    ("incident", Incident), ("obligation", Obligation), ("outbox_message", OutboxMessage),
    ("incident_report", IncidentReport), ("breach_assessment", Assessment), ("breach_decision", Decision),
    ("cnil_filing", CnilFiling), ("subjects_notice", SubjectsNotice), ("attachment", Attachment),
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return pendulum.instance(value).in_timezone("UTC").isoformat()
    return value


def _line_hash(previous: str, record: dict[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()


def export_lines(session: Session, now: pendulum.DateTime) -> Iterator[str]:
    records: list[dict[str, Any]] = [{"type": "export", "format_version": FORMAT_VERSION,
                                      "generated_at": now.in_timezone("UTC").isoformat()}]
    for name, model in TABLES:
        for row in session.exec(select(model).order_by(col(model.id))):  # type: ignore[attr-defined]
            records.append({"type": name, **{key: _plain(value) for key, value in row.model_dump().items()}})
    for entry in session.exec(select(TimelineEntry).order_by(col(TimelineEntry.seq))):
        records.append({"type": "timeline_entry", **canonical_fields(entry), "hash": entry.hash})
    head = session.get(ChainHead, 1)
    records.append({"type": "chain_head", "seq": head.seq if head else 0, "hash": head.hash if head else GENESIS_HASH})
    previous = GENESIS_HASH
    for record in records:
        previous = _line_hash(previous, record)
        yield json.dumps({**record, "line_hash": previous}, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class ExportCheck:
    ok: bool
    lines: int
    entries: int
    head_hash: str | None = None
    bad_line: int | None = None
    problem: str | None = None
    records: tuple[str, ...] = ()  # records that differ from what the export's entries attest


def verify_export(lines: Iterable[str], held: Checkpoint | None = None) -> ExportCheck:
    """`_verify_export`, where a line built to break the reader (a list, a lone surrogate, a head without its
    fields) is refused as unreadable, never a crash."""
    read = _Counted(lines)
    try:
        return _verify_export(read, held)
    except (ValueError, KeyError, AttributeError, TypeError, UnicodeError, RecursionError):
        return ExportCheck(False, read.number, 0, None, read.number, "ligne illisible")


class _Counted:
    """The lines, counting those read."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines, self.number = lines, 0

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            self.number += 1
            yield line


def _verify_export(lines: Iterable[str], held: Checkpoint | None = None) -> ExportCheck:
    """Check an export offline: every line's chained hash, every timeline link, and the chain head, after which
    nothing may follow; with a checkpoint the auditor kept (`held`), also that the export's first entries are the
    ones it attests, so that an export re-hashed from end to end by someone who knows the algorithm is refused."""
    previous_line, previous_entry, expected_seq, count, number = GENESIS_HASH, GENESIS_HASH, 1, 0, 0
    head: dict[str, Any] | None = None
    tree = Frontier()
    records = _Records()
    for number, text in enumerate(lines, start=1):
        if head is not None:
            return ExportCheck(False, number, count, None, number, "ligne après la tête de chaîne (ajoutée après "
                                                                   "coup)")
        try:
            record = json.loads(text)
            claimed = record.pop("line_hash")
        except (ValueError, KeyError, AttributeError, TypeError, UnicodeError, RecursionError):
            return ExportCheck(False, number, count, None, number, "ligne illisible")
        if _line_hash(previous_line, record) != claimed:
            return ExportCheck(False, number, count, None, number, _what(record) + "contenu modifié")
        previous_line = claimed
        if record.get("type") == "timeline_entry":
            fields = {key: value for key, value in record.items() if key not in ("type", "hash")}
            if fields.get("seq") != expected_seq or fields.get("prev_hash") != previous_entry \
                    or digest(fields) != record.get("hash"):
                return ExportCheck(False, number, count, None, number, _what(record) + "chaîne rompue")
            previous_entry, expected_seq, count = record["hash"], expected_seq + 1, count + 1
            if held is not None and count <= held.size:
                tree.append(leaf_hash(canonical_json(fields).encode("utf-8")))
            records.attesting(fields)
        elif record.get("type") == "chain_head":
            head = record
        elif not records.add(record):
            return ExportCheck(False, number, count, None, number, _what(record) + "enregistrement donné deux fois "
                                                                                   "(une ligne forgée à côté de la "
                                                                                   "vraie)")
    if head is None:
        return ExportCheck(False, number, count, None, number, "tête de chaîne absente (export tronqué)")
    if (head["seq"], head["hash"]) != (count, previous_entry):
        return ExportCheck(False, number, count, None, number, "la tête de chaîne ne correspond pas aux entrées")
    if held is not None and count < held.size:
        return ExportCheck(False, number, count, None, number, f"l'export ne compte que {grouped(count)} entrées, le "
                                                               f"point de contrôle conservé en atteste "
                                                               f"{grouped(held.size)}")
    if held is not None and tree.root() != held.root:
        return ExportCheck(False, number, count, None, number, f"les {grouped(held.size)} premières entrées de "
                                                               "l'export ne sont pas celles qu'atteste le point de "
                                                               "contrôle conservé")
    differing = tuple(found.text() for found in compare(records.entries, records.stored))
    return ExportCheck(not differing, number, count, previous_entry, None,
                       "les enregistrements ne correspondent plus à la chronologie" if differing else None, differing)


class _Records:
    """The export's record lines, and its entries that attest records: what `compare` needs."""

    def __init__(self) -> None:
        self.refs: dict[Any, str] = {}  # incident id → reference
        self.stored: dict[str, Stored] = {}
        self.entries: list[tuple[int, str | None, Any]] = []

    def add(self, line: dict[str, Any]) -> bool:
        """False for a record given twice (by table and id): only one of them would be compared."""
        table = line.get("type")
        if not isinstance(table, str) or table not in AUDITED:
            return True
        if f"{table}:{line['id']}" in self.stored:
            return False
        if table == "incident":
            self.refs[line["id"]] = line["ref"]
        owner = line["id"] if table == "incident" else line.get("incident_id")
        self.stored[f"{table}:{line['id']}"] = Stored(
            self.refs.get(owner), exported_fingerprints(table, line),
            table != "outbox_message" or line.get("status") == "sent")  # only what left must be attested
        return True

    def attesting(self, entry: dict[str, Any]) -> None:
        """Every entry: those with no attestation still tell that their incident was recorded."""
        self.entries.append((entry["seq"], entry.get("incident_ref"), entry.get("payload")))


def _what(record: dict[str, Any]) -> str:
    if record.get("type") == "timeline_entry":
        return f"entrée n° {record.get('seq')} ({record.get('incident_ref')}) : "
    if record.get("type") == "incident":
        return f"incident {record.get('ref')} : "
    return f"{record.get('type')} : "
