"""The rows every output builds on: an incident's obligations and its timeline, as auditors, reports and mails
show them."""

from typing import Any

import pendulum
from sqlmodel import Session

from models.incident import Incident
from models.journal import obligations_of
from models.queries import readable_entries
from policy.clocks import CLOCK_RULES, OBLIGATION_STATUS_LABELS, ObligationKind
from policy.transitions import ENTRY_LABELS, EntryKind
from rendering.describe import describe
from rendering.formats import iso
from rendering.tables import spreadsheet_instant, to_csv

STATUS_LABELS = {status.value: label for status, label in OBLIGATION_STATUS_LABELS.items()}
PARTIES = {"academy": "académie", "municipality": "collectivité", "engine": "moteur"}
# What marks an entry on a timeline: a deadline actually missed, or a message that could not be delivered. A
# reminder or an escalation before the deadline, or steps a late pass skipped, are none of these.
FLAGGED_KINDS = {"obligation_overdue": "échéance dépassée", "message_failed": "échec de remise",
                 "message_refused": "refus définitif du relais"}
LATE_MET = "remplie en retard"


def entry_flag(kind: str, payload: dict[str, Any]) -> str | None:
    """Why an entry is marked on a timeline, in French, or None: only a missed deadline or a failure is."""
    if kind in FLAGGED_KINDS:
        return FLAGGED_KINDS[kind]
    return LATE_MET if kind == "obligation_met" and payload.get("late_by_seconds") else None


def entry_label(kind: str) -> str:
    return ENTRY_LABELS[EntryKind(kind)] if kind in set(EntryKind) else kind


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


def timeline_rows(session: Session, incident: Incident, commune: str | None) -> list[dict[str, Any]]:
    """The incident's entries, as rows, as the readers of `commune` may read them (models.queries.readable_entries)."""
    entries = readable_entries(session, incident, commune)
    return [{
        "seq": entry.seq,
        "ref": entry.incident_ref,
        "occurred_at": iso(entry.occurred_at),
        "recorded_at": iso(entry.recorded_at),
        "actor": entry.actor,
        "party": entry.party,
        "party_label": PARTIES.get(entry.party, entry.party),
        "kind": entry.kind,
        "kind_label": entry_label(entry.kind),
        "description": describe(entry.kind, entry.payload),
        "late": entry_flag(entry.kind, entry.payload) is not None,
        "flag": entry_flag(entry.kind, entry.payload),
        "payload": entry.payload,
        "hash": entry.hash,
    } for entry in entries]


# The timeline's columns in a spreadsheet: the auditors' export (reports/timeline.py) and the final report's
# attachment (notifications/) alike.
TIMELINE_COLUMNS = ["seq", "occurred_at", "recorded_at", "actor", "party", "kind", "description", "late", "hash"]


TIMELINE_CSV_HEADINGS = {"seq": "N°", "occurred_at": "Survenu le (heure de Paris)", "recorded_at": "Enregistré le",
                         "actor": "Acteur", "party": "Partie", "kind": "Événement", "description": "Description",
                         "late": "Signalement", "hash": "Empreinte (SHA-256)"}


def timeline_csv(rows: list[dict[str, Any]]) -> str:
    """The timeline for a spreadsheet, in words: Paris dates, French party, event and mark, French headings."""
    return to_csv([{**row, "occurred_at": spreadsheet_instant(row["occurred_at"]),
                    "recorded_at": spreadsheet_instant(row["recorded_at"]), "party": row["party_label"],
                    "kind": row["kind_label"], "late": row["flag"] or ""} for row in rows],
                  TIMELINE_COLUMNS, TIMELINE_CSV_HEADINGS)
