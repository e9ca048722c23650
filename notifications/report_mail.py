"""What a follow-up or a final report tells its readers beyond the report itself: the obligations as they stand once
this very mail is delivered, the final report's summary (key dates, obligations met or late), and the whole
timeline as a spreadsheet attached to it rather than pasted in its body."""

from datetime import datetime
from typing import Any

import pendulum
from sqlmodel import Session, col, select

from models.breach import CnilFiling, Decision, SubjectsNotice
from models.incident import Incident
from models.journal import obligations_of
from models.outbox import MailFile, OutboxMessage
from policy.clocks import ObligationKind, lateness_seconds
from rendering.rows import STATUS_LABELS, obligation_rows, timeline_csv, timeline_rows
from settings.parties import Parties

CSV = "text/csv"


def obligations_as_sent(session: Session, message: OutboxMessage, incident: Incident,
                        now: pendulum.DateTime) -> list[dict[str, Any]]:
    """The incident's obligations as the reader will find them: the one this message meets (the follow-up it is,
    or the follow-up a final report replaces) is met by its delivery, which comes just after this rendering, so it
    is shown as done by it, not as still running."""
    rows = obligation_rows(session, incident, now)
    for obligation, row in zip(obligations_of(session, incident), rows, strict=True):
        if message.fulfils and obligation.id == message.obligation_id and not obligation.settled:
            late = lateness_seconds(pendulum.instance(obligation.due_at), now)
            status = "late" if late else "met"
            row.update(status=status, late_by_seconds=late or None,
                       status_label=f"{STATUS_LABELS[status]} par le présent envoi")
    return rows


def _first(session: Session, model: Any, column: Any, incident: Incident) -> Any:
    return session.exec(select(model).where(model.incident_id == incident.id).order_by(col(column))).first()


def key_dates(session: Session, incident: Incident, closed_at: datetime) -> list[dict[str, Any]]:
    """The dates a reader of the final report looks for, in the order they came."""
    alert = next((o for o in obligations_of(session, incident) if o.kind == ObligationKind.CROSS_PARTY_ALERT), None)
    decision = session.exec(select(Decision).where(Decision.incident_id == incident.id)).first()
    filing = session.exec(select(CnilFiling).where(CnilFiling.incident_id == incident.id,
                                                   col(CnilFiling.complementary).is_(False))).first()
    informed = _first(session, SubjectsNotice, SubjectsNotice.informed_at, incident)
    dates = [
        ("Survenue de l'incident", incident.occurred_at),
        ("Prise de connaissance", incident.aware_at),
        ("Déclaration", incident.declared_at),
        ("Alerte remise à l'autre partie", alert.met_at if alert else None),
        ("Réception de l'alerte accusée", incident.acknowledged_at),
        ("Décision du DPD sur la notification", decision.decided_at if decision else None),
        (f"Notification à la CNIL (référence {filing.reference})" if filing else "", filing.filed_at if filing
         else None),
        ("Information des personnes concernées", informed.informed_at if informed else None),
        ("Clôture", closed_at),
    ]
    return [{"label": label, "at": at} for label, at in dates if at is not None]


def final_summary(session: Session, incident: Incident, closed_at: datetime,
                  obligations: list[dict[str, Any]]) -> dict[str, Any]:
    """Key dates and obligations met late, for the final report's summary."""
    return {"key_dates": key_dates(session, incident, closed_at),
            "late_obligations": [row for row in obligations if row["status"] in ("late", "overdue")],
            "timeline_file": timeline_filename(incident)}


def timeline_filename(incident: Incident) -> str:
    return f"chronologie-{incident.ref}.csv"


def timeline_files(session: Session, message: OutboxMessage, incident: Incident, _parties: Parties,
                   _now: pendulum.DateTime) -> tuple[MailFile, ...]:
    """The whole timeline, with its chain hashes, as a spreadsheet in French settings (rendering.tables)."""
    # Mailed to both parties: what the incident's commune may read.
    table = timeline_csv(timeline_rows(session, incident, incident.municipality_insee))
    return (MailFile(timeline_filename(incident), CSV, table.encode("utf-8")),)
