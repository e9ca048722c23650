"""The monthly steering report (convention Art. 4): written under var/reports/ and mailed to the steering
contacts through the outbox. Run it again for the same month and nothing is mailed twice."""

import os
from typing import Any

import pendulum
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import steps
from models import door
from models.commands import MailSteeringReport
from models.db import session_scope
from reports.pdf import PdfUnavailable
from reports.render import render_steering, steering_pdf
from reports.steering import month_label, steering_data
from settings.env import var_dir
from settings.parties import load_parties


def previous_month(now: pendulum.DateTime) -> str:
    return now.in_timezone("Europe/Paris").start_of("month").subtract(days=1).format("YYYY-MM")


@task(name="write-steering-report", cache_policy=NO_CACHE)
def write_steering_report(month: str, at: str) -> dict[str, Any]:
    first = pendulum.from_format(month, "YYYY-MM", tz="Europe/Paris")
    start, end = first.date(), first.end_of("month").date()
    parties, now = load_parties(), steps.pass_instant(at)
    with session_scope() as session:
        data = steering_data(session, start, end, parties, now)
    folder = var_dir() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in ("html", "json", "md"):
        target = folder / f"steering-{month}.{fmt}"
        partial = target.with_suffix(f".{fmt}.part")
        partial.write_text(render_steering(data, fmt), encoding="utf-8")
        os.replace(partial, target)
        written.append(target.name)
    try:
        pdf = steering_pdf(data)
    except PdfUnavailable as error:  # the HTML is there; the PDF waits for the system libraries
        get_run_logger().warning(str(error))
    else:
        target = folder / f"steering-{month}.pdf"
        target.with_suffix(".pdf.part").write_bytes(pdf)
        os.replace(target.with_suffix(".pdf.part"), target)
        written.append(target.name)
    queued = door.run(MailSteeringReport(
        month=month, subject=f"Rapport au comité de pilotage de l'ENT — {month_label(month)}",
        text=render_steering(data, "md"), html=(folder / f"steering-{month}.html").read_text(encoding="utf-8")),
        door.ENGINE, now, parties)
    return {"month": month, "files": written, "mails": len(queued), "incidents": data["incidents"]}


@flow(name="steering-report")
async def steering_report(month: str | None = None, at: str | None = None) -> dict[str, Any]:
    """The month's report (default: the previous month as of `at`); no personal data in parameters or logs."""
    now = steps.resolve_instant(at)
    result = write_steering_report(month or previous_month(now), now.isoformat())
    report = await steps.deliver_due(now)
    return {**result, "delivered": len(report.delivered)}
