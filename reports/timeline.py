"""An incident's whole timeline for auditors: both instants, actor, party, kind, a French description, the chain
hash; deadlines drawn where they fell and late steps marked."""

from typing import Any

import pendulum
from sqlmodel import Session

from models.incident import Incident
from rendering.describe import PARTIES
from rendering.rows import obligation_rows, timeline_rows
from rendering.tables import to_csv, to_jsonl

COLUMNS = ["seq", "occurred_at", "recorded_at", "actor", "party", "kind", "description", "late", "hash"]


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
