"""Incident pages: the dashboard, the declaration form, an incident's page and what each party does on it."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from models.attachments import Attachment, keep_staged, stage_file, stored_path
from models.commands import Acknowledge, Attach, Close, Declare, Dismiss, FollowUp, Triage
from models.door import require_role, run
from models.errors import FieldError, InvalidInput, Refused
from models.queries import likely_duplicates_of, readable_incident
from models.reports_input import parse_closure, parse_follow_up
from policy.duplicates import duplicate_warning
from policy.parties import Party
from policy.scope import CATEGORY_RULES, SCOPE_ARTICLES, SCOPE_LABELS, Scope
from policy.transitions import INCIDENT_STATE_LABELS, Command
from portal.delivery import hand_over_soon
from portal.forms import PostedForm, field_errors, parse_declaration_form, read_upload, text
from portal.views import Filters, dashboard_rows, incident_page
from portal.web import attachment_disposition, check_csrf, now, parties, read, render, signed_in
from settings.parties import Person

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    signed_in(request)
    return RedirectResponse("/incidents", status_code=303)


@router.get("/incidents")
def dashboard(request: Request, commune: str = "", scope: str = "", status: str = "live") -> Response:
    person = signed_in(request)
    filters = Filters(commune=commune[:5], scope=scope[:16], status=status[:16])
    rows = read(lambda session: dashboard_rows(session, person, filters, now(), parties()))
    communes = [(m.insee, m.name) for m in parties().municipalities
                if person.party is Party.ACADEMY or m.insee == person.insee]
    return render(request, "dashboard.html.j2", {
        "rows": rows, "filters": filters, "communes": communes,
        "scopes": [(scope.value, label) for scope, label in SCOPE_LABELS.items()],
        "statuses": [("live", "en cours (en file ou ouverts)"), ("all", "tous")]
        + [(state.value, label) for state, label in INCIDENT_STATE_LABELS.items()],
        "overdue": sum(1 for row in rows if row["overdue"])})


def _declare_context(person: Person, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    communes = [m for m in parties().municipalities if person.party is Party.ACADEMY or m.insee == person.insee]
    return {"communes": communes, "categories": CATEGORY_RULES, "scope_articles": SCOPE_ARTICLES,
            "values": values, "errors": errors, "error_count": len(errors)}


@router.get("/incidents/nouveau")
def declare_form(request: Request) -> Response:
    person = signed_in(request)
    require_role(Command.DECLARE, person)
    municipality = person.insee or ""
    return render(request, "declare.html.j2", _declare_context(person, {"municipality": municipality,
                                                                         "personal_data": "unknown"}, {}))


@router.post("/incidents/nouveau")
def declare(request: Request, form: PostedForm) -> Response:
    person = signed_in(request)
    check_csrf(request, form)
    values = {key: form.getlist(key) if key in ("categories", "schools") else text(form, key) for key in form}
    require_role(Command.DECLARE, person)
    try:
        declaration = parse_declaration_form(form, person.party.value, {"name": person.name, "email": person.email},
                                             parties(), now())
        incident = run(Declare(declaration), person, now())
    except InvalidInput as error:
        return render(request, "declare.html.j2", _declare_context(person, values, field_errors(error)), status=400)
    assert incident.id is not None
    hand_over_soon("intake", incident.id, incident.ref)
    return RedirectResponse(f"/incidents/{incident.ref}/enregistre", status_code=303)


@router.get("/incidents/{ref}/enregistre")
def declared(request: Request, ref: str) -> Response:
    person = signed_in(request)
    return render(request, "declared.html.j2", {"incident": read(lambda session: _page(session, ref, person))})


def _page(session: Session, ref: str, person: Person) -> dict[str, Any]:
    """An incident's page, with the warning when it likely repeats another the reader may see (RG-DUP-01)."""
    incident = readable_incident(session, ref, person)
    duplicates = likely_duplicates_of(session, incident, person)
    return {**incident_page(session, incident, now(), parties(), person),
            "duplicate_warning": duplicate_warning(duplicates) if duplicates else None, "duplicates": duplicates}


@router.get("/incidents/{ref}")
def incident(request: Request, ref: str) -> Response:
    return _incident_page(request, ref, done=request.query_params.get("fait", "")[:40])


def _incident_page(request: Request, ref: str, errors: dict[str, str] | None = None,
                   values: dict[str, Any] | None = None, refusal: str = "", done: str = "",
                   status: int = 200) -> Response:
    person = signed_in(request)
    page = read(lambda session: _page(session, ref, person))
    return render(request, "incident.html.j2", {
        "incident": page, "scopes": [(s.value, label, SCOPE_ARTICLES[s]) for s, label in SCOPE_LABELS.items()],
        "errors": errors or {}, "values": values or {}, "refusal": refusal, "done": done}, status=status)


