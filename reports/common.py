"""Shared building blocks of the reports: instants on display, obligations as an auditor reads them."""

import csv
import io
import json
from typing import Any

import pendulum
from sqlmodel import Session

from models.incident import Incident
from models.journal import obligations_of
from policy.clocks import CLOCK_RULES, ObligationKind, paris

STATUS_LABELS = {"open": "en cours", "met": "dans le délai", "late": "en retard", "overdue": "échéance dépassée",
                 "not_required": "non requise"}
PARTIES = {"academy": "académie", "municipality": "collectivité", "engine": "moteur"}


def iso(value: Any) -> str | None:
    """An instant as shown to users: ISO 8601 in Paris time."""
    return paris(pendulum.instance(value)).isoformat() if value is not None else None


def obligation_rows(session: Session, incident: Incident, now: pendulum.DateTime) -> list[dict[str, Any]]:
    """Every obligation with anchor, due, met and lateness, as the audit, the reports and the mails show them."""
    return [{
        "kind": o.kind,
        "label": CLOCK_RULES[ObligationKind(o.kind)].label,
        "article": CLOCK_RULES[ObligationKind(o.kind)].article,
        "owner": o.owner,
        "owner_label": PARTIES[o.owner],
        "anchor_at": iso(o.anchor_at),
        "due_at": iso(o.due_at),
        "met_at": iso(o.met_at),
        "status": o.status(now).value,
        "status_label": STATUS_LABELS[o.status(now).value],
        "late_by_seconds": o.lateness(now),
        "waived_reason": o.waived_reason,
    } for o in obligations_of(session, incident)]


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


# Spreadsheets in French settings read a comma as the decimal mark and guess the encoding: cells are separated by
# semicolons, and a byte-order mark says UTF-8 (accents open right in Excel as in LibreOffice).
CSV_DELIMITER = ";"
CSV_BOM = "\ufeff"


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    buffer.write(CSV_BOM)
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", delimiter=CSV_DELIMITER)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _inert(json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value)
                         for key, value in row.items()})
    return buffer.getvalue()


def _inert(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with =, +, -, @ or a tab gets a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
