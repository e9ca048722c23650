"""What auditors read (and everyone for their own incidents): the timeline, the audit file, the breach register,
the steering report, the full export and the chain's state. Read only."""

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from models.gate import readable_commune
from models.queries import readable_incident, require_whole_store
from models.timeline import verify_chain
from portal.web import attachment_disposition, document, now, parties, read, render, signed_in
from rendering.environment import render_document
from rendering.rows import timeline_rows
from reports import register as breach_register
from reports.audit import audit_data
from reports.export import export_lines
from reports.pdf import PdfUnavailable
from reports.render import audit_pdf, render_steering, steering_pdf
from reports.steering import steering_data
from reports.timeline import render_rows, timeline_page

router = APIRouter(include_in_schema=False)


@router.get("/incidents/{ref}/chronologie")
def timeline(request: Request, ref: str, format: str = "html") -> Response:
    person = signed_in(request)
    if format == "csv":
        rows = read(lambda session: timeline_rows(session, readable_incident(session, ref, person),
                                                  readable_commune(person)))
        return document(render_rows(rows, "csv"), filename=f"{ref}-chronologie.csv", media_type="text/csv")
    page = read(lambda session: timeline_page(session, readable_incident(session, ref, person), now(),
                                              readable_commune(person)))
    return document(render_document("reports/timeline.html.j2", page))


@router.get("/incidents/{ref}/audit")
def audit_file(request: Request, ref: str, format: str = "html") -> Response:
    person = signed_in(request)
    data = read(lambda session: audit_data(session, readable_incident(session, ref, person), now(), reader=person))
    if format == "json":
        return document(json.dumps(data, ensure_ascii=False, indent=2), filename=f"{ref}-dossier-audit.json",
                        media_type="application/json")
    if format == "pdf":
        return _pdf(request, lambda: audit_pdf(data), f"{ref}-dossier-audit.pdf")
    return document(render_document("reports/audit.html.j2", data))


@router.get("/registre")
def register(request: Request, format: str = "html") -> Response:
    person = signed_in(request)
    rows = read(lambda session: breach_register.register_rows(session, person))
    if format == "csv":
        return document(breach_register.render(rows, "csv", parties().academy.name, now()),
                        filename="registre-violations.csv", media_type="text/csv")
    return render(request, "register.html.j2", {"rows": rows})


@router.get("/rapports")
def reports(request: Request) -> Response:
    person = signed_in(request)
    require_whole_store(person, "la page des rapports")
    today = now().in_timezone("Europe/Paris").date()
    return render(request, "reports.html.j2", {"start": today.replace(day=1).isoformat(), "end": today.isoformat(),
                                               "errors": {}})


@router.get("/rapports/pilotage")
def steering(request: Request, du: str = "", au: str = "", format: str = "html") -> Response:
    person = signed_in(request)
    require_whole_store(person, "le rapport au comité de pilotage")
    errors = {}
    first = last = None
    try:
        first = date.fromisoformat(du)
    except ValueError:
        errors["du"] = "date de début illisible (jj/mm/aaaa)"
    try:
        last = date.fromisoformat(au)
    except ValueError:
        errors["au"] = "date de fin illisible (jj/mm/aaaa)"
    if first and last and last < first:
        errors["au"] = "la date de fin précède la date de début"
    for name, day in (("du", first), ("au", last)):
        if day is not None and not date(2000, 1, 1) <= day <= date(2100, 12, 31):
            errors[name] = "date hors de la période couverte (2000 à 2100)"
    if first is not None and "du" not in errors and first > now().in_timezone("Europe/Paris").date():
        errors["du"] = "la période n'a pas encore commencé"
    if errors or first is None or last is None:
        return render(request, "reports.html.j2", {"start": du[:10], "end": au[:10], "errors": errors}, status=400)
    data = read(lambda session: steering_data(session, first, last, parties(), now()))
    if format == "md":
        return document(render_steering(data, "md"), filename=f"pilotage-{first}-{last}.md",
                        media_type="text/markdown")
    if format == "pdf":
        return _pdf(request, lambda: steering_pdf(data), f"pilotage-{first}-{last}.pdf")
    return document(render_steering(data, "html"))


@router.get("/export")
def export(request: Request) -> Response:
    person = signed_in(request)
    require_whole_store(person, "l'export complet du registre")
    text = read(lambda session: "".join(export_lines(session, now())))
    stamp = now().in_timezone("Europe/Paris").format("YYYYMMDD-HHmm")
    return document(text, filename=f"export-incidents-{stamp}.jsonl", media_type="application/x-ndjson")


@router.get("/chaine")
def chain(request: Request) -> Response:
    person = signed_in(request)
    require_whole_store(person, "l'état de la chaîne")
    report: Any = read(verify_chain)
    return render(request, "chain.html.j2", {"report": report})


def _pdf(request: Request, draw: Callable[[], bytes], filename: str) -> Response:
    """A report's PDF as a download; where WeasyPrint cannot run, a page that says what is missing."""
    try:
        pdf = draw()
    except PdfUnavailable as error:
        return render(request, "error.html.j2", {"title": "PDF indisponible", "message": str(error)}, status=503)
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": attachment_disposition(filename), "x-incidents-document": "1"})