def _act(request: Request, ref: str, form: FormData, command: Any, done: str, dispatch: bool = False,
         fields: dict[str, str] | None = None) -> Response:
    """Run one command through the door; back to the incident's page, with the refusal beside the form and what
    was typed kept. `fields` names the form's field for a field the command names otherwise."""
    person = signed_in(request)
    check_csrf(request, form)
    try:
        run(command() if callable(command) else command, person, now())
    except (InvalidInput, Refused) as error:
        errors = {(fields or {}).get(name, name): message for name, message in field_errors(error).items()} \
            if isinstance(error, InvalidInput) else {}
        typed = {key: text(form, key) for key in form if key not in ("csrf", "file")}
        return _incident_page(request, ref, errors, typed, "" if errors else str(error),
                              status=400 if isinstance(error, InvalidInput) else 403)
    if dispatch:
        incident_id = read(lambda session: readable_incident(session, ref, person).id)
        hand_over_soon("dispatch", incident_id, ref)
    return RedirectResponse(f"/incidents/{ref}?fait={done}", status_code=303)


@router.post("/incidents/{ref}/accuse-reception")
def acknowledge(request: Request, ref: str, form: PostedForm) -> Response:
    return _act(request, ref, form, Acknowledge(ref=ref), "accuse")


@router.post("/incidents/{ref}/portee")
def triage(request: Request, ref: str, form: PostedForm) -> Response:
    scope = text(form, "scope")

    def command() -> Triage:
        if scope not in {s.value for s in Scope}:
            raise InvalidInput([FieldError("scope", "choisissez une portée")])
        return Triage(ref=ref, scope=Scope(scope), reason=text(form, "reason") or None)
    return _act(request, ref, form, command, "portee")


@router.post("/incidents/{ref}/suivi")
def follow_up(request: Request, ref: str, form: PostedForm) -> Response:
    return _act(request, ref, form, lambda: FollowUp(ref=ref, content=parse_follow_up(
        {key: text(form, key) for key in ("done", "planned", "impact")})), "suivi", dispatch=True)


@router.post("/incidents/{ref}/cloture")
def close(request: Request, ref: str, form: PostedForm) -> Response:
    fields = {key: text(form, key) for key in ("summary", "measures", "root_cause", "residual_risk")}
    return _act(request, ref, form, lambda: Close(ref=ref, content=parse_closure(
        {key: value for key, value in fields.items() if value or key in ("summary", "measures")})), "clos",
        dispatch=True)


@router.post("/incidents/{ref}/classement")
def dismiss(request: Request, ref: str, form: PostedForm) -> Response:
    return _act(request, ref, form, lambda: Dismiss(ref=ref, reason=text(form, "dismiss_reason")), "classe",
                fields={"reason": "dismiss_reason"})


@router.post("/incidents/{ref}/pieces-jointes")
def attach(request: Request, ref: str, form: PostedForm) -> Response:
    person = signed_in(request)
    read(lambda session: readable_incident(session, ref, person))  # nothing stored for whom may not read it
    staged: list[tuple[str, Path]] = []

    def command() -> Attach:
        upload = read_upload(form)
        staged.append(stage_file(upload.content))
        return Attach(ref=ref, filename=upload.filename, content_type=upload.content_type,
                      size=len(upload.content), sha256=staged[0][0], note=text(form, "note") or None)
    answer: Response | None = None
    try:
        answer = _act(request, ref, form, command, "piece")
        return answer
    finally:
        for sha256, path in staged:  # kept once recorded, else removed: a refusal leaves nothing behind
            if answer is not None and answer.status_code == 303:
                keep_staged(path, sha256)
            else:
                path.unlink(missing_ok=True)


@router.get("/incidents/{ref}/pieces-jointes/{attachment_id}")
def download_attachment(request: Request, ref: str, attachment_id: int) -> Response:
    person = signed_in(request)
    attachment_id = attachment_id if 0 < attachment_id < 2**31 else 0  # the store's integers; beyond, none

    def find(session: Any) -> Attachment | None:
        incident = readable_incident(session, ref, person)
        found = session.get(Attachment, attachment_id)
        return found if found is not None and found.incident_id == incident.id else None

    attachment = read(find)
    path = stored_path(attachment.sha256) if attachment else None
    if attachment is None or path is None or not path.is_file():
        return render(request, "error.html.j2", {"title": "Pièce jointe introuvable",
                                                 "message": "Aucune pièce jointe de cet incident ne porte ce "
                                                            "numéro."}, status=404)
    return Response(path.read_bytes(), media_type="application/octet-stream", headers={
        "content-disposition": attachment_disposition(attachment.filename), "x-incidents-document": "1"})
