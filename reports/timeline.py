"""An incident's whole timeline for auditors: both instants, actor, party, kind, a French description, the chain
hash; deadlines drawn where they fell, and marked only what actually went wrong (a deadline missed, a failure)."""

from typing import Any

import pendulum
from sqlmodel import Session

from models.incident import Incident
from policy.clocks import paris
from rendering.formats import counted
from rendering.rows import obligation_rows, timeline_csv, timeline_rows
from rendering.tables import to_jsonl


def in_time_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries by the instant they happened; entries of the same instant in the chain's order."""
    return sorted(rows, key=lambda row: (pendulum.parse(row["occurred_at"]), row["seq"]))


def timeline_page(session: Session, incident: Incident, now: pendulum.DateTime, commune: str | None) -> dict[str, Any]:
    """The entries and the deadlines merged in time order, for the HTML page (`commune`: see timeline_rows)."""
    rows = timeline_rows(session, incident, commune)
    items: list[dict[str, Any]] = [{"type": "entry", "at": row["occurred_at"], **row} for row in in_time_order(rows)]
    for obligation in obligation_rows(session, incident, now):
        items.append({"type": "deadline", "at": obligation["due_at"], **obligation})
    items.sort(key=lambda item: (pendulum.parse(item["at"]), item["type"] == "entry"))
    return {"ref": incident.ref, "title": incident.title, "items": items,
            "generated_at": now, "entries": len(rows), "head": rows[-1]["hash"] if rows else None}


def _instant(value: str) -> str:
    """27/10/2026 10:00:05, Paris time: the order of a day as French readers write it, to the second."""
    return str(paris(pendulum.parse(value)).format("DD/MM/YYYY [à] HH:mm:ss"))  # type: ignore[arg-type]


def render_text(ref: str, rows: list[dict[str, Any]]) -> str:
    """The timeline for a terminal: in the order things happened, each entry with when it happened and when it was
    recorded (Paris time), who acted and for which party, what happened, and its place in the chain."""
    lines = [f"Chronologie de l'incident {ref} — {counted(len(rows), 'entrée')}, heures de Paris, dans l'ordre où les "
             f"faits se sont produits.", ""]
    for row in in_time_order(rows):
        flag = f" [{row['flag']}]" if row["flag"] else ""
        lines += [f"{_instant(row['occurred_at'])}  {row['kind_label']}{flag}",
                  f"    consigné le {_instant(row['recorded_at'])} · par {row['actor']} ({row['party_label']})",
                  f"    {row['description']}",
                  f"    entrée n° {row['seq']} · empreinte {row['hash'][:16]}…", ""]
    return "\n".join(lines)


def render_rows(rows: list[dict[str, Any]], fmt: str) -> str:
    return to_jsonl(rows) if fmt == "jsonl" else timeline_csv(rows)
