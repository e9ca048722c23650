"""An incident's whole timeline for auditors: both instants, actor, party, kind, a French description, the chain
hash; deadlines drawn where they fell and late steps marked."""

from typing import Any

import pendulum
from sqlmodel import Session, col, select

from models.incident import Incident
from models.timeline import TimelineEntry
from reports.common import iso, obligation_rows, to_csv, to_jsonl
from reports.describe import PARTIES, describe

COLUMNS = ["seq", "occurred_at", "recorded_at", "actor", "party", "kind", "description", "late", "hash"]
LATE_KINDS = {"obligation_overdue", "message_failed", "steps_skipped", "deadline_escalation"}


def timeline_rows(session: Session, incident: Incident) -> list[dict[str, Any]]:
    entries = session.exec(select(TimelineEntry).where(TimelineEntry.incident_id == incident.id)
                           .order_by(col(TimelineEntry.seq))).all()
    return [{
        "seq": entry.seq,
        "ref": entry.incident_ref,
        "occurred_at": iso(entry.occurred_at),
        "recorded_at": iso(entry.recorded_at),
        "actor": entry.actor,
        "party": entry.party,
        "kind": entry.kind,
        "description": describe(entry.kind, entry.payload),
        "late": entry.kind in LATE_KINDS or bool(entry.payload.get("late_by_seconds")),
        "payload": entry.payload,
        "hash": entry.hash,
    } for entry in entries]


def timeline_page(session: Session, incident: Incident, now: pendulum.DateTime) -> dict[str, Any]:
    """The entries and the deadlines merged in time order, for the HTML page."""
    rows = timeline_rows(session, incident)
    items: list[dict[str, Any]] = [{"type": "entry", "at": row["occurred_at"], **row} for row in rows]
    for obligation in obligation_rows(session, incident, now):
        items.append({"type": "deadline", "at": obligation["due_at"], **obligation})
    items.sort(key=lambda item: (pendulum.parse(item["at"]), item["type"] == "entry"))
    return {"ref": incident.ref, "title": incident.title, "items": items, "parties": PARTIES,
            "generated_at": now, "entries": len(rows), "head": rows[-1]["hash"] if rows else None}


def render_rows(rows: list[dict[str, Any]], fmt: str) -> str:
    return to_jsonl(rows) if fmt == "jsonl" else to_csv(rows, COLUMNS)
